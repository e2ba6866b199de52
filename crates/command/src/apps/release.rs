//! Releases: every deploy that changed what an app runs is recorded as a
//! revision (its settings and routes, who, when, what changed); a rollback
//! deploys an earlier revision's settings and routes and is recorded as the
//! next revision, as Helm counts them. The cluster's own rollout history
//! (a Deployment's ReplicaSets, a StatefulSet's ControllerRevisions) is
//! read beside it.

use super::*;
use kdeck_model::Revision;
use kdeck_model::revision::change;

/// The app's revisions, oldest first.
pub fn revisions(ex: &Executor, a: &AppRef) -> Result<Vec<Revision>, Failure> {
    let mut v = ex.store().list_prefix::<Revision>(&Revision::prefix(a))?;
    v.sort_by_key(|r| r.number);
    Ok(v)
}

/// Records `release` as the next revision unless it is what the last one
/// deployed. Returns the new number.
pub(crate) fn record(ex: &Executor, batch: &mut Batch, release: &deploy::Release<'_>) -> Result<Option<u32>, Failure> {
    let a = &release.settings.app;
    let revs = revisions(ex, a)?;
    let last = revs.last();
    if last.is_some_and(|r| r.same_release(release.settings, release.routes)) {
        return Ok(None);
    }
    let what = change(last, release.settings, release.routes);
    let number = last.map_or(1, |r| r.number + 1);
    batch.put(&Revision {
        app: a.clone(),
        number,
        at: ex.now(),
        actor: ex.actor().to_string(),
        settings: release.settings.clone(),
        routes: release.routes.to_vec(),
        change: match &release.note {
            Some(n) => format!("{n}: {what}"),
            None => what,
        },
    })?;
    Ok(Some(number))
}

/// The revision a rollback goes to: `to`, or the one before the last.
pub fn target(a: &AppRef, revs: &[Revision], to: Option<u32>) -> Result<Revision, Failure> {
    let (Some(first), Some(last)) = (revs.first(), revs.last()) else {
        return Err(invalid(format!(
            "{a} has no revisions yet: a deploy records one (`kdeck apps deploy {a}`)"
        )));
    };
    let n = match to {
        Some(n) => n,
        None => last
            .number
            .checked_sub(1)
            .filter(|n| *n >= first.number)
            .ok_or_else(|| {
                invalid(format!(
                    "{a} has only revision {}: there is nothing to roll back to",
                    last.number
                ))
            })?,
    };
    let found = revs.iter().find(|r| r.number == n).cloned().ok_or_else(|| {
        invalid(format!(
            "{a} has no revision {n}: its revisions are {}..{}; `kdeck apps history {a}` lists them",
            first.number, last.number
        ))
    })?;
    if n == last.number {
        return Err(invalid(format!(
            "revision {n} of {a} is the one deployed now; name an earlier one with --to"
        )));
    }
    Ok(found)
}

/// What a rollback deploys.
pub struct RollbackPlan {
    pub target: Revision,
    /// The revision's settings, today's build settings kept.
    pub settings: App,
    pub routes: Vec<Route>,
    pub derived: Derived,
    /// The space's shared Ingress.
    pub shared: Option<Value>,
}

/// What a rollback to `to` (or the one before the last) would deploy.
pub fn rollback_plan(ex: &Executor, a: &AppRef, to: Option<u32>) -> Result<RollbackPlan, Failure> {
    let current = stored_app(ex, a)?;
    let target = target(a, &revisions(ex, a)?, to)?;
    let mut settings = target.settings.clone();
    settings.build = current.build.clone();
    let state = state_of(ex, a)?;
    let (settings, derived, shared) = plan_with_routes(ex, settings, &state, target.routes.clone())?;
    let routes = target.routes.clone();
    Ok(RollbackPlan {
        target,
        settings,
        routes,
        derived,
        shared,
    })
}

/// Deploys revision `to` (or the one before the last), and keeps its
/// settings and routes as the app's.
pub(crate) async fn rollback(ex: &Executor, app: &str, to: Option<u32>, wait: Option<u64>) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let RollbackPlan {
        target,
        settings,
        routes,
        derived,
        shared,
    } = rollback_plan(ex, &a, to)?;
    let release = deploy::Release {
        settings: &settings,
        routes: &routes,
        note: Some(format!("rollback to revision {}", target.number)),
    };
    let mut done = deploy::deploy_planned(ex, &a, release, &derived, shared.as_ref(), wait).await?;
    if done.items.iter().any(|i| i.ok) {
        done.batch.put(&settings)?;
        for r in routes_of(ex, &a)? {
            if !routes.iter().any(|x| x.key() == r.key()) {
                done.batch.delete::<Route>(&r.key());
            }
        }
        for r in &routes {
            done.batch.put(r)?;
        }
    }
    Ok(done)
}

/// One entry of the cluster's rollout history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterRevision {
    pub revision: u64,
    /// The ReplicaSet or ControllerRevision.
    pub name: String,
    pub images: Vec<String>,
    /// Ready of desired pods (a ReplicaSet's), empty for a ControllerRevision.
    pub pods: String,
    pub created: String,
    /// The one the workload runs now.
    pub current: bool,
}

/// The cluster's rollout history of the app's workload: its ReplicaSets
/// (by `deployment.kubernetes.io/revision`) or ControllerRevisions.
pub async fn cluster_history(ex: &Executor, a: &AppRef, kind: WorkloadKind) -> Result<Vec<ClusterRevision>, Failure> {
    use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let ns = &a.space.namespace;
    let images = |spec: Option<&k8s_openapi::api::core::v1::PodSpec>| -> Vec<String> {
        spec.map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect())
            .unwrap_or_default()
    };
    let created = |m: &kube::api::ObjectMeta| {
        m.creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_default()
    };
    let owned_by = |m: &kube::api::ObjectMeta, uid: &str| {
        m.owner_references
            .as_ref()
            .is_some_and(|o| o.iter().any(|r| r.uid == uid))
    };
    let fail = |verb: &str| {
        let cluster = cluster.clone();
        let verb = verb.to_string();
        move |e: kube::Error| cluster_failure(describe(&cluster, &verb, &e))
    };
    let mut out = Vec::new();
    match kind {
        WorkloadKind::Deployment => {
            let d = Api::<Deployment>::namespaced(client.clone(), ns)
                .get(&a.name)
                .await
                .map_err(fail("get deployments"))?;
            let uid = d.metadata.uid.clone().unwrap_or_default();
            let now = rev_of(&d.metadata);
            let list = Api::<ReplicaSet>::namespaced(client, ns)
                .list(&ListParams::default())
                .await
                .map_err(fail("list replicasets"))?;
            for rs in list.items.iter().filter(|r| owned_by(&r.metadata, &uid)) {
                let status = rs.status.as_ref();
                out.push(ClusterRevision {
                    revision: rev_of(&rs.metadata),
                    name: rs.metadata.name.clone().unwrap_or_default(),
                    images: images(rs.spec.template.as_ref().and_then(|t| t.spec.as_ref())),
                    pods: format!(
                        "{}/{}",
                        status.and_then(|s| s.ready_replicas).unwrap_or(0),
                        rs.spec.replicas.unwrap_or(0)
                    ),
                    created: created(&rs.metadata),
                    current: rev_of(&rs.metadata) == now,
                });
            }
        }
        WorkloadKind::StatefulSet => {
            let s = Api::<StatefulSet>::namespaced(client.clone(), ns)
                .get(&a.name)
                .await
                .map_err(fail("get statefulsets"))?;
            let uid = s.metadata.uid.clone().unwrap_or_default();
            let now = s
                .status
                .as_ref()
                .and_then(|st| st.update_revision.clone())
                .unwrap_or_default();
            let list = Api::<ControllerRevision>::namespaced(client, ns)
                .list(&ListParams::default())
                .await
                .map_err(fail("list controllerrevisions"))?;
            for cr in list.items.iter().filter(|r| owned_by(&r.metadata, &uid)) {
                let name = cr.metadata.name.clone().unwrap_or_default();
                let spec: Option<k8s_openapi::api::core::v1::PodSpec> = cr
                    .data
                    .0
                    .pointer("/spec/template/spec")
                    .cloned()
                    .and_then(|v| serde_json::from_value(v).ok());
                out.push(ClusterRevision {
                    revision: cr.revision.and_then(|r| u64::try_from(r).ok()).unwrap_or(0),
                    images: images(spec.as_ref()),
                    pods: String::new(),
                    created: created(&cr.metadata),
                    current: name == now,
                    name,
                });
            }
        }
    }
    out.sort_by_key(|r| r.revision);
    Ok(out)
}

fn rev_of(m: &kube::api::ObjectMeta) -> u64 {
    m.annotations
        .as_ref()
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
