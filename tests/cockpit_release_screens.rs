//! An app's revisions in the cockpit: `h` reads them (and the cluster's
//! rollout history), `enter` on an earlier one asks, then rolls back with
//! the view kept; the newest is refused, and so is an auditor. Snapshotted
//! at 80x24 and 160x48.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/screens.rs"]
mod screens;

use kdeck_command::Command;
use kdeck_command::apps::ClusterRevision;
use kdeck_model::{App, AppRef, Revision};
use kdeck_tui::cockpit::Effect;
use kdeck_tui::draw::buffer_text;
use kdeck_tui::overlays::Overlay;
use kdeck_tui::overlays::revisions::Revisions;

use screens::*;

const API: &str = "prod-eu1/shop-prod/api";

fn rev(number: u32, image: &str, change: &str) -> Revision {
    let a = AppRef::parse("app", API).unwrap();
    Revision {
        app: a.clone(),
        number,
        at: format!("2026-11-2{number}T09:00:00Z"),
        actor: "ana@bastion".into(),
        settings: App::new(a, image),
        routes: Vec::new(),
        change: change.into(),
    }
}

fn cluster_rev(revision: u64, name: &str, image: &str, current: bool) -> ClusterRevision {
    ClusterRevision {
        revision,
        name: name.into(),
        images: vec![image.into()],
        pods: if current { "2/2".into() } else { "0/0".into() },
        created: "2026-11-21T09:00:00Z".into(),
        current,
    }
}

#[test]
fn revisions_are_listed_and_an_earlier_one_is_rolled_back_to_after_a_question() {
    let mut c = cockpit();
    c.set_stored(vec![managed(API, "ghcr.io/acme/api:1.9", Some(7), "d1", "d1")]);
    // shop-prod into view: api is the first row.
    press(&mut c, &["j", "j", "j", "j", "j", "enter"]);
    let effects = press(&mut c, &["h"]);
    let id = match effects.as_slice() {
        [Effect::LoadRevisions { id, app, .. }] => {
            assert_eq!(app.to_string(), API);
            *id
        }
        other => panic!("{other:?}"),
    };
    c.revisions_fetched(
        id,
        Ok(Revisions {
            kdeck: vec![
                rev(1, "ghcr.io/acme/api:1.8", "first release"),
                rev(
                    2,
                    "ghcr.io/acme/api:1.9",
                    "image ghcr.io/acme/api:1.8 → ghcr.io/acme/api:1.9; env +DEBUG",
                ),
            ],
            cluster: Ok(vec![
                cluster_rev(1, "api-7c9f8d", "ghcr.io/acme/api:1.8", false),
                cluster_rev(2, "api-5b6d4f", "ghcr.io/acme/api:1.9", true),
            ]),
        }),
    );
    let bufs = snapshot("revisions", &c);
    let text = buffer_text(&bufs[1]);
    assert!(text.contains("revisions prod-eu1/shop-prod/api"), "{text}");
    assert!(text.contains("api-5b6d4f"), "{text}");
    // The newest is what runs: refused, said.
    press(&mut c, &["enter"]);
    assert!(matches!(c.overlay, Some(Overlay::Revisions(_))));
    assert!(c.toasts.last().unwrap().text.contains("is the one deployed now"));
    // The one before: asked (production), then rolled back; the view stays.
    c.prod.insert("prod-eu1".into());
    press(&mut c, &["j", "enter"]);
    let q = match &c.overlay {
        Some(Overlay::Confirm(q)) => q.question.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        q.contains("Roll prod-eu1/shop-prod/api back to revision 1 (ghcr.io/acme/api:1.8"),
        "{q}"
    );
    assert!(q.starts_with("On production (prod-eu1)"), "{q}");
    snapshot("rollback-confirm", &c);
    let effects = press(&mut c, &["y"]);
    match effects.as_slice() {
        [Effect::Run { command, .. }] => assert!(matches!(command.as_ref(),
            Command::RollbackApp { app, to: Some(1), .. } if app == API)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.overlay, Some(Overlay::Revisions(_))), "the view comes back");
    // When the command ends, the view is read again.
    let again = c.after_command();
    assert!(
        again.iter().any(|e| matches!(e, Effect::LoadRevisions { .. })),
        "{again:?}"
    );
    // An app kdeck does not manage has no recorded revisions: said.
    press(&mut c, &["esc", "j", "h"]);
    assert!(c.toasts.last().unwrap().text.contains("is not managed by kdeck"));
}
