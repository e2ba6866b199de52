//! One-off reads for the YAML and describe views: the object from its
//! cluster, server fields stripped, and its recent events.

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::state::{FetchKind, ObjectRef};
use crate::clock::age;

/// Reads the object as JSON, managedFields stripped.
pub async fn read_object(client: kube::Client, o: &ObjectRef) -> Result<Value, String> {
    let (ar, namespaced) =
        crate::fleet::kinds::resource(o.kind).ok_or_else(|| format!("kdeck cannot show a {}", o.kind))?;
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(client, &o.namespace, &ar)
    } else {
        Api::all_with(client, &ar)
    };
    let mut obj = api.get(&o.name).await.map_err(|e| match &e {
        kube::Error::Api(s) => format!("{} ({} {})", s.message, s.code, s.reason),
        other => other.to_string(),
    })?;
    obj.metadata.managed_fields = None;
    let mut v = serde_json::to_value(&obj).map_err(|e| e.to_string())?;
    if v.get("apiVersion").is_none() {
        v["apiVersion"] = Value::String(ar.api_version.clone());
        v["kind"] = Value::String(ar.kind.clone());
    }
    Ok(v)
}

/// Reads the object and renders it as YAML or a description.
pub async fn fetch(
    client: kube::Client,
    what: FetchKind,
    o: &ObjectRef,
    now: time::OffsetDateTime,
) -> Result<Vec<String>, String> {
    let v = read_object(client.clone(), o).await?;
    let namespaced = crate::fleet::kinds::resource(o.kind).is_some_and(|r| r.1);
    match what {
        FetchKind::Yaml => {
            let text = serde_saphyr::to_string(&v).map_err(|e| e.to_string())?;
            Ok(text.lines().map(str::to_string).collect())
        }
        FetchKind::Describe => {
            let events: Vec<Event> = if namespaced {
                let api: Api<Event> = Api::namespaced(client, &o.namespace);
                match api.list(&ListParams::default()).await {
                    Ok(l) => l
                        .items
                        .into_iter()
                        .filter(|e| e.involved_object.name.as_deref() == Some(o.name.as_str()))
                        .collect(),
                    Err(_) => Vec::new(),
                }
            } else {
                Vec::new()
            };
            Ok(describe(&v, o, &events, now))
        }
    }
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// A kubectl-describe-like summary of any object: what it is, its labels,
/// its replicas and containers, its conditions, and its events.
pub fn describe(v: &Value, o: &ObjectRef, events: &[Event], now: time::OffsetDateTime) -> Vec<String> {
    let mut out = vec![
        format!("Name:         {}", o.name),
        format!("Space:        {}/{}", o.cluster, o.namespace),
        format!("Kind:         {}", o.kind),
        format!(
            "Created:      {} ({} ago)",
            s(v, "/metadata/creationTimestamp"),
            age(s(v, "/metadata/creationTimestamp"), now)
        ),
    ];
    let labels = v
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, x)| format!("{k}={}", x.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    out.push(format!(
        "Labels:       {}",
        if labels.is_empty() { "<none>" } else { &labels }
    ));
    if let Some(r) = v.pointer("/spec/replicas").and_then(Value::as_i64) {
        let st = |k: &str| v.pointer(&format!("/status/{k}")).and_then(Value::as_i64).unwrap_or(0);
        out.push(format!(
            "Replicas:     {r} desired | {} updated | {} ready | {} available",
            st("updatedReplicas"),
            st("readyReplicas"),
            st("availableReplicas")
        ));
    }
    let phase = s(v, "/status/phase");
    if !phase.is_empty() {
        out.push(format!("Status:       {phase}"));
    }
    let containers = v
        .pointer("/spec/template/spec/containers")
        .or_else(|| v.pointer("/spec/containers"))
        .and_then(Value::as_array);
    if let Some(cs) = containers {
        out.push("Containers:".into());
        for c in cs {
            out.push(format!("  {}  {}", s(c, "/name"), s(c, "/image")));
        }
    }
    if let Some(rules) = v.pointer("/spec/rules").and_then(Value::as_array) {
        out.push("Rules:".into());
        for r in rules {
            for p in r.pointer("/http/paths").and_then(Value::as_array).into_iter().flatten() {
                out.push(format!(
                    "  {}{} -> {}:{}",
                    s(r, "/host"),
                    s(p, "/path"),
                    s(p, "/backend/service/name"),
                    p.pointer("/backend/service/port/number")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                ));
            }
        }
    }
    if let Some(conds) = v.pointer("/status/conditions").and_then(Value::as_array) {
        out.push("Conditions:".into());
        for c in conds {
            out.push(format!(
                "  {}={}  {}  {}",
                s(c, "/type"),
                s(c, "/status"),
                s(c, "/reason"),
                s(c, "/message")
            ));
        }
    }
    out.push("Events:".into());
    if events.is_empty() {
        out.push("  <none>".into());
    }
    let mut evs: Vec<&Event> = events.iter().collect();
    evs.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_default());
    for e in evs.iter().rev().take(20).rev() {
        let when = e
            .last_timestamp
            .as_ref()
            .map(|t| age(&t.0.to_string(), now))
            .unwrap_or_else(|| "-".into());
        out.push(format!(
            "  {when:>5}  {:<7}  {:<20}  {}",
            e.type_.as_deref().unwrap_or(""),
            e.reason.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or("")
        ));
    }
    out
}
