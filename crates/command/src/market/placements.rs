//! Placements: a chart on the clusters a selector chooses, installed again
//! where it matches now.

use super::*;

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
