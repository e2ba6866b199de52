//! Install, upgrade, rollback and uninstall over the chosen clusters, one
//! item per cluster.

use super::*;

use super::revision::*;

/// Renders a chart version with values: Helm's message when it refuses.
pub(crate) async fn render(
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
    Ok(Desired::rendered(found, r, values, sets, what))
}

/// A chart on the chosen clusters, [`CONCURRENCY`] at a time; the
/// selector saved as a placement.
pub(crate) async fn install(ex: &Executor, s: &InstallSpec, progress: &Progress) -> Result<Applied, Failure> {
    crate::releases::check_name(&s.name)?;
    kdeck_model::validate::dns_label("--namespace", &s.namespace).map_err(|e| invalid(e.to_string()))?;
    // A cockpit form sends the selector: it chooses now.
    let clusters = match (&s.selector, s.clusters.is_empty()) {
        (Some(sel), true) => crate::clusters::select(ex, sel)?,
        _ => clusters_named(ex, &s.clusters)?,
    };
    let names: Vec<String> = clusters.iter().map(|c| c.name.clone()).collect();
    if let Some(ro) = crate::clusters::read_only_among(ex, &names)? {
        return Err(invalid(format!(
            "refused: cluster {ro} is read-only in kdeck; `kdeck clusters set {ro} --writable` lets kdeck change it, or choose other clusters"
        )));
    }
    let found = find_chart(ex, s.catalog.as_deref(), &s.chart, s.version.as_deref())?;
    let desired = render(&found, &s.name, &s.namespace, &s.values, &s.sets, "Install complete").await?;
    let items = each(&clusters, CONCURRENCY, progress, |c| {
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
    let done = each(&clusters, CONCURRENCY, progress, |c| {
        let (found, helm, archive, have) = (&found, &helm, &archive, &have);
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
            let desired = Desired::rendered(found, r, &values, &s.sets, "Upgrade complete");
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
            let objects = match crate::helm::parse_manifest(&target.manifest) {
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
                && let Ok(objs) = crate::helm::parse_manifest(&newest.manifest)
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
                if let Err(p) = record(&client, &c, &u, &ex.now()).await {
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
