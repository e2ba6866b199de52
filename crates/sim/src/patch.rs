//! Patch semantics: JSON patch (RFC 6902) and server-side apply with field
//! ownership. Merge patch and strategic merge are in the simulator's own `merge` module.

use crate::error::SimError;
use crate::ptr::At;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

pub use crate::merge::{merge_patch, strategic_merge};

fn pointer_parts(path: &str) -> Result<Vec<String>, SimError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(SimError(format!("JSON pointer {path:?} must start with '/'")));
    };
    Ok(rest
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent_and_key<'a>(doc: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), SimError> {
    let mut parts = pointer_parts(path)?;
    let last = parts
        .pop()
        .ok_or_else(|| "cannot operate on the whole document".to_string())?;
    let mut cur = doc;
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get_mut(&p).ok_or_else(|| format!("path {path:?} does not exist"))?,
            Value::Array(a) => {
                let i: usize = p
                    .parse()
                    .map_err(|_| format!("{p:?} is not an array index in {path:?}"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("index {i} is out of range in {path:?}"))?
            }
            _ => return Err(SimError(format!("path {path:?} does not exist"))),
        };
    }
    Ok((cur, last))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), SimError> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, key) = parent_and_key(doc, path)?;
    match parent {
        Value::Object(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(value);
                return Ok(());
            }
            let i: usize = key.parse().map_err(|_| format!("{key:?} is not an array index"))?;
            if i > a.len() {
                return Err(SimError(format!("index {i} is out of range in {path:?}")));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(SimError(format!("path {path:?} does not exist"))),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, SimError> {
    let (parent, key) = parent_and_key(doc, path)?;
    match parent {
        Value::Object(m) => m
            .remove(&key)
            .ok_or_else(|| SimError(format!("path {path:?} does not exist"))),
        Value::Array(a) => {
            let i: usize = key.parse().map_err(|_| format!("{key:?} is not an array index"))?;
            if i >= a.len() {
                return Err(SimError(format!("index {i} is out of range in {path:?}")));
            }
            Ok(a.remove(i))
        }
        _ => Err(SimError(format!("path {path:?} does not exist"))),
    }
}

/// RFC 6902 operations, applied in order; any failure leaves `doc` untouched.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), SimError> {
    let ops = ops.as_array().ok_or("a JSON patch must be an array of operations")?;
    let mut work = doc.clone();
    for op in ops {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("each operation needs \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("each operation needs \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{name} at {path:?} needs \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{name} at {path:?} needs \"from\""))
        };
        match name {
            "add" => add(&mut work, path, value()?)?,
            "remove" => {
                remove(&mut work, path)?;
            }
            "replace" => {
                remove(&mut work, path)?;
                add(&mut work, path, value()?)?;
            }
            "move" => {
                let v = remove(&mut work, from()?)?;
                add(&mut work, path, v)?;
            }
            "copy" => {
                let v = work
                    .at(from()?)
                    .cloned()
                    .ok_or_else(|| format!("path {:?} does not exist", from().unwrap_or_default()))?;
                add(&mut work, path, v)?;
            }
            "test" => {
                if work.at(path) != Some(&value()?) {
                    return Err(SimError(format!("test operation failed at {path:?}")));
                }
            }
            other => return Err(SimError(format!("unknown operation {other:?}"))),
        }
    }
    *doc = work;
    Ok(())
}

/// The leaf field paths of an object (`spec.replicas`, `spec.template.spec.containers`):
/// lists count as one leaf. Metadata that every write carries is left out.
pub fn field_paths(v: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    if matches!(
                        p.as_str(),
                        "apiVersion"
                            | "kind"
                            | "metadata.name"
                            | "metadata.namespace"
                            | "metadata.resourceVersion"
                            | "metadata.managedFields"
                            | "metadata.uid"
                            | "metadata.creationTimestamp"
                            | "metadata.generation"
                    ) {
                        continue;
                    }
                    walk(child, &p, out);
                }
            }
            _ => {
                if !prefix.is_empty() {
                    out.insert(prefix.to_string());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(v, "", &mut out);
    out
}

/// The value at a dotted path.
pub fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, part| cur.get(part))
}

/// Removes the value at a dotted path, and parents it leaves empty.
pub fn remove_path(v: &mut Value, path: &str) {
    let parts: Vec<&str> = path.split('.').collect();
    fn go(v: &mut Value, parts: &[&str]) -> bool {
        let Value::Object(m) = v else { return false };
        match parts {
            [] => false,
            [last] => {
                m.remove(*last);
                m.is_empty()
            }
            [first, rest @ ..] => {
                let now_empty = m.get_mut(*first).is_some_and(|c| go(c, rest));
                if now_empty {
                    m.remove(*first);
                }
                m.is_empty()
            }
        }
    }
    go(v, &parts);
}

/// Sets the value at a dotted path, making the objects on the way.
pub fn set_path(v: &mut Value, path: &str, value: Value) {
    let mut cur = v;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        if i + 1 == parts.len() {
            m.insert((*part).to_string(), value);
            return;
        }
        cur = m
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// `{"f:spec":{"f:replicas":{}}}` for a set of dotted paths.
pub fn to_fields_v1(paths: &BTreeSet<String>) -> Value {
    let mut root = Map::new();
    for p in paths {
        let mut cur = &mut root;
        for part in p.split('.') {
            let entry = cur
                .entry(format!("f:{part}"))
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(next) = entry else { break };
            cur = next;
        }
    }
    Value::Object(root)
}

/// The dotted paths of a `fieldsV1` tree.
pub fn from_fields_v1(v: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        if let Value::Object(m) = v {
            let mut leaf = true;
            for (k, child) in m {
                if let Some(name) = k.strip_prefix("f:") {
                    leaf = false;
                    let p = if prefix.is_empty() {
                        name.to_string()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    walk(child, &p, out);
                }
            }
            if leaf && !prefix.is_empty() {
                out.insert(prefix.to_string());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(v, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_patch_ops_and_atomicity() {
        let mut d = json!({"spec": {"replicas": 1, "list": [1, 2]}});
        json_patch(
            &mut d,
            &json!([
                {"op": "replace", "path": "/spec/replicas", "value": 3},
                {"op": "add", "path": "/spec/list/-", "value": 9},
                {"op": "remove", "path": "/spec/list/0"},
                {"op": "test", "path": "/spec/replicas", "value": 3},
                {"op": "copy", "from": "/spec/replicas", "path": "/spec/copy"},
                {"op": "move", "from": "/spec/copy", "path": "/moved"}
            ]),
        )
        .unwrap();
        assert_eq!(d, json!({"spec": {"replicas": 3, "list": [2, 9]}, "moved": 3}));
        let before = d.clone();
        let e = json_patch(
            &mut d,
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 5}, {"op": "remove", "path": "/nope"}]),
        );
        assert!(e.is_err());
        assert_eq!(d, before);
    }

    #[test]
    fn field_sets_round_trip() {
        let v = json!({"apiVersion": "v1", "metadata": {"name": "x", "labels": {"a": "b"}}, "spec": {"replicas": 2, "template": {"spec": {"containers": []}}}});
        let f = field_paths(&v);
        assert_eq!(
            f.iter().map(String::as_str).collect::<Vec<_>>(),
            ["metadata.labels.a", "spec.replicas", "spec.template.spec.containers"]
        );
        assert_eq!(from_fields_v1(&to_fields_v1(&f)), f);
        let mut v = v;
        remove_path(&mut v, "metadata.labels.a");
        assert_eq!(v["metadata"], json!({"name": "x"}));
        assert_eq!(at_path(&v, "spec.replicas"), Some(&json!(2)));
    }
}
