//! Installing, upgrading, rolling back and uninstalling charts on many
//! clusters at once, as Helm does on one: the chart comes from a catalog,
//! `helm template` renders it, server-side apply applies it, and the
//! release is recorded in Helm's own Secrets, so that `helm list` and
//! `helm history` agree with kdeck. Each cluster is one item of the
//! outcome; a rerun does only what is missing.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, Patch};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::copy::{Event, ItemDone, Progress};
use crate::helm::Helm;
use crate::releases::{ChartMeta, ChartRecord, HelmRelease, Info, RELEASE_TYPE, decode, encode};
use crate::{Applied, Batch, Executor, Failure, FailureKind, ItemOutcome, cluster_of, invalid};
use kdeck_fleet::describe;
use kdeck_model::{Catalog, ChartVersion, Cluster, Placement};

mod ops;
mod placements;
mod revision;

pub(crate) use ops::{install, rollback, uninstall, upgrade};
pub use placements::placed_on;
pub(crate) use placements::{apply_placements, remove_placement};
pub use revision::{Desired, secret_name};

/// How many clusters are worked on at once.
pub const CONCURRENCY: usize = 16;

/// `market install`: a chart from a catalog on the clusters chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSpec {
    /// The catalog; any that has the chart when not given (one only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    pub chart: String,
    /// The newest when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The release name on every cluster.
    pub name: String,
    pub namespace: String,
    /// The clusters, as the selector chose them when it was asked.
    pub clusters: Vec<String>,
    /// The selector they were chosen by: saved as a placement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Values (a mapping), as `--values` files gave them.
    #[serde(default)]
    pub values: Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<String>,
}

/// `releases upgrade`: another version, or other values, of a release
/// on the clusters that have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeSpec {
    /// `NAMESPACE/NAME`.
    pub release: String,
    pub clusters: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    /// The newest when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// New values; the release's own are kept when None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<String>,
    /// Lay the new values over the release's own instead of replacing them.
    #[serde(default)]
    pub reuse_values: bool,
}

/// A release name and namespace, `NAMESPACE/NAME`.
pub fn parse_release(text: &str) -> Result<(String, String), Failure> {
    let usage = || {
        Failure::new(
            FailureKind::Usage,
            format!("release {text:?}: write it NAMESPACE/NAME (`kdeck releases list` shows them)"),
        )
    };
    let (ns, name) = text.split_once('/').ok_or_else(usage)?;
    if name.contains('/') || ns.is_empty() || name.is_empty() {
        return Err(usage());
    }
    kdeck_model::validate::dns_label("namespace", ns).map_err(|e| invalid(e.to_string()))?;
    crate::releases::check_name(name)?;
    Ok((ns.to_string(), name.to_string()))
}

/// A chart version of the catalogs, and the catalog it is in.
#[derive(Debug, Clone)]
pub struct Found {
    pub catalog: Catalog,
    pub chart: ChartVersion,
}

/// The chart version asked for: in the catalog named, else the one catalog
/// that has the chart; the newest when no version is given.
pub fn find_chart(ex: &Executor, catalog: Option<&str>, chart: &str, version: Option<&str>) -> Result<Found, Failure> {
    let all = ex.store().list::<Catalog>()?;
    if let Some(c) = catalog
        && !all.iter().any(|x| x.name == c)
    {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("no catalog named {c:?}; `kdeck catalogs list` shows them"),
        ));
    }
    let having: Vec<&Catalog> = all
        .iter()
        .filter(|c| catalog.is_none_or(|n| n == c.name))
        .filter(|c| c.charts.iter().any(|v| v.name == chart))
        .collect();
    let cat = match having.as_slice() {
        [] => {
            return Err(invalid(format!(
                "no chart {chart:?} in {}; `kdeck market search {chart}` finds charts, `kdeck catalogs refresh` reads the catalogs again",
                catalog.map_or("any catalog".to_string(), |c| format!("catalog {c}"))
            )));
        }
        [one] => *one,
        many => {
            return Err(Failure::new(
                FailureKind::Usage,
                format!(
                    "chart {chart} is in catalogs {}; say which with --catalog",
                    many.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    };
    let mut versions: Vec<&ChartVersion> = cat.charts.iter().filter(|v| v.name == chart).collect();
    versions.sort_by(|a, b| crate::catalogs::version_cmp(&b.version, &a.version));
    let pick = match version {
        None => versions.first().copied(),
        Some(v) => versions
            .iter()
            .copied()
            .find(|x| x.version == v || x.version == format!("v{v}")),
    };
    let pick = pick.ok_or_else(|| {
        invalid(format!(
            "chart {chart} has no version {} in catalog {}; it has {}",
            version.unwrap_or_default(),
            cat.name,
            versions
                .iter()
                .map(|v| v.version.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok(Found {
        catalog: cat.clone(),
        chart: pick.clone(),
    })
}

/// Where a chart's archive is: its index's URL, relative to the catalog's.
pub fn archive_url(catalog_url: &str, chart: &ChartVersion) -> Result<String, Failure> {
    let first = chart.urls.first().ok_or_else(|| {
        invalid(format!(
            "chart {} {} lists no archive in its index",
            chart.name, chart.version
        ))
    })?;
    if first.contains("://") {
        return Ok(first.clone());
    }
    let base = if catalog_url.ends_with(".yaml") || catalog_url.ends_with(".yml") {
        catalog_url.rsplit_once('/').map_or(catalog_url, |(b, _)| b).to_string()
    } else if let Some(path) = catalog_url.strip_prefix("file://")
        && std::path::Path::new(path).is_file()
    {
        format!(
            "file://{}",
            std::path::Path::new(path)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )
    } else {
        catalog_url.trim_end_matches('/').to_string()
    };
    Ok(format!("{base}/{}", first.trim_start_matches("./")))
}

/// The chart's archive, fetched and checked against the index's digest,
/// in a file of its own that goes when dropped.
pub struct Archive {
    pub path: std::path::PathBuf,
}

impl Drop for Archive {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The largest chart archive read.
const ARCHIVE_LIMIT: usize = 32 << 20;

pub async fn fetch(found: &Found) -> Result<Archive, Failure> {
    let url = archive_url(&found.catalog.url, &found.chart)?;
    let what = format!(
        "chart {} {} of catalog {}",
        found.chart.name, found.chart.version, found.catalog.name
    );
    let bytes = if let Some(path) = url.strip_prefix("file://") {
        crate::files::read_bytes(std::path::Path::new(path), ARCHIVE_LIMIT as u64)
            .map_err(|e| invalid(format!("{what}: {path}: {e}")))?
    } else {
        kdeck_fleet::web::get(&url, ARCHIVE_LIMIT, std::time::Duration::from_secs(60))
            .await
            .map_err(|e| Failure::new(FailureKind::Cluster, format!("{what}: {e}")))?
    };
    if let Some(want) = found.chart.digest.as_deref().filter(|d| !d.is_empty()) {
        let got = sha256_hex(&bytes);
        if !got.eq_ignore_ascii_case(want.trim_start_matches("sha256:")) {
            return Err(invalid(format!(
                "{what}: {url} has digest {got}, the index says {want}; nothing installed (`kdeck catalogs refresh {}` reads the index again)",
                found.catalog.name
            )));
        }
    }
    let path = std::env::temp_dir().join(format!("kdeck-chart-{}-{}.tgz", found.chart.name, uuid::Uuid::new_v4()));
    std::fs::write(&path, &bytes)
        .map_err(|e| invalid(format!("{what}: {}: {}", path.display(), kdeck_model::plain_io(&e))))?;
    Ok(Archive { path })
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `work` on each cluster, `limit` at a time, reporting each as it ends.
pub async fn each<F, Fut>(clusters: &[Cluster], limit: usize, progress: &Progress, work: F) -> Vec<ItemOutcome>
where
    F: Fn(Cluster) -> Fut,
    Fut: std::future::Future<Output = ItemOutcome>,
{
    if let Some(tx) = &progress.tx {
        for c in clusters {
            let _ = tx.send(Event::Planned {
                cluster: c.name.clone(),
                items: 1,
            });
        }
    }
    let work = &work;
    let mut done: Vec<ItemOutcome> = futures::stream::iter(clusters.iter().cloned())
        .map(|c| async move {
            let o = work(c.clone()).await;
            if let Some(tx) = &progress.tx {
                let _ = tx.send(Event::Done(ItemDone {
                    cluster: c.name.clone(),
                    ok: o.ok,
                    item: o.item.clone(),
                    message: o.message.clone(),
                }));
            }
            o
        })
        .buffer_unordered(limit.max(1))
        .collect()
        .await;
    done.sort_by(|a, b| a.item.cmp(&b.item));
    done
}

fn clusters_named(ex: &Executor, names: &[String]) -> Result<Vec<Cluster>, Failure> {
    if names.is_empty() {
        return Err(Failure::new(FailureKind::Usage, "no cluster chosen; nothing done"));
    }
    names.iter().map(|n| cluster_of(ex, n)).collect()
}

/// The values a release records: the file's, with `--set` pairs laid over
/// (as Helm types them: numbers, booleans, null, else text).
pub(crate) fn with_sets(values: &Value, sets: &[String]) -> Value {
    let mut v = if values.is_object() { values.clone() } else { json!({}) };
    for s in sets {
        for part in s.split(',') {
            let Some((path, raw)) = part.split_once('=') else {
                continue;
            };
            let typed = match raw {
                "true" => json!(true),
                "false" => json!(false),
                "null" => Value::Null,
                n if n.parse::<i64>().is_ok() && !(n.starts_with('0') && n.len() > 1) => {
                    json!(n.parse::<i64>().unwrap_or_default())
                }
                t => json!(t),
            };
            let mut at = &mut v;
            let keys: Vec<&str> = path.split('.').collect();
            for k in &keys[..keys.len() - 1] {
                if !at[*k].is_object() {
                    at[*k] = json!({});
                }
                at = &mut at[*k];
            }
            if let Some(last) = keys.last() {
                at[*last] = typed;
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_are_found_beside_the_index() {
        let mut v = ChartVersion {
            name: "web".into(),
            version: "1.0.0".into(),
            app_version: None,
            description: String::new(),
            keywords: vec![],
            deprecated: false,
            urls: vec!["web-1.0.0.tgz".into()],
            digest: None,
            created: None,
        };
        assert_eq!(
            archive_url("http://h/charts", &v).unwrap(),
            "http://h/charts/web-1.0.0.tgz"
        );
        assert_eq!(
            archive_url("http://h/charts/index.yaml", &v).unwrap(),
            "http://h/charts/web-1.0.0.tgz"
        );
        v.urls = vec!["https://cdn/web.tgz".into()];
        assert_eq!(archive_url("http://h/", &v).unwrap(), "https://cdn/web.tgz");
    }

    #[test]
    fn set_pairs_are_typed_as_helm_types_them() {
        let v = with_sets(&json!({"a": {"b": 1}}), &["a.c=true,n=3,s=x".into(), "z=007".into()]);
        assert_eq!(v, json!({"a": {"b": 1, "c": true}, "n": 3, "s": "x", "z": "007"}));
        assert_eq!(
            parse_release("shop/web").unwrap(),
            ("shop".to_string(), "web".to_string())
        );
        assert!(parse_release("web").is_err());
    }
}
