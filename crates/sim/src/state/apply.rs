//! Server-side apply: field ownership per manager, conflicts, and lists
//! owned whole.

use super::*;
use crate::ptr::At;

pub(super) fn obj_has_spec(res: &Resource) -> bool {
    !matches!(
        res.kind,
        "ConfigMap" | "Secret" | "Event" | "ServiceAccount" | "Endpoints" | "Role" | "RoleBinding" | "ClusterRole"
    )
}

/// The (manager, operation, fields) entries of an object's managedFields.
pub(super) fn managers(obj: &Value) -> Vec<(String, String, BTreeSet<String>)> {
    obj.at("/metadata/managedFields")
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

pub(super) fn changed_paths(old: &Value, new: &Value) -> BTreeSet<String> {
    let a = field_paths(old);
    field_paths(new)
        .into_iter()
        .filter(|p| !a.contains(p) || patch::at_path(old, p) != patch::at_path(new, p))
        .collect()
}

pub(super) fn set_managed(obj: &mut Value, manager: &str, op: &str, fields: BTreeSet<String>, res: &Resource) {
    obj["metadata"]["managedFields"] = json!([]);
    take_ownership(obj, manager, op, fields, res, true);
}

/// Gives `manager` the `fields`; with `exclusive`, other managers lose them.
pub(super) fn take_ownership(
    obj: &mut Value,
    manager: &str,
    op: &str,
    fields: BTreeSet<String>,
    res: &Resource,
    exclusive: bool,
) {
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

impl State {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply(
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
            self.validate_object(res, name, &obj)?;
            self.check_namespace(res, ns, name)?;
            self.admit_request(res, ns, name, &mut obj)?;
            return Ok(self.insert_new(res_id, ns, obj, manager, "Apply", applied_fields));
        };
        // Conflicts: a field another manager owns, set here to a different value.
        let owners = managers(&old);
        // Compared as stored: the applied values with the API defaults the
        // stored ones carry, which no manager owns.
        let defaulted = {
            let mut d = body.clone();
            api_defaults(res.kind, &mut d);
            d
        };
        if !force {
            let mut conflicts = Vec::new();
            for (m, op, fields) in &owners {
                if m == manager && op == "Apply" {
                    continue;
                }
                for f in fields.intersection(&applied_fields) {
                    if patch::at_path(&old, f) != patch::at_path(&defaulted, f) {
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
        self.validate_object(res, name, &obj)?;
        take_ownership(&mut obj, manager, "Apply", applied_fields, res, force);
        Ok(self.replace_stored(res_id, ns, &old, obj))
    }
}
