//! The shell: the cockpit's state as plain data, made of components (the
//! panes, the popups, a form, the input line). It routes each key to the
//! layer on top (a form, then the input line, then a popup, then the
//! focused pane), and takes the answers of the event loop by request id.
//! Anything that needs the network comes back as an [`Effect`].

pub mod access;
mod actions;
mod apps;
mod audit;
mod builds;
mod layers;
mod market;
mod objects;
mod palette;
mod release;
mod space;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use time::OffsetDateTime;

pub(crate) use types::Stale;
pub use types::{Effect, FOCUS_LIMIT, FetchKind, Focus, ObjectRef, Pane, RequestId, Scope, Toast};

use crate::component::Component;
use crate::forms::Form;
use crate::input::Input;
use crate::keymap::{Context, Keymap};
use crate::overlays::Overlay;
use crate::panes::{AppsPane, BuildsPane, LogsPane, PodsPane, RoutesPane, TreePane};
use crate::widgets::table::Nav;
use kdeck_fleet::live::ClusterSnapshot;
use kdeck_model::SpaceRef;

/// The whole cockpit.
#[derive(Debug, Clone)]
pub struct Cockpit {
    pub clusters: Vec<Arc<ClusterSnapshot>>,
    pub attached: BTreeSet<SpaceRef>,
    pub keymap: Keymap,
    pub focus: Focus,
    pub pane: Pane,
    pub scope: Scope,
    pub tree: TreePane,
    pub apps: AppsPane,
    /// The pods of the app drilled into from the apps pane.
    pub pods: PodsPane,
    pub routes: RoutesPane,
    pub builds: BuildsPane,
    pub logs: LogsPane,
    pub input: Option<Input>,
    pub overlay: Option<Overlay>,
    pub toasts: Vec<Toast>,
    /// Commands running now: quitting asks first while there are any.
    pub running: usize,
    pub read_only: bool,
    /// The team's hub, when this data dir is in a team: followed live, or
    /// not answering (the team's settings read-only meanwhile).
    pub team: Option<kdeck_team::HubState>,
    pub now: OffsetDateTime,
    pub quit: bool,
    /// Set when the theme should change (the loop owns the theme).
    pub theme_request: Option<String>,
    /// Which rows need rebuilding from the snapshots.
    stale: Stale,
    /// Rows visible in the focused list, set by the loop from the terminal size.
    pub page: usize,
    /// What was wrong with the user's keymap or theme files.
    pub warnings: Vec<String>,
    /// A form being filled in.
    pub form: Option<Form>,
    /// The apps kdeck stores (drafts show in the apps pane before their deploy).
    pub stored: Vec<kdeck_command::apps::Managed>,
    /// The last form submitted and the id of its command, kept until the
    /// command succeeds: a failure reopens it with what was typed and the reason.
    pub submitted: Option<(RequestId, Form)>,
    /// The last request id given out.
    last_id: RequestId,
    /// Builds this cockpit started, by the request that starts them, until
    /// the command is done.
    starting: BTreeMap<RequestId, builds::Watched>,
    /// Builds this cockpit started, followed to their end: a notice then,
    /// and a deploy of the image when it was asked for.
    pub watched: Vec<builds::Watched>,
    /// Production clusters (as set with `clusters set --prod`, else by
    /// name): every change to them is asked about first.
    pub prod: BTreeSet<String>,
    /// A form whose command waits for a yes (production).
    held_form: Option<Form>,
    /// What the user may do, per space, as the clusters said.
    pub access: Arc<kdeck_fleet::access::AccessMap>,
    /// Clusters set read-only (`clusters set NAME --read-only`).
    pub read_only_clusters: BTreeSet<String>,
    /// A view under a question it asked (the roles view under its revoke).
    pub(crate) under: Option<Overlay>,
    /// The journal view's filter, kept between openings.
    pub journal_filter: String,
}

impl Cockpit {
    pub fn new(keymap: Keymap, now: OffsetDateTime, log_lines: usize) -> Self {
        Self {
            clusters: Vec::new(),
            attached: BTreeSet::new(),
            keymap,
            focus: Focus::Tree,
            pane: Pane::Apps,
            scope: Scope::All,
            tree: TreePane::default(),
            apps: AppsPane::default(),
            pods: PodsPane::default(),
            routes: RoutesPane::default(),
            builds: BuildsPane::default(),
            logs: LogsPane::new(log_lines),
            input: None,
            overlay: None,
            toasts: Vec::new(),
            running: 0,
            read_only: false,
            team: None,
            now,
            quit: false,
            theme_request: None,
            stale: Stale::ALL,
            page: 20,
            warnings: Vec::new(),
            form: None,
            stored: Vec::new(),
            submitted: None,
            last_id: 0,
            starting: BTreeMap::new(),
            watched: Vec::new(),
            prod: BTreeSet::new(),
            held_form: None,
            access: Arc::default(),
            read_only_clusters: BTreeSet::new(),
            under: None,
            journal_filter: String::new(),
        }
    }

    /// A new request id: answers carry it back.
    pub fn next_id(&mut self) -> RequestId {
        self.last_id += 1;
        self.last_id
    }

    pub fn tree_filter(&self) -> &str {
        self.tree.table.filter()
    }

    /// The stored apps changed (a command ran).
    pub fn set_stored(&mut self, apps: Vec<kdeck_command::apps::Managed>) {
        self.stored = apps;
        self.stale = Stale::ALL;
    }

    /// New snapshots from the fleet. Only the rows whose maps changed are
    /// made again; false when nothing drawn changed.
    pub fn set_fleet(&mut self, clusters: Vec<Arc<ClusterSnapshot>>) -> bool {
        let old = std::mem::replace(&mut self.clusters, clusters);
        if old.len() != self.clusters.len() || old.iter().zip(&self.clusters).any(|(o, n)| o.cluster != n.cluster) {
            self.stale = Stale::ALL;
            return true;
        }
        let mut changed = false;
        for (o, n) in old.iter().zip(&self.clusters) {
            if Arc::ptr_eq(o, n) || o.same_as(n) {
                continue;
            }
            changed = true;
            let s = &mut self.stale;
            s.tree |=
                o.health != n.health || o.restricted != n.restricted || !Arc::ptr_eq(&o.namespaces, &n.namespaces);
            s.apps |= !Arc::ptr_eq(&o.apps, &n.apps);
            s.routes |= !Arc::ptr_eq(&o.routes, &n.routes);
            s.builds |= !Arc::ptr_eq(&o.builds, &n.builds) || !Arc::ptr_eq(&o.task_runs, &n.task_runs);
            s.pods |= !Arc::ptr_eq(&o.pods, &n.pods);
        }
        changed
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push(Toast {
            text: text.into(),
            error,
            until: self.now + time::Duration::seconds(if error { 8 } else { 4 }),
        });
    }

    /// Drops toasts whose time is up; true when one went.
    pub fn expire_toasts(&mut self) -> bool {
        let before = self.toasts.len();
        let now = self.now;
        self.toasts.retain(|t| t.until > now);
        self.toasts.len() != before
    }

    /// The spaces whose pods and builds should be watched.
    pub fn focus_spaces(&self) -> Vec<SpaceRef> {
        let mut out: BTreeSet<SpaceRef> = BTreeSet::new();
        match &self.scope {
            Scope::Spaces(s) => out.extend(s.iter().cloned()),
            scope => {
                let covered = || self.clusters.iter().filter(|c| scope.covers_cluster(&c.cluster));
                // Counted before any is made: a wide scope has thousands.
                if covered().map(|c| c.namespaces.len()).sum::<usize>() <= FOCUS_LIMIT {
                    out.extend(covered().flat_map(|c| c.namespaces.keys().map(|n| SpaceRef::new(&c.cluster, n))));
                }
            }
        }
        if let Some((a, _)) = &self.pods.of {
            out.insert(a.space.clone());
        }
        out.into_iter().collect()
    }

    /// True when the scope is too wide for pods and builds to be watched.
    pub fn focus_too_wide(&self) -> Option<usize> {
        if matches!(self.scope, Scope::Spaces(_)) {
            return None;
        }
        let n: usize = self
            .clusters
            .iter()
            .filter(|c| self.scope.covers_cluster(&c.cluster))
            .map(|c| c.namespaces.len())
            .sum();
        (n > FOCUS_LIMIT).then_some(n)
    }

    /// Rebuilds the rows that depend on the snapshots, scope or filters.
    pub fn refresh(&mut self) {
        let stale = std::mem::take(&mut self.stale);
        if stale.tree {
            let tree = crate::panes::tree::tree_rows(&self.clusters, &self.attached, &self.tree.collapsed);
            self.tree.table.set_rows(tree);
        }
        if stale.apps {
            self.apps
                .table
                .set_rows(crate::panes::apps::app_rows(&self.clusters, &self.scope, &self.stored));
        }
        if stale.routes {
            self.routes
                .table
                .set_rows(crate::panes::routes::route_rows(&self.clusters, &self.scope));
        }
        if stale.builds {
            self.builds
                .table
                .set_rows(crate::panes::builds::build_rows(&self.clusters, &self.scope));
            if let Some(Overlay::Run(v)) = &mut self.overlay {
                v.update(&self.clusters);
            }
        }
        if stale.pods {
            let pods = match &self.pods.of {
                Some((a, kind)) => crate::panes::pods::pod_rows(&self.clusters, a, kind),
                None => Vec::new(),
            };
            self.pods.table.set_rows(pods);
        }
    }

    /// The keymap context of what has the keys now.
    pub fn context(&self) -> Context {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => Context::Tree,
            (Focus::Pane, Pane::Logs) => Context::Logs,
            (Focus::Pane, _) => Context::List,
        }
    }

    /// The pane shown right of the tree for `pane` (an app's pods when drilled in).
    pub fn focused_pane_of(&self, pane: Pane) -> &dyn Component {
        match pane {
            Pane::Apps if self.pods.of.is_some() => &self.pods,
            Pane::Apps => &self.apps,
            Pane::Routes => &self.routes,
            Pane::Builds => &self.builds,
            Pane::Logs => &self.logs,
        }
    }

    /// The component that has the keys when no popup does.
    pub fn focused_pane(&self) -> &dyn Component {
        match self.focus {
            Focus::Tree => &self.tree,
            Focus::Pane => self.focused_pane_of(self.pane),
        }
    }

    /// [`Self::focused_pane`], to hand it an action.
    pub(crate) fn focused_pane_mut(&mut self) -> &mut dyn Component {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => &mut self.tree,
            (Focus::Pane, Pane::Apps) if self.pods.of.is_some() => &mut self.pods,
            (Focus::Pane, Pane::Apps) => &mut self.apps,
            (Focus::Pane, Pane::Routes) => &mut self.routes,
            (Focus::Pane, Pane::Builds) => &mut self.builds,
            (Focus::Pane, Pane::Logs) => &mut self.logs,
        }
    }

    /// The focused list, when a list has the keys.
    fn list_mut(&mut self) -> Option<&mut dyn Nav> {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => Some(&mut self.tree.table),
            (Focus::Pane, Pane::Apps) if self.pods.of.is_some() => Some(&mut self.pods.table),
            (Focus::Pane, Pane::Apps) => Some(&mut self.apps.table),
            (Focus::Pane, Pane::Routes) => Some(&mut self.routes.table),
            (Focus::Pane, Pane::Builds) => Some(&mut self.builds.table),
            (Focus::Pane, Pane::Logs) => None,
        }
    }

    /// A line arrived for the logs pane. Scrolled up, the view holds still.
    pub fn log_line(&mut self, l: kdeck_fleet::logs::LogLine) {
        self.logs.push(l);
    }

    /// A one-line summary of fleet health: `3 live · 1 unreachable`.
    pub fn health_summary(&self) -> Vec<(&'static str, usize)> {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for c in &self.clusters {
            *counts.entry(c.health.word()).or_default() += 1;
        }
        let order = ["live", "connecting", "stale", "forbidden", "unreachable"];
        order.iter().filter_map(|w| counts.get(w).map(|n| (*w, *n))).collect()
    }

    pub fn cluster(&self, name: &str) -> Option<&Arc<ClusterSnapshot>> {
        self.clusters.iter().find(|c| c.cluster == name)
    }

    /// Is a cluster in view prod? The header says so loudly.
    pub fn prod_in_view(&self) -> bool {
        self.clusters.iter().any(|c| {
            self.scope.covers_cluster(&c.cluster)
                && (self.prod.contains(&c.cluster)
                    || crate::theme::cluster_tier(&c.cluster) == crate::theme::Tier::Prod)
        })
    }
}
