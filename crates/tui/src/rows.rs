//! The rows of the tree and the panes, built from snapshots when something
//! changed (never per frame), and a table that filters, sorts and keeps the
//! selection on the same row while rows move.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::keymap::Action;
use super::state::Scope;
use kdeck_command::apps::{Managed, Sync};
use kdeck_fleet::live::{AppView, BuildView, ClusterSnapshot, Health, PodView, Rollout};
use kdeck_model::{AppRef, SpaceRef};

/// What a table needs of its rows.
pub trait Row: Clone {
    const COLUMNS: &'static [&'static str];
    /// The texts the filter matches against, in order (empty ones ignored).
    fn parts(&self) -> [&str; 4];
    /// The same object (for keeping the selection), whatever changed in it.
    fn same(&self, other: &Self) -> bool;
    fn cmp_by(&self, other: &Self, column: usize) -> Ordering;
    /// Shown whatever the filter says (group headers).
    fn always_shown(&self) -> bool {
        false
    }
}

/// A compiled fuzzy pattern: smart-case subsequence matching (every
/// character of the pattern in order; upper case in the pattern makes it
/// case-sensitive). This is the fuzzy filter's acceptance test, made cheap
/// enough for 100,000 rows per keystroke: no allocation per row, bytes
/// compared directly when the pattern is ASCII.
#[derive(Debug, Clone)]
pub struct Pattern {
    chars: Vec<char>,
    bytes: Vec<u8>,
    ascii: bool,
    sensitive: bool,
}

impl Pattern {
    pub fn new(pattern: &str) -> Pattern {
        let sensitive = pattern.chars().any(char::is_uppercase);
        let chars: Vec<char> = if sensitive {
            pattern.chars().collect()
        } else {
            pattern.chars().flat_map(char::to_lowercase).collect()
        };
        let ascii = chars.iter().all(char::is_ascii);
        let bytes = if ascii {
            chars.iter().map(|c| *c as u8).collect()
        } else {
            Vec::new()
        };
        Pattern {
            chars,
            bytes,
            ascii,
            sensitive,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Whether a text's bytes contain the pattern, for an ASCII pattern.
    fn matches_bytes(&self, hay: &[u8]) -> bool {
        let want = &self.bytes;
        let mut i = 0;
        for &b in hay {
            let b = if self.sensitive { b } else { b.to_ascii_lowercase() };
            if b == want[i] {
                i += 1;
                if i == want.len() {
                    return true;
                }
            }
        }
        false
    }

    /// Whether the parts, read one after the other, contain the pattern.
    pub fn matches(&self, parts: &[&str]) -> bool {
        if self.chars.is_empty() {
            return true;
        }
        let mut i = 0;
        if self.ascii {
            let want = &self.bytes;
            for p in parts {
                for b in p.bytes() {
                    let b = if self.sensitive { b } else { b.to_ascii_lowercase() };
                    if b == want[i] {
                        i += 1;
                        if i == want.len() {
                            return true;
                        }
                    }
                }
            }
            return false;
        }
        for p in parts {
            for h in p.chars() {
                let hit = if self.sensitive {
                    h == self.chars[i]
                } else {
                    h.to_lowercase().eq(std::iter::once(self.chars[i]))
                };
                if hit {
                    i += 1;
                    if i == self.chars.len() {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// [`Pattern::matches`] on one text.
pub fn fuzzy_contains(hay: &str, pattern: &str) -> bool {
    Pattern::new(pattern).matches(&[hay])
}

/// A filtered, sorted list with a cursor and a scroll offset.
#[derive(Debug, Clone)]
pub struct Table<R> {
    all: Vec<R>,
    /// Every row's filter text, back to back (`hay_at[i]..hay_at[i + 1]`),
    /// made when a filter first needs it: one linear scan per keystroke.
    hay: Vec<u8>,
    hay_at: Vec<usize>,
    /// Indexes into `all`: what passes the filter, in sort order.
    shown: Vec<usize>,
    pub cursor: usize,
    pub offset: usize,
    filter: String,
    /// Column and reversed; `None` is the natural order.
    pub sort: Option<(usize, bool)>,
}

impl<R> Default for Table<R> {
    fn default() -> Self {
        Self {
            all: Vec::new(),
            hay: Vec::new(),
            hay_at: Vec::new(),
            shown: Vec::new(),
            cursor: 0,
            offset: 0,
            filter: String::new(),
            sort: None,
        }
    }
}

impl<R: Row> Table<R> {
    /// New rows; the cursor stays on the row it was on when that row is still there.
    pub fn set_rows(&mut self, rows: Vec<R>) {
        let selected = self.current().cloned();
        self.all = rows;
        self.hay.clear();
        self.hay_at.clear();
        self.reshape();
        if let Some(s) = selected
            && let Some(i) = self.shown.iter().position(|&i| self.all[i].same(&s))
        {
            self.cursor = i;
        }
        self.clamp();
    }

    fn reshape(&mut self) {
        self.filter_from((0..self.all.len()).collect());
    }

    /// Filters `candidates` (indexes into `all`, in order) and sorts.
    fn filter_from(&mut self, candidates: Vec<usize>) {
        let pat = Pattern::new(&self.filter);
        if !pat.is_empty() && pat.ascii && self.hay_at.is_empty() {
            self.hay_at.reserve(self.all.len() + 1);
            self.hay.reserve(self.all.len() * 48);
            for r in &self.all {
                self.hay_at.push(self.hay.len());
                for p in r.parts() {
                    self.hay.extend_from_slice(p.as_bytes());
                }
            }
            self.hay_at.push(self.hay.len());
        }
        let all = &self.all;
        let (hay, at) = (&self.hay, &self.hay_at);
        self.shown = if pat.is_empty() {
            candidates
        } else if pat.ascii {
            candidates
                .into_iter()
                .filter(|&i| all[i].always_shown() || pat.matches_bytes(&hay[at[i]..at[i + 1]]))
                .collect()
        } else {
            candidates
                .into_iter()
                .filter(|&i| all[i].always_shown() || pat.matches(&all[i].parts()))
                .collect()
        };
        if let Some((col, rev)) = self.sort {
            self.shown.sort_by(|a, b| {
                let o = all[*a].cmp_by(&all[*b], col);
                if rev { o.reverse() } else { o }
            });
        }
    }

    fn clamp(&mut self) {
        if self.cursor >= self.shown.len() {
            self.cursor = self.shown.len().saturating_sub(1);
        }
    }

    pub fn reset(&mut self) {
        self.cursor = 0;
        self.offset = 0;
        self.filter.clear();
    }

    pub fn current(&self) -> Option<&R> {
        self.shown.get(self.cursor).map(|i| &self.all[*i])
    }

    pub fn visible(&self) -> impl Iterator<Item = &R> {
        self.shown.iter().map(|i| &self.all[*i])
    }

    pub fn len(&self) -> usize {
        self.shown.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    pub fn total(&self) -> usize {
        self.all.len()
    }

    /// Rows `offset..offset+height`, the scroll window drawn.
    pub fn window(&self, height: usize) -> (usize, impl Iterator<Item = (usize, &R)>) {
        // Keep the cursor in view even if the height changed since the last key.
        let mut offset = self.offset.min(self.cursor);
        if height > 0 && self.cursor >= offset + height {
            offset = self.cursor + 1 - height;
        }
        (
            offset,
            self.shown
                .iter()
                .enumerate()
                .skip(offset)
                .take(height)
                .map(|(pos, i)| (pos, &self.all[*i])),
        )
    }

    pub fn select_where(&mut self, f: impl Fn(&R) -> bool) {
        if let Some(i) = self.shown.iter().position(|&i| f(&self.all[i])) {
            self.cursor = i;
        }
    }
}

/// Navigation, filter and sort, the same for every list (object-safe so the
/// state can hand out whichever list has the keys).
pub trait Nav {
    fn navigate(&mut self, a: Action, page: usize);
    fn set_filter(&mut self, text: String);
    fn filter(&self) -> &str;
    fn sort(&mut self, reverse: bool);
}

impl<R: Row> Nav for Table<R> {
    fn navigate(&mut self, a: Action, page: usize) {
        let n = self.shown.len();
        if n == 0 {
            return;
        }
        let last = n - 1;
        let c = self.cursor;
        self.cursor = match a {
            Action::Up => c.saturating_sub(1),
            Action::Down => (c + 1).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            Action::PageUp => c.saturating_sub(page),
            Action::PageDown => (c + page).min(last),
            Action::HalfPageUp => c.saturating_sub(page / 2),
            Action::HalfPageDown => (c + page / 2).min(last),
            _ => c,
        };
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + page {
            self.offset = self.cursor + 1 - page;
        }
    }

    fn set_filter(&mut self, text: String) {
        if text == self.filter {
            return;
        }
        let selected = self.current().cloned();
        // Typing on: only the rows shown now can still match (sorted already).
        let narrowing = !self.filter.is_empty() && text.starts_with(self.filter.as_str());
        self.filter = text;
        if narrowing {
            let shown = std::mem::take(&mut self.shown);
            let sort = self.sort.take();
            self.filter_from(shown);
            self.sort = sort;
        } else {
            self.reshape();
        }
        self.cursor = selected
            .and_then(|s| self.shown.iter().position(|&i| self.all[i].same(&s)))
            .unwrap_or(0);
        self.offset = 0;
        self.clamp();
    }

    fn filter(&self) -> &str {
        &self.filter
    }

    /// `sort_next` walks the columns (then back to the natural order);
    /// `sort_reverse` flips the direction.
    fn sort(&mut self, reverse: bool) {
        self.sort = match (self.sort, reverse) {
            (None, false) => Some((0, false)),
            (Some((c, r)), false) if c + 1 < R::COLUMNS.len() => Some((c + 1, r)),
            (Some(_), false) => None,
            (None, true) => Some((0, true)),
            (Some((c, r)), true) => Some((c, !r)),
        };
        let selected = self.current().cloned();
        self.reshape();
        if let Some(s) = selected
            && let Some(i) = self.shown.iter().position(|&i| self.all[i].same(&s))
        {
            self.cursor = i;
        }
    }
}

// ---------------------------------------------------------------- the tree

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeRow {
    All {
        spaces: usize,
        clusters: usize,
    },
    Cluster {
        name: String,
        health: Health,
        spaces: usize,
        collapsed: bool,
        restricted: bool,
    },
    Space {
        space: SpaceRef,
        terminating: bool,
        attached: bool,
    },
}

impl Row for TreeRow {
    const COLUMNS: &'static [&'static str] = &["SPACE"];
    fn parts(&self) -> [&str; 4] {
        match self {
            TreeRow::Space { space, .. } => [&space.cluster, "/", &space.namespace, ""],
            _ => [""; 4],
        }
    }
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (TreeRow::All { .. }, TreeRow::All { .. }) => true,
            (TreeRow::Cluster { name: a, .. }, TreeRow::Cluster { name: b, .. }) => a == b,
            (TreeRow::Space { space: a, .. }, TreeRow::Space { space: b, .. }) => a == b,
            _ => false,
        }
    }
    fn cmp_by(&self, _: &Self, _: usize) -> Ordering {
        // The tree keeps its order: clusters, then their spaces.
        Ordering::Equal
    }
    fn always_shown(&self) -> bool {
        !matches!(self, TreeRow::Space { .. })
    }
}

pub fn tree_rows(
    clusters: &[Arc<ClusterSnapshot>],
    attached: &BTreeSet<SpaceRef>,
    collapsed: &BTreeSet<String>,
) -> Vec<TreeRow> {
    let mut out = Vec::new();
    let total: usize = clusters.iter().map(|c| c.namespaces.len()).sum();
    out.push(TreeRow::All {
        spaces: total,
        clusters: clusters.len(),
    });
    for c in clusters {
        // Namespaces the cluster lists, and attached spaces it may not list.
        let mut names: BTreeSet<&str> = c.namespaces.keys().map(String::as_str).collect();
        for s in attached.iter().filter(|s| s.cluster == c.cluster) {
            names.insert(&s.namespace);
        }
        let is_collapsed = collapsed.contains(&c.cluster);
        out.push(TreeRow::Cluster {
            name: c.cluster.clone(),
            health: c.health.clone(),
            spaces: names.len(),
            collapsed: is_collapsed,
            restricted: c.restricted,
        });
        if is_collapsed {
            continue;
        }
        for n in names {
            let space = SpaceRef::new(&c.cluster, n);
            out.push(TreeRow::Space {
                terminating: c.namespaces.get(n).is_some_and(|v| v.terminating),
                attached: attached.contains(&space),
                space,
            });
        }
    }
    out
}

// ---------------------------------------------------------------- apps

#[derive(Debug, Clone)]
pub struct AppRow {
    pub cluster: Arc<str>,
    pub app: Arc<AppView>,
    /// How kdeck's stored settings stand against the cluster; None for an
    /// app kdeck does not manage.
    pub sync: Option<Sync>,
}

impl AppRow {
    pub fn app_ref(&self) -> AppRef {
        AppRef::new(SpaceRef::new(&*self.cluster, &self.app.namespace), &self.app.name)
    }
}

fn ready_ratio(ready: i32, desired: i32) -> f64 {
    if desired <= 0 {
        1.0
    } else {
        f64::from(ready) / f64::from(desired)
    }
}

impl Row for AppRow {
    const COLUMNS: &'static [&'static str] = &["NAME", "SPACE", "READY", "STATUS", "SYNC", "AGE", "KIND", "IMAGE"];
    fn parts(&self) -> [&str; 4] {
        [&self.app.name, &self.cluster, "/", &self.app.namespace]
    }
    fn same(&self, o: &Self) -> bool {
        self.cluster == o.cluster
            && self.app.namespace == o.app.namespace
            && self.app.name == o.app.name
            && self.app.kind == o.app.kind
    }
    fn cmp_by(&self, o: &Self, column: usize) -> Ordering {
        let (a, b) = (&self.app, &o.app);
        let space = || (&*self.cluster, &a.namespace).cmp(&(&*o.cluster, &b.namespace));
        match column {
            0 => a.name.cmp(&b.name).then_with(space),
            1 => space().then_with(|| a.name.cmp(&b.name)),
            2 => ready_ratio(a.ready, a.desired)
                .total_cmp(&ready_ratio(b.ready, b.desired))
                .then_with(|| a.name.cmp(&b.name)),
            3 => rollout_word(a).cmp(&rollout_word(b)).then_with(|| a.name.cmp(&b.name)),
            4 => self
                .sync
                .map(Sync::word)
                .cmp(&o.sync.map(Sync::word))
                .then_with(|| a.name.cmp(&b.name)),
            // Newest first reads best for AGE.
            5 => b.created.cmp(&a.created).then_with(|| a.name.cmp(&b.name)),
            6 => a.kind.cmp(b.kind).then_with(|| a.name.cmp(&b.name)),
            _ => a.image.cmp(&b.image),
        }
    }
}

/// How a rollout reads in the STATUS column.
pub fn rollout_word(a: &AppView) -> String {
    match a.rollout() {
        Rollout::Stopped => "stopped".into(),
        Rollout::Rolling { updated, desired } => format!("rolling {updated}/{desired}"),
        Rollout::Unready { .. } => "unready".into(),
        Rollout::Ready => "ready".into(),
    }
}

/// The apps in view: what the clusters run, each with how kdeck's settings
/// stand against it, then the stored drafts that are not in their cluster yet.
pub fn app_rows(clusters: &[Arc<ClusterSnapshot>], scope: &Scope, stored: &[Managed]) -> Vec<AppRow> {
    let by_ref: HashMap<(&str, &str, &str), &Managed> = stored
        .iter()
        .map(|m| {
            let a = &m.settings.app;
            (
                (a.space.cluster.as_str(), a.space.namespace.as_str(), a.name.as_str()),
                m,
            )
        })
        .collect();
    let mut out = cluster_app_rows(clusters, scope);
    if !by_ref.is_empty() {
        for r in &mut out {
            if let Some(m) = by_ref.get(&(&*r.cluster, r.app.namespace.as_str(), r.app.name.as_str())) {
                r.sync = Some(m.sync(Some(r.app.generation)));
            }
        }
    }
    for m in stored {
        let a = &m.settings;
        let (c, ns) = (&a.app.space.cluster, &a.app.space.namespace);
        if !scope.contains(c, ns) {
            continue;
        }
        let kind = if a.kind == kdeck_model::WorkloadKind::StatefulSet {
            "StatefulSet"
        } else {
            "Deployment"
        };
        let running = clusters.iter().find(|s| s.cluster == *c).is_some_and(|s| {
            s.apps
                .contains_key(&(Arc::from(ns.as_str()), Arc::from(a.app.name.as_str()), kind))
        });
        if running {
            continue;
        }
        out.push(AppRow {
            cluster: Arc::from(c.as_str()),
            app: Arc::new(AppView {
                kind,
                namespace: ns.clone(),
                name: a.app.name.clone(),
                ready: 0,
                desired: i32::try_from(a.replicas).unwrap_or(i32::MAX),
                image: a.image.clone(),
                created: String::new(),
                resource_version: String::new(),
                labels: a.labels.clone(),
                generation: 0,
                observed_generation: 0,
                updated: 0,
            }),
            sync: Some(Sync::Draft),
        });
    }
    out
}

fn cluster_app_rows(clusters: &[Arc<ClusterSnapshot>], scope: &Scope) -> Vec<AppRow> {
    let mut out = Vec::new();
    for c in clusters.iter().filter(|c| scope.covers_cluster(&c.cluster)) {
        let name: Arc<str> = Arc::from(c.cluster.as_str());
        match scope {
            Scope::Spaces(spaces) => {
                for s in spaces.iter().filter(|s| s.cluster == c.cluster) {
                    for ((_, _, _), a) in c
                        .apps
                        .range((Arc::from(s.namespace.as_str()), Arc::from(""), "")..)
                        .take_while(|((ns, _, _), _)| **ns == *s.namespace)
                    {
                        out.push(AppRow {
                            cluster: name.clone(),
                            app: a.clone(),
                            sync: None,
                        });
                    }
                }
            }
            _ => out.extend(c.apps.values().map(|a| AppRow {
                cluster: name.clone(),
                app: a.clone(),
                sync: None,
            })),
        }
    }
    out
}

// ---------------------------------------------------------------- pods

#[derive(Debug, Clone)]
pub struct PodRow {
    pub pod: PodView,
}

impl Row for PodRow {
    const COLUMNS: &'static [&'static str] = &["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"];
    fn parts(&self) -> [&str; 4] {
        [&self.pod.name, " ", &self.pod.status, ""]
    }
    fn same(&self, o: &Self) -> bool {
        self.pod.name == o.pod.name
    }
    fn cmp_by(&self, o: &Self, column: usize) -> Ordering {
        let (a, b) = (&self.pod, &o.pod);
        match column {
            0 => a.name.cmp(&b.name),
            1 => (a.ready, a.total).cmp(&(b.ready, b.total)),
            2 => a.status.cmp(&b.status),
            3 => b.restarts.cmp(&a.restarts),
            4 => b.created.cmp(&a.created),
            _ => a.node.cmp(&b.node),
        }
    }
}

pub fn pod_rows(clusters: &[Arc<ClusterSnapshot>], app: &AppRef, kind: &str) -> Vec<PodRow> {
    clusters
        .iter()
        .filter(|c| c.cluster == app.space.cluster)
        .flat_map(|c| {
            c.pods_of(&app.space.namespace, kind, &app.name)
                .map(|p| PodRow { pod: p.clone() })
                .collect::<Vec<_>>()
        })
        .collect()
}

// ---------------------------------------------------------------- routes

#[derive(Debug, Clone)]
pub struct RouteRow {
    pub cluster: Arc<str>,
    pub namespace: String,
    pub ingress: String,
    pub host: String,
    pub service: String,
}

impl Row for RouteRow {
    const COLUMNS: &'static [&'static str] = &["HOST", "SPACE", "INGRESS", "SERVICE"];
    fn parts(&self) -> [&str; 4] {
        [&self.host, &self.cluster, "/", &self.namespace]
    }
    fn same(&self, o: &Self) -> bool {
        self.cluster == o.cluster && self.namespace == o.namespace && self.ingress == o.ingress && self.host == o.host
    }
    fn cmp_by(&self, o: &Self, column: usize) -> Ordering {
        match column {
            0 => self.host.cmp(&o.host),
            1 => (&*self.cluster, &self.namespace).cmp(&(&*o.cluster, &o.namespace)),
            2 => self.ingress.cmp(&o.ingress),
            _ => self.service.cmp(&o.service),
        }
    }
}

pub fn route_rows(clusters: &[Arc<ClusterSnapshot>], scope: &Scope) -> Vec<RouteRow> {
    let mut out = Vec::new();
    for c in clusters.iter().filter(|c| scope.covers_cluster(&c.cluster)) {
        let name: Arc<str> = Arc::from(c.cluster.as_str());
        for r in c.routes.values().filter(|r| scope.contains(&c.cluster, &r.namespace)) {
            for (host, svc) in &r.rules {
                out.push(RouteRow {
                    cluster: name.clone(),
                    namespace: r.namespace.clone(),
                    ingress: r.ingress.clone(),
                    host: host.clone(),
                    service: svc.clone(),
                });
            }
        }
    }
    out
}

// ---------------------------------------------------------------- builds

#[derive(Debug, Clone)]
pub struct BuildRow {
    pub cluster: Arc<str>,
    pub build: BuildView,
    /// `task/step (exit N)` of the step that failed it.
    pub failing: Option<String>,
}

impl Row for BuildRow {
    const COLUMNS: &'static [&'static str] = &["NAME", "STATE", "DURATION", "FAILED STEP", "AGE", "SPACE", "APP"];
    fn parts(&self) -> [&str; 4] {
        [
            &self.build.name,
            &self.cluster,
            &self.build.namespace,
            self.build.state.word(),
        ]
    }
    fn same(&self, o: &Self) -> bool {
        self.cluster == o.cluster && self.build.namespace == o.build.namespace && self.build.name == o.build.name
    }
    fn cmp_by(&self, o: &Self, column: usize) -> Ordering {
        let (a, b) = (&self.build, &o.build);
        match column {
            0 => a.name.cmp(&b.name),
            1 => a.state.cmp(&b.state),
            2 => a.started.cmp(&b.started),
            3 => self.failing.cmp(&o.failing),
            4 => b.created.cmp(&a.created),
            5 => (&*self.cluster, &a.namespace).cmp(&(&*o.cluster, &b.namespace)),
            _ => a.app.cmp(&b.app),
        }
    }
}

pub fn build_rows(clusters: &[Arc<ClusterSnapshot>], scope: &Scope) -> Vec<BuildRow> {
    let mut out = Vec::new();
    for c in clusters.iter().filter(|c| scope.covers_cluster(&c.cluster)) {
        let name: Arc<str> = Arc::from(c.cluster.as_str());
        let mut rows: Vec<BuildRow> = c
            .builds
            .values()
            .filter(|b| scope.contains(&c.cluster, &b.namespace))
            .map(|b| BuildRow {
                cluster: name.clone(),
                failing: c
                    .failing_step(&b.namespace, &b.name)
                    .map(|(t, s)| format!("{}/{} (exit {})", t.task, s.name, s.exit_code.unwrap_or_default())),
                build: b.clone(),
            })
            .collect();
        // Newest first within a cluster.
        rows.sort_by(|a, b| {
            b.build
                .created
                .cmp(&a.build.created)
                .then_with(|| a.build.name.cmp(&b.build.name))
        });
        out.extend(rows);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_contains_is_smart_case_subsequence() {
        assert!(fuzzy_contains("prod-eu1/shop-prod web", "shpweb"));
        assert!(fuzzy_contains("Web", "web"));
        assert!(!fuzzy_contains("web", "Web"), "upper case in the pattern is exact");
        assert!(!fuzzy_contains("web", "wbe"));
        assert!(fuzzy_contains("anything", ""));
    }
}
