//! `clusters import` and `clusters remove`: store-only commands.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::kubeconfig::{KubeconfigError, Merged, ResolvedContext};
use super::{Applied, Executor, Failure, FailureKind, ItemOutcome};
use kdeck_model::validate::to_dns_label;
use kdeck_model::{App, Binding, Cluster, Domain, ImportSource, RoleGrant, Route, Space};
use kdeck_store::{Batch, Entity, Store, StoreError};

/// kdeck's name for a context: the part after the last '/' (EKS ARNs end in
/// `cluster/NAME`), made a DNS label.
pub fn name_for_context(context: &str) -> String {
    let tail = context.rsplit('/').next().unwrap_or(context);
    let name = to_dns_label(tail);
    if name.is_empty() {
        let whole = to_dns_label(context);
        if whole.is_empty() { "cluster".into() } else { whole }
    } else {
        name
    }
}

/// `base`, or `base-2`, `base-3`, ... whichever is not taken, within 63 characters.
fn unique_name(base: &str, taken: &BTreeSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| {
            let suffix = format!("-{n}");
            let mut stem = base.to_string();
            stem.truncate(63 - suffix.len());
            format!("{}{suffix}", stem.trim_end_matches('-'))
        })
        .find(|c| !taken.contains(c))
        .unwrap_or_else(|| base.to_string())
}

fn kubeconfig_failure(e: KubeconfigError) -> Failure {
    let kind = if e.is_unreadable() {
        FailureKind::Unreadable
    } else {
        FailureKind::Usage
    };
    Failure::new(kind, e.to_string())
}

pub(super) fn import(ex: &Executor, files: &[String], contexts: &[String], update: bool) -> Result<Applied, Failure> {
    let paths: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    let merged = Merged::load(&paths).map_err(kubeconfig_failure)?;
    let resolved = merged.resolve(contexts).map_err(kubeconfig_failure)?;
    let existing: Vec<Cluster> = ex.store().list()?;
    let mut taken: BTreeSet<String> = existing.iter().map(|c| c.name.clone()).collect();
    let mut duplicates = Vec::new();
    let mut batch = Batch::new();
    let mut items = Vec::new();
    let now = ex.now();
    for r in resolved {
        let ResolvedContext {
            context,
            file,
            server,
            namespace,
            tls,
            proxy_url,
            auth,
        } = r;
        let source = ImportSource {
            file: file.display().to_string(),
            imported_at: now.clone(),
        };
        let prior = existing.iter().find(|c| c.server == server && c.context == context);
        let name = match prior {
            Some(p) if !update => {
                duplicates.push((context.clone(), p.name.clone()));
                continue;
            }
            Some(p) => p.name.clone(),
            None => {
                let n = unique_name(&name_for_context(&context), &taken);
                taken.insert(n.clone());
                n
            }
        };
        let cluster = Cluster {
            name: name.clone(),
            server,
            context: context.clone(),
            namespace,
            tls,
            proxy_url,
            auth,
            source,
            // A refresh of credentials keeps the user's own settings of it.
            read_only: prior.is_some_and(|p| p.read_only),
            prod: prior.and_then(|p| p.prod),
            labels: prior.map(|p| p.labels.clone()).unwrap_or_default(),
        };
        cluster
            .validate()
            .map_err(|e| Failure::new(FailureKind::Invalid, format!("context {context:?}: {e}")))?;
        let message = match prior {
            Some(_) => format!("credentials of cluster {name} refreshed"),
            None => format!("imported as cluster {name}"),
        };
        batch.put(&cluster)?;
        items.push(ItemOutcome::ok(context, message));
    }
    if !duplicates.is_empty() {
        // One line however many: the first few, then how many more.
        const SHOWN: usize = 3;
        let said: Vec<String> = duplicates
            .iter()
            .take(SHOWN)
            .map(|(context, name)| format!("context {context:?} is already imported as cluster {name:?}"))
            .collect();
        let more = match duplicates.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!(" (and {n} more contexts)"),
        };
        return Err(Failure::new(
            FailureKind::Invalid,
            format!(
                "{}{more}; nothing was imported. Pass --update to refresh their credentials, or --context to pick others",
                said.join("; ")
            ),
        ));
    }
    Ok(Applied { items, batch })
}

/// Keys of everything the store holds for one cluster.
struct ClusterFootprint {
    spaces: Vec<String>,
    apps: Vec<String>,
    routes: Vec<String>,
    domains: Vec<String>,
    bindings: Vec<String>,
    roles: Vec<String>,
}

fn keys<E: Entity>(store: &Store, prefix: &str) -> Result<Vec<String>, StoreError> {
    Ok(store.list_prefix::<E>(prefix)?.iter().map(Entity::key).collect())
}

fn footprint(store: &Store, name: &str) -> Result<ClusterFootprint, StoreError> {
    let prefix = format!("{name}/");
    let bindings = store
        .list::<Binding>()?
        .into_iter()
        .filter(|b| b.consumer.space.cluster == name || b.provider.space.cluster == name)
        .map(|b| b.key())
        .collect();
    Ok(ClusterFootprint {
        spaces: keys::<Space>(store, &prefix)?,
        apps: keys::<App>(store, &prefix)?,
        routes: keys::<Route>(store, &prefix)?,
        domains: keys::<Domain>(store, &prefix)?,
        bindings,
        roles: keys::<RoleGrant>(store, &prefix)?,
    })
}

pub(super) fn remove(ex: &Executor, name: &str, yes: bool) -> Result<Applied, Failure> {
    if ex.store().get::<Cluster>(name)?.is_none() {
        let known: Vec<String> = ex.store().list::<Cluster>()?.into_iter().map(|c| c.name).collect();
        let hint = if known.is_empty() {
            "the store has none".to_string()
        } else {
            format!("known: {}", known.join(", "))
        };
        return Err(Failure::new(
            FailureKind::Usage,
            format!("no cluster named {name:?} ({hint})"),
        ));
    }
    let fp = footprint(ex.store(), name)?;
    if !fp.apps.is_empty() && !yes {
        return Err(Failure::new(
            FailureKind::Invalid,
            format!(
                "cluster {name} has {} app(s) in the store that would be forgotten with it; pass --yes to remove it anyway",
                fp.apps.len()
            ),
        ));
    }
    let mut batch = Batch::new();
    batch.delete::<Cluster>(name);
    for k in &fp.spaces {
        batch.delete::<Space>(k);
    }
    for k in &fp.apps {
        batch.delete::<App>(k);
    }
    for k in &fp.routes {
        batch.delete::<Route>(k);
    }
    for k in &fp.domains {
        batch.delete::<Domain>(k);
    }
    for k in &fp.bindings {
        batch.delete::<Binding>(k);
    }
    for k in &fp.roles {
        batch.delete::<RoleGrant>(k);
    }
    let forgotten = [
        (fp.spaces.len(), "space"),
        (fp.apps.len(), "app"),
        (fp.routes.len(), "route"),
        (fp.domains.len(), "domain"),
        (fp.bindings.len(), "binding"),
        (fp.roles.len(), "role grant"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}{}", if *n == 1 { "" } else { "s" }))
    .collect::<Vec<_>>();
    let msg = if forgotten.is_empty() {
        "removed from the store; nothing changed in the cluster".to_string()
    } else {
        format!(
            "removed from the store with {}; nothing changed in the cluster",
            forgotten.join(", ")
        )
    };
    Ok(Applied {
        items: vec![ItemOutcome::ok(name, msg)],
        batch,
    })
}

/// The first of `names` that is stored as read-only.
pub(crate) fn read_only_among(ex: &Executor, names: &[String]) -> Result<Option<String>, Failure> {
    for n in names {
        if ex.store().get::<Cluster>(n)?.is_some_and(|c| c.read_only) {
            return Ok(Some(n.clone()));
        }
    }
    Ok(None)
}

/// `clusters set`: read-only and production, as said.
pub(crate) fn set(
    ex: &Executor,
    name: &str,
    read_only: Option<bool>,
    prod: Option<Option<bool>>,
) -> Result<Applied, Failure> {
    let mut c = crate::cluster_of(ex, name)?;
    if read_only.is_none() && prod.is_none() {
        return Err(crate::invalid(
            "say what to set: --read-only or --writable, --prod, --not-prod or --prod-by-name",
        ));
    }
    if let Some(r) = read_only {
        c.read_only = r;
    }
    if let Some(p) = prod {
        c.prod = p;
    }
    let mut batch = Batch::new();
    batch.put(&c)?;
    let said = format!(
        "{}{}",
        if c.read_only { "read-only" } else { "changeable" },
        if c.is_prod() { ", production" } else { "" }
    );
    Ok(Applied {
        items: vec![ItemOutcome::ok(format!("cluster {name}"), said)],
        batch,
    })
}

/// `clusters label`: labels set (`k=v`) and removed (`k-`), as `kubectl label` spells them.
pub(crate) fn label(ex: &Executor, name: &str, changes: &[String]) -> Result<Applied, Failure> {
    let mut c = crate::cluster_of(ex, name)?;
    if changes.is_empty() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("clusters label {name}: give KEY=VALUE to set or KEY- to remove, e.g. tier=prod region=eu"),
        ));
    }
    let mut said = Vec::new();
    for ch in changes {
        if let Some(k) = ch.strip_suffix('-').filter(|k| !k.contains('=')) {
            kdeck_model::validate::label_key("label key", k).map_err(|e| crate::invalid(e.to_string()))?;
            if c.labels.remove(k).is_none() {
                return Err(crate::invalid(format!(
                    "cluster {name} has no label {k} (its labels: {}); nothing changed",
                    labels_text(&c.labels)
                )));
            }
            said.push(format!("-{k}"));
            continue;
        }
        let Some((k, v)) = ch.split_once('=') else {
            return Err(Failure::new(
                FailureKind::Usage,
                format!("clusters label {name}: {ch:?} is neither KEY=VALUE nor KEY-"),
            ));
        };
        kdeck_model::validate::label_key("label key", k).map_err(|e| crate::invalid(e.to_string()))?;
        kdeck_model::validate::label_value("label value", v).map_err(|e| crate::invalid(e.to_string()))?;
        c.labels.insert(k.to_string(), v.to_string());
        said.push(format!("{k}={v}"));
    }
    let mut batch = Batch::new();
    batch.put(&c)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            format!("cluster {name}"),
            format!("labels {} (now {})", said.join(" "), labels_text(&c.labels)),
        )],
        batch,
    })
}

/// Labels as `k=v,k2=v2`, or `none`.
pub fn labels_text(labels: &std::collections::BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "none".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The stored clusters a selector picks, or why none: a selector that
/// does not read, or one that matches nothing (with the labels in use).
pub fn select(ex: &Executor, selector: &str) -> Result<Vec<Cluster>, Failure> {
    let sel = kdeck_model::selector::Selector::parse(selector)
        .map_err(|e| Failure::new(FailureKind::Usage, e.to_string()))?;
    let all = ex.store().list::<Cluster>()?;
    let picked: Vec<Cluster> = all.iter().filter(|c| sel.matches(&c.labels)).cloned().collect();
    if picked.is_empty() {
        let mut used: BTreeSet<String> = BTreeSet::new();
        for c in &all {
            for (k, v) in &c.labels {
                used.insert(format!("{k}={v}"));
            }
        }
        return Err(Failure::new(
            FailureKind::Usage,
            format!(
                "no cluster matches --clusters {:?} (labels in use: {}); `kdeck clusters label NAME k=v` sets them; nothing done",
                sel.text,
                if used.is_empty() {
                    "none".to_string()
                } else {
                    used.into_iter().collect::<Vec<_>>().join(", ")
                }
            ),
        ));
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_contexts() {
        assert_eq!(name_for_context("kind-dev"), "kind-dev");
        assert_eq!(
            name_for_context("arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu"),
            "prod-eu"
        );
        assert_eq!(
            name_for_context("gke_my-proj_europe-west1-b_shop"),
            "gke-my-proj-europe-west1-b-shop"
        );
        assert_eq!(name_for_context("Admin@Prod"), "admin-prod");
        assert_eq!(name_for_context("///"), "cluster");
    }

    #[test]
    fn unique_names_take_suffixes() {
        let taken: BTreeSet<String> = ["a".into(), "a-2".into()].into();
        assert_eq!(unique_name("a", &taken), "a-3");
        assert_eq!(unique_name("b", &taken), "b");
        let long = "x".repeat(63);
        let taken: BTreeSet<String> = [long.clone()].into();
        let n = unique_name(&long, &taken);
        assert_eq!(n.len(), 63);
        assert!(n.ends_with("-2"));
    }
}
