//! What kdeck's login may do in each space: the rules of a
//! SelfSubjectRulesReview, asked per namespace, kept, and asked again when
//! the cluster's RoleBindings change.
//!
//! The [`Tracker`] reviews only the spaces it is asked about (the space
//! under the cursor, the marked ones, the ones in view when they were
//! picked), so that a fleet of thousands of spaces costs a request per space
//! actually looked at. Each cluster has a task of its own: it owns its
//! answers, publishes them as one snapshot, and sends a small notice when
//! they changed. A user who may watch RoleBindings across the cluster gets
//! answers refreshed on every change of them; anyone else gets them asked
//! again every [`REFRESH`] (their own grants are not theirs to watch).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::authorization::v1::{ResourceRule, SelfSubjectRulesReview, SelfSubjectRulesReviewSpec};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, PostParams};
use kube::core::PartialObjectMeta;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::{mpsc, watch};

use crate::client::{Problem, ProblemKind, describe};
use crate::gateway::Gateway;
use kdeck_model::{Cluster, Role, SpaceRef};

/// How often answers are asked again when RoleBindings cannot be watched.
pub const REFRESH: Duration = Duration::from_secs(60);
/// How often they are asked again even when RoleBindings are watched (a
/// ClusterRole or ClusterRoleBinding may have changed).
pub const SLOW_REFRESH: Duration = Duration::from_secs(300);
/// Reviews in flight per cluster.
const CONCURRENCY: usize = 8;
/// Answers kept per cluster; beyond it the oldest wanted-no-more go.
const KEEP: usize = 5_000;

/// One rule of a review: verbs on resources of API groups, maybe only
/// some names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub groups: Vec<String>,
    pub resources: Vec<String>,
    pub names: Vec<String>,
}

fn has(list: &[String], want: &str) -> bool {
    list.iter().any(|x| x == "*" || x == want)
}

impl Rule {
    /// A rule on no name in particular.
    pub fn new(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Rule {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        Rule {
            verbs: v(verbs),
            groups: v(groups),
            resources: v(resources),
            names: Vec::new(),
        }
    }

    fn from_api(r: &ResourceRule) -> Rule {
        Rule {
            verbs: r.verbs.clone(),
            groups: r.api_groups.clone().unwrap_or_default(),
            resources: r.resources.clone().unwrap_or_default(),
            names: r.resource_names.clone().unwrap_or_default(),
        }
    }

    /// RBAC's matching: `*` matches any verb, group and resource (its
    /// subresources too); `*/scale` any resource's scale. A rule limited to
    /// some names does not allow an action on no name in particular.
    pub fn allows(&self, verb: &str, group: &str, resource: &str) -> bool {
        if !self.names.is_empty() || !has(&self.verbs, verb) || !has(&self.groups, group) {
            return false;
        }
        self.resources.iter().any(|r| {
            r == "*"
                || r == resource
                || resource
                    .split_once('/')
                    .is_some_and(|(_, sub)| r.strip_prefix("*/") == Some(sub))
        })
    }
}

/// What the login may do in one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceAccess {
    pub rules: Vec<Rule>,
    /// The server said its answer may be incomplete (an authorizer that
    /// cannot list rules): what it does not list is not known to be refused.
    pub incomplete: bool,
}

impl SpaceAccess {
    /// `None`: not known to be allowed, and the answer was incomplete.
    pub fn may(&self, verb: &str, group: &str, resource: &str) -> Option<bool> {
        if self.rules.iter().any(|r| r.allows(verb, group, resource)) {
            Some(true)
        } else if self.incomplete {
            None
        } else {
            Some(false)
        }
    }

    fn sure(&self, verb: &str, group: &str, resource: &str) -> bool {
        self.may(verb, group, resource) == Some(true)
    }

    /// The kdeck role these rules amount to: manager when they may grant
    /// roles, developer when they may change apps, auditor when they may
    /// read them; `None` below that.
    pub fn role(&self) -> Option<Role> {
        if self.sure("create", "rbac.authorization.k8s.io", "rolebindings") && self.sure("patch", "apps", "deployments")
        {
            Some(Role::Manager)
        } else if self.sure("patch", "apps", "deployments") {
            Some(Role::Developer)
        } else if self.sure("list", "apps", "deployments") {
            Some(Role::Auditor)
        } else {
            None
        }
    }

    /// `manager`, `developer`, `auditor` or `no role`.
    pub fn role_word(&self) -> &'static str {
        match self.role() {
            Some(Role::Manager) => "manager",
            Some(Role::Developer) => "developer",
            Some(Role::Auditor) => "auditor",
            None => "without a role",
        }
    }
}

/// Asks the server what the login may do in `namespace`.
pub async fn review(gateway: &Gateway, cluster: &Cluster, namespace: &str) -> Result<SpaceAccess, Problem> {
    let api: Api<SelfSubjectRulesReview> = Api::all(gateway.client(cluster).await?);
    let ask = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.to_string()),
        },
        ..Default::default()
    };
    let r = api
        .create(&PostParams::default(), &ask)
        .await
        .map_err(|e| describe(cluster, "create selfsubjectrulesreviews", &e))?;
    let status = r.status.unwrap_or_default();
    Ok(SpaceAccess {
        rules: status.resource_rules.iter().map(Rule::from_api).collect(),
        incomplete: status.incomplete,
    })
}

/// Every answer known, by space.
pub type AccessMap = BTreeMap<SpaceRef, SpaceAccess>;

enum Ask {
    Want(BTreeSet<String>),
    Again(BTreeSet<String>),
}

/// Keeps what the login may do in the spaces it is asked about, on every
/// cluster. Dropped, its tasks end.
pub struct Tracker {
    asks: BTreeMap<String, mpsc::UnboundedSender<Ask>>,
    answers: BTreeMap<String, watch::Receiver<Arc<BTreeMap<String, SpaceAccess>>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Tracker {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Tracker {
    /// One task per cluster; `changed` gets a notice (never blocking) when
    /// an answer came or changed. Asks nothing until [`Tracker::want`].
    pub fn start(gateway: Gateway, clusters: &[Cluster], changed: mpsc::Sender<()>) -> Tracker {
        let mut t = Tracker {
            asks: BTreeMap::new(),
            answers: BTreeMap::new(),
            tasks: Vec::new(),
        };
        for c in clusters {
            let (ask_tx, ask_rx) = mpsc::unbounded_channel();
            let (ans_tx, ans_rx) = watch::channel(Arc::new(BTreeMap::new()));
            let task = ClusterTask {
                gateway: gateway.clone(),
                cluster: c.clone(),
                known: BTreeMap::new(),
                wanted: BTreeSet::new(),
                answers: ans_tx,
                changed: changed.clone(),
            };
            t.tasks.push(tokio::spawn(task.run(ask_rx)));
            t.asks.insert(c.name.clone(), ask_tx);
            t.answers.insert(c.name.clone(), ans_rx);
        }
        t
    }

    /// The spaces to know about now; those not known yet are asked.
    pub fn want(&self, spaces: &BTreeSet<SpaceRef>) {
        self.tell(spaces.iter(), true, Ask::Want);
    }

    /// Asks again about these spaces (a grant changed, a request was refused).
    pub fn again(&self, spaces: &[SpaceRef]) {
        self.tell(spaces.iter(), false, Ask::Again);
    }

    /// Each cluster's task its namespaces among `spaces` (an empty set too
    /// when `empty_too`: wanting nothing there is news).
    fn tell<'a>(
        &self,
        spaces: impl Iterator<Item = &'a SpaceRef> + Clone,
        empty_too: bool,
        ask: fn(BTreeSet<String>) -> Ask,
    ) {
        for (cluster, tx) in &self.asks {
            let ns: BTreeSet<String> = spaces
                .clone()
                .filter(|s| s.cluster == *cluster)
                .map(|s| s.namespace.clone())
                .collect();
            if empty_too || !ns.is_empty() {
                let _ = tx.send(ask(ns));
            }
        }
    }

    /// Every answer known now.
    pub fn snapshot(&self) -> AccessMap {
        let mut out = AccessMap::new();
        for (cluster, rx) in &self.answers {
            for (ns, a) in rx.borrow().iter() {
                out.insert(SpaceRef::new(cluster, ns), a.clone());
            }
        }
        out
    }
}

struct ClusterTask {
    gateway: Gateway,
    cluster: Cluster,
    known: BTreeMap<String, SpaceAccess>,
    wanted: BTreeSet<String>,
    answers: watch::Sender<Arc<BTreeMap<String, SpaceAccess>>>,
    changed: mpsc::Sender<()>,
}

type Watch =
    futures::stream::BoxStream<'static, Result<watcher::Event<PartialObjectMeta<RoleBinding>>, watcher::Error>>;

fn forbidden(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code == 403,
        watcher::Error::WatchError(s) => s.code == 403,
        _ => false,
    }
}

impl ClusterTask {
    async fn run(mut self, mut asks: mpsc::UnboundedReceiver<Ask>) {
        // Started with the first space wanted; dropped for good when refused.
        let mut bindings: Option<Watch> = None;
        let mut can_watch = true;
        let mut refresh = tokio::time::interval(REFRESH);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        refresh.tick().await;
        let mut last_full = tokio::time::Instant::now();
        let mut touched: BTreeSet<String> = BTreeSet::new();
        loop {
            let mut ask_now: BTreeSet<String> = BTreeSet::new();
            tokio::select! {
                a = asks.recv() => {
                    let Some(a) = a else { return };
                    let mut pending = vec![a];
                    while let Ok(a) = asks.try_recv() {
                        pending.push(a);
                    }
                    for a in pending {
                        match a {
                            Ask::Want(ns) => {
                                ask_now.extend(ns.iter().filter(|n| !self.known.contains_key(*n)).cloned());
                                self.wanted = ns;
                            }
                            Ask::Again(ns) => ask_now.extend(ns),
                        }
                    }
                }
                ev = async { match bindings.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } } => {
                    let mut next = ev;
                    // A burst of changes (a bulk grant, a relist) is one round of questions.
                    loop {
                        match next {
                            Some(Ok(e)) => self.note(e, &mut touched),
                            Some(Err(e)) if forbidden(&e) => {
                                bindings = None;
                                can_watch = false;
                            }
                            Some(Err(_)) => {}
                            None => bindings = None,
                        }
                        match bindings.as_mut().map(|s| s.next().now_or_never()) {
                            Some(Some(ev)) => next = ev,
                            _ => break,
                        }
                    }
                    ask_now.extend(touched.iter().filter(|n| self.known.contains_key(*n)).cloned());
                    touched.clear();
                }
                _ = refresh.tick() => {
                    let full_due = last_full.elapsed() >= SLOW_REFRESH;
                    if bindings.is_none() || full_due {
                        ask_now.extend(self.wanted.iter().cloned());
                        last_full = tokio::time::Instant::now();
                    }
                }
            }
            if bindings.is_none() && can_watch && !self.wanted.is_empty() {
                bindings = Some(self.watch_bindings().await);
            }
            if !ask_now.is_empty() {
                self.ask(ask_now).await;
            }
        }
    }

    /// The spaces a RoleBinding event may have changed answers in.
    fn note(&self, e: watcher::Event<PartialObjectMeta<RoleBinding>>, touched: &mut BTreeSet<String>) {
        match e {
            watcher::Event::Apply(b) | watcher::Event::Delete(b) => touched.extend(b.metadata.namespace),
            // A relist may hide changes made while away: ask all again.
            watcher::Event::InitDone => touched.extend(self.known.keys().cloned()),
            watcher::Event::Init | watcher::Event::InitApply(_) => {}
        }
    }

    async fn watch_bindings(&self) -> Watch {
        match self.gateway.client(&self.cluster).await {
            Ok(client) => {
                let api: Api<PartialObjectMeta<RoleBinding>> = Api::all(client);
                watcher::watcher(api, watcher::Config::default())
                    .default_backoff()
                    .boxed()
            }
            Err(_) => futures::stream::empty().boxed(),
        }
    }

    async fn ask(&mut self, spaces: BTreeSet<String>) {
        let answers: Vec<(String, Result<SpaceAccess, Problem>)> = futures::stream::iter(spaces)
            .map(|ns| {
                let (gateway, cluster) = (self.gateway.clone(), self.cluster.clone());
                async move {
                    let r = tokio::time::timeout(Duration::from_secs(15), review(&gateway, &cluster, &ns))
                        .await
                        .unwrap_or_else(|_| {
                            Err(Problem {
                                cluster: cluster.name.clone(),
                                kind: ProblemKind::Timeout,
                                message: "no answer within 15 s".into(),
                                code: None,
                            })
                        });
                    (ns, r)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut changed = false;
        for (ns, r) in answers {
            // No answer: what was known stays; nothing known is not a refusal.
            if let Ok(a) = r
                && self.known.get(&ns) != Some(&a)
            {
                self.known.insert(ns, a);
                changed = true;
            }
        }
        if self.known.len() > KEEP {
            let extra = self.known.len() - KEEP;
            let drop: Vec<String> = self
                .known
                .keys()
                .filter(|n| !self.wanted.contains(*n))
                .take(extra)
                .cloned()
                .collect();
            for n in drop {
                self.known.remove(&n);
            }
        }
        if changed {
            self.answers.send_replace(Arc::new(self.known.clone()));
            let _ = self.changed.try_send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Rule {
        Rule::new(verbs, groups, resources)
    }

    #[test]
    fn rules_match_as_rbac_does_and_name_the_role() {
        let view = SpaceAccess {
            rules: vec![rule(
                &["get", "list", "watch"],
                &["apps"],
                &["deployments", "deployments/scale"],
            )],
            incomplete: false,
        };
        assert_eq!(view.may("list", "apps", "deployments"), Some(true));
        assert_eq!(view.may("patch", "apps", "deployments/scale"), Some(false));
        assert_eq!(view.role(), Some(Role::Auditor));
        let edit = SpaceAccess {
            rules: vec![rule(&["*"], &["apps"], &["deployments", "*/scale"])],
            incomplete: false,
        };
        assert_eq!(edit.may("patch", "apps", "deployments/scale"), Some(true));
        assert_eq!(edit.may("patch", "apps", "statefulsets/scale"), Some(true));
        assert_eq!(edit.may("create", "", "pods"), Some(false));
        assert_eq!(edit.role(), Some(Role::Developer));
        let admin = SpaceAccess {
            rules: vec![rule(&["*"], &["*"], &["*"])],
            incomplete: false,
        };
        assert_eq!(admin.role(), Some(Role::Manager));
        assert_eq!(admin.may("delete", "tekton.dev", "pipelineruns"), Some(true));
        let mut named = rule(&["*"], &["*"], &["*"]);
        named.names = vec!["web".into()];
        let only_web = SpaceAccess {
            rules: vec![named],
            incomplete: true,
        };
        assert_eq!(only_web.may("patch", "apps", "deployments"), None);
        assert_eq!(only_web.role(), None);
        assert_eq!(only_web.role_word(), "without a role");
    }
}
