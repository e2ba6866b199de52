//! The marketplace and the releases view: `M` lists the catalogs' charts and
//! the saved solutions, filtered as typed; enter opens the install form (a
//! selector, a version picked from the chart's, `--set` pairs) or, on a
//! solution, the space form; `ctrl-a` the catalog form. `I` lists the
//! fleet's releases; enter asks for a history, `u` opens the upgrade form,
//! `b` the rollback form, `x` asks to uninstall. Snapshotted at 80x24 and
//! 160x48; each form's command is checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/screens.rs"]
mod screens;

use kdeck_command::Command;
use kdeck_command::catalogs::Offer;
use kdeck_command::releases::ReleaseRow;
use kdeck_tui::cockpit::Effect;
use kdeck_tui::overlays::Overlay;
use kdeck_tui::overlays::releases::Releases;

use screens::*;

fn offer(chart: &str, catalog: &str, versions: &[&str], description: &str, solution: bool) -> Offer {
    Offer {
        catalog: catalog.into(),
        chart: chart.into(),
        version: versions.first().map(|v| v.to_string()).unwrap_or_default(),
        app_version: if solution { String::new() } else { "1.27".into() },
        description: description.into(),
        keywords: if solution {
            vec!["db".into(), "web".into()]
        } else {
            vec!["http".into()]
        },
        deprecated: false,
        versions: versions.iter().map(|v| v.to_string()).collect(),
        solution,
        score: 0,
    }
}

fn offers() -> Vec<Offer> {
    vec![
        offer("cache", "demo", &["0.3.0"], "An in-memory key-value cache", false),
        offer(
            "hello-web",
            "demo",
            &["1.1.0", "1.0.0"],
            "A web server that says hello",
            false,
        ),
        offer("shop", "(solution)", &[], "web and its database", true),
    ]
}

fn row(cluster: &str, rev: u32, version: &str, ready: &str) -> ReleaseRow {
    ReleaseRow {
        cluster: cluster.into(),
        namespace: "web".into(),
        name: "web".into(),
        chart: "hello-web".into(),
        version: version.into(),
        app_version: "1.27".into(),
        revision: rev,
        status: "deployed".into(),
        ready: ready.into(),
        updated: "2026-11-22T09:00:00Z".into(),
    }
}

fn load_id(effects: &[Effect]) -> kdeck_tui::cockpit::RequestId {
    match effects {
        [Effect::LoadMarket { id }] | [Effect::LoadReleases { id }] => *id,
        other => panic!("{other:?}"),
    }
}

fn run_of(effects: &[Effect]) -> Command {
    match effects {
        [Effect::Run { command, .. }] => (**command).clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_marketplace_searches_as_typed_and_its_forms_send_install_commands() {
    let mut c = cockpit();
    let id = load_id(&press(&mut c, &["M"]));
    c.market_fetched(id, Ok(offers()));
    snapshot("market", &c);
    // Typed: fuzzy over name and description.
    type_text(&mut c, "hlo");
    let bufs = snapshot("market-filtered", &c);
    let text = kdeck_tui::draw::buffer_text(&bufs[1]);
    assert!(text.contains("hello-web") && !text.contains("in-memory"), "{text}");
    // Enter: the install form, the newest version first; a selector is needed.
    press(&mut c, &["enter"]);
    snapshot("market-install-form", &c);
    assert!(press(&mut c, &["enter"]).is_empty(), "no selector yet");
    press(&mut c, &["tab", "tab"]);
    type_text(&mut c, "tier=stage");
    press(&mut c, &["tab", "right", "tab"]);
    type_text(&mut c, "replicas=2");
    match run_of(&press(&mut c, &["enter"])) {
        Command::InstallChart(s) => {
            assert_eq!(
                (
                    s.chart.as_str(),
                    s.version.as_deref(),
                    s.namespace.as_str(),
                    s.selector.as_deref()
                ),
                ("hello-web", Some("1.0.0"), "hello-web", Some("tier=stage"))
            );
            assert!(s.clusters.is_empty(), "the selector chooses when it runs");
            assert_eq!(s.sets, ["replicas=2"]);
        }
        other => panic!("{other:?}"),
    }
    // A solution: the space form.
    c.form = None;
    press(&mut c, &["backspace", "backspace", "backspace"]);
    type_text(&mut c, "shop");
    press(&mut c, &["enter"]);
    press(&mut c, &["ctrl-u"]);
    type_text(&mut c, "stage-eu1/shop-copy");
    match run_of(&press(&mut c, &["enter"])) {
        Command::InstallSolution { solution, spaces } => {
            assert_eq!(
                (solution.as_str(), spaces),
                ("shop", vec!["stage-eu1/shop-copy".to_string()])
            )
        }
        other => panic!("{other:?}"),
    }
    // ctrl-a: a catalog.
    c.form = None;
    press(&mut c, &["ctrl-a"]);
    type_text(&mut c, "more");
    press(&mut c, &["tab"]);
    type_text(&mut c, "https://charts.example.com/stable");
    match run_of(&press(&mut c, &["enter"])) {
        Command::AddCatalog { name, url } => {
            assert_eq!(
                (name.as_str(), url.as_str()),
                ("more", "https://charts.example.com/stable")
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_releases_view_upgrades_rolls_back_and_uninstalls_where_the_release_is() {
    let mut c = cockpit();
    let id = load_id(&press(&mut c, &["I"]));
    c.releases_fetched(
        id,
        Releases {
            rows: vec![row("dev-eu1", 2, "1.1.0", "2/2"), row("stage-eu1", 3, "1.0.0", "1/2")],
            problems: vec!["prod-eu1: no answer within 20 s".into()],
            versions: [("hello-web".to_string(), vec!["1.1.0".to_string(), "1.0.0".to_string()])].into(),
        },
    );
    snapshot("releases", &c);
    // Enter: its history, read for the cluster under the cursor.
    match press(&mut c, &["enter"]).as_slice() {
        [Effect::ReleaseHistory { release, .. }] => assert_eq!(release, "dev-eu1/web/web"),
        other => panic!("{other:?}"),
    }
    press(&mut c, &["esc"]);
    assert!(matches!(c.overlay, Some(Overlay::Releases(_))), "back to the releases");
    // Upgrade everywhere it is.
    press(&mut c, &["u"]);
    snapshot("releases-upgrade-form", &c);
    press(&mut c, &["tab", "tab", "right"]);
    match run_of(&press(&mut c, &["enter"])) {
        Command::UpgradeRelease(u) => {
            assert_eq!(
                (u.release.as_str(), u.version.as_deref(), u.clusters.clone()),
                (
                    "web/web",
                    Some("1.1.0"),
                    vec!["dev-eu1".to_string(), "stage-eu1".to_string()]
                )
            );
            assert!(u.reuse_values && u.values.is_none());
        }
        other => panic!("{other:?}"),
    }
    // Rollback on this cluster, to the revision before.
    press(&mut c, &["j", "b"]);
    match run_of(&press(&mut c, &["enter"])) {
        Command::RollbackRelease { release, clusters, to } => {
            assert_eq!(
                (release.as_str(), clusters, to),
                ("web/web", vec!["stage-eu1".to_string()], 2)
            )
        }
        other => panic!("{other:?}"),
    }
    // Uninstall asks first.
    press(&mut c, &["x"]);
    let q = match &c.overlay {
        Some(Overlay::Confirm(q)) => q.question.clone(),
        other => panic!("{other:?}"),
    };
    assert!(q.contains("Uninstall web/web from dev-eu1, stage-eu1?"), "{q}");
    match run_of(&press(&mut c, &["y"])) {
        Command::UninstallRelease { release, yes, .. } => assert!(release == "web/web" && yes),
        other => panic!("{other:?}"),
    }
}
