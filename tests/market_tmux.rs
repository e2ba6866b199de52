//! The marketplace end to end in a real terminal: a new user adds a
//! catalog, finds a chart as they type, installs it on every cluster
//! labelled tier=stage, sees its releases across the fleet with their
//! status, upgrades and rolls back; then saves an app with its database as
//! a solution and installs it in a space on another cluster from the
//! marketplace. kubectl checks the clusters after each step. And `kdeck
//! demo` serves a catalog of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Setup;
use common::charts::{package, write_chart, write_chart_v2};
use common::http::serve;
use common::tmux::{Tmux, bin, sh_quote};
use kdeck_sim::{FleetSize, SimOptions};

/// Waits for the command `verb` to end (its toast on the last line), and
/// fails the test with the screen when it failed.
fn ended(t: &Tmux, verb: &str) -> String {
    let x = t.wait_for(verb, Duration::from_secs(40), |x| {
        x.lines()
            .last()
            .is_some_and(|l| l.contains(&format!(" {verb}: ")) || l.contains(&format!(" {verb} failed")))
    });
    let last = x.lines().last().unwrap_or_default();
    assert!(!last.contains(&format!("{verb} failed")), "{x}");
    x
}

fn revision(s: &Setup, ctx: &str) -> String {
    s.jsonpath(
        ctx,
        "web",
        "secrets",
        "{range .items[?(@.metadata.labels.status==\"deployed\")]}{.metadata.labels.version}{end}",
    )
}

#[test]
fn a_new_user_installs_from_the_marketplace_in_the_cockpit() {
    let s = Setup::with(SimOptions {
        clusters: 3,
        fleet: FleetSize::Small,
        ..Default::default()
    });
    s.ok(&["clusters", "label", "prod-eu1", "tier=prod"]);
    s.ok(&["clusters", "label", "stage-eu1", "tier=stage"]);
    s.ok(&["clusters", "label", "dev-eu1", "tier=stage"]);
    // The catalog: web 1.0.0 and 1.1.0, served by the test.
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let (v1, sum1) = package(&write_chart(d1.path()), "web", "1.0.0");
    let (v2, sum2) = package(&write_chart_v2(d2.path()), "web", "1.1.0");
    let index = format!(
        "apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 1.0.0\n    description: A web server of the tests\n    urls: [web-1.0.0.tgz]\n    digest: {sum1}\n  - name: web\n    version: 1.1.0\n    description: A web server of the tests\n    urls: [web-1.1.0.tgz]\n    digest: {sum2}\n"
    );
    let port = serve(Arc::new(Mutex::new(vec![
        ("/charts/index.yaml".to_string(), 200, String::new(), index.into_bytes()),
        ("/charts/web-1.0.0.tgz".to_string(), 200, String::new(), v1),
        ("/charts/web-1.1.0.tgz".to_string(), 200, String::new(), v2),
    ])));
    // An app with its database on prod-eu1, for the solution.
    s.ok(&["domains", "add", "stage-eu1", "apps.stage-eu1.example.com"]);
    s.ok(&["spaces", "create", "prod-eu1/shop"]);
    s.ok(&["secrets", "set", "prod-eu1/shop/db-credentials", "password=s3cret"]);
    s.ok(&[
        "apps",
        "create",
        "prod-eu1/shop/db",
        "--image",
        "postgres:16",
        "--port",
        "5432",
        "--connector",
        "postgres:user=app,password=secret:db-credentials/password",
    ]);
    s.ok(&[
        "apps",
        "create",
        "prod-eu1/shop/shop",
        "--image",
        "nginx:1.27",
        "--port",
        "80",
    ]);
    s.ok(&["bind", "prod-eu1/shop/shop", "--to", "prod-eu1/shop/db:postgres"]);

    let t = Tmux::new("market");
    t.start(&format!(
        "KDECK_HELM={} KDECK_CONFIG_DIR={} {} --data-dir {}; sleep 30",
        sh_quote(&common::charts::helm().0),
        sh_quote(t.config.path()),
        bin(),
        sh_quote(&s.dir.path().join("data"))
    ));
    t.wait_for("the clusters live", Duration::from_secs(30), |x| x.contains("3 live"));
    // The marketplace, empty; a catalog added from it.
    t.keys(&["M"]);
    t.wait_for("the marketplace", Duration::from_secs(10), |x| {
        x.contains("no catalogs yet")
    });
    t.keys(&["C-a"]);
    t.wait_for("the catalog form", Duration::from_secs(5), |x| {
        x.contains("add a catalog")
    });
    t.text("tests");
    t.keys(&["Tab"]);
    t.text(&format!("http://127.0.0.1:{port}/charts"));
    t.keys(&["Enter"]);
    ended(&t, "catalogs add");
    // Found as typed; installed on every cluster labelled tier=stage.
    t.text("wb");
    t.wait_for("web found", Duration::from_secs(10), |x| {
        x.contains("search: wb") && x.contains("A web server of the tests")
    });
    t.keys(&["Enter"]);
    t.wait_for("the install form", Duration::from_secs(5), |x| {
        x.contains("install web from tests")
    });
    t.keys(&["Tab", "C-u"]);
    t.text("web");
    t.keys(&["Tab"]);
    t.text("tier=stage");
    t.keys(&["Tab", "Right"]);
    t.keys(&["Enter"]);
    ended(&t, "market install");
    for ctx in ["stage-eu1", "dev-eu1"] {
        assert_eq!(revision(&s, ctx), "1", "{ctx}");
        assert!(s.kubectl(ctx, &["-n", "web", "get", "deployment/web"]).status.success());
    }
    assert!(
        !s.kubectl("prod-eu1", &["-n", "web", "get", "deployment/web"])
            .status
            .success()
    );
    // The releases across the fleet, with their workloads' status.
    t.keys(&["Escape", "I"]);
    let x = t.wait_for("both releases ready", Duration::from_secs(30), |x| {
        x.lines()
            .filter(|l| l.contains(" web ") && l.contains("deployed") && l.contains("1/1"))
            .count()
            == 2
    });
    assert!(x.contains("web-1.0.0"), "{x}");
    // Upgrade everywhere to 1.1.0, then roll back one cluster to revision 1.
    t.keys(&["u"]);
    t.wait_for("the upgrade form", Duration::from_secs(5), |x| {
        x.contains("upgrade web/web")
    });
    t.keys(&["Tab", "Tab", "Right"]);
    t.wait_for("everywhere", Duration::from_secs(5), |x| x.contains("everywhere"));
    t.keys(&["Enter"]);
    ended(&t, "releases upgrade");
    t.wait_for("revision 2 everywhere", Duration::from_secs(20), |x| {
        x.lines()
            .filter(|l| l.contains("web-1.1.0") && l.contains(" 2 "))
            .count()
            == 2
    });
    assert_eq!(revision(&s, "dev-eu1"), "2");
    t.keys(&["b"]);
    t.wait_for("the rollback form", Duration::from_secs(5), |x| {
        x.contains("roll back web/web")
    });
    t.keys(&["Enter"]);
    ended(&t, "releases rollback");
    t.wait_for("revision 3 on one", Duration::from_secs(20), |x| {
        x.lines().any(|l| l.contains("web-1.0.0") && l.contains(" 3 "))
    });
    let rolled: Vec<String> = ["stage-eu1", "dev-eu1"].iter().map(|c| revision(&s, c)).collect();
    assert!(
        rolled.contains(&"3".to_string()) && rolled.contains(&"2".to_string()),
        "{rolled:?}"
    );
    // The history of the release under the cursor.
    t.keys(&["Enter"]);
    t.wait_for("its history", Duration::from_secs(10), |x| {
        x.contains("history of") && x.contains("Rollback to 1")
    });
    t.keys(&["Escape", "Escape"]);
    // The app with its database as a solution, installed on another cluster from the marketplace.
    s.ok(&["solutions", "save", "prod-eu1/shop", "--name", "shop-with-db"]);
    t.keys(&["M"]);
    t.text("shop");
    t.wait_for("the solution", Duration::from_secs(10), |x| {
        x.contains("shop-with-db") && x.contains("(solution)")
    });
    t.keys(&["Enter"]);
    t.wait_for("the solution form", Duration::from_secs(5), |x| {
        x.contains("install solution shop-with-db")
    });
    t.keys(&["C-u"]);
    t.text("stage-eu1/shop");
    t.keys(&["Enter"]);
    ended(&t, "market install");
    let env = s.jsonpath(
        "stage-eu1",
        "shop",
        "deployment/shop",
        "{.spec.template.spec.containers[0].env[*].name}",
    );
    assert!(env.contains("DB_PASSWORD"), "the binding resolved on stage-eu1: {env}");
    assert!(
        s.kubectl("stage-eu1", &["-n", "shop", "get", "deployment/db"])
            .status
            .success()
    );
}

#[test]
fn the_demo_serves_a_catalog_of_its_own() {
    let mut demo = common::tmux::Child(
        std::process::Command::new(bin())
            .args(["demo", "--no-cockpit", "--clusters", "2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let err = demo.0.stderr.take().unwrap();
    let mut url = String::new();
    let mut lines = BufReader::new(err).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("is served at ").nth(1) {
            url = rest.split_whitespace().next().unwrap().to_string();
            break;
        }
    }
    // Its stderr stays read: a closed pipe would end it.
    std::thread::spawn(move || for _ in lines {});
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin())
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["catalogs", "add", "demo", &url]);
    let found = run(&["market", "search", "web", "--versions"]);
    assert!(found.contains("hello-web") && found.contains("1.1.0,1.0.0"), "{found}");
    // Its archives are charts Helm renders.
    let port = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut conn = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    use std::io::{Read, Write};
    write!(conn, "GET /charts/hello-web-1.0.0.tgz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    conn.read_to_end(&mut got).unwrap();
    let at = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let tgz = dir.path().join("hello-web-1.0.0.tgz");
    std::fs::write(&tgz, &got[at..]).unwrap();
    let r = common::block_on(common::charts::helm().template("hi", &tgz, "demo", &serde_json::json!({}), &[])).unwrap();
    let kinds: Vec<&str> = r.objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert_eq!(kinds, ["ConfigMap", "Service", "Deployment"], "{}", r.manifest);
    let _ = std::process::Command::new("kill")
        .arg("-INT")
        .arg(demo.0.id().to_string())
        .status();
}
