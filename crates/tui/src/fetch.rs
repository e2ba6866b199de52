//! One-off reads for the YAML and describe views: the object from its
//! cluster, server fields stripped, and its recent events.

use serde_json::Value;

use kdeck_command::{Failure, FailureKind};
use kdeck_fleet::Gateway;
use kdeck_fleet::gateway::EventView;
use kdeck_model::Cluster;

use crate::cockpit::{FetchKind, ObjectRef};
use crate::widgets::{Tone, Toned};
use kdeck_model::clock::age;

/// Reads the object and renders it as YAML or a description.
pub async fn fetch(
    gateway: &Gateway,
    cluster: &Cluster,
    what: FetchKind,
    o: &ObjectRef,
    now: time::OffsetDateTime,
) -> Result<Vec<Toned>, Failure> {
    let v = gateway
        .read(cluster, o.kind, &o.namespace, &o.name)
        .await?
        .ok_or_else(|| {
            Failure::new(
                FailureKind::Usage,
                format!("{} {} is not there (any more)", o.kind.to_ascii_lowercase(), o.name),
            )
        })?;
    let namespaced = kdeck_fleet::kinds::resource(o.kind).is_some_and(|r| r.1);
    match what {
        FetchKind::Yaml => {
            let text = serde_saphyr::to_string(&v).map_err(|e| Failure::new(FailureKind::Invalid, e.to_string()))?;
            // The object's top-level fields are the headings.
            let heads: Vec<String> = v
                .as_object()
                .map(|m| m.keys().map(|k| format!("{k}:")).collect())
                .unwrap_or_default();
            Ok(text
                .lines()
                .map(|l| {
                    let tone = if heads.iter().any(|h| h == l) {
                        Tone::Heading
                    } else {
                        Tone::Text
                    };
                    (tone, l.to_string())
                })
                .collect())
        }
        FetchKind::Describe => {
            let events = if namespaced {
                gateway
                    .events_for(cluster, &o.namespace, &o.name)
                    .await
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            let claims = claims_of(gateway, cluster, &v, &o.namespace).await;
            let mut out = describe(&v, o, &events, now);
            // The volumes go before the conditions and events, as kubectl puts them.
            let at = out
                .iter()
                .position(|(t, l)| *t == Tone::Heading && (l == "Conditions:" || l == "Events:"))
                .unwrap_or(out.len());
            let vols = volumes(&v, &claims);
            out.splice(at..at, vols);
            Ok(out)
        }
    }
}

/// The claims a workload's pods use, read from the cluster: those its pod
/// template names, and for a StatefulSet each pod's from its templates.
async fn claims_of(gateway: &Gateway, cluster: &Cluster, v: &Value, ns: &str) -> Vec<Value> {
    let mut names: Vec<String> = v
        .pointer("/spec/template/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|vol| vol.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let replicas = v.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(1).min(50);
    for t in v
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for i in 0..replicas {
            names.push(format!("{}-{}-{i}", s(t, "/metadata/name"), s(v, "/metadata/name")));
        }
    }
    let mut out = Vec::new();
    for n in names {
        if let Ok(Some(c)) = gateway.read(cluster, "PersistentVolumeClaim", ns, &n).await {
            out.push(c);
        } else {
            out.push(serde_json::json!({"metadata": {"name": n}, "status": {"phase": "Missing"}}));
        }
    }
    out
}

/// The volumes of a workload: each claim with its status (Bound or Pending),
/// size, access mode and storage class; ConfigMaps and Secrets mounted.
pub fn volumes(v: &Value, claims: &[Value]) -> Vec<Toned> {
    let vols = v.pointer("/spec/template/spec/volumes").and_then(Value::as_array);
    let templates = v.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array);
    if vols.is_none_or(|x| x.is_empty()) && templates.is_none_or(|x| x.is_empty()) {
        return Vec::new();
    }
    let mut out = vec![(Tone::Heading, "Volumes:".to_string())];
    for vol in vols.into_iter().flatten() {
        let name = s(vol, "/name");
        let line = if let Some(cm) = vol.pointer("/configMap/name").and_then(Value::as_str) {
            format!("  {name}  ConfigMap {cm}")
        } else if let Some(sec) = vol.pointer("/secret/secretName").and_then(Value::as_str) {
            format!("  {name}  Secret {sec}")
        } else if let Some(claim) = vol.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) {
            format!("  {name}  {}", claim_line(claim, claims))
        } else {
            format!("  {name}")
        };
        out.push((Tone::Text, line));
    }
    for c in claims {
        let n = s(c, "/metadata/name");
        let from_template = templates
            .into_iter()
            .flatten()
            .any(|t| n.starts_with(&format!("{}-", s(t, "/metadata/name"))));
        if from_template {
            out.push((Tone::Text, format!("  {}", claim_line(n, claims))));
        }
    }
    out
}

/// `claim NAME Bound 10Gi RWO standard`, from the claim as read.
fn claim_line(name: &str, claims: &[Value]) -> String {
    let Some(c) = claims.iter().find(|c| s(c, "/metadata/name") == name) else {
        return format!("claim {name}  (not read)");
    };
    let modes: Vec<&str> = c
        .pointer("/spec/accessModes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            other => other,
        })
        .collect();
    let size = c
        .pointer("/status/capacity/storage")
        .or_else(|| c.pointer("/spec/resources/requests/storage"))
        .and_then(Value::as_str)
        .unwrap_or("-");
    let class = s(c, "/spec/storageClassName");
    format!(
        "claim {name}  {}  {size}  {}  {}",
        s(c, "/status/phase"),
        if modes.is_empty() {
            "-".to_string()
        } else {
            modes.join(",")
        },
        if class.is_empty() { "(default class)" } else { class }
    )
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// A kubectl-describe-like summary of any object: what it is, its labels,
/// its replicas and containers, its conditions, and its events.
pub fn describe(v: &Value, o: &ObjectRef, events: &[EventView], now: time::OffsetDateTime) -> Vec<Toned> {
    let mut heads: Vec<usize> = Vec::new();
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
        heads.push(out.len());
        out.push("Containers:".into());
        for c in cs {
            out.push(format!("  {}  {}", s(c, "/name"), s(c, "/image")));
        }
    }
    if let Some(rules) = v.pointer("/spec/rules").and_then(Value::as_array) {
        heads.push(out.len());
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
        heads.push(out.len());
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
    heads.push(out.len());
    out.push("Events:".into());
    if events.is_empty() {
        out.push("  <none>".into());
    }
    let mut evs: Vec<&EventView> = events.iter().collect();
    evs.sort_by_key(|e| e.last.clone());
    for e in evs.iter().rev().take(20).rev() {
        let when = if e.last.is_empty() {
            "-".to_string()
        } else {
            age(&e.last, now)
        };
        out.push(format!("  {when:>5}  {:<7}  {:<20}  {}", e.type_, e.reason, e.message));
    }
    out.into_iter()
        .enumerate()
        .map(|(i, l)| (if heads.contains(&i) { Tone::Heading } else { Tone::Text }, l))
        .collect()
}
