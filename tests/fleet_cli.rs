//! `kdeck apps list` and `kdeck spaces list` against simulated clusters:
//! one concurrent pass, partial answers when a cluster is down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use kdeck::sim::{FleetSize, SimHandle, SimOptions};

struct Setup {
    _rt: tokio::runtime::Runtime,
    handles: Vec<SimHandle>,
    dir: tempfile::TempDir,
}

fn setup(clusters: usize) -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handles = rt
        .block_on(kdeck::sim::start(SimOptions {
            clusters,
            fleet: FleetSize::Small,
            ..Default::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, kdeck::sim::kubeconfig(&handles, "admin")).unwrap();
    let s = Setup { _rt: rt, handles, dir };
    let out = s.kdeck(&["clusters", "import", kc.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    s
}

impl Setup {
    fn kdeck(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_kdeck"))
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(args)
            .output()
            .unwrap()
    }
}

#[test]
fn apps_list_all_matches_every_cluster() {
    let s = setup(3);
    let out = s.kdeck(&["apps", "list", "--all", "-o", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let expected: usize = s
        .handles
        .iter()
        .map(|h| h.truth("Deployment").len() + h.truth("StatefulSet").len())
        .sum();
    assert_eq!(rows.len(), expected);
    let web = rows
        .iter()
        .find(|r| r["space"] == "prod-eu1/shop-prod" && r["name"] == "web")
        .unwrap();
    assert_eq!(web["kind"], "Deployment");
    assert_eq!(web["routes"][0], "web-shop-prod.apps.prod-eu1.example.com");
    assert_eq!(web["ready"], web["desired"]);
    assert!(web["image"].as_str().unwrap().starts_with("ghcr.io/acme/web:"));
    let pg = rows
        .iter()
        .find(|r| r["space"] == "prod-eu1/shop-prod" && r["name"] == "postgres")
        .unwrap();
    assert_eq!(pg["kind"], "StatefulSet");
    // One space, as a table.
    let out = s.kdeck(&["apps", "list", "--space", "stage-eu1/payments-prod"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("NAME "), "{text}");
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(
        text.lines().skip(1).all(|l| l.contains("stage-eu1/payments-prod")),
        "{text}"
    );
    // Bad spaces are usage errors that say what to do.
    let out = s.kdeck(&["apps", "list", "--space", "nowhere/shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cluster named \"nowhere\""));
    let out = s.kdeck(&["apps", "list", "--space", "shop"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_dead_cluster_makes_a_partial_answer_not_a_slow_one() {
    let s = setup(3);
    s.handles[1].set_up(false);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let started = std::time::Instant::now();
    let out = s.kdeck(&["apps", "list", "-o", "json"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(3), "exit 3 means partial");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cluster stage-eu1: nothing answers at https://127.0.0.1:") && err.contains("connection refused"),
        "{err}"
    );
    assert!(err.contains("the answer is partial"), "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| !r["space"].as_str().unwrap().starts_with("stage-eu1/"))
    );
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    let out = s.kdeck(&["spaces", "list"]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("prod-eu1/shop-prod") && !text.contains("stage-eu1/shop-prod"),
        "{text}"
    );
    s.handles[1].set_up(true);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = s.kdeck(&["spaces", "list", "-o", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        rows.iter()
            .any(|r| r["space"] == "stage-eu1/shop-prod" && r["status"] == "Active")
    );
}
