//! Request bodies in the Kubernetes protobuf encoding, as kubectl 1.32 and
//! later send them for typed commands (`create deployment|service|role|
//! rolebinding|ingress|job|cronjob|quota|pdb|...`): the `k8s\0` envelope
//! (runtime.Unknown) around a message, decoded into the JSON the same object
//! has. The field table (`schema.txt`) is read from the descriptors kubectl
//! itself carries (`tools/proto_schema.py`); a kind not in it answers 415.
//!
//! As the API server's Go decoding does, fields absent from the wire are
//! absent, and scalars at their zero value are dropped (a Go value field is
//! always written, and JSON omits it when empty), except the optional
//! fields where zero means something (`replicas: 0`).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::SimError;
use base64::Engine;
use serde_json::{Map, Value, json};

/// A field of a protobuf message: its number and raw payload.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// A fixed 32 or 64-bit value: no field kdeck reads has one.
    Fixed,
}

fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn fields(b: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let key = varint(b, &mut pos)?;
        let (num, wire) = (key >> 3, key & 7);
        let f = match wire {
            0 => Field::Varint(varint(b, &mut pos)?),
            2 => {
                let len = usize::try_from(varint(b, &mut pos)?).ok()?;
                let end = pos.checked_add(len).filter(|e| *e <= b.len())?;
                let f = Field::Bytes(&b[pos..end]);
                pos = end;
                f
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                pos = pos.checked_add(n).filter(|e| *e <= b.len())?;
                Field::Fixed
            }
            _ => return None,
        };
        out.push((num, f));
    }
    Some(out)
}

/// A scalar or message type of the field table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Bytes,
    Bool,
    Int32,
    Int64,
    Msg(&'static str),
}

#[derive(Debug, Clone, Copy)]
struct Def {
    name: &'static str,
    ty: Ty,
    repeated: bool,
    /// `map<string, ty>`.
    map: bool,
}

type Schema = HashMap<&'static str, HashMap<u64, Def>>;

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut out: Schema = HashMap::new();
        let mut current: Option<&'static str> = None;
        for line in include_str!("schema.txt").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if !line.starts_with(' ') {
                current = Some(line.trim());
                out.entry(line.trim()).or_default();
                continue;
            }
            let parts: Vec<&'static str> = line.split_whitespace().collect();
            let (Some(msg), [num, name, ty, rest @ ..]) = (current, parts.as_slice()) else {
                continue;
            };
            let Ok(num) = num.parse::<u64>() else { continue };
            let (map, ty) = match ty.strip_prefix("map:") {
                Some(t) => (true, t),
                None => (false, *ty),
            };
            let ty = match ty {
                "string" => Ty::Str,
                "bytes" => Ty::Bytes,
                "bool" => Ty::Bool,
                "int32" => Ty::Int32,
                "int64" => Ty::Int64,
                other => Ty::Msg(other),
            };
            let def = Def {
                name,
                ty,
                repeated: rest.contains(&"[]"),
                map,
            };
            out.entry(msg).or_default().insert(num, def);
        }
        out
    })
}

/// A field as the OpenAPI documents describe it.
pub(crate) struct FieldInfo {
    pub name: &'static str,
    /// `string`, `bytes`, `bool`, `int32`, `int64` or a message.
    pub ty: &'static str,
    pub repeated: bool,
    pub map: bool,
    /// Embedded in the parent's JSON.
    pub inline: bool,
}

/// A message's fields, by name.
pub(crate) fn fields_of(message: &str) -> Option<Vec<FieldInfo>> {
    let defs = schema().get(message)?;
    let mut out: Vec<FieldInfo> = defs
        .values()
        .map(|d| FieldInfo {
            name: d.name,
            ty: match d.ty {
                Ty::Str => "string",
                Ty::Bytes => "bytes",
                Ty::Bool => "bool",
                Ty::Int32 => "int32",
                Ty::Int64 => "int64",
                Ty::Msg(m) => m,
            },
            repeated: d.repeated,
            map: d.map,
            inline: INLINE.contains(&d.name) && matches!(d.ty, Ty::Msg(_)),
        })
        .collect();
    out.sort_unstable_by_key(|f| f.name);
    Some(out)
}

/// The message of a kind, when the field table has it.
pub(crate) fn message_for(api_version: &str, kind: &str) -> Option<String> {
    let name = message_of(api_version, kind);
    schema().contains_key(name.as_str()).then_some(name)
}

/// The field a JSON key names in a message, looking into embedded messages.
fn lookup(message: &str, key: &str) -> Option<Def> {
    let defs = schema().get(message)?;
    if let Some(d) = defs
        .values()
        .find(|d| d.name == key && !(INLINE.contains(&d.name) && matches!(d.ty, Ty::Msg(_))))
    {
        return Some(*d);
    }
    defs.values()
        .filter(|d| INLINE.contains(&d.name))
        .find_map(|d| match d.ty {
            Ty::Msg(inner) => lookup(inner, key),
            _ => None,
        })
}

/// Fields of a JSON object its kind does not have, as the API server's
/// strict decoding names them (`spec.replicaz`, `spec.template.spec.
/// containers[0].imagez`), taken out of the object as its decoding drops
/// them. Kinds outside the field table (custom resources) are left alone;
/// strategic merge directives (`$patch`, `$setElementOrder/...`) are not fields.
pub(crate) fn unknown_fields(api_version: &str, kind: &str, v: &mut Value) -> Vec<String> {
    let Some(message) = message_for(api_version, kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&message, v, "", &mut out);
    out
}

fn walk(message: &str, v: &mut Value, path: &str, out: &mut Vec<String>) {
    if special_json(message) {
        return;
    }
    let Value::Object(m) = v else { return };
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        if k.starts_with('$') || (path.is_empty() && (k == "apiVersion" || k == "kind")) {
            continue;
        }
        let here = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        let Some(def) = lookup(message, &k) else {
            out.push(here);
            m.remove(&k);
            continue;
        };
        let Ty::Msg(inner) = def.ty else { continue };
        let Some(child) = m.get_mut(&k) else { continue };
        if def.map {
            if let Value::Object(entries) = child {
                for (ek, ev) in entries.iter_mut() {
                    walk(inner, ev, &format!("{here}.{ek}"), out);
                }
            }
        } else if def.repeated {
            if let Value::Array(items) = child {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(inner, item, &format!("{here}[{i}]"), out);
                }
            }
        } else {
            walk(inner, child, &here, out);
        }
    }
}

/// Messages whose JSON is not an object of their fields.
fn special_json(message: &str) -> bool {
    matches!(
        message,
        "meta.Time"
            | "meta.MicroTime"
            | "resource.Quantity"
            | "intstr.IntOrString"
            | "runtime.RawExtension"
            | "meta.FieldsV1"
            | "authentication.v1.ExtraValue"
    ) || !schema().contains_key(message)
}

/// Optional fields whose zero is a value, not an absence.
const KEEP_ZERO: &[&str] = &[
    "replicas",
    "minReplicas",
    "revisionHistoryLimit",
    "terminationGracePeriodSeconds",
    "ttlSecondsAfterFinished",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "backoffLimit",
    "parallelism",
    "completions",
    "automountServiceAccountToken",
    "allowPrivilegeEscalation",
    "privileged",
    "runAsNonRoot",
    "runAsUser",
    "runAsGroup",
    "fsGroup",
    "readOnlyRootFilesystem",
    "defaultMode",
    "optional",
    "suspend",
    "value",
    "ready",
    "serving",
    "terminating",
];

/// Messages embedded in their parent's JSON (`json:",inline"` in the Go types).
const INLINE: &[&str] = &[
    "localObjectReference",
    "volumeSource",
    "persistentVolumeSource",
    "ingressRuleValue",
    "ephemeralContainerCommon",
    "handler",
];

fn text(b: &[u8]) -> Result<String, SimError> {
    String::from_utf8(b.to_vec()).map_err(|_| SimError("a string field is not UTF-8".into()))
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// One scalar or message value of type `ty` from its wire form.
fn value(ty: Ty, f: &Field<'_>) -> Result<Value, SimError> {
    let wrong = || SimError(format!("a field of type {ty:?} has the wrong wire type"));
    Ok(match (ty, f) {
        (Ty::Str, Field::Bytes(b)) => json!(text(b)?),
        (Ty::Bytes, Field::Bytes(b)) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        (Ty::Bool, Field::Varint(v)) => json!(*v != 0),
        // Negative int32s travel as 64-bit two's complement.
        (Ty::Int32, Field::Varint(v)) => json!(*v as i64 as i32),
        (Ty::Int64, Field::Varint(v)) => json!(*v as i64),
        (Ty::Msg(name), Field::Bytes(b)) => message(name, b)?,
        _ => return Err(wrong()),
    })
}

/// Packed repeated scalars: one length-delimited run of varints.
fn packed(ty: Ty, b: &[u8]) -> Result<Vec<Value>, SimError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let v = varint(b, &mut pos).ok_or("malformed packed field")?;
        out.push(value(ty, &Field::Varint(v))?);
    }
    Ok(out)
}

/// A message as the JSON its Go type encodes to.
fn message(name: &str, b: &[u8]) -> Result<Value, SimError> {
    let malformed = || SimError(format!("malformed {name}"));
    let fs = fields(b).ok_or_else(malformed)?;
    let num = |n: u64| {
        fs.iter().find_map(|(k, f)| match f {
            Field::Varint(v) if *k == n => Some(*v),
            _ => None,
        })
    };
    let bytes = |n: u64| {
        fs.iter().find_map(|(k, f)| match f {
            Field::Bytes(v) if *k == n => Some(*v),
            _ => None,
        })
    };
    // Types whose JSON is not an object of their fields.
    match name {
        "meta.Time" | "meta.MicroTime" => {
            let secs = num(1).unwrap_or(0) as i64;
            let nanos = num(2).unwrap_or(0) as i64;
            if secs == 0 && nanos == 0 {
                return Ok(Value::Null);
            }
            let t = time::OffsetDateTime::from_unix_timestamp(secs).map_err(|_| malformed())?;
            return Ok(if name == "meta.Time" {
                json!(crate::state::seconds_utc(t))
            } else {
                let base = crate::state::seconds_utc(t);
                json!(format!("{}.{:06}Z", base.trim_end_matches('Z'), nanos / 1000))
            });
        }
        "resource.Quantity" => return Ok(json!(text(bytes(1).unwrap_or_default())?)),
        "intstr.IntOrString" => {
            return Ok(if num(1).unwrap_or(0) == 1 {
                json!(text(bytes(3).unwrap_or_default())?)
            } else {
                json!(num(2).unwrap_or(0) as i64 as i32)
            });
        }
        "runtime.RawExtension" | "meta.FieldsV1" => {
            let raw = bytes(1).unwrap_or_default();
            return Ok(if raw.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(raw).map_err(|_| SimError(format!("{name} is not JSON")))?
            });
        }
        "authentication.v1.ExtraValue" => {
            return fs
                .iter()
                .filter(|(k, _)| *k == 1)
                .map(|(_, f)| value(Ty::Str, f))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array);
        }
        _ => {}
    }
    let defs = schema()
        .get(name)
        .ok_or_else(|| SimError(format!("no protobuf schema for {name}")))?;
    let mut out = Map::new();
    for (n, f) in &fs {
        // Fields this table does not know are dropped, as the server's decoder drops them.
        let Some(def) = defs.get(n) else { continue };
        if def.map {
            let Field::Bytes(entry) = f else {
                return Err(malformed());
            };
            let mut k = String::new();
            let mut v = Value::Null;
            for (en, ef) in fields(entry).ok_or_else(malformed)? {
                match (en, &ef) {
                    (1, Field::Bytes(x)) => k = text(x)?,
                    (2, _) => v = value(def.ty, &ef)?,
                    _ => {}
                }
            }
            if v.is_null() {
                v = match def.ty {
                    Ty::Str | Ty::Bytes => json!(""),
                    _ => json!({}),
                };
            }
            let m = out.entry(def.name).or_insert_with(|| json!({}));
            if let Value::Object(m) = m {
                m.insert(k, v);
            }
        } else if def.repeated {
            let items = match (def.ty, f) {
                (Ty::Int32 | Ty::Int64 | Ty::Bool, Field::Bytes(run)) => packed(def.ty, run)?,
                _ => vec![value(def.ty, f)?],
            };
            let list = out.entry(def.name).or_insert_with(|| json!([]));
            if let Value::Array(list) = list {
                list.extend(items);
            }
        } else if INLINE.contains(&def.name) && matches!(def.ty, Ty::Msg(_)) {
            // Embedded Go structs (`json:",inline"`): their fields are the parent's.
            if let Value::Object(mut inner) = value(def.ty, f)? {
                out.append(&mut inner);
            }
        } else {
            let v = value(def.ty, f)?;
            let keep = !is_zero(&v) || (KEEP_ZERO.contains(&def.name) && !v.is_null());
            if keep {
                out.insert(def.name.into(), v);
            }
        }
    }
    Ok(Value::Object(out))
}

/// The message name of a kind: `apps/v1 Deployment` is `apps.v1.Deployment`,
/// `v1 Pod` is `core.v1.Pod`, `rbac.authorization.k8s.io/v1` is `rbac.v1`.
fn message_of(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let pkg = if group.is_empty() {
        "core"
    } else {
        group.split('.').next().unwrap_or(group)
    };
    format!("{pkg}.{version}.{kind}")
}

/// Decodes a `k8s\0`-framed object into JSON; `Err` says why it cannot.
pub fn decode(body: &[u8]) -> Result<Value, SimError> {
    let inner = body
        .strip_prefix(b"k8s\0")
        .ok_or("a protobuf body must start with the k8s\\0 magic")?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (n, f) in fields(inner).ok_or("malformed protobuf envelope")? {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (tn, tf) in fields(tm).ok_or("malformed typeMeta")? {
                    if let Field::Bytes(x) = tf {
                        match tn {
                            1 => api_version = text(x).unwrap_or_default(),
                            2 => kind = text(x).unwrap_or_default(),
                            _ => {}
                        }
                    }
                }
            }
            (2, Field::Bytes(x)) => raw = x,
            _ => {}
        }
    }
    let name = message_of(&api_version, &kind);
    if !schema().contains_key(name.as_str()) {
        return Err(SimError(format!(
            "protobuf bodies for {kind} ({api_version}) are not supported; send application/json"
        )));
    }
    let mut obj = match message(&name, raw)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!(kind));
    out.append(&mut obj);
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64, wire: u64) -> Vec<u8> {
        vec![((n << 3) | wire) as u8]
    }
    fn bytes(n: u64, b: &[u8]) -> Vec<u8> {
        let mut v = key(n, 2);
        v.push(b.len() as u8);
        v.extend_from_slice(b);
        v
    }

    #[test]
    fn decodes_a_configmap() {
        let meta = [
            bytes(1, b"cfg"),
            bytes(3, b"ns1"),
            bytes(11, &[bytes(1, b"app"), bytes(2, b"web")].concat()),
        ]
        .concat();
        let raw = [bytes(1, &meta), bytes(2, &[bytes(1, b"k"), bytes(2, b"v")].concat())].concat();
        let tm = [bytes(1, b"v1"), bytes(2, b"ConfigMap")].concat();
        let body = [b"k8s\0".to_vec(), bytes(1, &tm), bytes(2, &raw)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ns1", "labels": {"app": "web"}}, "data": {"k": "v"}})
        );
        assert!(decode(b"nope").is_err());
        let tm = [bytes(1, b"example.com/v1"), bytes(2, b"Widget")].concat();
        let body = [b"k8s\0".to_vec(), bytes(1, &tm), bytes(2, &bytes(2, b"x"))].concat();
        assert!(decode(&body).unwrap_err().to_string().contains("Widget"));
    }

    #[test]
    fn decodes_nested_messages_lists_and_special_types() {
        // A Deployment with replicas 0 (kept), a container with a port, an
        // empty string (dropped) and an IntOrString in its strategy.
        let container = [
            bytes(1, b"web"),
            bytes(2, b"nginx"),
            bytes(6, &[key(3, 0), vec![80]].concat()),
            bytes(14, b""),
        ]
        .concat();
        let pod_spec = bytes(2, &container);
        let template = bytes(2, &pod_spec);
        let rolling = bytes(2, &bytes(1, &[key(1, 0), vec![1], bytes(3, b"25%")].concat()));
        let spec = [
            key(1, 0),
            vec![0],
            bytes(3, &template),
            bytes(4, &[bytes(1, b"RollingUpdate"), rolling].concat()),
        ]
        .concat();
        let raw = [bytes(1, &bytes(1, b"web")), bytes(2, &spec)].concat();
        let tm = [bytes(1, b"apps/v1"), bytes(2, b"Deployment")].concat();
        let body = [b"k8s\0".to_vec(), bytes(1, &tm), bytes(2, &raw)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(v["spec"]["replicas"], 0);
        assert_eq!(
            v["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}])
        );
        assert_eq!(
            v["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}})
        );
    }
}
