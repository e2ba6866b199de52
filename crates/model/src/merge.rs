//! Merging JSON the way the Kubernetes API does: merge patch (RFC 7386) and
//! strategic merge (lists of containers, env, volumes… merge item by item on
//! their key). Pure functions: the simulator serves patches with them, and
//! kdeck lays an app's overrides over its derived workload with them.

use serde_json::{Map, Value};

/// RFC 7386: objects merge, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The merge key of a list field in the core types, for strategic merge.
pub fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "volumeMounts"
        | "imagePullSecrets"
        | "conditions"
        | "volumeClaimTemplates"
        | "params"
        | "steps"
        | "tasks"
        | "workspaces" => match field {
            "volumeMounts" => "mountPath",
            "conditions" => "type",
            "volumeClaimTemplates" => "metadata",
            _ => "name",
        },
        "ports" => "containerPort",
        "hostAliases" => "ip",
        "tolerations" | "finalizers" | "args" | "command" => return None,
        _ => return None,
    })
}

fn key_of<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    // `ports` is keyed by containerPort in a pod, by port in a Service.
    if key == "containerPort" && item.get(key).is_none() {
        return item.get("port");
    }
    item.get(key)
}

/// Strategic merge: like a merge patch, but lists with a merge key merge item
/// by item, `$patch: delete|replace` and `$retainKeys` are honoured and
/// `$setElementOrder/…` directives are dropped.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut clean = patch.clone();
        if let Value::Object(m) = &mut clean {
            m.remove("$patch");
        }
        *target = clean;
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else { return };
    for (k, v) in p {
        if k.starts_with("$setElementOrder/") || k == "$patch" || k == "$retainKeys" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(del)) = (t.get_mut(field), v) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match (merge_key(k), v) {
            (Some(mk), Value::Array(items)) => {
                let existing = t.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new()));
                if !existing.is_array() {
                    *existing = Value::Array(Vec::new());
                }
                if let Value::Array(list) = existing {
                    if items
                        .iter()
                        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
                    {
                        *list = items.iter().filter(|i| i.get("$patch").is_none()).cloned().collect();
                        continue;
                    }
                    for item in items {
                        let key = key_of(item, mk);
                        let pos = key.and_then(|kv| list.iter().position(|x| key_of(x, mk) == Some(kv)));
                        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                        match (pos, delete) {
                            (Some(i), true) => {
                                list.remove(i);
                            }
                            (None, true) => {}
                            (Some(i), false) => strategic_merge(&mut list[i], item),
                            (None, false) => {
                                let mut fresh = Value::Object(Map::new());
                                strategic_merge(&mut fresh, item);
                                list.push(fresh);
                            }
                        }
                    }
                }
            }
            (_, Value::Object(_)) => strategic_merge(t.entry(k.clone()).or_insert(Value::Null), v),
            _ => {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The merge patch (RFC 7386) that turns `old` into `new`: changed and added
/// keys with their new values, removed keys as `null`, lists whole.
pub fn merge_patch_between(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut out = Map::new();
            for (k, nv) in n {
                match o.get(k) {
                    Some(ov) if ov == nv => {}
                    Some(ov) if ov.is_object() && nv.is_object() => {
                        out.insert(k.clone(), merge_patch_between(ov, nv));
                    }
                    _ => {
                        out.insert(k.clone(), nv.clone());
                    }
                }
            }
            for k in o.keys() {
                if !n.contains_key(k) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            Value::Object(out)
        }
        _ => new.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_rfc7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
        let mut t = json!({"a": [1, 2]});
        merge_patch(&mut t, &json!({"a": [3]}));
        assert_eq!(t, json!({"a": [3]}));
    }

    #[test]
    fn strategic_merge_by_keys() {
        let mut t = json!({"spec": {"containers": [{"name": "a", "image": "x:1", "env": [{"name": "A", "value": "1"}]}, {"name": "b", "image": "y"}]}});
        strategic_merge(
            &mut t,
            &json!({"$setElementOrder/containers": [{"name": "a"}], "spec": {"containers": [
                {"name": "a", "image": "x:2", "env": [{"name": "B", "value": "2"}]},
                {"name": "b", "$patch": "delete"},
                {"name": "c", "image": "z"}
            ]}}),
        );
        assert_eq!(
            t,
            json!({"spec": {"containers": [
                {"name": "a", "image": "x:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "c", "image": "z"}
            ]}})
        );
        let mut svc = json!({"ports": [{"port": 80, "name": "http"}]});
        strategic_merge(&mut svc, &json!({"ports": [{"port": 80, "protocol": "TCP"}]}));
        assert_eq!(
            svc,
            json!({"ports": [{"port": 80, "name": "http", "protocol": "TCP"}]}),
            "a Service's ports merge by port"
        );
        let mut t = json!({"ports": [{"containerPort": 80, "name": "http"}]});
        strategic_merge(&mut t, &json!({"ports": [{"containerPort": 80, "protocol": "TCP"}]}));
        assert_eq!(
            t,
            json!({"ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}]})
        );
        let mut t = json!({"args": ["a", "b"]});
        strategic_merge(&mut t, &json!({"args": ["c"]}));
        assert_eq!(t, json!({"args": ["c"]}));
    }

    #[test]
    fn merge_patch_between_round_trips() {
        let old = json!({"a": 1, "b": {"c": [1, 2], "d": "x"}, "gone": {"deep": true}});
        let new = json!({"a": 1, "b": {"c": [2], "e": "y"}, "added": {"k": "v"}});
        let p = merge_patch_between(&old, &new);
        assert_eq!(
            p,
            json!({"b": {"c": [2], "d": null, "e": "y"}, "added": {"k": "v"}, "gone": null})
        );
        let mut t = old.clone();
        merge_patch(&mut t, &p);
        assert_eq!(t, new);
        assert_eq!(merge_patch_between(&new, &new), json!({}), "no change, empty patch");
    }
}
