//! The live model: one task per cluster runs the watchers, owns that
//! cluster's data, and publishes a consistent snapshot after each batch of
//! events. Readers take the latest snapshot (an `Arc`, no lock held while
//! they use it) and get a small "changed" notice on a channel.
//!
//! Spaces, apps, services and routes are watched fleet-wide: the model keeps
//! compact rows, not whole objects (see the memory figures in the issue
//! notes). A user who may not list across namespaces gets watches of the
//! spaces they attached instead, switched on the first 403. Pods and Tekton
//! builds are watched only for the spaces in view ([`Fleet::focus`]).

mod mirror;
mod slim;
mod task;
pub mod views;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, watch};

use kdeck_model::{Cluster, SpaceRef};
pub use views::{
    AppView, BuildState, BuildView, NamespaceView, PodView, Rollout, RouteView, ServiceView, StepView, TaskRunView,
    deployment_view, statefulset_view,
};

/// How a cluster is doing, as the header and the tree show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    Connecting,
    Live,
    /// Was live; the server has gone quiet or a watch failed and is being
    /// retried. The rows are what it said last.
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

/// How one on-demand watch of a space stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Standing {
    /// Started; the first list has not come back yet.
    Syncing,
    Live,
    /// Failed, and being retried with backoff.
    Failed {
        why: String,
    },
}

/// The on-demand watches of one space in view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpaceWatch {
    pub pods: Standing,
    /// PipelineRuns and TaskRuns.
    pub builds: Standing,
}

/// (namespace, name) keys; apps add their kind.
/// (namespace, name, kind). Shared strings: a snapshot's map is copied on
/// the first change after it was published, and copying these is a count.
pub type AppKey = (Arc<str>, Arc<str>, &'static str);
/// (namespace, name)
pub type NsKey = (Arc<str>, Arc<str>);

/// One cluster, as of one moment. Cheap to clone: the maps are shared.
#[derive(Debug, Clone)]
pub struct ClusterSnapshot {
    pub cluster: String,
    pub health: Health,
    /// Bumped on every publish.
    pub version: u64,
    /// Apps are watched per attached space: this user may not list them
    /// across namespaces.
    pub restricted: bool,
    pub namespaces: Arc<BTreeMap<String, NamespaceView>>,
    pub apps: Arc<BTreeMap<AppKey, Arc<AppView>>>,
    pub services: Arc<BTreeMap<NsKey, ServiceView>>,
    pub routes: Arc<BTreeMap<NsKey, RouteView>>,
    /// The spaces in view, and how their pod and build watches stand.
    pub focus: Arc<BTreeMap<String, SpaceWatch>>,
    /// Pods, PipelineRuns and TaskRuns of the spaces in view only.
    pub pods: Arc<BTreeMap<NsKey, PodView>>,
    pub builds: Arc<BTreeMap<NsKey, BuildView>>,
    pub task_runs: Arc<BTreeMap<NsKey, TaskRunView>>,
    /// Apps by label, built on first use and dropped when the apps change.
    label_index: Arc<std::sync::OnceLock<LabelIndex>>,
}

/// (label key, label value) → the apps that carry it.
type LabelIndex = BTreeMap<(String, String), Vec<AppKey>>;

/// The rows of one namespace in a map keyed by (namespace, name, …), by key
/// range: no scan of the other namespaces.
fn in_namespace<'a, K: Ord + NsPrefix, V>(
    map: &'a BTreeMap<K, V>,
    namespace: &'a str,
) -> impl Iterator<Item = &'a V> + 'a {
    map.range(K::first_in(namespace)..)
        .take_while(move |(k, _)| k.namespace() == namespace)
        .map(|(_, v)| v)
}

trait NsPrefix {
    fn first_in(namespace: &str) -> Self;
    fn namespace(&self) -> &str;
}

impl NsPrefix for AppKey {
    fn first_in(namespace: &str) -> Self {
        (Arc::from(namespace), Arc::from(""), "")
    }
    fn namespace(&self) -> &str {
        &self.0
    }
}

impl NsPrefix for NsKey {
    fn first_in(namespace: &str) -> Self {
        (Arc::from(namespace), Arc::from(""))
    }
    fn namespace(&self) -> &str {
        &self.0
    }
}

impl ClusterSnapshot {
    /// A cluster with nothing known yet (also how tests and screenshots build fixed data).
    pub fn new(cluster: &str) -> Self {
        Self {
            cluster: cluster.to_string(),
            health: Health::Connecting,
            version: 0,
            restricted: false,
            namespaces: Arc::default(),
            apps: Arc::default(),
            services: Arc::default(),
            routes: Arc::default(),
            focus: Arc::default(),
            pods: Arc::default(),
            builds: Arc::default(),
            task_runs: Arc::default(),
            label_index: Arc::default(),
        }
    }

    /// Says the same as `other`: a change to any rows map is a new map, as
    /// the task's own snapshot holds the one it published last.
    pub fn same_as(&self, other: &Self) -> bool {
        self.cluster == other.cluster
            && self.health == other.health
            && self.restricted == other.restricted
            && Arc::ptr_eq(&self.namespaces, &other.namespaces)
            && Arc::ptr_eq(&self.apps, &other.apps)
            && Arc::ptr_eq(&self.services, &other.services)
            && Arc::ptr_eq(&self.routes, &other.routes)
            && Arc::ptr_eq(&self.pods, &other.pods)
            && Arc::ptr_eq(&self.builds, &other.builds)
            && Arc::ptr_eq(&self.task_runs, &other.task_runs)
            && self.focus == other.focus
    }

    /// The apps of one namespace.
    pub fn apps_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a AppView> + 'a {
        in_namespace(&self.apps, namespace).map(|a| &**a)
    }

    /// Apps whose label `key` is `value`, through an index built on the
    /// first such lookup of this snapshot (memory is spent only when asked).
    pub fn apps_labelled<'a>(&'a self, key: &str, value: &str) -> impl Iterator<Item = &'a AppView> + 'a {
        let index = self.label_index.get_or_init(|| {
            let mut ix: LabelIndex = BTreeMap::new();
            for (k, a) in self.apps.iter() {
                for (lk, lv) in &a.labels {
                    ix.entry((lk.clone(), lv.clone())).or_default().push(k.clone());
                }
            }
            ix
        });
        index
            .get(&(key.to_string(), value.to_string()))
            .into_iter()
            .flatten()
            .filter_map(|k| self.apps.get(k).map(|a| &**a))
    }

    pub fn routes_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a RouteView> + 'a {
        in_namespace(&self.routes, namespace)
    }

    /// The pods of one space in view.
    pub fn pods_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a PodView> + 'a {
        in_namespace(&self.pods, namespace)
    }

    /// The pods an app runs (its ReplicaSets' pods for a Deployment).
    pub fn pods_of<'a>(
        &'a self,
        namespace: &'a str,
        kind: &'a str,
        app: &'a str,
    ) -> impl Iterator<Item = &'a PodView> + 'a {
        self.pods_in(namespace)
            .filter(move |p| p.app.as_ref().is_some_and(|(k, n)| *k == kind && n == app))
    }

    /// The builds of one space in view, newest first.
    pub fn builds_in<'a>(&'a self, namespace: &'a str) -> Vec<&'a BuildView> {
        let mut v: Vec<&BuildView> = in_namespace(&self.builds, namespace).collect();
        v.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.name.cmp(&b.name)));
        v
    }

    /// A build's TaskRuns, in the order they started.
    pub fn task_runs_of<'a>(&'a self, namespace: &'a str, build: &str) -> Vec<&'a TaskRunView> {
        let mut v: Vec<&TaskRunView> = in_namespace(&self.task_runs, namespace)
            .filter(|t| t.pipeline_run.as_deref() == Some(build))
            .collect();
        v.sort_by(|a, b| a.started.cmp(&b.started).then_with(|| a.name.cmp(&b.name)));
        v
    }

    /// The step that failed a build: its TaskRun and the step.
    pub fn failing_step<'a>(&'a self, namespace: &'a str, build: &str) -> Option<(&'a TaskRunView, &'a StepView)> {
        self.task_runs_of(namespace, build)
            .into_iter()
            .find_map(|t| t.failed_step().map(|s| (t, s)))
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
    /// Server-side watch timeout; kube gives up on a silent watch 5 s after
    /// it, so this bounds how long one stalled watch goes unnoticed.
    pub watch_timeout_secs: u32,
    /// How often each cluster is asked for its version, to notice a server
    /// that has gone quiet without waiting for the watch timeout.
    pub probe_every: Duration,
    /// No answer within this: the cluster is stale.
    pub probe_timeout: Duration,
    /// Stale for this long: the cluster is unreachable.
    pub stale_to_unreachable: Duration,
    /// The server-side timeout of the heartbeat watch; one still open
    /// 10 s after it means the cluster's watches stall (shown stale, and
    /// everything is listed again each time).
    pub heartbeat_secs: u32,
    /// Above this many spaces in view on one cluster, pods and builds are
    /// watched with one cluster-wide watch instead of one per space.
    pub focus_per_space_limit: usize,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            watch_timeout_secs: 55,
            probe_every: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(3),
            stale_to_unreachable: Duration::from_secs(30),
            heartbeat_secs: 20,
            focus_per_space_limit: 16,
        }
    }
}

/// What the owner asks a cluster's task to change while it runs.
#[derive(Debug, Clone)]
enum Control {
    /// The spaces in view: pods and builds are watched for these.
    Focus(BTreeSet<String>),
    /// The attached spaces (watched one by one for restricted users).
    Attached(BTreeSet<String>),
}

struct Member {
    cluster: Cluster,
    snapshot: watch::Receiver<Arc<ClusterSnapshot>>,
    client: watch::Receiver<Option<kube::Client>>,
    control: mpsc::UnboundedSender<Control>,
}

/// The running fleet: one watch task per cluster.
pub struct Fleet {
    gateway: crate::Gateway,
    members: BTreeMap<String, Member>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn by_cluster(spaces: &[SpaceRef], cluster: &str) -> BTreeSet<String> {
    spaces
        .iter()
        .filter(|s| s.cluster == cluster)
        .map(|s| s.namespace.clone())
        .collect()
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
        Self::start_on(crate::Gateway::new(), clusters, attached, changed, opts)
    }

    /// [`Self::start_with`] over a gateway shared with others (the
    /// cockpit's commands and reads use the same clients).
    pub fn start_on(
        gateway: crate::Gateway,
        clusters: &[Cluster],
        attached: &[SpaceRef],
        changed: mpsc::Sender<Changed>,
        opts: FleetOptions,
    ) -> Self {
        let mut members = BTreeMap::new();
        let mut tasks = Vec::new();
        for c in clusters {
            let (snap_tx, snapshot) = watch::channel(Arc::new(ClusterSnapshot::new(&c.name)));
            let (client_tx, client) = watch::channel(None);
            let (control, control_rx) = mpsc::unbounded_channel();
            let spaces = by_cluster(attached, &c.name);
            let links = task::Links {
                snapshot: snap_tx,
                client: client_tx,
                changed: changed.clone(),
                control: control_rx,
            };
            tasks.push(tokio::spawn(task::run(gateway.clone(), c.clone(), spaces, links, opts)));
            members.insert(
                c.name.clone(),
                Member {
                    cluster: c.clone(),
                    snapshot,
                    client,
                    control,
                },
            );
        }
        Self {
            gateway,
            members,
            tasks,
        }
    }

    /// The gateway the fleet's tasks reach their clusters through.
    pub fn gateway(&self) -> &crate::Gateway {
        &self.gateway
    }

    /// The stored settings of a cluster in the fleet.
    pub fn settings(&self, cluster: &str) -> Option<&Cluster> {
        self.members.get(cluster).map(|m| &m.cluster)
    }

    /// The latest snapshot of every cluster, in name order.
    pub fn snapshot(&self) -> Vec<Arc<ClusterSnapshot>> {
        self.members.values().map(|m| m.snapshot.borrow().clone()).collect()
    }

    pub fn cluster(&self, name: &str) -> Option<Arc<ClusterSnapshot>> {
        self.members.get(name).map(|m| m.snapshot.borrow().clone())
    }

    /// The spaces in view: their pods and builds are watched, and the
    /// watches of spaces no longer in view stop. Cheap to call on every
    /// selection change; a cluster whose set did not change does nothing.
    pub fn focus(&self, spaces: &[SpaceRef]) {
        for (name, m) in &self.members {
            let _ = m.control.send(Control::Focus(by_cluster(spaces, name)));
        }
    }

    /// The attached spaces changed while running (attach or detach).
    pub fn set_attached(&self, spaces: &[SpaceRef]) {
        for (name, m) in &self.members {
            let _ = m.control.send(Control::Attached(by_cluster(spaces, name)));
        }
    }

    /// The cluster's client once its task has made one (for log streams
    /// and one-off reads), sharing its connections and credentials.
    pub fn client(&self, cluster: &str) -> Option<kube::Client> {
        self.members.get(cluster).and_then(|m| m.client.borrow().clone())
    }

    /// Starts a log request on a cluster, over its task's client. `None`
    /// while the cluster has no client (its settings cannot make one yet).
    pub fn logs(&self, cluster: &str, req: super::logs::LogRequest) -> Option<super::logs::LogStream> {
        let m = self.members.get(cluster)?;
        let client = m.client.borrow().clone()?;
        Some(super::logs::LogStream::open(client, &m.cluster, req))
    }

    /// Waits up to `within` for the cluster's client.
    pub async fn client_within(&self, cluster: &str, within: Duration) -> Option<kube::Client> {
        let m = self.members.get(cluster)?;
        let mut rx = m.client.clone();
        let wait = rx.wait_for(Option::is_some);
        match tokio::time::timeout(within, wait).await {
            Ok(Ok(c)) => c.clone(),
            _ => None,
        }
    }
}
