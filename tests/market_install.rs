//! Charts from a catalog served by the test over HTTP, installed on the
//! clusters a label selector chooses, recorded in Helm's own release
//! Secrets (decoded here), upgraded, rolled back and uninstalled; a
//! placement applied again after another cluster is labelled; bad input
//! refused with the reason. And a two-app solution with a binding, saved
//! and installed on another cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::Setup;
use common::charts::{package, write_chart, write_chart_v2};
use common::http::serve;
use kdeck_command::releases::{HelmRelease, decode};
use kdeck_sim::{FleetSize, SimOptions};

fn setup() -> Setup {
    Setup::with(SimOptions {
        clusters: 3,
        fleet: FleetSize::Small,
        ..Default::default()
    })
}

/// The release record of `sh.helm.release.v1.NAME.vN` on a cluster, decoded; None when absent.
fn record(s: &Setup, ctx: &str, ns: &str, name: &str, v: u32) -> Option<HelmRelease> {
    let out = s.kubectl(
        ctx,
        &[
            "-n",
            ns,
            "get",
            "secret",
            &format!("sh.helm.release.v1.{name}.v{v}"),
            "-o",
            "json",
        ],
    );
    if !out.status.success() {
        return None;
    }
    let secret: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(secret["type"], "helm.sh/release.v1");
    assert_eq!(secret["metadata"]["labels"]["owner"], "helm");
    use base64::Engine;
    let once = base64::engine::general_purpose::STANDARD
        .decode(secret["data"]["release"].as_str().unwrap())
        .unwrap();
    let r = decode(&once).unwrap();
    assert_eq!(secret["metadata"]["labels"]["status"], r.info.status.as_str());
    assert_eq!(secret["metadata"]["labels"]["version"], r.version.to_string());
    Some(r)
}

fn exists(s: &Setup, ctx: &str, ns: &str, what: &str) -> bool {
    s.kubectl(ctx, &["-n", ns, "get", what]).status.success()
}

/// A catalog of two web versions and an `api` chart, on a loopback server.
fn catalog(s: &Setup) -> common::http::Routes {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let d3 = tempfile::tempdir().unwrap();
    let (v1, sum1) = package(&write_chart(d1.path()), "web", "1.0.0");
    let (v2, sum2) = package(&write_chart_v2(d2.path()), "web", "1.1.0");
    let api = write_chart(d3.path());
    std::fs::write(api.join("Chart.yaml"), "apiVersion: v2\nname: api\nversion: 0.1.0\n").unwrap();
    let (v3, sum3) = package(&api, "api", "0.1.0");
    let index = format!(
        "apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 1.0.0\n    appVersion: \"1.27\"\n    description: A web server\n    urls: [web-1.0.0.tgz]\n    digest: {sum1}\n  - name: web\n    version: 1.1.0\n    appVersion: \"1.28\"\n    description: A web server\n    urls: [web-1.1.0.tgz]\n    digest: {sum2}\n  - name: web\n    version: 0.9.0\n    description: A web server, tampered with\n    urls: [web-1.0.0.tgz]\n    digest: {}\n  api:\n  - name: api\n    version: 0.1.0\n    urls: [api-0.1.0.tgz]\n    digest: {sum3}\n",
        "0".repeat(64)
    );
    let routes = Arc::new(Mutex::new(vec![
        ("/charts/index.yaml".to_string(), 200, String::new(), index.into_bytes()),
        ("/charts/web-1.0.0.tgz".to_string(), 200, String::new(), v1),
        ("/charts/web-1.1.0.tgz".to_string(), 200, String::new(), v2),
        ("/charts/api-0.1.0.tgz".to_string(), 200, String::new(), v3),
    ]));
    let port = serve(routes.clone());
    s.ok(&["catalogs", "add", "demo", &format!("http://127.0.0.1:{port}/charts")]);
    routes
}

#[test]
fn charts_are_installed_upgraded_rolled_back_and_uninstalled_across_clusters() {
    let s = setup();
    let _routes = catalog(&s);
    s.ok(&["clusters", "label", "prod-eu1", "tier=prod"]);
    s.ok(&["clusters", "label", "stage-eu1", "tier=stage"]);
    s.ok(&["clusters", "label", "dev-eu1", "tier=dev"]);

    // Install on the stage clusters: one line per cluster, a release Secret as Helm writes it.
    let out = s.kdeck(&[
        "market",
        "install",
        "web",
        "--name",
        "shop",
        "--namespace",
        "shop-web",
        "--clusters",
        "tier in (stage)",
        "--set",
        "replicas=2",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("1 cluster(s) match"), "{err}");
    assert!(
        err.contains("market install: [1/1] stage-eu1 installed: revision 1, web 1.1.0"),
        "{err}"
    );
    let r = record(&s, "stage-eu1", "shop-web", "shop", 1).expect("revision 1");
    assert_eq!((r.info.status.as_str(), r.version), ("deployed", 1));
    assert_eq!(r.chart.as_ref().unwrap().metadata.version, "1.1.0");
    assert_eq!(r.config, Some(serde_json::json!({"replicas": 2})));
    assert_eq!(
        s.jsonpath("stage-eu1", "shop-web", "deployment/shop", "{.spec.replicas}"),
        "2"
    );
    assert_eq!(
        s.jsonpath(
            "stage-eu1",
            "shop-web",
            "deployment/shop",
            "{.metadata.annotations.meta\\.helm\\.sh/release-name}"
        ),
        "shop"
    );
    assert!(record(&s, "prod-eu1", "shop-web", "shop", 1).is_none());

    // Pinned to 1.0.0 instead: an upgrade to an older version, as helm allows.
    s.ok(&[
        "market",
        "install",
        "web@1.0.0",
        "--name",
        "shop",
        "--namespace",
        "shop-web",
        "--clusters",
        "tier=stage",
        "--set",
        "replicas=2",
    ]);
    assert_eq!(
        record(&s, "stage-eu1", "shop-web", "shop", 1).unwrap().info.status,
        "superseded"
    );
    assert!(exists(&s, "stage-eu1", "shop-web", "configmap/shop-settings"));
    // A rerun changes nothing: no revision 3.
    let said = s.ok(&[
        "market",
        "install",
        "web@1.0.0",
        "--name",
        "shop",
        "--namespace",
        "shop-web",
        "--clusters",
        "tier=stage",
        "--set",
        "replicas=2",
    ]);
    assert!(said.contains("unchanged: revision 2 is 1.0.0"), "{said}");
    assert!(record(&s, "stage-eu1", "shop-web", "shop", 3).is_none());

    // The placement: a cluster labelled later gets it on `placements apply`.
    let list = s.ok(&["placements", "list"]);
    assert!(
        list.contains("shop-web/shop") && list.contains("1.0.0") && list.contains("stage-eu1"),
        "{list}"
    );
    s.ok(&["clusters", "label", "dev-eu1", "tier=stage"]);
    // The first try fails on dev-eu1 (its Service refused once): said, recorded failed.
    s.handles[2].set_faults(kdeck_sim::Faults {
        fail: vec![kdeck_sim::FailRule {
            path: "/services/shop".into(),
            code: 500,
            times: 1,
        }],
        ..Default::default()
    });
    let out = s.kdeck(&["placements", "apply"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("shop-web/shop on dev-eu1") && said.contains("revision 1 failed"),
        "{said}"
    );
    assert!(
        said.contains("shop-web/shop on stage-eu1") && said.contains("unchanged"),
        "{said}"
    );
    assert_eq!(
        record(&s, "dev-eu1", "shop-web", "shop", 1).unwrap().info.status,
        "failed"
    );
    // Again: only what failed is done.
    let said = s.ok(&["placements", "apply"]);
    assert!(said.contains("installed: revision 2"), "{said}");
    assert_eq!(
        record(&s, "dev-eu1", "shop-web", "shop", 2).unwrap().info.status,
        "deployed"
    );
    assert_eq!(
        record(&s, "dev-eu1", "shop-web", "shop", 1).unwrap().info.status,
        "failed"
    );

    // Upgrade everywhere it is: 1.1.0 drops the ConfigMap, which goes.
    let said = s.ok(&["releases", "upgrade", "shop-web/shop", "--version", "1.1.0"]);
    assert!(said.matches("upgraded: revision 3").count() == 2, "{said}");
    assert!(said.contains("1 object(s) of the last revision deleted"), "{said}");
    assert!(!exists(&s, "stage-eu1", "shop-web", "configmap/shop-settings"));
    assert_eq!(
        record(&s, "stage-eu1", "shop-web", "shop", 2).unwrap().info.status,
        "superseded"
    );
    // The values were kept: still 2 replicas.
    assert_eq!(
        s.jsonpath("dev-eu1", "shop-web", "deployment/shop", "{.spec.replicas}"),
        "2"
    );

    // Rollback on one cluster to revision 2 (1.0.0): recorded as revision 4.
    s.ok(&["releases", "rollback", "stage-eu1/shop-web/shop", "--to", "2"]);
    let r4 = record(&s, "stage-eu1", "shop-web", "shop", 4).unwrap();
    assert_eq!(
        (
            r4.info.status.as_str(),
            r4.info.description.as_str(),
            r4.chart.unwrap().metadata.version.as_str()
        ),
        ("deployed", "Rollback to 2", "1.0.0")
    );
    assert!(exists(&s, "stage-eu1", "shop-web", "configmap/shop-settings"));
    let rows: serde_json::Value = serde_json::from_str(&s.ok(&["releases", "list", "-o", "json"])).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let stage = rows.iter().find(|r| r["cluster"] == "stage-eu1").unwrap();
    assert_eq!(
        (stage["revision"].as_u64(), stage["version"].as_str()),
        (Some(4), Some("1.0.0"))
    );
    let history = s.ok(&["releases", "history", "stage-eu1/shop-web/shop"]);
    assert!(
        history.contains("Rollback to 2") && history.contains("superseded"),
        "{history}"
    );

    // Bad input: said, nothing changed.
    s.fails(
        &[
            "market",
            "install",
            "web@9.9.9",
            "--name",
            "x",
            "--namespace",
            "x",
            "--clusters",
            "tier=stage",
        ],
        1,
        "chart web has no version 9.9.9 in catalog demo; it has 1.1.0, 1.0.0, 0.9.0",
    );
    s.fails(
        &[
            "market",
            "install",
            "web",
            "--name",
            "x",
            "--namespace",
            "x",
            "--clusters",
            "tier=gold",
        ],
        2,
        "no cluster matches --clusters \"tier=gold\"",
    );
    s.fails(
        &[
            "market",
            "install",
            "web@0.9.0",
            "--name",
            "x",
            "--namespace",
            "x",
            "--clusters",
            "tier=stage",
        ],
        1,
        "the index says 0000",
    );
    s.fails(
        &[
            "market",
            "install",
            "web",
            "--name",
            "x",
            "--namespace",
            "x",
            "--clusters",
            "tier=stage",
            "--set",
            "image=null",
        ],
        1,
        "image is required",
    );
    s.fails(
        &[
            "market",
            "install",
            "api",
            "--name",
            "shop",
            "--namespace",
            "shop-web",
            "--clusters",
            "tier=stage",
        ],
        1,
        "release shop in shop-web is chart web, not api: choose another --name",
    );
    assert!(!exists(&s, "stage-eu1", "x", "deployment/x"));

    // Uninstall: asked first; then objects, history and placement go.
    s.fails(&["releases", "uninstall", "shop-web/shop"], 1, "confirm with --yes");
    let said = s.ok(&["releases", "uninstall", "shop-web/shop", "--yes"]);
    assert!(said.contains("uninstalled: 3 object(s) deleted"), "{said}");
    assert!(!exists(&s, "stage-eu1", "shop-web", "deployment/shop"));
    assert!(record(&s, "dev-eu1", "shop-web", "shop", 1).is_none());
    assert!(!s.ok(&["placements", "list"]).contains("shop-web/shop"));
    let journal = s.ok(&["history"]);
    for verb in [
        "market install",
        "releases upgrade",
        "releases rollback",
        "releases uninstall",
        "placements apply",
    ] {
        assert!(journal.contains(verb), "{verb}: {journal}");
    }
}

#[test]
fn a_solution_of_two_bound_apps_installs_on_another_cluster() {
    let s = setup();
    for c in ["prod-eu1", "stage-eu1"] {
        s.ok(&["domains", "add", c, &format!("apps.{c}.example.com")]);
    }
    s.ok(&["spaces", "create", "prod-eu1/shop"]);
    s.ok(&["secrets", "set", "prod-eu1/shop/db-credentials", "password=s3cret"]);
    s.ok(&["config", "set", "prod-eu1/shop/web-settings", "GREETING=hi"]);
    s.ok(&[
        "apps",
        "create",
        "prod-eu1/shop/db",
        "--image",
        "postgres:16",
        "--stateful",
        "--port",
        "5432",
        "--volume",
        "data:1Gi",
        "--connector",
        "postgres:user=app,password=secret:db-credentials/password",
    ]);
    s.ok(&[
        "apps",
        "create",
        "prod-eu1/shop/web",
        "--image",
        "nginx:1.27",
        "--port",
        "80",
        "--route",
        "default",
    ]);
    s.ok(&[
        "apps",
        "edit",
        "prod-eu1/shop/web",
        "--env-from",
        "GREETING=configmap:web-settings/GREETING",
    ]);
    s.ok(&["bind", "prod-eu1/shop/web", "--to", "prod-eu1/shop/db:postgres"]);
    s.ok(&["apps", "deploy", "prod-eu1/shop/db"]);
    s.ok(&["apps", "deploy", "prod-eu1/shop/web"]);

    // Saved from the space: both apps, the route, the binding, the ConfigMap's data, the Secret's keys.
    s.ok(&[
        "solutions",
        "save",
        "prod-eu1/shop",
        "--name",
        "shop",
        "--description",
        "web and its database",
    ]);
    let list = s.ok(&["solutions", "list"]);
    assert!(
        list.contains("shop") && list.contains("db,web") && list.contains("web and its database"),
        "{list}"
    );
    let found = s.ok(&["market", "search", "shop"]);
    assert!(found.contains("shop") && found.contains("solution"), "{found}");
    let text = s.ok(&["export", "prod-eu1/shop/web", "--solution"]);
    assert!(
        text.contains("web-settings") && text.contains("GREETING: hi") && !text.contains("s3cret"),
        "{text}"
    );

    // Installed in a new space on another cluster.
    let said = s.ok(&["market", "install", "shop", "--to", "stage-eu1/shop-copy"]);
    assert!(said.contains("stage-eu1/shop-copy: deploy db"), "{said}");
    assert!(said.contains("1 key(s) made with new random values"), "{said}");
    let env = s.jsonpath(
        "stage-eu1",
        "shop-copy",
        "deployment/web",
        "{.spec.template.spec.containers[0].env[*].name}",
    );
    assert!(
        env.contains("GREETING") && env.contains("DB_USER") && env.contains("DB_PASSWORD"),
        "{env}"
    );
    assert_eq!(
        s.jsonpath("stage-eu1", "shop-copy", "configmap/web-settings", "{.data.GREETING}"),
        "hi"
    );
    let pw = s.jsonpath("stage-eu1", "shop-copy", "secret/db-credentials", "{.data.password}");
    assert!(
        !pw.is_empty() && pw != "czNjcmV0",
        "a new password, not the source's: {pw}"
    );
    let hosts = s.jsonpath("stage-eu1", "shop-copy", "ingress", "{.items[*].spec.rules[*].host}");
    assert!(hosts.contains("web-shop-copy.apps.stage-eu1.example.com"), "{hosts}");
    assert!(exists(&s, "stage-eu1", "shop-copy", "statefulset/db"));
    // On every cluster a selector chooses, in a namespace: dev-eu1 has no
    // domain, so its route is refused there (said), and the apps still run.
    s.ok(&["clusters", "label", "dev-eu1", "tier=dev"]);
    let out = s.kdeck(&[
        "market",
        "install",
        "shop",
        "--clusters",
        "tier=dev",
        "--namespace",
        "shop-two",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("dev-eu1/shop-two: route of web") && said.contains("has no domain"),
        "{said}"
    );
    assert!(exists(&s, "dev-eu1", "shop-two", "deployment/web") && exists(&s, "dev-eu1", "shop-two", "statefulset/db"));
    // A rerun keeps what is there.
    let again = s.ok(&["market", "install", "shop", "--to", "stage-eu1/shop-copy"]);
    assert!(
        again.contains("stored already, kept") && again.contains("there, kept as it is"),
        "{again}"
    );
    assert_eq!(
        s.jsonpath("stage-eu1", "shop-copy", "secret/db-credentials", "{.data.password}"),
        pw
    );
}
