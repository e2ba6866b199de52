//! Writes: create, update, patch and delete, with finalizers, owners and
//! the dependents a delete takes or orphans.

use super::*;
use crate::ptr::At;

impl State {
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
        self.validate_object(res, &name, &obj)?;
        self.check_namespace(res, ns, &name)?;
        if self.get(res_id, if res.namespaced { ns } else { "" }, &name).is_some() {
            return Err(ApiError::already_exists(res, &name));
        }
        self.admit_request(res, ns, &name, &mut obj)?;
        if has_status_subresource(res) && res.kind != "Namespace" && res.kind != "Pod" {
            // Status is the controllers' to write.
            if let Value::Object(m) = &mut obj {
                m.remove("status");
            }
        }
        if res.kind == "Pod" {
            // A new pod is Pending until the scheduler and the kubelet move it on.
            obj["status"] = json!({"phase": "Pending", "qosClass": qos_class(&obj)});
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

    /// A new Service's cluster IP and node ports, as the API server's
    /// allocators hand them out: unique, from 10.96.0.0/12 and 30000-32767.
    fn allocate_service(&mut self, obj: &mut Value) {
        let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
            return;
        };
        let kind = spec
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP")
            .to_string();
        if kind == "ExternalName" {
            return;
        }
        let ip = match spec.get("clusterIP").and_then(Value::as_str) {
            Some(ip) if !ip.is_empty() => ip.to_string(),
            _ => {
                self.allocated += 1;
                let n = self.allocated;
                let ip = format!("10.{}.{}.{}", 96 + (n >> 16) % 16, (n >> 8) & 0xff, n & 0xff);
                spec.insert("clusterIP".into(), json!(ip));
                ip
            }
        };
        spec.insert("clusterIPs".into(), json!([ip]));
        if ip != "None" {
            spec.entry("ipFamilies").or_insert_with(|| json!(["IPv4"]));
            spec.entry("ipFamilyPolicy").or_insert_with(|| json!("SingleStack"));
        }
        spec.entry("internalTrafficPolicy").or_insert_with(|| json!("Cluster"));
        if kind == "NodePort" || kind == "LoadBalancer" {
            spec.entry("externalTrafficPolicy").or_insert_with(|| json!("Cluster"));
            for p in spec
                .get_mut("ports")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) == 0 {
                    self.allocated += 1;
                    p["nodePort"] = json!(30000 + self.allocated % 2768);
                }
            }
        }
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
        self.validate_object(res, name, &obj)?;
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
            PatchType::Json => patch::json_patch(&mut obj, body).map_err(|e| ApiError::new(422, "Invalid", e.0))?,
            PatchType::Apply => {}
        }
        if let Some(rv) = body.at("/metadata/resourceVersion").and_then(Value::as_str)
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
        self.validate_object(res, name, &obj)?;
        if !manager.is_empty() {
            let changed = changed_paths(&old, &obj);
            take_ownership(&mut obj, manager, "Update", changed, res, true);
        }
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
        if res.kind == "CustomResourceDefinition" {
            // A definition takes its custom resources with it.
            for id in self.kinds_of_definition(&old) {
                let keys: Vec<Key> = self.iter_kind(id, None).map(|(k, _)| k.clone()).collect();
                for (r, n, name) in keys {
                    self.remove(r, &n, &name);
                }
            }
        }
        let policy = opts.propagation.as_deref().unwrap_or("Background");
        if policy == "Foreground" && res.kind != "Namespace" {
            // The owner stays, marked, until the garbage collector has
            // deleted its dependents; the answer is the marked object.
            if m.get("deletionTimestamp").is_some() {
                return Ok(Deleted::Marked(old));
            }
            let mut obj = (*old).clone();
            let mm = meta_mut(&mut obj);
            mm.insert("deletionTimestamp".into(), json!(now_rfc3339()));
            mm.insert("deletionGracePeriodSeconds".into(), json!(0));
            let fins = mm.entry("finalizers").or_insert_with(|| json!([]));
            if let Value::Array(f) = fins
                && !f.iter().any(|x| x == "foregroundDeletion")
            {
                f.push(json!("foregroundDeletion"));
            }
            let obj = self.store_marked(res_id, ns, name, obj);
            self.delete_dependents(&uid, opts);
            return Ok(Deleted::Marked(obj));
        }
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
                old.at("/spec/terminationGracePeriodSeconds")
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
            return Ok(Deleted::Marked(self.store_marked(res_id, ns, name, obj)));
        }
        Ok(Deleted::Gone(self.remove(res_id, ns, name).unwrap_or(old)))
    }

    /// Stores an object just marked for deletion, as a MODIFIED: directly,
    /// since replace_stored keeps the old deletionTimestamp.
    fn store_marked(&mut self, res_id: ResId, ns: &str, name: &str, mut obj: Value) -> Arc<Value> {
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        let obj = Arc::new(obj);
        self.objects
            .insert((res_id, ns.to_string(), name.to_string()), obj.clone());
        self.record(res_id, ns, EventType::Modified, obj.clone());
        obj
    }

    /// The garbage collector's part of a foreground deletion: once an
    /// owner marked `foregroundDeletion` has no dependents left, the
    /// finalizer goes, and with it the owner when no other finalizer holds it.
    pub fn finish_foreground(&mut self, res_id: ResId, ns: &str, name: &str) {
        let Some(old) = self.get(res_id, ns, name).cloned() else {
            return;
        };
        let uid = meta(&old).get("uid").and_then(Value::as_str).unwrap_or("").to_string();
        if !waits_in_foreground(&old) || !self.dependents(&uid).is_empty() {
            return;
        }
        let mut obj = (*old).clone();
        if let Some(Value::Array(f)) = obj.pointer_mut("/metadata/finalizers") {
            f.retain(|x| x != "foregroundDeletion");
        }
        // Stored again, or gone when it was the last finalizer.
        self.replace_stored(res_id, ns, &old, obj);
    }

    pub(super) fn dependents(&self, uid: &str) -> Vec<Key> {
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

    pub(super) fn delete_dependents(&mut self, uid: &str, opts: &DeleteOptions) {
        for (r, ns, name) in self.dependents(uid) {
            let child_opts = DeleteOptions {
                propagation: opts.propagation.clone(),
                grace_seconds: opts.grace_seconds,
                ..Default::default()
            };
            let _ = self.delete(r, &ns, &name, &child_opts);
        }
    }

    pub(super) fn orphan_dependents(&mut self, uid: &str) {
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

    /// Stores a new object: the write path shared by create, apply-create and controllers.
    pub(super) fn insert_new(
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
        if res.kind == "Service" {
            self.allocate_service(&mut obj);
        }
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
        if res.kind == "Job" {
            crate::controllers::jobs::job_defaults(&mut obj);
        }
        if res.kind == "CustomResourceDefinition" {
            super::crds::definition_status(&mut obj);
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
    pub(super) fn replace_stored(&mut self, res_id: ResId, ns: &str, old: &Value, mut obj: Value) -> Arc<Value> {
        let res = resources::get(res_id);
        api_defaults(res.kind, &mut obj);
        if res.kind == "Service" {
            // Allocated addresses stay when an update leaves them out.
            for k in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
                let kept = old.at(&format!("/spec/{k}")).cloned();
                if let (Some(kept), Some(spec)) = (kept, obj.get_mut("spec").and_then(Value::as_object_mut)) {
                    let empty = spec.get(k).is_none_or(|v| v.as_str() == Some(""));
                    if empty {
                        spec.insert(k.into(), kept);
                    }
                }
            }
        }
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
}
