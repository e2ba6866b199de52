//! Bulk copy and export against simulated clusters, checked with the real
//! `kubectl` and the simulators' own truth: 50 apps from one cluster to
//! spaces on two others, compared object by object; a rerun that changes
//! nothing; an outage of one target mid-copy that a rerun finishes; each
//! conflict policy; exported YAML applied by kubectl elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kdeck_sim::{FleetSize, SimOptions, faults::Faults};
use serde_json::Value;

mod common;
use common::Setup;

fn fleet() -> (Setup, String) {
    let s = Setup::with(SimOptions {
        clusters: 3,
        // 49 Deployments and a postgres StatefulSet in one space per cluster.
        fleet: FleetSize::Custom { spaces: 1, apps: 49 },
        ..Default::default()
    });
    let ns = kdeck_sim::fleet::space_names(1)[0].clone();
    s.ok(&[
        "domains",
        "add",
        "stage-eu1",
        "apps.stage-eu1.example.com",
        "--tls-secret",
        "stage-tls",
    ]);
    s.ok(&["domains", "add", "dev-eu1", "apps.dev-eu1.example.com"]);
    (s, ns)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn objects(s: &Setup, cluster: usize, kind: &str, ns: &str) -> Vec<Value> {
    s.handles[cluster]
        .truth(kind)
        .into_iter()
        .filter(|o| o["metadata"]["namespace"] == ns)
        .collect()
}

fn find<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|o| o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn messages(entry: &Value) -> Vec<String> {
    entry["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{} {}", i["item"].as_str().unwrap(), i["message"].as_str().unwrap()))
        .collect()
}

#[test]
fn fifty_apps_to_two_clusters_then_a_rerun_changes_nothing() {
    let (s, ns) = fleet();
    let from = format!("prod-eu1/{ns}");
    let to = ["--to", "stage-eu1/team-copy", "--to", "dev-eu1/team-copy"];
    // The plan first: nothing changes.
    let mut args = vec!["copy", "--from", &from];
    args.extend(to);
    let plan = json(&s.ok(&[&args[..], &["--dry-run", "-o", "json"]].concat()));
    assert_eq!(plan["items"].as_array().unwrap().len(), 100, "50 apps × 2 targets");
    assert!(
        plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["action"] == "create")
    );
    assert_eq!(
        plan["new_spaces"],
        serde_json::json!(["stage-eu1/team-copy", "dev-eu1/team-copy"])
    );
    assert!(
        objects(&s, 1, "Deployment", "team-copy").is_empty(),
        "a dry run changes nothing"
    );

    let entry = json(&s.ok(&[&args[..], &["-o", "json"]].concat()));
    assert_eq!(entry["status"], "applied", "{entry}");
    assert_eq!(entry["items"].as_array().unwrap().len(), 100);

    // Object by object: the same, but for namespace, hosts, TLS and server fields.
    for (i, domain, tls) in [
        (1, "apps.stage-eu1.example.com", Some("stage-tls")),
        (2, "apps.dev-eu1.example.com", Some("wildcard-tls")),
    ] {
        let src_d = objects(&s, 0, "Deployment", &ns);
        let dst_d = objects(&s, i, "Deployment", "team-copy");
        assert_eq!(src_d.len(), 49);
        assert_eq!(dst_d.len(), 49);
        for d in &src_d {
            let name = d["metadata"]["name"].as_str().unwrap();
            let c = find(&dst_d, name);
            assert_eq!(c["spec"]["template"], d["spec"]["template"], "{name}");
            assert_eq!(c["spec"]["replicas"], d["spec"]["replicas"]);
            assert_eq!(c["spec"]["selector"], d["spec"]["selector"]);
            assert_eq!(c["metadata"]["labels"], d["metadata"]["labels"]);
            assert_eq!(
                c["metadata"]["annotations"]["kdeck.dev/copied-from"],
                format!("prod-eu1/{ns}/{name}").as_str()
            );
            let svc = find(&objects(&s, i, "Service", "team-copy"), name).clone();
            let src_svc = find(&objects(&s, 0, "Service", &ns), name).clone();
            assert_eq!(svc["spec"]["selector"], src_svc["spec"]["selector"]);
            assert_eq!(svc["spec"]["ports"][0]["port"], src_svc["spec"]["ports"][0]["port"]);
            let ing = find(&objects(&s, i, "Ingress", "team-copy"), name).clone();
            let host = format!("{name}-team-copy.{domain}");
            assert_eq!(ing["spec"]["rules"][0]["host"], host.as_str());
            assert_eq!(ing["spec"]["tls"][0]["hosts"][0], host.as_str());
            if let Some(t) = tls {
                assert_eq!(
                    ing["spec"]["tls"][0]["secretName"], t,
                    "the target domain's TLS, or the source's kept"
                );
            }
            assert_eq!(
                ing["spec"]["rules"][0]["http"]["paths"][0]["backend"],
                find(&objects(&s, 0, "Ingress", &ns), name)["spec"]["rules"][0]["http"]["paths"][0]["backend"]
            );
        }
        let sts = find(&objects(&s, i, "StatefulSet", "team-copy"), "postgres").clone();
        assert_eq!(
            sts["spec"]["volumeClaimTemplates"],
            find(&objects(&s, 0, "StatefulSet", &ns), "postgres")["spec"]["volumeClaimTemplates"]
        );
    }
    // The copies run: kubectl sees them ready.
    s.until("the copies ready", Duration::from_secs(30), || {
        let out = s.kubectl("dev-eu1", &["-n", "team-copy", "get", "deploy", "-o", "json"]);
        let l = json(&String::from_utf8_lossy(&out.stdout));
        l["items"]
            .as_array()
            .is_some_and(|v| v.len() == 49 && v.iter().all(|d| d["status"]["readyReplicas"] == d["spec"]["replicas"]))
    });

    // Again: nothing new, nothing written.
    let before = s.handles[1]
        .cluster
        .stats
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    let again = json(&s.ok(&[&args[..], &["-o", "json"]].concat()));
    assert_eq!(again["status"], "applied");
    let msgs = messages(&again);
    assert!(msgs.iter().all(|m| m.contains(" unchanged")), "{msgs:?}");
    let after = s.handles[1]
        .cluster
        .stats
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        after - before <= 8,
        "a rerun reads the target once: {} requests",
        after - before
    );
}

#[test]
fn an_outage_of_one_target_mid_copy_fails_its_items_and_a_rerun_finishes() {
    let (s, ns) = fleet();
    let from = format!("prod-eu1/{ns}");
    let args = [
        "copy",
        "--from",
        &from,
        "--to",
        "stage-eu1/team-b",
        "--to",
        "dev-eu1/team-b",
        "-o",
        "json",
    ];
    // dev-eu1 answers slowly, then goes away while the copy runs.
    s.handles[2].set_faults(Faults {
        latency_ms: 60,
        ..Default::default()
    });
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .arg("--data-dir")
        .arg(s.dir.path().join("data"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    s.until("a few copies on dev-eu1", Duration::from_secs(30), || {
        objects(&s, 2, "Deployment", "team-b").len() >= 3
    });
    s.handles[2].set_up(false);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("copy: ") && stderr.contains("failed"),
        "progress on stderr: {stderr}"
    );
    let entry = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(entry["status"], "partially_applied", "{entry}");
    let items = entry["items"].as_array().unwrap();
    let stage_ok = items
        .iter()
        .filter(|i| i["item"].as_str().unwrap().contains("→ stage-eu1/") && i["ok"] == true)
        .count();
    assert_eq!(stage_ok, 50, "the other target completes");
    let dev_failed: Vec<&Value> = items
        .iter()
        .filter(|i| i["item"].as_str().unwrap().contains("→ dev-eu1/") && i["ok"] == false)
        .collect();
    assert!(!dev_failed.is_empty());
    assert!(
        dev_failed
            .iter()
            .all(|i| i["message"].as_str().unwrap().contains("dev-eu1")),
        "each failure says why: {dev_failed:?}"
    );
    let failed_history = s.ok(&["history", "--failed", "-o", "json"]);
    assert!(
        json(&failed_history)
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == entry["id"])
    );

    // Back up: the same command finishes the job and redoes nothing.
    s.handles[2].set_faults(Faults::default());
    s.handles[2].set_up(true);
    let done_before = 50 - dev_failed.len();
    let again = json(&s.ok(&args));
    assert_eq!(again["status"], "applied", "{again}");
    let msgs = messages(&again);
    let unchanged = msgs.iter().filter(|m| m.contains(" unchanged")).count();
    assert!(
        unchanged >= 50 + done_before - 8,
        "stage and what dev-eu1 got before: {msgs:?}"
    );
    assert_eq!(objects(&s, 2, "Deployment", "team-b").len(), 49);
}

#[test]
fn conflicts_skip_overwrite_or_rename() {
    let (s, ns) = fleet();
    // The same space name on stage-eu1 has apps of the same names, not copies.
    let src = objects(&s, 0, "Deployment", &ns);
    let names: Vec<String> = src
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap().to_string())
        .take(2)
        .collect();
    let (a, b) = (&names[0], &names[1]);
    let image = |cluster: usize, name: &str| {
        find(&objects(&s, cluster, "Deployment", &ns), name)["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(image(0, a), image(1, a), "the two clusters run different versions");
    let from = format!("prod-eu1/{ns}");
    let to = format!("stage-eu1/{ns}");
    let copy = |app: &str, policy: &str| {
        json(&s.ok(&[
            "copy",
            "--from",
            &from,
            "--app",
            app,
            "--to",
            &to,
            "--on-conflict",
            policy,
            "-o",
            "json",
        ]))
    };
    let skip = copy(a, "skip");
    assert!(messages(&skip)[0].contains("skipped:") && messages(&skip)[0].contains("is not a copy"));
    assert_ne!(image(0, a), image(1, a), "skip leaves it");
    let over = copy(a, "overwrite");
    assert!(messages(&over)[0].contains("updated"), "{over}");
    assert_eq!(image(0, a), image(1, a));
    let renamed = copy(b, "rename");
    assert!(
        messages(&renamed)[0].contains(&format!("/{b}-copy created")),
        "{renamed}"
    );
    let c = find(&objects(&s, 1, "Deployment", &ns), &format!("{b}-copy")).clone();
    assert_eq!(
        c["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        format!("{b}-copy").as_str()
    );
    assert_ne!(image(1, b), image(0, b), "the original stays");
    let svc = find(&objects(&s, 1, "Service", &ns), &format!("{b}-copy")).clone();
    assert_eq!(
        svc["spec"]["selector"]["app.kubernetes.io/name"],
        format!("{b}-copy").as_str()
    );
    // Renaming again is the same copy, not a third app.
    let again = copy(b, "rename");
    assert!(messages(&again)[0].contains(&format!("/{b}-copy unchanged")), "{again}");
    assert!(
        objects(&s, 1, "Deployment", &ns)
            .iter()
            .all(|d| d["metadata"]["name"] != format!("{b}-copy-2").as_str())
    );
    // prod-eu1 has no domain: a copy beside the source would serve its hosts twice.
    let beside = format!("prod-eu1/{ns}-2");
    s.fails(
        &["copy", "--from", &from, "--app", a, "--to", &beside],
        1,
        "cluster prod-eu1 has no domain, so the copy would serve",
    );
    assert!(objects(&s, 0, "Ingress", &format!("{ns}-2")).is_empty());
    // Bad input is said.
    s.fails(
        &["copy", "--from", &from, "--app", "ghost", "--to", &to],
        1,
        "no Deployment or StatefulSet ghost",
    );
    s.fails(
        &["copy", "--app", a, "--to", &to],
        1,
        "--app and --selector need --from SPACE",
    );
    s.fails(
        &["copy", "--from", &from, "--to", "nowhere"],
        1,
        "must be CLUSTER/NAMESPACE",
    );
}

#[test]
fn exported_yaml_is_applied_by_kubectl_on_another_cluster_and_runs() {
    let (s, ns) = fleet();
    let yaml = s.ok(&["export", &format!("prod-eu1/{ns}"), "--namespace", "imported"]);
    assert!(
        yaml.starts_with("---\napiVersion: v1\nkind: Namespace"),
        "{}",
        &yaml[..200.min(yaml.len())]
    );
    for field in [
        "resourceVersion",
        "uid:",
        "creationTimestamp",
        "managedFields",
        "status:",
        "clusterIP:",
    ] {
        assert!(!yaml.contains(field), "{field} left in the export");
    }
    assert!(!yaml.contains("kind: Secret"), "no Secrets without --with-secrets");
    let file = s.dir.path().join("export.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let out = s.kubectl("dev-eu1", &["apply", "-f", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "kubectl apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.until("the imported apps ready", Duration::from_secs(30), || {
        let out = s.kubectl("dev-eu1", &["-n", "imported", "get", "deploy", "-o", "json"]);
        let l = json(&String::from_utf8_lossy(&out.stdout));
        l["items"]
            .as_array()
            .is_some_and(|v| v.len() == 49 && v.iter().all(|d| d["status"]["readyReplicas"] == d["spec"]["replicas"]))
    });
    // One app, and a kdeck app saved as a solution and created again elsewhere.
    let one = s.ok(&["export", &format!("prod-eu1/{ns}/postgres")]);
    assert!(one.contains("kind: StatefulSet") && one.contains("kind: Service") && !one.contains("kind: Namespace"));
    let app = format!("prod-eu1/{ns}/postgres");
    s.fails(&["export", &app, "--solution"], 1, "is not managed by kdeck");
    s.ok(&["apps", "adopt", &app]);
    let sol = s.dir.path().join("postgres.yaml");
    std::fs::write(&sol, s.ok(&["export", &app, "--solution"])).unwrap();
    s.ok(&["apps", "create", "stage-eu1/team-x/db", "--from", sol.to_str().unwrap()]);
    let shown = json(&s.ok(&["apps", "show", "stage-eu1/team-x/db", "-o", "json"]));
    assert_eq!(shown["settings"]["image"], "postgres:16");
    assert_eq!(shown["settings"]["kind"], "StatefulSet");
    s.fails(
        &[
            "apps",
            "create",
            "stage-eu1/team-x/db2",
            "--from",
            file.to_str().unwrap(),
        ],
        2,
        "not a saved app",
    );
}

#[test]
fn a_managed_app_is_copied_as_settings_with_its_binding_resolved_in_the_target() {
    let (s, ns) = fleet();
    let env = |s: &Setup, ctx: &str, space: &str, var: &str| {
        s.jsonpath(
            ctx,
            space,
            "deployment/webx",
            &format!("{{.spec.template.spec.containers[0].env[?(@.name==\"{var}\")].value}}"),
        )
    };
    // A database on stage-eu1 with a route, and an app on prod-eu1 bound to it.
    let pg = format!("stage-eu1/{ns}/pg");
    s.ok(&[
        "apps",
        "create",
        &pg,
        "--image",
        "postgres:16",
        "--port",
        "5432",
        "--route",
        "default",
        "--connector",
        "postgres:user=app,password=secret:postgres-credentials/password",
    ]);
    s.ok(&["apps", "deploy", &pg]);
    let web = format!("prod-eu1/{ns}/webx");
    s.ok(&["apps", "create", &web, "--image", "nginx:1.27", "--port", "80"]);
    s.ok(&["bind", &web, "--to", &format!("{pg}:postgres")]);
    s.ok(&["apps", "deploy", &web]);

    // To a new space on dev-eu1: no pg there, so the binding keeps the one on stage-eu1.
    let plan = json(&s.ok(&["copy", &web, "--to", "dev-eu1/shop2", "--dry-run", "-o", "json"]));
    let notes = plan["items"][0]["notes"].to_string();
    assert!(notes.contains(&format!("kept pointing at {pg}")), "{notes}");
    s.ok(&["copy", &web, "--to", "dev-eu1/shop2"]);
    assert_eq!(
        env(&s, "dev-eu1", "shop2", "PG_HOST"),
        format!("pg-{ns}.apps.stage-eu1.example.com")
    );
    let shown = json(&s.ok(&["apps", "show", "dev-eu1/shop2/webx", "-o", "json"]));
    assert_eq!(shown["sync"], "synced", "the copy is managed: {shown}");

    // Where the target space has its own pg offering the connector, the copy binds to it.
    s.ok(&[
        "apps",
        "create",
        &format!("dev-eu1/{ns}/pg"),
        "--image",
        "postgres:16",
        "--port",
        "5432",
        "--connector",
        "postgres:user=local",
    ]);
    s.ok(&["copy", &web, "--to", &format!("dev-eu1/{ns}")]);
    assert_eq!(env(&s, "dev-eu1", &ns, "PG_HOST"), format!("pg.{ns}.svc.cluster.local"));
    assert_eq!(env(&s, "dev-eu1", &ns, "PG_USER"), "local");
    let bindings = s.ok(&["apps", "show", &format!("dev-eu1/{ns}/webx"), "-o", "json"]);
    assert!(bindings.contains("webx"), "{bindings}");
}

/// A copy of managed apps killed after its cluster writes and before its
/// store writes (the store is written once, at the end) leaves the copies in
/// the cluster and not in the store. Run again, every item is "unchanged",
/// and the store must end as a clean run leaves it: each copy stored,
/// managed and synced.
#[test]
fn a_rerun_after_a_killed_copy_stores_the_copies_the_cluster_has_already() {
    let (s, ns) = fleet();
    let apps: Vec<String> = (0..3).map(|i| format!("prod-eu1/{ns}/m{i}")).collect();
    for a in &apps {
        s.ok(&["apps", "create", a, "--image", "nginx:1.27", "--port", "80"]);
        s.ok(&["apps", "deploy", a]);
    }
    let mut args = vec!["copy"];
    args.extend(apps.iter().map(String::as_str));
    args.extend(["--to", "dev-eu1/shop3"]);
    s.ok(&args);
    let show = |name: &str| json(&s.ok(&["apps", "show", &format!("dev-eu1/shop3/{name}"), "-o", "json"]));
    let clean: Vec<Value> = (0..3).map(|i| show(&format!("m{i}"))).collect();
    assert!(clean.iter().all(|v| v["sync"] == "synced"), "{clean:?}");

    // What a kill before the final store write leaves: the cluster has the
    // copies, the store does not.
    {
        let store = kdeck_store::Store::open(&s.dir.path().join("data")).unwrap();
        let mut b = kdeck_store::Batch::new();
        for i in 0..3 {
            let key = format!("dev-eu1/shop3/m{i}");
            b.delete::<kdeck_model::App>(&key);
            b.delete::<kdeck_command::apps::AppState>(&key);
        }
        for r in store.list_prefix::<kdeck_model::Route>("dev-eu1/shop3/").unwrap() {
            b.delete::<kdeck_model::Route>(&kdeck_store::Entity::key(&r));
        }
        store.write(b).unwrap();
    }
    s.fails(&["apps", "show", "dev-eu1/shop3/m0"], 1, "");

    let rerun = json(&s.ok(&[&args[..], &["-o", "json"]].concat()));
    assert!(messages(&rerun).iter().all(|m| m.contains("unchanged")), "{rerun}");
    let again: Vec<Value> = (0..3).map(|i| show(&format!("m{i}"))).collect();
    let strip = |v: &Value| {
        let mut v = v.clone();
        v["state"]["deployed_at"] = Value::Null;
        v
    };
    for (a, b) in clean.iter().zip(&again) {
        assert_eq!(strip(a), strip(b), "the rerun stores what the clean run stored");
    }
}
