//! Changes to one object as the user wrote them: the `$EDITOR` flow of the
//! cockpit sends a merge patch, with the resourceVersion it started from so
//! that an edit made on a stale copy is refused instead of undoing someone
//! else's change.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::{Applied, Executor, Failure, FailureKind, ItemOutcome};
use crate::fleet::{client_for, describe};
use crate::model::Cluster;
use crate::store::Batch;

pub(super) async fn patch(
    ex: &Executor,
    cluster: &str,
    namespace: &str,
    kind: &str,
    name: &str,
    patch: &Value,
) -> Result<Applied, Failure> {
    let c = ex.store().get::<Cluster>(cluster)?.ok_or_else(|| {
        Failure::new(
            FailureKind::Usage,
            format!("no cluster named {cluster:?}; `kdeck clusters list` shows the stored ones"),
        )
    })?;
    let (ar, namespaced) = crate::fleet::kinds::resource(kind)
        .ok_or_else(|| Failure::new(FailureKind::Invalid, format!("kdeck cannot edit a {kind}")))?;
    if !patch.is_object() {
        return Err(Failure::new(FailureKind::Invalid, "a patch must be a mapping"));
    }
    let client = client_for(&c).await.map_err(|p| Failure {
        kind: FailureKind::Cluster,
        reason: p.message,
        code: p.code,
    })?;
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(client, namespace, &ar)
    } else {
        Api::all_with(client, &ar)
    };
    let what = format!("{} {name}", kind.to_ascii_lowercase());
    let pp = PatchParams {
        field_manager: Some("kdeck".into()),
        ..Default::default()
    };
    match api.patch(name, &pp, &Patch::Merge(patch)).await {
        Ok(_) => Ok(Applied {
            items: vec![ItemOutcome::ok(what, "patched")],
            batch: Batch::new(),
        }),
        Err(e) => {
            let p = describe(&c, &format!("patch {}", ar.plural), &e);
            Err(Failure {
                kind: FailureKind::Cluster,
                reason: p.message,
                code: p.code,
            })
        }
    }
}
