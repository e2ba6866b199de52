//! The controllers of a simulated cluster. One task per cluster: it wakes on
//! writes and on its own timers, and reconciles what changed:
//! Deployments → ReplicaSets → Pods (rollouts with revisions and the
//! conditions `kubectl rollout status` reads), StatefulSets with ordered
//! pods, pods that become Ready after a delay (or never, for an image marked
//! unpullable), terminating pods and namespaces, Tekton PipelineRuns →
//! TaskRuns → step pods, and Events for all of it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::cluster::SimCluster;
use super::logs::LOG_LINES_ANNOTATION;
use super::resources::{self, ResId};
use super::state::{DeleteOptions, EventType, State, labels_of, name_of, now_rfc3339, random_suffix};

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
    event: ResId,
    pipeline: ResId,
    task: ResId,
    pr: ResId,
    tr: ResId,
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
        event: of("Event"),
        pipeline: of("Pipeline"),
        task: of("Task"),
        pr: of("PipelineRun"),
        tr: of("TaskRun"),
    }
}

type Obj = (ResId, String, String);

fn ns_of(v: &Value) -> String {
    v.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn uid_of(v: &Value) -> String {
    v.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn owner_of(v: &Value, kind: &str) -> Option<String> {
    v.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("kind").and_then(Value::as_str) == Some(kind))
        .and_then(|r| r.get("name").and_then(Value::as_str))
        .map(str::to_string)
}

fn owned_by(v: &Value, uid: &str) -> bool {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| r.get("uid").and_then(Value::as_str) == Some(uid)))
}

fn owner_ref(owner: &Value, controller: bool) -> Value {
    json!({"apiVersion": owner.get("apiVersion"), "kind": owner.get("kind"), "name": name_of(owner),
           "uid": uid_of(owner), "controller": controller, "blockOwnerDeletion": true})
}

fn is_terminating(v: &Value) -> bool {
    v.pointer("/metadata/deletionTimestamp").is_some()
}

fn pod_ready(v: &Value) -> bool {
    v.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
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
    rx: &mut tokio::sync::broadcast::Receiver<Arc<super::state::Event>>,
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
    c.write(|s| {
        for o in &work {
            reconcile(s, ids, &cfg, o, cx);
        }
    });
}

fn resync(c: &SimCluster, ids: &Ids, dirty: &mut BTreeSet<Obj>) {
    let st = c.read();
    for ((r, ns, name), v) in st.objects.iter() {
        if [ids.deploy, ids.rs, ids.sts, ids.pod, ids.ns, ids.pr, ids.tr].contains(r) {
            let _ = v;
            dirty.insert((*r, ns.clone(), name.clone()));
        }
    }
}

/// Which objects an event makes worth a look.
fn mark(ids: &Ids, v: &Value, res: ResId, etype: EventType, dirty: &mut BTreeSet<Obj>) {
    let ns = ns_of(v);
    let name = name_of(v).to_string();
    if res == ids.deploy || res == ids.sts || res == ids.pr || res == ids.tr {
        dirty.insert((res, ns.clone(), name.clone()));
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
        if let Some(tr) = owner_of(v, "TaskRun") {
            dirty.insert((ids.tr, ns.clone(), tr));
        }
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
}

fn reconcile(s: &mut State, ids: &Ids, cfg: &super::cluster::SimConfig, o: &Obj, cx: &mut Ctx) {
    let (r, ns, name) = o;
    let Some(obj) = s.get(*r, ns, name).cloned() else {
        return;
    };
    if *r == ids.deploy {
        deployment(s, ids, cfg, &obj, cx);
    } else if *r == ids.rs {
        replicaset(s, ids, &obj);
    } else if *r == ids.sts {
        statefulset(s, ids, &obj);
    } else if *r == ids.pod {
        pod(s, ids, cfg, &obj, cx);
    } else if *r == ids.ns {
        namespace(s, ids, &obj);
    } else if *r == ids.pr {
        pipelinerun(s, ids, cfg, &obj, cx);
    } else if *r == ids.tr {
        taskrun(s, ids, cfg, &obj, cx);
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

fn new_pod(owner: &Value, name: &str, template: &Value, extra_labels: &[(&str, String)]) -> Value {
    let mut labels = template.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
    for (k, v) in extra_labels {
        labels[*k] = json!(v);
    }
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    spec["nodeName"] = json!("sim-node-1");
    let containers: Vec<Value> = spec
        .get("containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({"name": c.get("name"), "image": c.get("image"), "ready": false, "restartCount": 0, "started": false,
                           "state": {"waiting": {"reason": "ContainerCreating"}}})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "metadata": {"name": name, "namespace": ns_of(owner), "labels": labels,
                     "annotations": template.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
                     "ownerReferences": [owner_ref(owner, true)]},
        "spec": spec,
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}],
                   "containerStatuses": containers, "qosClass": "BestEffort"},
    })
}

fn pod(s: &mut State, ids: &Ids, cfg: &super::cluster::SimConfig, p: &Value, cx: &mut Ctx) {
    let ns = ns_of(p);
    let name = name_of(p).to_string();
    if is_terminating(p) {
        let grace = p
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let wait = cfg.pod_termination.min(Duration::from_secs(grace));
        let elapsed = p
            .pointer("/metadata/deletionTimestamp")
            .and_then(Value::as_str)
            .and_then(ms_since)
            .unwrap_or(0);
        if grace == 0 || Duration::from_millis(elapsed) >= wait {
            cx.seen.remove(&(ns.clone(), name.clone()));
            s.remove(ids.pod, &ns, &name);
        } else {
            cx.later.push((
                Instant::now() + wait - Duration::from_millis(elapsed),
                (ids.pod, ns, name),
            ));
        }
        return;
    }
    if p.pointer("/status/phase").and_then(Value::as_str) != Some("Pending") {
        return;
    }
    let images: Vec<String> = p
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("image").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(bad) = images.iter().find(|i| unpullable(i)) {
        let waiting = p
            .pointer("/status/containerStatuses/0/state/waiting/reason")
            .and_then(Value::as_str);
        if waiting != Some("ImagePullBackOff") {
            let mut st = p.get("status").cloned().unwrap_or(json!({}));
            if let Some(Value::Array(cs)) = st.get_mut("containerStatuses") {
                for c in cs {
                    c["state"] = json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{bad}\"")}});
                }
            }
            set_status(s, ids.pod, p, st);
            emit(
                s,
                ids,
                p,
                "Warning",
                "Failed",
                &format!("Failed to pull image \"{bad}\": not found"),
            );
        }
        return;
    }
    // A pod starts after the configured delay from when the controller first saw it.
    if !ids.quiet {
        let first = *cx.seen.entry((ns.clone(), name.clone())).or_insert_with(Instant::now);
        let due = first + cfg.pod_ready_after;
        if Instant::now() < due {
            cx.later.push((due, (ids.pod, ns, name)));
            return;
        }
        cx.seen.remove(&(ns.clone(), name.clone()));
    }
    let now = now_rfc3339();
    let step_lines = p.pointer("/metadata/labels/tekton.dev~1taskRun").is_some();
    let containers: Vec<Value> = p
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({"name": c.get("name"), "image": c.get("image"), "imageID": format!("sim://{}", c.get("image").and_then(Value::as_str).unwrap_or("")),
                           "ready": true, "restartCount": 0, "started": true, "containerID": format!("sim://{}", random_suffix(12)),
                           "state": {"running": {"startedAt": now}}})
                })
                .collect()
        })
        .unwrap_or_default();
    let status = json!({
        "phase": "Running", "startTime": now, "podIP": format!("10.244.0.{}", 2 + (now_millis() % 250)), "hostIP": "10.0.0.1",
        "qosClass": "BestEffort",
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
        ],
        "containerStatuses": containers,
    });
    let _ = step_lines;
    set_status(s, ids.pod, p, status);
    if let Some(updated) = s.get(ids.pod, &ns, &name).cloned() {
        emit(s, ids, &updated, "Normal", "Started", "Started container");
    }
}

/// Milliseconds from an RFC 3339 time until now (0 for a time in the future).
fn ms_since(t: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()?;
    Some((time::OffsetDateTime::now_utc() - t).whole_milliseconds().max(0) as u64)
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn replicaset(s: &mut State, ids: &Ids, rs: &Value) {
    let ns = ns_of(rs);
    let uid = uid_of(rs);
    let want = rs.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(1) as usize;
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid))
        .map(|(_, p)| p.clone())
        .collect();
    let live: Vec<&Arc<Value>> = pods.iter().filter(|p| !is_terminating(p)).collect();
    if live.len() < want {
        let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
        for _ in live.len()..want {
            let name = format!("{}-{}", name_of(rs), random_suffix(5));
            let p = new_pod(rs, &name, &template, &[]);
            let created = s.put(ids.pod, &ns, p);
            emit(
                s,
                ids,
                rs,
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: {}", name_of(&created)),
            );
        }
    } else if live.len() > want {
        let mut victims: Vec<String> = live.iter().map(|p| name_of(p).to_string()).collect();
        victims.sort();
        for n in victims.into_iter().skip(want) {
            let _ = s.delete(ids.pod, &ns, &n, &DeleteOptions::default());
            emit(s, ids, rs, "Normal", "SuccessfulDelete", &format!("Deleted pod: {n}"));
        }
    }
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid) && !is_terminating(p))
        .map(|(_, p)| p.clone())
        .collect();
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let status = json!({"replicas": pods.len(), "fullyLabeledReplicas": pods.len(), "readyReplicas": ready, "availableReplicas": ready,
                        "observedGeneration": rs.pointer("/metadata/generation").cloned().unwrap_or(json!(1))});
    set_status(s, ids.rs, rs, status);
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

fn deployment(s: &mut State, ids: &Ids, cfg: &super::cluster::SimConfig, d: &Value, cx: &mut Ctx) {
    if is_terminating(d) {
        return;
    }
    let ns = ns_of(d);
    let uid = uid_of(d);
    let dname = name_of(d).to_string();
    let want = d.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(1);
    let template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let hash = short_hash(&template);
    let owned: Vec<Arc<Value>> = s
        .iter_kind(ids.rs, Some(&ns))
        .filter(|(_, r)| owned_by(r, &uid))
        .map(|(_, r)| r.clone())
        .collect();
    let revision_of = |r: &Value| {
        r.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let max_rev = owned.iter().map(|r| revision_of(r)).max().unwrap_or(0);
    let paused = d.pointer("/spec/paused").and_then(Value::as_bool).unwrap_or(false);
    let new_rs = owned
        .iter()
        .find(|r| r.pointer("/metadata/labels/pod-template-hash").and_then(Value::as_str) == Some(hash.as_str()))
        .cloned();
    let new_rs = match new_rs {
        Some(r) => {
            // Make the current template's ReplicaSet the newest revision again on a rollback.
            if revision_of(&r) < max_rev && !paused {
                let mut v = (*r).clone();
                v["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!((max_rev + 1).to_string());
                s.put(ids.rs, &ns, v)
            } else {
                r
            }
        }
        None if paused => return,
        None => {
            let mut t = template.clone();
            t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut sel = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
            sel["matchLabels"]["pod-template-hash"] = json!(hash);
            let name = format!("{dname}-{hash}");
            let rs = json!({
                "metadata": {"name": name, "namespace": ns, "labels": t.pointer("/metadata/labels"),
                             "annotations": {"deployment.kubernetes.io/revision": (max_rev + 1).to_string(),
                                             "deployment.kubernetes.io/desired-replicas": want.to_string()},
                             "ownerReferences": [owner_ref(d, true)]},
                "spec": {"replicas": 0, "selector": sel, "template": t},
            });
            let created = s.put(ids.rs, &ns, rs);
            emit(
                s,
                ids,
                d,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {name} from 0 to {want}"),
            );
            created
        }
    };
    let new_name = name_of(&new_rs).to_string();
    // Scale the new one to the goal; old ones go to zero once the new one is fully ready.
    let set_replicas = |s: &mut State, r: &Value, n: u64| {
        if r.pointer("/spec/replicas").and_then(Value::as_u64) != Some(n) {
            let mut v = r.clone();
            v["spec"]["replicas"] = json!(n);
            v["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = json!(want.to_string());
            s.put(ids.rs, &ns_of(r), v);
        }
    };
    set_replicas(s, &new_rs, want);
    let new_rs = s.get(ids.rs, &ns, &new_name).cloned().unwrap_or(new_rs);
    let new_ready = new_rs
        .pointer("/status/readyReplicas")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let new_count = new_rs.pointer("/status/replicas").and_then(Value::as_u64).unwrap_or(0);
    if new_ready >= want {
        for r in owned.iter().filter(|r| name_of(r) != new_name) {
            if r.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(0) > 0 {
                set_replicas(s, r, 0);
                emit(
                    s,
                    ids,
                    d,
                    "Normal",
                    "ScalingReplicaSet",
                    &format!("Scaled down replica set {} to 0", name_of(r)),
                );
            }
        }
    }
    // Keep at most revisionHistoryLimit old ReplicaSets.
    let limit = d
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_u64)
        .unwrap_or(10) as usize;
    let mut old: Vec<&Arc<Value>> = owned
        .iter()
        .filter(|r| {
            name_of(r) != new_name
                && r.pointer("/spec/replicas").and_then(Value::as_u64) == Some(0)
                && r.pointer("/status/replicas").and_then(Value::as_u64).unwrap_or(0) == 0
        })
        .collect();
    if old.len() > limit {
        old.sort_by_key(|r| revision_of(r));
        let extra = old.len() - limit;
        for r in old.into_iter().take(extra) {
            let _ = s.delete(ids.rs, &ns, name_of(r), &DeleteOptions::default());
        }
    }
    // Status from all owned ReplicaSets as they are now.
    let owned: Vec<Arc<Value>> = s
        .iter_kind(ids.rs, Some(&ns))
        .filter(|(_, r)| owned_by(r, &uid))
        .map(|(_, r)| r.clone())
        .collect();
    let sum = |f: &str| {
        owned
            .iter()
            .map(|r| r.pointer(&format!("/status/{f}")).and_then(Value::as_u64).unwrap_or(0))
            .sum::<u64>()
    };
    let replicas = sum("replicas");
    let ready = sum("readyReplicas");
    let available = sum("availableReplicas");
    let prev = d.get("status").cloned().unwrap_or(json!({}));
    let prev_cond = |t: &str| {
        prev.get("conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c.get("type") == Some(&json!(t))))
            .cloned()
    };
    let complete = new_ready >= want && replicas == new_count && available >= want;
    let deadline_secs = d
        .pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(600);
    let deadline = cfg.progress_deadline.min(Duration::from_secs(deadline_secs));
    let prev_progress = prev_cond("Progressing");
    let progressing = if complete {
        condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            prev_progress.as_ref(),
        )
    } else {
        let started = prev_progress
            .as_ref()
            .filter(|p| {
                p.get("reason") == Some(&json!("ReplicaSetUpdated"))
                    || p.get("reason") == Some(&json!("ProgressDeadlineExceeded"))
            })
            .filter(|p| {
                p.get("message")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.contains(&new_name))
            })
            .and_then(|p| p.get("lastTransitionTime").and_then(Value::as_str))
            .and_then(ms_since);
        let elapsed = started.unwrap_or(0);
        if started.is_some() && Duration::from_millis(elapsed) >= deadline {
            condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                prev_progress.as_ref(),
            )
        } else {
            let left = deadline.saturating_sub(Duration::from_millis(elapsed));
            cx.later.push((
                Instant::now() + left + Duration::from_millis(50),
                (ids.deploy, ns.clone(), dname.clone()),
            ));
            let mut c = condition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{new_name}\" is progressing."),
                prev_progress.as_ref(),
            );
            if started.is_none() {
                c["lastTransitionTime"] = json!(now_rfc3339());
            }
            c
        }
    };
    let available_cond = if available >= want {
        condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            prev_cond("Available").as_ref(),
        )
    } else {
        condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            prev_cond("Available").as_ref(),
        )
    };
    let mut status = json!({
        "observedGeneration": d.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": replicas, "updatedReplicas": new_count, "readyReplicas": ready, "availableReplicas": available,
        "conditions": [available_cond, progressing],
    });
    if replicas > available {
        status["unavailableReplicas"] = json!(replicas - available);
    }
    // Only a real change is written (timestamps of unchanged conditions are kept above).
    set_status(s, ids.deploy, d, status);
    let rev = revision_of(&new_rs);
    if d.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
        .and_then(Value::as_str)
        != Some(rev.to_string().as_str())
        && let Some(cur) = s.get(ids.deploy, &ns, &dname).cloned()
    {
        let mut v = (*cur).clone();
        v["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!(rev.to_string());
        s.put(ids.deploy, &ns, v);
    }
}

fn statefulset(s: &mut State, ids: &Ids, sts: &Value) {
    if is_terminating(sts) {
        return;
    }
    let ns = ns_of(sts);
    let uid = uid_of(sts);
    let name = name_of(sts).to_string();
    let want = sts.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(1);
    let template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let rev = format!("{name}-{}", short_hash(&template));
    let pods: BTreeMap<u64, Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid))
        .filter_map(|(_, p)| {
            name_of(p)
                .rsplit('-')
                .next()
                .and_then(|i| i.parse().ok())
                .map(|i| (i, p.clone()))
        })
        .collect();
    // Ordered: create ordinal i only when all below it are Ready; remove from the top.
    let mut all_ready_below = true;
    for i in 0..want {
        match pods.get(&i) {
            Some(p) => {
                let current = p
                    .pointer("/metadata/labels/controller-revision-hash")
                    .and_then(Value::as_str)
                    == Some(rev.as_str());
                if !current
                    && all_ready_below
                    && !is_terminating(p)
                    && pods.values().all(|q| pod_ready(q) || is_terminating(q))
                {
                    // Roll one pod at a time, highest first is the real order; one per pass keeps it ordered.
                    let top = (0..want).rev().find(|j| {
                        pods.get(j).is_some_and(|q| {
                            q.pointer("/metadata/labels/controller-revision-hash")
                                .and_then(Value::as_str)
                                != Some(rev.as_str())
                        })
                    });
                    if let Some(j) = top
                        && let Some(q) = pods.get(&j)
                    {
                        let _ = s.delete(ids.pod, &ns, name_of(q), &DeleteOptions::default());
                    }
                    all_ready_below = false;
                    continue;
                }
                all_ready_below &= pod_ready(p) && !is_terminating(p);
            }
            None if all_ready_below => {
                let pname = format!("{name}-{i}");
                let p = new_pod(
                    sts,
                    &pname,
                    &template,
                    &[
                        ("controller-revision-hash", rev.clone()),
                        ("statefulset.kubernetes.io/pod-name", pname.clone()),
                    ],
                );
                s.put(ids.pod, &ns, p);
                emit(
                    s,
                    ids,
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    &format!("create Pod {pname} in StatefulSet {name} successful"),
                );
                all_ready_below = false;
            }
            None => {}
        }
    }
    if let Some((i, p)) = pods.iter().rev().find(|(i, p)| **i >= want && !is_terminating(p)) {
        let _ = s.delete(ids.pod, &ns, name_of(p), &DeleteOptions::default());
        emit(
            s,
            ids,
            sts,
            "Normal",
            "SuccessfulDelete",
            &format!("delete Pod {name}-{i} in StatefulSet {name} successful"),
        );
    }
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid) && !is_terminating(p))
        .map(|(_, p)| p.clone())
        .collect();
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let updated = pods
        .iter()
        .filter(|p| {
            p.pointer("/metadata/labels/controller-revision-hash")
                .and_then(Value::as_str)
                == Some(rev.as_str())
        })
        .count();
    let status = json!({"observedGeneration": sts.pointer("/metadata/generation").cloned().unwrap_or(json!(1)), "replicas": pods.len(),
                        "readyReplicas": ready, "currentReplicas": updated, "updatedReplicas": updated, "availableReplicas": ready,
                        "currentRevision": rev, "updateRevision": rev, "collisionCount": 0});
    set_status(s, ids.sts, sts, status);
}

fn namespace(s: &mut State, ids: &Ids, n: &Value) {
    if !is_terminating(n) {
        return;
    }
    let ns = name_of(n).to_string();
    let keys: Vec<(ResId, String)> = s
        .objects
        .keys()
        .filter(|(r, k_ns, _)| *k_ns == ns && resources::get(*r).namespaced)
        .map(|(r, _, name)| (*r, name.clone()))
        .collect();
    for (r, name) in keys {
        s.remove(r, &ns, &name);
    }
    s.remove(ids.ns, "", &ns);
}

fn steps_of(s: &State, ids: &Ids, ns: &str, task: &Value) -> Vec<Value> {
    if let Some(spec) = task.get("taskSpec") {
        return spec.get("steps").and_then(Value::as_array).cloned().unwrap_or_default();
    }
    let name = task.pointer("/taskRef/name").and_then(Value::as_str).unwrap_or("");
    s.get(ids.task, ns, name)
        .and_then(|t| t.pointer("/spec/steps").and_then(Value::as_array).cloned())
        .unwrap_or_else(|| vec![json!({"name": "build", "image": "sim/builder"})])
}

fn pipelinerun(s: &mut State, ids: &Ids, _cfg: &super::cluster::SimConfig, pr: &Value, _cx: &mut Ctx) {
    let ns = ns_of(pr);
    let prname = name_of(pr).to_string();
    let done = pr.pointer("/status/completionTime").is_some();
    if done || is_terminating(pr) {
        return;
    }
    let now = now_rfc3339();
    let mut status = pr.get("status").cloned().unwrap_or(json!({}));
    if status.get("startTime").is_none() {
        status["startTime"] = json!(now);
    }
    let tasks: Vec<Value> = pr
        .pointer("/spec/pipelineSpec/tasks")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| {
            let pname = pr.pointer("/spec/pipelineRef/name").and_then(Value::as_str)?;
            s.get(ids.pipeline, &ns, pname)
                .and_then(|p| p.pointer("/spec/tasks").and_then(Value::as_array).cloned())
        })
        .unwrap_or_else(|| {
            vec![json!({"name": "build", "taskSpec": {"steps": [{"name": "build", "image": "sim/builder"}]}})]
        });
    let cancelled = pr
        .pointer("/spec/status")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with("Cancelled"));
    let mut children = Vec::new();
    let mut outcome: Option<(&str, &str, String)> = None;
    let mut all_done = true;
    for t in &tasks {
        let tname = t.get("name").and_then(Value::as_str).unwrap_or("task");
        let trname = format!("{prname}-{tname}");
        children
            .push(json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": trname, "pipelineTaskName": tname}));
        match s.get(ids.tr, &ns, &trname).cloned() {
            None => {
                all_done = false;
                if cancelled {
                    break;
                }
                let steps = steps_of(s, ids, &ns, t);
                let tr = json!({
                    "metadata": {"name": trname, "namespace": ns, "ownerReferences": [owner_ref(pr, true)],
                                 "labels": {"tekton.dev/pipelineRun": prname, "tekton.dev/pipelineTask": tname,
                                            "tekton.dev/pipeline": pr.pointer("/spec/pipelineRef/name").and_then(Value::as_str).unwrap_or(prname.as_str())}},
                    "spec": {"taskSpec": {"steps": steps}, "params": t.get("params").cloned().unwrap_or(json!([]))},
                });
                s.put(ids.tr, &ns, tr);
                break;
            }
            Some(tr) => {
                let cond = tr
                    .pointer("/status/conditions/0/status")
                    .and_then(Value::as_str)
                    .unwrap_or("Unknown");
                match cond {
                    "True" => continue,
                    "False" => {
                        outcome = Some(("False", "Failed", format!("Tasks Completed: failed: TaskRun {trname}")));
                        break;
                    }
                    _ => {
                        all_done = false;
                        if cancelled {
                            let mut v = (*tr).clone();
                            v["spec"]["status"] = json!("TaskRunCancelled");
                            s.put(ids.tr, &ns, v);
                        }
                        break;
                    }
                }
            }
        }
    }
    if cancelled && outcome.is_none() {
        outcome = Some(("False", "Cancelled", format!("PipelineRun \"{prname}\" was cancelled")));
    } else if outcome.is_none() && all_done {
        outcome = Some((
            "True",
            "Succeeded",
            format!("Tasks Completed: {} (Failed: 0, Cancelled 0), Skipped: 0", tasks.len()),
        ));
    }
    status["childReferences"] = json!(children);
    status["conditions"] = match &outcome {
        Some((st, reason, msg)) => {
            json!([{"type": "Succeeded", "status": st, "reason": reason, "message": msg, "lastTransitionTime": now}])
        }
        None => {
            json!([{"type": "Succeeded", "status": "Unknown", "reason": "Running", "message": "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0", "lastTransitionTime": now}])
        }
    };
    if outcome.is_some() {
        status["completionTime"] = json!(now);
    }
    let old = pr.get("status").cloned().unwrap_or(json!({}));
    let same = old.get("conditions").and_then(|c| c.pointer("/0/reason"))
        == status.get("conditions").and_then(|c| c.pointer("/0/reason"))
        && old.get("childReferences") == status.get("childReferences");
    if !same {
        set_status(s, ids.pr, pr, status);
        if let Some((_, reason, msg)) = outcome {
            let kind = if reason == "Succeeded" { "Normal" } else { "Warning" };
            if let Some(cur) = s.get(ids.pr, &ns, &prname).cloned() {
                emit(s, ids, &cur, kind, reason, &msg);
            }
        }
    }
}

fn taskrun(s: &mut State, ids: &Ids, cfg: &super::cluster::SimConfig, tr: &Value, cx: &mut Ctx) {
    let ns = ns_of(tr);
    let trname = name_of(tr).to_string();
    if tr.pointer("/status/completionTime").is_some() || is_terminating(tr) {
        return;
    }
    let steps = tr
        .pointer("/spec/taskSpec/steps")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pod_name = format!("{trname}-pod");
    let now = now_rfc3339();
    let cancelled = tr.pointer("/spec/status").and_then(Value::as_str) == Some("TaskRunCancelled");
    let pod = s.get(ids.pod, &ns, &pod_name).cloned();
    let lines_per_step = 5u64;
    let pod = match pod {
        Some(p) => p,
        None if cancelled => {
            let status = json!({"conditions": [{"type": "Succeeded", "status": "False", "reason": "TaskRunCancelled", "message": "TaskRun was cancelled", "lastTransitionTime": now}],
                                "completionTime": now, "startTime": now});
            set_status(s, ids.tr, tr, status);
            return;
        }
        None => {
            let containers: Vec<Value> = steps
                .iter()
                .map(|st| {
                    json!({"name": format!("step-{}", st.get("name").and_then(Value::as_str).unwrap_or("step")),
                           "image": st.get("image").cloned().unwrap_or(json!("sim/step"))})
                })
                .collect();
            let template = json!({"metadata": {"labels": {"tekton.dev/taskRun": trname,
                                                           "tekton.dev/pipelineRun": tr.pointer("/metadata/labels/tekton.dev~1pipelineRun").cloned().unwrap_or(json!(""))},
                                               "annotations": {LOG_LINES_ANNOTATION: lines_per_step.to_string()}},
                                  "spec": {"containers": containers, "restartPolicy": "Never"}});
            let p = new_pod(tr, &pod_name, &template, &[]);
            s.put(ids.pod, &ns, p);
            let status = json!({"podName": pod_name, "startTime": now,
                                "conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Pending", "message": "Pending", "lastTransitionTime": now}]});
            set_status(s, ids.tr, tr, status);
            return;
        }
    };
    if !pod_ready(&pod) {
        return;
    }
    // Steps run one after another from the pod's start, each for step_duration.
    let step_ms = (cfg.step_duration.as_millis() as u64).max(cfg.log_interval.as_millis() as u64 * lines_per_step);
    let elapsed = pod
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .and_then(ms_since)
        .unwrap_or(0);
    let mut step_status = Vec::new();
    let mut failed = None;
    let mut finished = 0;
    for (i, st) in steps.iter().enumerate() {
        let sname = st.get("name").and_then(Value::as_str).unwrap_or("step");
        let end = step_ms * (i as u64 + 1);
        let fails = sname.contains("fail")
            || st
                .get("script")
                .and_then(Value::as_str)
                .is_some_and(|sc| sc.contains("exit 1"));
        let mut entry = json!({"name": sname, "container": format!("step-{sname}")});
        if elapsed >= end || cancelled {
            let (code, reason) = if fails || cancelled {
                (1, if cancelled { "TaskRunCancelled" } else { "Error" })
            } else {
                (0, "Completed")
            };
            entry["terminated"] = json!({"exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now});
            finished += 1;
            if code != 0 {
                failed = Some(sname.to_string());
                step_status.push(entry);
                break;
            }
        } else {
            entry["running"] = json!({"startedAt": now});
        }
        step_status.push(entry);
        if elapsed < end {
            break;
        }
    }
    let mut status = tr.get("status").cloned().unwrap_or(json!({}));
    status["podName"] = json!(pod_name);
    status["steps"] = json!(step_status);
    let (cond, complete) = match (&failed, finished == steps.len()) {
        (Some(step), _) => {
            let reason = if cancelled { "TaskRunCancelled" } else { "Failed" };
            (
                json!({"type": "Succeeded", "status": "False", "reason": reason, "message": format!("\"step-{step}\" exited with code 1"), "lastTransitionTime": now}),
                true,
            )
        }
        (None, true) => (
            json!({"type": "Succeeded", "status": "True", "reason": "Succeeded", "message": "All Steps have completed executing", "lastTransitionTime": now}),
            true,
        ),
        (None, false) => (
            json!({"type": "Succeeded", "status": "Unknown", "reason": "Running", "message": "Not all Steps in the Task have finished executing", "lastTransitionTime": now}),
            false,
        ),
    };
    let reason_changed = status.pointer("/conditions/0/reason") != cond.get("reason");
    status["conditions"] = json!([cond]);
    // The pod's containers say what the steps did: a finished step's
    // container is terminated with its exit code, as the kubelet reports it.
    let mut p = (*pod).clone();
    if let Some(Value::Array(cs)) = p.pointer_mut("/status/containerStatuses") {
        for c in cs.iter_mut() {
            let cname = c.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let step = step_status
                .iter()
                .find(|e| e.get("container").and_then(Value::as_str) == Some(cname.as_str()));
            let ended = match step.and_then(|e| e.get("terminated")) {
                Some(t) => Some(t.clone()),
                // Steps after a failed one never ran: the pod ends them.
                None if complete => {
                    Some(json!({"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}))
                }
                None => None,
            };
            if let Some(mut t) = ended {
                if c.pointer("/state/terminated").is_some() {
                    continue;
                }
                // It ran from when it started: its log keeps its times.
                if let Some(started) = c.pointer("/state/running/startedAt").cloned() {
                    t["startedAt"] = started;
                }
                c["state"] = json!({"terminated": t});
                c["ready"] = json!(false);
                c["started"] = json!(false);
            }
        }
    }
    if complete {
        status["completionTime"] = json!(now);
        // The pod is done: its containers terminated.
        p["status"]["phase"] = json!(if failed.is_some() { "Failed" } else { "Succeeded" });
        s.put(ids.pod, &ns, p);
    } else {
        if p != *pod {
            s.put(ids.pod, &ns, p);
        }
        let next = step_ms * (finished as u64 + 1);
        cx.later.push((
            Instant::now() + Duration::from_millis(next.saturating_sub(elapsed) + 20),
            (ids.tr, ns.clone(), trname.clone()),
        ));
    }
    let steps_changed = tr.pointer("/status/steps") != status.get("steps");
    if reason_changed || steps_changed || complete {
        set_status(s, ids.tr, tr, status);
    }
    let _ = labels_of;
}
