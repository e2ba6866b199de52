//! The task that watches one cluster. It owns the cluster's rows; nothing
//! else writes them. Every watch is a slot: a kind, a scope (one namespace
//! or all), a stream id and how the watch stands. Slots start and stop as
//! the spaces in view and the attached spaces change, and restart when the
//! server went quiet, so each is wrapped the same way: kube's watcher with
//! backoff (relist on 410), rows compacted on arrival, errors kept as the
//! slot's standing and never the end of the stream.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, OptionFuture};
use futures::stream::{AbortHandle, Abortable, BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::core::PartialObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::mirror::Group;
use super::slim::Slim;
use super::views::{self, AppView, BuildView, NamespaceView, PodView, RouteView, ServiceView, TaskRunView};
use super::{AppKey, Changed, ClusterSnapshot, Control, FleetOptions, Health, NsKey, SpaceWatch, Standing};
use crate::client::{Problem, ProblemKind, describe};
use kdeck_model::Cluster;
use kdeck_model::clock::rfc3339;

mod health;
mod run;
use health::*;
pub(super) use run::run;

/// The channels between a cluster's task and the [`super::Fleet`].
pub(super) struct Links {
    pub(super) snapshot: watch::Sender<Arc<ClusterSnapshot>>,
    pub(super) client: watch::Sender<Option<kube::Client>>,
    pub(super) changed: mpsc::Sender<Changed>,
    pub(super) control: mpsc::UnboundedReceiver<Control>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Namespace,
    Deployment,
    StatefulSet,
    Service,
    Ingress,
    Pod,
    PipelineRun,
    TaskRun,
}

/// Watched for the apps and routes views, fleet-wide (or per attached space).
const MAIN: [Kind; 4] = [Kind::Deployment, Kind::StatefulSet, Kind::Service, Kind::Ingress];
/// Watched only for the spaces in view.
const FOCUSED: [Kind; 3] = [Kind::Pod, Kind::PipelineRun, Kind::TaskRun];

impl Kind {
    fn verb(self) -> &'static str {
        match self {
            Kind::Namespace => "list namespaces",
            Kind::Deployment => "list deployments",
            Kind::StatefulSet => "list statefulsets",
            Kind::Service => "list services",
            Kind::Ingress => "list ingresses",
            Kind::Pod => "list pods",
            Kind::PipelineRun => "list pipelineruns",
            Kind::TaskRun => "list taskruns",
        }
    }
}

fn tekton(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("tekton.dev", "v1", kind), plural)
}

enum Payload {
    Namespace(Event<PartialObjectMeta<Namespace>>),
    Deployment(Event<Deployment>),
    StatefulSet(Event<StatefulSet>),
    Service(Event<Service>),
    Ingress(Event<Ingress>),
    Pod(Event<Pod>),
    Tekton(Event<DynamicObject>),
}

struct Update {
    id: u64,
    result: Result<Payload, watcher::Error>,
}

struct Slot {
    kind: Kind,
    /// The namespace watched, or `None` for all.
    scope: Option<String>,
    abort: AbortHandle,
    problem: Option<(Problem, String)>,
    synced: bool,
    last_seen: Instant,
}

fn now() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

fn api<K>(client: &kube::Client, scope: &Option<String>) -> Api<K>
where
    K: Resource<Scope = kube::core::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match scope {
        None => Api::all(client.clone()),
        Some(ns) => Api::namespaced(client.clone(), ns),
    }
}

fn typed<K>(api: Api<K>, cfg: &watcher::Config, id: u64, wrap: fn(Event<K>) -> Payload) -> BoxStream<'static, Update>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    watcher::watcher(api, cfg.clone())
        .default_backoff()
        .map(move |r| Update {
            id,
            result: r.map(wrap),
        })
        .boxed()
}

/// The objects of a slim watch, as the views take them.
fn unslim<K>(e: Event<Slim<K>>) -> Event<K> {
    match e {
        Event::Apply(o) => Event::Apply(o.0),
        Event::Delete(o) => Event::Delete(o.0),
        Event::Init => Event::Init,
        Event::InitApply(o) => Event::InitApply(o.0),
        Event::InitDone => Event::InitDone,
    }
}

/// Drops what a cluster-wide watch says about spaces not in view.
fn in_focus<O: Resource>(ev: Event<O>, focus: Option<&BTreeSet<String>>) -> Option<Event<O>> {
    let Some(focus) = focus else {
        return Some(ev);
    };
    match ev {
        Event::InitApply(o) | Event::Apply(o) if !o.meta().namespace.as_ref().is_some_and(|n| focus.contains(n)) => {
            None
        }
        ev => Some(ev),
    }
}

fn ns_key<O: Resource>(o: &O) -> NsKey {
    let m = o.meta();
    (
        Arc::from(m.namespace.as_deref().unwrap_or("")),
        Arc::from(m.name.as_deref().unwrap_or("")),
    )
}

struct Task {
    c: Cluster,
    client: kube::Client,
    cfg: watcher::Config,
    opts: FleetOptions,
    next_id: u64,
    slots: BTreeMap<u64, Slot>,
    streams: SelectAll<BoxStream<'static, Update>>,
    /// Apps are watched per attached space: listing them across namespaces was forbidden.
    restricted: bool,
    /// What the first 403 said, shown while no space is attached.
    forbidden_wide: Option<(&'static str, String)>,
    attached: BTreeSet<String>,
    focus: BTreeSet<String>,
    quiet: Option<Quiet>,
    /// Since when its watches have stalled while it answers (the heartbeat).
    stalled: Option<Quiet>,
    namespaces: Group<String, NamespaceView>,
    apps: Group<AppKey, Arc<AppView>>,
    services: Group<NsKey, ServiceView>,
    routes: Group<NsKey, RouteView>,
    pods: Group<NsKey, PodView>,
    builds: Group<NsKey, BuildView>,
    task_runs: Group<NsKey, TaskRunView>,
}

impl Task {
    fn stream(&self, kind: Kind, scope: &Option<String>, id: u64) -> BoxStream<'static, Update> {
        let (cl, cfg) = (&self.client, &self.cfg);
        match kind {
            // Metadata only: kube asks for PartialObjectMetadata.
            Kind::Namespace => typed(
                Api::<PartialObjectMeta<Namespace>>::all(cl.clone()),
                cfg,
                id,
                Payload::Namespace,
            ),
            // Slim: only the fields the rows keep are decoded.
            Kind::Deployment => typed(api::<Slim<Deployment>>(cl, scope), cfg, id, |e| {
                Payload::Deployment(unslim(e))
            }),
            Kind::StatefulSet => typed(api::<Slim<StatefulSet>>(cl, scope), cfg, id, |e| {
                Payload::StatefulSet(unslim(e))
            }),
            Kind::Service => typed(api::<Slim<Service>>(cl, scope), cfg, id, |e| {
                Payload::Service(unslim(e))
            }),
            Kind::Ingress => typed(api::<Slim<Ingress>>(cl, scope), cfg, id, |e| {
                Payload::Ingress(unslim(e))
            }),
            Kind::Pod => typed(api::<Pod>(cl, scope), cfg, id, Payload::Pod),
            Kind::PipelineRun | Kind::TaskRun => {
                let ar = if kind == Kind::PipelineRun {
                    tekton("PipelineRun", "pipelineruns")
                } else {
                    tekton("TaskRun", "taskruns")
                };
                let api = match scope {
                    None => Api::<DynamicObject>::all_with(cl.clone(), &ar),
                    Some(ns) => Api::<DynamicObject>::namespaced_with(cl.clone(), ns, &ar),
                };
                typed(api, cfg, id, Payload::Tekton)
            }
        }
    }

    fn start(&mut self, kind: Kind, scope: Option<String>) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let (abort, reg) = AbortHandle::new_pair();
        self.streams
            .push(Abortable::new(self.stream(kind, &scope, id), reg).boxed());
        self.slots.insert(
            id,
            Slot {
                kind,
                scope,
                abort,
                problem: None,
                synced: false,
                last_seen: Instant::now(),
            },
        );
        id
    }

    fn stop(&mut self, id: u64) {
        if let Some(s) = self.slots.remove(&id) {
            s.abort.abort();
            self.for_rows(s.kind, |g| g.remove(id));
        }
    }

    /// A fresh stream for a slot (a new connection and a relist); the rows
    /// stay until the relist replaces them.
    fn restart(&mut self, id: u64) {
        let Some(mut s) = self.slots.remove(&id) else {
            return;
        };
        s.abort.abort();
        self.next_id += 1;
        let new = self.next_id;
        let (abort, reg) = AbortHandle::new_pair();
        self.streams
            .push(Abortable::new(self.stream(s.kind, &s.scope, new), reg).boxed());
        s.abort = abort;
        s.last_seen = Instant::now();
        self.for_rows(s.kind, |g| g.rekey(id, new));
        self.slots.insert(new, s);
    }

    /// Runs `f` on the rows group of a kind, whatever the row type.
    fn for_rows(&mut self, kind: Kind, f: impl Fn(&mut dyn RowGroup)) {
        match kind {
            Kind::Namespace => f(&mut self.namespaces),
            Kind::Deployment | Kind::StatefulSet => f(&mut self.apps),
            Kind::Service => f(&mut self.services),
            Kind::Ingress => f(&mut self.routes),
            Kind::Pod => f(&mut self.pods),
            Kind::PipelineRun => f(&mut self.builds),
            Kind::TaskRun => f(&mut self.task_runs),
        }
    }

    /// Starts and stops slots of `kinds` so that exactly `scopes` are watched.
    fn sync(&mut self, kinds: &[Kind], scopes: &[Option<String>]) {
        let want: BTreeSet<(Kind, Option<String>)> = kinds
            .iter()
            .flat_map(|k| scopes.iter().map(move |s| (*k, s.clone())))
            .collect();
        let have: Vec<(u64, Kind, Option<String>)> = self
            .slots
            .iter()
            .filter(|(_, s)| kinds.contains(&s.kind))
            .map(|(id, s)| (*id, s.kind, s.scope.clone()))
            .collect();
        for (id, kind, scope) in &have {
            if !want.contains(&(*kind, scope.clone())) {
                self.stop(*id);
            }
        }
        for (kind, scope) in want {
            if !have.iter().any(|(_, k, s)| *k == kind && *s == scope) {
                self.start(kind, scope);
            }
        }
    }

    fn main_scopes(&self) -> Vec<Option<String>> {
        if self.restricted {
            self.attached.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        }
    }

    fn focus_scopes(&self) -> Vec<Option<String>> {
        if self.focus.is_empty() {
            Vec::new()
        } else if !self.restricted && self.focus.len() > self.opts.focus_per_space_limit {
            vec![None]
        } else {
            self.focus.iter().cloned().map(Some).collect()
        }
    }

    fn set_focus(&mut self, focus: BTreeSet<String>) -> bool {
        if focus == self.focus {
            return false;
        }
        self.focus = focus;
        // A cluster-wide watch that stays relists, to drop the spaces that left.
        let wide: Vec<u64> = self
            .slots
            .iter()
            .filter(|(_, s)| FOCUSED.contains(&s.kind) && s.scope.is_none())
            .map(|(id, _)| *id)
            .collect();
        let scopes = self.focus_scopes();
        self.sync(&FOCUSED, &scopes);
        for id in wide {
            if self.slots.contains_key(&id) {
                self.restart(id);
            }
        }
        true
    }

    fn set_attached(&mut self, attached: BTreeSet<String>) -> bool {
        if attached == self.attached {
            return false;
        }
        self.attached = attached;
        if self.restricted {
            let scopes = self.main_scopes();
            self.sync(&MAIN, &scopes);
        }
        true
    }

    fn apply(&mut self, u: Update) {
        let Some(slot) = self.slots.get_mut(&u.id) else {
            // From a stream stopped in this batch.
            return;
        };
        slot.last_seen = Instant::now();
        let kind = slot.kind;
        let wide_focus = (FOCUSED.contains(&kind) && slot.scope.is_none()).then_some(&self.focus);
        let id = u.id;
        match u.result {
            Ok(payload) => {
                let done = matches!(
                    &payload,
                    Payload::Namespace(Event::InitDone)
                        | Payload::Deployment(Event::InitDone)
                        | Payload::StatefulSet(Event::InitDone)
                        | Payload::Service(Event::InitDone)
                        | Payload::Ingress(Event::InitDone)
                        | Payload::Pod(Event::InitDone)
                        | Payload::Tekton(Event::InitDone)
                );
                slot.problem = None;
                slot.synced |= done;
                match payload {
                    Payload::Namespace(ev) => self.namespaces.apply(
                        id,
                        ev,
                        |n| n.metadata.name.clone().unwrap_or_default(),
                        |n| views::namespace_view(&n.metadata),
                    ),
                    Payload::Deployment(ev) => self.apps.apply(
                        id,
                        ev,
                        |d| {
                            let (ns, n) = ns_key(d);
                            (ns, n, "Deployment")
                        },
                        |d| Arc::new(views::deployment_view(d)),
                    ),
                    Payload::StatefulSet(ev) => self.apps.apply(
                        id,
                        ev,
                        |s| {
                            let (ns, n) = ns_key(s);
                            (ns, n, "StatefulSet")
                        },
                        |s| Arc::new(views::statefulset_view(s)),
                    ),
                    Payload::Service(ev) => self.services.apply(id, ev, ns_key, views::service_view),
                    Payload::Ingress(ev) => self.routes.apply(id, ev, ns_key, views::route_view),
                    Payload::Pod(ev) => {
                        if let Some(ev) = in_focus(ev, wide_focus) {
                            self.pods.apply(id, ev, ns_key, views::pod_view)
                        }
                    }
                    Payload::Tekton(ev) => {
                        if let Some(ev) = in_focus(ev, wide_focus) {
                            if kind == Kind::PipelineRun {
                                self.builds.apply(id, ev, ns_key, views::build_view)
                            } else {
                                self.task_runs.apply(id, ev, ns_key, views::task_run_view)
                            }
                        }
                    }
                }
                // The server answered: no watch of it is unreachable any more,
                // even one that resumed with nothing new to say.
                for s in self.slots.values_mut() {
                    if s.problem.as_ref().is_some_and(|(p, _)| unreachable(&p.kind)) {
                        s.problem = None;
                    }
                }
            }
            Err(e) => {
                let verb = kind.verb();
                let mut p = match kube_error(&e) {
                    Some(ke) => describe(&self.c, verb, ke),
                    None => Problem {
                        cluster: self.c.name.clone(),
                        kind: ProblemKind::Other,
                        message: format!("cluster {}: {verb}: {e}", self.c.name),
                        code: None,
                    },
                };
                let wide = slot.scope.is_none();
                if p.kind == ProblemKind::Forbidden && wide && MAIN.contains(&kind) && !self.restricted {
                    // May not list across namespaces: watch the attached spaces one by one.
                    self.restricted = true;
                    self.forbidden_wide = Some((verb, p.message));
                    let scopes = self.main_scopes();
                    self.sync(&MAIN, &scopes);
                    let focus = self.focus_scopes();
                    self.sync(&FOCUSED, &focus);
                    return;
                }
                if p.code == Some(404) && matches!(kind, Kind::PipelineRun | Kind::TaskRun) {
                    p.message = format!(
                        "cluster {}: Tekton Pipelines is not installed (no tekton.dev/v1 {}), so there are no builds to show",
                        self.c.name,
                        if kind == Kind::PipelineRun {
                            "PipelineRun"
                        } else {
                            "TaskRun"
                        }
                    );
                }
                let since = slot.problem.as_ref().map(|(_, s)| s.clone()).unwrap_or_else(now);
                slot.problem = Some((p, since));
            }
        }
    }

    fn fill(&mut self, snap: &mut ClusterSnapshot) {
        snap.health = self.health(&snap.health);
        snap.restricted = self.restricted;
        snap.namespaces = self.namespaces.rows();
        let apps = self.apps.rows();
        if !Arc::ptr_eq(&apps, &snap.apps) {
            snap.label_index = Arc::default();
        }
        snap.apps = apps;
        snap.services = self.services.rows();
        snap.routes = self.routes.rows();
        snap.pods = self.pods.rows();
        snap.builds = self.builds.rows();
        snap.task_runs = self.task_runs.rows();
        snap.focus = Arc::new(
            self.focus
                .iter()
                .map(|ns| {
                    (
                        ns.clone(),
                        SpaceWatch {
                            pods: self.standing(&[Kind::Pod], ns),
                            builds: self.standing(&[Kind::PipelineRun, Kind::TaskRun], ns),
                        },
                    )
                })
                .collect(),
        );
    }
}

/// The type-erased operations the slot bookkeeping needs on a rows group.
trait RowGroup {
    fn remove(&mut self, id: u64);
    fn rekey(&mut self, old: u64, new: u64);
}

impl<K: Ord + Clone, V: Clone> RowGroup for Group<K, V> {
    fn remove(&mut self, id: u64) {
        Group::remove(self, id)
    }
    fn rekey(&mut self, old: u64, new: u64) {
        Group::rekey(self, old, new)
    }
}
