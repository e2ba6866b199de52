//! `spaces create|attach|detach|delete`: a space is one namespace on one
//! cluster. Created spaces get the `managed-by: kdeck` label; attached ones
//! are adopted as they are; detaching only forgets; deleting removes the
//! namespace and everything in it.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams};

use super::{Applied, Executor, Failure, FailureKind, ItemOutcome, cluster_failure};
use kdeck_fleet::{ProblemKind, describe};
use kdeck_model::{Cluster, Space, SpaceOrigin, SpaceRef};
use kdeck_store::Batch;

/// Parses the space and finds its cluster in the store.
fn resolve(ex: &Executor, space: &str) -> Result<(SpaceRef, Cluster), Failure> {
    let sref = SpaceRef::parse("space", space).map_err(|e| Failure::new(FailureKind::Invalid, e.to_string()))?;
    let cluster = ex.store().get::<Cluster>(&sref.cluster)?.ok_or_else(|| {
        Failure::new(
            FailureKind::Usage,
            format!(
                "no cluster named {:?}; `kdeck clusters list` shows the stored ones",
                sref.cluster
            ),
        )
    })?;
    Ok((sref, cluster))
}

async fn namespaces(ex: &Executor, cluster: &Cluster) -> Result<Api<Namespace>, Failure> {
    Ok(Api::all(ex.gateway().client(cluster).await.map_err(cluster_failure)?))
}

fn stored(ex: &Executor, sref: &SpaceRef) -> Result<Option<Space>, Failure> {
    Ok(ex.store().get::<Space>(&sref.to_string())?)
}

fn remember(ex: &Executor, sref: SpaceRef, origin: SpaceOrigin) -> Result<Batch, Failure> {
    let mut b = Batch::new();
    b.put(&Space {
        space: sref,
        origin,
        added_at: ex.now(),
    })?;
    Ok(b)
}

pub(super) async fn create(ex: &Executor, space: &str) -> Result<Applied, Failure> {
    let (sref, cluster) = resolve(ex, space)?;
    if stored(ex, &sref)?.is_some() {
        return Err(Failure::new(FailureKind::Invalid, format!("{sref} is already a space")));
    }
    let created = ex
        .gateway()
        .create_namespace(&cluster, &sref.namespace)
        .await
        .map_err(cluster_failure)?;
    if !created {
        return Err(Failure {
            kind: FailureKind::Cluster,
            reason: format!(
                "namespace {} already exists on cluster {}; `kdeck spaces attach {sref}` adopts it as it is",
                sref.namespace, sref.cluster
            ),
            code: Some(409),
        });
    }
    let batch = remember(ex, sref.clone(), SpaceOrigin::Created)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            sref.to_string(),
            "namespace created, labelled managed-by kdeck",
        )],
        batch,
    })
}

pub(super) async fn attach(ex: &Executor, space: &str) -> Result<Applied, Failure> {
    let (sref, cluster) = resolve(ex, space)?;
    if stored(ex, &sref)?.is_some() {
        return Err(Failure::new(FailureKind::Invalid, format!("{sref} is already a space")));
    }
    let api = namespaces(ex, &cluster).await?;
    let message = match api.get(&sref.namespace).await {
        Ok(_) => "attached as it is; nothing changed in the cluster".to_string(),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            return Err(Failure {
                kind: FailureKind::Cluster,
                reason: format!(
                    "there is no namespace {} on cluster {}; `kdeck spaces create {sref}` makes one",
                    sref.namespace, sref.cluster
                ),
                code: Some(404),
            });
        }
        Err(e) => {
            let p = describe(&cluster, "get namespaces", &e);
            if p.kind != ProblemKind::Forbidden {
                return Err(cluster_failure(p));
            }
            // Restricted users may not read namespaces: attach by name, as given.
            format!(
                "attached by name: this user may not read namespaces on cluster {}",
                sref.cluster
            )
        }
    };
    let batch = remember(ex, sref.clone(), SpaceOrigin::Attached)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(sref.to_string(), message)],
        batch,
    })
}

pub(super) fn detach(ex: &Executor, space: &str) -> Result<Applied, Failure> {
    let sref = SpaceRef::parse("space", space).map_err(|e| Failure::new(FailureKind::Invalid, e.to_string()))?;
    if stored(ex, &sref)?.is_none() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("{sref} is not a stored space; `kdeck spaces list` marks the ones kdeck knows"),
        ));
    }
    let mut batch = Batch::new();
    batch.delete::<Space>(&sref.to_string());
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            sref.to_string(),
            "forgotten; nothing changed in the cluster",
        )],
        batch,
    })
}

pub(super) async fn delete(ex: &Executor, space: &str, yes: bool) -> Result<Applied, Failure> {
    let (sref, cluster) = resolve(ex, space)?;
    if !yes {
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "deleting {sref} removes namespace {} on cluster {} and everything in it; pass --yes to do it",
                sref.namespace, sref.cluster
            ),
        ));
    }
    let api = namespaces(ex, &cluster).await?;
    let message = match api.delete(&sref.namespace, &DeleteParams::default()).await {
        Ok(_) => "namespace deleted (it terminates with everything in it)".to_string(),
        Err(kube::Error::Api(s)) if s.code == 404 => "the namespace was already gone".to_string(),
        Err(e) => return Err(cluster_failure(describe(&cluster, "delete namespaces", &e))),
    };
    let mut batch = Batch::new();
    batch.delete::<Space>(&sref.to_string());
    Ok(Applied {
        items: vec![ItemOutcome::ok(sref.to_string(), message)],
        batch,
    })
}
