//! One simulated cluster's objects: a resourceVersion counter bumped on every
//! write, a bounded history of events for watch resumption, and the write
//! semantics of a real API server (metadata, generation, validation,
//! conflicts, server-side apply ownership, deletion with finalizers, grace
//! and owner-reference cascades).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::patch::{self, field_paths, from_fields_v1, to_fields_v1};
use super::resources::{self, ResId, Resource};
use super::select::{FieldSelector, LabelSelector};

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
fn api_defaults(kind: &str, obj: &mut Value) {
    fn ports(list: Option<&mut Value>) {
        for p in list.and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(m) = p.as_object_mut() {
                m.entry("protocol").or_insert_with(|| json!("TCP"));
            }
        }
    }
    fn pod(spec: Option<&mut Value>) {
        let Some(spec) = spec else { return };
        for list in ["containers", "initContainers"] {
            for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                ports(c.get_mut("ports"));
            }
        }
    }
    match kind {
        "Pod" => pod(obj.get_mut("spec")),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            pod(obj.pointer_mut("/spec/template/spec"))
        }
        "Service" => {
            if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
                spec.entry("type").or_insert_with(|| json!("ClusterIP"));
                spec.entry("sessionAffinity").or_insert_with(|| json!("None"));
            }
            ports(obj.pointer_mut("/spec/ports"));
        }
        _ => {}
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
    pub fn new(history_cap: usize) -> Self {
        Self {
            objects: BTreeMap::new(),
            encoded: BTreeMap::new(),
            rv: 0,
            history: VecDeque::new(),
            history_cap,
            pending: Vec::new(),
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

    fn check_namespace(&self, res: &Resource, ns: &str) -> Result<(), ApiError> {
        if !res.namespaced {
            return Ok(());
        }
        let ns_res = resources::ids::of("Namespace");
        match self.get(ns_res, "", ns) {
            None => Err(ApiError::not_found(resources::get(ns_res), ns)),
            Some(n) if meta(n).get("deletionTimestamp").is_some() => Err(ApiError::new(
                403,
                "Forbidden",
                format!("{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated", res.plural, ""),
            )
            .with_details(json!({"causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]}))),
            Some(_) => Ok(()),
        }
    }

    /// Stores a new object: the write path shared by create, apply-create and controllers.
    fn insert_new(
        &mut self,
        res_id: ResId,
        ns: &str,
        mut obj: Value,
        manager: &str,
        op: &str,
        fields: BTreeSet<String>,
    ) -> Arc<Value> {
        let res = resources::get(res_id);
        obj["apiVersion"] = json!(res.api_version());
        obj["kind"] = json!(res.kind);
        api_defaults(res.kind, &mut obj);
        let rv = self.next_rv();
        let name = name_of(&obj).to_string();
        {
            let m = meta_mut(&mut obj);
            if res.namespaced {
                m.insert("namespace".into(), json!(ns));
            } else {
                m.remove("namespace");
            }
            m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            m.insert("creationTimestamp".into(), json!(now_rfc3339()));
            m.insert("resourceVersion".into(), json!(rv.to_string()));
            m.remove("deletionTimestamp");
            m.remove("selfLink");
            if obj_has_spec(res) {
                m.insert("generation".into(), json!(1));
            }
        }
        if !manager.is_empty() {
            set_managed(&mut obj, manager, op, fields, res);
        }
        if res.kind == "Namespace" {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
            obj["status"] = json!({"phase": "Active"});
            let labels = meta_mut(&mut obj).entry("labels").or_insert_with(|| json!({}));
            labels["kubernetes.io/metadata.name"] = json!(name);
        }
        let obj = Arc::new(obj);
        self.objects.insert((res_id, ns.to_string(), name), obj.clone());
        self.record(res_id, ns, EventType::Added, obj.clone());
        obj
    }

    /// Replaces a stored object, bumping resourceVersion and, on a spec
    /// change, generation. Removes it when it is being deleted and has no
    /// finalizers left.
    fn replace_stored(&mut self, res_id: ResId, ns: &str, old: &Value, mut obj: Value) -> Arc<Value> {
        let res = resources::get(res_id);
        api_defaults(res.kind, &mut obj);
        let rv = self.next_rv();
        let gen_bump = obj_has_spec(res) && spec_part(old) != spec_part(&obj);
        let name = name_of(old).to_string();
        {
            let om = meta(old).clone();
            let m = meta_mut(&mut obj);
            for k in [
                "uid",
                "creationTimestamp",
                "name",
                "namespace",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                match om.get(k) {
                    Some(v) => {
                        m.insert(k.into(), v.clone());
                    }
                    None => {
                        m.remove(k);
                    }
                }
            }
            m.insert("resourceVersion".into(), json!(rv.to_string()));
            if obj_has_spec(res) {
                let g = om.get("generation").and_then(Value::as_i64).unwrap_or(1);
                m.insert("generation".into(), json!(if gen_bump { g + 1 } else { g }));
            }
        }
        obj["apiVersion"] = json!(res.api_version());
        obj["kind"] = json!(res.kind);
        let key = (res_id, ns.to_string(), name);
        let deleting = meta(&obj).get("deletionTimestamp").is_some();
        let finalizers_left = meta(&obj)
            .get("finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        let obj = Arc::new(obj);
        if deleting && !finalizers_left && res.kind != "Namespace" && res.kind != "Pod" {
            self.objects.remove(&key);
            self.record(res_id, ns, EventType::Deleted, obj.clone());
        } else {
            self.objects.insert(key, obj.clone());
            self.record(res_id, ns, EventType::Modified, obj.clone());
        }
        obj
    }

    pub fn create(&mut self, res_id: ResId, ns: &str, mut obj: Value, manager: &str) -> Result<Arc<Value>, ApiError> {
        let res = resources::get(res_id);
        if !obj.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        if let Some(body_ns) = meta(&obj).get("namespace").and_then(Value::as_str)
            && res.namespaced
            && !body_ns.is_empty()
            && body_ns != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let name = name_of(&obj).to_string();
        let name = if name.is_empty() {
            match meta(&obj).get("generateName").and_then(Value::as_str) {
                Some(g) if !g.is_empty() => {
                    let n = format!("{g}{}", random_suffix(5));
                    meta_mut(&mut obj).insert("name".into(), json!(n));
                    n
                }
                _ => {
                    return Err(ApiError::invalid(
                        res,
                        "",
                        vec![(
                            "metadata.name".into(),
                            "Required value: name or generateName is required".into(),
                        )],
                    ));
                }
            }
        } else {
            name
        };
        validate(res, &name, &obj)?;
        self.check_namespace(res, ns)?;
        if self.get(res_id, if res.namespaced { ns } else { "" }, &name).is_some() {
            return Err(ApiError::already_exists(res, &name));
        }
        if has_status_subresource(res) && res.kind != "Namespace" && res.kind != "Pod" {
            // Status is the controllers' to write.
            if let Value::Object(m) = &mut obj {
                m.remove("status");
            }
        }
        let fields = field_paths(&obj);
        Ok(self.insert_new(
            res_id,
            if res.namespaced { ns } else { "" },
            obj,
            manager,
            "Update",
            fields,
        ))
    }

    /// PUT: replaces the object; `status` says whether it is the status subresource.
    pub fn update(
        &mut self,
        res_id: ResId,
        ns: &str,
        name: &str,
        mut obj: Value,
        status: bool,
        manager: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let res = resources::get(res_id);
        let ns = if res.namespaced { ns } else { "" };
        if !obj.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        let body_name = name_of(&obj);
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let Some(old) = self.get(res_id, ns, name).cloned() else {
            return Err(ApiError::not_found(res, name));
        };
        if let Some(rv) = meta(&obj).get("resourceVersion").and_then(Value::as_str)
            && !rv.is_empty()
            && Some(rv) != meta(&old).get("resourceVersion").and_then(Value::as_str)
        {
            return Err(ApiError::conflict(res, name));
        }
        meta_mut(&mut obj).insert("name".into(), json!(name));
        if status {
            let mut merged = (*old).clone();
            merged["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            obj = merged;
        } else if has_status_subresource(res) {
            obj["status"] = old.get("status").cloned().unwrap_or(Value::Null);
            if obj["status"].is_null()
                && let Value::Object(m) = &mut obj
            {
                m.remove("status");
            }
        }
        validate(res, name, &obj)?;
        if !manager.is_empty() {
            let changed = changed_paths(&old, &obj);
            obj["metadata"]["managedFields"] = old["metadata"].get("managedFields").cloned().unwrap_or(json!([]));
            take_ownership(&mut obj, manager, "Update", changed, res, true);
        }
        Ok(self.replace_stored(res_id, ns, &old, obj))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        res_id: ResId,
        ns: &str,
        name: &str,
        ptype: PatchType,
        body: &Value,
        manager: &str,
        force: bool,
        status: bool,
    ) -> Result<Arc<Value>, ApiError> {
        let res = resources::get(res_id);
        let ns = if res.namespaced { ns } else { "" };
        let old = self.get(res_id, ns, name).cloned();
        if ptype == PatchType::Apply {
            return self.apply(res_id, ns, name, old, body, manager, force, status);
        }
        let Some(old) = old else {
            return Err(ApiError::not_found(res, name));
        };
        let mut obj = (*old).clone();
        match ptype {
            PatchType::Merge => patch::merge_patch(&mut obj, body),
            PatchType::Strategic => patch::strategic_merge(&mut obj, body),
            PatchType::Json => patch::json_patch(&mut obj, body).map_err(|e| ApiError::new(422, "Invalid", e))?,
            PatchType::Apply => {}
        }
        if let Some(rv) = body.pointer("/metadata/resourceVersion").and_then(Value::as_str)
            && rv != meta(&old).get("resourceVersion").and_then(Value::as_str).unwrap_or("")
        {
            return Err(ApiError::conflict(res, name));
        }
        if status {
            let mut merged = (*old).clone();
            merged["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            obj = merged;
        } else if has_status_subresource(res) && res.kind != "Pod" {
            match old.get("status") {
                Some(s) => obj["status"] = s.clone(),
                None => {
                    if let Value::Object(m) = &mut obj {
                        m.remove("status");
                    }
                }
            }
        }
        if name_of(&obj) != name {
            return Err(ApiError::bad_request("metadata.name cannot be changed by a patch"));
        }
        validate(res, name, &obj)?;
        if !manager.is_empty() {
            let changed = changed_paths(&old, &obj);
            take_ownership(&mut obj, manager, "Update", changed, res, true);
        }
        Ok(self.replace_stored(res_id, ns, &old, obj))
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        res_id: ResId,
        ns: &str,
        name: &str,
        old: Option<Arc<Value>>,
        body: &Value,
        manager: &str,
        force: bool,
        status: bool,
    ) -> Result<Arc<Value>, ApiError> {
        let res = resources::get(res_id);
        if manager.is_empty() {
            return Err(ApiError::new(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ));
        }
        if !body.is_object() {
            return Err(ApiError::bad_request("an apply patch must be an object"));
        }
        let body_name = name_of(body);
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let applied_fields = field_paths(body);
        let Some(old) = old else {
            let mut obj = body.clone();
            meta_mut(&mut obj).insert("name".into(), json!(name));
            validate(res, name, &obj)?;
            self.check_namespace(res, ns)?;
            return Ok(self.insert_new(res_id, ns, obj, manager, "Apply", applied_fields));
        };
        // Conflicts: a field another manager owns, set here to a different value.
        let owners = managers(&old);
        if !force {
            let mut conflicts = Vec::new();
            for (m, op, fields) in &owners {
                if m == manager && op == "Apply" {
                    continue;
                }
                for f in fields.intersection(&applied_fields) {
                    if patch::at_path(&old, f) != patch::at_path(body, f) {
                        conflicts.push((m.clone(), f.clone()));
                    }
                }
            }
            if !conflicts.is_empty() {
                let list = conflicts
                    .iter()
                    .map(|(m, f)| format!("conflict with \"{m}\": .{f}"))
                    .collect::<Vec<_>>();
                let msg = if list.len() == 1 {
                    format!("Apply failed with 1 conflict: {}", list[0])
                } else {
                    format!("Apply failed with {} conflicts: {}", list.len(), list.join("\n"))
                };
                return Err(ApiError::new(409, "Conflict", msg).with_details(json!({
                    "name": name, "group": res.group, "kind": res.plural,
                    "causes": conflicts.iter().map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{m}\""), "field": format!(".{f}")})).collect::<Vec<_>>(),
                })));
            }
        }
        let mut obj = (*old).clone();
        let mut clean = body.clone();
        if let Some(Value::Object(m)) = clean.get_mut("metadata") {
            m.remove("resourceVersion");
            m.remove("managedFields");
        }
        if status {
            if let Some(s) = clean.get("status") {
                patch::strategic_merge(&mut obj["status"], s);
            }
        } else {
            if let Value::Object(m) = &mut clean {
                m.remove("status");
            }
            patch::strategic_merge(&mut obj, &clean);
        }
        // Fields this manager applied before and dropped now, owned by nobody else, go.
        let previous: BTreeSet<String> = owners
            .iter()
            .filter(|(m, op, _)| m == manager && op == "Apply")
            .flat_map(|(_, _, f)| f.clone())
            .collect();
        let others: BTreeSet<String> = owners
            .iter()
            .filter(|(m, op, _)| !(m == manager && op == "Apply"))
            .flat_map(|(_, _, f)| f.clone())
            .collect();
        for f in previous.difference(&applied_fields) {
            if !others.contains(f) {
                patch::remove_path(&mut obj, f);
            }
        }
        // A list this manager alone owns is what it applied: items it
        // dropped go, as a real server drops list items only it owned.
        if !status {
            for f in &applied_fields {
                if !others.contains(f)
                    && let Some(v @ Value::Array(_)) = patch::at_path(&clean, f)
                {
                    patch::set_path(&mut obj, f, v.clone());
                }
            }
        }
        validate(res, name, &obj)?;
        take_ownership(&mut obj, manager, "Apply", applied_fields, res, force);
        Ok(self.replace_stored(res_id, ns, &old, obj))
    }

    pub fn delete(&mut self, res_id: ResId, ns: &str, name: &str, opts: &DeleteOptions) -> Result<Deleted, ApiError> {
        let res = resources::get(res_id);
        let ns = if res.namespaced { ns } else { "" };
        let Some(old) = self.get(res_id, ns, name).cloned() else {
            return Err(ApiError::not_found(res, name));
        };
        let m = meta(&old);
        for (wanted, field, what) in [
            (&opts.precondition_uid, "uid", "UID"),
            (&opts.precondition_rv, "resourceVersion", "ResourceVersion"),
        ] {
            let actual = m.get(field).and_then(Value::as_str).unwrap_or("");
            if let Some(w) = wanted
                && w != actual
            {
                return Err(ApiError::new(
                    409,
                    "Conflict",
                    format!("Precondition failed: {what} in precondition: {w}, {what} in object meta: {actual}"),
                ));
            }
        }
        let uid = m.get("uid").and_then(Value::as_str).unwrap_or("").to_string();
        let policy = opts.propagation.as_deref().unwrap_or("Background");
        if policy == "Orphan" {
            self.orphan_dependents(&uid);
        } else {
            self.delete_dependents(&uid, opts);
        }
        let finalizers = m
            .get("finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        let grace = if res.kind == "Pod" {
            opts.grace_seconds.unwrap_or_else(|| {
                old.pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(30)
            })
        } else {
            0
        };
        if res.kind == "Namespace" || finalizers || grace > 0 {
            if m.get("deletionTimestamp").is_some() {
                return Ok(Deleted::Marked(old));
            }
            let mut obj = (*old).clone();
            let mm = meta_mut(&mut obj);
            mm.insert("deletionTimestamp".into(), json!(now_rfc3339()));
            if res.kind == "Pod" {
                mm.insert("deletionGracePeriodSeconds".into(), json!(grace));
            }
            if res.kind == "Namespace" {
                obj["status"] = json!({"phase": "Terminating"});
            }
            // Carry the new deletionTimestamp through replace_stored, which keeps the old one.
            let key = (res_id, ns.to_string(), name.to_string());
            let rv = self.next_rv();
            meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
            let obj = Arc::new(obj);
            self.objects.insert(key, obj.clone());
            self.record(res_id, ns, EventType::Modified, obj.clone());
            return Ok(Deleted::Marked(obj));
        }
        Ok(Deleted::Gone(self.remove(res_id, ns, name).unwrap_or(old)))
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

    fn dependents(&self, uid: &str) -> Vec<Key> {
        if uid.is_empty() {
            return Vec::new();
        }
        self.objects
            .iter()
            .filter(|(_, v)| {
                meta(v)
                    .get("ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| r.get("uid").and_then(Value::as_str) == Some(uid)))
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn delete_dependents(&mut self, uid: &str, opts: &DeleteOptions) {
        for (r, ns, name) in self.dependents(uid) {
            let child_opts = DeleteOptions {
                propagation: opts.propagation.clone(),
                grace_seconds: opts.grace_seconds,
                ..Default::default()
            };
            let _ = self.delete(r, &ns, &name, &child_opts);
        }
    }

    fn orphan_dependents(&mut self, uid: &str) {
        for key in self.dependents(uid) {
            if let Some(old) = self.objects.get(&key).cloned() {
                let mut obj = (*old).clone();
                if let Some(Value::Array(refs)) = obj.pointer_mut("/metadata/ownerReferences") {
                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
                }
                self.replace_stored(key.0, &key.1, &old, obj);
            }
        }
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

fn obj_has_spec(res: &Resource) -> bool {
    !matches!(
        res.kind,
        "ConfigMap" | "Secret" | "Event" | "ServiceAccount" | "Endpoints" | "Role" | "RoleBinding" | "ClusterRole"
    )
}

/// The (manager, operation, fields) entries of an object's managedFields.
fn managers(obj: &Value) -> Vec<(String, String, BTreeSet<String>)> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    (
                        e.get("manager").and_then(Value::as_str).unwrap_or("").to_string(),
                        e.get("operation")
                            .and_then(Value::as_str)
                            .unwrap_or("Update")
                            .to_string(),
                        e.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn changed_paths(old: &Value, new: &Value) -> BTreeSet<String> {
    let a = field_paths(old);
    field_paths(new)
        .into_iter()
        .filter(|p| !a.contains(p) || patch::at_path(old, p) != patch::at_path(new, p))
        .collect()
}

fn set_managed(obj: &mut Value, manager: &str, op: &str, fields: BTreeSet<String>, res: &Resource) {
    obj["metadata"]["managedFields"] = json!([]);
    take_ownership(obj, manager, op, fields, res, true);
}

/// Gives `manager` the `fields`; with `exclusive`, other managers lose them.
fn take_ownership(obj: &mut Value, manager: &str, op: &str, fields: BTreeSet<String>, res: &Resource, exclusive: bool) {
    let mut entries = managers(obj);
    if exclusive {
        for (_, _, f) in entries.iter_mut() {
            f.retain(|p| !fields.contains(p));
        }
    }
    match entries.iter_mut().find(|(m, o, _)| m == manager && o == op) {
        Some((_, _, f)) => {
            if op == "Apply" {
                *f = fields;
            } else {
                f.extend(fields);
            }
        }
        None => entries.push((manager.to_string(), op.to_string(), fields)),
    }
    let now = now_rfc3339();
    let list: Vec<Value> = entries
        .into_iter()
        .filter(|(_, _, f)| !f.is_empty())
        .map(|(m, o, f)| {
            json!({"manager": m, "operation": o, "apiVersion": res.api_version(), "time": now, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(&f)})
        })
        .collect();
    obj["metadata"]["managedFields"] = Value::Array(list);
}

fn dns_label_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn dns_subdomain_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(dns_label_ok)
}

/// The checks a real server makes that a user trips over: 422 with a cause per field.
fn validate(res: &Resource, name: &str, obj: &Value) -> Result<(), ApiError> {
    // Shape: the typed kinds must decode as the real server would.
    if let Err(e) = decode_typed(res.kind, obj) {
        return Err(ApiError::bad_request(format!("{} in body: {e}", res.qualified_kind())));
    }
    let mut causes = Vec::new();
    let name_ok = if matches!(res.kind, "Namespace" | "Service") {
        dns_label_ok(name)
    } else {
        dns_subdomain_ok(name)
    };
    if !name_ok {
        let rule = if matches!(res.kind, "Namespace" | "Service") {
            "RFC 1123 label"
        } else {
            "RFC 1123 subdomain"
        };
        causes.push((
            "metadata.name".to_string(),
            format!("Invalid value: \"{name}\": a lowercase {rule} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        ));
    }
    let pod_spec = match res.kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" => {
            if let Some(r) = obj.pointer("/spec/replicas").and_then(Value::as_i64)
                && r < 0
            {
                causes.push((
                    "spec.replicas".into(),
                    format!("Invalid value: {r}: must be greater than or equal to 0"),
                ));
            }
            if obj.pointer("/spec/selector").is_none() {
                causes.push(("spec.selector".into(), "Required value".into()));
            } else if let Some(Value::Object(ml)) = obj.pointer("/spec/selector/matchLabels") {
                let tl = obj.pointer("/spec/template/metadata/labels").and_then(Value::as_object);
                let ok = ml.iter().all(|(k, v)| tl.and_then(|t| t.get(k)) == Some(v));
                if !ok {
                    causes.push((
                        "spec.template.metadata.labels".into(),
                        "Invalid value: `selector` does not match template `labels`".into(),
                    ));
                }
            }
            obj.pointer("/spec/template/spec").map(|s| ("spec.template.spec", s))
        }
        "Pod" => obj.get("spec").map(|s| ("spec", s)),
        _ => None,
    };
    if matches!(res.kind, "Deployment" | "ReplicaSet" | "StatefulSet" | "Pod") {
        match pod_spec {
            None => causes.push((
                if res.kind == "Pod" {
                    "spec.containers"
                } else {
                    "spec.template.spec.containers"
                }
                .to_string(),
                "Required value".into(),
            )),
            Some((prefix, spec)) => {
                let containers = spec.get("containers").and_then(Value::as_array);
                match containers {
                    None => causes.push((format!("{prefix}.containers"), "Required value".into())),
                    Some(cs) if cs.is_empty() => causes.push((format!("{prefix}.containers"), "Required value".into())),
                    Some(cs) => {
                        for (i, c) in cs.iter().enumerate() {
                            let cname = c.get("name").and_then(Value::as_str).unwrap_or("");
                            if !dns_label_ok(cname) {
                                causes.push((
                                    format!("{prefix}.containers[{i}].name"),
                                    format!("Invalid value: \"{cname}\": a lowercase RFC 1123 label is required"),
                                ));
                            }
                            if c.get("image")
                                .and_then(Value::as_str)
                                .is_none_or(|s| s.trim().is_empty())
                            {
                                causes.push((format!("{prefix}.containers[{i}].image"), "Required value".into()));
                            }
                        }
                    }
                }
            }
        }
    }
    if res.kind == "Service"
        && let Some(ports) = obj.pointer("/spec/ports").and_then(Value::as_array)
    {
        for (i, p) in ports.iter().enumerate() {
            let n = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            if !(1..=65535).contains(&n) {
                causes.push((
                    format!("spec.ports[{i}].port"),
                    format!("Invalid value: {n}: must be between 1 and 65535, inclusive"),
                ));
            }
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(res, name, causes))
    }
}

fn decode_typed(kind: &str, obj: &Value) -> Result<(), String> {
    use k8s_openapi::api::{apps::v1 as apps, core::v1 as core, networking::v1 as net, rbac::v1 as rbac};
    fn check<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
        T::deserialize(v).map(|_| ()).map_err(|e| e.to_string())
    }
    match kind {
        "Namespace" => check::<core::Namespace>(obj),
        "Pod" => check::<core::Pod>(obj),
        "Service" => check::<core::Service>(obj),
        "ConfigMap" => check::<core::ConfigMap>(obj),
        "Secret" => check::<core::Secret>(obj),
        "PersistentVolumeClaim" => check::<core::PersistentVolumeClaim>(obj),
        "ServiceAccount" => check::<core::ServiceAccount>(obj),
        "Deployment" => check::<apps::Deployment>(obj),
        "ReplicaSet" => check::<apps::ReplicaSet>(obj),
        "StatefulSet" => check::<apps::StatefulSet>(obj),
        "Ingress" => check::<net::Ingress>(obj),
        "Role" => check::<rbac::Role>(obj),
        "RoleBinding" => check::<rbac::RoleBinding>(obj),
        "ClusterRole" => check::<rbac::ClusterRole>(obj),
        _ => Ok(()),
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
