//! The live model: one task per cluster runs the watchers, owns that
//! cluster's data, and publishes a consistent snapshot after each batch of
//! events. Readers take the latest snapshot (an `Arc`, no lock held while
//! they use it) and get a small "changed" notice on a channel.
//!
//! Apps, routes and spaces are watched fleet-wide: the model keeps compact
//! rows, not whole objects (see the memory figures in the issue notes). A
//! user who may not list across namespaces gets watches of the spaces they
//! attached instead.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, Stream, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::client::{Problem, ProblemKind, client_for, describe};
use crate::clock::rfc3339;
use crate::model::{Cluster, SpaceRef};

/// How a cluster is doing, as the header and the tree show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    Connecting,
    Live,
    /// Was live; a watch failed and is being retried.
    Stale {
        since: String,
        why: String,
    },
    /// Cannot be reached: refused, DNS, TLS, timeout, or credentials rejected.
    Unreachable {
        since: String,
        why: String,
    },
    /// Reachable, but this user may not do something the model needs.
    Forbidden {
        verb: String,
        why: String,
    },
}

impl Health {
    pub fn word(&self) -> &'static str {
        match self {
            Health::Connecting => "connecting",
            Health::Live => "live",
            Health::Stale { .. } => "stale",
            Health::Unreachable { .. } => "unreachable",
            Health::Forbidden { .. } => "forbidden",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppView {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub ready: i32,
    pub desired: i32,
    pub image: String,
    pub created: String,
    pub resource_version: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteView {
    pub namespace: String,
    pub ingress: String,
    /// `host[/path]` → backend service.
    pub rules: Vec<(String, String)>,
    pub resource_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    pub namespace: String,
    pub name: String,
    pub ports: Vec<i32>,
    pub resource_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceView {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub terminating: bool,
    pub resource_version: String,
}

/// (namespace, name) keys; apps add their kind.
pub type AppKey = (String, String, &'static str);
pub type NsKey = (String, String);

/// One cluster, as of one moment. Cheap to clone: the maps are shared.
#[derive(Debug, Clone)]
pub struct ClusterSnapshot {
    pub cluster: String,
    pub health: Health,
    /// Bumped on every publish.
    pub version: u64,
    pub namespaces: Arc<BTreeMap<String, NamespaceView>>,
    pub apps: Arc<BTreeMap<AppKey, Arc<AppView>>>,
    pub services: Arc<BTreeMap<NsKey, ServiceView>>,
    pub routes: Arc<BTreeMap<NsKey, RouteView>>,
}

impl ClusterSnapshot {
    fn empty(cluster: &str) -> Self {
        Self {
            cluster: cluster.to_string(),
            health: Health::Connecting,
            version: 0,
            namespaces: Arc::default(),
            apps: Arc::default(),
            services: Arc::default(),
            routes: Arc::default(),
        }
    }

    /// The apps of one namespace, by key range: no scan of the others.
    pub fn apps_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a AppView> + 'a {
        let start = (namespace.to_string(), String::new(), "");
        self.apps
            .range(start..)
            .take_while(move |((ns, _, _), _)| ns == namespace)
            .map(|(_, v)| &**v)
    }

    /// Apps whose label `key` is `value`.
    pub fn apps_labelled<'a>(&'a self, key: &'a str, value: &'a str) -> impl Iterator<Item = &'a AppView> + 'a {
        self.apps
            .values()
            .map(|a| &**a)
            .filter(move |a| a.labels.get(key).map(String::as_str) == Some(value))
    }
}

/// "Something changed in this cluster": readers then take its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub cluster: String,
    pub version: u64,
}

/// Knobs of the watchers.
#[derive(Debug, Clone, Copy)]
pub struct FleetOptions {
    /// Server-side watch timeout; kube gives up on a silent watch a little after it,
    /// so this bounds how long a stalled connection goes unnoticed.
    pub watch_timeout_secs: u32,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self { watch_timeout_secs: 55 }
    }
}

/// The running fleet: one watch task per cluster.
pub struct Fleet {
    snapshots: BTreeMap<String, watch::Receiver<Arc<ClusterSnapshot>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Fleet {
    /// Starts watching every cluster. `attached` are the stored spaces, used
    /// where a user may not list across namespaces. Notices go to `changed`.
    pub fn start(clusters: &[Cluster], attached: &[SpaceRef], changed: mpsc::Sender<Changed>) -> Self {
        Self::start_with(clusters, attached, changed, FleetOptions::default())
    }

    pub fn start_with(
        clusters: &[Cluster],
        attached: &[SpaceRef],
        changed: mpsc::Sender<Changed>,
        opts: FleetOptions,
    ) -> Self {
        let mut snapshots = BTreeMap::new();
        let mut tasks = Vec::new();
        for c in clusters {
            let (tx, rx) = watch::channel(Arc::new(ClusterSnapshot::empty(&c.name)));
            snapshots.insert(c.name.clone(), rx);
            let spaces: Vec<String> = attached
                .iter()
                .filter(|s| s.cluster == c.name)
                .map(|s| s.namespace.clone())
                .collect();
            tasks.push(tokio::spawn(run_cluster(c.clone(), spaces, tx, changed.clone(), opts)));
        }
        Self { snapshots, tasks }
    }

    /// The latest snapshot of every cluster, in name order.
    pub fn snapshot(&self) -> Vec<Arc<ClusterSnapshot>> {
        self.snapshots.values().map(|rx| rx.borrow().clone()).collect()
    }

    pub fn cluster(&self, name: &str) -> Option<Arc<ClusterSnapshot>> {
        self.snapshots.get(name).map(|rx| rx.borrow().clone())
    }
}

/// What the merged watch streams yield.
/// Each carries the index of its stream: every stream mirrors its own rows.
enum Update {
    Namespace(Result<Event<kube::core::PartialObjectMeta<Namespace>>, watcher::Error>),
    Deployment(usize, Result<Event<Deployment>, watcher::Error>),
    StatefulSet(usize, Result<Event<StatefulSet>, watcher::Error>),
    Service(usize, Result<Event<Service>, watcher::Error>),
    Ingress(usize, Result<Event<Ingress>, watcher::Error>),
}

fn kube_error(e: &watcher::Error) -> Option<&kube::Error> {
    match e {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => {
            Some(e)
        }
        _ => None,
    }
}

/// Streams of one kind: across namespaces, or one per attached namespace.
fn streams<K>(
    cfg: &watcher::Config,
    client: &kube::Client,
    namespaces: &Option<Vec<String>>,
    wrap: fn(usize, Result<Event<K>, watcher::Error>) -> Update,
) -> Vec<std::pin::Pin<Box<dyn Stream<Item = Update> + Send>>>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
    K::DynamicType: Default,
{
    let apis: Vec<Api<K>> = match namespaces {
        None => vec![Api::all(client.clone())],
        Some(nss) => nss.iter().map(|ns| Api::namespaced(client.clone(), ns)).collect(),
    };
    apis.into_iter()
        .enumerate()
        .map(|(i, api)| {
            watcher::watcher(api, cfg.clone())
                .default_backoff()
                .map(move |r| wrap(i, r))
                .boxed()
        })
        .collect()
}

fn strip<K: kube::Resource>(o: &K) -> (String, String, String) {
    let m = o.meta();
    (
        m.namespace.clone().unwrap_or_default(),
        m.name.clone().unwrap_or_default(),
        m.resource_version.clone().unwrap_or_default(),
    )
}

pub(super) fn created(m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    m.creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .unwrap_or_default()
}

/// An app row from what Deployments and StatefulSets have alike.
fn app_view(
    kind: &'static str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    desired: Option<i32>,
    ready: Option<i32>,
    pod: Option<&k8s_openapi::api::core::v1::PodSpec>,
) -> AppView {
    AppView {
        kind,
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        ready: ready.unwrap_or(0),
        desired: desired.unwrap_or(1),
        image: pod
            .and_then(|p| p.containers.first())
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        created: created(meta),
        resource_version: meta.resource_version.clone().unwrap_or_default(),
        labels: meta.labels.clone().unwrap_or_default(),
    }
}

pub fn deployment_view(d: &Deployment) -> AppView {
    let ready = d.status.as_ref().and_then(|s| s.ready_replicas);
    app_view(
        "Deployment",
        &d.metadata,
        d.spec.replicas,
        ready,
        d.spec.template.spec.as_ref(),
    )
}

pub fn statefulset_view(s: &StatefulSet) -> AppView {
    let ready = s.status.as_ref().and_then(|s| s.ready_replicas);
    app_view(
        "StatefulSet",
        &s.metadata,
        s.spec.replicas,
        ready,
        s.spec.template.spec.as_ref(),
    )
}

fn route_view(i: &Ingress) -> RouteView {
    let (namespace, ingress, resource_version) = strip(i);
    let mut rules = Vec::new();
    for r in i.spec.as_ref().and_then(|s| s.rules.as_ref()).into_iter().flatten() {
        let host = r.host.clone().unwrap_or_else(|| "*".into());
        for p in r.http.as_ref().map(|h| h.paths.as_slice()).unwrap_or_default() {
            let path = p.path.as_deref().filter(|p| *p != "/").unwrap_or("");
            let svc = p.backend.service.as_ref().map(|s| s.name.clone()).unwrap_or_default();
            rules.push((format!("{host}{path}"), svc));
        }
    }
    RouteView {
        namespace,
        ingress,
        rules,
        resource_version,
    }
}

/// Applies one watcher event to a map of rows: `Init` starts a fresh copy
/// that replaces the old one at `InitDone`, so a relist drops what is gone.
struct Mirror<K: Ord, V> {
    rows: Arc<BTreeMap<K, V>>,
    pending: Option<BTreeMap<K, V>>,
}

impl<K: Ord + Clone, V: Clone> Mirror<K, V> {
    fn new() -> Self {
        Self {
            rows: Arc::default(),
            pending: None,
        }
    }
    fn apply<O>(&mut self, ev: Event<O>, key: impl Fn(&O) -> K, view: impl Fn(&O) -> V) {
        match ev {
            Event::Init => self.pending = Some(BTreeMap::new()),
            Event::InitApply(o) => {
                if let Some(p) = self.pending.as_mut() {
                    p.insert(key(&o), view(&o));
                }
            }
            Event::InitDone => {
                if let Some(p) = self.pending.take() {
                    self.rows = Arc::new(p);
                }
            }
            Event::Apply(o) => {
                Arc::make_mut(&mut self.rows).insert(key(&o), view(&o));
            }
            Event::Delete(o) => {
                Arc::make_mut(&mut self.rows).remove(&key(&o));
            }
        }
    }
}

/// The mirrors of several streams of rows of one shape, merged for readers
/// only when one of them changed.
struct Group<K: Ord, V> {
    mirrors: Vec<Mirror<K, V>>,
    merged: Arc<BTreeMap<K, V>>,
    dirty: bool,
}

impl<K: Ord + Clone, V: Clone> Group<K, V> {
    fn new(n: usize) -> Self {
        Self {
            mirrors: (0..n.max(1)).map(|_| Mirror::new()).collect(),
            merged: Arc::default(),
            dirty: false,
        }
    }
    fn mirror(&mut self, i: usize) -> &mut Mirror<K, V> {
        self.dirty = true;
        let last = self.mirrors.len() - 1;
        &mut self.mirrors[i.min(last)]
    }
    fn rows(&mut self) -> Arc<BTreeMap<K, V>> {
        if self.mirrors.len() == 1 {
            return self.mirrors[0].rows.clone();
        }
        if self.dirty {
            let mut all = BTreeMap::new();
            for m in &self.mirrors {
                all.extend(m.rows.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            self.merged = Arc::new(all);
            self.dirty = false;
        }
        self.merged.clone()
    }
}

/// One watcher's standing: healthy, or the problem it last met.
#[derive(Default)]
struct WatchState {
    problem: Option<(Problem, String)>,
    synced: bool,
}

async fn run_cluster(
    c: Cluster,
    attached: Vec<String>,
    tx: watch::Sender<Arc<ClusterSnapshot>>,
    changed: mpsc::Sender<Changed>,
    opts: FleetOptions,
) {
    let cfg = watcher::Config::default().timeout(opts.watch_timeout_secs);
    let mut snap = ClusterSnapshot::empty(&c.name);
    let publish = |snap: &mut ClusterSnapshot| {
        snap.version += 1;
        tx.send_replace(Arc::new(snap.clone()));
        let _ = changed.try_send(Changed {
            cluster: snap.cluster.clone(),
            version: snap.version,
        });
    };
    // A client, retried with backoff until the stored settings make one.
    let client = loop {
        match client_for(&c).await {
            Ok(cl) => break cl,
            Err(p) => {
                snap.health = Health::Unreachable {
                    since: rfc3339(time::OffsetDateTime::now_utc()),
                    why: p.message,
                };
                publish(&mut snap);
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    };
    // Fleet-wide, unless this user may not list across namespaces.
    let scope = match Api::<Deployment>::all(client.clone())
        .list(&ListParams::default().limit(1))
        .await
    {
        Err(e) if describe(&c, "list", &e).kind == ProblemKind::Forbidden && !attached.is_empty() => {
            Some(attached.clone())
        }
        _ => None,
    };
    let ns_stream = watcher::watcher(
        Api::<kube::core::PartialObjectMeta<Namespace>>::all(client.clone()),
        cfg.clone(),
    )
    .default_backoff()
    .map(Update::Namespace)
    .boxed();
    let mut all = vec![ns_stream];
    all.extend(streams::<Deployment>(&cfg, &client, &scope, Update::Deployment));
    all.extend(streams::<StatefulSet>(&cfg, &client, &scope, Update::StatefulSet));
    all.extend(streams::<Service>(&cfg, &client, &scope, Update::Service));
    all.extend(streams::<Ingress>(&cfg, &client, &scope, Update::Ingress));
    let mut merged = futures::stream::select_all(all);

    let per_kind = scope.as_ref().map_or(1, Vec::len);
    let mut namespaces: Mirror<String, NamespaceView> = Mirror::new();
    // Deployment streams first, then StatefulSet streams.
    let mut apps: Group<AppKey, Arc<AppView>> = Group::new(2 * per_kind);
    let mut services: Group<NsKey, ServiceView> = Group::new(per_kind);
    let mut routes: Group<NsKey, RouteView> = Group::new(per_kind);
    // Watch standing by kind: namespaces, apps (both kinds), services, routes.
    let mut states: BTreeMap<&'static str, WatchState> = BTreeMap::new();
    let now = || rfc3339(time::OffsetDateTime::now_utc());

    while let Some(first) = merged.next().await {
        // Drain what else is ready, then publish once.
        let mut batch = vec![first];
        while let Some(Some(u)) = merged.next().now_or_never() {
            batch.push(u);
            if batch.len() >= 10_000 {
                break;
            }
        }
        for u in batch {
            let (kind, result): (&'static str, Result<(), watcher::Error>) = match u {
                Update::Namespace(r) => (
                    "list namespaces",
                    r.map(|ev| {
                        namespaces.apply(
                            ev,
                            |n| n.metadata.name.clone().unwrap_or_default(),
                            |n| NamespaceView {
                                name: n.metadata.name.clone().unwrap_or_default(),
                                labels: n.metadata.labels.clone().unwrap_or_default(),
                                terminating: n.metadata.deletion_timestamp.is_some(),
                                resource_version: n.metadata.resource_version.clone().unwrap_or_default(),
                            },
                        )
                    }),
                ),
                Update::Deployment(i, r) => (
                    "list deployments",
                    r.map(|ev| {
                        apps.mirror(i).apply(
                            ev,
                            |d| (strip(d).0, strip(d).1, "Deployment"),
                            |d| Arc::new(deployment_view(d)),
                        )
                    }),
                ),
                Update::StatefulSet(i, r) => (
                    "list statefulsets",
                    r.map(|ev| {
                        apps.mirror(per_kind + i).apply(
                            ev,
                            |s| (strip(s).0, strip(s).1, "StatefulSet"),
                            |s| Arc::new(statefulset_view(s)),
                        )
                    }),
                ),
                Update::Service(i, r) => (
                    "list services",
                    r.map(|ev| {
                        services.mirror(i).apply(
                            ev,
                            |s| (strip(s).0, strip(s).1),
                            |s| ServiceView {
                                namespace: strip(s).0,
                                name: strip(s).1,
                                ports: s
                                    .spec
                                    .as_ref()
                                    .and_then(|sp| sp.ports.as_ref())
                                    .map(|ps| ps.iter().map(|p| p.port).collect())
                                    .unwrap_or_default(),
                                resource_version: strip(s).2,
                            },
                        )
                    }),
                ),
                Update::Ingress(i, r) => (
                    "list ingresses",
                    r.map(|ev| routes.mirror(i).apply(ev, |o| (strip(o).0, strip(o).1), route_view)),
                ),
            };
            let st = states.entry(kind).or_default();
            match result {
                Ok(()) => {
                    st.problem = None;
                    st.synced = true;
                    // The server answered: no stream of it is unreachable any more,
                    // even one that resumed with nothing new to say.
                    for other in states.values_mut() {
                        if other.problem.as_ref().is_some_and(|(p, _)| unreachable(&p.kind)) {
                            other.problem = None;
                        }
                    }
                }
                Err(e) => {
                    let p = match kube_error(&e) {
                        Some(ke) => describe(&c, kind, ke),
                        None => Problem {
                            cluster: c.name.clone(),
                            kind: ProblemKind::Other,
                            message: format!("cluster {}: {kind}: {e}", c.name),
                            code: None,
                        },
                    };
                    let since = st.problem.as_ref().map(|(_, s)| s.clone()).unwrap_or_else(now);
                    st.problem = Some((p, since));
                }
            }
        }
        snap.health = health_of(&states, scope.is_some(), &snap.health, now);
        snap.namespaces = namespaces.rows.clone();
        snap.apps = apps.rows();
        snap.services = services.rows();
        snap.routes = routes.rows();
        publish(&mut snap);
    }
}

/// Problems that mean the cluster cannot be reached at all.
fn unreachable(kind: &ProblemKind) -> bool {
    matches!(
        kind,
        ProblemKind::Refused
            | ProblemKind::Dns
            | ProblemKind::Tls
            | ProblemKind::Timeout
            | ProblemKind::Unauthorized
            | ProblemKind::Config
    )
}

/// The cluster's health from its watchers: unreachable beats forbidden beats
/// stale; live once every watcher has synced and none has a problem.
fn health_of(
    states: &BTreeMap<&'static str, WatchState>,
    restricted: bool,
    prev: &Health,
    now: impl Fn() -> String,
) -> Health {
    let problems: Vec<(&&str, &(Problem, String))> = states
        .iter()
        .filter_map(|(k, s)| s.problem.as_ref().map(|p| (k, p)))
        .collect();
    if let Some((_, (p, since))) = problems.iter().find(|(_, (p, _))| unreachable(&p.kind)) {
        return Health::Unreachable {
            since: since.clone(),
            why: p.message.clone(),
        };
    }
    if let Some((verb, (p, _))) = problems.iter().find(|(_, (p, _))| p.kind == ProblemKind::Forbidden) {
        return Health::Forbidden {
            verb: verb.to_string(),
            why: p.message.clone(),
        };
    }
    if let Some((_, (p, since))) = problems.first() {
        return Health::Stale {
            since: since.clone(),
            why: p.message.clone(),
        };
    }
    if restricted && !states.contains_key("list namespaces") {
        return prev.clone();
    }
    let all_synced = states.len() >= 5 && states.values().all(|s| s.synced);
    if all_synced {
        Health::Live
    } else {
        match prev {
            Health::Unreachable { .. } | Health::Stale { .. } | Health::Forbidden { .. } => prev.clone(),
            _ => {
                let _ = now;
                Health::Connecting
            }
        }
    }
}
