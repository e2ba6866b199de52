//! Each kind's columns and the cells of one object, as the API server's
//! printers compute them.

use crate::ptr::At;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::objects::{event, hpa, ingress, job, pod, service};
use super::{Column, col, since};
use crate::resources::Resource;

/// Each kind's columns, read once from `columns.txt`.
fn builtin() -> &'static HashMap<String, Vec<Column>> {
    static TABLE: OnceLock<HashMap<String, Vec<Column>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut out: HashMap<String, Vec<Column>> = HashMap::new();
        let mut current = String::new();
        for line in include_str!("columns.txt").lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some(key) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = key.to_string();
                continue;
            }
            let mut f = line.splitn(4, '\t');
            let (Some(name), Some(kind), Some(priority), Some(description)) = (f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let priority = priority.parse().unwrap_or(0);
            out.entry(current.clone())
                .or_default()
                .push(col(name, kind, priority, description));
        }
        out
    })
}

const NAME: Column = col("Name", "string", 0, "Name must be unique within a namespace.");

/// The columns of a kind's Table: a custom resource's from its definition.
pub fn columns(res: &Resource) -> Cow<'static, [Column]> {
    if !res.printer.is_empty() {
        let mut cols = vec![NAME];
        cols.extend(
            res.printer
                .iter()
                .map(|p| col(p.name, p.kind, p.priority, p.description)),
        );
        return Cow::Owned(cols);
    }
    Cow::Borrowed(builtin_columns(res))
}

fn builtin_columns(res: &Resource) -> &'static [Column] {
    let group = if res.group.is_empty() { "core" } else { res.group };
    let table = builtin();
    let fallback = if res.group.contains('.') && !res.group.ends_with(".k8s.io") {
        "custom"
    } else {
        "default"
    };
    table
        .get(&format!("{group}/{}", res.kind))
        .or_else(|| table.get(fallback))
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(super) fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.at(ptr).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn n(v: &Value, ptr: &str) -> i64 {
    v.at(ptr).and_then(Value::as_i64).unwrap_or(0)
}

pub(super) fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.at(ptr).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

pub(super) fn or_none(x: String) -> String {
    if x.is_empty() { "<none>".into() } else { x }
}

pub(super) fn age(v: &Value, now: i64) -> Value {
    json!(since(v.at("/metadata/creationTimestamp").and_then(Value::as_str), now))
}

/// `k=v,k2=v2`, sorted by key, as labels.FormatLabels and selectors print.
pub(super) fn labels(m: Option<&Value>) -> String {
    let map: BTreeMap<&str, &str> = m
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A LabelSelector as `metav1.LabelSelectorAsSelector(...).String()`.
pub(super) fn selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut parts: Vec<(String, String)> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))))
                .collect()
        })
        .unwrap_or_default();
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = s(e, "/key");
        let mut values: Vec<&str> = arr(e, "/values").iter().filter_map(Value::as_str).collect();
        values.sort_unstable();
        let text = match s(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        parts.push((key.to_string(), text));
    }
    parts.sort();
    if parts.is_empty() {
        return "<none>".into();
    }
    parts.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(",")
}

/// Container names and images of a pod template, comma-joined.
pub(super) fn layout_containers(v: &Value, spec: &str) -> (Value, Value) {
    let cs = arr(v, &format!("{spec}/containers"));
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (json!(names.join(",")), json!(images.join(",")))
}

/// Up to three items, then `+ N more...`.
pub(super) fn with_more(list: &[String], total: usize) -> String {
    let shown = list.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if total > 3 {
        format!("{shown} + {} more...", total - 3)
    } else {
        shown
    }
}

/// The cells of one object.
pub fn cells(res: &Resource, v: &Value, now: i64) -> Vec<Value> {
    let name = json!(s(v, "/metadata/name"));
    if !res.printer.is_empty() {
        let mut out = vec![name];
        for p in res.printer {
            let found = super::path::json_path(v, p.json_path);
            out.push(match (p.kind, found) {
                (_, None) => Value::Null,
                ("date", Some(Value::String(t))) => json!(since(Some(&t), now)),
                (_, Some(Value::String(t))) => json!(t),
                (_, Some(x @ (Value::Number(_) | Value::Bool(_)))) => x,
                (_, Some(other)) => json!(other.to_string()),
            });
        }
        return out;
    }
    match (res.group, res.kind) {
        ("", "Pod") => pod(v, now),
        ("apps", "Deployment") => {
            let (c, i) = layout_containers(v, "/spec/template/spec");
            let desired = v.at("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![
                name,
                json!(format!("{}/{desired}", n(v, "/status/readyReplicas"))),
                json!(n(v, "/status/updatedReplicas")),
                json!(n(v, "/status/availableReplicas")),
                age(v, now),
                c,
                i,
                json!(selector(v.at("/spec/selector"))),
            ]
        }
        ("apps", "ReplicaSet") => {
            let (c, i) = layout_containers(v, "/spec/template/spec");
            vec![
                name,
                json!(v.at("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)),
                json!(n(v, "/status/replicas")),
                json!(n(v, "/status/readyReplicas")),
                age(v, now),
                c,
                i,
                json!(selector(v.at("/spec/selector"))),
            ]
        }
        ("apps", "StatefulSet") => {
            let (c, i) = layout_containers(v, "/spec/template/spec");
            let desired = v.at("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            vec![
                name,
                json!(format!("{}/{desired}", n(v, "/status/readyReplicas"))),
                age(v, now),
                c,
                i,
            ]
        }
        ("apps", "ControllerRevision") => {
            let controller = arr(v, "/metadata/ownerReferences")
                .iter()
                .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
                .map(|o| {
                    let group = s(o, "/apiVersion").rsplit_once('/').map(|(g, _)| g).unwrap_or("");
                    let kind = s(o, "/kind").to_lowercase();
                    let kind = if group.is_empty() {
                        kind
                    } else {
                        format!("{kind}.{group}")
                    };
                    format!("{kind}/{}", s(o, "/name"))
                })
                .unwrap_or_else(|| "<none>".into());
            vec![name, json!(controller), json!(n(v, "/revision")), age(v, now)]
        }
        ("apps", "DaemonSet") => {
            let (c, i) = layout_containers(v, "/spec/template/spec");
            vec![
                name,
                json!(n(v, "/status/desiredNumberScheduled")),
                json!(n(v, "/status/currentNumberScheduled")),
                json!(n(v, "/status/numberReady")),
                json!(n(v, "/status/updatedNumberScheduled")),
                json!(n(v, "/status/numberAvailable")),
                json!(or_none(labels(v.at("/spec/template/spec/nodeSelector")))),
                age(v, now),
                c,
                i,
                json!(selector(v.at("/spec/selector"))),
            ]
        }
        ("batch", "Job") => job(v, now),
        ("batch", "CronJob") => {
            let (c, i) = layout_containers(v, "/spec/jobTemplate/spec/template/spec");
            vec![
                name,
                json!(s(v, "/spec/schedule")),
                json!(or_none(s(v, "/spec/timeZone").to_string())),
                json!(match v.at("/spec/suspend").and_then(Value::as_bool) {
                    Some(true) => "True",
                    Some(false) => "False",
                    None => "<unset>",
                }),
                json!(arr(v, "/status/active").len()),
                json!(match v.at("/status/lastScheduleTime").and_then(Value::as_str) {
                    Some(t) => since(Some(t), now),
                    None => "<none>".into(),
                }),
                age(v, now),
                c,
                i,
                json!(selector(v.at("/spec/jobTemplate/spec/selector"))),
            ]
        }
        ("policy", "PodDisruptionBudget") => {
            let text = |p: &str| match v.at(p) {
                Some(Value::String(x)) => x.clone(),
                Some(Value::Number(x)) => x.to_string(),
                _ => "N/A".into(),
            };
            vec![
                name,
                json!(text("/spec/minAvailable")),
                json!(text("/spec/maxUnavailable")),
                json!(n(v, "/status/disruptionsAllowed")),
                age(v, now),
            ]
        }
        ("", "Node") => {
            let ready = condition(v, "Ready").map(|c| s(c, "/status")).unwrap_or("");
            let mut status = match ready {
                "True" => "Ready".to_string(),
                _ => "NotReady".to_string(),
            };
            if v.at("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
                status.push_str(",SchedulingDisabled");
            }
            let mut roles: Vec<String> = v
                .at("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.keys()
                        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                        .filter(|r| !r.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            roles.sort();
            let address = |t: &str| {
                arr(v, "/status/addresses")
                    .iter()
                    .find(|a| s(a, "/type") == t)
                    .map(|a| s(a, "/address").to_string())
                    .unwrap_or_else(|| "<none>".into())
            };
            vec![
                name,
                json!(status),
                json!(or_none(roles.join(","))),
                age(v, now),
                json!(s(v, "/status/nodeInfo/kubeletVersion")),
                json!(address("InternalIP")),
                json!(address("ExternalIP")),
                json!(s(v, "/status/nodeInfo/osImage")),
                json!(s(v, "/status/nodeInfo/kernelVersion")),
                json!(s(v, "/status/nodeInfo/containerRuntimeVersion")),
            ]
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            let sel = selector(v.at("/spec/podSelector"));
            let sel = if sel == "<none>" { "<none>".to_string() } else { sel };
            vec![name, json!(sel), age(v, now)]
        }
        ("coordination.k8s.io", "Lease") => vec![name, json!(s(v, "/spec/holderIdentity")), age(v, now)],
        ("scheduling.k8s.io", "PriorityClass") => vec![
            name,
            json!(n(v, "/value")),
            json!(v.get("globalDefault").and_then(Value::as_bool).unwrap_or(false)),
            age(v, now),
            json!(non_empty(s(v, "/preemptionPolicy"), "PreemptLowerPriority")),
        ],
        ("discovery.k8s.io", "EndpointSlice") => {
            let ports: Vec<String> = arr(v, "/ports")
                .iter()
                .map(|p| match p.get("port").and_then(Value::as_i64) {
                    Some(n) => n.to_string(),
                    None => non_empty(s(p, "/name"), "*").to_string(),
                })
                .collect();
            let addrs: Vec<String> = arr(v, "/endpoints")
                .iter()
                .flat_map(|e| {
                    arr(e, "/addresses")
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
            let list = |l: &[String]| {
                if l.is_empty() {
                    "<unset>".to_string()
                } else {
                    with_more(l, l.len())
                }
            };
            vec![
                name,
                json!(s(v, "/addressType")),
                json!(list(&ports)),
                json!(list(&addrs)),
                age(v, now),
            ]
        }
        ("", "Service") => service(v, now),
        ("", "Endpoints") => {
            let mut list = Vec::new();
            let mut total = 0;
            for ss in arr(v, "/subsets") {
                let addrs: Vec<&str> = arr(ss, "/addresses").iter().map(|a| s(a, "/ip")).collect();
                let ports = arr(ss, "/ports");
                if ports.is_empty() {
                    total += addrs.len();
                    list.extend(addrs.iter().map(|a| a.to_string()));
                }
                for p in ports {
                    total += addrs.len();
                    list.extend(addrs.iter().map(|a| format!("{a}:{}", n(p, "/port"))));
                }
            }
            let text = if arr(v, "/subsets").is_empty() {
                "<none>".to_string()
            } else {
                with_more(&list, total)
            };
            vec![name, json!(text), age(v, now)]
        }
        ("", "Namespace") => vec![name, json!(s(v, "/status/phase")), age(v, now)],
        ("", "Secret") => vec![
            name,
            json!(s(v, "/type")),
            json!(v.get("data").and_then(Value::as_object).map_or(0, |m| m.len())),
            age(v, now),
        ],
        ("", "ConfigMap") => {
            let count = |k: &str| v.get(k).and_then(Value::as_object).map_or(0, |m| m.len());
            vec![name, json!(count("data") + count("binaryData")), age(v, now)]
        }
        ("", "ServiceAccount") => vec![name, json!(arr(v, "/secrets").len()), age(v, now)],
        ("", "PersistentVolumeClaim") => {
            let phase = if v.at("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                s(v, "/status/phase")
            };
            let bound = phase == "Bound";
            vec![
                name,
                json!(phase),
                json!(s(v, "/spec/volumeName")),
                json!(if bound { s(v, "/status/capacity/storage") } else { "" }),
                json!(if bound {
                    access_modes(arr(v, "/status/accessModes"))
                } else {
                    String::new()
                }),
                json!(s(v, "/spec/storageClassName")),
                json!(unset(s(v, "/spec/volumeAttributesClassName"))),
                age(v, now),
                json!(unset(s(v, "/spec/volumeMode"))),
            ]
        }
        ("", "PersistentVolume") => {
            let claim = match v.at("/spec/claimRef") {
                Some(c) => format!("{}/{}", s(c, "/namespace"), s(c, "/name")),
                None => String::new(),
            };
            let phase = if v.at("/metadata/deletionTimestamp").is_some() {
                "Terminating"
            } else {
                s(v, "/status/phase")
            };
            vec![
                name,
                json!(s(v, "/spec/capacity/storage")),
                json!(access_modes(arr(v, "/spec/accessModes"))),
                json!(s(v, "/spec/persistentVolumeReclaimPolicy")),
                json!(phase),
                json!(claim),
                json!(s(v, "/spec/storageClassName")),
                json!(unset(s(v, "/spec/volumeAttributesClassName"))),
                json!(s(v, "/status/reason")),
                age(v, now),
                json!(unset(s(v, "/spec/volumeMode"))),
            ]
        }
        ("", "Event") => event(v, now),
        ("events.k8s.io", "Event") => event(&crate::state::events::from_events_v1(v), now),
        ("", "ResourceQuota") => {
            let mut req = Vec::new();
            let mut lim = Vec::new();
            let hard: BTreeMap<&str, &Value> = v
                .at("/spec/hard")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, x)| (k.as_str(), x)).collect())
                .unwrap_or_default();
            for (k, h) in hard {
                let used = v
                    .at(&format!("/status/used/{}", k.replace('~', "~0").replace('/', "~1")))
                    .and_then(Value::as_str)
                    .unwrap_or("0");
                let text = format!("{k}: {used}/{}", h.as_str().unwrap_or(""));
                if k.starts_with("limits.") {
                    lim.push(text);
                } else {
                    req.push(text);
                }
            }
            vec![name, age(v, now), json!(req.join(", ")), json!(lim.join(", "))]
        }
        ("networking.k8s.io", "Ingress") => ingress(v, now),
        ("networking.k8s.io", "IngressClass") => {
            let params = match v.at("/spec/parameters") {
                Some(p) => {
                    let group = s(p, "/apiGroup");
                    let kind = if group.is_empty() {
                        s(p, "/kind").to_string()
                    } else {
                        format!("{}.{group}", s(p, "/kind"))
                    };
                    format!("{kind}/{}", s(p, "/name"))
                }
                None => "<none>".into(),
            };
            vec![name, json!(s(v, "/spec/controller")), json!(params), age(v, now)]
        }
        ("storage.k8s.io", "StorageClass") => {
            let default = [
                "storageclass.kubernetes.io/is-default-class",
                "storageclass.beta.kubernetes.io/is-default-class",
            ]
            .iter()
            .any(|a| {
                v.at("/metadata/annotations")
                    .and_then(|m| m.get(*a))
                    .and_then(Value::as_str)
                    == Some("true")
            });
            let shown = if default {
                format!("{} (default)", s(v, "/metadata/name"))
            } else {
                s(v, "/metadata/name").to_string()
            };
            vec![
                json!(shown),
                json!(s(v, "/provisioner")),
                json!(non_empty(s(v, "/reclaimPolicy"), "Delete")),
                json!(non_empty(s(v, "/volumeBindingMode"), "Immediate")),
                json!(
                    v.get("allowVolumeExpansion")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                        .to_string()
                ),
                age(v, now),
            ]
        }
        ("autoscaling", "HorizontalPodAutoscaler") => hpa(v, now),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            let pick = |kind: &str| -> String {
                arr(v, "/subjects")
                    .iter()
                    .filter(|x| s(x, "/kind") == kind)
                    .map(|x| {
                        if kind == "ServiceAccount" {
                            format!("{}/{}", s(x, "/namespace"), s(x, "/name"))
                        } else {
                            s(x, "/name").to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            vec![
                name,
                json!(format!("{}/{}", s(v, "/roleRef/kind"), s(v, "/roleRef/name"))),
                age(v, now),
                json!(pick("User")),
                json!(pick("Group")),
                json!(pick("ServiceAccount")),
            ]
        }
        ("tekton.dev", "PipelineRun" | "TaskRun") => {
            let cond = condition(v, "Succeeded");
            vec![
                name,
                json!(cond.map(|c| s(c, "/status")).unwrap_or("")),
                json!(cond.map(|c| s(c, "/reason")).unwrap_or("")),
                date_cell(v, "/status/startTime", now),
                date_cell(v, "/status/completionTime", now),
            ]
        }
        ("triggers.tekton.dev", "EventListener") => {
            let avail = condition(v, "Available");
            let ready = condition(v, "Ready");
            vec![
                name,
                json!(s(v, "/status/address/url")),
                json!(avail.map(|c| s(c, "/status")).unwrap_or("")),
                json!(avail.map(|c| s(c, "/reason")).unwrap_or("")),
                json!(ready.map(|c| s(c, "/status")).unwrap_or("")),
                json!(ready.map(|c| s(c, "/reason")).unwrap_or("")),
            ]
        }
        _ if builtin_columns(res).len() == 2 && builtin_columns(res)[1].name == "Age" => vec![name, age(v, now)],
        _ => vec![name, json!(s(v, "/metadata/creationTimestamp"))],
    }
}

pub(super) fn non_empty<'a>(x: &'a str, default: &'a str) -> &'a str {
    if x.is_empty() { default } else { x }
}

pub(super) fn unset(x: &str) -> &str {
    non_empty(x, "<unset>")
}

pub(super) fn condition<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    arr(v, "/status/conditions").iter().find(|c| s(c, "/type") == kind)
}

/// A custom resource's `date` column: its age, or nothing.
pub(super) fn date_cell(v: &Value, ptr: &str, now: i64) -> Value {
    match v.at(ptr).and_then(Value::as_str) {
        Some(t) => json!(since(Some(t), now)),
        None => Value::Null,
    }
}

pub(super) fn access_modes(modes: &[Value]) -> String {
    let short = |m: &str| match m {
        "ReadWriteOnce" => "RWO",
        "ReadOnlyMany" => "ROX",
        "ReadWriteMany" => "RWX",
        "ReadWriteOncePod" => "RWOP",
        _ => "",
    };
    let mut out: Vec<&str> = Vec::new();
    for want in ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"] {
        if modes.iter().any(|m| m.as_str() == Some(want)) {
            out.push(short(want));
        }
    }
    out.join(",")
}
