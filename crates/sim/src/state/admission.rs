//! Admission, as the API server's LimitRanger and ResourceQuota plugins do
//! it: a new pod gets its namespace's default requests and limits, and a new
//! pod or claim that would take a namespace past a quota is refused with the
//! real 403 ("exceeded quota: …, requested: …, used: …, limited: …").

use super::*;
use crate::ptr::At;
use crate::quantity;

/// The quota resources a pod or claim uses, in thousandths.
pub fn usage_of(kind: &str, obj: &Value) -> BTreeMap<String, i128> {
    let mut u = BTreeMap::new();
    match kind {
        "Pod" => {
            u.insert("pods".to_string(), 1000);
            u.insert("count/pods".to_string(), 1000);
            for c in obj
                .at("/spec/containers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for (part, names) in [("requests", ["requests.", ""]), ("limits", ["limits.", "limits."])] {
                    for (r, v) in c
                        .at(&format!("/resources/{part}"))
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        let Some(q) = v.as_str().and_then(quantity::parse) else {
                            continue;
                        };
                        for prefix in names {
                            *u.entry(format!("{prefix}{r}")).or_insert(0) += q;
                        }
                    }
                }
            }
        }
        "PersistentVolumeClaim" => {
            u.insert("persistentvolumeclaims".to_string(), 1000);
            if let Some(q) = obj
                .at("/spec/resources/requests/storage")
                .and_then(Value::as_str)
                .and_then(quantity::parse)
            {
                u.insert("requests.storage".to_string(), q);
            }
        }
        _ => {}
    }
    u
}

/// Whether a pod counts against quota: not ended, not being deleted.
pub fn counts(kind: &str, obj: &Value) -> bool {
    if obj.at("/metadata/deletionTimestamp").is_some() {
        return false;
    }
    kind != "Pod"
        || !matches!(
            obj.at("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed")
        )
}

impl State {
    /// What the objects of a namespace use of the resources a quota names.
    pub fn quota_used(&self, ns: &str, hard: &Map<String, Value>) -> BTreeMap<String, i128> {
        let mut used: BTreeMap<String, i128> = hard.keys().map(|k| (k.clone(), 0)).collect();
        for kind in ["Pod", "PersistentVolumeClaim"] {
            let id = resources::ids::of(kind);
            for (_, o) in self.iter_kind(id, Some(ns)) {
                if !counts(kind, o) {
                    continue;
                }
                for (k, v) in usage_of(kind, o) {
                    if let Some(u) = used.get_mut(&k) {
                        *u += v;
                    }
                }
            }
        }
        used
    }

    /// Admits a new pod or claim into `ns`: LimitRange defaults set on a
    /// pod, then every ResourceQuota of the namespace checked. The error is
    /// the server's message after `<kind> "<name>" is forbidden: `.
    pub fn admit(&self, kind: &str, ns: &str, obj: &mut Value) -> Result<(), String> {
        if kind == "Pod" {
            self.limit_defaults(ns, obj);
        } else if kind != "PersistentVolumeClaim" {
            return Ok(());
        }
        let wants = usage_of(kind, obj);
        let mut quotas: Vec<&Arc<Value>> = self
            .iter_kind(resources::ids::of("ResourceQuota"), Some(ns))
            .map(|(_, q)| q)
            .collect();
        quotas.sort_by_key(|q| name_of(q).to_string());
        for q in quotas {
            let Some(hard) = q.at("/spec/hard").and_then(Value::as_object) else {
                continue;
            };
            // A pod must say what a quota on requests or limits counts.
            if kind == "Pod" {
                let missing: Vec<&str> = hard
                    .keys()
                    .filter(|k| {
                        matches!(
                            k.as_str(),
                            "requests.cpu" | "requests.memory" | "cpu" | "memory" | "limits.cpu" | "limits.memory"
                        )
                    })
                    .filter(|k| !wants.contains_key(k.as_str()))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    return Err(format!(
                        "failed quota: {}: must specify {}",
                        name_of(q),
                        missing.join(",")
                    ));
                }
            }
            let used = self.quota_used(ns, hard);
            // (resource, requested, used, hard) of each resource the object would take past its hard limit.
            let mut over: Vec<(&str, [i128; 3])> = Vec::new();
            for (k, h) in hard {
                let Some(limit) = h.as_str().and_then(quantity::parse) else {
                    continue;
                };
                let Some(req) = wants.get(k) else { continue };
                let now = used.get(k).copied().unwrap_or(0);
                if now + req > limit {
                    over.push((k.as_str(), [*req, now, limit]));
                }
            }
            if !over.is_empty() {
                let list = |i: usize| {
                    over.iter()
                        .map(|(k, v)| format!("{k}={}", quantity::format(v[i], quantity::is_bytes(k))))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                return Err(format!(
                    "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                    name_of(q),
                    list(0),
                    list(1),
                    list(2)
                ));
            }
        }
        Ok(())
    }

    /// [`State::admit`] for a request: the refusal as the server's 403.
    pub(super) fn admit_request(&self, res: &Resource, ns: &str, name: &str, obj: &mut Value) -> Result<(), ApiError> {
        self.admit(res.kind, ns, obj).map_err(|m| {
            ApiError::new(403, "Forbidden", format!("{} \"{name}\" is forbidden: {m}", res.plural))
                .with_details(json!({"name": name, "kind": res.plural}))
        })
    }

    /// LimitRanger: each container without a request or limit for a
    /// resource gets the namespace's default, and the pod says so in its
    /// `kubernetes.io/limit-ranger` annotation.
    fn limit_defaults(&self, ns: &str, pod: &mut Value) {
        let mut said = Vec::new();
        for (_, lr) in self.iter_kind(resources::ids::of("LimitRange"), Some(ns)) {
            for l in lr.at("/spec/limits").and_then(Value::as_array).into_iter().flatten() {
                if l.get("type").and_then(Value::as_str) != Some("Container") {
                    continue;
                }
                let default = l.get("default").and_then(Value::as_object);
                let request = l.get("defaultRequest").and_then(Value::as_object).or(default);
                for c in pod
                    .pointer_mut("/spec/containers")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    let cname = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                    for (part, values, word) in [("limits", default, "limit"), ("requests", request, "request")] {
                        for (r, v) in values.into_iter().flatten() {
                            let res = &mut c["resources"];
                            if !res.is_object() {
                                *res = json!({});
                            }
                            let slot = &mut res[part];
                            if !slot.is_object() {
                                *slot = json!({});
                            }
                            if slot.get(r).is_none() {
                                slot[r] = v.clone();
                                said.push(format!("{r} {word} for container {cname}"));
                            }
                        }
                    }
                }
            }
        }
        if !said.is_empty() {
            let ann = &mut meta_mut(pod).entry("annotations").or_insert_with(|| json!({}));
            if ann.is_object() {
                ann["kubernetes.io/limit-ranger"] = json!(format!("LimitRanger plugin set: {}", said.join("; ")));
            }
        }
    }
}
