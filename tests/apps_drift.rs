//! Deploy, then status, is synced, always: random app settings (ports in
//! any order, env in any order, replicas, routes, StatefulSets with volumes)
//! are created, deployed and edited against the simulator, and after each
//! deploy `apps status` reports no change and `apps show` says synced.
//! Objects are compared as the API server stores them: its defaults
//! applied, lists keyed as strategic merge keys them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

mod common;
use common::{Lcg, Setup};

fn synced(s: &Setup, app: &str, when: &str) {
    let status: Vec<Value> = serde_json::from_str(&s.ok(&["apps", "status", app, "-o", "json"])).unwrap();
    for o in &status {
        if o["action"] != "unchanged" {
            let name = app.rsplit('/').next().unwrap();
            let live = s.kubectl(
                "prod-eu1",
                &[
                    "-n",
                    "shop-prod",
                    "get",
                    "deploy,sts",
                    name,
                    "-o",
                    "json",
                    "--ignore-not-found",
                ],
            );
            panic!("{when}: {app}: {o}\nlive: {}", String::from_utf8_lossy(&live.stdout));
        }
    }
    let shown: Value = serde_json::from_str(&s.ok(&["apps", "show", app, "-o", "json"])).unwrap();
    assert_eq!(shown["sync"], "synced", "{when}: {app}");
}

#[test]
fn deploy_then_status_is_synced_for_random_settings() {
    let s = Setup::new();
    s.ok(&["domains", "add", "prod-eu1", "apps.prod-eu1.example.com"]);
    let seed = std::env::var("KDECK_DRIFT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64);
    eprintln!("drift property seed {seed}");
    let mut rng = Lcg(seed);
    let ports = ["80", "443", "8080", "9090", "5432"];
    let names = ["A", "B", "C", "D", "E", "F", "LOG_LEVEL", "PORT"];
    for i in 0..10 {
        let app = format!("prod-eu1/shop-prod/p{i}");
        let mut args: Vec<String> = vec![
            "apps".into(),
            "create".into(),
            app.clone(),
            "--image".into(),
            "nginx:1.27".into(),
        ];
        args.push("--replicas".into());
        args.push((1 + rng.below(3)).to_string());
        let np = rng.below(4) as usize;
        for p in rng.pick(&ports, np) {
            args.extend(["--port".into(), p.to_string()]);
        }
        let n = rng.below(6) as usize;
        for e in rng.pick(&names, n) {
            args.extend(["--env".into(), format!("{e}=v{}", rng.below(100))]);
        }
        if np > 0 && rng.below(2) == 0 {
            args.extend(["--route".into(), "default".into()]);
        }
        if rng.below(3) == 0 {
            args.push("--stateful".into());
            args.extend(["--volume".into(), format!("data:{}Gi:/data", 1 + rng.below(5))]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        eprintln!("{refs:?}");
        s.ok(&refs);
        s.ok(&["apps", "deploy", &app]);
        synced(&s, &app, "after the first deploy");
        // An edit: some env set (new or changed), some removed, then deploy.
        let mut edit: Vec<String> = vec!["apps".into(), "edit".into(), app.clone()];
        let n = 1 + rng.below(4) as usize;
        for e in rng.pick(&names, n) {
            edit.extend(["--env".into(), format!("{e}=w{}", rng.below(100))]);
        }
        let n = rng.below(3) as usize;
        for e in rng.pick(&names, n) {
            edit.extend(["--unset-env".into(), e.to_string()]);
        }
        if rng.below(2) == 0 {
            edit.extend(["--image".into(), format!("nginx:1.{}", 20 + rng.below(8))]);
        }
        let refs: Vec<&str> = edit.iter().map(String::as_str).collect();
        eprintln!("{refs:?}");
        let out = s.kdeck(&refs);
        if out.status.success() {
            s.ok(&["apps", "deploy", &app]);
            synced(&s, &app, "after an edit and a deploy");
        }
    }
}

/// Adopting an app kdeck did not create changes nothing: synced at once, and
/// a deploy rolls no pod.
#[test]
fn an_adopted_app_is_synced_at_once() {
    let s = Setup::new();
    let app = "prod-eu1/shop-prod/web";
    s.ok(&["apps", "adopt", app]);
    synced(&s, app, "after adopt");
    let before = s.jsonpath("prod-eu1", "shop-prod", "deployment/web", "{.metadata.generation}");
    s.ok(&["apps", "deploy", app]);
    let after = s.jsonpath("prod-eu1", "shop-prod", "deployment/web", "{.metadata.generation}");
    assert_eq!(before, after, "the deploy changed the workload");
    synced(&s, app, "after adopt and deploy");
}
