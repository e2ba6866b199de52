//! The shell's actions: what a key means for the focused pane, and the
//! actions that span panes (drilling in, the scope, marks, opening logs,
//! popups and forms).

use std::collections::BTreeSet;

use super::{Cockpit, Effect, FetchKind, Focus, ObjectRef, Pane, Scope, Stale};
use crate::forms::Form;
use crate::input::{Input, InputKind};
use crate::keymap::{Action, Context};
use crate::overlays::{Confirm, CopyFlow, DriftView, Help, Overlay, Palette, PaletteItem, TextView};
use crate::panes::{AppRow, TreeRow};
use crate::widgets::table::Nav;
use kdeck_fleet::logs::{LogRequest, LogSource};
use kdeck_model::{AppRef, SpaceRef};

impl Cockpit {
    /// The action behind a key, or one run from the palette or a test.
    pub fn action(&mut self, a: Action) -> Vec<Effect> {
        let ctx = self.context();
        // The focused pane first: its own moves and actions.
        let page = self.page;
        if self.focused_pane_mut().event(a, page) {
            if let Some(notice) = self.logs.notice.take() {
                self.toast(notice, false);
            }
            return Vec::new();
        }
        match a {
            Action::Quit => {
                if self.running > 0 {
                    self.overlay = Some(Overlay::ConfirmQuit(crate::overlays::ConfirmQuit));
                } else {
                    self.quit = true;
                }
            }
            Action::Help => self.overlay = Some(Overlay::Help(Help::default())),
            Action::Palette => self.open_palette(),
            Action::NextPane | Action::PrevPane => {
                // The tree, then each pane, round.
                let stops = 1 + Pane::ALL.len();
                let at = match self.focus {
                    Focus::Tree => 0,
                    Focus::Pane => 1 + Pane::ALL.iter().position(|p| *p == self.pane).unwrap_or(0),
                };
                let next = if a == Action::NextPane {
                    (at + 1) % stops
                } else {
                    (at + stops - 1) % stops
                };
                if next == 0 {
                    self.focus = Focus::Tree;
                } else {
                    self.focus = Focus::Pane;
                    self.pane = Pane::ALL[next - 1];
                }
            }
            Action::AllSpaces => self.set_scope(Scope::All),
            Action::AppsPane => self.show(Pane::Apps),
            Action::RoutesPane => self.show(Pane::Routes),
            Action::BuildsPane => self.show(Pane::Builds),
            Action::LogsPane => self.show(Pane::Logs),
            // Moves in a list the focused pane did not take (none there).
            Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown
            | Action::HalfPageUp
            | Action::HalfPageDown
            | Action::SortNext
            | Action::SortReverse => {}
            Action::Filter => {
                if ctx != Context::Logs {
                    let current = self.list_mut().map(|l| l.filter().to_string()).unwrap_or_default();
                    self.input = Some(Input::new(InputKind::Filter, current));
                }
            }
            Action::Back => return self.back(),
            Action::Enter => return self.enter(),
            Action::Mark => self.mark(false),
            Action::MarkAll => self.mark(true),
            Action::EditApp | Action::Drift | Action::Adopt => return self.managed_action(a),
            Action::Copy => self.open_copy(),
            Action::Edit => {
                if self.read_only {
                    self.toast("read-only: this cockpit changes nothing", true);
                } else if let Some(object) = self.object_under_cursor() {
                    return vec![Effect::EditYaml(object)];
                }
            }
            Action::Yaml | Action::Describe => {
                if let Some(object) = self.object_under_cursor() {
                    let what = if a == Action::Yaml {
                        FetchKind::Yaml
                    } else {
                        FetchKind::Describe
                    };
                    let id = self.next_id();
                    let title = format!(
                        "{} {} {}/{}/{}",
                        if a == Action::Yaml { "yaml" } else { "describe" },
                        object.kind,
                        object.cluster,
                        object.namespace,
                        object.name
                    );
                    self.overlay = Some(Overlay::Text(TextView::loading(id, title, "loading…")));
                    return vec![Effect::Fetch { id, what, object }];
                }
            }
            Action::Logs => return self.open_logs(),
            Action::Expand | Action::Collapse => {
                if let Some(TreeRow::Cluster { name, .. }) = self.tree.table.current().cloned() {
                    if a == Action::Collapse {
                        self.tree.collapsed.insert(name);
                    } else {
                        self.tree.collapsed.remove(&name);
                    }
                    self.stale = Stale::ALL;
                    self.refresh();
                }
            }
            // The logs pane's own, taken above when it has the keys.
            Action::Follow
            | Action::Wrap
            | Action::Timestamps
            | Action::NextMatch
            | Action::PrevMatch
            | Action::Container
            | Action::Clear => {}
            Action::Search => self.input = Some(Input::new(InputKind::LogSearch, self.logs.search.clone())),
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
            // Popups, forms and the input line read these in their own contexts.
            Action::Yes
            | Action::Submit
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
            | Action::ToggleSecrets => {}
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
        }
        Vec::new()
    }

    /// A command to run: its id comes back with its outcome.
    pub(crate) fn run(&mut self, command: kdeck_command::Command) -> Vec<Effect> {
        let id = self.next_id();
        vec![Effect::Run {
            id,
            command: Box::new(command),
        }]
    }

    /// The selected app row, when the apps pane (not an app's pods) has focus.
    fn selected_app(&self) -> Option<AppRow> {
        (self.focus == Focus::Pane && self.pane == Pane::Apps && self.pods.of.is_none())
            .then(|| self.apps.table.current().cloned())
            .flatten()
    }

    /// Edit settings, show drift, adopt: what kdeck's stored settings of the
    /// selected app make possible.
    fn managed_action(&mut self, a: Action) -> Vec<Effect> {
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

    fn show(&mut self, p: Pane) {
        self.pane = p;
        self.focus = Focus::Pane;
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
            (Focus::Pane, Pane::Builds) => return self.open_logs(),
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

    fn object_under_cursor(&self) -> Option<ObjectRef> {
        let obj = |cluster: &str, namespace: &str, kind: &'static str, name: &str| ObjectRef {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            kind,
            name: name.to_string(),
        };
        match (self.focus, self.pane) {
            (Focus::Tree, _) => match self.tree.table.current()? {
                TreeRow::Space { space, .. } => Some(obj(&space.cluster, "", "Namespace", &space.namespace)),
                _ => None,
            },
            (Focus::Pane, Pane::Apps) => match &self.pods.of {
                Some((a, _)) => self
                    .pods
                    .table
                    .current()
                    .map(|p| obj(&a.space.cluster, &a.space.namespace, "Pod", &p.pod.name)),
                None => self
                    .apps
                    .table
                    .current()
                    .map(|r| obj(&r.cluster, &r.app.namespace, r.app.kind, &r.app.name)),
            },
            (Focus::Pane, Pane::Routes) => self
                .routes
                .table
                .current()
                .map(|r| obj(&r.cluster, &r.namespace, "Ingress", &r.ingress)),
            (Focus::Pane, Pane::Builds) => self
                .builds
                .table
                .current()
                .map(|b| obj(&b.cluster, &b.build.namespace, "PipelineRun", &b.build.name)),
            (Focus::Pane, Pane::Logs) => None,
        }
    }

    fn open_logs(&mut self) -> Vec<Effect> {
        let (cluster, title, req) = match (self.focus, self.pane) {
            (Focus::Pane, Pane::Apps) => match &self.pods.of {
                Some((a, _)) => {
                    let Some(p) = self.pods.table.current() else {
                        return Vec::new();
                    };
                    (
                        a.space.cluster.clone(),
                        format!("pod {}/{}", a.space, p.pod.name),
                        LogRequest {
                            namespace: a.space.namespace.clone(),
                            source: LogSource::Pods(vec![p.pod.name.clone()]),
                            container: None,
                            follow: true,
                            tail: Some(500),
                            previous: false,
                        },
                    )
                }
                None => {
                    let Some(r) = self.apps.table.current() else {
                        return Vec::new();
                    };
                    (
                        r.cluster.to_string(),
                        format!("app {}/{}/{}", r.cluster, r.app.namespace, r.app.name),
                        LogRequest {
                            namespace: r.app.namespace.clone(),
                            source: LogSource::App(r.app.name.clone()),
                            container: None,
                            follow: true,
                            tail: Some(200),
                            previous: false,
                        },
                    )
                }
            },
            (Focus::Pane, Pane::Builds) => {
                let Some(b) = self.builds.table.current() else {
                    return Vec::new();
                };
                let snap = self.clusters.iter().find(|c| *c.cluster == *b.cluster);
                let pods: Vec<String> = snap
                    .map(|s| {
                        s.task_runs_of(&b.build.namespace, &b.build.name)
                            .iter()
                            .filter(|t| !t.pod.is_empty())
                            .map(|t| t.pod.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                if pods.is_empty() {
                    self.toast(format!("build {} has no step pods yet", b.build.name), false);
                    return Vec::new();
                }
                (
                    b.cluster.to_string(),
                    format!("build {}/{}/{}", b.cluster, b.build.namespace, b.build.name),
                    LogRequest {
                        namespace: b.build.namespace.clone(),
                        source: LogSource::Pods(pods),
                        container: None,
                        follow: true,
                        tail: None,
                        previous: false,
                    },
                )
            }
            _ => return Vec::new(),
        };
        self.logs.open(title);
        self.pane = Pane::Logs;
        self.focus = Focus::Pane;
        vec![Effect::OpenLogs { cluster, req }]
    }

    /// The copy flow over the marked apps (or the selected one).
    fn open_copy(&mut self) {
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

    fn open_palette(&mut self) {
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
