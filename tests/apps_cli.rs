//! Apps the PaaS way, from the CLI as a script would drive it, against
//! simulated clusters, checked with the real `kubectl`: create, a route
//! under the cluster's domain, a binding to a database on another cluster,
//! deploy, scale, restart, stop/start, delete; and bad input said clearly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::Duration;

mod common;
use common::Setup;

#[test]
fn an_app_with_a_route_and_a_binding_to_a_database_on_another_cluster() {
    let s = Setup::new();
    s.ok(&[
        "domains",
        "add",
        "prod-eu1",
        "apps.prod-eu1.example.com",
        "--tls-secret",
        "wildcard-tls",
        "--ingress-class",
        "nginx",
    ]);
    s.ok(&["domains", "add", "stage-eu1", "apps.stage-eu1.example.com"]);
    // The database, on the other cluster, offering a connector.
    s.ok(&[
        "apps",
        "create",
        "stage-eu1/shop-prod/pg",
        "--image",
        "postgres:16",
        "--stateful",
        "--port",
        "5432",
        "--route",
        "default",
        "--connector",
        "postgres:user=app,password=secret:postgres-credentials/password",
    ]);
    s.ok(&["apps", "deploy", "stage-eu1/shop-prod/pg"]);
    assert_eq!(
        s.jsonpath("stage-eu1", "shop-prod", "statefulset/pg", "{.spec.serviceName}"),
        "pg"
    );
    // The app, a draft first: nothing in the cluster.
    let out = s.ok(&[
        "apps",
        "create",
        "prod-eu1/payments-prod/checkout",
        "--image",
        "ghcr.io/acme/api:1.0",
        "--port",
        "8080",
        "--replicas",
        "2",
        "--env",
        "MODE=live",
        "--route",
        "default",
    ]);
    assert!(out.contains("nothing in the cluster yet"), "{out}");
    assert!(
        !s.kubectl("prod-eu1", &["-n", "payments-prod", "get", "deployment/checkout"])
            .status
            .success()
    );
    s.ok(&[
        "bind",
        "prod-eu1/payments-prod/checkout",
        "--to",
        "stage-eu1/shop-prod/pg:postgres",
    ]);
    // The plan, before anything is applied.
    let plan = s.ok(&["apps", "deploy", "prod-eu1/payments-prod/checkout", "--dry-run"]);
    assert!(
        plan.contains("kind: Deployment") && plan.contains("kind: Ingress"),
        "{plan}"
    );
    assert!(
        !s.kubectl("prod-eu1", &["-n", "payments-prod", "get", "deployment/checkout"])
            .status
            .success()
    );
    let out = s.ok(&[
        "apps",
        "deploy",
        "prod-eu1/payments-prod/checkout",
        "--wait",
        "--timeout",
        "60",
    ]);
    assert!(out.contains("deployment checkout") && out.contains("applied"), "{out}");
    assert!(out.contains("ready 2/2"), "deploy --wait waits for the rollout: {out}");

    // kubectl sees the Deployment, the Service and the Ingress with the right host.
    let host = "checkout-payments-prod.apps.prod-eu1.example.com";
    assert_eq!(
        s.jsonpath("prod-eu1", "payments-prod", "ingress/checkout", "{.spec.rules[0].host}"),
        host
    );
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "payments-prod",
            "ingress/checkout",
            "{.spec.tls[0].secretName}"
        ),
        "wildcard-tls"
    );
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "payments-prod",
            "ingress/checkout",
            "{.spec.ingressClassName}"
        ),
        "nginx"
    );
    assert_eq!(
        s.jsonpath("prod-eu1", "payments-prod", "service/checkout", "{.spec.ports[0].port}"),
        "8080"
    );
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "payments-prod",
            "deployment/checkout",
            "{.metadata.labels.app\\.kubernetes\\.io/managed-by}"
        ),
        "kdeck"
    );
    let env = s.jsonpath(
        "prod-eu1",
        "payments-prod",
        "deployment/checkout",
        "{.spec.template.spec.containers[0].env}",
    );
    let env: Vec<serde_json::Value> = serde_json::from_str(&env).unwrap();
    let get = |n: &str| env.iter().find(|e| e["name"] == n).cloned().unwrap_or_default();
    assert_eq!(get("MODE")["value"], "live");
    assert_eq!(get("PG_USER")["value"], "app");
    assert_eq!(
        get("PG_HOST")["value"],
        "pg-shop-prod.apps.stage-eu1.example.com",
        "the route across clusters"
    );
    assert_eq!(
        get("PG_URL")["value"],
        "https://pg-shop-prod.apps.stage-eu1.example.com"
    );
    assert_eq!(
        get("PG_PASSWORD")["valueFrom"]["secretKeyRef"]["name"],
        "pg-postgres-postgres-credentials"
    );
    assert!(
        get("KDECK_SERVICES")["value"]
            .as_str()
            .unwrap()
            .contains("\"postgres\"")
    );
    // The password was copied from the other cluster, never printed.
    let copied = s.jsonpath(
        "prod-eu1",
        "payments-prod",
        "secret/pg-postgres-postgres-credentials",
        "{.data.password}",
    );
    let original = s.jsonpath(
        "stage-eu1",
        "shop-prod",
        "secret/postgres-credentials",
        "{.data.password}",
    );
    assert_eq!(copied, original);
    assert!(!out.contains(&original));
    // And it becomes ready.
    s.until("2 ready replicas", Duration::from_secs(20), || {
        s.jsonpath(
            "prod-eu1",
            "payments-prod",
            "deployment/checkout",
            "{.status.readyReplicas}",
        ) == "2"
    });

    // The database's connector changes: the bound app is told it needs a restart.
    let out = s.ok(&[
        "apps",
        "edit",
        "stage-eu1/shop-prod/pg",
        "--connector",
        "postgres:user=admin,password=secret:postgres-credentials/password",
    ]);
    assert!(
        out.contains("prod-eu1/payments-prod/checkout") && out.contains("needs a restart: connector postgres changed"),
        "{out}"
    );
    let state = |s: &Setup| -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&s.ok(&["apps", "show", "prod-eu1/payments-prod/checkout", "-o", "json"])).unwrap();
        v["state"].clone()
    };
    assert_eq!(state(&s)["needs_restart"], true);
    s.ok(&["apps", "deploy", "prod-eu1/payments-prod/checkout"]);
    let env = s.jsonpath(
        "prod-eu1",
        "payments-prod",
        "deployment/checkout",
        "{.spec.template.spec.containers[0].env}",
    );
    assert!(env.contains("\"admin\""), "the new value is applied: {env}");

    // Scale, restart, stop and start, each seen in the cluster.
    s.ok(&["apps", "scale", "prod-eu1/payments-prod/checkout", "3"]);
    assert_eq!(
        s.jsonpath("prod-eu1", "payments-prod", "deployment/checkout", "{.spec.replicas}"),
        "3"
    );
    s.ok(&["apps", "restart", "prod-eu1/payments-prod/checkout"]);
    assert_eq!(state(&s)["needs_restart"], false);
    assert!(
        s.jsonpath(
            "prod-eu1",
            "payments-prod",
            "deployment/checkout",
            "{.spec.template.metadata.annotations}"
        )
        .contains("kdeck.dev/restartedAt")
    );
    s.ok(&["apps", "stop", "prod-eu1/payments-prod/checkout"]);
    assert_eq!(
        s.jsonpath("prod-eu1", "payments-prod", "deployment/checkout", "{.spec.replicas}"),
        "0"
    );
    s.ok(&["apps", "start", "prod-eu1/payments-prod/checkout"]);
    assert_eq!(
        s.jsonpath("prod-eu1", "payments-prod", "deployment/checkout", "{.spec.replicas}"),
        "3"
    );

    // Delete asks first; then the objects go, and --purge forgets the settings.
    s.fails(&["apps", "delete", "prod-eu1/payments-prod/checkout"], 2, "pass --yes");
    s.ok(&["apps", "delete", "prod-eu1/payments-prod/checkout", "--yes", "--purge"]);
    s.until("the deployment gone", Duration::from_secs(10), || {
        !s.kubectl("prod-eu1", &["-n", "payments-prod", "get", "deployment/checkout"])
            .status
            .success()
    });
    assert!(
        !s.kubectl("prod-eu1", &["-n", "payments-prod", "get", "ingress/checkout"])
            .status
            .success()
    );
    s.fails(
        &["apps", "show", "prod-eu1/payments-prod/checkout"],
        1,
        "kdeck has no settings for app prod-eu1/payments-prod/checkout",
    );
}

#[test]
fn bad_input_is_said_and_journalled() {
    let s = Setup::new();
    s.fails(
        &["apps", "create", "prod-eu1/shop-prod/Web_1", "--image", "nginx"],
        1,
        "try \"web-1\"",
    );
    s.fails(
        &[
            "apps",
            "create",
            "prod-eu1/shop-prod/web2",
            "--image",
            "nginx",
            "--port",
            "0",
        ],
        1,
        "port",
    );
    s.fails(
        &[
            "apps",
            "create",
            "prod-eu1/shop-prod/web2",
            "--image",
            "nginx",
            "--env",
            "JUSTNAME",
        ],
        1,
        "must be NAME=VALUE",
    );
    s.fails(
        &[
            "apps",
            "create",
            "prod-eu1/shop-prod/web2",
            "--image",
            "nginx",
            "--port",
            "80",
            "--route",
            "default",
        ],
        1,
        "kdeck domains add prod-eu1 SUFFIX",
    );
    s.fails(
        &["apps", "create", "nowhere/shop-prod/web2", "--image", "nginx"],
        2,
        "no cluster named \"nowhere\"",
    );
    s.ok(&[
        "apps",
        "create",
        "prod-eu1/shop-prod/web2",
        "--image",
        "nginx",
        "--port",
        "80",
    ]);
    s.fails(
        &["bind", "prod-eu1/shop-prod/web2", "--to", "prod-eu1/shop-prod/ghost:db"],
        1,
        "binding target prod-eu1/shop-prod/ghost: kdeck has no settings for it",
    );
    s.fails(
        &["bind", "prod-eu1/shop-prod/web2", "--to", "nocolon"],
        2,
        "CLUSTER/SPACE/APP:CONNECTOR",
    );
    // A host another Ingress in the cluster serves already: deploy refuses, naming it.
    s.ok(&[
        "routes",
        "add",
        "prod-eu1/shop-prod/web2",
        "--host",
        "web-shop-prod.apps.prod-eu1.example.com",
    ]);
    s.fails(
        &["apps", "deploy", "prod-eu1/shop-prod/web2"],
        1,
        "is already served by ingress shop-prod/web on cluster prod-eu1",
    );
    // An image the cluster cannot pull: the rollout is watched, and fails
    // with the pod's reason, in the output and in the journal.
    s.ok(&[
        "apps",
        "create",
        "prod-eu1/shop-prod/broken",
        "--image",
        "ghcr.io/acme/app:unpullable",
        "--port",
        "80",
    ]);
    let out = s.kdeck(&[
        "apps",
        "deploy",
        "prod-eu1/shop-prod/broken",
        "--wait",
        "--timeout",
        "30",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rollout") && text.contains("cannot start: ImagePullBackOff"),
        "{text}"
    );
    let failed = s.ok(&["history", "--failed", "-o", "json"]);
    assert!(failed.contains("ImagePullBackOff"), "{failed}");
    let entries: Vec<serde_json::Value> = serde_json::from_str(&failed).unwrap();
    assert!(entries.iter().any(|e| e["command"]["type"] == "deploy_app"), "{failed}");
    assert!(entries.iter().any(|e| e["command"]["type"] == "create_app"), "{failed}");
}

#[test]
fn drift_after_an_out_of_band_scale_then_reconcile_and_adopting_an_app() {
    let s = Setup::new();
    s.ok(&["domains", "add", "prod-eu1", "apps.prod-eu1.example.com"]);
    s.ok(&[
        "apps",
        "create",
        "prod-eu1/shop-prod/shop",
        "--image",
        "nginx:1.27",
        "--port",
        "80",
        "--route",
        "default",
    ]);
    let drift = |s: &Setup| -> Vec<serde_json::Value> {
        serde_json::from_str(&s.ok(&["apps", "status", "prod-eu1/shop-prod/shop", "-o", "json"])).unwrap()
    };
    // Before the first deploy, every object would be created.
    let plan = s.ok(&["apps", "deploy", "prod-eu1/shop-prod/shop", "--dry-run"]);
    assert!(plan.contains("create") && plan.contains("kind: Deployment"), "{plan}");
    assert!(drift(&s).iter().all(|d| d["action"] == "create"));
    s.ok(&["apps", "deploy", "prod-eu1/shop-prod/shop"]);
    assert!(drift(&s).iter().all(|d| d["action"] == "unchanged"), "{:?}", drift(&s));
    // Someone scales it with kubectl: kdeck sees the drift, field by field.
    let out = s.kubectl(
        "prod-eu1",
        &["-n", "shop-prod", "scale", "deployment/shop", "--replicas", "5"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let d = drift(&s);
    let w = d.iter().find(|d| d["object"] == "deployment shop").unwrap();
    assert_eq!(w["action"], "update");
    assert_eq!(w["changes"][0]["path"], "spec.replicas");
    assert_eq!(
        (w["changes"][0]["ours"].as_str(), w["changes"][0]["cluster"].as_str()),
        (Some("1"), Some("5"))
    );
    let table = s.ok(&["apps", "status", "prod-eu1/shop-prod/shop"]);
    assert!(table.contains("spec.replicas") && table.contains("update"), "{table}");
    // Reconcile: deploy puts the stored settings back.
    s.ok(&["apps", "deploy", "prod-eu1/shop-prod/shop"]);
    let after = drift(&s);
    assert!(after.iter().all(|d| d["action"] == "unchanged"), "{after:?}");

    // A second route, then removed: deploy drops its Ingress.
    s.ok(&["routes", "add", "prod-eu1/shop-prod/shop", "--host", "shop.example.com"]);
    s.ok(&["apps", "deploy", "prod-eu1/shop-prod/shop"]);
    let names = |s: &Setup| {
        let out = s.kubectl(
            "prod-eu1",
            &[
                "-n",
                "shop-prod",
                "get",
                "ingress",
                "-l",
                "app.kubernetes.io/name=shop",
                "-o",
                "name",
            ],
        );
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(names(&s), 2, "one own Ingress per route");
    s.fails(
        &["routes", "remove", "prod-eu1/shop-prod/shop", "nope.example.com"],
        1,
        "has no route nope.example.com",
    );
    s.ok(&["routes", "remove", "prod-eu1/shop-prod/shop", "shop.example.com"]);
    let out = s.ok(&["apps", "deploy", "prod-eu1/shop-prod/shop"]);
    assert!(out.contains("deleted (its route was removed)"), "{out}");
    assert_eq!(names(&s), 1);
    s.ok(&["domains", "remove", "prod-eu1", "apps.prod-eu1.example.com"]);
    s.fails(
        &["domains", "remove", "prod-eu1", "apps.prod-eu1.example.com"],
        1,
        "no domain",
    );

    // An app kdeck did not create, adopted with its route.
    s.ok(&["apps", "adopt", "prod-eu1/shop-prod/web"]);
    let shown: serde_json::Value =
        serde_json::from_str(&s.ok(&["apps", "show", "prod-eu1/shop-prod/web", "-o", "json"])).unwrap();
    assert!(
        shown["settings"]["image"]
            .as_str()
            .unwrap()
            .starts_with("ghcr.io/acme/web:"),
        "{shown}"
    );
    assert_eq!(shown["settings"]["ports"][0]["port"], 8080);
    assert_eq!(shown["routes"][0]["host"], "web-shop-prod.apps.prod-eu1.example.com");
    s.fails(&["apps", "adopt", "prod-eu1/shop-prod/web"], 1, "is stored already");
    s.fails(
        &["apps", "adopt", "prod-eu1/shop-prod/ghost"],
        1,
        "no Deployment or StatefulSet ghost",
    );
    // Managed from now on: scaling it goes through kdeck.
    s.ok(&["apps", "scale", "prod-eu1/shop-prod/web", "4"]);
    assert_eq!(
        s.jsonpath("prod-eu1", "shop-prod", "deployment/web", "{.spec.replicas}"),
        "4"
    );
}

#[test]
fn overrides_reach_the_cluster_and_sync_says_draft_synced_pending_drift() {
    let s = Setup::new();
    let app = "prod-eu1/shop-prod/api2";
    let sync = |s: &Setup| -> String {
        let shown: serde_json::Value = serde_json::from_str(&s.ok(&["apps", "show", app, "-o", "json"])).unwrap();
        shown["sync"].as_str().unwrap_or("").to_string()
    };
    s.ok(&["apps", "create", app, "--image", "nginx:1.27", "--port", "80"]);
    assert_eq!(sync(&s), "draft");
    s.ok(&["apps", "deploy", app]);
    assert_eq!(sync(&s), "synced");
    assert!(s.ok(&["apps", "show", app]).starts_with(&format!("# {app}: synced")));

    // Overrides: what kdeck's fields do not cover, merged by name.
    let file = s.dir.path().join("overrides.yaml");
    std::fs::write(
        &file,
        "spec:\n  template:\n    spec:\n      nodeSelector:\n        disk: ssd\n      containers:\n        - name: api2\n          env:\n            - name: EXTRA\n              value: \"1\"\n",
    )
    .unwrap();
    s.ok(&["apps", "edit", app, "--overrides", file.to_str().unwrap()]);
    assert_eq!(sync(&s), "pending", "settings changed, not deployed");
    s.ok(&["apps", "deploy", app]);
    assert_eq!(sync(&s), "synced");
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "shop-prod",
            "deployment/api2",
            "{.spec.template.spec.nodeSelector.disk}"
        ),
        "ssd"
    );
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "shop-prod",
            "deployment/api2",
            "{.spec.template.spec.containers[0].env[?(@.name==\"EXTRA\")].value}"
        ),
        "1"
    );
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "shop-prod",
            "deployment/api2",
            "{.spec.template.spec.containers[0].image}"
        ),
        "nginx:1.27",
        "kdeck's own fields stay"
    );

    // Bad overrides are refused before anything is stored.
    for (text, says) in [
        (
            "spec:\n  replicas: many\n",
            "overrides spec.replicas: invalid type: string \"many\"",
        ),
        (
            "spec:\n  selector:\n    matchLabels: {x: y}\n",
            "\"spec.selector\": is set by kdeck and cannot be overridden",
        ),
        ("- a list\n", "must be a mapping"),
    ] {
        std::fs::write(&file, text).unwrap();
        s.fails(&["apps", "edit", app, "--overrides", file.to_str().unwrap()], 1, says);
    }
    // Not YAML at all: unreadable input (2), said with the file and line, and
    // not journalled (the text may hold secrets).
    std::fs::write(&file, "spec: [unclosed\n").unwrap();
    s.fails(
        &["apps", "edit", app, "--overrides", file.to_str().unwrap()],
        2,
        &format!("{}:1:7: unclosed bracket", file.display()),
    );
    s.fails(
        &["apps", "edit", app, "--overrides", "/nonexistent/o.yaml"],
        2,
        "--overrides /nonexistent/o.yaml: cannot read it",
    );
    assert_eq!(sync(&s), "synced", "nothing changed by the refused edits");

    // Out-of-band scale: drift. Adopting the cluster's version makes it kdeck's.
    let out = s.kubectl(
        "prod-eu1",
        &["-n", "shop-prod", "scale", "deployment/api2", "--replicas", "3"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sync(&s), "drift");
    s.ok(&["apps", "adopt", app, "--replace"]);
    assert_eq!(sync(&s), "synced");
    let shown: serde_json::Value = serde_json::from_str(&s.ok(&["apps", "show", app, "-o", "json"])).unwrap();
    assert_eq!(shown["settings"]["replicas"], 3);
    assert_eq!(
        shown["settings"]["overrides"]["spec"]["template"]["spec"]["nodeSelector"]["disk"], "ssd",
        "adopting keeps what adopt does not read"
    );
    // Scale through kdeck keeps it in sync; dropping the overrides is pending until deployed.
    s.ok(&["apps", "scale", app, "2"]);
    assert_eq!(sync(&s), "synced");
    s.ok(&["apps", "edit", app, "--clear-overrides"]);
    assert_eq!(sync(&s), "pending");
    s.ok(&["apps", "deploy", app]);
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "shop-prod",
            "deployment/api2",
            "{.spec.template.spec.nodeSelector}"
        ),
        "",
        "server-side apply drops what kdeck no longer sets"
    );
}

/// The script in the README, run as written by bash against the simulator:
/// the "done when" of the apps issue, from the CLI.
#[test]
fn readme_script() {
    let s = Setup::new();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = readme
        .split("The same flow as the cockpit's, in a script")
        .nth(1)
        .unwrap();
    let script = after.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kdeck")).parent().unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("KDECK_DATA_DIR", s.dir.path().join("data"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.trim_end().ends_with("synced: the cluster runs kdeck's settings"),
        "{stdout}"
    );
    // The database's volume: a claim template per pod, mounted where asked.
    assert_eq!(
        s.jsonpath(
            "stage-eu1",
            "shop-prod",
            "statefulset/pg",
            "{.spec.volumeClaimTemplates[0].spec.resources.requests.storage} {.spec.template.spec.containers[0].volumeMounts[0].mountPath}"
        ),
        "1Gi /var/lib/postgresql/data"
    );
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "shop-prod",
            "deployment/shop",
            "{.spec.template.spec.containers[0].env[?(@.name==\"PG_HOST\")].value}"
        ),
        "pg-shop-prod.apps.stage-eu1.example.com",
        "bound across clusters through the database's route"
    );
    assert_eq!(
        s.jsonpath("prod-eu1", "shop-prod", "deployment/shop", "{.status.readyReplicas}"),
        "1"
    );
}

/// An app that runs in the cluster but that kdeck has no settings for:
/// scale, restart and delete act on its workload, as kubectl would; what
/// needs settings (stop, bind) says to adopt it, not to create it.
#[test]
fn apps_kdeck_does_not_manage_are_scaled_restarted_and_deleted_in_the_cluster() {
    let s = Setup::new();
    let web = "prod-eu1/shop-prod/web";
    let out = s.ok(&["apps", "scale", web, "3"]);
    assert!(out.contains("apps adopt"), "{out}");
    s.until("3 replicas", Duration::from_secs(10), || {
        s.jsonpath("prod-eu1", "shop-prod", "deployment/web", "{.spec.replicas}") == "3"
    });
    s.ok(&["apps", "restart", web]);
    let at = s.jsonpath(
        "prod-eu1",
        "shop-prod",
        "deployment/web",
        "{.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
    );
    assert!(at.starts_with("20"), "restartedAt: {at:?}");
    s.fails(&["apps", "stop", web], 1, &format!("kdeck apps adopt {web}"));
    s.fails(
        &["bind", web, "--to", "prod-eu1/shop-prod/api:db"],
        1,
        &format!("kdeck apps adopt {web}"),
    );
    s.fails(
        &["apps", "scale", "prod-eu1/shop-prod/ghost", "2"],
        1,
        "kdeck apps create",
    );
    s.ok(&["apps", "delete", web, "--yes"]);
    let gone = s.kubectl("prod-eu1", &["-n", "shop-prod", "get", "deployment", "web"]);
    assert!(!gone.status.success(), "the Deployment is gone");
    let svc = s.kubectl("prod-eu1", &["-n", "shop-prod", "get", "service", "web"]);
    assert!(svc.status.success(), "the Service kdeck did not make stays");
    // Nothing was stored for it.
    s.fails(&["apps", "show", web], 1, "apps adopt");
}
