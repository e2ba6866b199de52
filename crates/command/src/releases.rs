//! Helm releases, read natively from the Secrets Helm keeps them in
//! (`sh.helm.release.v1.NAME.vN`, type `helm.sh/release.v1`: base64 of the
//! gzip'd JSON of the release), on every cluster, the ones helm made too;
//! each release's status gathered from the workloads its manifest holds.

use std::io::Read;

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Executor, Failure, invalid};
use kdeck_fleet::apps::{Pass, each_cluster};
use kdeck_fleet::describe;
use kdeck_model::Cluster;

/// The Secret type Helm stores releases as.
pub const RELEASE_TYPE: &str = "helm.sh/release.v1";

/// A release as Helm records it (the parts kdeck reads and writes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelmRelease {
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    pub version: u32,
    #[serde(default)]
    pub info: Info,
    #[serde(default)]
    pub chart: Option<ChartRecord>,
    /// The values the user gave.
    #[serde(default)]
    pub config: Option<Value>,
    #[serde(default)]
    pub manifest: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    #[serde(default)]
    pub first_deployed: Option<String>,
    #[serde(default)]
    pub last_deployed: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartRecord {
    pub metadata: ChartMeta,
    #[serde(default)]
    pub values: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartMeta {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default, rename = "appVersion")]
    pub app_version: Option<String>,
}

impl HelmRelease {
    /// `CHART-VERSION`, as helm list and helm history name a release's chart.
    pub fn chart_label(&self) -> String {
        self.chart
            .as_ref()
            .map(|c| format!("{}-{}", c.metadata.name, c.metadata.version))
            .unwrap_or_default()
    }
}

/// A release's record from its Secret's `release` key (as the API gives
/// it: already base64-decoded once, so base64 of gzip of JSON).
pub fn decode(record: &[u8]) -> Result<HelmRelease, String> {
    let gz = base64::engine::general_purpose::STANDARD
        .decode(
            record
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect::<Vec<u8>>(),
        )
        .map_err(|e| format!("not base64: {e}"))?;
    let mut json = Vec::new();
    // Helm gzips; very old records are plain JSON.
    if gz.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(&gz[..])
            .take(256 << 20)
            .read_to_end(&mut json)
            .map_err(|e| format!("not gzip: {e}"))?;
    } else {
        json = gz;
    }
    serde_json::from_slice(&json).map_err(|e| format!("not a Helm release: {e}"))
}

/// A release's record as Helm writes it into its Secret (before the API's own base64).
pub fn encode(r: &HelmRelease) -> Result<String, String> {
    use std::io::Write;
    let json = serde_json::to_vec(r).map_err(|e| e.to_string())?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).map_err(|e| e.to_string())?;
    let bytes = gz.finish().map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The release records among Secrets: those of Helm's type that decode,
/// each with its Secret's namespace when the record names none.
fn records(secrets: &[Secret]) -> Vec<HelmRelease> {
    secrets
        .iter()
        .filter(|s| s.type_.as_deref() == Some(RELEASE_TYPE))
        .filter_map(|s| {
            let mut r = decode(&s.data.as_ref()?.get("release")?.0).ok()?;
            if r.namespace.is_empty() {
                r.namespace = s.metadata.namespace.clone().unwrap_or_default();
            }
            Some(r)
        })
        .collect()
}

/// One release on one cluster, as `releases list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseRow {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub chart: String,
    pub version: String,
    pub app_version: String,
    pub revision: u32,
    pub status: String,
    /// Ready of desired over the Deployments and StatefulSets of its manifest.
    pub ready: String,
    pub updated: String,
}

/// Every release on the clusters (the newest revision of each; with `all`,
/// the uninstalled and superseded ones' newest too), with the clusters that
/// could not be read.
pub async fn list(ex: &Executor, clusters: &[Cluster], all: bool) -> Pass<ReleaseRow> {
    let limit = std::time::Duration::from_secs(20);
    each_cluster(ex.gateway(), clusters, limit, |c, client| async move {
        let api: Api<Secret> = Api::all(client.clone());
        let lp = ListParams::default().labels("owner=helm");
        let secrets = api.list(&lp).await.map_err(|e| describe(&c, "list secrets", &e))?;
        // The newest revision of each release.
        let mut newest: std::collections::BTreeMap<(String, String), HelmRelease> = Default::default();
        for r in records(&secrets.items) {
            let key = (r.namespace.clone(), r.name.clone());
            if newest.get(&key).is_none_or(|old| old.version < r.version) {
                newest.insert(key, r);
            }
        }
        let mut rows = Vec::new();
        for r in newest.into_values() {
            if !all
                && !matches!(
                    r.info.status.as_str(),
                    "deployed" | "failed" | "pending-install" | "pending-upgrade" | "pending-rollback"
                )
            {
                continue;
            }
            let ready = workloads(&client, &r).await;
            let meta = r.chart.as_ref().map(|c| &c.metadata);
            rows.push(ReleaseRow {
                cluster: c.name.clone(),
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                chart: meta.map(|m| m.name.clone()).unwrap_or_default(),
                version: meta.map(|m| m.version.clone()).unwrap_or_default(),
                app_version: meta.and_then(|m| m.app_version.clone()).unwrap_or_default(),
                revision: r.version,
                status: r.info.status.clone(),
                ready,
                updated: r.info.last_deployed.clone().unwrap_or_default(),
            });
        }
        Ok(rows)
    })
    .await
}

/// Ready of desired over the workloads a release's manifest holds, read
/// from the cluster (`-` when it holds none, `?` when one cannot be read).
async fn workloads(client: &kube::Client, r: &HelmRelease) -> String {
    let Ok(objects) = crate::helm::parse_manifest(&r.manifest) else {
        return "?".into();
    };
    let (mut ready, mut desired, mut any) = (0_i64, 0_i64, false);
    for o in objects {
        let kind = o["kind"].as_str().unwrap_or("");
        if !matches!(kind, "Deployment" | "StatefulSet") {
            continue;
        }
        any = true;
        let ns = o["metadata"]["namespace"].as_str().unwrap_or(&r.namespace).to_string();
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        let Some(ar) = crate::apps::resource("apps/v1", kind) else {
            continue;
        };
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
        match api.get_opt(name).await {
            Ok(Some(live)) => {
                desired += live.data["spec"]["replicas"].as_i64().unwrap_or(1);
                ready += live.data["status"]["readyReplicas"].as_i64().unwrap_or(0);
            }
            Ok(None) => desired += o["spec"]["replicas"].as_i64().unwrap_or(1),
            Err(_) => return "?".into(),
        }
    }
    if any { format!("{ready}/{desired}") } else { "-".into() }
}

/// A release name Helm accepts: a DNS label of at most 53 characters.
pub fn check_name(name: &str) -> Result<(), Failure> {
    kdeck_model::validate::dns_label("release name", name).map_err(|e| invalid(e.to_string()))?;
    if name.len() > 53 {
        return Err(invalid(format!(
            "release name {name:?} is longer than Helm's 53 characters"
        )));
    }
    Ok(())
}

/// Every revision of one release (`CLUSTER/NAMESPACE/NAME`), oldest first.
pub async fn history(ex: &Executor, target: &str) -> Result<Vec<HelmRelease>, Failure> {
    let a = kdeck_model::AppRef::parse("release", target).map_err(|e| {
        Failure::new(
            super::FailureKind::Usage,
            format!("{e}; a release is CLUSTER/NAMESPACE/NAME"),
        )
    })?;
    let cluster = super::cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(super::cluster_failure)?;
    let api: Api<Secret> = Api::namespaced(client, &a.space.namespace);
    let lp = ListParams::default().labels(&format!("owner=helm,name={}", a.name));
    let secrets = api
        .list(&lp)
        .await
        .map_err(|e| super::cluster_failure(describe(&cluster, "list secrets", &e)))?;
    let mut out = records(&secrets.items);
    if out.is_empty() {
        return Err(invalid(format!(
            "no release {} in {} (`kdeck releases list` shows them)",
            a.name, a.space
        )));
    }
    out.sort_by_key(|r| r.version);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_record_reads_back_as_helm_wrote_it() {
        let r = HelmRelease {
            name: "shop".into(),
            namespace: "shop-prod".into(),
            version: 2,
            info: Info {
                status: "deployed".into(),
                ..Default::default()
            },
            chart: Some(ChartRecord {
                metadata: ChartMeta {
                    name: "web".into(),
                    version: "1.0.0".into(),
                    app_version: Some("1.27".into()),
                },
                values: None,
            }),
            config: Some(serde_json::json!({"replicas": 2})),
            manifest: "---\\nkind: ConfigMap\\n".into(),
        };
        let text = encode(&r).unwrap();
        assert_eq!(decode(text.as_bytes()).unwrap(), r);
        assert!(decode(b"!!!").unwrap_err().starts_with("not base64"));
    }
}
