//! The store as users of the CLI meet it: `--read-only` refuses changes and
//! journals the refusal; a command whose kdeck is killed becomes
//! "interrupted" and runs again with `history --rerun`; a damaged store is
//! checked and restored from its backup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::fixture;

fn kdeck(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = kdeck(data, args);
    assert!(
        out.status.success(),
        "kdeck {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn history(data: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["history", "-o", "json"];
    args.extend(extra);
    serde_json::from_str(&ok(data, &args)).unwrap()
}

#[test]
fn read_only_refuses_every_change_and_journals_the_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["clusters", "import", &fixture("three-contexts.yaml")]);
    let out = kdeck(&data, &["--read-only", "clusters", "remove", "dev", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("read-only") && err.lines().count() == 1, "{err}");
    let out = kdeck(&data, &["--read-only", "domains", "add", "dev", "apps.dev.example.com"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    // Nothing changed, and the journal says what was refused.
    assert!(ok(&data, &["clusters", "list"]).contains("dev"));
    assert!(ok(&data, &["domains", "list"]).trim().lines().count() <= 1);
    let refused: Vec<Value> = history(&data, &["--failed"]);
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused
            .iter()
            .all(|e| e["reason"].as_str().unwrap().contains("read-only"))
    );
    // Reading still works.
    ok(&data, &["--read-only", "history"]);
}

/// A cluster that takes connections and never answers.
fn silent_cluster(dir: &Path) -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let kc = dir.join("silent.yaml");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: hang\nclusters:\n- name: hang\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: hang\n  context:\n    cluster: hang\n    user: u\n"
        ),
    )
    .unwrap();
    (l, kc.display().to_string())
}

#[test]
fn a_killed_command_is_interrupted_listed_as_failed_and_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (listener, kc) = silent_cluster(dir.path());
    ok(&data, &["clusters", "import", &kc]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .arg("--data-dir")
        .arg(&data)
        .args(["spaces", "create", "hang/team"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Another kdeck sees it pending while it hangs on the cluster.
    let deadline = Instant::now() + Duration::from_secs(20);
    let id = loop {
        let all = history(&data, &[]);
        if let Some(e) = all.iter().find(|e| e["command"]["type"] == "create_space") {
            assert_eq!(e["status"], "pending");
            break e["id"].as_u64().unwrap();
        }
        assert!(Instant::now() < deadline, "the command never showed as pending");
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let failed = history(&data, &["--failed"]);
    let e = failed
        .iter()
        .find(|e| e["id"] == id)
        .expect("the killed command is listed as failed");
    assert_eq!(e["status"], "interrupted", "{e}");
    let reason = e["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("history --rerun {id}")), "{reason}");
    let table = ok(&data, &["history", "--failed"]);
    assert!(table.contains("interrupted"), "{table}");

    // The cluster now refuses at once: the rerun is a new entry with the same command.
    drop(listener);
    let out = kdeck(&data, &["history", "--rerun", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let all = history(&data, &[]);
    let last = all.last().unwrap();
    assert!(last["id"].as_u64().unwrap() > id);
    assert_eq!(last["command"], e["command"]);
    assert_eq!(last["status"], "failed");
    let out = kdeck(&data, &["history", "--rerun", "999"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_damaged_store_is_checked_and_restored_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["clusters", "import", &fixture("three-contexts.yaml")]);
    let report: Value = serde_json::from_str(&ok(&data, &["store", "check", "-o", "json"])).unwrap();
    assert_eq!(report["readable"], true, "{report}");
    // A copy of the real store with bits flipped in sled's main file.
    let db = data.join("store/db");
    let mut bytes = std::fs::read(&db).unwrap();
    for i in (600..bytes.len()).step_by(4096) {
        bytes[i] ^= 0x10;
    }
    std::fs::File::create(&db).unwrap().write_all(&bytes).unwrap();
    let out = kdeck(&data, &["clusters", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("damaged") && err.contains("kdeck store restore"), "{err}");
    let out = kdeck(&data, &["store", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("damaged") && err.contains("backup from"), "{err}");
    let out = kdeck(&data, &["store", "restore"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = ok(&data, &["clusters", "list"]);
    assert_eq!(list.lines().count(), 4, "three clusters back: {list}");
    assert_eq!(history(&data, &[]).len(), 1, "and the journal");
    // A store that reads is restored only when asked twice.
    let out = kdeck(&data, &["store", "restore"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
}
