//! The palette: opening it over everything there is, and running a choice.

use std::collections::BTreeSet;

use super::{Cockpit, Effect, Pane, Scope};
use crate::input::{Input, InputKind};
use crate::keymap::Action;
use crate::overlays::{Help, Overlay, Palette, PaletteItem};
use kdeck_model::{AppRef, SpaceRef};

impl Cockpit {
    pub(super) fn open_palette(&mut self) {
        let mut items: Vec<PaletteItem> = crate::overlays::palette::COMMANDS
            .iter()
            .map(|(c, h)| PaletteItem::Command(c, h))
            .collect();
        items.extend(["dark", "light", "mono"].map(PaletteItem::Theme));
        for c in &self.clusters {
            for ns in c.namespaces.keys() {
                items.push(PaletteItem::Space(SpaceRef::new(&c.cluster, ns)));
            }
            for a in c.apps.values() {
                items.push(PaletteItem::App(
                    AppRef::new(SpaceRef::new(&c.cluster, &a.namespace), &a.name),
                    a.kind,
                ));
            }
        }
        for s in &self.attached {
            if !items.iter().any(|i| matches!(i, PaletteItem::Space(x) if x == s)) {
                items.push(PaletteItem::Space(s.clone()));
            }
        }
        self.overlay = Some(Overlay::Palette(Palette::new(items)));
        self.input = Some(Input::new(InputKind::Palette, String::new()));
    }

    pub(crate) fn run_palette(&mut self) -> Vec<Effect> {
        let Some(Overlay::Palette(p)) = self.overlay.take() else {
            return Vec::new();
        };
        let Some(item) = p.chosen().cloned() else {
            return Vec::new();
        };
        match item {
            PaletteItem::Command(c, _) => match c {
                "apps" => self.show(Pane::Apps),
                "routes" => self.show(Pane::Routes),
                "builds" => self.show(Pane::Builds),
                "logs" => self.show(Pane::Logs),
                "all" => self.set_scope(Scope::All),
                "marks clear" => {
                    self.apps.marks.clear();
                    self.tree.marked.clear();
                }
                "builds setup" => match &self.scope {
                    _ if self.read_only => self.toast("read-only: this cockpit changes nothing", true),
                    Scope::Spaces(s) if s.len() == 1 => {
                        let space = s.iter().next().map(ToString::to_string).unwrap_or_default();
                        return self.run(kdeck_command::Command::SetupBuilds { space });
                    }
                    _ => self.toast("put one space in view first (enter on it in the tree)", true),
                },
                "roles" => return self.action(Action::Roles),
                "journal" => return self.action(Action::Journal),
                "help" => self.overlay = Some(Overlay::Help(Help::default())),
                "quit" => return self.action(Action::Quit),
                _ => {}
            },
            PaletteItem::Theme(t) => self.theme_request = Some(t.to_string()),
            PaletteItem::Space(s) => self.set_scope(Scope::Spaces(BTreeSet::from([s]))),
            PaletteItem::App(a, kind) => {
                self.set_scope(Scope::Spaces(BTreeSet::from([a.space.clone()])));
                self.show(Pane::Apps);
                self.apps
                    .table
                    .select_where(|r| *r.cluster == *a.space.cluster && r.app.name == a.name && r.app.kind == kind);
            }
        }
        Vec::new()
    }
}
