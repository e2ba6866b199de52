//! One simulated cluster: its state, its users, its faults, and the
//! notifications that watches and controllers listen to.

use crate::ptr::At;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};

use super::faults::Faults;
use super::state::{Event, State};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Read and write namespaced objects, except RBAC; read namespaces.
    Edit,
    /// Read, except secrets.
    View,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub name: String,
    pub token: String,
    pub role: Role,
    /// Limited to these namespaces (and denied cluster-wide lists) when set.
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
}

/// Knobs of a simulated cluster.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Events kept for watch resumption.
    pub history: usize,
    /// How long a new pod stays Pending before it is Running and Ready.
    pub pod_ready_after: Duration,
    /// Time between two log lines of a pod.
    pub log_interval: Duration,
    /// How long a pod stays Terminating, at most (its grace period is shorter when set so).
    pub pod_termination: Duration,
    /// A rollout that makes no progress for this long fails with ProgressDeadlineExceeded
    /// (the Deployment's own progressDeadlineSeconds is used when shorter).
    pub progress_deadline: Duration,
    /// How long each Tekton step runs.
    pub step_duration: Duration,
    /// Interval of BOOKMARK events on watches that ask for them.
    pub bookmark_interval: Duration,
    /// How often each HorizontalPodAutoscaler is looked at (the controller
    /// manager's `--horizontal-pod-autoscaler-sync-period`, 15 s).
    pub hpa_sync: Duration,
    /// Seed for log lines and fleet data.
    pub seed: u64,
    /// Tekton Pipelines is installed (its `tekton.dev` API is served).
    pub tekton: bool,
    /// Users bound at start (their role cluster-wide, or in their namespaces).
    /// Any other token `kdeck-sim-<name>` is user `<name>`, bound to nothing.
    pub users: Vec<User>,
    /// The groups of users, by user name (besides `system:authenticated`).
    pub groups: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            history: 10_000,
            pod_ready_after: Duration::from_millis(300),
            log_interval: Duration::from_millis(500),
            pod_termination: Duration::from_millis(200),
            progress_deadline: Duration::from_secs(600),
            step_duration: Duration::from_millis(300),
            bookmark_interval: Duration::from_secs(5),
            hpa_sync: Duration::from_secs(15),
            seed: 42,
            tekton: true,
            users: default_users(),
            groups: Default::default(),
        }
    }
}

/// admin / developer / auditor, with tokens `kdeck-sim-<name>`.
pub fn default_users() -> Vec<User> {
    [
        ("admin", Role::Admin),
        ("developer", Role::Edit),
        ("auditor", Role::View),
    ]
    .into_iter()
    .map(|(n, r)| User {
        name: n.into(),
        token: format!("kdeck-sim-{n}"),
        role: r,
        namespaces: None,
    })
    .collect()
}

/// What the server did, for tests to check that a fault was really hit.
#[derive(Debug, Default)]
pub struct Stats {
    pub watches: std::sync::atomic::AtomicU64,
    pub watch_410: std::sync::atomic::AtomicU64,
    pub stalled: std::sync::atomic::AtomicU64,
    pub dropped: std::sync::atomic::AtomicU64,
    pub continue_410: std::sync::atomic::AtomicU64,
    pub injected: std::sync::atomic::AtomicU64,
    pub requests: std::sync::atomic::AtomicU64,
    /// Watches open now, by `namespace/plural` (`*/plural` across namespaces).
    pub open_watches: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Stats {
    pub fn get(c: &std::sync::atomic::AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
    pub fn bump(c: &std::sync::atomic::AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    /// The watches open now, by `namespace/plural`.
    pub fn open_watches(&self) -> std::collections::BTreeMap<String, u64> {
        self.open_watches.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// Counts one open watch in [`Stats::open_watches`] while it lives.
pub struct OpenWatch {
    cluster: Arc<SimCluster>,
    key: String,
}

impl OpenWatch {
    pub fn new(cluster: Arc<SimCluster>, key: String) -> Self {
        if let Ok(mut m) = cluster.stats.open_watches.lock() {
            *m.entry(key.clone()).or_default() += 1;
        }
        Self { cluster, key }
    }
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        if let Ok(mut m) = self.cluster.stats.open_watches.lock()
            && let Some(n) = m.get_mut(&self.key)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.key);
            }
        }
    }
}

pub struct SimCluster {
    pub name: String,
    pub stats: Stats,
    pub config: SimConfig,
    state: Mutex<State>,
    pub events: broadcast::Sender<Arc<Event>>,
    pub faults: Mutex<Faults>,
    /// Controllers wait on this after writes.
    pub wake: Notify,
    up: AtomicBool,
    pub up_changed: tokio::sync::watch::Sender<bool>,
    /// Metadata updates per second on its Deployments (0: none); changeable
    /// while it runs (`POST /sim/faults {"churn_per_sec": N}`).
    pub churn_per_sec: std::sync::atomic::AtomicU32,
    /// Simulated CPU demand of every workload without its own
    /// `sim.kdeck.dev/cpu-demand`, in percent of one pod's request (0: each
    /// pod idles at 30 %); `POST /sim/faults {"cpu_demand_percent": N}`.
    pub cpu_demand: std::sync::atomic::AtomicU32,
}

impl SimCluster {
    pub fn new(name: &str, config: SimConfig) -> Arc<Self> {
        let (events, _) = broadcast::channel(65_536);
        let (up_changed, _) = tokio::sync::watch::channel(true);
        Arc::new(Self {
            name: name.to_string(),
            stats: Stats::default(),
            state: Mutex::new(State::new(config.history)),
            config,
            events,
            faults: Mutex::new(Faults::default()),
            wake: Notify::new(),
            up: AtomicBool::new(true),
            churn_per_sec: std::sync::atomic::AtomicU32::new(0),
            cpu_demand: std::sync::atomic::AtomicU32::new(0),
            up_changed,
        })
    }

    /// Reads the state. Never held across an await.
    pub fn read(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the state; the events it made are broadcast before the lock
    /// is released, so a watch that subscribes under the lock misses none.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.read();
        let r = f(&mut st);
        let pending = std::mem::take(&mut st.pending);
        let any = !pending.is_empty();
        for ev in pending {
            let _ = self.events.send(ev);
        }
        drop(st);
        if any {
            self.wake.notify_waiters();
            self.wake.notify_one();
        }
        r
    }

    pub fn faults(&self) -> Faults {
        self.faults.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_faults(&self, f: Faults) {
        *self.faults.lock().unwrap_or_else(|p| p.into_inner()) = f;
    }

    /// Counts down a matching failure rule; the code to answer with, if any.
    pub fn take_failure(&self, path: &str) -> Option<u16> {
        let mut f = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let rule = f.fail.iter_mut().find(|r| r.times > 0 && path.contains(&r.path))?;
        rule.times -= 1;
        Stats::bump(&self.stats.injected);
        let code = rule.code;
        f.fail.retain(|r| r.times > 0);
        Some(code)
    }

    pub fn set_history(&self, cap: usize) {
        let mut st = self.read();
        st.history_cap = cap.max(1);
        while st.history.len() > st.history_cap {
            st.history.pop_front();
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    /// Takes the server down (port closed, connections cut) or brings it back.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        let _ = self.up_changed.send(up);
    }

    /// Who a bearer token is: a configured user's token, or any
    /// `kdeck-sim-<name>` (a user RBAC knows only by its bindings).
    pub fn user_by_token(&self, token: &str) -> Option<User> {
        if let Some(u) = self.config.users.iter().find(|u| u.token == token) {
            return Some(u.clone());
        }
        let name = token
            .strip_prefix("kdeck-sim-")
            .filter(|n| !n.is_empty() && !n.contains(char::is_whitespace))?;
        Some(User {
            name: name.to_string(),
            token: token.to_string(),
            role: Role::View,
            namespaces: Some(Vec::new()),
        })
    }

    /// The user as RBAC sees them: name and groups.
    pub fn subject(&self, user: &User) -> crate::rbac::Subject {
        let mut groups = self.config.groups.get(&user.name).cloned().unwrap_or_default();
        groups.push("system:authenticated".into());
        crate::rbac::Subject {
            user: user.name.clone(),
            groups,
        }
    }

    /// The built-in ClusterRoles and the configured users' bindings.
    pub fn seed_rbac(&self) {
        let of = crate::resources::ids::of;
        let objects: Vec<serde_json::Value> = crate::rbac::builtin_cluster_roles()
            .into_iter()
            .chain(crate::rbac::builtin_bindings())
            .chain(self.config.users.iter().flat_map(crate::rbac::bootstrap))
            .collect();
        self.write(|s| {
            for o in objects {
                let kind = o
                    .get("kind")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let ns = o
                    .at("/metadata/namespace")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_string();
                s.put(of(&kind), &ns, o);
            }
        });
    }
}
