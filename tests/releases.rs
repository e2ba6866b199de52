//! Releases from the CLI against a simulated cluster, checked with kubectl:
//! v1 then v2 are two revisions with what changed; a redeploy of the same
//! settings is none; a rollback puts v1's image, env and routes back in the
//! cluster, is recorded as revision 3, and the cluster's own history (the
//! Deployment's ReplicaSets) reuses v1's ReplicaSet, renumbered, as
//! `kubectl rollout undo` does. Bad revisions are refused, nothing applied.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::Setup;

const APP: &str = "prod-eu1/shop-prod/rel";

fn history(s: &Setup) -> serde_json::Value {
    serde_json::from_str(&s.ok(&["apps", "history", APP, "-o", "json"])).unwrap()
}

fn image(s: &Setup) -> String {
    s.jsonpath(
        "prod-eu1",
        "shop-prod",
        "deployment/rel",
        "{.spec.template.spec.containers[0].image}",
    )
}

fn hosts(s: &Setup) -> String {
    let out = s.kubectl(
        "prod-eu1",
        &[
            "-n",
            "shop-prod",
            "get",
            "ingress",
            "-o",
            "jsonpath={.items[*].spec.rules[*].host}",
        ],
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn deploys_are_revisions_and_a_rollback_puts_the_old_release_back() {
    let s = Setup::new();
    s.ok(&[
        "apps",
        "create",
        APP,
        "--image",
        "nginx:1.26",
        "--port",
        "80",
        "--env",
        "MODE=v1",
        "--route",
        "rel.example.com",
    ]);
    s.fails(&["apps", "rollback", APP], 1, "has no revisions yet");
    s.ok(&["apps", "deploy", APP, "--wait", "--timeout", "30"]);
    // The same settings again: no new revision.
    s.ok(&["apps", "deploy", APP, "--wait", "--timeout", "30"]);
    let h = history(&s);
    assert_eq!(h["revisions"].as_array().unwrap().len(), 1, "{h}");
    assert_eq!(h["revisions"][0]["change"], "first release");
    let v1_hosts = hosts(&s);
    assert!(!v1_hosts.is_empty());

    // v2: another image and env, and a route more.
    s.ok(&[
        "apps",
        "edit",
        APP,
        "--image",
        "nginx:1.27",
        "--env",
        "MODE=v2",
        "--env",
        "DEBUG=1",
    ]);
    s.ok(&["routes", "add", APP, "--host", "rel-v2.example.com"]);
    let out = s.ok(&["apps", "deploy", APP, "--wait", "--timeout", "30"]);
    assert!(out.contains("revision 2"), "{out}");
    let h = history(&s);
    let change = h["revisions"][1]["change"].as_str().unwrap();
    assert_eq!(
        change, "image nginx:1.26 → nginx:1.27; env ~MODE +DEBUG; routes +rel-v2.example.com/",
        "{h}"
    );
    assert_eq!(image(&s), "nginx:1.27");
    assert!(hosts(&s).contains("rel-v2.example.com"));
    // The cluster's history: two ReplicaSets, revision 2 current.
    let c = h["cluster"].as_array().unwrap();
    assert_eq!(c.len(), 2, "{h}");
    assert_eq!(c[1]["revision"], 2);
    assert_eq!(c[1]["current"], true);
    assert_eq!(c[1]["images"][0], "nginx:1.27");
    let v1_rs = c[0]["name"].as_str().unwrap().to_string();

    // Bad revisions: said, nothing applied.
    s.fails(
        &["apps", "rollback", APP, "--to", "7"],
        1,
        "has no revision 7: its revisions are 1..2",
    );
    s.fails(&["apps", "rollback", APP, "--to", "2"], 1, "is the one deployed now");
    // The plan first, then the rollback (to the one before the last).
    let plan = s.ok(&["apps", "rollback", APP, "--dry-run"]);
    assert!(plan.contains("image nginx:1.27 → nginx:1.26"), "{plan}");
    assert_eq!(image(&s), "nginx:1.27", "a dry run applies nothing");
    let out = s.ok(&["apps", "rollback", APP, "--wait", "--timeout", "30"]);
    assert!(out.contains("revision 3"), "{out}");
    assert_eq!(image(&s), "nginx:1.26");
    let env = s.jsonpath(
        "prod-eu1",
        "shop-prod",
        "deployment/rel",
        "{.spec.template.spec.containers[0].env}",
    );
    assert!(env.contains("v1") && !env.contains("DEBUG"), "{env}");
    s.until("the v2 route gone", Duration::from_secs(10), || {
        !hosts(&s).contains("rel-v2.example.com")
    });
    assert_eq!(hosts(&s), v1_hosts);
    let h = history(&s);
    let revs = h["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 3);
    assert!(
        revs[2]["change"]
            .as_str()
            .unwrap()
            .starts_with("rollback to revision 1: image nginx:1.27 → nginx:1.26"),
        "{h}"
    );
    assert_eq!(revs[2]["current"], true);
    // kdeck's settings are v1's again: a plain deploy changes nothing.
    let show = s.ok(&["apps", "show", APP]);
    assert!(show.contains("nginx:1.26"), "{show}");
    // The cluster reused v1's ReplicaSet as revision 3 (as `rollout undo` does).
    let c = h["cluster"].as_array().unwrap();
    assert_eq!(c.len(), 2, "{h}");
    let current = c.iter().find(|r| r["current"] == true).unwrap();
    assert_eq!(current["name"], v1_rs.as_str());
    assert_eq!(current["revision"], 3);
    let rollout = s.kubectl("prod-eu1", &["-n", "shop-prod", "rollout", "history", "deployment/rel"]);
    let said = String::from_utf8_lossy(&rollout.stdout);
    assert!(
        said.contains('2') && said.contains('3') && !said.lines().any(|l| l.trim_start().starts_with("1 ")),
        "{said}"
    );
    // The journal has it, and the refused ones with their reasons.
    let j: Vec<serde_json::Value> =
        serde_json::from_str(&s.ok(&["history", "--command", "apps rollback", "-o", "json"])).unwrap();
    assert_eq!(j.len(), 4, "{j:?}");
    assert_eq!(j.iter().filter(|e| e["status"] == "applied").count(), 1);
    assert!(j.iter().any(|e| e.to_string().contains("has no revision 7")), "{j:?}");
}

#[test]
fn a_statefulsets_rollback_reuses_its_controller_revision() {
    let s = Setup::new();
    let app = "prod-eu1/shop-prod/db";
    s.ok(&[
        "apps",
        "create",
        app,
        "--stateful",
        "--image",
        "postgres:15",
        "--port",
        "5432",
    ]);
    s.ok(&["apps", "deploy", app, "--wait", "--timeout", "30"]);
    s.ok(&["apps", "edit", app, "--image", "postgres:16"]);
    s.ok(&["apps", "deploy", app, "--wait", "--timeout", "30"]);
    let h: serde_json::Value = serde_json::from_str(&s.ok(&["apps", "history", app, "-o", "json"])).unwrap();
    let c = h["cluster"].as_array().unwrap();
    assert_eq!(c.len(), 2, "{h}");
    assert_eq!(c[1]["images"][0], "postgres:16");
    assert_eq!(c[1]["current"], true);
    let v1 = c[0]["name"].as_str().unwrap().to_string();
    // The StatefulSet names its revisions as a real one does.
    let update = s.jsonpath("prod-eu1", "shop-prod", "statefulset/db", "{.status.updateRevision}");
    assert_eq!(update, c[1]["name"].as_str().unwrap());
    s.ok(&["apps", "rollback", app, "--wait", "--timeout", "30"]);
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "shop-prod",
            "statefulset/db",
            "{.spec.template.spec.containers[0].image}"
        ),
        "postgres:15"
    );
    let h: serde_json::Value = serde_json::from_str(&s.ok(&["apps", "history", app, "-o", "json"])).unwrap();
    let c = h["cluster"].as_array().unwrap();
    assert_eq!(c.len(), 2, "reused, not copied: {h}");
    let current = c.iter().find(|r| r["current"] == true).unwrap();
    assert_eq!(current["name"], v1.as_str());
    assert_eq!(current["revision"], 3);
    s.until("every pod on the old revision again", Duration::from_secs(20), || {
        s.jsonpath("prod-eu1", "shop-prod", "statefulset/db", "{.status.currentRevision}") == v1
    });
    let out = s.kubectl("prod-eu1", &["-n", "shop-prod", "rollout", "history", "statefulset/db"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        said.lines().any(|l| l.trim_start().starts_with("3 ")) || said.lines().any(|l| l.trim() == "3"),
        "{said}"
    );
}
