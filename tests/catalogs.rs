//! Catalogs from a Helm repository served over HTTP by the test (and from a
//! file): added, listed, searched fuzzily over name, description and
//! keywords with versions in SemVer order, refreshed when the index
//! changes; a malformed index names the catalog and the line, an
//! unreachable one the URL, and neither is kept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::http::serve;
use std::sync::{Arc, Mutex};

const INDEX: &str = "apiVersion: v1
entries:
  web:
  - name: web
    version: 1.9.0
    appVersion: \"1.25\"
    description: A small web server
    keywords: [http, nginx]
    urls: [web-1.9.0.tgz]
  - name: web
    version: 1.10.0
    appVersion: \"1.27\"
    description: A small web server
    keywords: [http, nginx]
    urls: [web-1.10.0.tgz]
  redis:
  - name: redis
    version: 0.3.0
    appVersion: 7.2.4
    description: An in-memory store
    keywords: [cache, key-value]
    urls: [redis-0.3.0.tgz]
  oldthing:
  - name: oldthing
    version: 0.1.0
    description: Not maintained
    deprecated: true
generated: \"2026-11-30T10:00:00Z\"
";

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

fn err(data: &Path, args: &[&str]) -> String {
    let out = kdeck(data, args);
    assert!(!out.status.success(), "kdeck {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn catalogs_are_read_kept_searched_and_refreshed() {
    let routes = Arc::new(Mutex::new(vec![
        (
            "/charts/index.yaml".to_string(),
            200,
            String::new(),
            INDEX.as_bytes().to_vec(),
        ),
        (
            "/moved/index.yaml".to_string(),
            302,
            "Location: /charts/index.yaml\r\n".to_string(),
            Vec::new(),
        ),
        (
            "/broken/index.yaml".to_string(),
            200,
            String::new(),
            b"apiVersion: v1\nentries:\n  web: [\n".to_vec(),
        ),
    ]));
    let port = serve(routes.clone());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let base = format!("http://127.0.0.1:{port}");
    // The repository URL gets /index.yaml; a redirect is followed; a file works too.
    let said = ok(&data, &["catalogs", "add", "demo", &format!("{base}/charts")]);
    assert!(said.contains("added: 3 chart(s), 4 version(s)"), "{said}");
    ok(&data, &["catalogs", "add", "moved", &format!("{base}/moved")]);
    let file = dir.path().join("index.yaml");
    std::fs::write(&file, INDEX).unwrap();
    ok(&data, &["catalogs", "add", "local", file.to_str().unwrap()]);
    let list: serde_json::Value = serde_json::from_str(&ok(&data, &["catalogs", "list", "-o", "json"])).unwrap();
    let local = list.as_array().unwrap().iter().find(|c| c["name"] == "local").unwrap();
    assert_eq!(local["url"], format!("file://{}", file.display()));
    assert_eq!(
        (local["charts"].as_u64(), local["versions"].as_u64()),
        (Some(3), Some(4))
    );
    assert!(local["fetched_at"].as_str().unwrap().starts_with("20"));
    // Search: by name, newest version first (1.10.0 above 1.9.0); by keyword; deprecated said.
    let found: serde_json::Value = serde_json::from_str(&ok(
        &data,
        &["market", "search", "web", "--catalog", "demo", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(found[0]["chart"], "web");
    assert_eq!(found[0]["version"], "1.10.0");
    assert_eq!(found[0]["app_version"], "1.27");
    assert_eq!(found[0]["versions"], serde_json::json!(["1.10.0", "1.9.0"]));
    let cache = ok(&data, &["market", "search", "cache", "--catalog", "demo"]);
    assert!(cache.contains("redis") && !cache.contains("web "), "{cache}");
    let all = ok(&data, &["market", "search", "--catalog", "demo"]);
    assert!(all.contains("(deprecated) Not maintained"), "{all}");
    // The index changes: a refresh reads it again and says what changed.
    routes.lock().unwrap()[0].3 = INDEX
        .replace("  - name: web\n    version: 1.9.0", "  - name: web\n    version: 2.0.0")
        .into_bytes();
    let said = ok(&data, &["catalogs", "refresh", "demo"]);
    assert!(said.contains("refreshed: 3 chart(s), 4 version(s)"), "{said}");
    let found: serde_json::Value = serde_json::from_str(&ok(
        &data,
        &["market", "search", "web", "--catalog", "demo", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(found[0]["version"], "2.0.0");
    // Bad sources: said, named, nothing kept; the journal has the reason.
    let e = err(&data, &["catalogs", "add", "bad", &format!("{base}/broken")]);
    assert!(e.contains("catalog bad: its index.yaml does not read: line 3"), "{e}");
    let e = err(&data, &["catalogs", "add", "gone", &format!("{base}/nothing-here")]);
    assert!(
        e.contains("catalog gone: ") && e.contains("/nothing-here/index.yaml: the server answered 404"),
        "{e}"
    );
    let e = err(&data, &["catalogs", "add", "dead", "http://127.0.0.1:1/charts"]);
    assert!(
        e.contains("catalog dead: http://127.0.0.1:1/charts/index.yaml: "),
        "{e}"
    );
    let e = err(&data, &["catalogs", "add", "demo", &format!("{base}/charts")]);
    assert!(e.contains("catalog demo exists"), "{e}");
    let names = ok(&data, &["catalogs", "list"]);
    assert!(
        !names.contains("bad ") && !names.contains("gone ") && !names.contains("dead "),
        "{names}"
    );
    let failed = ok(&data, &["history", "--failed"]);
    assert!(failed.contains("catalogs add"), "{failed}");
    ok(&data, &["catalogs", "remove", "moved"]);
    assert!(!ok(&data, &["catalogs", "list"]).contains("moved"));
    let e = err(&data, &["market", "search", "x", "--catalog", "moved"]);
    assert!(e.contains("--catalog moved: no such catalog"), "{e}");
}
