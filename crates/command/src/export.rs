//! Exporting apps as plain manifests (what copy would write), and a stored
//! app as a solution to reuse.

use serde_json::{Value, json};

use crate::copy::*;
use crate::{Executor, Failure, cluster_failure, cluster_of, invalid};
use kdeck_model::AppRef;

/// A space's or an app's objects as `kubectl apply -f` takes them: server
/// fields stripped, the Namespace first for a whole space. Secrets only
/// with consent; service-account tokens never.
pub async fn export(ex: &Executor, what: &str, with_secrets: bool) -> Result<Vec<Value>, Failure> {
    let (space, app) = match AppRef::parse("SPACE[/APP]", what) {
        Ok(a) if what.matches('/').count() == 2 => (a.space.clone(), Some(a)),
        _ => (parse_space(what, "SPACE[/APP]")?, None),
    };
    let cluster = cluster_of(ex, &space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let objs = read_space(&client, &cluster, &space.namespace, with_secrets)
        .await
        .map_err(cluster_failure)?;
    if !objs.exists {
        return Err(invalid(format!("space {space} does not exist")));
    }
    let mut out = Vec::new();
    match app {
        Some(a) => {
            let b = bundle(&objs, &a).ok_or_else(|| {
                invalid(format!(
                    "no Deployment or StatefulSet {} in {space}; `kdeck apps list --space {space}` lists them",
                    a.name
                ))
            })?;
            for o in b
                .config_maps
                .into_iter()
                .chain(b.secrets)
                .chain(b.claims)
                .chain([b.workload])
                .chain(b.services)
                .chain(b.ingresses)
            {
                out.push(strip(o));
            }
        }
        None => {
            out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": space.namespace}}));
            for kind in KINDS {
                for o in objs.of(kind) {
                    let name = o["metadata"]["name"].as_str().unwrap_or("");
                    // What the cluster makes in every namespace is not the space's own.
                    if (*kind == "ConfigMap" && name == "kube-root-ca.crt")
                        || (*kind == "Secret" && o["type"] == "kubernetes.io/service-account-token")
                    {
                        continue;
                    }
                    out.push(strip(o.clone()));
                }
            }
        }
    }
    Ok(out)
}
