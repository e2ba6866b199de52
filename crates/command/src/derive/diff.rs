//! What differs between the objects kdeck would apply and the live ones,
//! by merge key, ignoring what the server defaults.

use serde_json::Value;

/// One field kdeck sets that the cluster has otherwise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `spec.replicas`, `spec.template.spec.containers[0].image`, …
    pub path: String,
    pub ours: String,
    pub cluster: String,
}

fn leaf(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// What applying `desired` would change in `live`: [`diff`] without the
/// type fields, which the API server may leave out of what it returns.
pub fn changes(desired: &Value, live: &Value) -> Vec<Change> {
    diff(desired, live)
        .into_iter()
        .filter(|c| !c.path.starts_with("apiVersion") && !c.path.starts_with("kind"))
        .collect()
}

/// The fields of `desired` whose values differ in `live` (fields kdeck does
/// not set are the cluster's business and not compared). Numbers and
/// strings compare by text, so `8080` and `"8080"` are the same.
pub fn diff(desired: &Value, live: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(desired, Some(live), String::new(), &mut out);
    out
}

/// The key the API server merges a list's items by (its strategic merge
/// key), found from the items: containers, env, volumes by `name`, ports
/// by their port number, mounts by path. `None`: compared by position.
fn merge_key(items: &[Value]) -> Option<&'static str> {
    const KEYS: [&str; 5] = ["containerPort", "port", "mountPath", "name", "devicePath"];
    KEYS.into_iter()
        .find(|k| !items.is_empty() && items.iter().all(|i| i.get(*k).is_some_and(|v| !v.is_null())))
}

/// A value the API server fills in when it is left out: kdeck sending it
/// and the stored object not saying it is no difference.
fn server_default(field: &str, v: &Value) -> bool {
    match (field, v) {
        (_, Value::Bool(false)) => true,
        ("protocol", Value::String(s)) => s == "TCP",
        ("type", Value::String(s)) => s == "ClusterIP" || s == "RollingUpdate",
        ("restartPolicy", Value::String(s)) => s == "Always",
        ("dnsPolicy", Value::String(s)) => s == "ClusterFirst",
        ("schedulerName", Value::String(s)) => s == "default-scheduler",
        ("sessionAffinity", Value::String(s)) => s == "None",
        ("podManagementPolicy", Value::String(s)) => s == "OrderedReady",
        ("terminationMessagePath", Value::String(s)) => s == "/dev/termination-log",
        ("terminationMessagePolicy", Value::String(s)) => s == "File",
        ("terminationGracePeriodSeconds", v) => leaf(Some(v)) == "30",
        ("revisionHistoryLimit", v) => leaf(Some(v)) == "10",
        ("progressDeadlineSeconds", v) => leaf(Some(v)) == "600",
        _ => false,
    }
}

fn walk(d: &Value, l: Option<&Value>, path: String, out: &mut Vec<Change>) {
    match d {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let theirs = l.and_then(|l| l.get(k)).filter(|t| !t.is_null());
                if theirs.is_none() && server_default(k, v) {
                    continue;
                }
                walk(v, theirs, p, out);
            }
        }
        Value::Array(a) => {
            let la = l.and_then(Value::as_array);
            if a.is_empty() {
                // kdeck setting nothing here leaves the cluster's list alone.
                return;
            }
            if la.map_or(0, Vec::len) != a.len() {
                out.push(Change {
                    path: path.clone(),
                    ours: format!("{} item(s)", a.len()),
                    cluster: format!("{} item(s)", la.map_or(0, Vec::len)),
                });
            }
            // As the server merges them: by key where the items have one,
            // so that the same items in another order are the same list.
            match merge_key(a) {
                Some(key) => {
                    for v in a {
                        let id = leaf(v.get(key));
                        let theirs = la.and_then(|x| x.iter().find(|t| leaf(t.get(key)) == id));
                        walk(v, theirs, format!("{path}[{key}={id}]"), out);
                    }
                }
                None => {
                    for (i, v) in a.iter().enumerate() {
                        walk(v, la.and_then(|x| x.get(i)), format!("{path}[{i}]"), out);
                    }
                }
            }
        }
        _ => {
            let (ours, theirs) = (leaf(Some(d)), leaf(l));
            if ours != theirs {
                out.push(Change {
                    path,
                    ours,
                    cluster: theirs,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_fields_we_set_are_compared() {
        let ours = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a:1", "ports": [{"containerPort": 8080}]}]}}}});
        let live = json!({"spec": {"replicas": 5, "paused": false, "template": {"spec": {"containers": [{"image": "a:1", "ports": [{"containerPort": "8080"}], "terminationMessagePath": "/dev/x"}]}}}, "status": {}});
        let d = diff(&ours, &live);
        assert_eq!(
            d,
            vec![Change {
                path: "spec.replicas".into(),
                ours: "3".into(),
                cluster: "5".into()
            }]
        );
        let gone = diff(&ours, &json!({}));
        assert!(gone.iter().any(|c| c.path == "spec.replicas" && c.cluster == "(none)"));
    }
}
