//! The release of an app end to end on the demo's fleet, first in a real
//! terminal, then with the CLI: a new user adopts an app and deploys it
//! (v1), runs v2 as a weighted canary and watches it, promotes it, rolls
//! back to v1, sets autoscaling and a space quota, and moves a setting into
//! a ConfigMap. kubectl checks what the cluster runs after each step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::Setup;
use common::tmux::{Tmux, bin, sh_quote};
use kdeck_sim::{FleetSize, SimConfig, SimOptions};

const CTX: &str = "prod-eu1";
const NS: &str = "shop-prod";

fn setup() -> Setup {
    Setup::with(SimOptions {
        clusters: 2,
        fleet: FleetSize::Small,
        config: SimConfig {
            hpa_sync: Duration::from_millis(300),
            ..Default::default()
        },
        ..Default::default()
    })
}

fn image(s: &Setup, app: &str) -> String {
    s.jsonpath(
        CTX,
        NS,
        &format!("deployment/{app}"),
        "{.spec.template.spec.containers[0].image}",
    )
}

/// A yes to the production question (prod-eu1 is production), once it is asked.
fn yes(t: &Tmux) {
    t.wait_for("the production question", Duration::from_secs(10), |s| {
        s.contains("On production (prod-eu1)")
    });
    t.keys(&["y"]);
}

/// Waits for the command `verb` to end (its toast on the last line), and
/// fails the test with the screen when it failed.
fn ended(t: &Tmux, verb: &str) {
    let x = t.wait_for(verb, Duration::from_secs(30), |x| {
        x.lines()
            .last()
            .is_some_and(|l| l.contains(&format!(" {verb}: ")) || l.contains(&format!(" {verb} failed")))
    });
    let last = x.lines().last().unwrap_or_default();
    assert!(!last.contains(&format!("{verb} failed")), "{x}");
}

/// The line of the apps pane that shows `app`.
fn row(screen: &str, app: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains(&format!(" {app} ")) && l.contains("prod-eu1/shop-prod"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_new_user_releases_from_the_cockpit() {
    let s = setup();
    let v1 = image(&s, "web");
    let t = Tmux::new("release");
    t.start(&format!(
        "KDECK_CONFIG_DIR={} {} --data-dir {}; sleep 30",
        sh_quote(t.config.path()),
        bin(),
        sh_quote(&s.dir.path().join("data"))
    ));
    t.wait_for("both clusters live", Duration::from_secs(30), |x| x.contains("2 live"));
    // shop-prod's web, through the palette.
    t.keys(&[":"]);
    t.text("prod-eu1/shop-prod/web");
    t.keys(&["Enter"]);
    t.wait_for("web in view", Duration::from_secs(10), |x| !row(x, "web").is_empty());
    // Adopt it, deploy it: revision 1 is v1.
    t.keys(&["a"]);
    t.wait_for("the adopt question", Duration::from_secs(5), |x| x.contains("adopt"));
    t.keys(&["y"]);
    t.wait_for("web managed", Duration::from_secs(10), |x| {
        row(x, "web").contains("synced")
    });
    t.keys(&["A"]);
    yes(&t);
    ended(&t, "apps deploy");
    // v2 as a canary at 20 %.
    t.keys(&["C"]);
    t.wait_for("the canary form", Duration::from_secs(5), |x| {
        x.contains("canary of prod-eu1/shop-prod/web")
    });
    t.keys(&["C-u"]);
    t.text("ghcr.io/acme/web:2.0.0");
    t.keys(&["Tab"]);
    t.text("20");
    t.keys(&["Enter"]);
    yes(&t);
    // Watch it: the pane shows its share, then its pod ready.
    let x = t.wait_for("the canary ready", Duration::from_secs(20), |x| {
        let r = row(x, "web");
        r.contains("canary 20%") && r.contains("→2.0.0 1/1")
    });
    assert!(!x.contains(" web-canary "), "the canary is shown on web's row:\n{x}");
    assert_eq!(
        s.jsonpath(
            CTX,
            NS,
            "ingress/web-canary",
            "{.metadata.annotations.nginx\\.ingress\\.kubernetes\\.io/canary-weight}"
        ),
        "20"
    );
    // Promote it.
    t.keys(&["C"]);
    t.wait_for("the promote question", Duration::from_secs(5), |x| {
        x.contains("Promote the canary")
    });
    t.keys(&["y"]);
    ended(&t, "apps canary promote");
    assert_eq!(image(&s, "web"), "ghcr.io/acme/web:2.0.0");
    assert!(
        !s.kubectl(CTX, &["-n", NS, "get", "deployment/web-canary"])
            .status
            .success()
    );
    // Roll back to v1 from the revisions view.
    t.keys(&["h"]);
    t.wait_for("two revisions", Duration::from_secs(10), |x| {
        x.contains("revisions prod-eu1/shop-prod/web") && x.contains("promote canary")
    });
    t.keys(&["j", "Enter"]);
    yes(&t);
    ended(&t, "apps rollback");
    assert_eq!(image(&s, "web"), v1);
    t.keys(&["Escape"]);
    // Autoscaling between 1 and 4.
    t.keys(&["+"]);
    t.wait_for("the autoscale form", Duration::from_secs(5), |x| {
        x.contains("autoscale prod-eu1/shop-prod/web")
    });
    t.keys(&["Tab", "C-u"]);
    t.text("4");
    t.keys(&["Enter"]);
    yes(&t);
    t.wait_for("autoscaled", Duration::from_secs(20), |x| {
        row(x, "web").contains("↕1-4")
    });
    assert_eq!(
        s.jsonpath(CTX, NS, "hpa/web", "{.spec.minReplicas}-{.spec.maxReplicas}"),
        "1-4"
    );
    // A space quota, from the space's settings.
    t.keys(&["V"]);
    t.wait_for("the space's settings", Duration::from_secs(10), |x| {
        x.contains("space prod-eu1/shop-prod") && x.contains("config and secrets")
    });
    t.keys(&["Q"]);
    t.wait_for("the quota form", Duration::from_secs(5), |x| {
        x.contains("quota of prod-eu1/shop-prod")
    });
    t.text("8");
    t.keys(&["Tab", "Tab"]);
    t.text("60");
    t.keys(&["Enter"]);
    yes(&t);
    t.wait_for("the quota shown", Duration::from_secs(20), |x| {
        x.contains("requests.cpu") && x.contains("/ 8")
    });
    assert_eq!(s.jsonpath(CTX, NS, "resourcequota/kdeck", "{.spec.hard.pods}"), "60");
    // A setting into a ConfigMap: the key, then the app reads it.
    t.keys(&["n"]);
    t.wait_for("the key form", Duration::from_secs(5), |x| {
        x.contains("set a key in prod-eu1/shop-prod")
    });
    t.keys(&["Tab", "C-u"]);
    t.text("web-settings");
    t.keys(&["Tab"]);
    t.text("GREETING");
    t.keys(&["Tab"]);
    t.text("hello");
    t.keys(&["Enter"]);
    yes(&t);
    t.wait_for("the key in the view", Duration::from_secs(20), |x| {
        x.contains("web-settings") && x.contains("GREETING")
    });
    t.keys(&["Escape", "E"]);
    t.wait_for("the edit form", Duration::from_secs(5), |x| {
        x.contains("edit prod-eu1/shop-prod/web")
    });
    t.keys(&["Tab", "Tab"]);
    t.text("GREETING=configmap:web-settings/GREETING");
    t.keys(&["C-s"]);
    ended(&t, "apps edit");
    t.keys(&["A"]);
    yes(&t);
    ended(&t, "apps deploy");
    let env = s.jsonpath(
        CTX,
        NS,
        "deployment/web",
        "{.spec.template.spec.containers[0].env[?(@.name==\"GREETING\")].valueFrom.configMapKeyRef.name}",
    );
    assert_eq!(env, "web-settings");
    t.keys(&["q"]);
}

#[test]
fn a_new_user_releases_with_the_cli() {
    let s = setup();
    let app = "prod-eu1/shop-prod/web";
    let v1 = image(&s, "web");
    s.ok(&["apps", "adopt", app]);
    s.ok(&["apps", "deploy", app, "--wait", "--timeout", "30"]);
    s.ok(&[
        "apps",
        "canary",
        app,
        "--image",
        "ghcr.io/acme/web:2.0.0",
        "--weight",
        "20",
    ]);
    s.until("the canary ready", Duration::from_secs(15), || {
        s.jsonpath(CTX, NS, "deployment/web-canary", "{.status.readyReplicas}") == "1"
    });
    s.ok(&["apps", "canary", "promote", app, "--wait", "--timeout", "30"]);
    assert_eq!(image(&s, "web"), "ghcr.io/acme/web:2.0.0");
    s.ok(&["apps", "rollback", app, "--wait", "--timeout", "30"]);
    assert_eq!(image(&s, "web"), v1);
    s.ok(&["apps", "autoscale", app, "--min", "1", "--max", "4"]);
    assert_eq!(
        s.jsonpath(
            CTX,
            NS,
            "hpa/web",
            "{.spec.metrics[0].resource.target.averageUtilization}"
        ),
        "80"
    );
    s.ok(&["spaces", "quota", "prod-eu1/shop-prod", "--cpu", "8", "--pods", "60"]);
    let shown = s.ok(&["spaces", "quota", "prod-eu1/shop-prod"]);
    assert!(shown.contains("requests.cpu") && shown.contains("8"), "{shown}");
    s.ok(&["config", "set", "prod-eu1/shop-prod/web-settings", "GREETING=hello"]);
    s.ok(&[
        "apps",
        "edit",
        app,
        "--env-from",
        "GREETING=configmap:web-settings/GREETING",
    ]);
    s.ok(&["apps", "deploy", app]);
    let env = s.jsonpath(
        CTX,
        NS,
        "deployment/web",
        "{.spec.template.spec.containers[0].env[?(@.name==\"GREETING\")].valueFrom.configMapKeyRef.name}",
    );
    assert_eq!(env, "web-settings");
    let history = s.ok(&["apps", "history", app]);
    assert!(
        history.contains("promote canary ghcr.io/acme/web:2.0.0") && history.contains("rollback to revision 1"),
        "{history}"
    );
}
