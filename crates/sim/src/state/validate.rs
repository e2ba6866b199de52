//! What the API server refuses: names, required fields, typed decoding.

use super::*;
use crate::error::SimError;
use crate::ptr::At;

pub(super) fn dns_label_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// As the API server's IsDNS1123Subdomain: at most 253 characters of
/// dot-separated parts of lowercase letters, digits and '-' that start and
/// end with a letter or digit (a part may be longer than a label's 63).
pub(super) fn dns_subdomain_ok(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    !s.is_empty() && s.len() <= 253 && s.split('.').all(part)
}

/// The checks a real server makes that a user trips over: 422 with a cause per field.
pub(super) fn validate(res: &Resource, name: &str, obj: &Value) -> Result<(), ApiError> {
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
    if res.kind == "CustomResourceDefinition" {
        causes.extend(super::crds::check_definition(name, obj));
    }
    let pod_spec = match res.kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" => {
            if let Some(r) = obj.at("/spec/replicas").and_then(Value::as_i64)
                && r < 0
            {
                causes.push((
                    "spec.replicas".into(),
                    format!("Invalid value: {r}: must be greater than or equal to 0"),
                ));
            }
            if obj.at("/spec/selector").is_none() {
                causes.push(("spec.selector".into(), "Required value".into()));
            } else if let Some(Value::Object(ml)) = obj.at("/spec/selector/matchLabels") {
                let tl = obj.at("/spec/template/metadata/labels").and_then(Value::as_object);
                let ok = ml.iter().all(|(k, v)| tl.and_then(|t| t.get(k)) == Some(v));
                if !ok {
                    causes.push((
                        "spec.template.metadata.labels".into(),
                        "Invalid value: `selector` does not match template `labels`".into(),
                    ));
                }
            }
            obj.at("/spec/template/spec").map(|s| ("spec.template.spec", s))
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
    if res.kind == "HorizontalPodAutoscaler" {
        let min = obj.at("/spec/minReplicas").and_then(Value::as_i64).unwrap_or(1);
        let max = obj.at("/spec/maxReplicas").and_then(Value::as_i64).unwrap_or(0);
        if min < 1 {
            causes.push((
                "spec.minReplicas".into(),
                format!("Invalid value: {min}: must be greater than or equal to 1"),
            ));
        }
        if max < 1 {
            causes.push((
                "spec.maxReplicas".into(),
                format!("Invalid value: {max}: must be greater than 0"),
            ));
        } else if max < min {
            causes.push((
                "spec.maxReplicas".into(),
                format!("Invalid value: {max}: must be greater than or equal to `minReplicas`"),
            ));
        }
    }
    if matches!(res.kind, "ResourceQuota" | "LimitRange") {
        quantities(res.kind, obj, &mut causes);
    }
    if res.kind == "Service"
        && let Some(ports) = obj.at("/spec/ports").and_then(Value::as_array)
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

pub(super) fn decode_typed(kind: &str, obj: &Value) -> Result<(), SimError> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, core::v1 as core, networking::v1 as net, rbac::v1 as rbac,
        storage::v1 as storage,
    };
    fn check<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), SimError> {
        T::deserialize(v).map(|_| ()).map_err(|e| SimError(e.to_string()))
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
        "ResourceQuota" => check::<core::ResourceQuota>(obj),
        "LimitRange" => check::<core::LimitRange>(obj),
        "PersistentVolume" => check::<core::PersistentVolume>(obj),
        "StorageClass" => check::<storage::StorageClass>(obj),
        "HorizontalPodAutoscaler" => check::<autoscaling::HorizontalPodAutoscaler>(obj),
        _ => Ok(()),
    }
}

/// Every quantity of a ResourceQuota's `spec.hard` or a LimitRange's limits
/// must parse, as the server's own Quantity type demands.
fn quantities(kind: &str, obj: &Value, causes: &mut Vec<(String, String)>) {
    let mut check = |path: String, v: &Value| {
        let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        if crate::quantity::parse(&text).is_none() {
            causes.push((
                path,
                format!("Invalid value: \"{text}\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
            ));
        }
    };
    if kind == "ResourceQuota" {
        for (k, v) in obj.at("/spec/hard").and_then(Value::as_object).into_iter().flatten() {
            check(format!("spec.hard[{k}]"), v);
        }
        return;
    }
    for (i, l) in obj
        .at("/spec/limits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for field in ["default", "defaultRequest", "max", "min"] {
            for (k, v) in l.get(field).and_then(Value::as_object).into_iter().flatten() {
                check(format!("spec.limits[{i}].{field}[{k}]"), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn subdomains_are_checked_as_the_api_server_checks_them() {
        use super::dns_subdomain_ok as ok;
        // A part longer than a label's 63 is still a subdomain.
        assert!(ok(&"a".repeat(70)));
        assert!(ok("sh.helm.release.v1.web.v1"));
        assert!(!ok(&"a".repeat(254)));
        assert!(!ok("Upper"));
        assert!(!ok("a..b"));
        assert!(!ok("-a"));
    }
}
