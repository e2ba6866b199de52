//! Drift: what differs between an app's stored settings and its cluster.

use super::*;

/// How each of an app's objects compares with the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectDrift {
    pub object: String,
    /// `create` (not in the cluster), `update` (differs) or `unchanged`.
    pub action: &'static str,
    pub changes: Vec<derive::Change>,
}

/// The plan against the cluster: what deploy would create or change.
pub async fn drift(ex: &Executor, a: &AppRef) -> Result<Vec<ObjectDrift>, Failure> {
    let (_, derived, shared) = plan(ex, a)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    drift_of(&cluster, &client, a, &derived, shared.as_ref()).await
}

/// Each derived object against the cluster's.
pub(crate) async fn drift_of(
    cluster: &Cluster,
    client: &kube::Client,
    a: &AppRef,
    derived: &Derived,
    shared: Option<&Value>,
) -> Result<Vec<ObjectDrift>, Failure> {
    let mut out = Vec::new();
    for o in derived.objects().into_iter().chain(shared) {
        let Some(ar) = resource(o["apiVersion"].as_str().unwrap_or(""), o["kind"].as_str().unwrap_or("")) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        let live = api
            .get_opt(name)
            .await
            .map_err(|e| cluster_failure(describe(cluster, "get", &e)))?;
        let object = describe_obj(o);
        out.push(match live {
            None => ObjectDrift {
                object,
                action: "create",
                changes: Vec::new(),
            },
            Some(l) => {
                let lv = serde_json::to_value(&l).unwrap_or(Value::Null);
                let changes = derive::changes(o, &lv);
                ObjectDrift {
                    object,
                    action: if changes.is_empty() { "unchanged" } else { "update" },
                    changes,
                }
            }
        });
    }
    Ok(out)
}
