//! `kdeck apps list` and `kdeck spaces list` against simulated clusters:
//! one concurrent pass, partial answers when a cluster is down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use kdeck_sim::{FleetSize, SimHandle, SimOptions};

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
        .block_on(kdeck_sim::start(SimOptions {
            clusters,
            fleet: FleetSize::Small,
            ..Default::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, kdeck_sim::kubeconfig(&handles, "admin")).unwrap();
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

#[test]
fn spaces_create_attach_detach_delete_go_through_the_journal() {
    let s = setup(2);
    let ok = |args: &[&str]| {
        let out = s.kdeck(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(ok(&["spaces", "create", "prod-eu1/team-new"]).contains("namespace created, labelled managed-by kdeck"));
    let ns = s.handles[0].truth("Namespace");
    let made = ns.iter().find(|n| n["metadata"]["name"] == "team-new").unwrap();
    assert_eq!(made["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kdeck");
    // Creating what exists says how to adopt it instead.
    let out = s.kdeck(&["spaces", "create", "prod-eu1/shop-prod"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already exists on cluster prod-eu1")
            && err.contains("spaces attach prod-eu1/shop-prod")
            && err.contains("HTTP 409"),
        "{err}"
    );
    assert!(ok(&["spaces", "attach", "prod-eu1/shop-prod"]).contains("attached as it is"));
    let out = s.kdeck(&["spaces", "attach", "prod-eu1/nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("spaces create prod-eu1/nope"));
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&s.kdeck(&["spaces", "list", "-o", "json"]).stdout).unwrap();
    let kdeck_of = |space: &str| {
        rows.iter()
            .find(|r| r["space"] == space)
            .and_then(|r| r["kdeck"].as_str())
            .map(str::to_string)
    };
    assert_eq!(kdeck_of("prod-eu1/team-new").as_deref(), Some("created"));
    assert_eq!(kdeck_of("prod-eu1/shop-prod").as_deref(), Some("attached"));
    assert_eq!(kdeck_of("prod-eu1/payments-prod"), None);
    // Detach forgets; the namespace stays.
    ok(&["spaces", "detach", "prod-eu1/shop-prod"]);
    assert!(
        s.handles[0]
            .truth("Namespace")
            .iter()
            .any(|n| n["metadata"]["name"] == "shop-prod")
    );
    let out = s.kdeck(&["spaces", "detach", "prod-eu1/shop-prod"]);
    assert_eq!(out.status.code(), Some(2));
    // Delete needs --yes, and then removes the namespace with its contents.
    let out = s.kdeck(&["spaces", "delete", "prod-eu1/team-new"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --yes"));
    ok(&["spaces", "delete", "prod-eu1/team-new", "--yes"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !s.handles[0]
            .truth("Namespace")
            .iter()
            .any(|n| n["metadata"]["name"] == "team-new")
    );
    let hist: Vec<serde_json::Value> = serde_json::from_slice(&s.kdeck(&["history", "-o", "json"]).stdout).unwrap();
    let verbs: Vec<(String, String)> = hist
        .iter()
        .map(|e| {
            (
                e["command"]["type"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        verbs,
        [
            ("import_clusters", "applied"),
            ("create_space", "applied"),
            ("create_space", "failed"),
            ("attach_space", "applied"),
            ("attach_space", "failed"),
            ("detach_space", "applied"),
            ("detach_space", "failed"),
            ("delete_space", "applied"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(hist[2]["code"], 409);
}

#[test]
fn a_user_who_may_not_list_namespaces_still_works_in_attached_spaces() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut config = kdeck_sim::SimConfig::default();
    config.users.push(kdeck_sim::User {
        name: "restricted".into(),
        token: "kdeck-sim-restricted".into(),
        role: kdeck_sim::Role::Edit,
        namespaces: Some(vec!["shop-prod".into()]),
    });
    let handles = rt
        .block_on(kdeck_sim::start(SimOptions {
            clusters: 1,
            fleet: FleetSize::Small,
            config,
            ..Default::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, kdeck_sim::kubeconfig(&handles, "restricted")).unwrap();
    let s = Setup { _rt: rt, handles, dir };
    assert!(s.kdeck(&["clusters", "import", kc.to_str().unwrap()]).status.success());
    let out = s.kdeck(&["spaces", "attach", "prod-eu1/shop-prod"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Listing across namespaces is forbidden: the attached space answers anyway.
    let out = s.kdeck(&["apps", "list", "--all", "-o", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().all(|r| r["space"] == "prod-eu1/shop-prod"));
    let out = s.kdeck(&["spaces", "list"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "listing namespaces is forbidden: the answer is partial"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("forbidden to list namespaces")
            && err.contains("User \"restricted\" cannot list resource \"namespaces\""),
        "{err}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("prod-eu1/shop-prod") && text.contains("attached"),
        "{text}"
    );
}

/// Every cluster refuses the token: no answer at all is exit 1, not the 3
/// of a partial answer; one good cluster beside them is partial again.
#[test]
fn when_every_cluster_refuses_the_token_the_exit_is_1() {
    let s = setup(2);
    let kc = s.dir.path().join("kubeconfig");
    let bad = std::fs::read_to_string(&kc).unwrap();
    let token = bad
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_string();
    let bad_kc = s.dir.path().join("bad-token.yaml");
    std::fs::write(&bad_kc, bad.replace(&token, "not-a-valid-token")).unwrap();
    let data = s.dir.path().join("bad-data");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kdeck"))
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["clusters", "import", bad_kc.to_str().unwrap()]).status.success());
    for args in [&["apps", "list"][..], &["spaces", "list"][..]] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("no cluster answered"), "{err}");
    }
    // One of them with the good token: a partial answer.
    let good = s.dir.path().join("one-good.yaml");
    std::fs::write(&good, &bad).unwrap();
    assert!(
        run(&[
            "clusters",
            "import",
            good.to_str().unwrap(),
            "--context",
            "prod-eu1",
            "--update"
        ])
        .status
        .success()
    );
    let out = run(&["apps", "list"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `| head -1` closes the pipe: kdeck ends quietly with 0, however much it
/// had left to print (it exited 101 with a panic message before).
#[test]
fn a_closed_pipe_ends_kdeck_quietly() {
    let s = setup(1);
    let adopt = s.kdeck(&["apps", "adopt", "prod-eu1/shop-prod/web"]);
    assert!(adopt.status.success(), "{}", String::from_utf8_lossy(&adopt.stderr));
    for args in [
        &["export", "prod-eu1/shop-prod"][..],
        &["apps", "show", "prod-eu1/shop-prod/web"][..],
        &["apps", "list", "-o", "yaml"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kdeck"))
            .arg("--data-dir")
            .arg(s.dir.path().join("data"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before kdeck writes anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}
