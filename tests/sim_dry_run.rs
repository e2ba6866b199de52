//! Server-side dry run (`dryRun=All`) as a real API server answers it, with
//! the real kubectl: a dry-run delete, patch, replace and apply (the patch
//! `kubectl diff` sends) answer as the write would and change nothing;
//! a dry-run create of an object that exists is refused as the create is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Setup;

const CTX: &str = "prod-eu1";
const NS: &str = "shop-prod";

fn image(s: &Setup) -> String {
    s.jsonpath(CTX, NS, "deployment/web", "{.spec.template.spec.containers[0].image}")
}

#[test]
fn dry_runs_answer_as_the_write_would_and_change_nothing() {
    let s = Setup::new();
    let before = image(&s);
    let rv = s.jsonpath(CTX, NS, "deployment/web", "{.metadata.resourceVersion}");

    // Delete.
    let out = s.kubectl(CTX, &["-n", NS, "delete", "deployment", "web", "--dry-run=server"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("(server dry run)"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        s.kubectl(CTX, &["-n", NS, "get", "deployment", "web"]).status.success(),
        "still there"
    );

    // Patch: the answer has the change; the object does not.
    let out = s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "patch",
            "deployment",
            "web",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":7}}"#,
            "--dry-run=server",
            "-o",
            "jsonpath={.spec.replicas}",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "7",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(s.jsonpath(CTX, NS, "deployment/web", "{.spec.replicas}"), "7");

    // Replace and diff (a server-side apply dry run) with another image.
    let live = s.kubectl(CTX, &["-n", NS, "get", "deployment", "web", "-o", "json"]);
    let mut obj: serde_json::Value = serde_json::from_slice(&live.stdout).unwrap();
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = serde_json::json!("nginx:9.9");
    let file = s.dir.path().join("web.json");
    std::fs::write(&file, obj.to_string()).unwrap();
    let out = s.kubectl(CTX, &["replace", "--dry-run=server", "-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = s.kubectl(CTX, &["diff", "-f", file.to_str().unwrap()]);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a difference: {diff}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        diff.contains("+        image: nginx:9.9") && diff.contains(&format!("-        image: {before}")),
        "{diff}"
    );
    assert_eq!(image(&s), before, "nothing changed in the live object");
    assert_eq!(s.jsonpath(CTX, NS, "deployment/web", "{.metadata.resourceVersion}"), rv);

    // Create of what exists: refused as the create is.
    let cm = s.dir.path().join("cm.json");
    std::fs::write(
        &cm,
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry","namespace":"shop-prod"},"data":{"a":"b"}}"#,
    )
    .unwrap();
    let out = s.kubectl(CTX, &["create", "--dry-run=server", "-f", cm.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        !s.kubectl(CTX, &["-n", NS, "get", "configmap", "dry"]).status.success(),
        "a dry create makes nothing"
    );
    let out = s.kubectl(CTX, &["-n", NS, "get", "deployment", "web", "-o", "json"]);
    let mut again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    again["metadata"].as_object_mut().unwrap().remove("resourceVersion");
    std::fs::write(&file, again.to_string()).unwrap();
    let out = s.kubectl(CTX, &["create", "--dry-run=server", "-f", file.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("AlreadyExists")
            || String::from_utf8_lossy(&out.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
