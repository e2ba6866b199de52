//! Releasing from the cockpit: the apps pane shows an app's canary (image,
//! ready count, share) and autoscaling bounds; `+` opens the autoscale form,
//! `C` the canary form (or, with a canary running, asks to promote it), `K`
//! asks to abort it; `V` opens the space's settings (quota used against
//! hard, ConfigMaps, Secrets masked until `v`), whose `Q` opens the quota
//! form, `n` the key form and `x` asks to remove a key. Snapshotted at 80x24
//! and 160x48.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/screens.rs"]
mod screens;

use std::collections::BTreeMap;
use std::sync::Arc;

use kdeck_command::Command;
use kdeck_command::config::Store;
use kdeck_command::quota::QuotaLine;
use kdeck_fleet::live::{AppView, ClusterSnapshot};
use kdeck_model::Autoscale;
use kdeck_tui::cockpit::Effect;
use kdeck_tui::draw::buffer_text;
use kdeck_tui::forms::FormKind;
use kdeck_tui::overlays::Overlay;
use kdeck_tui::overlays::space::{Object, SpaceSettings};

use screens::*;

const API: &str = "prod-eu1/shop-prod/api";

/// The small fleet, with a weighted canary of shop-prod/api running.
fn fleet_with_canary() -> Vec<Arc<ClusterSnapshot>> {
    let mut fleet = kdeck_fixture::small_fleet(NOW);
    let prod = fleet
        .iter_mut()
        .find(|c| c.cluster == "prod-eu1")
        .map(Arc::make_mut)
        .unwrap();
    let mut apps = (*prod.apps).clone();
    let api = apps
        .get(&(Arc::from("shop-prod"), Arc::from("api"), "Deployment"))
        .cloned()
        .unwrap();
    let mut canary: AppView = (*api).clone();
    canary.name = "api-canary".into();
    canary.image = "ghcr.io/acme/api:2.1.0".into();
    canary.ready = 1;
    canary.desired = 1;
    canary.labels = BTreeMap::from([
        ("kdeck.dev/canary-of".to_string(), "api".to_string()),
        ("kdeck.dev/canary-weight".to_string(), "20".to_string()),
    ]);
    apps.insert(
        (Arc::from("shop-prod"), Arc::from("api-canary"), "Deployment"),
        Arc::new(canary),
    );
    prod.apps = Arc::new(apps);
    fleet
}

fn run_of(effects: &[Effect]) -> Command {
    match effects {
        [Effect::Run { command, .. }] => (**command).clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn canaries_and_autoscaling_show_in_the_apps_pane_and_their_forms_send_commands() {
    let mut c = cockpit();
    c.set_fleet(fleet_with_canary());
    let mut m = managed(API, "ghcr.io/acme/api:2.0.1", Some(7), "d1", "d1");
    m.settings.autoscale = Some(Autoscale {
        min: 2,
        max: 6,
        cpu: Some(70),
        memory: None,
        scale_down_after: None,
    });
    let mut web = managed("prod-eu1/shop-prod/web", "ghcr.io/acme/web:1.4.2", Some(7), "d1", "d1");
    web.settings.autoscale = Some(Autoscale {
        min: 1,
        max: 4,
        cpu: Some(80),
        memory: None,
        scale_down_after: None,
    });
    c.set_stored(vec![m, web]);
    // shop-prod into view: api is the first row, its canary on its row.
    press(&mut c, &["j", "j", "j", "j", "j", "enter"]);
    let bufs = snapshot("apps-canary", &c);
    let text = buffer_text(&bufs[1]);
    assert!(
        !text.contains("api-canary "),
        "the canary is not a row of its own: {text}"
    );
    assert!(text.contains("canary 20%"), "{text}");
    assert!(text.contains("2.0.1→2.1.0 1/1"), "{text}");
    // web autoscales too: its bounds follow its rollout.
    assert!(text.contains("ready ↕1-4"), "{text}");
    // Autoscale: the form starts from the app's bounds; max below min is refused as typed.
    press(&mut c, &["+"]);
    snapshot("autoscale-form", &c);
    press(&mut c, &["tab", "ctrl-u", "1"]);
    let f = c.form.as_ref().unwrap();
    assert!(
        f.fields.iter().any(|f| f.error.as_deref() == Some("below min 2")),
        "{:?}",
        f.fields
    );
    let nothing = press(&mut c, &["enter"]);
    assert!(nothing.is_empty());
    press(&mut c, &["ctrl-u", "8"]);
    match run_of(&press(&mut c, &["enter"])) {
        Command::AutoscaleApp(s) => {
            assert_eq!(
                (s.app.as_str(), s.min, s.max, s.cpu, s.off),
                (API, Some(2), Some(8), Some(70), false)
            )
        }
        other => panic!("{other:?}"),
    }
    // Empty max turns it off.
    press(&mut c, &["+", "tab", "ctrl-u"]);
    match run_of(&press(&mut c, &["enter"])) {
        Command::AutoscaleApp(s) => assert!(s.off),
        other => panic!("{other:?}"),
    }
    // With a canary running, C asks to promote it and K to abort it.
    press(&mut c, &["C"]);
    let q = match &c.overlay {
        Some(Overlay::Confirm(q)) => q.question.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        q.contains("Promote the canary of prod-eu1/shop-prod/api: ghcr.io/acme/api:2.1.0 replaces"),
        "{q}"
    );
    snapshot("canary-promote-confirm", &c);
    assert!(matches!(run_of(&press(&mut c, &["y"])), Command::PromoteCanary { app, .. } if app == API));
    press(&mut c, &["K"]);
    assert!(matches!(run_of(&press(&mut c, &["y"])), Command::AbortCanary { app } if app == API));
    // web has none: C opens the form, starting from its image.
    press(&mut c, &["G"]);
    let row = c.apps.table.current().unwrap().app.name.clone();
    assert_eq!(row, "worker");
    press(&mut c, &["k"]);
    press(&mut c, &["C"]);
    assert!(matches!(c.form.as_ref().map(|f| &f.kind), Some(FormKind::Canary(_))));
    snapshot("canary-form", &c);
    press(&mut c, &["ctrl-u"]);
    type_text(&mut c, "ghcr.io/acme/web:1.5.0");
    press(&mut c, &["tab"]);
    type_text(&mut c, "150");
    assert!(
        c.form.as_ref().unwrap().fields[1].error.is_some(),
        "a weight over 99 is refused"
    );
    press(&mut c, &["ctrl-u"]);
    type_text(&mut c, "20");
    match run_of(&press(&mut c, &["enter"])) {
        Command::StartCanary(s) => {
            assert_eq!(
                (s.app.as_str(), s.image.as_str(), s.weight, s.replicas),
                ("prod-eu1/shop-prod/web", "ghcr.io/acme/web:1.5.0", Some(20), None)
            )
        }
        other => panic!("{other:?}"),
    }
    // K on an app with no canary: said.
    press(&mut c, &["K"]);
    assert!(
        c.toasts
            .last()
            .unwrap()
            .text
            .contains("no canary of prod-eu1/shop-prod/web runs")
    );
}

fn settings() -> SpaceSettings {
    SpaceSettings {
        quota: Ok(vec![
            QuotaLine {
                quota: "kdeck".into(),
                resource: "pods".into(),
                used: "7".into(),
                hard: "8".into(),
            },
            QuotaLine {
                quota: "kdeck".into(),
                resource: "requests.cpu".into(),
                used: "2".into(),
                hard: "2".into(),
            },
        ]),
        defaults: BTreeMap::from([("cpu".to_string(), "100m".to_string())]),
        objects: vec![
            Object {
                store: Store::Config,
                name: "settings".into(),
                entries: BTreeMap::from([
                    ("LOG_LEVEL".to_string(), "info".to_string()),
                    ("MODE".to_string(), "v2".to_string()),
                ]),
                used_by: vec!["api".into()],
            },
            Object {
                store: Store::Secret,
                name: "db".into(),
                entries: BTreeMap::from([("password".to_string(), "hunter2".to_string())]),
                used_by: Vec::new(),
            },
        ],
        unread: Vec::new(),
    }
}

#[test]
fn a_space_shows_its_quota_and_settings_and_changes_them_through_forms() {
    let mut c = cockpit();
    press(&mut c, &["j", "j", "j", "j", "j", "enter"]);
    let effects = press(&mut c, &["V"]);
    let id = match effects.as_slice() {
        [Effect::LoadSpace { id, space }] => {
            assert_eq!(space.to_string(), "prod-eu1/shop-prod");
            *id
        }
        other => panic!("{other:?}"),
    };
    c.space_fetched(id, Ok(settings()));
    let bufs = snapshot("space", &c);
    let text = buffer_text(&bufs[1]);
    assert!(text.contains("requests.cpu") && text.contains("2 / 2"), "{text}");
    assert!(text.contains("read by api"), "{text}");
    assert!(text.contains("•••••• (7 bytes)") && !text.contains("hunter2"), "{text}");
    press(&mut c, &["v"]);
    let bufs = snapshot("space-revealed", &c);
    assert!(buffer_text(&bufs[1]).contains("hunter2"));
    // The quota form starts from the hard limits and defaults.
    press(&mut c, &["Q"]);
    snapshot("quota-form", &c);
    let f = c.form.as_ref().unwrap();
    assert_eq!(f.fields[0].value(), "2");
    assert_eq!(f.fields[2].value(), "8");
    assert_eq!(f.fields[4].value(), "100m");
    press(&mut c, &["ctrl-u"]);
    type_text(&mut c, "lots");
    assert!(c.form.as_ref().unwrap().fields[0].error.is_some());
    press(&mut c, &["ctrl-u"]);
    type_text(&mut c, "4");
    // A dry run first: the form waits behind it and comes back.
    let id = match press(&mut c, &["ctrl-p"]).as_slice() {
        [Effect::DryRun { id, command }] => {
            assert!(matches!(command.as_ref(), Command::SetQuota(q) if q.cpu.as_deref() == Some("4")));
            *id
        }
        other => panic!("{other:?}"),
    };
    assert!(c.form.is_none());
    c.fetched(
        id,
        Ok(kdeck_tui::widgets::plan_lines(
            "# note: prod-eu1/shop-prod already uses 9 of pods, more than the 8 asked\n---\napiVersion: v1\nkind: ResourceQuota\n",
        )),
    );
    let bufs = snapshot("quota-dry-run", &c);
    assert!(buffer_text(&bufs[1]).contains("dry run: spaces quota space prod-eu1/shop-prod"));
    press(&mut c, &["esc"]);
    assert_eq!(
        c.form.as_ref().map(|f| f.fields[0].value()),
        Some("4".to_string()),
        "the form is back as typed"
    );
    match run_of(&press(&mut c, &["enter"])) {
        Command::SetQuota(q) => assert_eq!(
            (q.space.as_str(), q.cpu.as_deref(), q.pods, q.default_cpu.as_deref()),
            ("prod-eu1/shop-prod", Some("4"), Some(8), Some("100m"))
        ),
        other => panic!("{other:?}"),
    }
    // The view stays, and is read again when the command ends.
    assert!(matches!(c.overlay, Some(Overlay::Space(_))));
    assert!(c.after_command().iter().any(|e| matches!(e, Effect::LoadSpace { .. })));
    // A key of the secret: the form hides what is typed, and the journal will not have it.
    press(&mut c, &["j", "j", "n"]);
    snapshot("key-form", &c);
    press(&mut c, &["tab", "tab"]);
    type_text(&mut c, "token");
    press(&mut c, &["tab"]);
    type_text(&mut c, "s3cret");
    let bufs = snapshot("key-form-typed", &c);
    assert!(!buffer_text(&bufs[1]).contains("s3cret"));
    match run_of(&press(&mut c, &["enter"])) {
        Command::ChangeConfig(ch) => {
            assert_eq!((ch.target.as_str(), ch.store), ("prod-eu1/shop-prod/db", Store::Secret));
            assert_eq!(ch.set_secret["token"].0.as_deref(), Some("s3cret"));
            let journalled = serde_json::to_string(&Command::ChangeConfig(ch.clone())).unwrap();
            assert!(!journalled.contains("s3cret"), "{journalled}");
        }
        other => panic!("{other:?}"),
    }
    // Removing a key asks first.
    press(&mut c, &["k", "x"]);
    let q = match &c.overlay {
        Some(Overlay::Confirm(q)) => q.question.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(q, "Remove key MODE from ConfigMap settings in prod-eu1/shop-prod?");
    match run_of(&press(&mut c, &["y"])) {
        Command::ChangeConfig(ch) => assert_eq!(ch.unset, vec!["MODE".to_string()]),
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.overlay, Some(Overlay::Space(_))), "the view comes back");
}

#[test]
fn the_edit_form_moves_a_setting_into_a_config_map() {
    let mut c = cockpit();
    c.set_stored(vec![managed(
        "prod-eu1/shop-prod/web",
        "ghcr.io/acme/web:1.4.2",
        Some(7),
        "d1",
        "d1",
    )]);
    press(&mut c, &["j", "j", "j", "j", "j", "enter"]);
    press(&mut c, &["j", "j", "E"]);
    assert_eq!(c.form.as_ref().unwrap().title, "edit prod-eu1/shop-prod/web");
    // MODE=live out of the literal env, in as a ConfigMap key.
    press(&mut c, &["tab", "ctrl-u", "tab"]);
    type_text(&mut c, "MODE=configmap:settings");
    assert!(
        c.form.as_ref().unwrap().fields[2].error.is_some(),
        "no key: refused as typed"
    );
    type_text(&mut c, "/MODE");
    assert!(c.form.as_ref().unwrap().fields[2].error.is_none());
    snapshot("edit-env-from", &c);
    match run_of(&press(&mut c, &["ctrl-s"])) {
        Command::EditApp(e) => {
            // The reference replaces the value of the same name.
            assert!(e.unset_env.is_empty() && e.set_env.is_empty(), "{e:?}");
            assert_eq!(e.env_from, vec!["MODE=configmap:settings/MODE".to_string()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn describe_lists_an_apps_volumes_with_their_claims() {
    use serde_json::json;
    let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 2,
        "template": {"spec": {"volumes": [{"name": "conf", "configMap": {"name": "db-settings"}}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "pgdata"}}]}});
    let claims = vec![
        json!({"metadata": {"name": "pgdata-db-0"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
               "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}}),
        json!({"metadata": {"name": "pgdata-db-1"}, "spec": {"accessModes": ["ReadWriteOnce"],
               "resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Pending"}}),
    ];
    let lines: Vec<String> = kdeck_tui::fetch::volumes(&sts, &claims)
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(
        lines,
        vec![
            "Volumes:".to_string(),
            "  conf  ConfigMap db-settings".into(),
            "  claim pgdata-db-0  Bound  1Gi  RWO  standard".into(),
            "  claim pgdata-db-1  Pending  1Gi  RWO  (default class)".into(),
        ]
    );
}
