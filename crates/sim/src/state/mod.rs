//! One simulated cluster's objects: a resourceVersion counter bumped on every
//! write, a bounded history of events for watch resumption, and the write
//! semantics of a real API server (metadata, generation, validation,
//! conflicts, server-side apply ownership, deletion with finalizers, grace
//! and owner-reference cascades).

use crate::ptr::At;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::resources::{self, ResId, Resource};
use super::select::{FieldSelector, LabelSelector};
use crate::patch::{self, field_paths, from_fields_v1, to_fields_v1};

mod admission;
mod apply;
mod crds;
mod schema;
pub use schema::unknown_custom_fields;
mod endpoints;
pub mod events;
mod validate;
mod write;
use apply::*;
use validate::*;

pub use admission::{counts, usage_of};

pub type Key = (ResId, String, String);

/// What happened to an object, as a watch line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub res: ResId,
    pub ns: String,
    pub etype: EventType,
    pub object: Arc<Value>,
    /// The object as JSON, encoded once for every list and watch that sends it.
    pub json: Bytes,
}

/// How a patch body is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

#[derive(Debug, Default, Clone)]
pub struct DeleteOptions {
    pub propagation: Option<String>,
    pub grace_seconds: Option<i64>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
}

/// A delete either removed the object or marked it for later removal.
pub enum Deleted {
    Gone(Arc<Value>),
    Marked(Arc<Value>),
}

pub struct State {
    pub objects: BTreeMap<Key, Arc<Value>>,
    /// Each stored object as JSON, kept with every write: a list or a watch
    /// copies bytes instead of encoding the same object once per reader, as
    /// the real API server's watch cache does.
    /// The same keys as `objects`, so the two are read side by side.
    encoded: BTreeMap<Key, Bytes>,
    pub rv: u64,
    pub history: VecDeque<Arc<Event>>,
    pub history_cap: usize,
    /// Events created by this state since the last drain, for broadcasting.
    pub pending: Vec<Arc<Event>>,
    /// Service cluster IPs and node ports handed out so far.
    pub(crate) allocated: u32,
    /// Pod IPs handed out so far.
    pub(crate) pod_ips: u32,
}

fn encode(v: &Value) -> Bytes {
    // A Value always encodes: its map keys are strings.
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

pub fn now_rfc3339() -> String {
    seconds_utc(time::OffsetDateTime::now_utc())
}

/// A time as the API server writes timestamps (metav1.Time): RFC 3339 in
/// UTC, to the second, `2026-11-22T02:41:17Z`.
pub fn seconds_utc(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The names in a list of objects with a `name` (containers, tasks…).
pub fn names_in(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The RFC 3339 time `ms` milliseconds after `start` (itself RFC 3339).
pub fn rfc3339_after(start: &str, ms: u64) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(start, &Rfc3339) {
        Ok(t) => seconds_utc(t + std::time::Duration::from_millis(ms)),
        Err(_) => start.to_string(),
    }
}

fn meta(v: &Value) -> &Value {
    v.get("metadata").unwrap_or(&Value::Null)
}

pub fn name_of(v: &Value) -> &str {
    meta(v).get("name").and_then(Value::as_str).unwrap_or("")
}

/// Whether a label selector takes an object; an empty one reads no labels.
pub fn selects(labels: &LabelSelector, v: &Value) -> bool {
    labels.is_empty() || labels.matches(&labels_of(v))
}

pub fn labels_of(v: &Value) -> BTreeMap<String, String> {
    meta(v)
        .get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn meta_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    let slot = &mut v["metadata"];
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(m) => m,
        // Made an object just above; never reached.
        _ => Box::leak(Box::default()),
    }
}

/// Some of the defaults a real API server fills in on every write, so that
/// an object read back says them: a port's protocol (TCP), a Service's type
/// (ClusterIP) and session affinity (None).
/// Sets each missing (or null, or empty-object) key of an object to its
/// default; a default is built only when it is missing, so a write that
/// already carries them allocates nothing.
macro_rules! fill {
    ($target:expr, $($key:literal => $value:expr),+ $(,)?) => {
        if let Some(Value::Object(o)) = $target {
            $(
                if o.get($key).is_none_or(|x| x.is_null() || x.as_object().is_some_and(|m| m.is_empty())) {
                    o.insert($key.to_string(), $value);
                }
            )+
        }
    };
}

/// `obj[a][b]...` without the allocations of a JSON pointer.
fn at_mut<'a>(obj: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(obj, |v, k| v.get_mut(*k))
}

fn api_defaults(kind: &str, obj: &mut Value) {
    fn ports(list: Option<&mut Value>) {
        for p in list.and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(m) = p.as_object_mut()
                && !m.contains_key("protocol")
            {
                m.insert("protocol".into(), json!("TCP"));
            }
        }
    }
    fn pod(spec: Option<&mut Value>) {
        let Some(spec) = spec else { return };
        for list in ["containers", "initContainers"] {
            for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                ports(c.get_mut("ports"));
                // SetDefaults_Container: the pull policy from the image's tag.
                let image = c.get("image").and_then(Value::as_str).unwrap_or("");
                let tag = image.rsplit('/').next().unwrap_or("").split_once(':').map(|(_, t)| t);
                let latest = !image.contains('@') && tag.is_none_or(|t| t == "latest");
                let policy = if latest { "Always" } else { "IfNotPresent" };
                fill!(Some(&mut *c),
                    "imagePullPolicy" => json!(policy),
                    "terminationMessagePath" => json!("/dev/termination-log"),
                    "terminationMessagePolicy" => json!("File"),
                    "resources" => json!({}),
                );
                for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                    fill!(c.get_mut(probe),
                        "timeoutSeconds" => json!(1),
                        "periodSeconds" => json!(10),
                        "successThreshold" => json!(1),
                        "failureThreshold" => json!(3),
                    );
                }
            }
        }
    }
    /// The pod spec defaults of `SetDefaults_PodSpec`, in pods and templates.
    fn pod_spec(spec: Option<&mut Value>, restart: bool) {
        let Some(spec) = spec else { return };
        fill!(Some(&mut *spec),
            "dnsPolicy" => json!("ClusterFirst"),
            "terminationGracePeriodSeconds" => json!(30),
            "schedulerName" => json!("default-scheduler"),
            "securityContext" => json!({}),
        );
        if restart {
            fill!(Some(spec), "restartPolicy" => json!("Always"));
        }
    }
    match kind {
        "Pod" => {
            pod_spec(obj.get_mut("spec"), true);
            fill!(obj.get_mut("spec"),
                "enableServiceLinks" => json!(true),
                "priority" => json!(0),
                "preemptionPolicy" => json!("PreemptLowerPriority"),
                "serviceAccountName" => json!("default"),
            );
            if let Some(spec) = obj.get_mut("spec")
                && spec.get("serviceAccount").is_none()
                && let Some(sa) = spec.get("serviceAccountName").cloned()
            {
                spec["serviceAccount"] = sa;
            }
            pod(obj.get_mut("spec"))
        }
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            pod_spec(at_mut(obj, &["spec", "template", "spec"]), kind != "Job");
            let spec = obj.get_mut("spec");
            match kind {
                "Deployment" => {
                    fill!(spec,
                        "replicas" => json!(1),
                        "revisionHistoryLimit" => json!(10),
                        "progressDeadlineSeconds" => json!(600),
                        "strategy" => json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
                    );
                    let strategy = at_mut(obj, &["spec", "strategy"]);
                    if strategy.as_ref().and_then(|s| s.get("type")).and_then(Value::as_str) == Some("RollingUpdate") {
                        fill!(strategy, "rollingUpdate" => json!({"maxUnavailable": "25%", "maxSurge": "25%"}));
                    }
                }
                "StatefulSet" => fill!(spec,
                    "replicas" => json!(1),
                    "revisionHistoryLimit" => json!(10),
                    "podManagementPolicy" => json!("OrderedReady"),
                    "updateStrategy" => json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                    "persistentVolumeClaimRetentionPolicy" => json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                ),
                "DaemonSet" => fill!(spec,
                    "revisionHistoryLimit" => json!(10),
                    "updateStrategy" => json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
                ),
                "ReplicaSet" => fill!(spec, "replicas" => json!(1)),
                _ => {}
            }
            pod(at_mut(obj, &["spec", "template", "spec"]))
        }
        "CronJob" => {
            fill!(obj.get_mut("spec"),
                "concurrencyPolicy" => json!("Allow"),
                "suspend" => json!(false),
                "successfulJobsHistoryLimit" => json!(3),
                "failedJobsHistoryLimit" => json!(1),
            );
            pod_spec(at_mut(obj, &["spec", "jobTemplate", "spec", "template", "spec"]), false);
        }
        "Service" => {
            if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
                spec.entry("type").or_insert_with(|| json!("ClusterIP"));
                spec.entry("sessionAffinity").or_insert_with(|| json!("None"));
            }
            ports(obj.pointer_mut("/spec/ports"));
        }
        "Secret" => {
            // stringData is write-only: folded into data (base64), as the API server does.
            use base64::Engine;
            if let Some(Value::Object(sd)) = obj.as_object_mut().and_then(|o| o.remove("stringData")) {
                let data = obj
                    .as_object_mut()
                    .map(|o| o.entry("data").or_insert_with(|| json!({})));
                if let Some(Value::Object(d)) = data {
                    for (k, v) in sd {
                        let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                        d.insert(k, json!(base64::engine::general_purpose::STANDARD.encode(text)));
                    }
                }
            }
            if let Some(o) = obj.as_object_mut() {
                o.entry("type").or_insert_with(|| json!("Opaque"));
            }
        }
        _ => {}
    }
}

impl State {
    /// A pod IP no running pod of this cluster has, from 10.244.0.0/16.
    pub fn next_pod_ip(&mut self) -> String {
        self.pod_ips = self.pod_ips.wrapping_add(1);
        let n = self.pod_ips % 65_000 + 2;
        format!("10.244.{}.{}", n >> 8, n & 0xff)
    }
}

/// Whether an object is being deleted in the foreground: marked, and held
/// by the `foregroundDeletion` finalizer until its dependents are gone.
pub fn waits_in_foreground(v: &Value) -> bool {
    let m = meta(v);
    m.get("deletionTimestamp").is_some()
        && m.get("finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x == "foregroundDeletion"))
}

/// A pod's QoS class from its containers' requests and limits.
pub(crate) fn qos_class(pod: &Value) -> &'static str {
    let containers = pod.at("/spec/containers").and_then(Value::as_array);
    let mut any = false;
    let mut guaranteed = true;
    for c in containers.into_iter().flatten() {
        let req = c.at("/resources/requests").and_then(Value::as_object);
        let lim = c.at("/resources/limits").and_then(Value::as_object);
        any |= req.is_some_and(|r| !r.is_empty()) || lim.is_some_and(|l| !l.is_empty());
        for r in ["cpu", "memory"] {
            let l = lim.and_then(|l| l.get(r));
            let q = req.and_then(|q| q.get(r)).or(l);
            if l.is_none() || q != l {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// Everything but metadata and status: a change here bumps generation.
fn spec_part(v: &Value) -> Value {
    let mut c = v.clone();
    if let Value::Object(m) = &mut c {
        m.remove("metadata");
        m.remove("status");
    }
    c
}

const GENERATE_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub fn random_suffix(n: usize) -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    (0..n)
        .map(|i| GENERATE_CHARS[bytes[i % 16] as usize % GENERATE_CHARS.len()] as char)
        .collect()
}

fn has_status_subresource(r: &Resource) -> bool {
    r.subresources.contains(&"status")
}

impl State {
    /// A copy to try a write on and throw away: a server-side dry run
    /// (`dryRun=All`) is admitted, defaulted and validated as the write
    /// would be, and changes nothing, tells no watcher.
    pub fn scratch(&self) -> State {
        State {
            objects: self.objects.clone(),
            encoded: self.encoded.clone(),
            rv: self.rv,
            history: VecDeque::new(),
            history_cap: self.history_cap,
            pending: Vec::new(),
            allocated: self.allocated,
            pod_ips: self.pod_ips,
        }
    }

    pub fn new(history_cap: usize) -> Self {
        Self {
            objects: BTreeMap::new(),
            encoded: BTreeMap::new(),
            rv: 0,
            history: VecDeque::new(),
            history_cap,
            pending: Vec::new(),
            allocated: 0,
            pod_ips: 0,
        }
    }

    /// The oldest resourceVersion a watch can resume from.
    pub fn oldest_rv(&self) -> u64 {
        self.history.front().map_or(self.rv, |e| e.rv.saturating_sub(1))
    }

    fn record(&mut self, res: ResId, ns: &str, etype: EventType, object: Arc<Value>) {
        let json = encode(&object);
        let key = (res, ns.to_string(), name_of(&object).to_string());
        if etype == EventType::Deleted {
            self.encoded.remove(&key);
        } else {
            self.encoded.insert(key, json.clone());
        }
        let ev = Arc::new(Event {
            rv: self.rv,
            res,
            ns: ns.to_string(),
            etype,
            object,
            json,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_cap {
            self.history.pop_front();
        }
        self.pending.push(ev);
    }

    pub fn get(&self, res: ResId, ns: &str, name: &str) -> Option<&Arc<Value>> {
        self.objects.get(&(res, ns.to_string(), name.to_string()))
    }

    /// Objects of a kind, in one namespace or all, in key order.
    pub fn iter_kind<'a>(
        &'a self,
        res: ResId,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Value>)> + 'a {
        self.kind_from(res, ns, Self::first_of(res, ns))
    }

    /// Where a kind's objects (in one namespace or all) start in key order.
    fn first_of(res: ResId, ns: Option<&str>) -> Bound<Key> {
        Bound::Included((res, ns.unwrap_or("").to_string(), String::new()))
    }

    /// Objects of a kind (in one namespace or all) from `from` on, in key order.
    fn kind_from<'a>(
        &'a self,
        res: ResId,
        ns: Option<&'a str>,
        from: Bound<Key>,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Value>)> + 'a {
        self.objects
            .range((from, Bound::Unbounded))
            .take_while(move |((r, n, _), _)| *r == res && ns.is_none_or(|ns| n == ns))
    }

    /// Objects of a kind in key order, after `after` when given, each with
    /// its JSON: the two maps are walked side by side, nothing is looked up.
    pub fn iter_encoded<'a>(
        &'a self,
        res: ResId,
        ns: Option<&'a str>,
        after: Option<&Key>,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Value>, Bytes)> + 'a {
        let from = after.map_or_else(|| Self::first_of(res, ns), |k| Bound::Excluded(k.clone()));
        let mut enc = self.encoded.range((from.clone(), Bound::Unbounded)).peekable();
        self.kind_from(res, ns, from).map(move |(k, v)| {
            while enc.next_if(|(ek, _)| *ek < k).is_some() {}
            let json = match enc.next_if(|(ek, _)| *ek == k) {
                Some((_, b)) => b.clone(),
                None => encode(v),
            };
            (k, v, json)
        })
    }

    /// A list page as `f` makes each item from its key, object and JSON; the
    /// key to continue after, when `limit` left items out.
    #[allow(clippy::too_many_arguments)]
    pub fn list_with<T>(
        &self,
        res: ResId,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        after: Option<&Key>,
        limit: Option<usize>,
        f: impl Fn(&Key, &Arc<Value>, Bytes) -> T,
    ) -> (Vec<T>, Option<Key>) {
        let mut out = Vec::new();
        let mut last = None;
        for (k, v, json) in self.iter_encoded(res, ns, after) {
            if !selects(labels, v) || !fields.matches(v) {
                continue;
            }
            if limit.is_some_and(|l| out.len() >= l) {
                return (out, last);
            }
            last = Some(k.clone());
            out.push(f(k, v, json));
        }
        (out, None)
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn check_namespace(&self, res: &Resource, ns: &str, name: &str) -> Result<(), ApiError> {
        if !res.namespaced {
            return Ok(());
        }
        let ns_res = resources::ids::of("Namespace");
        match self.get(ns_res, "", ns) {
            None => Err(ApiError::not_found(resources::get(ns_res), ns)),
            Some(n) if meta(n).get("deletionTimestamp").is_some() => Err(ApiError::new(
                403,
                "Forbidden",
                format!("{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated", res.plural),
            )
            .with_details(json!({"causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]}))),
            Some(_) => Ok(()),
        }
    }

    /// Takes an object out for good and records DELETED.
    pub fn remove(&mut self, res_id: ResId, ns: &str, name: &str) -> Option<Arc<Value>> {
        let old = self.objects.remove(&(res_id, ns.to_string(), name.to_string()))?;
        let rv = self.next_rv();
        let mut obj = (*old).clone();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        let obj = Arc::new(obj);
        self.record(res_id, ns, EventType::Deleted, obj.clone());
        Some(obj)
    }

    /// Controllers' write: create or replace without validation or ownership.
    pub fn put(&mut self, res_id: ResId, ns: &str, obj: Value) -> Arc<Value> {
        let name = name_of(&obj).to_string();
        match self.get(res_id, ns, &name).cloned() {
            Some(old) => self.replace_stored(res_id, ns, &old, obj),
            None => self.insert_new(res_id, ns, obj, "", "", BTreeSet::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> (LabelSelector, FieldSelector) {
        (LabelSelector::default(), FieldSelector::default())
    }

    #[test]
    fn lists_send_the_json_of_what_is_stored_now() {
        let cm = resources::ids::of("ConfigMap");
        let mut s = State::new(100);
        for ns in ["a", "b"] {
            for n in ["x", "y", "z"] {
                s.put(
                    cm,
                    ns,
                    json!({"metadata": {"name": n, "namespace": ns}, "data": {"v": "1"}}),
                );
            }
        }
        // A change, a removal and a delete, then read back.
        s.put(
            cm,
            "a",
            json!({"metadata": {"name": "y", "namespace": "a"}, "data": {"v": "2"}}),
        );
        s.remove(cm, "b", "z");
        s.delete(cm, "a", "x", &DeleteOptions::default()).unwrap();
        let (ls, fs) = all();
        let (items, more) = s.list_with(cm, None, &ls, &fs, None, None, |_, v, json| (v.clone(), json));
        assert_eq!(more, None);
        assert_eq!(items.len(), 4);
        for (v, json) in &items {
            assert_eq!(json.as_ref(), serde_json::to_vec(&**v).unwrap().as_slice());
        }
        let y: Value = serde_json::from_slice(&items[0].1).unwrap();
        assert_eq!((name_of(&y), y["data"]["v"].as_str()), ("y", Some("2")));

        // Pages continue after the last key served, in this namespace only.
        let (page, next) = s.list_with(cm, Some("b"), &ls, &fs, None, Some(1), |k, _, _| k.2.clone());
        assert_eq!(page, ["x"]);
        let next = next.unwrap();
        let (rest, end) = s.list_with(cm, Some("b"), &ls, &fs, Some(&next), Some(5), |k, _, _| k.2.clone());
        assert_eq!((rest, end), (vec!["y".to_string()], None));

        // A watch line's JSON is the stored JSON of the same write.
        let last = s.history.back().unwrap();
        assert_eq!(
            last.json.as_ref(),
            serde_json::to_vec(&*last.object).unwrap().as_slice()
        );
    }
}
