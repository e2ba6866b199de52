//! Quotas and default limits per space: a ResourceQuota and a LimitRange
//! named `kdeck`, shown as used against hard, and a deploy that would take
//! the space past a quota refused before anything is applied.

use std::collections::BTreeMap;

use kube::api::{Api, DynamicObject, ListParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::apps::resource;
use super::derive::{MANAGED_BY, MANAGED_BY_KDECK};
use super::plan::Plan;
use super::{Applied, Batch, Executor, Failure, FailureKind, ItemOutcome, cluster_failure, cluster_of, invalid};
use kdeck_fleet::describe;
use kdeck_model::validate::{QuantityKind, quantity};
use kdeck_model::{App, SpaceRef};

/// The name of kdeck's ResourceQuota and LimitRange in a space.
pub const NAME: &str = "kdeck";

/// `kdeck spaces quota`: what was asked; unset fields keep what is there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaSpec {
    pub space: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// Default requests and limits of containers that set none (LimitRange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_cpu_limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_memory_limit: Option<String>,
    /// Remove kdeck's quota and defaults from the space.
    #[serde(default)]
    pub off: bool,
}

/// Which quota resource a flag sets, and how its quantity reads.
const HARD: &[(&str, &str, Option<QuantityKind>)] = &[
    ("cpu", "requests.cpu", Some(QuantityKind::Cpu)),
    ("memory", "requests.memory", Some(QuantityKind::Memory)),
    ("pods", "pods", None),
    ("storage", "requests.storage", Some(QuantityKind::Storage)),
];

/// One resource of a space's quotas: used against hard, in the server's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaLine {
    pub quota: String,
    pub resource: String,
    pub used: String,
    pub hard: String,
}

/// A quota resource's value in its base unit (millicores, bytes, objects).
pub fn amount(resource: &str, text: &str) -> Option<u64> {
    let kind = if resource.contains("cpu") {
        QuantityKind::Cpu
    } else if resource.contains("memory") {
        QuantityKind::Memory
    } else if resource.contains("storage") {
        QuantityKind::Storage
    } else {
        return text.trim().parse().ok();
    };
    quantity(resource, text, kind).ok()
}

/// An amount as people read it: `1500m`, `2`, `512Mi`, `3`.
pub fn shown(resource: &str, v: u64) -> String {
    if resource.contains("cpu") {
        return if v.is_multiple_of(1000) {
            (v / 1000).to_string()
        } else {
            format!("{v}m")
        };
    }
    if resource.contains("memory") || resource.contains("storage") {
        for (s, size) in [("Ti", 1u64 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
            if v >= size && v.is_multiple_of(size) {
                return format!("{}{s}", v / size);
            }
        }
    }
    v.to_string()
}

async fn list(ex: &Executor, space: &SpaceRef, kind: &str) -> Result<Vec<DynamicObject>, Failure> {
    let cluster = cluster_of(ex, &space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let Some(ar) = resource("", kind) else {
        return Ok(Vec::new());
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client, &space.namespace, &ar);
    api.list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| cluster_failure(describe(&cluster, &format!("list {}", ar.plural), &e)))
}

/// The requests containers get when they set none: from every LimitRange
/// of the space (`cpu` → `100m`).
pub async fn limit_defaults(ex: &Executor, space: &SpaceRef) -> Result<BTreeMap<String, String>, Failure> {
    let mut out = BTreeMap::new();
    for lr in list(ex, space, "LimitRange").await? {
        for l in lr.data["spec"]["limits"].as_array().into_iter().flatten() {
            if l["type"] != "Container" {
                continue;
            }
            for field in ["default", "defaultRequest"] {
                for (k, v) in l[field].as_object().into_iter().flatten() {
                    if let Some(v) = v.as_str() {
                        out.insert(k.clone(), v.to_string());
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Every quota of a space, resource by resource, as its status says.
pub async fn lines(ex: &Executor, space: &SpaceRef) -> Result<Vec<QuotaLine>, Failure> {
    let mut out = Vec::new();
    for q in list(ex, space, "ResourceQuota").await? {
        let name = q.metadata.name.clone().unwrap_or_default();
        for (k, h) in q.data["spec"]["hard"].as_object().into_iter().flatten() {
            out.push(QuotaLine {
                quota: name.clone(),
                resource: k.clone(),
                used: q.data["status"]["used"][k].as_str().unwrap_or("?").to_string(),
                hard: h.as_str().unwrap_or("").to_string(),
            });
        }
    }
    Ok(out)
}

/// What a space's pods and claims use now, of the quota resources kdeck sets.
async fn usage(ex: &Executor, space: &SpaceRef) -> Result<BTreeMap<&'static str, u64>, Failure> {
    let mut u: BTreeMap<&'static str, u64> = BTreeMap::new();
    for p in list(ex, space, "Pod").await? {
        let phase = p.data["status"]["phase"].as_str().unwrap_or("");
        if p.metadata.deletion_timestamp.is_some() || matches!(phase, "Succeeded" | "Failed") {
            continue;
        }
        *u.entry("pods").or_default() += 1;
        for (k, v) in pod_requests(&p.data["spec"]) {
            *u.entry(k).or_default() += v;
        }
    }
    for c in list(ex, space, "PersistentVolumeClaim").await? {
        if let Some(v) = c.data["spec"]["resources"]["requests"]["storage"]
            .as_str()
            .and_then(|t| amount("requests.storage", t))
        {
            *u.entry("requests.storage").or_default() += v;
        }
    }
    Ok(u)
}

/// The requests of a pod spec, per quota resource (`requests.cpu` → millicores).
fn pod_requests(spec: &Value) -> BTreeMap<&'static str, u64> {
    let mut out = BTreeMap::new();
    for c in spec["containers"].as_array().into_iter().flatten() {
        for (r, key) in [("cpu", "requests.cpu"), ("memory", "requests.memory")] {
            if let Some(v) = c["resources"]["requests"][r].as_str().and_then(|t| amount(key, t)) {
                *out.entry(key).or_default() += v;
            }
        }
    }
    out
}

/// The ResourceQuota and LimitRange a spec asks for, with a warning when
/// the space already uses more than a new limit.
pub async fn quota_plan(ex: &Executor, s: &QuotaSpec) -> Result<Plan, Failure> {
    let space = crate::copy::parse_space(&s.space, "space")?;
    let mut plan = Plan::new(&space.namespace);
    if s.off {
        plan.delete("ResourceQuota", NAME, "quota off");
        plan.delete("LimitRange", NAME, "defaults off");
        return Ok(plan);
    }
    let asked: Vec<(&str, Option<String>)> = vec![
        ("cpu", s.cpu.clone()),
        ("memory", s.memory.clone()),
        ("pods", s.pods.map(|p| p.to_string())),
        ("storage", s.storage.clone()),
    ];
    let defaults: Vec<(&str, &str, &str, &Option<String>)> = vec![
        ("default-cpu", "defaultRequest", "cpu", &s.default_cpu),
        ("default-memory", "defaultRequest", "memory", &s.default_memory),
        ("default-cpu-limit", "default", "cpu", &s.default_cpu_limit),
        ("default-memory-limit", "default", "memory", &s.default_memory_limit),
    ];
    if asked.iter().all(|(_, v)| v.is_none()) && defaults.iter().all(|d| d.3.is_none()) {
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "{space}: say what to bound: --cpu, --memory, --pods, --storage, or --default-cpu and --default-memory for containers that set none"
            ),
        ));
    }
    // Every quantity checked before anything is read or applied.
    let mut hard = serde_json::Map::new();
    for (flag, v) in &asked {
        let Some(v) = v else { continue };
        let Some(&(_, key, kind)) = HARD.iter().find(|h| h.0 == *flag) else {
            continue;
        };
        match kind {
            Some(k) => {
                quantity(&format!("--{flag}"), v, k).map_err(|e| invalid(e.to_string()))?;
            }
            None if v.parse::<u32>().is_err() => {
                return Err(invalid(format!("--{flag} {v:?}: must be a whole number")));
            }
            None => {}
        }
        hard.insert(key.to_string(), json!(v));
    }
    for (flag, _, r, v) in &defaults {
        if let Some(v) = v {
            let kind = if *r == "cpu" {
                QuantityKind::Cpu
            } else {
                QuantityKind::Memory
            };
            quantity(&format!("--{flag}"), v, kind).map_err(|e| invalid(e.to_string()))?;
        }
    }
    let labels = json!({MANAGED_BY: MANAGED_BY_KDECK});
    // Unset fields keep what kdeck's quota and defaults have now.
    let existing = list(ex, &space, "ResourceQuota").await?;
    if !hard.is_empty() {
        let mut merged = existing
            .iter()
            .find(|q| q.metadata.name.as_deref() == Some(NAME))
            .and_then(|q| q.data["spec"]["hard"].as_object().cloned())
            .unwrap_or_default();
        merged.extend(hard);
        let used = usage(ex, &space).await?;
        for (k, h) in &merged {
            let (Some(limit), Some(now)) = (h.as_str().and_then(|t| amount(k, t)), used.get(k.as_str())) else {
                continue;
            };
            if *now > limit {
                plan.notes.push(format!(
                    "{space} already uses {} of {k}, more than the {} asked: what runs stays, new pods are refused until it is under",
                    shown(k, *now),
                    shown(k, limit)
                ));
            }
        }
        plan.apply.push(json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": NAME, "namespace": space.namespace, "labels": labels},
            "spec": {"hard": merged}}));
    }
    if defaults.iter().any(|d| d.3.is_some()) {
        let old = list(ex, &space, "LimitRange").await?;
        let mut item = old
            .iter()
            .find(|l| l.metadata.name.as_deref() == Some(NAME))
            .and_then(|l| {
                l.data["spec"]["limits"]
                    .as_array()?
                    .iter()
                    .find(|x| x["type"] == "Container")
                    .cloned()
            })
            .unwrap_or_else(|| json!({"type": "Container"}));
        for (_, field, r, v) in &defaults {
            if let Some(v) = v {
                item[*field][*r] = json!(v);
            }
        }
        plan.apply.push(json!({"apiVersion": "v1", "kind": "LimitRange",
            "metadata": {"name": NAME, "namespace": space.namespace, "labels": labels},
            "spec": {"limits": [item]}}));
    }
    Ok(plan)
}

pub(crate) async fn set(ex: &Executor, s: &QuotaSpec) -> Result<Applied, Failure> {
    let plan = quota_plan(ex, s).await?;
    let space = crate::copy::parse_space(&s.space, "space")?;
    let cluster = cluster_of(ex, &space.cluster)?;
    let mut items: Vec<ItemOutcome> = plan
        .notes
        .iter()
        .map(|n| ItemOutcome::ok(space.to_string(), format!("warning: {n}")))
        .collect();
    items.extend(plan.run(ex, &cluster).await.0);
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}

/// Refuses a deploy that would take its space past a quota, with the
/// quota's numbers, before anything is applied. The app's own running pods
/// are counted as replaced by the new ones.
pub(crate) async fn check_deploy(
    ex: &Executor,
    client: &kube::Client,
    cluster: &kdeck_model::Cluster,
    app: &App,
    workload: &Value,
) -> Result<(), Failure> {
    let a = &app.app;
    let ns = &a.space.namespace;
    let Some(qr) = resource("", "ResourceQuota") else {
        return Ok(());
    };
    let quotas: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &qr);
    let Ok(quotas) = quotas.list(&ListParams::default()).await else {
        // Not allowed to read quotas: the server will say it at pod creation.
        return Ok(());
    };
    if quotas.items.is_empty() {
        return Ok(());
    }
    let defaults = limit_defaults(ex, &a.space).await.unwrap_or_default();
    let mut per_pod = pod_requests(&workload["spec"]["template"]["spec"]);
    for (r, key) in [("cpu", "requests.cpu"), ("memory", "requests.memory")] {
        if !per_pod.contains_key(key)
            && let Some(v) = defaults.get(r).and_then(|t| amount(key, t))
        {
            per_pod.insert(key, v);
        }
    }
    per_pod.insert("pods", 1);
    let replicas = workload["spec"]["replicas"]
        .as_u64()
        .unwrap_or_else(|| u64::from(app.autoscale.as_ref().map_or(1, |s| s.min)));
    // The app's own pods now, which the new ones replace.
    let Some(pr) = resource("", "Pod") else { return Ok(()) };
    let pods: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &pr);
    let selector = format!("{}={}", crate::derive::NAME, a.name);
    let mut own: BTreeMap<&'static str, u64> = BTreeMap::new();
    match pods.list(&ListParams::default().labels(&selector)).await {
        Ok(l) => {
            for p in l.items.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
                *own.entry("pods").or_default() += 1;
                for (k, v) in pod_requests(&p.data["spec"]) {
                    *own.entry(k).or_default() += v;
                }
            }
        }
        Err(e) => return Err(cluster_failure(describe(cluster, "list pods", &e))),
    }
    for q in &quotas.items {
        let qname = q.metadata.name.clone().unwrap_or_default();
        for (k, h) in q.data["spec"]["hard"].as_object().into_iter().flatten() {
            let key = match k.as_str() {
                "cpu" => "requests.cpu",
                "memory" => "requests.memory",
                "requests.cpu" | "requests.memory" | "pods" => k.as_str(),
                _ => continue,
            };
            let Some(limit) = h.as_str().and_then(|t| amount(k, t)) else {
                continue;
            };
            let Some(each) = per_pod.get(key) else {
                return Err(invalid(format!(
                    "{a}: quota {qname} in {} bounds {k}, and {}'s pods request no {r}: set a request (`kdeck apps edit {a} --{r}-request …`) or space defaults (`kdeck spaces quota {} --default-{r} …`); nothing applied",
                    a.space,
                    a.name,
                    a.space,
                    r = key.trim_start_matches("requests.")
                )));
            };
            let used = q.data["status"]["used"][k]
                .as_str()
                .and_then(|t| amount(k, t))
                .unwrap_or(0);
            let others = used.saturating_sub(own.get(key).copied().unwrap_or(0));
            let wanted = each * replicas;
            if others + wanted > limit {
                return Err(invalid(format!(
                    "{a}: would exceed quota {qname} in {}: {k} {replicas} × {} = {} wanted, {} used by the rest of the space, {} allowed; nothing applied",
                    a.space,
                    shown(key, *each),
                    shown(key, wanted),
                    shown(key, others),
                    shown(key, limit)
                )));
            }
        }
    }
    Ok(())
}
