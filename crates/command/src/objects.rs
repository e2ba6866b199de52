//! Changes to one object as the user wrote them: the `$EDITOR` flow of the
//! cockpit sends a merge patch, with the resourceVersion it started from so
//! that an edit made on a stale copy is refused instead of undoing someone
//! else's change.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::{Applied, Executor, Failure, ItemOutcome, cluster_failure, cluster_of, invalid};
use kdeck_fleet::describe;
use kdeck_store::Batch;

pub(super) async fn patch(
    ex: &Executor,
    cluster: &str,
    namespace: &str,
    kind: &str,
    name: &str,
    patch: &Value,
) -> Result<Applied, Failure> {
    let c = cluster_of(ex, cluster)?;
    let (ar, namespaced) =
        kdeck_fleet::kinds::resource(kind).ok_or_else(|| invalid(format!("kdeck cannot edit a {kind}")))?;
    if !patch.is_object() {
        return Err(invalid("a patch must be a mapping"));
    }
    let client = ex.gateway().client(&c).await.map_err(cluster_failure)?;
    let api: Api<DynamicObject> = if namespaced {
        Api::namespaced_with(client, namespace, &ar)
    } else {
        Api::all_with(client, &ar)
    };
    let what = format!("{} {name}", kind.to_ascii_lowercase());
    let pp = PatchParams {
        field_manager: Some(kdeck_fleet::gateway::FIELD_MANAGER.into()),
        ..Default::default()
    };
    match api.patch(name, &pp, &Patch::Merge(patch)).await {
        Ok(_) => Ok(Applied {
            items: vec![ItemOutcome::ok(what, "patched")],
            batch: Batch::new(),
        }),
        Err(e) => Err(cluster_failure(describe(&c, &format!("patch {}", ar.plural), &e))),
    }
}
