//! Canaries: a new image run beside the app as its own Deployment
//! (`<app>-canary`) whose pods the app's Service also selects, so traffic
//! splits by replicas; where the route's ingress class is ingress-nginx, a
//! canary Service and a weighted canary Ingress send an exact share.
//! Promote gives the app the new image and removes the canary; abort
//! removes it.

use super::*;
use crate::plan::Plan;
use kdeck_model::Canary;

/// On a canary's objects: the app it is a canary of.
pub const CANARY_OF: &str = "kdeck.dev/canary-of";
/// On a weighted canary's Deployment: the share of requests it gets.
pub const CANARY_WEIGHT: &str = "kdeck.dev/canary-weight";
/// On a canary's pods, beside the app's name label.
pub const TRACK: &str = "kdeck.dev/track";
/// The controller of ingress-nginx's classes: it reads the canary annotations.
const NGINX: &str = "k8s.io/ingress-nginx";

/// `kdeck apps canary APP --image IMG [--weight PCT | --replicas N]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanarySpec {
    pub app: String,
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
}

/// The app's ready replicas in its cluster (None: no workload there).
async fn ready_of(client: &kube::Client, cluster: &Cluster, a: &AppRef) -> Result<Option<i64>, Failure> {
    let Some(ar) = resource("apps/v1", "Deployment") else {
        return Ok(None);
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
    match api.get_opt(&a.name).await {
        Ok(d) => Ok(d.map(|d| d.data["status"]["readyReplicas"].as_i64().unwrap_or(0))),
        Err(e) => Err(cluster_failure(describe(cluster, "get deployments", &e))),
    }
}

/// Whether the app's routes are served by ingress-nginx: the class its
/// derived Ingress names, or the cluster's default class.
async fn nginx_serves(client: &kube::Client, ingress: &Value) -> Result<bool, kube::Error> {
    let named = ingress["spec"]["ingressClassName"].as_str().map(str::to_string);
    let api: Api<k8s_openapi::api::networking::v1::IngressClass> = Api::all(client.clone());
    let classes = api.list(&ListParams::default()).await?;
    let class = classes.items.iter().find(|c| match &named {
        Some(n) => c.metadata.name.as_deref() == Some(n.as_str()),
        None => c
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("ingressclass.kubernetes.io/is-default-class"))
            .is_some_and(|v| v == "true"),
    });
    Ok(class
        .and_then(|c| c.spec.as_ref())
        .and_then(|s| s.controller.as_deref())
        == Some(NGINX))
}

fn canary_labels(app: &str, weight: Option<u32>) -> Value {
    let mut l =
        json!({derive::NAME: Canary::name_of(app), CANARY_OF: app, derive::MANAGED_BY: derive::MANAGED_BY_KDECK});
    if let Some(w) = weight {
        l[CANARY_WEIGHT] = json!(w.to_string());
    }
    l
}

/// The canary record and the objects it runs as, or why it cannot run.
pub async fn canary_plan(ex: &Executor, s: &CanarySpec) -> Result<(Canary, Plan), Failure> {
    let a = parse_app(&s.app)?;
    let settings = stored_app(ex, &a)?;
    kdeck_model::validate::image("--image", &s.image).map_err(|e| invalid(e.to_string()))?;
    if settings.kind != WorkloadKind::Deployment {
        return Err(invalid(format!(
            "{a}: canaries run beside Deployments; {a} is a StatefulSet"
        )));
    }
    if s.weight.is_some() && s.replicas.is_some() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{a}: give --weight or --replicas, not both"),
        ));
    }
    if let Some(w) = s.weight
        && !(1..=99).contains(&w)
    {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{a}: --weight {w} must be a percentage between 1 and 99"),
        ));
    }
    if s.replicas == Some(0) {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{a}: --replicas must be at least 1"),
        ));
    }
    let state = state_of(ex, &a)?;
    if state.deployed_at.is_none() {
        return Err(invalid(format!(
            "{a}: {a} is a draft; deploy it first (`kdeck apps deploy {a}`)"
        )));
    }
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    match ready_of(&client, &cluster, &a).await? {
        Some(n) if n > 0 => {}
        _ => {
            return Err(invalid(format!(
                "{a}: {a} has no ready pods; a canary is compared against a running app, so deploy it or wait until it is ready"
            )));
        }
    }
    let (_, derived, _) = plan_with(ex, settings.clone(), &state)?;
    let name = Canary::name_of(&a.name);
    let mut plan = Plan::new(&a.space.namespace);
    let stable = i64::from(settings.replicas.max(1));
    let own_ingress = derived.ingresses.first().cloned();
    let nginx = match &own_ingress {
        Some(i) => nginx_serves(&client, i)
            .await
            .map_err(|e| cluster_failure(describe(&cluster, "list ingressclasses", &e)))?,
        None => false,
    };
    let weighted = s.weight.filter(|_| nginx && derived.service.is_some());
    let replicas = match (s.weight, s.replicas) {
        (_, Some(n)) => n,
        (Some(_), None) if weighted.is_some() => 1,
        (Some(w), None) => {
            // No weighted Ingress: as close to the share as replicas get.
            let n = ((stable as f64) * f64::from(w) / f64::from(100 - w)).round().max(1.0) as u32;
            plan.notes.push(match &own_ingress {
                Some(_) => format!(
                    "the route's ingress class is not ingress-nginx, which alone splits by weight: traffic splits by replicas, {n} canary pod(s) beside {stable} (about {} %)",
                    u64::from(n) * 100 / (u64::from(n) + stable as u64)
                ),
                None => format!(
                    "{a} has no route of its own, so no Ingress can weigh traffic: it splits by replicas, {n} canary pod(s) beside {stable}"
                ),
            });
            n
        }
        (None, None) => 1,
    };
    // The canary workload: the app's, with the new image, its own name and a
    // selector of its own that still matches the app's Service.
    let mut w = derived.workload.clone();
    w["metadata"]["name"] = json!(name);
    w["metadata"]["labels"] = canary_labels(&a.name, weighted);
    w["spec"]["replicas"] = json!(replicas);
    w["spec"]["selector"] = json!({"matchLabels": {derive::NAME: a.name, TRACK: "canary"}});
    w["spec"]["template"]["metadata"]["labels"][TRACK] = json!("canary");
    if let Some(c) = w["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .and_then(|cs| cs.first_mut())
    {
        c["image"] = json!(s.image);
    }
    plan.apply.push(w);
    if let (Some(weight), Some(svc), Some(ing)) = (weighted, &derived.service, &own_ingress) {
        let mut cs = svc.clone();
        cs["metadata"]["name"] = json!(name);
        cs["metadata"]["labels"] = canary_labels(&a.name, None);
        cs["spec"]["selector"] = json!({derive::NAME: a.name, TRACK: "canary"});
        plan.apply.push(cs);
        let mut ci = ing.clone();
        ci["metadata"]["name"] = json!(name);
        ci["metadata"]["labels"] = canary_labels(&a.name, None);
        ci["metadata"]["annotations"] = json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": weight.to_string(),
        });
        for rule in ci["spec"]["rules"].as_array_mut().into_iter().flatten() {
            for p in rule["http"]["paths"].as_array_mut().into_iter().flatten() {
                p["backend"]["service"]["name"] = json!(name);
            }
        }
        // TLS stays with the main Ingress, as ingress-nginx wants of a canary.
        if let Some(m) = ci["spec"].as_object_mut() {
            m.remove("tls");
        }
        plan.apply.push(ci);
    } else if ex
        .store()
        .get::<Canary>(&a.to_string())?
        .is_some_and(|c| c.weight.is_some())
    {
        // A weighted canary becoming one split by replicas: its weighted objects go.
        plan.delete("Ingress", &name, "traffic now split by replicas");
        plan.delete("Service", &name, "traffic now split by replicas");
    }
    let canary = Canary {
        app: a.clone(),
        image: s.image.clone(),
        replicas,
        weight: weighted,
        started_at: ex.now(),
        actor: ex.actor().to_string(),
    };
    Ok((canary, plan))
}

pub(crate) async fn start_canary(ex: &Executor, s: &CanarySpec) -> Result<Applied, Failure> {
    let (canary, plan) = canary_plan(ex, s).await?;
    let cluster = cluster_of(ex, &canary.app.space.cluster)?;
    let mut items: Vec<ItemOutcome> = plan
        .notes
        .iter()
        .map(|n| ItemOutcome::ok(canary.app.to_string(), format!("note: {n}")))
        .collect();
    let (done, _) = plan.run(ex, &cluster).await;
    items.extend(done);
    let mut batch = Batch::new();
    if items.iter().any(|i| i.ok) {
        batch.put(&canary)?;
    }
    Ok(Applied { items, batch })
}

/// The canary's objects, to delete: its Deployment, and its Service and Ingress when weighted.
pub(crate) fn canary_removal(a: &AppRef) -> Plan {
    let name = Canary::name_of(&a.name);
    let mut plan = Plan::new(&a.space.namespace);
    plan.delete("Ingress", &name, "canary ended");
    plan.delete("Service", &name, "canary ended");
    plan.delete("Deployment", &name, "canary ended");
    plan
}

fn stored_canary(ex: &Executor, a: &AppRef) -> Result<Canary, Failure> {
    ex.store().get::<Canary>(&a.to_string())?.ok_or_else(|| {
        invalid(format!(
            "{a}: no canary of {a} runs; start one with `kdeck apps canary {a} --image IMAGE`"
        ))
    })
}

/// What promote or abort would do, for a dry run.
pub fn end_plan(ex: &Executor, app: &str, promote: bool) -> Result<Plan, Failure> {
    let a = parse_app(app)?;
    let c = stored_canary(ex, &a)?;
    let mut plan = canary_removal(&a);
    if promote {
        let mut settings = stored_app(ex, &a)?;
        settings.image = c.image.clone();
        let (_, derived, _) = plan_with(ex, settings, &state_of(ex, &a)?)?;
        plan.apply = derived.objects().into_iter().cloned().collect();
        plan.notes
            .push(format!("{a} takes {} and is recorded as its next revision", c.image));
    }
    Ok(plan)
}

pub(crate) async fn abort_canary(ex: &Executor, app: &str) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    stored_canary(ex, &a)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let (items, _) = canary_removal(&a).run(ex, &cluster).await;
    let mut batch = Batch::new();
    if items.iter().all(|i| i.ok) {
        batch.delete::<Canary>(&a.to_string());
    }
    Ok(Applied { items, batch })
}

/// The app takes the canary's image (a deploy, recorded as a revision),
/// then the canary goes.
pub(crate) async fn promote_canary(ex: &Executor, app: &str, wait: Option<u64>) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let c = stored_canary(ex, &a)?;
    let mut settings = stored_app(ex, &a)?;
    settings.image = c.image.clone();
    let state = state_of(ex, &a)?;
    let (_, derived, shared) = plan_with(ex, settings.clone(), &state)?;
    let routes = routes_of(ex, &a)?;
    let release = Release {
        settings: &settings,
        routes: &routes,
        note: Some(format!("promote canary {}", c.image)),
    };
    let mut applied = deploy_planned(ex, &a, release, &derived, shared.as_ref(), wait).await?;
    if !applied.items.iter().all(|i| i.ok) {
        // The app did not take the new image: the canary stays, for another try or an abort.
        return Ok(applied);
    }
    applied.batch.put(&settings)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let (removed, _) = canary_removal(&a).run(ex, &cluster).await;
    if removed.iter().all(|i| i.ok) {
        applied.batch.delete::<Canary>(&a.to_string());
    }
    applied.items.extend(removed);
    Ok(applied)
}
