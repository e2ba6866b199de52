//! The shell's actions: the focused pane takes its own first; the rest are
//! here (panes and the scope, drilling in, marks) or in `objects`, `apps`
//! and `palette`.

use std::collections::BTreeSet;

use super::{Cockpit, Effect, Focus, Pane, Scope, Stale};
use crate::input::{Input, InputKind};
use crate::keymap::{Action, Context};
use crate::overlays::{ConfirmQuit, Help, Overlay};
use crate::panes::{AppRow, TreeRow};
use crate::widgets::table::Nav;
use kdeck_model::{AppRef, SpaceRef};

impl Cockpit {
    /// The action behind a key, or one run from the palette or a test: the
    /// focused pane takes its own first; the shell does the rest.
    pub fn action(&mut self, a: Action) -> Vec<Effect> {
        let page = self.page;
        if self.focused_pane_mut().event(a, page) {
            if let Some(notice) = self.logs.notice.take() {
                self.toast(notice, false);
            }
            return Vec::new();
        }
        // What the user may not do here is refused before any request.
        if self.refuse(a) {
            return Vec::new();
        }
        match a {
            Action::Quit if self.running > 0 => self.overlay = Some(Overlay::ConfirmQuit(ConfirmQuit)),
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Some(Overlay::Help(Help::default())),
            Action::Palette => self.open_palette(),
            Action::NextPane | Action::PrevPane => self.cycle(a == Action::NextPane),
            Action::AllSpaces => self.set_scope(Scope::All),
            Action::AppsPane => self.show(Pane::Apps),
            Action::RoutesPane => self.show(Pane::Routes),
            Action::BuildsPane => self.show(Pane::Builds),
            Action::LogsPane => self.show(Pane::Logs),
            Action::Filter => self.open_filter(),
            Action::Search => self.input = Some(Input::new(InputKind::LogSearch, self.logs.search.clone())),
            Action::Back => return self.back(),
            Action::Enter => return self.enter(),
            Action::Mark | Action::MarkAll => self.mark(a == Action::MarkAll),
            Action::Expand | Action::Collapse => self.fold(a == Action::Expand),
            Action::Yaml | Action::Describe | Action::Edit | Action::Logs => return self.object_action(a),
            Action::NewApp
            | Action::Scale
            | Action::Restart
            | Action::Deploy
            | Action::AddRoute
            | Action::Bind
            | Action::EditApp
            | Action::Drift
            | Action::Adopt
            | Action::Copy => return self.app_action(a),
            Action::Autoscale | Action::Canary | Action::AbortCanary => return self.release_action(a),
            Action::SpaceSettings => return self.open_space(),
            Action::Market => return self.open_market(),
            Action::Releases => return self.open_releases(),
            // The marketplace's and the releases view's own.
            Action::Install | Action::AddCatalog | Action::Refresh | Action::Upgrade | Action::Uninstall => {}
            // The space view's own; it answers with them.
            Action::SetQuota | Action::SetKey | Action::UnsetKey | Action::Reveal => {}
            Action::Build
            | Action::CancelBuild
            | Action::CancelBuildGraceful
            | Action::Rerun
            | Action::BuildSettings => return self.build_action(a),
            Action::Roles => return self.open_roles(),
            Action::Journal => return self.open_journal(),
            Action::History => return self.open_history(),
            // A pane's own (list moves, sorts, the log's keys), taken above
            // when it has the keys; elsewhere they do nothing.
            Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown
            | Action::HalfPageUp
            | Action::HalfPageDown
            | Action::SortNext
            | Action::SortReverse
            | Action::Follow
            | Action::Wrap
            | Action::Timestamps
            | Action::NextMatch
            | Action::PrevMatch
            | Action::Container
            | Action::Clear => {}
            // Popups, forms and the input line read these in their own contexts.
            Action::Yes
            | Action::Submit
            | Action::Preview
            | Action::NextField
            | Action::PrevField
            | Action::ClearLine
            | Action::DeleteBack
            | Action::DeleteForward
            | Action::CursorLeft
            | Action::CursorRight
            | Action::LineStart
            | Action::LineEnd
            | Action::Newline
            | Action::ConflictPolicy
            | Action::ToggleSecrets
            | Action::Grant
            | Action::Revoke
            | Action::Details
            | Action::Rollback => {}
        }
        Vec::new()
    }

    /// The tree, then each pane, round.
    fn cycle(&mut self, forward: bool) {
        let stops = 1 + Pane::ALL.len();
        let at = match self.focus {
            Focus::Tree => 0,
            Focus::Pane => 1 + Pane::ALL.iter().position(|p| *p == self.pane).unwrap_or(0),
        };
        let next = if forward {
            (at + 1) % stops
        } else {
            (at + stops - 1) % stops
        };
        match next.checked_sub(1).and_then(|i| Pane::ALL.get(i)) {
            None => self.focus = Focus::Tree,
            Some(p) => self.show(*p),
        }
    }

    /// The input line as the focused list's filter (the logs search instead).
    fn open_filter(&mut self) {
        if self.context() != Context::Logs {
            let current = self.list_mut().map(|l| l.filter().to_string()).unwrap_or_default();
            self.input = Some(Input::new(InputKind::Filter, current));
        }
    }

    /// Opens or closes the cluster under the cursor in the tree.
    fn fold(&mut self, open: bool) {
        if let Some(TreeRow::Cluster { name, .. }) = self.tree.table.current().cloned() {
            if open {
                self.tree.collapsed.remove(&name);
            } else {
                self.tree.collapsed.insert(name);
            }
            self.stale = Stale::ALL;
            self.refresh();
        }
    }

    pub fn set_scope(&mut self, scope: Scope) {
        // Another scope's lists start at their top row (the row the cursor
        // was on stays selected only when it is in the new list too).
        if scope != self.scope {
            self.apps.table.cursor = 0;
            self.apps.table.offset = 0;
            self.routes.table.cursor = 0;
            self.routes.table.offset = 0;
            self.builds.table.cursor = 0;
            self.builds.table.offset = 0;
        }
        self.scope = scope;
        self.pods.of = None;
        self.stale = Stale::ALL;
        self.refresh();
        if self.focus == Focus::Tree {
            self.focus = Focus::Pane;
            if self.pane == Pane::Logs && !self.logs.open {
                self.pane = Pane::Apps;
            }
        }
    }

    pub(super) fn show(&mut self, p: Pane) {
        self.pane = p;
        self.focus = Focus::Pane;
    }

    fn back(&mut self) -> Vec<Effect> {
        if let Some(l) = self.list_mut()
            && !l.filter().is_empty()
        {
            l.set_filter(String::new());
            return Vec::new();
        }
        if self.focus == Focus::Pane && self.pane == Pane::Logs && !self.logs.search.is_empty() {
            self.logs.search.clear();
            return Vec::new();
        }
        if self.focus == Focus::Pane && self.pane == Pane::Apps && self.pods.of.is_some() {
            self.pods.of = None;
            self.stale = Stale::ALL;
            self.refresh();
            return Vec::new();
        }
        if self.focus == Focus::Pane && self.pane == Pane::Logs {
            self.pane = Pane::Apps;
            return Vec::new();
        }
        self.focus = Focus::Tree;
        Vec::new()
    }

    fn enter(&mut self) -> Vec<Effect> {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => {
                let scope = match self.tree.table.current() {
                    Some(TreeRow::All { .. }) => Scope::All,
                    Some(TreeRow::Cluster { name, .. }) => Scope::Cluster(name.clone()),
                    Some(TreeRow::Space { space, .. }) => {
                        if !self.tree.marked.is_empty() && self.tree.marked.contains(space) {
                            Scope::Spaces(self.tree.marked.clone())
                        } else {
                            Scope::Spaces(BTreeSet::from([space.clone()]))
                        }
                    }
                    None => return Vec::new(),
                };
                self.set_scope(scope);
            }
            (Focus::Pane, Pane::Apps) if self.pods.of.is_none() => {
                if let Some(r) = self.apps.table.current() {
                    let a = AppRef::new(SpaceRef::new(&*r.cluster, &r.app.namespace), &r.app.name);
                    self.pods.of = Some((a, r.app.kind));
                    self.pods.table.reset();
                    self.stale = Stale::ALL;
                    self.refresh();
                }
            }
            (Focus::Pane, Pane::Apps) => return self.open_logs(),
            (Focus::Pane, Pane::Builds) => self.open_run(),
            _ => {}
        }
        Vec::new()
    }

    fn mark(&mut self, all: bool) {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => {
                let rows: Vec<TreeRow> = if all {
                    self.tree.table.visible().cloned().collect()
                } else {
                    self.tree.table.current().cloned().into_iter().collect()
                };
                for r in rows {
                    if let TreeRow::Space { space, .. } = r
                        && !self.tree.marked.remove(&space)
                    {
                        self.tree.marked.insert(space);
                    }
                }
                if !all {
                    self.tree.table.navigate(Action::Down, self.page.max(1));
                }
            }
            (Focus::Pane, Pane::Apps) if self.pods.of.is_none() => {
                let rows: Vec<AppRef> = if all {
                    self.apps.table.visible().map(AppRow::app_ref).collect()
                } else {
                    self.apps.table.current().map(AppRow::app_ref).into_iter().collect()
                };
                if all && rows.iter().all(|r| self.apps.marks.contains(r)) {
                    for r in &rows {
                        self.apps.marks.remove(r);
                    }
                } else {
                    for r in rows {
                        if all || !self.apps.marks.remove(&r) {
                            self.apps.marks.insert(r);
                        }
                    }
                }
                if !all {
                    self.apps.table.navigate(Action::Down, self.page.max(1));
                }
            }
            _ => {}
        }
    }
}
