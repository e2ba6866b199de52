//! An app's lifecycle from the CLI against a simulated cluster, checked with
//! kubectl: autoscaling (an HPA that scales up under simulated load and back
//! down), canaries (a weighted one promoted, one aborted), a space quota (a
//! deploy past it refused early with its numbers, a pod past it refused by
//! the server and said), ConfigMaps and Secrets (readers marked for a
//! restart, secret values masked and never journalled), and bad input
//! refused with nothing applied.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::Setup;
use kdeck_sim::{FleetSize, SimConfig, SimOptions};

const CTX: &str = "prod-eu1";
const NS: &str = "shop-prod";
const SPACE: &str = "prod-eu1/shop-prod";

fn setup() -> Setup {
    Setup::with(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        config: SimConfig {
            hpa_sync: Duration::from_millis(200),
            ..Default::default()
        },
        ..Default::default()
    })
}

fn err(s: &Setup, args: &[&str]) -> String {
    let out = s.kdeck(args);
    assert!(!out.status.success(), "kdeck {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn deployed(s: &Setup, app: &str, extra: &[&str]) {
    let mut args = vec!["apps", "create", app, "--image", "nginx:1.26", "--port", "80"];
    args.extend_from_slice(extra);
    s.ok(&args);
    s.ok(&["apps", "edit", app, "--cpu-request", "100m"]);
    s.ok(&["apps", "deploy", app, "--wait", "--timeout", "30"]);
}

#[test]
fn autoscaling_follows_load_between_its_bounds_and_goes_off() {
    let s = setup();
    let app = "prod-eu1/shop-prod/auto";
    deployed(&s, app, &[]);
    // min above max: one line, nothing stored or applied.
    let e = err(&s, &["apps", "autoscale", app, "--min", "5", "--max", "3"]);
    assert!(e.contains("--min 5 is above --max 3; nothing applied"), "{e}");
    assert!(!s.kubectl(CTX, &["-n", NS, "get", "hpa", "auto"]).status.success());
    // The dry run shows the autoscaler and changes nothing.
    let plan = s.ok(&[
        "apps",
        "autoscale",
        app,
        "--min",
        "1",
        "--max",
        "4",
        "--cpu",
        "50",
        "--dry-run",
    ]);
    assert!(
        plan.contains("kind: HorizontalPodAutoscaler") && plan.contains("averageUtilization: 50"),
        "{plan}"
    );
    assert!(!s.kubectl(CTX, &["-n", NS, "get", "hpa", "auto"]).status.success());
    s.ok(&[
        "apps",
        "autoscale",
        app,
        "--min",
        "1",
        "--max",
        "4",
        "--cpu",
        "50",
        "--scale-down-after",
        "0",
    ]);
    assert_eq!(
        s.jsonpath(CTX, NS, "hpa/auto", "{.spec.minReplicas} {.spec.maxReplicas}"),
        "1 4"
    );
    // Load: 150 % of one pod's request at a 50 % target means three pods.
    let out = s.kubectl(
        CTX,
        &["-n", NS, "annotate", "deployment/auto", "sim.kdeck.dev/cpu-demand=150"],
    );
    assert!(out.status.success());
    let replicas = |s: &Setup| s.jsonpath(CTX, NS, "deployment/auto", "{.spec.replicas}");
    s.until("scaled up to 3", Duration::from_secs(15), || replicas(&s) == "3");
    // An autoscaled app's new replica count is not drift.
    let status = s.ok(&["apps", "status", app, "-o", "json"]);
    assert!(!status.contains("\"drift\""), "{status}");
    let out = s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "annotate",
            "--overwrite",
            "deployment/auto",
            "sim.kdeck.dev/cpu-demand=10",
        ],
    );
    assert!(out.status.success());
    s.until("back down to 1", Duration::from_secs(15), || replicas(&s) == "1");
    // Off: the autoscaler goes and the stored count is back.
    s.ok(&["apps", "autoscale", app, "--off"]);
    assert!(!s.kubectl(CTX, &["-n", NS, "get", "hpa", "auto"]).status.success());
    assert_eq!(replicas(&s), "1");
    let e = err(&s, &["apps", "autoscale", app, "--off"]);
    assert!(e.contains("does not autoscale"), "{e}");
}

#[test]
fn a_weighted_canary_is_promoted_and_another_is_aborted() {
    let s = setup();
    let app = "prod-eu1/shop-prod/shop";
    deployed(&s, app, &["--route", "shop.example.com"]);
    // A canary of an app with no ready pods is refused.
    s.ok(&[
        "apps",
        "create",
        "prod-eu1/shop-prod/broken",
        "--image",
        "registry.example/does-not-exist:1",
        "--port",
        "80",
    ]);
    s.ok(&["apps", "deploy", "prod-eu1/shop-prod/broken"]);
    let e = err(
        &s,
        &["apps", "canary", "prod-eu1/shop-prod/broken", "--image", "nginx:1.27"],
    );
    assert!(e.contains("has no ready pods"), "{e}");
    s.ok(&["apps", "canary", app, "--image", "nginx:1.27", "--weight", "20"]);
    assert_eq!(
        s.jsonpath(
            CTX,
            NS,
            "deployment/shop-canary",
            "{.spec.template.spec.containers[0].image}"
        ),
        "nginx:1.27"
    );
    assert_eq!(
        s.jsonpath(
            CTX,
            NS,
            "ingress/shop-canary",
            "{.metadata.annotations.nginx\\.ingress\\.kubernetes\\.io/canary-weight}"
        ),
        "20"
    );
    assert_eq!(
        s.jsonpath(
            CTX,
            NS,
            "ingress/shop-canary",
            "{.spec.rules[0].http.paths[0].backend.service.name}"
        ),
        "shop-canary"
    );
    s.until("the canary ready", Duration::from_secs(10), || {
        s.jsonpath(CTX, NS, "deployment/shop-canary", "{.status.readyReplicas}") == "1"
    });
    // The app's Service selects the canary's pods too: traffic splits by replicas where no Ingress weighs it.
    let pods = s.jsonpath(CTX, NS, "pods", "{.items[*].metadata.labels.kdeck\\.dev/track}");
    assert!(pods.contains("canary"), "{pods}");
    s.ok(&["apps", "canary", "promote", app, "--wait", "--timeout", "30"]);
    assert_eq!(
        s.jsonpath(CTX, NS, "deployment/shop", "{.spec.template.spec.containers[0].image}"),
        "nginx:1.27"
    );
    for what in ["deployment/shop-canary", "service/shop-canary", "ingress/shop-canary"] {
        assert!(
            !s.kubectl(CTX, &["-n", NS, "get", what]).status.success(),
            "{what} is still there"
        );
    }
    let history = s.ok(&["apps", "history", app]);
    assert!(history.contains("promote canary nginx:1.27"), "{history}");
    // Another, by replicas, aborted: the app keeps its image.
    s.ok(&["apps", "canary", app, "--image", "nginx:1.28", "--replicas", "2"]);
    assert_eq!(s.jsonpath(CTX, NS, "deployment/shop-canary", "{.spec.replicas}"), "2");
    s.ok(&["apps", "canary", "abort", app]);
    assert!(
        !s.kubectl(CTX, &["-n", NS, "get", "deployment/shop-canary"])
            .status
            .success()
    );
    assert_eq!(
        s.jsonpath(CTX, NS, "deployment/shop", "{.spec.template.spec.containers[0].image}"),
        "nginx:1.27"
    );
    let e = err(&s, &["apps", "canary", "abort", app]);
    assert!(e.contains("no canary of"), "{e}");
    // A canary goes with its app.
    s.ok(&["apps", "canary", app, "--image", "nginx:1.28"]);
    s.ok(&["apps", "delete", app, "--yes"]);
    for what in ["deployment/shop", "deployment/shop-canary"] {
        assert!(
            !s.kubectl(CTX, &["-n", NS, "get", what]).status.success(),
            "{what} is still there"
        );
    }
}

#[test]
fn a_space_quota_refuses_what_goes_past_it_and_says_why() {
    let s = setup();
    let app = "prod-eu1/shop-prod/quota";
    deployed(&s, app, &[]);
    let plan = s.ok(&[
        "spaces",
        "quota",
        SPACE,
        "--cpu",
        "1",
        "--pods",
        "40",
        "--default-cpu",
        "50m",
        "--dry-run",
    ]);
    assert!(
        plan.contains("kind: ResourceQuota") && plan.contains("kind: LimitRange"),
        "{plan}"
    );
    s.ok(&[
        "spaces",
        "quota",
        SPACE,
        "--cpu",
        "1",
        "--pods",
        "40",
        "--default-cpu",
        "50m",
    ]);
    let shown = s.ok(&["spaces", "quota", SPACE, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let cpu = v["quota"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["resource"] == "requests.cpu")
        .unwrap()
        .clone();
    assert_eq!(cpu["hard"], "1");
    assert_eq!(v["defaults"]["cpu"], "50m", "{v}");
    // Twelve pods of 100m would take requests.cpu past 1: refused before anything is applied.
    let e = err(&s, &["apps", "scale", app, "12"]);
    assert!(
        e.contains("would exceed quota kdeck in prod-eu1/shop-prod: requests.cpu 12 × 100m = 1200m wanted"),
        "{e}"
    );
    assert!(e.contains("nothing applied"), "{e}");
    assert_eq!(s.jsonpath(CTX, NS, "deployment/quota", "{.spec.replicas}"), "1");
    s.ok(&["apps", "edit", app, "--image", "nginx:1.27"]);
    s.ok(&["apps", "deploy", app]);
    // A quota below what the space uses is a warning, and is applied.
    let warned = s.ok(&["spaces", "quota", SPACE, "--pods", "1"]);
    assert!(
        warned.contains("warning:") && warned.contains("already uses"),
        "{warned}"
    );
    let e = err(&s, &["apps", "deploy", app]);
    assert!(
        e.contains("would exceed quota kdeck in prod-eu1/shop-prod: pods"),
        "{e}"
    );
    // A pod made past it by the server's own controller is refused with the server's reason.
    let out = s.kubectl(CTX, &["-n", NS, "scale", "deployment/quota", "--replicas", "3"]);
    assert!(out.status.success());
    s.until("the refusal on the Deployment", Duration::from_secs(10), || {
        s.jsonpath(
            CTX,
            NS,
            "deployment/quota",
            "{.status.conditions[?(@.type==\"ReplicaFailure\")].message}",
        )
        .contains("exceeded quota: kdeck")
    });
    s.ok(&["spaces", "quota", SPACE, "--off"]);
    assert!(
        !s.kubectl(CTX, &["-n", NS, "get", "resourcequota", "kdeck"])
            .status
            .success()
    );
}

#[test]
fn config_and_secrets_mark_their_readers_and_secrets_stay_hidden() {
    let s = setup();
    let app = "prod-eu1/shop-prod/conf";
    deployed(&s, app, &["--env", "MODE=v1"]);
    // Move the setting into a ConfigMap.
    s.ok(&[
        "config",
        "set",
        "prod-eu1/shop-prod/conf-settings",
        "MODE=v2",
        "LEVEL=info",
    ]);
    s.ok(&["apps", "edit", app, "--env-from", "MODE=configmap:conf-settings/MODE"]);
    s.ok(&["secrets", "set", "prod-eu1/shop-prod/conf-db", "password=hunter2"]);
    s.ok(&["apps", "edit", app, "--env-from", "DB_PASSWORD=secret:conf-db/passwd"]);
    // A key the Secret does not have: the deploy says so and applies nothing.
    let e = err(&s, &["apps", "deploy", app]);
    assert!(
        e.contains("reads key passwd of Secret conf-db, which has no such key (its keys: password)"),
        "{e}"
    );
    s.ok(&["apps", "edit", app, "--env-from", "DB_PASSWORD=secret:conf-db/password"]);
    s.ok(&["apps", "deploy", app]);
    let env = s.jsonpath(
        CTX,
        NS,
        "deployment/conf",
        "{.spec.template.spec.containers[0].env[*].valueFrom}",
    );
    assert!(env.contains("conf-settings") && env.contains("conf-db"), "{env}");
    // A change marks the app for a restart, and says so.
    let said = s.ok(&["config", "set", "prod-eu1/shop-prod/conf-settings", "MODE=v3"]);
    assert!(
        said.contains("needs a restart: it reads ConfigMap conf-settings"),
        "{said}"
    );
    let status = s.kdeck(&["apps", "status", app]);
    let said = String::from_utf8_lossy(&status.stderr);
    assert!(said.contains("needs a restart"), "{said}");
    s.ok(&["apps", "restart", app]);
    let status = s.kdeck(&["apps", "status", app]);
    assert!(!String::from_utf8_lossy(&status.stderr).contains("needs a restart"));
    let listed = s.ok(&["config", "list", SPACE, "-o", "json"]);
    assert!(listed.contains("\"conf\""), "{listed}");
    // Secrets: masked unless revealed, and never in the journal.
    let shown = s.ok(&["secrets", "show", "prod-eu1/shop-prod/conf-db"]);
    assert!(
        shown.contains("•••••• (7 bytes)") && !shown.contains("hunter2"),
        "{shown}"
    );
    let revealed = s.ok(&["secrets", "show", "prod-eu1/shop-prod/conf-db", "--reveal"]);
    assert!(revealed.contains("hunter2"), "{revealed}");
    let journal = s.ok(&["history", "-o", "json"]);
    assert!(
        journal.contains("(hidden)") && !journal.contains("hunter2"),
        "{journal}"
    );
    // Unsetting a key that is not there: one line, nothing applied.
    let e = err(&s, &["secrets", "unset", "prod-eu1/shop-prod/conf-db", "token"]);
    assert!(
        e.contains("conf-db has no key token (its keys: password); nothing applied"),
        "{e}"
    );
    // One mount path used twice.
    let e = err(
        &s,
        &[
            "apps",
            "edit",
            app,
            "--mount",
            "/etc/conf=configmap:conf-settings",
            "--mount",
            "/etc/conf=secret:conf-db",
        ],
    );
    assert!(e.contains("is mounted twice"), "{e}");
}

#[test]
fn volumes_show_their_claims_bound_through_the_default_class() {
    let s = setup();
    let app = "prod-eu1/shop-prod/files";
    s.ok(&[
        "apps",
        "create",
        app,
        "--image",
        "nginx:1.26",
        "--volume",
        "data:2Gi:/srv/data:RWO",
    ]);
    s.ok(&["apps", "deploy", app, "--wait", "--timeout", "30"]);
    s.until("the claim bound", Duration::from_secs(10), || {
        s.jsonpath(CTX, NS, "pvc/files-data", "{.status.phase}") == "Bound"
    });
    let rows: serde_json::Value = serde_json::from_str(&s.ok(&["apps", "volumes", app, "-o", "json"])).unwrap();
    let r = &rows[0];
    assert_eq!(
        (
            r["source"].as_str(),
            r["status"].as_str(),
            r["size"].as_str(),
            r["access"].as_str(),
            r["class"].as_str()
        ),
        (
            Some("claim files-data"),
            Some("Bound"),
            Some("2Gi"),
            Some("ReadWriteOnce"),
            Some("standard")
        ),
        "{rows}"
    );
    // A StatefulSet: a claim per pod, each bound.
    let db = "prod-eu1/shop-prod/db";
    s.ok(&[
        "apps",
        "create",
        db,
        "--image",
        "postgres:16",
        "--stateful",
        "--replicas",
        "2",
        "--volume",
        "pgdata:1Gi:/var/lib/postgresql",
    ]);
    s.ok(&["apps", "deploy", db, "--wait", "--timeout", "30"]);
    s.until("both claims bound", Duration::from_secs(15), || {
        let rows: serde_json::Value = serde_json::from_str(&s.ok(&["apps", "volumes", db, "-o", "json"])).unwrap();
        rows.as_array().unwrap().len() == 2 && rows.as_array().unwrap().iter().all(|r| r["status"] == "Bound")
    });
    let table = s.ok(&["apps", "volumes", db]);
    assert!(
        table.contains("claim pgdata-db-0") && table.contains("claim pgdata-db-1"),
        "{table}"
    );
    // One mount path used twice: one line, nothing stored.
    let e = err(
        &s,
        &["apps", "edit", app, "--mount", "/srv/data=configmap:files-config"],
    );
    assert!(e.contains("/srv/data") && e.contains("is mounted twice"), "{e}");
}
