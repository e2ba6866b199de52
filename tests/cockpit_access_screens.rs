//! The cockpit knowing what the user may do: an auditor's keys struck
//! through and refused with the reason, a developer's allowed where granted;
//! the roles view (list, grant form with pickers, revoke asked first) and
//! the journal view (filter, an entry's items), drawn from fixed data and
//! snapshotted at 80x24 and 160x48 like every other screen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/screens.rs"]
mod screens;

use std::collections::BTreeMap;

use kdeck_command::{Command, ItemOutcome, JournalEntry, Status};
use kdeck_fleet::access::{AccessMap, Rule, SpaceAccess};
use kdeck_model::SpaceRef;
use kdeck_tui::cockpit::Effect;
use kdeck_tui::draw::buffer_text;
use kdeck_tui::overlays::Overlay;
use kdeck_tui::overlays::roles::{RoleLine, SpaceRoles};
use ratatui::style::Modifier;

use screens::*;

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Rule {
    Rule::new(verbs, groups, resources)
}

/// The rules the built-in view and edit ClusterRoles give, in short.
fn auditor() -> SpaceAccess {
    SpaceAccess {
        rules: vec![rule(
            &["get", "list", "watch"],
            &["", "apps", "networking.k8s.io", "tekton.dev"],
            &["*"],
        )],
        incomplete: false,
    }
}

fn developer() -> SpaceAccess {
    SpaceAccess {
        rules: vec![rule(
            &["get", "list", "watch", "create", "update", "patch", "delete"],
            &["", "apps", "networking.k8s.io", "tekton.dev"],
            &["*"],
        )],
        incomplete: false,
    }
}

fn manager() -> SpaceAccess {
    SpaceAccess {
        rules: vec![rule(&["*"], &["*"], &["*"])],
        incomplete: false,
    }
}

fn access(of: &[(&str, SpaceAccess)]) -> AccessMap {
    of.iter()
        .map(|(s, a)| (SpaceRef::parse("space", s).unwrap(), a.clone()))
        .collect::<BTreeMap<_, _>>()
}

#[test]
fn an_auditor_sees_the_changes_struck_through_and_is_refused_with_the_reason() {
    let mut c = cockpit();
    c.set_access(access(&[
        ("prod-eu1/shop-prod", auditor()),
        ("prod-eu1/search-prod", developer()),
    ]));
    // shop-prod into view, the apps pane has the keys.
    press(&mut c, &["j", "j", "j", "j", "j", "enter"]);
    let bufs = snapshot("auditor-apps", &c);
    let b = &bufs[1];
    let text = buffer_text(b);
    let footer = text.lines().last().unwrap();
    assert!(footer.contains("auditor in prod-eu1/shop-prod"), "{footer}");
    let (x, y) = find(b, "= scale");
    assert!(b[(x, y)].style().add_modifier.contains(Modifier::CROSSED_OUT));
    let (x, y) = find(b, "l logs");
    assert!(
        !b[(x, y)].style().add_modifier.contains(Modifier::CROSSED_OUT),
        "reading is allowed"
    );
    // Refused before any request, with the reason.
    for key in ["=", "R", "A", "n", "E"] {
        let effects = press(&mut c, &[key]);
        assert!(effects.is_empty(), "{key}: {effects:?}");
        assert!(c.form.is_none() && c.overlay.is_none(), "{key} opened something");
    }
    let said = &c.toasts.last().unwrap().text;
    assert!(said.starts_with("you are auditor in prod-eu1/shop-prod: "), "{said}");
    snapshot("auditor-refused", &c);
    // A developer where granted: the scale form opens.
    press(&mut c, &["esc", "k", "enter"]);
    assert_eq!(
        c.role_here(),
        Some((SpaceRef::new("prod-eu1", "search-prod"), "developer"))
    );
    assert_eq!(c.denied(kdeck_tui::keymap::Action::Scale), None);
    press(&mut c, &["="]);
    assert!(
        c.form
            .as_ref()
            .is_some_and(|f| f.title.starts_with("scale prod-eu1/search-prod/"))
    );
    // A read-only cluster says how to make it writable.
    press(&mut c, &["esc"]);
    c.read_only_clusters.insert("prod-eu1".into());
    press(&mut c, &["="]);
    assert!(
        c.toasts
            .last()
            .unwrap()
            .text
            .contains("clusters set prod-eu1 --writable")
    );
}

#[test]
fn the_roles_view_lists_grants_on_marked_spaces_and_revokes_after_a_question() {
    let mut c = cockpit();
    c.prod.insert("prod-eu1".into());
    c.set_access(access(&[
        ("prod-eu1/payments-prod", manager()),
        ("prod-eu1/search-prod", manager()),
        ("prod-eu1/shop-prod", auditor()),
    ]));
    // Mark payments-prod and search-prod in the tree, then the roles view.
    let effects = press(&mut c, &["j", "j", "j", "space", "space", "U"]);
    let (id, spaces) = match effects.as_slice() {
        [Effect::ListRoles { id, spaces }] => (*id, spaces.clone()),
        other => panic!("{other:?}"),
    };
    let names: Vec<String> = spaces.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["prod-eu1/payments-prod", "prod-eu1/search-prod"]);
    let line = |role: &str, subject: &str, binding: &str, kdeck: bool| RoleLine {
        role: role.into(),
        role_ref: format!("ClusterRole/{}", if role == "custom" { "deployer" } else { "edit" }),
        subject: subject.into(),
        binding: binding.into(),
        kdeck,
    };
    c.roles_fetched(
        id,
        vec![
            (
                spaces[0].clone(),
                SpaceRoles::Holders(vec![
                    line("developer", "user:dana", "kdeck-edit-dana", true),
                    line("developer", "group:ops", "ops-edit", false),
                    line("custom", "sa:ci/deployer", "ci-deploy", false),
                ]),
            ),
            (
                spaces[1].clone(),
                SpaceRoles::Failed("forbidden: cannot list rolebindings in search-prod".into()),
            ),
        ],
    );
    snapshot("roles", &c);
    // Grant: the subject picker offers the subjects seen, the role picker cycles.
    press(&mut c, &["n"]);
    press(&mut c, &["right"]);
    assert_eq!(c.form.as_ref().unwrap().fields[0].value(), "group:ops");
    press(&mut c, &["ctrl-u"]);
    type_text(&mut c, "user:erin");
    press(&mut c, &["tab", "right", "right"]);
    snapshot("grant-form", &c);
    let effects = press(&mut c, &["enter"]);
    // prod-eu1 is production: asked first, the roles view kept under it.
    assert!(effects.is_empty());
    assert!(matches!(&c.overlay, Some(Overlay::Confirm(q)) if q.question.contains("On production (prod-eu1)")));
    let effects = press(&mut c, &["y"]);
    match effects.as_slice() {
        [Effect::Run { command, .. }] => match command.as_ref() {
            Command::GrantRole { spaces, subject, role } => {
                assert_eq!(spaces, &["prod-eu1/payments-prod", "prod-eu1/search-prod"]);
                assert_eq!(subject, "user:erin");
                assert_eq!(role, "manager");
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.overlay, Some(Overlay::Roles(_))), "the view comes back");
    // Revoke a binding kdeck did not make: said in the question, forced.
    press(&mut c, &["j", "x"]);
    let q = match &c.overlay {
        Some(Overlay::Confirm(q)) => q.question.clone(),
        other => panic!("{other:?}"),
    };
    assert!(
        q.contains("Revoke developer from group:ops in prod-eu1/payments-prod (ops-edit was not made by kdeck)"),
        "{q}"
    );
    let effects = press(&mut c, &["y"]);
    assert!(matches!(effects.as_slice(), [Effect::Run { command, .. }]
        if matches!(command.as_ref(), Command::RevokeRole { force: true, .. })));
    // A custom binding is kubectl's to change.
    press(&mut c, &["j", "x"]);
    assert!(
        c.toasts
            .last()
            .unwrap()
            .text
            .contains("kubectl -n payments-prod delete rolebinding ci-deploy")
    );
    // An auditor may not even read the bindings: refused, the reason said.
    press(&mut c, &["esc"]);
    assert!(c.overlay.is_none());
    c.tree.marked.clear();
    let effects = press(&mut c, &["U"]);
    assert!(effects.is_empty() && c.overlay.is_none());
    assert_eq!(
        c.toasts.last().unwrap().text,
        "you are auditor in prod-eu1/shop-prod: roles needs list rolebindings.rbac.authorization.k8s.io"
    );
}

fn entry(id: u64, at: &str, actor: &str, command: Command, items: Vec<ItemOutcome>, status: Status) -> JournalEntry {
    JournalEntry {
        id,
        at: at.into(),
        actor: actor.into(),
        target: command.target(),
        command,
        status,
        items,
        finished_at: Some(at.into()),
        runner: None,
        nonce: String::new(),
    }
}

#[test]
fn the_journal_view_filters_like_history_and_shows_each_items_result() {
    let mut c = cockpit();
    let effects = press(&mut c, &["H"]);
    let id = match effects.as_slice() {
        [Effect::LoadJournal { id, filter }] => {
            assert_eq!(filter, &kdeck_command::history::Filter::default());
            *id
        }
        other => panic!("{other:?}"),
    };
    let grant = Command::GrantRole {
        spaces: vec!["prod-eu1/shop-prod".into(), "dev-us1/shop".into()],
        subject: "user:dana".into(),
        role: "developer".into(),
    };
    let scale = Command::ScaleApp {
        app: "prod-eu1/shop-prod/web".into(),
        replicas: 3,
    };
    c.journal_fetched(
        id,
        Ok(vec![
            entry(
                7,
                "2026-11-22T09:40:00Z",
                "ana@bastion",
                scale,
                vec![ItemOutcome::ok("deployment web", "scaled to 3")],
                Status::Applied,
            ),
            entry(
                8,
                "2026-11-22T09:55:00Z",
                "bo@laptop",
                grant,
                vec![
                    ItemOutcome::ok(
                        "prod-eu1/shop-prod",
                        "user:dana is developer (RoleBinding kdeck-edit-dana)",
                    ),
                    ItemOutcome {
                        item: "dev-us1/shop".into(),
                        ok: false,
                        message: "forbidden: User \"bo\" cannot create resource \"rolebindings\"".into(),
                        code: Some(403),
                    },
                ],
                Status::PartiallyApplied,
            ),
        ]),
    );
    snapshot("journal", &c);
    press(&mut c, &["enter"]);
    let bufs = snapshot("journal-details", &c);
    let text = buffer_text(&bufs[1]);
    assert!(text.contains("✗ dev-us1/shop"), "{text}");
    assert!(text.contains("cannot create resource \"rolebindings\""), "{text}");
    // The filter, typed as `kdeck history` takes it.
    press(&mut c, &["esc", "/"]);
    type_text(&mut c, "actor:bo command:roles grant since:1h");
    let effects = press(&mut c, &["enter"]);
    match effects.as_slice() {
        [Effect::LoadJournal { filter, .. }] => {
            assert_eq!(filter.actor.as_deref(), Some("bo"));
            assert_eq!(filter.command.as_deref(), Some("roles grant"));
            assert_eq!(filter.since.as_deref(), Some("2026-11-22T09:00:00Z"));
        }
        other => panic!("{other:?}"),
    }
    // A filter that does not read says why, and keeps what was typed.
    press(&mut c, &["/", "ctrl-u"]);
    type_text(&mut c, "who:bo");
    let effects = press(&mut c, &["enter"]);
    assert!(effects.is_empty());
    match &c.overlay {
        Some(Overlay::Journal(v)) => {
            assert_eq!(v.filter, "who:bo");
            assert!(
                v.problem.as_deref().is_some_and(|p| p.contains("actor:")),
                "{:?}",
                v.problem
            );
        }
        other => panic!("{other:?}"),
    }
    // Run again, asked first.
    press(&mut c, &["/", "ctrl-u", "enter"]);
    press(&mut c, &["ctrl-r"]);
    assert!(matches!(&c.overlay, Some(Overlay::Confirm(q)) if q.question.starts_with("Run entry")));
}
