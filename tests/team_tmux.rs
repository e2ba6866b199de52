//! Team mode in a real terminal: one operator's cockpit, another's CLI on
//! another data dir, one simulated hub. A draft the other makes shows in
//! the cockpit within 2 s without a key press; the hub going down puts a
//! banner in the header (the team's settings read-only) and its return
//! takes it away; the cockpit deploys the other's draft.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::Setup;
use common::tmux::{Tmux, bin, sh_quote};

/// The CLI as bob (ana's cockpit runs as the test's user).
fn ok(data: &Path, args: &[&str]) -> String {
    common::ok_as(data, Some("bob"), args)
}

#[test]
fn another_operators_draft_shows_live_and_a_hub_outage_is_said() {
    let s = Setup::new();
    let a = s.dir.path().join("data");
    ok(&a, &["team", "init", "prod-eu1"]);
    let b = s.dir.path().join("data-b");
    ok(
        &b,
        &["clusters", "import", s.dir.path().join("kubeconfig").to_str().unwrap()],
    );
    ok(&b, &["team", "join", "prod-eu1"]);

    let t = Tmux::new("team");
    t.start(&format!(
        "KDECK_CONFIG_DIR={} {} --data-dir {}; sleep 30",
        sh_quote(t.config.path()),
        bin(),
        sh_quote(&a)
    ));
    t.wait_for("the hub followed", Duration::from_secs(30), |x| {
        x.contains("2 live") && x.contains("team prod-eu1")
    });
    // A looks at a space; B makes a draft there: A's cockpit shows it, no key pressed.
    t.keys(&[":"]);
    t.text("prod-eu1/catalog-prod");
    t.keys(&["Enter"]);
    t.wait_for("the space in view", Duration::from_secs(5), |x| {
        x.contains("apps prod-eu1/catalog-prod")
    });
    ok(
        &b,
        &[
            "apps",
            "create",
            "prod-eu1/catalog-prod/aaa-from-b",
            "--image",
            "nginx:1.27",
            "--port",
            "80",
        ],
    );
    let made = Instant::now();
    t.wait_for("B's draft in A's cockpit", Duration::from_secs(5), |x| {
        x.lines().any(|l| l.contains("aaa-from-b") && l.contains("draft"))
    });
    let shown = made.elapsed();
    assert!(shown <= Duration::from_secs(2), "the draft took {shown:?} to show");
    // A's journal view has bob's command.
    t.keys(&["H"]);
    t.wait_for("bob's command in the journal", Duration::from_secs(10), |x| {
        x.lines().any(|l| l.contains("bob@") && l.contains("apps create"))
    });
    t.keys(&["Escape"]);
    // A deploys it from the cockpit (drafts come last).
    t.keys(&["G", "A"]);
    t.wait_for("the production question", Duration::from_secs(10), |x| {
        x.contains("On production (prod-eu1)")
    });
    t.keys(&["y"]);
    t.wait_for("deployed", Duration::from_secs(30), |x| {
        x.lines().last().is_some_and(|l| l.contains("apps deploy: "))
    });
    assert!(
        s.kubectl("prod-eu1", &["-n", "catalog-prod", "get", "deployment/aaa-from-b"])
            .status
            .success()
    );
    // The hub goes down: the banner says since when; it comes back: gone.
    s.handles[0].set_up(false);
    t.wait_for("the banner", Duration::from_secs(30), |x| {
        x.lines().next().is_some_and(|l| l.contains("HUB prod-eu1 DOWN SINCE"))
    });
    s.handles[0].set_up(true);
    t.wait_for("the hub back", Duration::from_secs(30), |x| {
        x.lines()
            .next()
            .is_some_and(|l| l.contains("team prod-eu1") && !l.contains("DOWN"))
    });
    t.keys(&["q"]);
}
