//! An app's volumes as its settings declare them, each claim with what the
//! cluster says of it: Bound or Pending, size, access mode, storage class.

use super::*;

/// One mount of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeRow {
    pub name: String,
    pub path: String,
    /// `claim NAME`, `configmap NAME` or `secret NAME`.
    pub source: String,
    /// The claim's phase (Bound, Pending, Lost), `missing` when there is
    /// none yet, empty for a ConfigMap or Secret.
    pub status: String,
    pub size: String,
    pub access: String,
    pub class: String,
}

/// The claims a mount stands for: one, or one per pod of a StatefulSet.
fn claim_names(app: &App, m: &Mount) -> Vec<String> {
    match &m.source {
        MountSource::VolumeClaim { claim: Some(c), .. } => vec![c.clone()],
        MountSource::VolumeClaim { claim: None, .. } if app.kind == WorkloadKind::StatefulSet => (0..app.replicas)
            .map(|i| format!("{}-{}-{i}", m.name, app.app.name))
            .collect(),
        MountSource::VolumeClaim { claim: None, .. } => vec![format!("{}-{}", app.app.name, m.name)],
        _ => Vec::new(),
    }
}

pub async fn volumes(ex: &Executor, a: &AppRef) -> Result<Vec<VolumeRow>, Failure> {
    let app = stored_app(ex, a)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> = Api::namespaced(client, &a.space.namespace);
    let mut out = Vec::new();
    for m in &app.mounts {
        let row = |source: String| VolumeRow {
            name: m.name.clone(),
            path: m.path.clone(),
            source,
            status: String::new(),
            size: String::new(),
            access: String::new(),
            class: String::new(),
        };
        match &m.source {
            MountSource::ConfigMap { name } => out.push(row(format!("configmap {name}"))),
            MountSource::Secret { name } => out.push(row(format!("secret {name}"))),
            MountSource::VolumeClaim {
                size,
                access_mode,
                storage_class,
                ..
            } => {
                for c in claim_names(&app, m) {
                    let live = claims
                        .get_opt(&c)
                        .await
                        .map_err(|e| cluster_failure(describe(&cluster, "get persistentvolumeclaims", &e)))?;
                    let mut r = row(format!("claim {c}"));
                    match live {
                        None => {
                            r.status = "missing".into();
                            r.size = size.clone();
                            r.access = format!("{access_mode:?}");
                            r.class = storage_class.clone().unwrap_or_default();
                        }
                        Some(pvc) => {
                            let spec = pvc.spec.unwrap_or_default();
                            let status = pvc.status.unwrap_or_default();
                            r.status = status.phase.unwrap_or_default();
                            r.size = status
                                .capacity
                                .and_then(|c| c.get("storage").map(|q| q.0.clone()))
                                .unwrap_or_else(|| size.clone());
                            r.access = spec.access_modes.unwrap_or_default().join(",");
                            r.class = spec.storage_class_name.unwrap_or_default();
                        }
                    }
                    out.push(r);
                }
            }
        }
    }
    Ok(out)
}
