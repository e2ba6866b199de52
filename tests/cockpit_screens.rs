//! Every cockpit screen, drawn from fixed data with a fixed clock at 80x24
//! and 160x48, compared with the snapshots in `tests/snapshots/`. A changed
//! screen fails with a diff; `KDECK_UPDATE_SNAPSHOTS=1 cargo test --test
//! cockpit_screens` rewrites them (review the diff before committing).
//! Where colour carries meaning (health, selection, prod), cells are checked
//! for their style too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/screens.rs"]
mod screens;

use kdeck_fleet::logs::{LineKind, LogLine};
use kdeck_tui::cockpit::{Cockpit, Effect};
use kdeck_tui::draw::{buffer_text, render};
use kdeck_tui::keymap::Keymap;
use kdeck_tui::theme::Theme;
use kdeck_tui::widgets::Tone;
use ratatui::style::{Color, Modifier};

use screens::*;

#[test]
fn the_start_screen_shows_every_cluster_with_its_health() {
    let c = cockpit();
    let bufs = snapshot("start", &c);
    for b in &bufs {
        let text = buffer_text(b);
        assert!(text.contains("1 live · 1 stale · 1 unreachable"), "{text}");
        // Health in colour: live green, stale yellow, unreachable red.
        let (x, y) = find(b, "● prod-eu1");
        assert_eq!(b[(x, y)].style().fg, Some(Color::Green));
        let (x, y) = find(b, "◐ stage-eu1");
        assert_eq!(b[(x, y)].style().fg, Some(Color::Yellow));
        let (x, y) = find(b, "✖ dev-us1");
        assert_eq!(b[(x, y)].style().fg, Some(Color::LightRed));
        // Prod is unmistakable: its own accent, and a PROD badge in the header.
        let (x, y) = find(b, "● prod-eu1");
        assert_eq!(b[(x + 2, y)].style().fg, Some(Color::LightRed));
        assert!(b[(x + 2, y)].style().add_modifier.contains(Modifier::BOLD));
        assert!(b[find(b, "PROD")].style().add_modifier.contains(Modifier::REVERSED));
        // The tree has the keys: its cursor row is the selection colour.
        let (x, y) = find(b, "◆ all spaces");
        assert_eq!(b[(x, y)].style().bg, Some(Color::Cyan));
    }
    // On a cluster that is not live, the footer says why.
    let mut c = c;
    press(&mut c, &["j"]);
    let b = render(&c, &Theme::dark(), 160, 48);
    let last = buffer_text(&b).lines().last().unwrap().to_string();
    assert!(
        last.contains("dev-us1 unreachable since") && last.contains("(connection refused)"),
        "{last}"
    );
}

#[test]
fn a_space_into_view_then_its_apps() {
    let mut c = cockpit();
    // all spaces, dev-us1, prod-eu1, payments-prod, search-prod, shop-prod
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "j"]);
    let bufs = snapshot("space-apps", &c);
    let b = &bufs[1];
    let text = buffer_text(b);
    assert!(text.contains("apps prod-eu1/shop-prod · 4"), "{text}");
    // The apps pane has the keys now: its second row is selected.
    let (x, y) = find(b, "postgres ");
    assert_eq!(b[(x, y)].style().bg, Some(Color::Cyan));
    // Ready counts coloured by state.
    assert_eq!(fg(b, "2/2"), Some(Color::Green));
    assert_eq!(fg(b, "1/2"), Some(Color::Yellow));
    assert_eq!(fg(b, "0/1"), Some(Color::LightRed));
    assert!(text.contains("web-shop-prod.apps.pro"), "routes shown with their app");
}

#[test]
fn the_filter_narrows_and_esc_clears() {
    let mut c = cockpit();
    press(&mut c, &["tab", "/"]);
    type_text(&mut c, "wb");
    let bufs = snapshot("filter-typing", &c);
    let text = buffer_text(&bufs[0]);
    assert!(text.contains("/wb█"), "{text}");
    assert!(text.contains("apps all spaces · 2 of 7"), "{text}");
    press(&mut c, &["enter"]);
    assert_eq!(c.apps.table.len(), 2);
    press(&mut c, &["esc"]);
    assert_eq!(c.apps.table.len(), 7);
}

#[test]
fn pods_of_an_app_and_back() {
    let mut c = cockpit();
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "enter"]);
    let bufs = snapshot("pods", &c);
    let b = &bufs[1];
    let text = buffer_text(b);
    assert!(text.contains("pods of deploy prod-eu1/shop-prod/api"), "{text}");
    assert_eq!(fg(b, "CrashLoopBackOff"), Some(Color::LightRed));
    press(&mut c, &["esc"]);
    assert!(c.pods.of.is_none());
}

#[test]
fn routes_and_builds_panes() {
    let mut c = cockpit();
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "2"]);
    snapshot("routes", &c);
    press(&mut c, &["3"]);
    let bufs = snapshot("builds", &c);
    let b = &bufs[1];
    let text = buffer_text(b);
    assert!(text.contains("test/unit (exit 1)"), "the failing step: {text}");
    assert_eq!(fg(b, "failed"), Some(Color::LightRed));
    assert_eq!(fg(b, "succeeded"), Some(Color::Green));
    assert!(text.contains("1m02s"), "duration: {text}");
}

#[test]
fn logs_merge_sources_and_highlight_the_search() {
    let mut c = cockpit();
    let effects = press(&mut c, &["j", "j", "j", "j", "j", "enter", "l"]);
    assert!(matches!(&effects[..], [Effect::OpenLogs { cluster, .. }] if cluster == "prod-eu1"));
    for i in 0..30 {
        let pod = if i % 2 == 0 {
            "api-5c4b9d7f8-hh2lp"
        } else {
            "api-5c4b9d7f8-mm9wd"
        };
        let level = if i % 7 == 3 { "error" } else { "info" };
        c.log_line(LogLine {
            source: pod.into(),
            time: Some(format!("2026-11-22T09:59:{i:02}.000000000Z")),
            text: format!("level={level} msg=\"GET /api/items\" status=200 line={i}"),
            kind: LineKind::Out,
        });
    }
    c.log_line(LogLine {
        source: "api-5c4b9d7f8-mm9wd".into(),
        time: None,
        text: "pod api-5c4b9d7f8-mm9wd container api: log stream ended; reconnecting".into(),
        kind: LineKind::Notice,
    });
    press(&mut c, &["/"]);
    type_text(&mut c, "error");
    press(&mut c, &["enter"]);
    let bufs = snapshot("logs", &c);
    let b = &bufs[1];
    let text = buffer_text(b);
    assert!(
        text.contains("logs app prod-eu1/shop-prod/api · paused"),
        "a search jumps and pauses: {text}"
    );
    assert!(text.contains("[api-5c4b9d7f8-hh2lp] level="), "{text}");
    let (x, y) = find(b, "error");
    assert_eq!(b[(x, y)].style().bg, Some(Color::Yellow), "matches highlighted");
    press(&mut c, &["t", "w", "G"]);
    let bufs = snapshot("logs-wrapped", &c);
    assert!(buffer_text(&bufs[0]).contains("2026-11-22T09:59:29"), "timestamps on");
}

#[test]
fn help_palette_yaml_and_confirm() {
    let mut c = cockpit();
    press(&mut c, &["?"]);
    let bufs = snapshot("help", &c);
    assert!(buffer_text(&bufs[1]).contains("half_page_down — down half a page"));
    press(&mut c, &["esc", ":"]);
    type_text(&mut c, "shop");
    let bufs = snapshot("palette", &c);
    assert!(buffer_text(&bufs[1]).contains("space prod-eu1/shop-prod"));
    press(&mut c, &["enter"]);
    assert_eq!(c.scope.describe(), "prod-eu1/shop-prod");
    // YAML comes back from the cluster later; the overlay waits for it.
    let effects = press(&mut c, &["y"]);
    assert_eq!(effects.len(), 1);
    let [Effect::Fetch { id, .. }] = effects[..] else {
        panic!("{effects:?}")
    };
    // An answer to another request does not fill the popup.
    c.fetched(id + 1, Ok(vec![(Tone::Text, "not this".to_string())]));
    c.fetched(
        id,
        Ok([
            (Tone::Text, "apiVersion: apps/v1"),
            (Tone::Text, "kind: Deployment"),
            (Tone::Heading, "metadata:"),
            (Tone::Text, "  name: api"),
            (Tone::Text, "  namespace: shop-prod"),
        ]
        .map(|(t, l)| (t, l.to_string()))
        .to_vec()),
    );
    snapshot("yaml", &c);
    press(&mut c, &["esc"]);
    c.running = 1;
    press(&mut c, &["q"]);
    snapshot("confirm-quit", &c);
    assert!(!c.quit);
    press(&mut c, &["y"]);
    assert!(c.quit);
}

#[test]
fn marks_span_spaces_and_show_in_the_header() {
    let mut c = cockpit();
    press(&mut c, &["tab", "space", "space", "j", "j", "space"]);
    let bufs = snapshot("marks", &c);
    assert!(buffer_text(&bufs[0]).contains("3 marked"));
    // A read-only cockpit says so in its header.
    let mut ro = c.clone();
    ro.read_only = true;
    let b = render(&ro, &Theme::dark(), 160, 48);
    assert!(buffer_text(&b).lines().next().unwrap().contains("READ-ONLY"));
    assert_eq!(c.apps.marks.len(), 3);
    press(&mut c, &["ctrl-a"]);
    assert_eq!(c.apps.marks.len(), 7, "every visible row");
    press(&mut c, &["ctrl-a"]);
    assert!(c.apps.marks.is_empty(), "again: none");
}

#[test]
fn no_clusters_says_what_to_do() {
    let mut c = Cockpit::new(Keymap::default_map(), NOW, 10_000);
    c.refresh();
    let bufs = snapshot("empty", &c);
    assert!(buffer_text(&bufs[1]).contains("no clusters: import them with `kdeck clusters import`"));
}

#[test]
fn monochrome_keeps_meaning_without_colour() {
    let c = cockpit();
    let mono = Theme::shipped("mono").unwrap();
    let b = render(&c, &mono, 80, 24);
    for y in 0..24 {
        for x in 0..80 {
            let s = b[(x, y)].style();
            assert!(s.fg.is_none_or(|c| c == Color::Reset), "no colour at {x},{y}: {s:?}");
            assert!(s.bg.is_none_or(|c| c == Color::Reset), "no colour at {x},{y}: {s:?}");
        }
    }
    let (x, y) = find(&b, "◆ all spaces");
    assert!(
        b[(x, y)].style().add_modifier.contains(Modifier::REVERSED),
        "selection by reverse video"
    );
}

#[test]
fn the_scale_form_checks_as_you_type_and_keeps_what_was_typed_on_failure() {
    let mut c = cockpit();
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "="]);
    let form = c.form.as_ref().expect("the scale form opens on the selected app");
    assert_eq!(form.title, "scale prod-eu1/shop-prod/api");
    assert_eq!(form.fields[0].text(), "2", "it starts from the desired count");
    press(&mut c, &["backspace", "x"]);
    let bufs = snapshot("scale-form-error", &c);
    assert!(buffer_text(&bufs[1]).contains("\"x\" is not a whole number"));
    // An invalid form does not submit.
    assert!(press(&mut c, &["enter"]).is_empty());
    press(&mut c, &["backspace", "5"]);
    let effects = press(&mut c, &["enter"]);
    match &effects[..] {
        [Effect::Run { command: cmd, .. }] => assert_eq!(
            **cmd,
            kdeck_command::Command::ScaleApp {
                app: "prod-eu1/shop-prod/api".into(),
                replicas: 5
            }
        ),
        other => panic!("{other:?}"),
    }
    assert!(c.form.is_none());
    // The command fails: the form comes back with what was typed and why.
    let [Effect::Run { id, .. }] = effects[..] else {
        panic!("{effects:?}")
    };
    c.running = 1;
    c.command_done(
        id,
        "apps scale",
        false,
        "no app prod-eu1/shop-prod/api is stored".into(),
    );
    let form = c.form.as_ref().expect("reopened");
    assert_eq!(form.fields[0].text(), "5");
    assert_eq!(form.failure.as_deref(), Some("no app prod-eu1/shop-prod/api is stored"));
    assert_eq!(c.running, 0);
    snapshot("scale-form-failed", &c);
    press(&mut c, &["esc"]);
    assert!(c.form.is_none());
}

#[test]
fn restart_asks_first_and_read_only_refuses() {
    let mut c = cockpit();
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "R"]);
    let bufs = snapshot("restart-confirm", &c);
    assert!(buffer_text(&bufs[1]).contains("Restart prod-eu1/shop-prod/api, pod by pod?"));
    assert!(press(&mut c, &["n"]).is_empty(), "n: nothing runs");
    press(&mut c, &["R"]);
    let effects = press(&mut c, &["y"]);
    assert!(
        matches!(&effects[..], [Effect::Run { command: cmd, .. }] if matches!(**cmd, kdeck_command::Command::RestartApp { .. }))
    );
    c.read_only = true;
    assert!(press(&mut c, &["="]).is_empty());
    assert!(c.form.is_none());
    assert!(c.toasts.last().unwrap().text.contains("read-only"));
}

#[test]
fn a_new_app_form_with_multi_line_env_then_a_route_and_a_binding() {
    let mut c = cockpit();
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "n"]);
    assert!(
        c.form
            .as_ref()
            .unwrap()
            .title
            .starts_with("new app in prod-eu1/shop-prod")
    );
    type_text(&mut c, "My_App");
    let bufs = snapshot("new-app-form", &c);
    assert!(
        buffer_text(&bufs[1]).contains("try \"my-app\": must be a DNS-1123 label"),
        "errors next to the field, with the fix"
    );
    for _ in 0..6 {
        press(&mut c, &["backspace"]);
    }
    type_text(&mut c, "shop-ui");
    press(&mut c, &["tab"]);
    type_text(&mut c, "ghcr.io/acme/ui:2.0");
    // A StatefulSet with a volume: ctrl-u empties a field, as in a shell.
    press(&mut c, &["tab", "tab", "tab", "ctrl-u"]);
    assert_eq!(
        c.form.as_ref().unwrap().fields[4].value(),
        "",
        "ctrl-u cleared the kind"
    );
    type_text(&mut c, "stateful");
    press(&mut c, &["tab"]);
    type_text(&mut c, "data:5Gi:/var/lib/ui");
    press(&mut c, &["tab"]);
    // env: several lines; enter adds a line here, ctrl-s submits.
    type_text(&mut c, "MODE=live");
    press(&mut c, &["enter"]);
    type_text(&mut c, "LEVEL=debug");
    let effects = press(&mut c, &["ctrl-s"]);
    match &effects[..] {
        [Effect::Run { command: cmd, .. }] => match &**cmd {
            kdeck_command::Command::CreateApp(n) => {
                assert_eq!(n.app, "prod-eu1/shop-prod/shop-ui");
                assert_eq!(n.image, "ghcr.io/acme/ui:2.0");
                assert_eq!(n.ports, vec![8080]);
                assert_eq!(n.env, vec!["MODE=live".to_string(), "LEVEL=debug".to_string()]);
                assert_eq!(n.routes, vec![String::new()], "the default route");
                assert!(n.stateful);
                assert_eq!(n.volumes, vec!["data:5Gi:/var/lib/ui".to_string()]);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // A route and a binding for the selected app, and deploy.
    press(&mut c, &["r"]);
    assert!(c.form.as_ref().unwrap().title.starts_with("add a route to"));
    press(&mut c, &["esc", "b"]);
    type_text(&mut c, "stage-eu1/shop-stage/db");
    press(&mut c, &["tab"]);
    type_text(&mut c, "postgres");
    let effects = press(&mut c, &["enter"]);
    assert!(
        matches!(&effects[..], [Effect::Run { command: cmd, .. }] if matches!(&**cmd, kdeck_command::Command::Bind { provider, connector, .. } if provider == "stage-eu1/shop-stage/db" && connector == "postgres"))
    );
    let effects = press(&mut c, &["A"]);
    assert!(
        matches!(&effects[..], [Effect::Run { command: cmd, .. }] if matches!(&**cmd, kdeck_command::Command::DeployApp { wait: Some(_), .. }))
    );
}

#[test]
fn managed_apps_show_rollout_and_sync_and_the_edit_form_sends_only_changes() {
    use kdeck_command::Command;
    use kdeck_command::apps::ObjectDrift;
    use kdeck_tui::overlays::Overlay;
    let mut c = cockpit();
    c.set_stored(vec![
        managed("prod-eu1/shop-prod/web", "ghcr.io/acme/web:2.3", Some(1), "d1", "d1"),
        managed("prod-eu1/shop-prod/api", "ghcr.io/acme/api:1.9", Some(7), "d1", "d1"),
        managed(
            "prod-eu1/shop-prod/worker",
            "ghcr.io/acme/worker:0.4",
            Some(1),
            "d1",
            "d2",
        ),
        managed("prod-eu1/shop-prod/shop-ui", "ghcr.io/acme/ui:2.0", None, "", "d3"),
    ]);
    // shop-prod into view; the apps pane has the keys.
    press(&mut c, &["j", "j", "j", "j", "j", "enter"]);
    let bufs = snapshot("sync", &c);
    let text = buffer_text(&bufs[1]);
    let row = |name: &str| {
        text.lines()
            .find(|l| l.contains(&format!("┃  {name} ")))
            .unwrap_or("")
            .to_string()
    };
    assert!(
        row("web").contains("ready") && row("web").contains("synced"),
        "{}",
        row("web")
    );
    assert!(
        row("api").contains("unready") && row("api").contains("drift"),
        "{}",
        row("api")
    );
    assert!(row("worker").contains("pending"), "{}", row("worker"));
    assert!(row("shop-ui").contains("draft"), "{}", row("shop-ui"));
    assert!(
        row("postgres").contains("ready") && !row("postgres").contains("synced"),
        "unmanaged"
    );
    assert_eq!(fg(&bufs[1], "pending"), Some(Color::Yellow));
    assert_eq!(fg(&bufs[1], "synced"), Some(Color::Green));

    // The cluster's apps by name, then the drafts. The edit form of web.
    press(&mut c, &["j", "j", "E"]);
    let form = c.form.as_ref().unwrap();
    assert_eq!(form.title, "edit prod-eu1/shop-prod/web");
    assert_eq!(form.fields[0].text(), "ghcr.io/acme/web:2.3");
    assert_eq!(form.fields[1].text(), "MODE=live");
    // Overrides: the fixed fields are refused as you type.
    press(&mut c, &["tab", "tab", "tab", "tab"]);
    type_text(&mut c, "spec: {selector: {}}");
    let bufs = snapshot("edit-app-form", &c);
    assert!(
        buffer_text(&bufs[1]).contains("cannot be overridden"),
        "{}",
        buffer_text(&bufs[1])
    );
    assert!(press(&mut c, &["ctrl-s"]).is_empty(), "not sent while a field is wrong");
    for _ in 0.."spec: {selector: {}}".len() {
        press(&mut c, &["backspace"]);
    }
    type_text(&mut c, "spec:");
    press(&mut c, &["enter"]);
    type_text(&mut c, "  minReadySeconds: 5");
    // A new image too; the env stays as it was.
    press(&mut c, &["tab"]);
    for _ in 0..3 {
        press(&mut c, &["backspace"]);
    }
    type_text(&mut c, "2.4");
    let effects = press(&mut c, &["ctrl-s"]);
    match &effects[..] {
        [Effect::Run { command: cmd, .. }] => match &**cmd {
            Command::EditApp(e) => {
                assert_eq!(e.app, "prod-eu1/shop-prod/web");
                assert_eq!(e.image.as_deref(), Some("ghcr.io/acme/web:2.4"));
                assert!(e.set_env.is_empty() && e.unset_env.is_empty(), "{e:?}");
                assert_eq!(e.overrides.as_deref(), Some("spec:\n  minReadySeconds: 5"));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }

    // Drift of api, with the keys to act on it.
    press(&mut c, &["g", "D"]);
    let id = match &c.overlay {
        Some(Overlay::Drift(d)) if d.app.to_string() == "prod-eu1/shop-prod/api" => d.id,
        other => panic!("{other:?}"),
    };
    let report = vec![
        ObjectDrift {
            object: "deployment api".into(),
            action: "update",
            changes: vec![kdeck_command::derive::Change {
                path: "spec.replicas".into(),
                ours: "2".into(),
                cluster: "5".into(),
            }],
        },
        ObjectDrift {
            object: "service api".into(),
            action: "unchanged",
            changes: Vec::new(),
        },
    ];
    c.drift_fetched(id, Ok(report));
    let bufs = snapshot("drift", &c);
    let text = buffer_text(&bufs[1]);
    assert!(text.contains("spec.replicas  kdeck: 2  cluster: 5"), "{text}");
    assert!(text.contains("A  deploy kdeck's settings") && text.contains("a  take the cluster's version"));
    // A from the report reconciles.
    let effects = press(&mut c, &["A"]);
    assert!(
        matches!(&effects[..], [Effect::Run { command: cmd, .. }] if matches!(&**cmd, Command::DeployApp { app, .. } if app == "prod-eu1/shop-prod/api"))
    );
    // Adopting a managed app asks first; an unmanaged one is read in at once.
    press(&mut c, &["a"]);
    assert!(
        matches!(&c.overlay, Some(Overlay::Confirm(q)) if matches!(&*q.command, Command::AdoptApp { replace: true, .. }))
    );
    press(&mut c, &["esc", "j"]);
    let effects = press(&mut c, &["a"]);
    assert!(
        matches!(&effects[..], [Effect::Run { command: cmd, .. }] if matches!(&**cmd, Command::AdoptApp { app, replace: false } if app == "prod-eu1/shop-prod/postgres"))
    );
    press(&mut c, &["E"]);
    assert!(c.form.is_none());
    assert!(
        c.toasts
            .last()
            .unwrap()
            .text
            .contains("not managed by kdeck: adopt it first (a)")
    );
    // e hands the object to $EDITOR.
    let effects = press(&mut c, &["e"]);
    assert!(
        matches!(&effects[..], [Effect::EditYaml(o)] if o.kind == "StatefulSet" && o.name == "postgres"),
        "{effects:?}"
    );
}

#[test]
fn copying_marked_apps_picks_targets_reads_the_plan_and_watches_progress() {
    use kdeck_command::copy::{CopyPlan, Event, ItemDone, OnConflict, PlanItem};
    let mut c = cockpit();
    // shop-prod into view; mark api and web.
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "space", "j", "space"]);
    assert_eq!(c.apps.marks.len(), 2);
    press(&mut c, &["c"]);
    type_text(&mut c, "stage");
    let bufs = snapshot("copy-targets", &c);
    assert!(
        buffer_text(&bufs[1]).contains("stage-eu1/shop-stage"),
        "{}",
        buffer_text(&bufs[1])
    );
    let effects = press(&mut c, &["space", "enter"]);
    let spec = match &effects[..] {
        [Effect::PlanCopy { spec, .. }] => spec.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(spec.apps, vec!["prod-eu1/shop-prod/api", "prod-eu1/shop-prod/web"]);
    assert_eq!(spec.to, vec!["stage-eu1/shop-stage"]);
    assert_eq!(spec.on_conflict, OnConflict::Skip);
    c.copy_planned(
        copy_request(&c),
        Ok(CopyPlan {
            on_conflict: OnConflict::Skip,
            items: vec![
                PlanItem::described(
                    "prod-eu1/shop-prod/api",
                    "stage-eu1/shop-stage",
                    "api",
                    "create",
                    vec!["deployment api: create".into(), "service api: create".into()],
                    Vec::new(),
                ),
                PlanItem::described(
                    "prod-eu1/shop-prod/web",
                    "stage-eu1/shop-stage",
                    "web",
                    "skip",
                    Vec::new(),
                    vec!["web exists there and is not a copy of prod-eu1/shop-prod/web".into()],
                )
                .with_remedies(vec![kdeck_command::copy::Remedy::OnConflict]),
            ],
            new_spaces: Vec::new(),
        }),
    );
    let bufs = snapshot("copy-preview", &c);
    let text = buffer_text(&bufs[1]);
    assert!(
        text.contains("1 create · 1 skip") && text.contains("on conflict: skip"),
        "{text}"
    );
    // What would change the skip is said as this view's key, not a CLI flag.
    let wide = buffer_text(&bufs[0]);
    assert!(wide.contains("o changes the conflict policy"), "{wide}");
    assert!(!wide.contains("--on-conflict"), "{wide}");
    // s asks for the secrets too and plans again.
    let effects = press(&mut c, &["s"]);
    assert!(matches!(&effects[..], [Effect::PlanCopy { spec: s, .. }] if s.with_secrets));
    c.copy_planned(
        copy_request(&c),
        Ok(CopyPlan {
            on_conflict: OnConflict::Skip,
            items: Vec::new(),
            new_spaces: Vec::new(),
        }),
    );
    let effects = press(&mut c, &["s"]);
    assert!(matches!(&effects[..], [Effect::PlanCopy { spec: s, .. }] if !s.with_secrets));
    c.copy_planned(
        copy_request(&c),
        Ok(CopyPlan {
            on_conflict: OnConflict::Skip,
            items: Vec::new(),
            new_spaces: Vec::new(),
        }),
    );
    // o changes the policy and plans again.
    let effects = press(&mut c, &["o"]);
    assert!(matches!(&effects[..], [Effect::PlanCopy { spec: s, .. }] if s.on_conflict == OnConflict::Overwrite));
    c.copy_planned(
        copy_request(&c),
        Ok(CopyPlan {
            on_conflict: OnConflict::Overwrite,
            items: vec![PlanItem::described(
                "prod-eu1/shop-prod/api",
                "stage-eu1/shop-stage",
                "api",
                "create",
                Vec::new(),
                Vec::new(),
            )],
            new_spaces: vec!["stage-eu1/shop-stage".into()],
        }),
    );
    let effects = press(&mut c, &["enter"]);
    assert!(matches!(&effects[..], [Effect::RunCopy { spec: s, .. }] if s.on_conflict == OnConflict::Overwrite));
    assert_eq!(c.running, 1);
    c.copy_progress(&Event::Planned {
        cluster: "stage-eu1".into(),
        items: 1,
    });
    c.copy_progress(&Event::Done(ItemDone {
        cluster: "stage-eu1".into(),
        ok: false,
        item: "prod-eu1/shop-prod/api → stage-eu1/shop-stage/api".into(),
        message: "deployment api: cluster stage-eu1: forbidden".into(),
    }));
    let bufs = snapshot("copy-progress", &c);
    let text = buffer_text(&bufs[1]);
    assert!(
        text.contains("1 of 1 done · esc cancels") && text.contains("stage-eu1: 1/1 done, 1 failed, 0 to go"),
        "{text}"
    );
    assert!(matches!(&press(&mut c, &["esc"])[..], [Effect::CancelCopy]));
    let id = copy_request(&c);
    c.command_done(id, "copy", false, "1 item(s), 1 failed (journal entry 9)".into());
    c.copy_finished(id, false, "1 item(s), 1 failed (journal entry 9)".into());
    let bufs = snapshot("copy-done", &c);
    assert!(buffer_text(&bufs[1]).contains("the same copy again finishes the job"));
    press(&mut c, &["x"]);
    assert!(c.overlay.is_none());
    // Ctrl-C from the target picker quits, as it does everywhere else.
    press(&mut c, &["c", "ctrl-c"]);
    assert!(c.overlay.is_none() && c.quit, "ctrl-c leaves the picker and kdeck");
}

#[test]
fn fleet_news_remakes_the_lists_it_touches_and_nothing_is_news_twice() {
    use kdeck_fleet::live::Health;
    use kdeck_tui::panes::TreeRow;
    use std::sync::Arc;
    let mut c = cockpit();
    let (apps, routes) = (c.apps.table.total(), c.routes.table.total());
    assert!(apps > 1 && routes > 1);
    // The same snapshots again: nothing to draw.
    assert!(!c.set_fleet(c.clusters.clone()));

    // One cluster's routes change: the routes list follows, the apps stay.
    let mut fleet = c.clusters.clone();
    let i = fleet.iter().position(|s| s.cluster == "prod-eu1").unwrap();
    let mut s = (*fleet[i]).clone();
    let mut r = (*s.routes).clone();
    r.pop_first();
    s.routes = Arc::new(r);
    fleet[i] = Arc::new(s);
    assert!(c.set_fleet(fleet.clone()));
    c.refresh();
    assert_eq!((c.apps.table.total(), c.routes.table.total()), (apps, routes - 1));

    // Its apps, then its health.
    let mut s = (*fleet[i]).clone();
    let mut a = (*s.apps).clone();
    a.pop_first();
    s.apps = Arc::new(a);
    s.health = Health::Stale {
        since: "2026-11-22T09:59:00Z".into(),
        why: "cluster prod-eu1: no answer".into(),
    };
    fleet[i] = Arc::new(s);
    assert!(c.set_fleet(fleet));
    c.refresh();
    assert_eq!((c.apps.table.total(), c.routes.table.total()), (apps - 1, routes - 1));
    let health = c.tree.table.visible().find_map(|r| match r {
        TreeRow::Cluster { name, health, .. } if name == "prod-eu1" => Some(health.clone()),
        _ => None,
    });
    assert!(matches!(health, Some(Health::Stale { .. })), "{health:?}");
}

/// `g` in a paused logs pane, and a search that finds an early line, fill
/// the pane from the oldest line (they showed one line and blank rows).
#[test]
fn the_top_of_the_logs_fills_the_pane() {
    let mut c = cockpit();
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "l"]);
    for i in 0..200 {
        c.log_line(LogLine {
            source: "api-5c4b9d7f8-hh2lp".into(),
            time: None,
            text: format!("line={i:03}{}", if i == 2 { " needle" } else { "" }),
            kind: LineKind::Out,
        });
    }
    let full = |c: &Cockpit, what: &str| {
        for (w, h) in [(80u16, 24u16), (160, 48)] {
            let mut c = c.clone();
            c.page = kdeck_tui::draw::page_for(h);
            let text = buffer_text(&render(&c, &Theme::dark(), w, h));
            let lines: Vec<&str> = text.lines().filter(|l| l.contains("line=")).collect();
            assert!(
                lines[0].contains("line=000"),
                "{what} at {w}x{h}: the oldest line first:\n{text}"
            );
            assert!(
                lines.len() >= usize::from(h) - 6,
                "{what} at {w}x{h}: the pane is full:\n{text}"
            );
        }
    };
    press(&mut c, &["k", "g"]);
    assert!(!c.logs.follow, "paused");
    full(&c, "g");
    // A search from the bottom that wraps to an early line.
    press(&mut c, &["G", "/"]);
    type_text(&mut c, "needle");
    press(&mut c, &["enter"]);
    full(&c, "search");
    // Down from the top moves the view at once.
    let before = c.logs.scroll;
    press(&mut c, &["j"]);
    assert_eq!(c.logs.scroll + 1, before);
}

/// Another space's apps start on their first row, not where the cursor
/// was in the last list (it showed the last row).
#[test]
fn the_apps_cursor_starts_on_the_first_row_of_a_new_scope() {
    let mut c = cockpit();
    // All spaces: the apps pane, cursor to the bottom.
    press(&mut c, &["enter", "G"]);
    assert!(c.apps.table.cursor > 0);
    // Back to the tree, into a space.
    press(&mut c, &["esc", "j", "j", "j", "j", "j", "enter"]);
    assert_eq!(
        c.apps.table.cursor,
        0,
        "{:?}",
        c.apps.table.current().map(|r| r.app.name.clone())
    );
}

#[test]
fn a_run_s_task_tree_and_the_build_forms() {
    use kdeck_command::Command;
    use kdeck_tui::overlays::Overlay;
    let mut c = cockpit();
    let mut web = managed("prod-eu1/shop-prod/api", "ghcr.io/acme/api:1.9", Some(7), "d1", "d1");
    web.settings.build = Some(kdeck_model::BuildSettings {
        git_url: "https://github.com/acme/api.git".into(),
        revision: "main".into(),
        context_dir: None,
        registry: "registry.example.com/acme".into(),
        image: None,
        dockerfile: None,
        git_secret: None,
        registry_secret: Some("api-registry".into()),
    });
    c.set_stored(vec![web]);
    // The failed build's task tree: the failing step with its exit code.
    press(&mut c, &["j", "j", "j", "j", "j", "enter", "3", "j", "enter"]);
    assert!(matches!(c.overlay, Some(Overlay::Run(_))));
    let bufs = snapshot("build-run", &c);
    let text = buffer_text(&bufs[1]);
    assert!(text.contains("\"step-unit\" exited with code 1"), "{text}");
    assert!(text.contains("exit 1"), "{text}");
    // l on the step: its logs, that container of that pod.
    let effects = press(&mut c, &["l"]);
    match &effects[..] {
        [Effect::OpenLogs { cluster, req }] => {
            assert_eq!(cluster, "prod-eu1");
            assert_eq!(req.container.as_deref(), Some("step-unit"));
        }
        other => panic!("{other:?}"),
    }
    // x asks before cancelling; a finished build says so instead.
    press(&mut c, &["3"]);
    press(&mut c, &["x"]);
    assert!(c.overlay.is_none(), "a failed build is not cancelled");
    // B on the build: the revision prompt for its app, then a run.
    press(&mut c, &["B"]);
    let bufs = snapshot("build-form", &c);
    assert!(buffer_text(&bufs[1]).contains("build prod-eu1/shop-prod/api"));
    let effects = press(&mut c, &["enter"]);
    match &effects[..] {
        [Effect::Run { command, .. }] => match command.as_ref() {
            Command::StartBuild {
                app,
                revision,
                deploy,
                run,
            } => {
                assert_eq!(app, "prod-eu1/shop-prod/api");
                assert_eq!(revision.as_deref(), Some("main"));
                assert!(*deploy && run.starts_with("api-build-"));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // The settings form: the password is typed hidden.
    press(&mut c, &["P"]);
    for _ in 0..7 {
        press(&mut c, &["tab"]);
    }
    type_text(&mut c, "s3cret-pw");
    let bufs = snapshot("build-settings-form", &c);
    let text = buffer_text(&bufs[1]);
    assert!(!text.contains("s3cret-pw") && text.contains("•••••••••"), "{text}");
}
