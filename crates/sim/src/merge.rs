//! The server's own merging: JSON merge patch (RFC 7386) and strategic merge
//! patch, as the API server applies them. The simulator keeps this apart
//! from the client's code on purpose: it is what the client is checked
//! against, so it must not borrow the client's merge.

use serde_json::{Map, Value};

/// How the API types declare a list field (`patchStrategy` and
/// `patchMergeKey` in their Go struct tags), for the lists the simulated
/// kinds carry. A list not named here is atomic: a patch replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    /// Items merge with the item that has the same value at these keys, the
    /// first key that an item carries deciding (a Service port has `port`,
    /// a container port `containerPort`).
    Keyed(&'static [&'static str]),
    Atomic,
}

fn list_kind(field: &str) -> ListKind {
    const NAME: &[&str] = &["name"];
    match field {
        "containers" | "initContainers" | "ephemeralContainers" | "volumes" | "env" | "imagePullSecrets" => {
            ListKind::Keyed(NAME)
        }
        // Tekton's lists, which the simulator merges by name as well.
        "params" | "steps" | "tasks" | "workspaces" => ListKind::Keyed(NAME),
        "volumeMounts" => ListKind::Keyed(&["mountPath"]),
        "conditions" => ListKind::Keyed(&["type"]),
        "volumeClaimTemplates" => ListKind::Keyed(&["metadata"]),
        "ports" => ListKind::Keyed(&["containerPort", "port"]),
        "hostAliases" => ListKind::Keyed(&["ip"]),
        _ => ListKind::Atomic,
    }
}

/// The identity of a list item under `keys`: the first key the item has.
fn identity<'a>(item: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| item.get(*k))
}

/// RFC 7386: an object patch merges member by member, `null` removes a
/// member, any other value takes the place of what was there.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(obj) = target.as_object_mut() else {
        return;
    };
    for (name, value) in members {
        match value {
            Value::Null => {
                obj.remove(name);
            }
            Value::Object(_) => merge_patch(obj.entry(name.as_str()).or_insert(Value::Null), value),
            other => {
                obj.insert(name.clone(), other.clone());
            }
        }
    }
}

fn directive(v: &Value) -> Option<&str> {
    v.get("$patch").and_then(Value::as_str)
}

/// Strategic merge patch: a merge patch in which the keyed lists of the API
/// types merge item by item. Honours `$patch: replace|delete` on objects and
/// list items and `$deleteFromPrimitiveList/FIELD`; `$setElementOrder/FIELD`
/// and `$retainKeys` are accepted and have no effect here.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if directive(patch) == Some("replace") {
        let mut whole = members.clone();
        whole.remove("$patch");
        *target = Value::Object(whole);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(obj) = target.as_object_mut() else {
        return;
    };
    for (name, value) in members {
        if name == "$patch" || name == "$retainKeys" || name.starts_with("$setElementOrder/") {
            continue;
        }
        if let Some(field) = name.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(have)), Value::Array(gone)) = (obj.get_mut(field), value) {
                have.retain(|v| !gone.contains(v));
            }
            continue;
        }
        match (value, list_kind(name)) {
            (Value::Null, _) => {
                obj.remove(name);
            }
            (Value::Array(items), ListKind::Keyed(keys)) => {
                let slot = obj.entry(name.as_str()).or_insert_with(|| Value::Array(Vec::new()));
                merge_keyed_list(slot, items, keys);
            }
            (Value::Object(_), _) => strategic_merge(obj.entry(name.as_str()).or_insert(Value::Null), value),
            (other, _) => {
                obj.insert(name.clone(), other.clone());
            }
        }
    }
}

/// Merges the items of a patch list into a keyed list.
fn merge_keyed_list(slot: &mut Value, items: &[Value], keys: &[&str]) {
    if items.iter().any(|i| directive(i) == Some("replace")) {
        *slot = Value::Array(items.iter().filter(|i| directive(i).is_none()).cloned().collect());
        return;
    }
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    let Some(list) = slot.as_array_mut() else {
        return;
    };
    for item in items {
        let found = identity(item, keys).and_then(|id| list.iter().position(|have| identity(have, keys) == Some(id)));
        match (found, directive(item) == Some("delete")) {
            (Some(at), true) => {
                list.remove(at);
            }
            (None, true) => {}
            (Some(at), false) => {
                if let Some(have) = list.get_mut(at) {
                    strategic_merge(have, item);
                }
            }
            (None, false) => {
                let mut fresh = Value::Object(Map::new());
                strategic_merge(&mut fresh, item);
                list.push(fresh);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        let mut doc = json!({"a": [1, 2]});
        merge_patch(&mut doc, &json!({"a": [3]}));
        assert_eq!(doc, json!({"a": [3]}));
    }

    #[test]
    fn containers_merge_by_name_and_service_ports_by_port() {
        let mut pod = json!({"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]});
        strategic_merge(
            &mut pod,
            &json!({"containers": [{"name": "b", "image": "2"}, {"name": "c"}]}),
        );
        assert_eq!(
            pod,
            json!({"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}, {"name": "c"}]})
        );
        let mut svc = json!({"ports": [{"port": 80, "name": "http"}]});
        strategic_merge(&mut svc, &json!({"ports": [{"port": 80, "targetPort": 8080}]}));
        assert_eq!(
            svc,
            json!({"ports": [{"port": 80, "name": "http", "targetPort": 8080}]})
        );
    }

    #[test]
    fn directives_delete_and_replace() {
        let mut pod = json!({"env": [{"name": "A"}, {"name": "B"}], "args": ["x", "y"]});
        strategic_merge(
            &mut pod,
            &json!({"env": [{"name": "A", "$patch": "delete"}], "$deleteFromPrimitiveList/args": ["x"]}),
        );
        assert_eq!(pod, json!({"env": [{"name": "B"}], "args": ["y"]}));
        let mut doc = json!({"spec": {"a": 1, "b": 2}});
        strategic_merge(&mut doc, &json!({"spec": {"$patch": "replace", "c": 3}}));
        assert_eq!(doc, json!({"spec": {"c": 3}}));
    }
}
