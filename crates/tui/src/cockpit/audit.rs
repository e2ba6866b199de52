//! Who may do what, and who did what: the roles view of a space (or the
//! marked spaces) with its grant form and revoke question, the journal view
//! with its filter, and the permissions the event loop's tracker answers.

use std::sync::Arc;

use super::access::GRANT;
use super::{Cockpit, Effect, RequestId};
use crate::forms::Form;
use crate::input::{Input, InputKind};
use crate::keymap::Action;
use crate::overlays::Overlay;
use crate::overlays::journal::{JournalAsk, JournalView};
use crate::overlays::roles::{RoleLine, RolesAsk, RolesView, SpaceRoles};
use kdeck_command::Command;
use kdeck_fleet::access::AccessMap;
use kdeck_model::SpaceRef;

impl Cockpit {
    /// New answers from the permissions tracker.
    pub fn set_access(&mut self, access: AccessMap) {
        self.access = Arc::new(access);
    }

    /// The roles of the marked spaces, or of the space under the cursor.
    pub(super) fn open_roles(&mut self) -> Vec<Effect> {
        let spaces: Vec<SpaceRef> = if self.tree.marked.is_empty() {
            self.space_under_cursor().into_iter().collect()
        } else {
            self.tree.marked.iter().cloned().collect()
        };
        if spaces.is_empty() {
            self.toast("put the cursor on a space, or mark spaces, first", true);
            return Vec::new();
        }
        let id = self.next_id();
        self.overlay = Some(Overlay::Roles(Box::new(RolesView::new(id, spaces.clone()))));
        vec![Effect::ListRoles { id, spaces }]
    }

    /// The roles read as `id`.
    pub fn roles_fetched(&mut self, id: RequestId, answers: Vec<(SpaceRef, SpaceRoles)>) {
        for o in [self.overlay.as_mut(), self.under.as_mut()].into_iter().flatten() {
            if let Overlay::Roles(v) = o {
                v.answered(id, answers.clone());
            }
        }
    }

    pub(super) fn roles_ask(&mut self, ask: RolesAsk) -> Vec<Effect> {
        match ask {
            RolesAsk::Grant(spaces, subjects) => {
                if self.read_only {
                    self.toast("read-only: this cockpit changes nothing", true);
                    return Vec::new();
                }
                let (refused, spaces): (Vec<SpaceRef>, Vec<SpaceRef>) = spaces
                    .into_iter()
                    .partition(|s| self.denied_in(s, GRANT, "grant").is_some());
                if let Some(first) = refused.first() {
                    let why = self.denied_in(first, GRANT, "grant").unwrap_or_default();
                    if spaces.is_empty() {
                        self.toast(why, true);
                        return Vec::new();
                    }
                    self.toast(format!("{why}; granting on the other {} only", spaces.len()), true);
                }
                self.form = Some(Form::grant(spaces, subjects));
                Vec::new()
            }
            RolesAsk::Revoke(space, line) => self.revoke(space, line),
        }
    }

    fn revoke(&mut self, space: SpaceRef, line: RoleLine) -> Vec<Effect> {
        if let Some(why) = self.denied_in(&space, GRANT, "revoke") {
            self.toast(why, true);
            return Vec::new();
        }
        if line.role == "custom" {
            self.toast(
                format!(
                    "{} binds {}, not a kdeck role: change it with kubectl (kubectl -n {} delete rolebinding {})",
                    line.binding, line.role_ref, space.namespace, line.binding
                ),
                true,
            );
            return Vec::new();
        }
        let not_ours = if line.kdeck {
            String::new()
        } else {
            format!(" ({} was not made by kdeck)", line.binding)
        };
        let command = Command::RevokeRole {
            spaces: vec![space.to_string()],
            subject: line.subject.clone(),
            role: line.role.clone(),
            force: !line.kdeck,
        };
        self.ask_over(
            format!("Revoke {} from {} in {space}{not_ours}?", line.role, line.subject),
            command,
        );
        Vec::new()
    }

    /// The journal, newest first, with the filter last used.
    pub(super) fn open_journal(&mut self) -> Vec<Effect> {
        let id = self.next_id();
        let filter = self.journal_filter.clone();
        self.overlay = Some(Overlay::Journal(Box::new(JournalView::new(id, filter.clone()))));
        self.load_journal(id, &filter)
    }

    fn load_journal(&mut self, id: RequestId, text: &str) -> Vec<Effect> {
        match kdeck_command::history::Filter::parse(text, self.now) {
            Ok(filter) => vec![Effect::LoadJournal { id, filter }],
            Err(why) => {
                if let Some(Overlay::Journal(v)) = &mut self.overlay {
                    v.answered(id, Err(why));
                }
                Vec::new()
            }
        }
    }

    /// Read the journal again for the view, when it is open (a command ended,
    /// the store changed).
    pub fn journal_again(&mut self) -> Vec<Effect> {
        let Some(Overlay::Journal(v)) = &self.overlay else {
            return Vec::new();
        };
        let text = v.filter.clone();
        let id = self.next_id();
        if let Some(Overlay::Journal(v)) = &mut self.overlay {
            v.id = id;
        }
        self.load_journal(id, &text)
    }

    /// The journal read as `id`.
    pub fn journal_fetched(&mut self, id: RequestId, r: Result<Vec<kdeck_command::JournalEntry>, String>) {
        for o in [self.overlay.as_mut(), self.under.as_mut()].into_iter().flatten() {
            if let Overlay::Journal(v) = o {
                v.answered(id, r.clone());
            }
        }
    }

    pub(super) fn journal_ask(&mut self, ask: JournalAsk) -> Vec<Effect> {
        match ask {
            JournalAsk::Filter(text) => {
                self.input = Some(Input::new(InputKind::JournalFilter, text));
                Vec::new()
            }
            JournalAsk::Rerun(entry) => {
                if self.read_only {
                    self.toast("read-only: this cockpit changes nothing", true);
                    return Vec::new();
                }
                let q = format!(
                    "Run entry {} again: {} {}?",
                    entry.id,
                    entry.command.verb(),
                    entry.target
                );
                self.ask_over(q, entry.command);
                Vec::new()
            }
        }
    }

    /// The filter typed for the journal view.
    pub(super) fn journal_filter_typed(&mut self, text: String) -> Vec<Effect> {
        self.journal_filter = text.clone();
        if let Some(Overlay::Journal(v)) = &mut self.overlay {
            v.filter = text;
            v.loading = true;
        }
        self.journal_again()
    }

    /// A command ended: the views that show its effects read again, and
    /// the permissions of the spaces a roles command touched are asked again.
    pub fn after_command(&mut self) -> Vec<Effect> {
        let mut out = self.journal_again();
        out.extend(self.revisions_again());
        out.extend(self.space_again());
        out.extend(self.market_again());
        if let Some(Overlay::Roles(v)) = &self.overlay {
            let spaces = v.spaces.clone();
            let id = self.next_id();
            if let Some(Overlay::Roles(v)) = &mut self.overlay {
                v.id = id;
            }
            out.push(Effect::Recheck(spaces.clone()));
            out.push(Effect::ListRoles { id, spaces });
        }
        out
    }

    /// Refused before any request: the reason, said.
    pub(super) fn refuse(&mut self, a: Action) -> bool {
        match self.denied(a) {
            Some(why) => {
                self.toast(why, true);
                true
            }
            None => false,
        }
    }
}
