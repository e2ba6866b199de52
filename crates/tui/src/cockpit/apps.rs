//! Actions on apps: new, scale, restart, deploy, routes, bindings, edit,
//! drift, adopt, copy; each opens a form or a popup, or asks for a command.

use super::{Cockpit, Effect, Focus, Pane, Scope};
use crate::forms::Form;
use crate::keymap::{Action, Context};
use crate::overlays::{Confirm, CopyFlow, DriftView, Overlay};
use crate::panes::AppRow;
use kdeck_model::{AppRef, SpaceRef};

impl Cockpit {
    /// Acting on apps: a new one in the space in view, or the selected
    /// one's forms, deploy, restart, settings, drift, adoption, copy.
    pub(super) fn app_action(&mut self, a: Action) -> Vec<Effect> {
        match a {
            Action::NewApp => {
                if self.read_only {
                    self.toast("read-only: this cockpit changes nothing", true);
                    return Vec::new();
                }
                // The space of the selected row, or the only space in view.
                let space = self
                    .apps
                    .table
                    .current()
                    .map(|r| SpaceRef::new(&*r.cluster, &r.app.namespace))
                    .or_else(|| match &self.scope {
                        Scope::Spaces(s) if s.len() == 1 => s.iter().next().cloned(),
                        _ => None,
                    });
                match space {
                    Some(s) => self.form = Some(Form::new_app(s)),
                    None => self.toast("put a space in view first (enter on it in the tree)", true),
                }
            }
            Action::Scale | Action::Restart | Action::Deploy | Action::AddRoute | Action::Bind => {
                let Some(r) = self.selected_app() else {
                    return Vec::new();
                };
                if self.read_only {
                    self.toast("read-only: this cockpit changes nothing", true);
                    return Vec::new();
                }
                let app = r.app_ref();
                if a == Action::Scale {
                    self.form = Some(Form::scale(app, r.app.desired));
                } else if a == Action::AddRoute {
                    self.form = Some(Form::route(app));
                } else if a == Action::Bind {
                    self.form = Some(Form::bind(app));
                } else if a == Action::Deploy {
                    return self.run(kdeck_command::Command::DeployApp {
                        app: app.to_string(),
                        wait: Some(120),
                    });
                } else {
                    self.overlay = Some(Overlay::Confirm(Confirm {
                        question: format!("Restart {app}, pod by pod?"),
                        command: Box::new(kdeck_command::Command::RestartApp { app: app.to_string() }),
                    }));
                }
            }
            Action::EditApp | Action::Drift | Action::Adopt => return self.managed_action(a),
            Action::Copy => self.open_copy(),
            _ => {}
        }
        Vec::new()
    }

    /// The production clusters a command acts on.
    pub(crate) fn prod_of(&self, command: &kdeck_command::Command) -> Vec<String> {
        if !command.changes_cluster() {
            return Vec::new();
        }
        command
            .clusters()
            .into_iter()
            .filter(|c| self.prod.contains(c))
            .collect()
    }

    /// A command to run: its id comes back with its outcome. A change to a
    /// production cluster is asked about first.
    pub(crate) fn run(&mut self, command: kdeck_command::Command) -> Vec<Effect> {
        if !self.prod_of(&command).is_empty() {
            let question = format!("{} {}?", command.verb(), command.target());
            self.ask_over(question, command);
            return Vec::new();
        }
        self.run_now(command)
    }

    /// A question before `command` runs, said to be on production when it
    /// changes one; a view the question came from (roles, revisions, a
    /// run) comes back after.
    pub(super) fn ask_over(&mut self, question: String, command: kdeck_command::Command) {
        let prod = self.prod_of(&command);
        let question = if prod.is_empty() {
            question
        } else {
            format!("On production ({}): {question}", prod.join(", "))
        };
        if self.overlay.is_some() {
            self.under = self.overlay.take();
        }
        self.overlay = Some(Overlay::Confirm(Confirm {
            question,
            command: Box::new(command),
        }));
    }

    /// A command to run, asked about already.
    pub(crate) fn run_now(&mut self, command: kdeck_command::Command) -> Vec<Effect> {
        let id = self.next_id();
        vec![Effect::Run {
            id,
            command: Box::new(command),
        }]
    }

    /// The selected app row, when the apps pane (not an app's pods) has focus.
    pub(super) fn selected_app(&self) -> Option<AppRow> {
        (self.focus == Focus::Pane && self.pane == Pane::Apps && self.pods.of.is_none())
            .then(|| self.apps.table.current().cloned())
            .flatten()
    }

    /// Edit settings, show drift, adopt: what kdeck's stored settings of the
    /// selected app make possible.
    pub(super) fn managed_action(&mut self, a: Action) -> Vec<Effect> {
        use kdeck_command::Command;
        use kdeck_command::apps::Sync;
        let Some(r) = self.selected_app() else {
            return Vec::new();
        };
        let app = r.app_ref();
        let stored = self.stored.iter().find(|m| m.settings.app == app);
        if a != Action::Drift && self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
            return Vec::new();
        }
        match (a, stored) {
            (Action::EditApp, Some(m)) => self.form = Some(Form::edit_app(&m.settings)),
            (Action::EditApp | Action::Drift, None) => self.toast(
                format!(
                    "{app} is not managed by kdeck: adopt it first ({})",
                    self.keymap.hint(Context::List, Action::Adopt)
                ),
                true,
            ),
            (Action::Drift, Some(_)) => {
                let id = self.next_id();
                self.overlay = Some(Overlay::Drift(DriftView::loading(id, app.clone())));
                return vec![Effect::Drift { id, app }];
            }
            (Action::Adopt, None) => {
                return self.run(Command::AdoptApp {
                    app: app.to_string(),
                    replace: false,
                });
            }
            (Action::Adopt, Some(_)) if r.sync == Some(Sync::Draft) => self.toast(
                format!("{app} is not in its cluster yet: there is nothing to adopt"),
                true,
            ),
            (Action::Adopt, Some(_)) => {
                self.overlay = Some(Overlay::Confirm(Confirm {
                    question: format!("Take the cluster's version of {app} over kdeck's settings?"),
                    command: Box::new(Command::AdoptApp {
                        app: app.to_string(),
                        replace: true,
                    }),
                }));
            }
            _ => {}
        }
        Vec::new()
    }

    /// The copy flow over the marked apps (or the selected one).
    pub(super) fn open_copy(&mut self) {
        if self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
            return;
        }
        let sources: Vec<AppRef> = if self.apps.marks.is_empty() {
            self.selected_app().map(|r| r.app_ref()).into_iter().collect()
        } else {
            self.apps.marks.iter().cloned().collect()
        };
        if sources.is_empty() {
            self.toast("mark apps with space (or select one) in the apps pane, then copy", true);
            return;
        }
        let mut spaces: Vec<SpaceRef> = self
            .clusters
            .iter()
            .flat_map(|c| c.namespaces.keys().map(|ns| SpaceRef::new(&c.cluster, ns)))
            .collect();
        spaces.extend(self.attached.iter().cloned());
        self.overlay = Some(Overlay::Copy(Box::new(CopyFlow::new(sources, spaces, &self.keymap))));
    }
}
