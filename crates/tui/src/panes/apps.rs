//! The apps pane: every app (deployment or statefulset) in view, with its
//! readiness, rollout, and whether it runs kdeck's settings; marks span spaces.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;

use crate::cockpit::Scope;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context};
use crate::widgets::table::{Nav, Row, Table, col, draw_table};
use crate::widgets::{count, ready_style, title_line};
use kdeck_command::apps::{Managed, Sync};
use kdeck_fleet::live::{AppView, ClusterSnapshot, Health, Rollout};
use kdeck_model::clock::age;
use kdeck_model::{AppRef, SpaceRef};

/// The apps pane's state: its rows and the marked apps (across spaces).
#[derive(Debug, Clone, Default)]
pub struct AppsPane {
    pub table: Table<AppRow>,
    /// Marked apps, across spaces, for bulk actions.
    pub marks: BTreeSet<AppRef>,
}

#[derive(Debug, Clone)]
pub struct AppRow {
    pub cluster: Arc<str>,
    pub app: Arc<AppView>,
    /// How kdeck's stored settings stand against the cluster; None for an
    /// app kdeck does not manage.
    pub sync: Option<Sync>,
    /// Its canary's workload, running beside it.
    pub canary: Option<Arc<AppView>>,
    /// Its autoscaling bounds (min, max), from kdeck's settings.
    pub autoscale: Option<(u32, u32)>,
}

impl AppRow {
    fn new(cluster: Arc<str>, app: Arc<AppView>, sync: Option<Sync>) -> Self {
        AppRow {
            cluster,
            app,
            sync,
            canary: None,
            autoscale: None,
        }
    }

    /// The canary's share of requests, when a weighted Ingress splits them.
    pub fn canary_weight(&self) -> Option<&str> {
        self.canary
            .as_ref()
            .and_then(|c| c.labels.get(kdeck_command::apps::CANARY_WEIGHT))
            .map(String::as_str)
    }
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

/// Two images as short as they can be told apart: only the tags when the
/// repository is the same (`2.0.1`, `2.1.0`).
fn image_change<'a>(old: &'a str, new: &'a str) -> (&'a str, &'a str) {
    let split = |i: &'a str| match i.rfind(':') {
        Some(p) if !i[p..].contains('/') => (&i[..p], &i[p + 1..]),
        _ => (i, ""),
    };
    match (split(old), split(new)) {
        ((ro, to), (rn, tn)) if ro == rn && !to.is_empty() && !tn.is_empty() => (to, tn),
        _ => (old, new),
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
    // Canaries are shown on the row of the app they are a canary of.
    let (canaries, rest): (Vec<AppRow>, Vec<AppRow>) = out
        .into_iter()
        .partition(|r| r.app.labels.contains_key(kdeck_command::apps::CANARY_OF));
    out = rest;
    if !canaries.is_empty() {
        let mut of: HashMap<(Arc<str>, &str, &str), Arc<AppView>> = HashMap::new();
        for c in &canaries {
            if let Some(parent) = c.app.labels.get(kdeck_command::apps::CANARY_OF) {
                of.insert(
                    (c.cluster.clone(), c.app.namespace.as_str(), parent.as_str()),
                    c.app.clone(),
                );
            }
        }
        for r in &mut out {
            r.canary = of
                .get(&(r.cluster.clone(), r.app.namespace.as_str(), r.app.name.as_str()))
                .cloned();
        }
    }
    if !by_ref.is_empty() {
        for r in &mut out {
            if let Some(m) = by_ref.get(&(&*r.cluster, r.app.namespace.as_str(), r.app.name.as_str())) {
                r.sync = Some(m.sync(Some(r.app.generation)));
                r.autoscale = m.settings.autoscale.as_ref().map(|a| (a.min, a.max));
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
        out.push(AppRow::new(
            Arc::from(c.as_str()),
            Arc::new(AppView {
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
            Some(Sync::Draft),
        ));
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
                        out.push(AppRow::new(name.clone(), a.clone(), None));
                    }
                }
            }
            _ => out.extend(c.apps.values().map(|a| AppRow::new(name.clone(), a.clone(), None))),
        }
    }
    out
}

impl Component for AppsPane {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let (c, t) = (cx.cockpit, cx.theme);
        let cols = [
            col("NAME", 12, true, true),
            col("SPACE", 18, true, true),
            col("READY", 5, false, true),
            col("STATUS", 11, false, true),
            col("SYNC", 7, false, false),
            col("AGE", 4, false, true),
            col("KIND", 4, false, false),
            col("IMAGE", 16, true, false),
            col("ROUTES", 20, true, false),
        ];
        let title = title_line(
            "apps",
            format!(
                "{} · {}",
                c.scope.describe(),
                count(c.apps.table.len(), c.apps.table.total())
            ),
            Nav::filter(&c.apps.table),
            t,
        );
        let loading =
            c.clusters.iter().all(|s| s.apps.is_empty()) && c.clusters.iter().any(|s| s.health == Health::Connecting);
        let empty = if c.clusters.is_empty() {
            "no clusters: import them with `kdeck clusters import`, or try `kdeck demo`"
        } else if loading {
            "loading…"
        } else {
            "no apps here"
        };
        draw_table(
            f,
            area,
            &c.apps.table,
            &cols,
            cx.focused,
            t,
            title,
            empty,
            |r: &AppRow| {
                let a = &r.app;
                let routes = c
                    .cluster(&r.cluster)
                    .map(|s| {
                        s.routes_in(&a.namespace)
                            .flat_map(|rv| rv.rules.iter())
                            .filter(|(_, svc)| *svc == a.name)
                            .map(|(h, _)| h.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                let marked = c.apps.marks.contains(&r.app_ref());
                (
                    vec![
                        (a.name.clone(), t.text),
                        (format!("{}/{}", r.cluster, a.namespace), t.cluster(&r.cluster)),
                        if r.sync == Some(Sync::Draft) {
                            ("-".to_string(), t.dim)
                        } else {
                            (format!("{}/{}", a.ready, a.desired), ready_style(a.ready, a.desired, t))
                        },
                        if r.sync == Some(Sync::Draft) {
                            ("draft".to_string(), t.dim.add_modifier(Modifier::ITALIC))
                        } else if let Some(cn) = &r.canary {
                            let share = r.canary_weight().map(|w| format!(" {w}%")).unwrap_or_default();
                            (
                                format!("canary{share}"),
                                ready_style(cn.ready, cn.desired, t).add_modifier(Modifier::BOLD),
                            )
                        } else {
                            let style = match a.rollout() {
                                Rollout::Ready => t.ok,
                                Rollout::Rolling { .. } => t.info,
                                Rollout::Unready { .. } => t.warn,
                                Rollout::Stopped => t.dim,
                            };
                            // An autoscaled app: the autoscaler's bounds after its rollout.
                            let bounds = r.autoscale.map(|(lo, hi)| format!(" ↕{lo}-{hi}")).unwrap_or_default();
                            (format!("{}{bounds}", rollout_word(a)), style)
                        },
                        match r.sync {
                            None => ("-".to_string(), t.dim),
                            Some(s) => (
                                s.word().to_string(),
                                match s {
                                    Sync::Synced => t.ok,
                                    Sync::Drift => t.error,
                                    Sync::Pending | Sync::NeedsRestart => t.warn,
                                    Sync::Draft => t.dim.add_modifier(Modifier::ITALIC),
                                },
                            ),
                        },
                        (age(&a.created, c.now), t.dim),
                        ((if a.kind == "StatefulSet" { "sts" } else { "dep" }).to_string(), t.dim),
                        // A canary: its image, ready count and share beside the app's image.
                        match &r.canary {
                            Some(cn) => {
                                let (old, new) = image_change(&a.image, &cn.image);
                                (format!("{old}→{new} {}/{}", cn.ready, cn.desired), t.info)
                            }
                            None => (a.image.clone(), t.dim),
                        },
                        (if routes.is_empty() { "-".into() } else { routes }, t.info),
                    ],
                    marked,
                )
            },
        );
    }

    fn context(&self) -> Context {
        Context::List
    }

    fn event(&mut self, action: Action, page: usize) -> bool {
        crate::component::list_event(&mut self.table, action, page)
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        super::APP_COMMANDS
    }
}
