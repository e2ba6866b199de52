//! Pod logs on demand: one stream per pod and container, merged into one
//! channel with a prefix naming the source, into a bounded buffer the reader
//! owns. An app's pods are followed as they come and go (a rollout's new
//! pods join, deleted ones say so). A broken stream reconnects from the last
//! line's timestamp without repeating lines. Every failure becomes a line of
//! its own: nothing is swallowed.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, LogParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::client::{Problem, ProblemKind, describe};
use kdeck_model::Cluster;

/// Whose logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// These pods.
    Pods(Vec<String>),
    /// The pods of an app (a Deployment or StatefulSet of this name),
    /// including the ones it starts while the logs are followed.
    App(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub namespace: String,
    pub source: LogSource,
    /// One container; all of each pod's containers when `None`.
    pub container: Option<String>,
    pub follow: bool,
    /// Lines of history per container to start with; all when `None`.
    pub tail: Option<i64>,
    /// The previous, terminated instance of each container.
    pub previous: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A line the container wrote.
    Out,
    /// What happened to a stream: started, reconnected, ended.
    Notice,
    /// Why logs could not be had.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// `pod/container`, or `pod` when the pod has one container; empty for
    /// notices about the request as a whole.
    pub source: Arc<str>,
    /// When the container wrote it (RFC 3339, as the kubelet stamped it).
    pub time: Option<String>,
    pub text: String,
    pub kind: LineKind,
}

/// The last lines of a log, at most `cap`: old lines drop off the front.
#[derive(Debug, Clone)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    cap: usize,
    dropped: u64,
}

impl LogBuffer {
    pub const DEFAULT_LINES: usize = 10_000;

    pub fn new(cap: usize) -> Self {
        Self {
            lines: VecDeque::with_capacity(cap.min(1024)),
            cap: cap.max(1),
            dropped: 0,
        }
    }
    pub fn push(&mut self, l: LogLine) {
        if self.lines.len() == self.cap {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(l);
    }
    pub fn len(&self) -> usize {
        self.lines.len()
    }
    /// How many lines it keeps.
    pub fn capacity(&self) -> usize {
        self.cap
    }
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
    /// Lines that fell off the front.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.lines.iter()
    }
    pub fn clear(&mut self) {
        self.dropped += self.lines.len() as u64;
        self.lines.clear();
    }
}

/// A running log request. Dropping it stops every stream.
pub struct LogStream {
    rx: mpsc::Receiver<LogLine>,
    task: JoinHandle<()>,
}

impl Drop for LogStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LogStream {
    /// Starts the streams. Lines arrive on [`Self::next`] or [`Self::drain`].
    pub fn open(client: kube::Client, cluster: &Cluster, req: LogRequest) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        let task = tokio::spawn(supervise(client, cluster.clone(), req, tx));
        Self { rx, task }
    }

    /// The next line; `None` once every stream has ended.
    pub async fn next(&mut self) -> Option<LogLine> {
        self.rx.recv().await
    }

    /// A line that has arrived already, without waiting.
    pub fn try_next(&mut self) -> Option<LogLine> {
        self.rx.try_recv().ok()
    }

    /// Moves the lines that have arrived into `buf` without waiting; returns
    /// how many. For a UI loop that drains before it draws.
    pub fn drain(&mut self, buf: &mut LogBuffer) -> usize {
        let mut n = 0;
        while let Ok(l) = self.rx.try_recv() {
            buf.push(l);
            n += 1;
        }
        n
    }
}

fn notice(source: &Arc<str>, kind: LineKind, text: String) -> LogLine {
    LogLine {
        source: source.clone(),
        time: None,
        text,
        kind,
    }
}

/// `key=value,key in (a,b)`: a label selector as the API takes it.
fn selector_string(s: &LabelSelector) -> String {
    let mut parts: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    parts.join(",")
}

/// The label selector of an app's pods, trying a Deployment, then a StatefulSet.
async fn app_selector(client: &kube::Client, cluster: &Cluster, ns: &str, app: &str) -> Result<String, Problem> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    match deployments.get_opt(app).await {
        Ok(Some(d)) => return Ok(selector_string(&d.spec.selector)),
        Ok(None) => {}
        Err(e) => return Err(describe(cluster, "get deployments", &e)),
    }
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    match sets.get_opt(app).await {
        Ok(Some(s)) => Ok(selector_string(&s.spec.selector)),
        Ok(None) => Err(Problem {
            cluster: cluster.name.clone(),
            kind: ProblemKind::Other,
            message: format!(
                "cluster {}: no app {app} in space {ns} (no Deployment or StatefulSet of that name); `kdeck apps list --space {}/{ns}` lists them",
                cluster.name, cluster.name
            ),
            code: None,
        }),
        Err(e) => Err(describe(cluster, "get statefulsets", &e)),
    }
}

fn containers_of(p: &Pod, only: &Option<String>) -> Vec<String> {
    let all: Vec<String> = p
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    match only {
        Some(c) => all.into_iter().filter(|n| n == c).collect(),
        None => all,
    }
}

/// Whether a container has started (running now, or ran and ended).
fn started(p: &Pod, container: &str) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.name == container))
        .and_then(|c| c.state.as_ref())
        .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
}

fn source_name(pod: &str, container: &str, containers: usize) -> Arc<str> {
    if containers > 1 {
        Arc::from(format!("{pod}/{container}"))
    } else {
        Arc::from(pod)
    }
}

async fn supervise(client: kube::Client, cluster: Cluster, req: LogRequest, tx: mpsc::Sender<LogLine>) {
    let whole: Arc<str> = Arc::from("");
    let pods: Api<Pod> = Api::namespaced(client.clone(), &req.namespace);
    let mut followers: BTreeMap<(String, String), JoinHandle<()>> = BTreeMap::new();
    // `eager`: read even a container that has not started (the server says
    // why there is nothing yet); otherwise wait for the pod's next update.
    let spawn = |pod: &Pod, followers: &mut BTreeMap<(String, String), JoinHandle<()>>, eager: bool| {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let total = pod.spec.as_ref().map_or(0, |s| s.containers.len());
        for c in containers_of(pod, &req.container) {
            let key = (name.clone(), c.clone());
            if followers.contains_key(&key) || (!eager && req.follow && !req.previous && !started(pod, &c)) {
                continue;
            }
            let f = Follower {
                pods: pods.clone(),
                cluster: cluster.clone(),
                pod: name.clone(),
                container: c.clone(),
                source: source_name(&name, &c, total),
                req: req.clone(),
                tx: tx.clone(),
            };
            followers.insert(key, tokio::spawn(f.run()));
        }
    };
    match &req.source {
        LogSource::Pods(names) => {
            for n in names {
                match pods.get(n).await {
                    Ok(p) => {
                        if let Some(c) = &req.container
                            && containers_of(&p, &None).iter().all(|x| x != c)
                        {
                            let all = containers_of(&p, &None).join(", ");
                            let _ = tx
                                .send(notice(
                                    &Arc::from(n.as_str()),
                                    LineKind::Error,
                                    format!("pod {n} has no container {c}; its containers: {all}"),
                                ))
                                .await;
                            continue;
                        }
                        spawn(&p, &mut followers, true);
                    }
                    Err(e) => {
                        let _ = tx
                            .send(notice(
                                &Arc::from(n.as_str()),
                                LineKind::Error,
                                describe(&cluster, "get pods", &e).message,
                            ))
                            .await;
                    }
                }
            }
        }
        LogSource::App(app) => {
            let selector = match app_selector(&client, &cluster, &req.namespace, app).await {
                Ok(s) => s,
                Err(why) => {
                    let _ = tx.send(notice(&whole, LineKind::Error, why.message)).await;
                    return;
                }
            };
            if !req.follow {
                match pods.list(&kube::api::ListParams::default().labels(&selector)).await {
                    Ok(list) => {
                        if list.items.is_empty() {
                            let _ = tx
                                .send(notice(&whole, LineKind::Notice, format!("app {app} has no pods")))
                                .await;
                        }
                        for p in &list.items {
                            spawn(p, &mut followers, false);
                        }
                    }
                    Err(e) => {
                        let _ = tx
                            .send(notice(
                                &whole,
                                LineKind::Error,
                                describe(&cluster, "list pods", &e).message,
                            ))
                            .await;
                    }
                }
            } else {
                // Follow the app's pods as they come and go.
                let cfg = watcher::Config::default().labels(&selector);
                let mut events = watcher::watcher(pods.clone(), cfg).default_backoff().boxed();
                let mut last_error: Option<String> = None;
                // Each pod seen, and whether it is done (Succeeded or Failed):
                // once every one is and its logs are read, following ends, as
                // `kubectl logs -f` ends.
                let mut done: BTreeMap<String, bool> = BTreeMap::new();
                let mut check = tokio::time::interval(Duration::from_millis(500));
                loop {
                    let ev = tokio::select! {
                        ev = events.next() => match ev {
                            Some(ev) => ev,
                            None => break,
                        },
                        _ = check.tick() => {
                            followers.retain(|_, h| !h.is_finished());
                            if !done.is_empty() && done.values().all(|d| *d) && followers.is_empty() {
                                let _ = tx
                                    .send(notice(&whole, LineKind::Notice, format!("every pod of {app} has ended")))
                                    .await;
                                return;
                            }
                            continue;
                        }
                    };
                    match ev {
                        Ok(Event::Apply(p) | Event::InitApply(p)) => {
                            last_error = None;
                            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
                            done.insert(
                                p.metadata.name.clone().unwrap_or_default(),
                                matches!(phase, "Succeeded" | "Failed"),
                            );
                            spawn(&p, &mut followers, false);
                        }
                        Ok(Event::Delete(p)) => {
                            let name = p.metadata.name.clone().unwrap_or_default();
                            done.remove(&name);
                            let gone: Vec<(String, String)> =
                                followers.keys().filter(|(n, _)| *n == name).cloned().collect();
                            for k in gone {
                                if let Some(h) = followers.remove(&k) {
                                    h.abort();
                                }
                            }
                            let _ = tx
                                .send(notice(
                                    &Arc::from(name.as_str()),
                                    LineKind::Notice,
                                    format!("pod {name} was deleted"),
                                ))
                                .await;
                        }
                        Ok(_) => last_error = None,
                        Err(e) => {
                            let why = match &e {
                                watcher::Error::InitialListFailed(k)
                                | watcher::Error::WatchStartFailed(k)
                                | watcher::Error::WatchFailed(k) => describe(&cluster, "watch pods", k).message,
                                other => format!("cluster {}: watching the pods of {app}: {other}", cluster.name),
                            };
                            // Said once per spell, not on every retry.
                            if last_error.as_deref() != Some(why.as_str()) {
                                let _ = tx.send(notice(&whole, LineKind::Error, why.clone())).await;
                                last_error = Some(why);
                            }
                        }
                    }
                    followers.retain(|_, h| !h.is_finished());
                }
                return;
            }
        }
    }
    for (_, h) in followers {
        let _ = h.await;
    }
}

/// Whether a container's log is over for good, and how it ended: it
/// terminated and will not be restarted (restartPolicy Never, OnFailure
/// after exit 0), or the pod itself is done (Succeeded, Failed).
fn finished(p: &Pod, container: &str) -> Option<String> {
    let status = p.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or_default();
    let terminated = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.name == container))
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    let policy = p
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    let pod_done = matches!(phase, "Succeeded" | "Failed");
    match terminated {
        Some(t) if pod_done || policy == "Never" || (policy == "OnFailure" && t.exit_code == 0) => Some(format!(
            "exited with code {}{}",
            t.exit_code,
            t.reason
                .as_deref()
                .filter(|r| !r.is_empty())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )),
        None if pod_done => Some(format!("ended: the pod is {phase}")),
        _ => None,
    }
}

/// One container's log, read (and in follow mode kept up) by one task.
struct Follower {
    pods: Api<Pod>,
    cluster: Cluster,
    pod: String,
    container: String,
    source: Arc<str>,
    req: LogRequest,
    tx: mpsc::Sender<LogLine>,
}

/// Splits the kubelet's leading timestamp off a line.
fn split_stamp(line: &str) -> (Option<(&str, OffsetDateTime)>, &str) {
    if let Some((ts, rest)) = line.split_once(' ')
        && let Ok(t) = OffsetDateTime::parse(ts, &Rfc3339)
    {
        return (Some((ts, t)), rest);
    }
    (None, line)
}

impl Follower {
    async fn say(&self, kind: LineKind, text: String) -> bool {
        self.tx.send(notice(&self.source, kind, text)).await.is_ok()
    }

    async fn run(self) {
        // The last line's time, and how many lines carried exactly that time:
        // a reconnect asks from that second and skips what was already read.
        let mut last: Option<(OffsetDateTime, usize)> = None;
        let mut backoff = Duration::from_millis(500);
        let mut first = true;
        // A reconnect was announced and no line has come since.
        let mut announced = false;
        let what = format!("pod {} container {}", self.pod, self.container);
        loop {
            let since_time = last.and_then(|(t, _)| k8s_openapi::jiff::Timestamp::from_second(t.unix_timestamp()).ok());
            let lp = LogParams {
                container: Some(self.container.clone()),
                follow: self.req.follow,
                previous: self.req.previous,
                timestamps: true,
                tail_lines: if first { self.req.tail } else { None },
                since_time,
                ..Default::default()
            };
            let reader = match self.pods.log_stream(&self.pod, &lp).await {
                Ok(r) => r,
                Err(e) => {
                    let gone = matches!(&e, kube::Error::Api(s) if s.code == 404);
                    let p = describe(&self.cluster, "get pods/log", &e);
                    let why = match &e {
                        kube::Error::Api(s) if s.code == 400 => format!("{what}: {}", s.message),
                        _ => p.message,
                    };
                    if !self.say(LineKind::Error, why).await || gone || !self.req.follow {
                        return;
                    }
                    // When lines come again, that they resumed is news.
                    announced = !first;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            first = false;
            let mut resumed = !announced;
            backoff = Duration::from_millis(500);
            let mut skip_same = last;
            let mut lines = reader.lines();
            let mut broke = None;
            loop {
                match lines.try_next().await {
                    Ok(Some(raw)) => {
                        let (stamp, text) = split_stamp(&raw);
                        if let Some((_, t)) = stamp {
                            if let Some((lt, seen)) = skip_same.as_mut() {
                                if t < *lt {
                                    continue;
                                }
                                if t == *lt && *seen > 0 {
                                    *seen -= 1;
                                    continue;
                                }
                                skip_same = None;
                            }
                            last = match last {
                                Some((lt, n)) if lt == t => Some((t, n + 1)),
                                _ => Some((t, 1)),
                            };
                        }
                        if !resumed {
                            // Lines flow again after a reconnect was announced.
                            if !self.say(LineKind::Notice, format!("{what}: log stream resumed")).await {
                                return;
                            }
                            resumed = true;
                            announced = false;
                        }
                        let line = LogLine {
                            source: self.source.clone(),
                            time: stamp.map(|(s, _)| s.to_string()),
                            text: text.to_string(),
                            kind: LineKind::Out,
                        };
                        if self.tx.send(line).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        broke = Some(e.to_string());
                        break;
                    }
                }
            }
            if !self.req.follow {
                if let Some(e) = broke {
                    self.say(LineKind::Error, format!("{what}: the log stream broke: {e}"))
                        .await;
                }
                return;
            }
            // The stream ended while following: the container stopped, the pod
            // went, or the connection was cut. Say which, and go on if it runs.
            match self.pods.get_opt(&self.pod).await {
                Ok(None) => {
                    self.say(LineKind::Notice, format!("pod {} was deleted", self.pod))
                        .await;
                    return;
                }
                Ok(Some(p)) => {
                    if let Some(end) = finished(&p, &self.container) {
                        self.say(LineKind::Notice, format!("{what} {end}")).await;
                        return;
                    }
                    // Said once per spell: a stream that ends again before
                    // saying anything is not news.
                    if !announced {
                        let why = broke.map(|e| format!(" ({e})")).unwrap_or_default();
                        if !self
                            .say(LineKind::Notice, format!("{what}: log stream ended{why}; reconnecting"))
                            .await
                        {
                            return;
                        }
                        announced = true;
                    }
                }
                Err(e) => {
                    if !self
                        .say(LineKind::Error, describe(&self.cluster, "get pods", &e).message)
                        .await
                    {
                        return;
                    }
                    announced = true;
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
