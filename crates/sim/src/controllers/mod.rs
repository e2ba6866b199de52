//! The controllers of a simulated cluster. One task per cluster: it wakes on
//! writes and on its own timers, and reconciles what changed:
//! Deployments → ReplicaSets → Pods (rollouts with revisions and the
//! conditions `kubectl rollout status` reads), StatefulSets with ordered
//! pods, pods that become Ready after a delay (or never, for an image marked
//! unpullable), terminating pods and namespaces, Tekton PipelineRuns →
//! TaskRuns → step pods, and Events for all of it.

use crate::ptr::At;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::resources::{self, ResId};
use crate::cluster::SimCluster;
use crate::state::{
    DeleteOptions, EventType, State, labels_of, name_of, now_rfc3339, random_suffix, waits_in_foreground,
};

mod capacity;
mod cronjobs;
mod daemonsets;
mod deployments;
mod disruption;
pub mod jobs;
mod namespaces;
mod pods;
mod statefulsets;
mod tekton;
use capacity::*;
pub use capacity::{CPU_DEMAND, MEMORY_DEMAND};
use deployments::*;
use namespaces::*;
use pods::*;
use statefulsets::*;
pub use tekton::{STEPS_ANNOTATION, script, subst};
use tekton::{eventlistener, pipelinerun, taskrun};

/// An image is "unpullable" when its name says so: its pods never start.
pub fn unpullable(image: &str) -> bool {
    image.contains("unpullable") || image.contains("does-not-exist")
}

struct Ids {
    /// Settling seed data: no Events, pods ready at once.
    quiet: bool,
    ns: ResId,
    pod: ResId,
    deploy: ResId,
    rs: ResId,
    sts: ResId,
    cr: ResId,
    event: ResId,
    pipeline: ResId,
    task: ResId,
    pr: ResId,
    tr: ResId,
    el: ResId,
    svc: ResId,
    quota: ResId,
    pvc: ResId,
    pv: ResId,
    sc: ResId,
    hpa: ResId,
    job: ResId,
    cj: ResId,
    ds: ResId,
    node: ResId,
    pdb: ResId,
}

fn ids(quiet: bool) -> Ids {
    let of = resources::ids::of;
    Ids {
        quiet,
        ns: of("Namespace"),
        pod: of("Pod"),
        deploy: of("Deployment"),
        rs: of("ReplicaSet"),
        sts: of("StatefulSet"),
        cr: of("ControllerRevision"),
        event: of("Event"),
        pipeline: of("Pipeline"),
        task: of("Task"),
        pr: of("PipelineRun"),
        tr: of("TaskRun"),
        el: of("EventListener"),
        svc: of("Service"),
        quota: of("ResourceQuota"),
        pvc: of("PersistentVolumeClaim"),
        pv: of("PersistentVolume"),
        sc: of("StorageClass"),
        hpa: of("HorizontalPodAutoscaler"),
        job: of("Job"),
        cj: of("CronJob"),
        ds: of("DaemonSet"),
        node: of("Node"),
        pdb: of("PodDisruptionBudget"),
    }
}

type Obj = (ResId, String, String);

fn ns_of(v: &Value) -> String {
    v.at("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn uid_of(v: &Value) -> String {
    v.at("/metadata/uid").and_then(Value::as_str).unwrap_or("").to_string()
}

fn owner_of(v: &Value, kind: &str) -> Option<String> {
    v.at("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("kind").and_then(Value::as_str) == Some(kind))
        .and_then(|r| r.get("name").and_then(Value::as_str))
        .map(str::to_string)
}

fn owned_by(v: &Value, uid: &str) -> bool {
    v.at("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r.get("uid").and_then(Value::as_str) == Some(uid)))
}

fn owner_ref(owner: &Value, controller: bool) -> Value {
    json!({"apiVersion": owner.get("apiVersion"), "kind": owner.get("kind"), "name": name_of(owner),
           "uid": uid_of(owner), "controller": controller, "blockOwnerDeletion": true})
}

fn is_terminating(v: &Value) -> bool {
    v.at("/metadata/deletionTimestamp").is_some()
}

fn pod_ready(v: &Value) -> bool {
    v.at("/status/conditions").and_then(Value::as_array).is_some_and(|cs| {
        cs.iter()
            .any(|c| c.get("type") == Some(&json!("Ready")) && c.get("status") == Some(&json!("True")))
    })
}

/// A short stable hash of a JSON value, in the alphabet of pod-template-hash.
pub fn short_hash(v: &Value) -> String {
    let s = v.to_string();
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..10)
        .map(|i| A[((h >> (i * 6)) % A.len() as u64) as usize] as char)
        .collect()
}

fn emit(s: &mut State, ids: &Ids, involved: &Value, etype: &str, reason: &str, message: &str) {
    let ns = ns_of(involved);
    if ns.is_empty() || ids.quiet {
        return;
    }
    let now = now_rfc3339();
    let name = format!("{}.{}", name_of(involved), random_suffix(8));
    let ev = json!({
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": involved.get("kind"), "namespace": ns, "name": name_of(involved), "uid": uid_of(involved),
                           "apiVersion": involved.get("apiVersion")},
        "reason": reason, "message": message, "type": etype,
        "source": {"component": "kdeck-sim"}, "count": 1, "firstTimestamp": now, "lastTimestamp": now,
        "reportingComponent": "kdeck-sim", "reportingInstance": "kdeck-sim",
    });
    s.put(ids.event, &ns, ev);
}

/// What the loop has to do later.
#[derive(Default)]
struct Timers {
    at: BTreeMap<(Instant, u64), Obj>,
    seq: u64,
}

impl Timers {
    fn add(&mut self, when: Instant, o: Obj) {
        self.seq += 1;
        self.at.insert((when, self.seq), o);
    }
    fn next(&self) -> Option<Instant> {
        self.at.keys().next().map(|(t, _)| *t)
    }
    fn due(&mut self, now: Instant) -> Vec<Obj> {
        let later = self.at.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.at, later);
        due.into_values().collect()
    }
}

/// Runs the controllers of one cluster until the process ends.
pub async fn run(c: Arc<SimCluster>) {
    let ids = ids(false);
    let mut cx = Ctx::default();
    let mut rx = c.events.subscribe();
    let mut timers = Timers::default();
    let mut dirty: BTreeSet<Obj> = BTreeSet::new();
    // Start from everything there is.
    resync(&c, &ids, &mut dirty);
    loop {
        if dirty.is_empty() {
            let wake = timers
                .next()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                ev = rx.recv() => match ev {
                    Ok(ev) => mark(&ids, &ev.object, ev.res, ev.etype, &mut dirty),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => resync(&c, &ids, &mut dirty),
                    Err(_) => return,
                },
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
        // Drain what else is pending, then work in one batch.
        drain(&c, &ids, &mut rx, &mut dirty);
        dirty.extend(timers.due(Instant::now()));
        if dirty.is_empty() {
            continue;
        }
        batch(&c, &ids, &mut cx, &mut dirty);
        for (when, o) in cx.later.drain(..) {
            timers.add(when, o);
        }
        // Our own writes come back as events; let them settle into the next batch.
        tokio::task::yield_now().await;
    }
}

/// Runs the controllers to a standstill right now, quietly: seed data starts
/// out as a settled cluster (ReplicaSets, ready pods, statuses), without a
/// storm of Events and start-up delays.
pub fn settle(c: &SimCluster) {
    let ids = ids(true);
    let mut cx = Ctx::default();
    let mut rx = c.events.subscribe();
    let mut dirty = BTreeSet::new();
    resync(c, &ids, &mut dirty);
    for _ in 0..50 {
        if dirty.is_empty() {
            return;
        }
        batch(c, &ids, &mut cx, &mut dirty);
        cx.later.clear();
        drain(c, &ids, &mut rx, &mut dirty);
    }
}

/// Marks what the queued events touch; a lagged receiver means look at everything.
fn drain(
    c: &SimCluster,
    ids: &Ids,
    rx: &mut tokio::sync::broadcast::Receiver<Arc<crate::state::Event>>,
    dirty: &mut BTreeSet<Obj>,
) {
    loop {
        match rx.try_recv() {
            Ok(ev) => mark(ids, &ev.object, ev.res, ev.etype, dirty),
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => resync(c, ids, dirty),
            Err(_) => break,
        }
    }
}

/// Reconciles everything dirty under one write lock.
fn batch(c: &SimCluster, ids: &Ids, cx: &mut Ctx, dirty: &mut BTreeSet<Obj>) {
    let work: Vec<Obj> = std::mem::take(dirty).into_iter().collect();
    let cfg = c.config.clone();
    cx.cpu_demand = Some(u64::from(c.cpu_demand.load(std::sync::atomic::Ordering::Relaxed))).filter(|d| *d > 0);
    c.write(|s| {
        for o in &work {
            reconcile(s, ids, &cfg, o, cx);
        }
    });
}

fn resync(c: &SimCluster, ids: &Ids, dirty: &mut BTreeSet<Obj>) {
    let st = c.read();
    for ((r, ns, name), v) in st.objects.iter() {
        if [
            ids.deploy, ids.rs, ids.sts, ids.pod, ids.ns, ids.pr, ids.tr, ids.el, ids.pvc, ids.pv, ids.hpa, ids.job,
            ids.cj, ids.ds,
        ]
        .contains(r)
        {
            let _ = v;
            dirty.insert((*r, ns.clone(), name.clone()));
        }
        if *r == ids.quota || *r == ids.pdb {
            dirty.insert((*r, ns.clone(), String::new()));
        }
    }
}

/// Which objects an event makes worth a look.
fn mark(ids: &Ids, v: &Value, res: ResId, etype: EventType, dirty: &mut BTreeSet<Obj>) {
    let ns = ns_of(v);
    let name = name_of(v).to_string();
    // The garbage collector: an owner waiting in the foreground is looked
    // at when it changes and when one of its dependents goes.
    if waits_in_foreground(v) {
        dirty.insert((res, ns.clone(), name.clone()));
    }
    if etype == EventType::Deleted {
        for owner in v
            .at("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = owner.get("kind").and_then(Value::as_str).unwrap_or("");
            if let (Some(r), Some(n)) = (resources::by_kind(kind), owner.get("name").and_then(Value::as_str)) {
                let owner_ns = if resources::get(r).namespaced {
                    ns.clone()
                } else {
                    String::new()
                };
                dirty.insert((r, owner_ns, n.to_string()));
            }
        }
    }
    if res == ids.deploy
        || res == ids.sts
        || res == ids.pr
        || res == ids.tr
        || res == ids.el
        || res == ids.hpa
        || res == ids.job
        || res == ids.cj
        || res == ids.ds
    {
        dirty.insert((res, ns.clone(), name.clone()));
    }
    // Quotas count pods and claims: their namespace's quotas are looked at again.
    if res == ids.pod || res == ids.pvc || res == ids.quota {
        dirty.insert((ids.quota, ns.clone(), String::new()));
    }
    // Budgets count their pods: the namespace's budgets are looked at again.
    if res == ids.pod || res == ids.pdb {
        dirty.insert((ids.pdb, ns.clone(), String::new()));
    }
    if res == ids.pvc {
        if etype == EventType::Deleted {
            if let Some(pv) = v.at("/spec/volumeName").and_then(Value::as_str) {
                dirty.insert((ids.pv, String::new(), pv.to_string()));
            }
        } else {
            dirty.insert((res, ns.clone(), name.clone()));
        }
    }
    if res == ids.ns && is_terminating(v) {
        dirty.insert((res, String::new(), name.clone()));
    }
    if res == ids.rs {
        dirty.insert((res, ns.clone(), name.clone()));
        if let Some(d) = owner_of(v, "Deployment") {
            dirty.insert((ids.deploy, ns.clone(), d));
        }
    }
    if res == ids.pod {
        if etype != EventType::Deleted {
            dirty.insert((res, ns.clone(), name.clone()));
        }
        if let Some(rs) = owner_of(v, "ReplicaSet") {
            dirty.insert((ids.rs, ns.clone(), rs));
        }
        if let Some(sts) = owner_of(v, "StatefulSet") {
            dirty.insert((ids.sts, ns.clone(), sts));
        }
        if let Some(job) = owner_of(v, "Job") {
            dirty.insert((ids.job, ns.clone(), job));
        }
        if let Some(ds) = owner_of(v, "DaemonSet") {
            dirty.insert((ids.ds, ns.clone(), ds));
        }
        if let Some(tr) = owner_of(v, "TaskRun") {
            dirty.insert((ids.tr, ns.clone(), tr));
        }
    }
    if res == ids.job
        && let Some(cj) = owner_of(v, "CronJob")
    {
        dirty.insert((ids.cj, ns.clone(), cj));
    }
    if res == ids.tr
        && let Some(pr) = owner_of(v, "PipelineRun")
    {
        dirty.insert((ids.pr, ns, pr));
    }
}

/// The controllers' own memory, kept across batches.
#[derive(Default)]
struct Ctx {
    /// Work to look at again at a time.
    later: Vec<(Instant, Obj)>,
    /// When each pending pod was first seen, for its start-up delay.
    seen: std::collections::HashMap<(String, String), Instant>,
    /// Each autoscaler's recent recommendations.
    recommendations: Recommendations,
    /// The simulated CPU demand a fault set for every workload (percent of one pod's request).
    cpu_demand: Option<u64>,
}

fn reconcile(s: &mut State, ids: &Ids, cfg: &crate::cluster::SimConfig, o: &Obj, cx: &mut Ctx) {
    let (r, ns, name) = o;
    if *r == ids.quota {
        quotas(s, ids, ns);
        return;
    }
    if *r == ids.pdb {
        disruption::budgets(s, ids, ns);
        return;
    }
    let Some(obj) = s.get(*r, ns, name).cloned() else {
        return;
    };
    if waits_in_foreground(&obj) && *r != ids.pod {
        s.finish_foreground(*r, ns, name);
        return;
    }
    if *r == ids.deploy {
        deployment(s, ids, cfg, &obj, cx);
    } else if *r == ids.rs {
        replicaset(s, ids, &obj, cx);
    } else if *r == ids.sts {
        statefulset(s, ids, &obj);
    } else if *r == ids.pod {
        pod(s, ids, cfg, &obj, cx);
    } else if *r == ids.ns {
        namespace(s, ids, &obj, cx);
    } else if *r == ids.pr {
        pipelinerun(s, ids, cfg, &obj, cx);
    } else if *r == ids.tr {
        taskrun(s, ids, cfg, &obj, cx);
    } else if *r == ids.el {
        eventlistener(s, ids, &obj);
    } else if *r == ids.pvc {
        claim(s, ids, &obj);
    } else if *r == ids.pv {
        volume(s, ids, &obj);
    } else if *r == ids.hpa {
        hpa(s, ids, cfg, &obj, cx);
    } else if *r == ids.job {
        jobs::job(s, ids, cfg, &obj, cx);
    } else if *r == ids.cj {
        cronjobs::cronjob(s, ids, &obj, cx);
    } else if *r == ids.ds {
        daemonsets::daemonset(s, ids, &obj, cx);
    }
}

fn set_status(s: &mut State, res: ResId, obj: &Value, status: Value) {
    if obj.get("status") == Some(&status) {
        return;
    }
    let mut v = obj.clone();
    v["status"] = status;
    s.put(res, &ns_of(obj), v);
}

fn condition(t: &str, status: &str, reason: &str, message: &str, prev: Option<&Value>) -> Value {
    let now = now_rfc3339();
    let same = prev.is_some_and(|p| p.get("status") == Some(&json!(status)) && p.get("reason") == Some(&json!(reason)));
    let transition = if same {
        prev.and_then(|p| p.get("lastTransitionTime").cloned())
            .unwrap_or(json!(now))
    } else {
        json!(now)
    };
    let update = if same {
        prev.and_then(|p| p.get("lastUpdateTime").cloned())
            .unwrap_or(json!(now))
    } else {
        json!(now)
    };
    json!({"type": t, "status": status, "reason": reason, "message": message, "lastUpdateTime": update, "lastTransitionTime": transition})
}
