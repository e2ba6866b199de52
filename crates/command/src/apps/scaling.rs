//! Autoscaling an app: its bounds and targets kept in its settings, and a
//! HorizontalPodAutoscaler (autoscaling/v2) applied beside its workload,
//! which then leaves its replica count to the autoscaler.

use super::*;
use crate::plan::Plan;
use kdeck_model::Autoscale;

/// `kdeck apps autoscale`: what was asked; unset fields keep what the app has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoscaleSpec {
    pub app: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_after: Option<u32>,
    /// Stop autoscaling: the autoscaler goes, the stored replica count is back.
    #[serde(default)]
    pub off: bool,
}

/// The autoscaling an app gets from a spec, or why not.
fn merged(a: &AppRef, old: Option<&Autoscale>, s: &AutoscaleSpec) -> Result<Autoscale, Failure> {
    let mut n = old.cloned().unwrap_or(Autoscale {
        min: 1,
        max: 0,
        cpu: None,
        memory: None,
        scale_down_after: None,
    });
    if let Some(v) = s.min {
        n.min = v;
    }
    if let Some(v) = s.max {
        n.max = v;
    }
    if s.cpu.is_some() {
        n.cpu = s.cpu;
    }
    if s.memory.is_some() {
        n.memory = s.memory;
    }
    if s.scale_down_after.is_some() {
        n.scale_down_after = s.scale_down_after;
    }
    if n.max == 0 {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{a}: give the bounds, e.g. --min 2 --max 10"),
        ));
    }
    if n.min > n.max {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{a}: --min {} is above --max {}; nothing applied", n.min, n.max),
        ));
    }
    if n.cpu.is_none() && n.memory.is_none() {
        // kubectl autoscale's default target.
        n.cpu = Some(80);
    }
    n.validate().map_err(|e| invalid(format!("{a}: {e}")))?;
    Ok(n)
}

/// What autoscaling needs of the pods: a request for each resource it
/// targets, set on the app or given by the space's LimitRange defaults.
async fn check_requests(ex: &Executor, app: &App, n: &Autoscale) -> Result<(), Failure> {
    let needs: Vec<&str> = [
        ("cpu", n.cpu.is_some() && app.resources.cpu_request.is_none()),
        ("memory", n.memory.is_some() && app.resources.memory_request.is_none()),
    ]
    .into_iter()
    .filter(|(_, missing)| *missing)
    .map(|(r, _)| r)
    .collect();
    if needs.is_empty() {
        return Ok(());
    }
    let a = &app.app;
    let defaults = crate::quota::limit_defaults(ex, &a.space).await.unwrap_or_default();
    for r in needs {
        if !defaults.contains_key(r) {
            return Err(invalid(format!(
                "{a}: autoscaling on {r} measures use against the pods' {r} request, and {} requests none; \
                 set one (`kdeck apps edit {a} --{r}-request …`) or give the space defaults (`kdeck spaces quota {} --default-{r} …`)",
                a.name, a.space
            )));
        }
    }
    Ok(())
}

/// The settings after the change, and the plan (None while the app is a draft).
pub async fn autoscale_plan(ex: &Executor, s: &AutoscaleSpec) -> Result<(App, Option<Plan>), Failure> {
    let (settings, planned) = planned(ex, s).await?;
    Ok((settings, planned.map(|(p, _)| p)))
}

/// [`autoscale_plan`], with the digest of what the deployed app becomes.
async fn planned(ex: &Executor, s: &AutoscaleSpec) -> Result<(App, Option<(Plan, String)>), Failure> {
    let a = parse_app(&s.app)?;
    let Some(mut settings) = ex.store().get::<App>(&a.to_string())? else {
        return Err(invalid(format!(
            "{a}: kdeck does not manage {a}; `kdeck apps adopt {a}` first"
        )));
    };
    let mut plan = Plan::new(&a.space.namespace);
    if s.off {
        if settings.autoscale.is_none() {
            return Err(invalid(format!("{a}: {a} does not autoscale")));
        }
        settings.autoscale = None;
        plan.delete("HorizontalPodAutoscaler", &a.name, "autoscaling off");
        plan.notes
            .push(format!("{a} goes back to its stored {} replica(s)", settings.replicas));
    } else {
        let n = merged(&a, settings.autoscale.as_ref(), s)?;
        check_requests(ex, &settings, &n).await?;
        settings.autoscale = Some(n);
    }
    let state = state_of(ex, &a)?;
    if state.deployed_at.is_none() {
        return Ok((settings, None));
    }
    let (_, derived, shared) = plan_with(ex, settings.clone(), &state)?;
    plan.apply.push(derived.workload.clone());
    plan.apply.extend(derived.autoscaler.clone());
    let digest = digest_of(&derived, shared.as_ref());
    Ok((settings, Some((plan, digest))))
}

pub(crate) async fn autoscale(ex: &Executor, s: &AutoscaleSpec) -> Result<Applied, Failure> {
    let (settings, plan) = planned(ex, s).await?;
    let a = settings.app.clone();
    let what = match &settings.autoscale {
        Some(n) => format!(
            "autoscales between {} and {}{}{}",
            n.min,
            n.max,
            n.cpu.map(|c| format!(", {c} % cpu")).unwrap_or_default(),
            n.memory.map(|m| format!(", {m} % memory")).unwrap_or_default()
        ),
        None => format!("autoscaling off; {} replica(s)", settings.replicas),
    };
    let mut batch = Batch::new();
    batch.put(&settings)?;
    let Some((plan, digest)) = plan else {
        return Ok(Applied {
            items: vec![ItemOutcome::ok(
                a.to_string(),
                format!("{what} (stored; deploy to apply)"),
            )],
            batch,
        });
    };
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let (mut items, generation) = plan.run(ex, &cluster).await;
    if items.iter().all(|i| i.ok) {
        let mut state = state_of(ex, &a)?;
        state.deployed_generation = generation;
        state.deployed_digest = Some(digest);
        batch.put(&state)?;
        items.insert(0, ItemOutcome::ok(a.to_string(), what));
    }
    Ok(Applied { items, batch })
}

/// kdeck's autoscaler of an app that no longer autoscales (settings rolled
/// back or edited): deleted, so that it does not fight the replica count.
pub(crate) async fn prune_autoscaler(client: &kube::Client, cluster: &Cluster, a: &AppRef) -> Option<ItemOutcome> {
    let ar = resource("autoscaling/v2", "HorizontalPodAutoscaler")?;
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
    let found = api.get_opt(&a.name).await.ok()??;
    let labels = found.metadata.labels.unwrap_or_default();
    if !kdeck_fleet::gateway::is_managed(&labels) {
        return None;
    }
    let what = format!("horizontalpodautoscaler {}", a.name);
    Some(match api.delete(&a.name, &DeleteParams::default()).await {
        Ok(_) => ItemOutcome::ok(what, "deleted (the app no longer autoscales)"),
        Err(e) => {
            let p = describe(cluster, "delete horizontalpodautoscalers", &e);
            ItemOutcome::failed(what, p.message, p.code)
        }
    })
}
