//! Custom resources checked against their definition's structural schema
//! (`openAPIV3Schema`), as the apiextensions server checks them: types,
//! required fields and enums (422 Invalid), and fields the schema does not
//! have (pruned, or refused under strict field validation).

use super::*;
use crate::resources::Resource;

impl State {
    /// What every write checks: the kind's own rules, and a custom
    /// resource's schema.
    pub(super) fn validate_object(&self, res: &Resource, name: &str, obj: &Value) -> Result<(), ApiError> {
        validate(res, name, obj)?;
        let Some(schema) = self.custom_schema(res) else {
            return Ok(());
        };
        let mut causes = Vec::new();
        check(&schema, obj, "", &mut causes);
        if causes.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(res, name, causes))
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Types, required fields and enums, each failure as (field, message).
fn check(schema: &Value, v: &Value, path: &str, causes: &mut Vec<(String, String)>) {
    let field = if path.is_empty() {
        "<root>".to_string()
    } else {
        path.to_string()
    };
    if let Some(want) = schema.get("type").and_then(Value::as_str) {
        let got = type_name(v);
        let ok = got == want
            || (want == "number" && got == "integer")
            || (v.is_null() && schema.get("nullable") == Some(&json!(true)));
        let int_or_string =
            schema.get("x-kubernetes-int-or-string") == Some(&json!(true)) && matches!(got, "integer" | "string");
        if !ok && !int_or_string {
            causes.push((
                field,
                format!("Invalid value: \"{got}\": {path} in body must be of type {want}: \"{got}\""),
            ));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let list = allowed.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
        causes.push((field, format!("Unsupported value: {v}: supported values: {list}")));
        return;
    }
    match v {
        Value::Object(m) => {
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let type_field = path.is_empty() && matches!(r, "apiVersion" | "kind" | "metadata");
                if !m.contains_key(r) && !type_field {
                    let at = if path.is_empty() {
                        r.to_string()
                    } else {
                        format!("{path}.{r}")
                    };
                    causes.push((at, "Required value".into()));
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, child) in m {
                if path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let sub = props
                    .and_then(|p| p.get(k))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    let at = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    check(sub, child, &at, causes);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(sub, item, &format!("{path}[{i}]"), causes);
                }
            }
        }
        _ => {}
    }
}

/// Fields a structural schema does not have, taken out as the server
/// prunes them: where an object has `properties` and neither
/// `x-kubernetes-preserve-unknown-fields` nor `additionalProperties`.
pub fn unknown_custom_fields(schema: &Value, v: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    prune(schema, v, "", &mut out);
    out
}

fn prune(schema: &Value, v: &mut Value, path: &str, out: &mut Vec<String>) {
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true)) {
        return;
    }
    match v {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema
                .get("additionalProperties")
                .filter(|a| a.is_object() || *a == &json!(true));
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match props.and_then(|p| p.get(&k)).or(extra) {
                    Some(sub) if sub.is_object() => {
                        if let Some(child) = m.get_mut(&k) {
                            prune(sub, child, &at, out);
                        }
                    }
                    Some(_) => {}
                    None => {
                        out.push(at);
                        m.remove(&k);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune(sub, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}
