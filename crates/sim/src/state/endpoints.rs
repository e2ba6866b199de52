//! Kinds derived from others when read. Endpoints and EndpointSlices: what the endpoints and endpointslice
//! controllers keep for each Service with a selector, the addresses of the
//! pods it selects. The simulator computes them when they are read, from
//! the Services and pods stored at that moment, instead of storing two more
//! objects per Service: a fleet of thousands of Services costs nothing until
//! someone looks. Endpoints written by a client (for a Service without a
//! selector) are stored as any object and win over the computed ones.

use super::*;
use crate::ptr::At;

/// A stable id in UUID form for an object derived from another.
fn derived_uid(from: &str, kind: &str) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in from.bytes().chain(kind.bytes()) {
        h = (h ^ u128::from(b)).wrapping_mul(0x0000000001000000000000000000013B);
    }
    let x = format!("{h:032x}");
    format!("{}-{}-{}-{}-{}", &x[..8], &x[8..12], &x[12..16], &x[16..20], &x[20..])
}

/// The pods a Service selects, with whether each is ready.
fn selected<'a>(st: &'a State, svc: &'a Value) -> Vec<&'a Arc<Value>> {
    let Some(sel) = svc
        .at("/spec/selector")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    else {
        return Vec::new();
    };
    let ns = svc.at("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    st.iter_kind(resources::ids::of("Pod"), Some(ns))
        .map(|(_, p)| p)
        .filter(|p| {
            let labels = labels_of(p);
            sel.iter().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
        })
        .filter(|p| {
            p.at("/status/podIP")
                .and_then(Value::as_str)
                .is_some_and(|ip| !ip.is_empty())
        })
        .collect()
}

fn ready(p: &Value) -> bool {
    p.at("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

/// A Service port's target on a pod: a number, or a named container port.
fn target_port(port: &Value, pod: &Value) -> Option<i64> {
    match port.get("targetPort") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(name)) => pod
            .at("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|c| c.get("ports").and_then(Value::as_array).into_iter().flatten())
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|p| p.get("containerPort").and_then(Value::as_i64)),
        _ => port.get("port").and_then(Value::as_i64),
    }
}

/// The newest resourceVersion among the objects something was derived from.
fn newest_rv<'a>(objs: impl Iterator<Item = &'a Value>) -> String {
    objs.filter_map(|o| o.at("/metadata/resourceVersion").and_then(Value::as_str))
        .filter_map(|rv| rv.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        .to_string()
}

fn derived_meta(svc: &Value, kind: &str, name: String, rv: String, labels: Value) -> Value {
    json!({
        "name": name,
        "namespace": svc.at("/metadata/namespace"),
        "uid": derived_uid(svc.at("/metadata/uid").and_then(Value::as_str).unwrap_or(""), kind),
        "resourceVersion": rv,
        "creationTimestamp": svc.at("/metadata/creationTimestamp"),
        "labels": labels,
    })
}

fn endpoints_of(st: &State, svc: &Value) -> Value {
    let pods = selected(st, svc);
    let name = name_of(svc).to_string();
    let labels = svc.at("/metadata/labels").cloned().unwrap_or(json!({}));
    let mut subsets = Vec::new();
    for port in svc.at("/spec/ports").and_then(Value::as_array).into_iter().flatten() {
        let (mut ok, mut not_ready) = (Vec::new(), Vec::new());
        let mut resolved = None;
        for p in pods.iter().filter(|p| p.at("/metadata/deletionTimestamp").is_none()) {
            resolved = resolved.or_else(|| target_port(port, p));
            let addr = json!({"ip": p.at("/status/podIP"), "nodeName": p.at("/spec/nodeName"),
                              "targetRef": {"kind": "Pod", "name": name_of(p), "namespace": p.at("/metadata/namespace"),
                                            "uid": p.at("/metadata/uid")}});
            if ready(p) { ok.push(addr) } else { not_ready.push(addr) }
        }
        if ok.is_empty() && not_ready.is_empty() {
            continue;
        }
        let mut ep_port =
            json!({"port": resolved.unwrap_or(0), "protocol": port.get("protocol").cloned().unwrap_or(json!("TCP"))});
        if let Some(n) = port.get("name").filter(|n| n.as_str().is_some_and(|s| !s.is_empty())) {
            ep_port["name"] = n.clone();
        }
        let mut subset = json!({"ports": [ep_port]});
        if !ok.is_empty() {
            subset["addresses"] = Value::Array(ok);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = Value::Array(not_ready);
        }
        subsets.push(subset);
    }
    let rv = newest_rv(std::iter::once(svc).chain(pods.iter().map(|p| p.as_ref())));
    let mut ep =
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": derived_meta(svc, "Endpoints", name, rv, labels)});
    if !subsets.is_empty() {
        ep["subsets"] = Value::Array(subsets);
    }
    ep
}

fn slice_of(st: &State, svc: &Value) -> Value {
    let pods = selected(st, svc);
    let name = name_of(svc).to_string();
    let mut labels = svc.at("/metadata/labels").cloned().unwrap_or(json!({}));
    labels["kubernetes.io/service-name"] = json!(name);
    labels["endpointslice.kubernetes.io/managed-by"] = json!("endpointslice-controller.k8s.io");
    let ports: Vec<Value> = svc
        .at("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|port| {
            let resolved = pods.first().and_then(|p| target_port(port, p));
            json!({"name": port.get("name").cloned().unwrap_or(json!("")), "port": resolved,
                   "protocol": port.get("protocol").cloned().unwrap_or(json!("TCP"))})
        })
        .collect();
    let endpoints: Vec<Value> = pods
        .iter()
        .map(|p| {
            let terminating = p.at("/metadata/deletionTimestamp").is_some();
            json!({"addresses": [p.at("/status/podIP")],
                   "conditions": {"ready": ready(p) && !terminating, "serving": ready(p), "terminating": terminating},
                   "nodeName": p.at("/spec/nodeName"),
                   "targetRef": {"kind": "Pod", "name": name_of(p), "namespace": p.at("/metadata/namespace"),
                                 "uid": p.at("/metadata/uid")}})
        })
        .collect();
    let rv = newest_rv(std::iter::once(svc).chain(pods.iter().map(|p| p.as_ref())));
    let suffix: String = derived_uid(svc.at("/metadata/uid").and_then(Value::as_str).unwrap_or(""), "slice")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(5)
        .collect();
    let mut meta = derived_meta(svc, "EndpointSlice", format!("{name}-{suffix}"), rv, labels);
    meta["generateName"] = json!(format!("{name}-"));
    meta["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "Service", "name": name,
                                      "uid": svc.at("/metadata/uid"), "controller": true, "blockOwnerDeletion": true}]);
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta,
           "addressType": "IPv4", "endpoints": endpoints, "ports": ports})
}

impl State {
    /// Whether objects of a kind are derived when read (Endpoints,
    /// EndpointSlices, and events.k8s.io Events, which are core Events).
    pub fn is_derived(res: ResId) -> bool {
        let r = resources::get(res);
        matches!(r.kind, "Endpoints" | "EndpointSlice") || (r.group == "events.k8s.io" && r.kind == "Event")
    }

    /// The kinds a derived kind is computed from: a change to one of them
    /// may change it.
    pub fn derived_from(res: ResId) -> Vec<ResId> {
        if resources::get(res).group == "events.k8s.io" {
            vec![resources::ids::of("Event")]
        } else {
            vec![resources::ids::of("Pod"), resources::ids::of("Service")]
        }
    }

    /// The derived objects of a kind in a namespace (or all), in key order,
    /// with those a client stored in their place.
    pub fn derived(&self, res: ResId, ns: Option<&str>) -> Vec<Arc<Value>> {
        let kind = resources::get(res).kind;
        if resources::get(res).group == "events.k8s.io" {
            return self
                .iter_kind(resources::ids::of("Event"), ns)
                .map(|(_, e)| Arc::new(super::events::to_events_v1(e)))
                .collect();
        }
        let svc_res = resources::ids::of("Service");
        let mut out: BTreeMap<(String, String), Arc<Value>> = BTreeMap::new();
        for (_, svc) in self.iter_kind(svc_res, ns) {
            let has_selector = svc
                .at("/spec/selector")
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty());
            if !has_selector {
                continue;
            }
            let obj = if kind == "Endpoints" {
                endpoints_of(self, svc)
            } else {
                slice_of(self, svc)
            };
            let key = (ns_of_value(&obj), name_of(&obj).to_string());
            out.insert(key, Arc::new(obj));
        }
        for ((_, n, name), v) in self.iter_kind(res, ns) {
            out.insert((n.clone(), name.clone()), v.clone());
        }
        out.into_values().collect()
    }

    /// One derived object, or the stored one of that name.
    pub fn derived_one(&self, res: ResId, ns: &str, name: &str) -> Option<Arc<Value>> {
        if let Some(v) = self.get(res, ns, name) {
            return Some(v.clone());
        }
        self.derived(res, Some(ns)).into_iter().find(|v| name_of(v) == name)
    }
}

fn ns_of_value(v: &Value) -> String {
    v.at("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}
