//! One release on one cluster: its revisions read from Helm's Secrets, a
//! new revision recorded, applied, and recorded again with how it went.

use super::*;

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

impl Desired {
    /// A chart version of the catalogs as Helm rendered it with these values.
    pub(crate) fn rendered(
        found: &Found,
        r: crate::helm::Rendered,
        values: &Value,
        sets: &[String],
        what: &str,
    ) -> Desired {
        Desired {
            chart: ChartMeta {
                name: found.chart.name.clone(),
                version: found.chart.version.clone(),
                app_version: found.chart.app_version.clone(),
            },
            config: with_sets(values, sets),
            manifest: r.manifest,
            objects: r.objects,
            description: what.to_string(),
        }
    }
}

/// What a cluster's revisions of a release say before a change.
#[derive(Debug, Default)]
pub(crate) struct Past {
    pub(crate) revisions: Vec<HelmRelease>,
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

pub(crate) async fn past(client: &kube::Client, cluster: &Cluster, ns: &str, name: &str) -> Result<Past, ItemOutcome> {
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
pub(crate) async fn record(
    client: &kube::Client,
    cluster: &Cluster,
    r: &HelmRelease,
    now: &str,
) -> Result<(), kdeck_fleet::Problem> {
    let now = now.to_string();
    let api: Api<Secret> = Api::namespaced(client.clone(), &r.namespace);
    let text = encode(r).map_err(|e| kdeck_fleet::Problem {
        cluster: cluster.name.clone(),
        kind: kdeck_fleet::ProblemKind::Other,
        message: e,
        code: None,
    })?;
    use base64::Engine;
    let name = secret_name(&r.name, r.version);
    // Helm labels a record with when it was made, and when it changed since.
    let unix = |t: Option<&String>| {
        t.and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
            .map(|t| t.unix_timestamp().to_string())
            .unwrap_or_default()
    };
    let created = unix(r.info.last_deployed.as_ref());
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
                "createdAt": created,
                "modifiedAt": unix(Some(&now)),
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
pub(crate) fn marked(o: &Value, name: &str, ns: &str) -> Value {
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
pub(crate) fn identity(o: &Value) -> String {
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
pub(crate) enum Mode {
    /// Install, or upgrade when the release is there (a rerun changes nothing).
    Install,
    Upgrade,
    Rollback,
}

/// Makes a release on one cluster what `desired` says: a new revision
/// recorded pending, its objects applied, the objects the last revision had
/// and this one has not deleted, the revision recorded deployed (or failed,
/// with the reason) and the one before superseded.
pub(crate) async fn release_on(
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
    // The revision that runs: the last deployed one (a failed attempt since
    // does not count; what it applied is pruned against this one).
    let live = past.deployed();
    if mode == Mode::Install
        && let Some(d) = live
        && past.newest().is_some_and(|n| n.version == d.version)
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
    if let Err(p) = record(&client, cluster, &rec, &ex.now()).await {
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
        && let Ok(before) = crate::helm::parse_manifest(&old.manifest)
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
    if let Err(p) = record(&client, cluster, &rec, &ex.now()).await {
        return ItemOutcome::failed(item, p.message, p.code);
    }
    if ok {
        for r in past.revisions.iter().filter(|r| r.info.status == "deployed") {
            let mut s = r.clone();
            s.info.status = "superseded".into();
            if let Err(p) = record(&client, cluster, &s, &ex.now()).await {
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
