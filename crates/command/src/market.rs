//! Installing, upgrading, rolling back and uninstalling charts on many
//! clusters at once, as Helm does on one: the chart comes from a catalog,
//! `helm template` renders it, server-side apply applies it, and the
//! release is recorded in Helm's own Secrets, so that `helm list` and
//! `helm history` agree with kdeck. Each cluster is one item of the
//! outcome; a rerun does only what is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, Patch};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::copy::{Event, ItemDone, Progress};
use super::helm::Helm;
use super::releases::{ChartMeta, ChartRecord, HelmRelease, Info, RELEASE_TYPE, decode, encode};
use super::{Applied, Batch, Executor, Failure, FailureKind, ItemOutcome, cluster_of, invalid};
use kdeck_fleet::describe;
use kdeck_model::{Catalog, ChartVersion, Cluster, Placement};

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
    super::releases::check_name(name)?;
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
    versions.sort_by(|a, b| super::catalogs::version_cmp(&b.version, &a.version));
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
        super::files::read_bytes(std::path::Path::new(path), ARCHIVE_LIMIT as u64)
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

/// What a release should become on a cluster: its chart, values and manifest.
#[derive(Debug, Clone)]
pub struct Desired {
    pub chart: ChartMeta,
    pub config: Value,
    pub manifest: String,
    pub objects: Vec<Value>,
    /// Helm's words for the revision: "Install complete", "Rollback to 2".
    pub description: String,
}

/// What a cluster's revisions of a release say before a change.
#[derive(Debug, Default)]
struct Past {
    revisions: Vec<HelmRelease>,
}

impl Past {
    fn newest(&self) -> Option<&HelmRelease> {
        self.revisions.iter().max_by_key(|r| r.version)
    }
    fn deployed(&self) -> Option<&HelmRelease> {
        self.revisions
            .iter()
            .filter(|r| r.info.status == "deployed")
            .max_by_key(|r| r.version)
    }
}

/// The Secret's name of a release's revision.
pub fn secret_name(name: &str, version: u32) -> String {
    format!("sh.helm.release.v1.{name}.v{version}")
}

async fn past(client: &kube::Client, cluster: &Cluster, ns: &str, name: &str) -> Result<Past, ItemOutcome> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().labels(&format!("owner=helm,name={name}"));
    let list = api.list(&lp).await.map_err(|e| {
        let p = describe(cluster, "list secrets", &e);
        ItemOutcome::failed(cluster.name.clone(), p.message, p.code)
    })?;
    let revisions = list
        .items
        .iter()
        .filter(|s| s.type_.as_deref() == Some(RELEASE_TYPE))
        .filter_map(|s| decode(&s.data.as_ref()?.get("release")?.0).ok())
        .collect();
    Ok(Past { revisions })
}

/// Writes a revision's Secret as Helm does (server-side apply, so a rerun
/// writes the same).
async fn record(client: &kube::Client, cluster: &Cluster, r: &HelmRelease) -> Result<(), kdeck_fleet::Problem> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &r.namespace);
    let text = encode(r).map_err(|e| kdeck_fleet::Problem {
        cluster: cluster.name.clone(),
        kind: kdeck_fleet::ProblemKind::Other,
        message: e,
        code: None,
    })?;
    use base64::Engine;
    let name = secret_name(&r.name, r.version);
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": r.namespace,
            "labels": {
                "name": r.name,
                "owner": "helm",
                "status": r.info.status,
                "version": r.version.to_string(),
            },
        },
        "type": RELEASE_TYPE,
        "data": {"release": base64::engine::general_purpose::STANDARD.encode(text)},
    });
    api.patch(&name, &kdeck_fleet::gateway::apply_params(), &Patch::Apply(&body))
        .await
        .map(|_| ())
        .map_err(|e| describe(cluster, "apply secrets", &e))
}

/// Helm's marks on every object of a release, so that helm itself can take it over.
fn marked(o: &Value, name: &str, ns: &str) -> Value {
    let mut o = o.clone();
    if !o["metadata"]["labels"].is_object() {
        o["metadata"]["labels"] = json!({});
    }
    o["metadata"]["labels"]["app.kubernetes.io/managed-by"] = json!("Helm");
    if !o["metadata"]["annotations"].is_object() {
        o["metadata"]["annotations"] = json!({});
    }
    o["metadata"]["annotations"]["meta.helm.sh/release-name"] = json!(name);
    o["metadata"]["annotations"]["meta.helm.sh/release-namespace"] = json!(ns);
    o
}

/// `kind/name` of a manifest object, to compare two manifests.
fn identity(o: &Value) -> String {
    format!(
        "{}/{}/{}/{}",
        o["apiVersion"].as_str().unwrap_or(""),
        o["kind"].as_str().unwrap_or(""),
        o["metadata"]["namespace"].as_str().unwrap_or(""),
        o["metadata"]["name"].as_str().unwrap_or("")
    )
}

/// What kind of change a revision is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Install, or upgrade when the release is there (a rerun changes nothing).
    Install,
    Upgrade,
    Rollback,
}

/// Makes a release on one cluster what `desired` says: a new revision
/// recorded pending, its objects applied, the objects the last revision had
/// and this one has not deleted, the revision recorded deployed (or failed,
/// with the reason) and the one before superseded.
async fn release_on(
    ex: &Executor,
    cluster: &Cluster,
    ns: &str,
    name: &str,
    desired: &Desired,
    mode: Mode,
) -> ItemOutcome {
    let item = cluster.name.clone();
    let client = match ex.gateway().client(cluster).await {
        Ok(c) => c,
        Err(p) => return ItemOutcome::failed(item, p.message, p.code),
    };
    let past = match past(&client, cluster, ns, name).await {
        Ok(p) => p,
        Err(o) => return o,
    };
    if let Some(n) = past.newest()
        && n.info.status != "uninstalled"
        && let Some(other) = n.chart.as_ref().map(|c| &c.metadata.name)
        && *other != desired.chart.name
    {
        return ItemOutcome::failed(
            item,
            format!(
                "release {name} in {ns} is chart {other}, not {}: choose another --name",
                desired.chart.name
            ),
            None,
        );
    }
    let live = past
        .deployed()
        .filter(|_| past.newest().is_some_and(|n| n.info.status == "deployed"));
    if mode == Mode::Install
        && let Some(d) = live
        && d.chart
            .as_ref()
            .is_some_and(|c| c.metadata.version == desired.chart.version)
        && d.config.as_ref().unwrap_or(&Value::Null) == &desired.config
        && d.manifest == desired.manifest
    {
        return ItemOutcome::ok(
            item,
            format!("unchanged: revision {} is {}", d.version, desired.chart.version),
        );
    }
    if matches!(mode, Mode::Upgrade | Mode::Rollback) && past.newest().is_none() {
        return ItemOutcome::failed(item, format!("no release {name} in {ns}"), Some(404));
    }
    if let Err(p) = ex.gateway().create_namespace(cluster, ns).await {
        return ItemOutcome::failed(item, p.message, p.code);
    }
    let version = past.newest().map_or(1, |n| n.version + 1);
    let now = ex.now();
    let first = past
        .revisions
        .iter()
        .min_by_key(|r| r.version)
        .and_then(|r| r.info.first_deployed.clone())
        .unwrap_or_else(|| now.clone());
    let upgrading = live.is_some();
    let mut rec = HelmRelease {
        name: name.to_string(),
        namespace: ns.to_string(),
        version,
        info: Info {
            first_deployed: Some(first),
            last_deployed: Some(now),
            status: match (mode, upgrading) {
                (Mode::Rollback, _) => "pending-rollback",
                (_, true) => "pending-upgrade",
                (_, false) => "pending-install",
            }
            .into(),
            description: format!("{} in progress", desired.description),
            notes: None,
        },
        chart: Some(ChartRecord {
            metadata: desired.chart.clone(),
            values: None,
        }),
        config: Some(desired.config.clone()),
        manifest: desired.manifest.clone(),
    };
    if let Err(p) = record(&client, cluster, &rec).await {
        return ItemOutcome::failed(item, p.message, p.code);
    }
    let mut failures = Vec::new();
    for o in &desired.objects {
        if let Err(p) = ex.gateway().apply_any(cluster, &marked(o, name, ns), ns).await {
            failures.push(p.message);
        }
    }
    // What the revision before had and this one has not goes, as helm upgrade does.
    let mut pruned = 0;
    if failures.is_empty()
        && let Some(old) = live
        && let Ok(before) = super::helm::parse_manifest(&old.manifest)
    {
        let keep: BTreeSet<String> = desired.objects.iter().map(identity).collect();
        for o in before.iter().rev().filter(|o| !keep.contains(&identity(o))) {
            match ex.gateway().delete_any(cluster, o, ns).await {
                Ok(_) => pruned += 1,
                Err(p) => failures.push(p.message),
            }
        }
    }
    let ok = failures.is_empty();
    rec.info.status = if ok { "deployed" } else { "failed" }.into();
    let description = match (mode, upgrading) {
        (Mode::Install, true) => "Upgrade complete".to_string(),
        _ => desired.description.clone(),
    };
    rec.info.description = if ok {
        description
    } else {
        format!("{description} failed: {}", failures.join("; "))
    };
    if let Err(p) = record(&client, cluster, &rec).await {
        return ItemOutcome::failed(item, p.message, p.code);
    }
    if ok {
        for r in past.revisions.iter().filter(|r| r.info.status == "deployed") {
            let mut s = r.clone();
            s.info.status = "superseded".into();
            if let Err(p) = record(&client, cluster, &s).await {
                return ItemOutcome::failed(item, p.message, p.code);
            }
        }
    }
    if !ok {
        return ItemOutcome::failed(
            item,
            format!("revision {version} failed: {}", failures.join("; ")),
            None,
        );
    }
    let did = match (mode, upgrading) {
        (Mode::Rollback, _) => "rolled back",
        (_, true) => "upgraded",
        (_, false) => "installed",
    };
    let pruned = if pruned > 0 {
        format!(", {pruned} object(s) of the last revision deleted")
    } else {
        String::new()
    };
    ItemOutcome::ok(
        item,
        format!(
            "{did}: revision {version}, {} {}, {} object(s){pruned}",
            desired.chart.name,
            desired.chart.version,
            desired.objects.len()
        ),
    )
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

/// Renders a chart version with values: Helm's message when it refuses.
async fn render(
    found: &Found,
    name: &str,
    ns: &str,
    values: &Value,
    sets: &[String],
    what: &str,
) -> Result<Desired, Failure> {
    let helm = Helm::find()?;
    let archive = fetch(found).await?;
    let r = helm.template(name, &archive.path, ns, values, sets).await?;
    Ok(Desired {
        chart: ChartMeta {
            name: found.chart.name.clone(),
            version: found.chart.version.clone(),
            app_version: found.chart.app_version.clone(),
        },
        config: with_sets(values, sets),
        manifest: r.manifest,
        objects: r.objects,
        description: what.to_string(),
    })
}

/// The values a release records: the file's, with `--set` pairs laid over
/// (as Helm types them: numbers, booleans, null, else text).
fn with_sets(values: &Value, sets: &[String]) -> Value {
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

pub(crate) async fn install(ex: &Executor, s: &InstallSpec, progress: &Progress) -> Result<Applied, Failure> {
    install_with(ex, s, progress, CONCURRENCY).await
}

/// [`install`], `limit` clusters at a time (the benchmark compares 1 with many).
pub async fn install_with(
    ex: &Executor,
    s: &InstallSpec,
    progress: &Progress,
    limit: usize,
) -> Result<Applied, Failure> {
    super::releases::check_name(&s.name)?;
    kdeck_model::validate::dns_label("--namespace", &s.namespace).map_err(|e| invalid(e.to_string()))?;
    // A cockpit form sends the selector: it chooses now.
    let clusters = match (&s.selector, s.clusters.is_empty()) {
        (Some(sel), true) => super::clusters::select(ex, sel)?,
        _ => clusters_named(ex, &s.clusters)?,
    };
    let names: Vec<String> = clusters.iter().map(|c| c.name.clone()).collect();
    if let Some(ro) = super::clusters::read_only_among(ex, &names)? {
        return Err(invalid(format!(
            "refused: cluster {ro} is read-only in kdeck; `kdeck clusters set {ro} --writable` lets kdeck change it, or choose other clusters"
        )));
    }
    let found = find_chart(ex, s.catalog.as_deref(), &s.chart, s.version.as_deref())?;
    let desired = render(&found, &s.name, &s.namespace, &s.values, &s.sets, "Install complete").await?;
    let items = each(&clusters, limit, progress, |c| {
        let desired = &desired;
        async move { release_on(ex, &c, &s.namespace, &s.name, desired, Mode::Install).await }
    })
    .await;
    let mut batch = Batch::new();
    if let Some(sel) = &s.selector {
        batch.put(&Placement {
            release: s.name.clone(),
            namespace: s.namespace.clone(),
            catalog: found.catalog.name.clone(),
            chart: found.chart.name.clone(),
            version: found.chart.version.clone(),
            selector: sel.clone(),
            values: s.values.clone(),
            sets: s.sets.clone(),
            updated_at: ex.now(),
        })?;
    }
    Ok(Applied { items, batch })
}

/// The clusters among `names` that have the release, with their history.
async fn histories(
    ex: &Executor,
    names: &[String],
    ns: &str,
    name: &str,
) -> Result<(Vec<Cluster>, BTreeMap<String, Vec<HelmRelease>>, Vec<ItemOutcome>), Failure> {
    let clusters = clusters_named(ex, names)?;
    let mut have = BTreeMap::new();
    let mut problems = Vec::new();
    let reads = clusters.iter().map(|c| async move {
        let client = ex.gateway().client(c).await;
        match client {
            Ok(client) => (c, past(&client, c, ns, name).await),
            Err(p) => (c, Err(ItemOutcome::failed(c.name.clone(), p.message, p.code))),
        }
    });
    let mut with = Vec::new();
    for (c, r) in futures::future::join_all(reads).await {
        match r {
            Ok(p) if !p.revisions.is_empty() => {
                have.insert(c.name.clone(), p.revisions);
                with.push(c.clone());
            }
            Ok(_) => {}
            Err(o) => problems.push(o),
        }
    }
    if with.is_empty() && problems.is_empty() {
        return Err(invalid(format!(
            "no release {name} in {ns} on {}; `kdeck releases list` shows them",
            names.join(", ")
        )));
    }
    Ok((with, have, problems))
}

pub(crate) async fn upgrade(ex: &Executor, s: &UpgradeSpec, progress: &Progress) -> Result<Applied, Failure> {
    let (ns, name) = parse_release(&s.release)?;
    let (clusters, have, mut items) = histories(ex, &s.clusters, &ns, &name).await?;
    // The chart each cluster's release is; one version of it for all.
    let charts: BTreeSet<String> = have
        .values()
        .filter_map(|h| {
            h.iter()
                .max_by_key(|r| r.version)?
                .chart
                .as_ref()
                .map(|c| c.metadata.name.clone())
        })
        .collect();
    let chart = match charts.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => one.clone(),
        [] => return Err(invalid(format!("release {name} in {ns} records no chart"))),
        many => {
            return Err(invalid(format!(
                "release {name} in {ns} is chart {} on different clusters; upgrade them one cluster at a time with --clusters",
                many.join(" and ")
            )));
        }
    };
    let found = find_chart(ex, s.catalog.as_deref(), &chart, s.version.as_deref())?;
    let helm = Helm::find()?;
    let archive = fetch(&found).await?;
    let archive = Arc::new(archive);
    let done = each(&clusters, CONCURRENCY, progress, |c| {
        let (found, helm, archive, have) = (&found, &helm, archive.clone(), &have);
        let (ns, name) = (&ns, &name);
        async move {
            let old = have
                .get(&c.name)
                .and_then(|h| h.iter().max_by_key(|r| r.version))
                .and_then(|r| r.config.clone())
                .unwrap_or_else(|| json!({}));
            let values = match &s.values {
                None => old,
                Some(v) if s.reuse_values => {
                    let mut base = old;
                    kdeck_model::merge::merge_patch(&mut base, v);
                    base
                }
                Some(v) => v.clone(),
            };
            let r = match helm.template(name, &archive.path, ns, &values, &s.sets).await {
                Ok(r) => r,
                Err(f) => return ItemOutcome::failed(c.name.clone(), f.reason, None),
            };
            let desired = Desired {
                chart: ChartMeta {
                    name: found.chart.name.clone(),
                    version: found.chart.version.clone(),
                    app_version: found.chart.app_version.clone(),
                },
                config: with_sets(&values, &s.sets),
                manifest: r.manifest,
                objects: r.objects,
                description: "Upgrade complete".into(),
            };
            release_on(ex, &c, ns, name, &desired, Mode::Upgrade).await
        }
    })
    .await;
    items.extend(done);
    // A placement of the release follows it.
    let mut batch = Batch::new();
    if let Some(mut p) = ex.store().get::<Placement>(&format!("{ns}/{name}"))? {
        p.version = found.chart.version.clone();
        if let Some(v) = &s.values {
            p.values = v.clone();
        }
        if !s.sets.is_empty() {
            p.sets = s.sets.clone();
        }
        p.updated_at = ex.now();
        batch.put(&p)?;
    }
    Ok(Applied { items, batch })
}

pub(crate) async fn rollback(
    ex: &Executor,
    release: &str,
    names: &[String],
    to: u32,
    progress: &Progress,
) -> Result<Applied, Failure> {
    let (ns, name) = parse_release(release)?;
    let (clusters, have, mut items) = histories(ex, names, &ns, &name).await?;
    let done = each(&clusters, CONCURRENCY, progress, |c| {
        let (have, ns, name) = (&have, &ns, &name);
        async move {
            let h = have.get(&c.name).cloned().unwrap_or_default();
            let Some(target) = h.iter().find(|r| r.version == to) else {
                let there: Vec<String> = h.iter().map(|r| r.version.to_string()).collect();
                return ItemOutcome::failed(
                    c.name.clone(),
                    format!("release {name} has no revision {to} here; it has {}", there.join(", ")),
                    None,
                );
            };
            let objects = match super::helm::parse_manifest(&target.manifest) {
                Ok(o) => o,
                Err(f) => return ItemOutcome::failed(c.name.clone(), f.reason, None),
            };
            let desired = Desired {
                chart: target.chart.as_ref().map(|c| c.metadata.clone()).unwrap_or(ChartMeta {
                    name: String::new(),
                    version: String::new(),
                    app_version: None,
                }),
                config: target.config.clone().unwrap_or_else(|| json!({})),
                manifest: target.manifest.clone(),
                objects,
                description: format!("Rollback to {to}"),
            };
            release_on(ex, &c, ns, name, &desired, Mode::Rollback).await
        }
    })
    .await;
    items.extend(done);
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}

pub(crate) async fn uninstall(
    ex: &Executor,
    release: &str,
    names: &[String],
    keep_history: bool,
    yes: bool,
    progress: &Progress,
) -> Result<Applied, Failure> {
    let (ns, name) = parse_release(release)?;
    if !yes {
        return Err(invalid(format!(
            "uninstalling {ns}/{name} deletes its objects on {}; confirm with --yes",
            names.join(", ")
        )));
    }
    let (clusters, have, mut items) = histories(ex, names, &ns, &name).await?;
    let done = each(&clusters, CONCURRENCY, progress, |c| {
        let (have, ns, name) = (&have, &ns, &name);
        async move {
            let h = have.get(&c.name).cloned().unwrap_or_default();
            let Some(newest) = h.iter().max_by_key(|r| r.version).cloned() else {
                return ItemOutcome::ok(c.name.clone(), "not there");
            };
            let mut deleted = 0;
            let mut failures = Vec::new();
            if newest.info.status != "uninstalled"
                && let Ok(objs) = super::helm::parse_manifest(&newest.manifest)
            {
                for o in objs.iter().rev() {
                    match ex.gateway().delete_any(&c, o, ns).await {
                        Ok(true) => deleted += 1,
                        Ok(false) => {}
                        Err(p) => failures.push(p.message),
                    }
                }
            }
            if !failures.is_empty() {
                return ItemOutcome::failed(c.name.clone(), failures.join("; "), None);
            }
            let client = match ex.gateway().client(&c).await {
                Ok(cl) => cl,
                Err(p) => return ItemOutcome::failed(c.name.clone(), p.message, p.code),
            };
            if keep_history {
                let mut u = newest.clone();
                u.info.status = "uninstalled".into();
                u.info.description = "Uninstallation complete".into();
                if let Err(p) = record(&client, &c, &u).await {
                    return ItemOutcome::failed(c.name.clone(), p.message, p.code);
                }
            } else {
                let api: Api<Secret> = Api::namespaced(client, ns);
                for r in &h {
                    match api.delete(&secret_name(name, r.version), &Default::default()).await {
                        Ok(_) => {}
                        Err(kube::Error::Api(s)) if s.code == 404 => {}
                        Err(e) => {
                            let p = describe(&c, "delete secrets", &e);
                            return ItemOutcome::failed(c.name.clone(), p.message, p.code);
                        }
                    }
                }
            }
            ItemOutcome::ok(
                c.name.clone(),
                format!(
                    "uninstalled: {deleted} object(s) deleted{}",
                    if keep_history { ", history kept" } else { "" }
                ),
            )
        }
    })
    .await;
    items.extend(done);
    // A placement of the release goes too, or `placements apply` would bring it back.
    let mut batch = Batch::new();
    if ex.store().get::<Placement>(&format!("{ns}/{name}"))?.is_some() {
        batch.delete::<Placement>(&format!("{ns}/{name}"));
    }
    Ok(Applied { items, batch })
}

/// The clusters a placement's selector chooses now.
pub fn placed_on(ex: &Executor, p: &Placement) -> Result<Vec<String>, Failure> {
    let sel = kdeck_model::selector::Selector::parse(&p.selector)
        .map_err(|e| invalid(format!("placement {}: selector {:?}: {e}", p.key(), p.selector)))?;
    Ok(ex
        .store()
        .list::<Cluster>()?
        .into_iter()
        .filter(|c| sel.matches(&c.labels))
        .map(|c| c.name)
        .collect())
}

/// Each placement (all when none is named) installed on the clusters its
/// selector chooses now: those that have it at its version are unchanged.
pub(crate) async fn apply_placements(ex: &Executor, names: &[String], progress: &Progress) -> Result<Applied, Failure> {
    let all = ex.store().list::<Placement>()?;
    for n in names {
        if !all.iter().any(|p| p.key() == *n) {
            return Err(Failure::new(
                FailureKind::Usage,
                format!("no placement {n:?}; `kdeck placements list` shows them (NAMESPACE/RELEASE)"),
            ));
        }
    }
    let chosen: Vec<&Placement> = all
        .iter()
        .filter(|p| names.is_empty() || names.contains(&p.key()))
        .collect();
    if chosen.is_empty() {
        return Err(Failure::new(
            FailureKind::Usage,
            "no placements yet; `kdeck market install CHART --clusters SELECTOR` saves one",
        ));
    }
    let mut items = Vec::new();
    for p in chosen {
        let clusters = placed_on(ex, p)?;
        if clusters.is_empty() {
            items.push(ItemOutcome::ok(
                p.key(),
                format!("no cluster matches {:?} now; nothing done", p.selector),
            ));
            continue;
        }
        let spec = InstallSpec {
            catalog: Some(p.catalog.clone()),
            chart: p.chart.clone(),
            version: Some(p.version.clone()),
            name: p.release.clone(),
            namespace: p.namespace.clone(),
            clusters,
            selector: None,
            values: p.values.clone(),
            sets: p.sets.clone(),
        };
        match install(ex, &spec, progress).await {
            Ok(a) => items.extend(a.items.into_iter().map(|mut i| {
                i.item = format!("{} on {}", p.key(), i.item);
                i
            })),
            Err(f) => items.push(ItemOutcome::failed(p.key(), f.reason, f.code)),
        }
    }
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}

pub(crate) fn remove_placement(ex: &Executor, name: &str) -> Result<Applied, Failure> {
    if ex.store().get::<Placement>(name)?.is_none() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("no placement {name:?}; `kdeck placements list` shows them (NAMESPACE/RELEASE)"),
        ));
    }
    let mut batch = Batch::new();
    batch.delete::<Placement>(name);
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            format!("placement {name}"),
            "removed; its releases stay where they are",
        )],
        batch,
    })
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
