//! Just enough of the Kubernetes protobuf encoding to read what kubectl's
//! typed `create` commands send: the `k8s\0` envelope, ObjectMeta, and the
//! simple kinds (Namespace, ConfigMap, Secret, ServiceAccount). Other kinds
//! answer 415 with the media types that are accepted.

use crate::error::SimError;
use base64::Engine;
use serde_json::{Map, Value, json};

/// A field of a protobuf message: its number and raw payload.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
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
            1 => {
                pos = pos.checked_add(8).filter(|e| *e <= b.len())?;
                Field::Varint(0)
            }
            5 => {
                pos = pos.checked_add(4).filter(|e| *e <= b.len())?;
                Field::Varint(0)
            }
            _ => return None,
        };
        out.push((num, f));
    }
    Some(out)
}

fn text(b: &[u8]) -> Option<String> {
    String::from_utf8(b.to_vec()).ok()
}

/// A `map<string, string|bytes>` entry.
fn entry(b: &[u8], as_base64: bool) -> Option<(String, Value)> {
    let mut k = String::new();
    let mut v = Value::String(String::new());
    for (n, f) in fields(b)? {
        if let Field::Bytes(x) = f {
            match n {
                1 => k = text(x)?,
                2 => {
                    v = if as_base64 {
                        json!(base64::engine::general_purpose::STANDARD.encode(x))
                    } else {
                        json!(text(x)?)
                    }
                }
                _ => {}
            }
        }
    }
    Some((k, v))
}

fn object_meta(b: &[u8]) -> Option<Value> {
    let mut m = Map::new();
    let mut labels = Map::new();
    let mut annotations = Map::new();
    let mut finalizers = Vec::new();
    for (n, f) in fields(b)? {
        let Field::Bytes(x) = f else { continue };
        match n {
            1 => {
                m.insert("name".into(), json!(text(x)?));
            }
            2 => {
                m.insert("generateName".into(), json!(text(x)?));
            }
            3 => {
                m.insert("namespace".into(), json!(text(x)?));
            }
            11 => {
                let (k, v) = entry(x, false)?;
                labels.insert(k, v);
            }
            12 => {
                let (k, v) = entry(x, false)?;
                annotations.insert(k, v);
            }
            14 => finalizers.push(json!(text(x)?)),
            _ => {}
        }
    }
    if !labels.is_empty() {
        m.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        m.insert("annotations".into(), Value::Object(annotations));
    }
    if !finalizers.is_empty() {
        m.insert("finalizers".into(), Value::Array(finalizers));
    }
    Some(Value::Object(m))
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
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    let top = fields(raw).ok_or_else(|| format!("malformed {kind}"))?;
    let (mut data, mut string_data, mut binary) = (Map::new(), Map::new(), Map::new());
    for (n, f) in top {
        match (kind.as_str(), n, f) {
            (_, 1, Field::Bytes(x)) => {
                obj.insert("metadata".into(), object_meta(x).ok_or("malformed metadata")?);
            }
            ("Namespace", 2, Field::Bytes(x)) => {
                let fin: Vec<Value> = fields(x)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(n, f)| match (n, f) {
                        (1, Field::Bytes(s)) => text(s).map(Value::String),
                        _ => None,
                    })
                    .collect();
                obj.insert("spec".into(), json!({"finalizers": fin}));
            }
            ("ConfigMap", 2, Field::Bytes(x)) => {
                let (k, v) = entry(x, false).ok_or("malformed data")?;
                data.insert(k, v);
            }
            ("ConfigMap", 3, Field::Bytes(x)) => {
                let (k, v) = entry(x, true).ok_or("malformed binaryData")?;
                binary.insert(k, v);
            }
            ("ConfigMap", 4, Field::Varint(v)) | ("Secret", 5, Field::Varint(v)) => {
                obj.insert("immutable".into(), json!(v != 0));
            }
            ("Secret", 2, Field::Bytes(x)) => {
                let (k, v) = entry(x, true).ok_or("malformed data")?;
                data.insert(k, v);
            }
            ("Secret", 3, Field::Bytes(x)) => {
                obj.insert("type".into(), json!(text(x).unwrap_or_default()));
            }
            ("Secret", 4, Field::Bytes(x)) => {
                let (k, v) = entry(x, false).ok_or("malformed stringData")?;
                string_data.insert(k, v);
            }
            ("ServiceAccount", 4, Field::Varint(v)) => {
                obj.insert("automountServiceAccountToken".into(), json!(v != 0));
            }
            // Reviews (kubectl auth can-i, can-i --list): their spec.
            ("SelfSubjectAccessReview", 2, Field::Bytes(x)) => {
                let mut spec = Map::new();
                for (n, f) in fields(x).ok_or("malformed spec")? {
                    let Field::Bytes(attrs) = f else { continue };
                    let names: &[&str] = match n {
                        1 => &[
                            "namespace",
                            "verb",
                            "group",
                            "version",
                            "resource",
                            "subresource",
                            "name",
                        ],
                        2 => &["path", "verb"],
                        _ => continue,
                    };
                    let mut m = Map::new();
                    for (an, af) in fields(attrs).ok_or("malformed attributes")? {
                        if let (Field::Bytes(v), Some(key)) = (af, names.get((an as usize).wrapping_sub(1))) {
                            m.insert((*key).into(), json!(text(v).unwrap_or_default()));
                        }
                    }
                    let key = if n == 1 {
                        "resourceAttributes"
                    } else {
                        "nonResourceAttributes"
                    };
                    spec.insert(key.into(), Value::Object(m));
                }
                obj.insert("spec".into(), Value::Object(spec));
            }
            ("SelfSubjectRulesReview", 2, Field::Bytes(x)) => {
                let ns = fields(x)
                    .unwrap_or_default()
                    .into_iter()
                    .find_map(|(n, f)| match (n, f) {
                        (1, Field::Bytes(s)) => text(s),
                        _ => None,
                    })
                    .unwrap_or_default();
                obj.insert("spec".into(), json!({"namespace": ns}));
            }
            (
                "Namespace"
                | "ConfigMap"
                | "Secret"
                | "ServiceAccount"
                | "SelfSubjectAccessReview"
                | "SelfSubjectRulesReview"
                | "SelfSubjectReview",
                _,
                _,
            ) => {}
            (other, _, _) => {
                return Err(SimError(format!(
                    "protobuf bodies for {other} are not supported; send application/json"
                )));
            }
        }
    }
    // Secrets: stringData lands in data, base64-encoded, as the server does.
    for (k, v) in string_data {
        data.insert(
            k,
            json!(base64::engine::general_purpose::STANDARD.encode(v.as_str().unwrap_or(""))),
        );
    }
    if !data.is_empty() {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    Ok(Value::Object(obj))
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
        let tm = [bytes(1, b"apps/v1"), bytes(2, b"Deployment")].concat();
        let body = [b"k8s\0".to_vec(), bytes(1, &tm), bytes(2, &bytes(2, b"x"))].concat();
        assert!(decode(&body).unwrap_err().to_string().contains("Deployment"));
    }
}
