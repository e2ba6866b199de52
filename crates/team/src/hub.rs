//! The hub's objects: one ConfigMap per shared entity, named from its tree
//! and key, labelled `kdeck.dev/team: settings` and `kdeck.dev/tree`, the
//! entity's JSON in `data.value` as the local store keeps it, and who
//! wrote it when in annotations. Writes carry the resourceVersion last
//! seen here (create when none), so a change made meanwhile is a conflict.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, PostParams, Preconditions};

use super::{HubVersion, Membership, TeamError, shared_tree};
use kdeck_model::Cluster;
use kdeck_store::{Batch, Store};

/// The format of the hub's objects this kdeck writes and reads.
pub const FORMAT: u32 = 1;

pub(crate) const TEAM_LABEL: &str = "kdeck.dev/team";
pub(crate) const TREE_LABEL: &str = "kdeck.dev/tree";
pub(crate) const KEY: &str = "kdeck.dev/key";
pub(crate) const FORMAT_KEY: &str = "kdeck.dev/format";
pub(crate) const BY: &str = "kdeck.dev/by";
pub(crate) const AT: &str = "kdeck.dev/at";

/// A team's hub, reached through the cluster gateway.
#[derive(Clone)]
pub struct Hub {
    pub cluster: Cluster,
    pub namespace: String,
    pub(crate) api: Api<ConfigMap>,
    pub(crate) client: kube::Client,
}

/// FNV-1a: a hash that is the same on every machine and build.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The hub object's name of an entity: readable, and unique by a hash of the key.
pub fn object_name(tree: &str, key: &str) -> String {
    let mut slug = String::new();
    for c in key.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    // At most 63 characters, a DNS label's length, which every API takes.
    let room = 63usize.saturating_sub(tree.len() + 2 + 16);
    let slug: String = slug.trim_matches('-').chars().take(room).collect();
    format!(
        "{tree}-{}-{:016x}",
        slug.trim_end_matches('-'),
        fnv(&format!("{tree}/{key}"))
    )
}

/// One entity as the hub holds it.
#[derive(Debug, Clone)]
pub(crate) struct HubEntity {
    pub tree: &'static str,
    pub key: String,
    pub value: Vec<u8>,
    pub name: String,
    pub resource_version: String,
    pub by: String,
    pub at: String,
}

/// What a hub object is: a shared entity, or why it is passed over.
pub(crate) fn read_object(cm: &ConfigMap) -> Result<HubEntity, String> {
    let name = cm.metadata.name.clone().unwrap_or_default();
    let labels = cm.metadata.labels.clone().unwrap_or_default();
    let ann = cm.metadata.annotations.clone().unwrap_or_default();
    let tree = labels
        .get(TREE_LABEL)
        .and_then(|t| shared_tree(t))
        .ok_or_else(|| format!("{name}: its {TREE_LABEL} label names no shared kind"))?;
    let key = ann
        .get(KEY)
        .cloned()
        .ok_or_else(|| format!("{name}: it has no {KEY} annotation"))?;
    let value = cm
        .data
        .as_ref()
        .and_then(|d| d.get("value"))
        .ok_or_else(|| format!("{name}: it has no data.value"))?;
    crate::sync::check_entity(tree, value.as_bytes()).map_err(|why| format!("{name}: {why}"))?;
    Ok(HubEntity {
        tree,
        key,
        value: value.as_bytes().to_vec(),
        name,
        resource_version: cm.metadata.resource_version.clone().unwrap_or_default(),
        by: ann.get(BY).cloned().unwrap_or_else(|| "someone".into()),
        at: ann.get(AT).cloned().unwrap_or_default(),
    })
}

/// The format an object says it is in (1 when it does not say).
pub(crate) fn format_of(cm: &ConfigMap) -> u32 {
    cm.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(FORMAT_KEY))
        .and_then(|f| f.parse().ok())
        .unwrap_or(1)
}

/// The hub object of an entity.
fn object(tree: &str, key: &str, value: &[u8], by: &str, at: &str, rv: Option<&str>) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(object_name(tree, key));
    cm.metadata.resource_version = rv.map(str::to_string);
    cm.metadata.labels = Some(BTreeMap::from([
        (TEAM_LABEL.to_string(), "settings".to_string()),
        (TREE_LABEL.to_string(), tree.to_string()),
        (
            kdeck_fleet::gateway::MANAGED_BY.to_string(),
            kdeck_fleet::gateway::MANAGED_BY_KDECK.to_string(),
        ),
    ]));
    cm.metadata.annotations = Some(BTreeMap::from([
        (KEY.to_string(), key.to_string()),
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (BY.to_string(), by.to_string()),
        (AT.to_string(), at.to_string()),
    ]));
    cm.data = Some(BTreeMap::from([(
        "value".to_string(),
        String::from_utf8_lossy(value).into_owned(),
    )]));
    cm
}

impl Hub {
    /// The hub of this data dir's team, when it is in one.
    pub async fn of(store: &Store, gateway: &kdeck_fleet::Gateway) -> Result<Option<(Hub, Membership)>, TeamError> {
        let Some(m) = store.get::<Membership>("team")? else {
            return Ok(None);
        };
        Ok(Some((Hub::at(store, gateway, &m.hub, &m.namespace).await?, m)))
    }

    /// The hub on a stored cluster.
    pub async fn at(
        store: &Store,
        gateway: &kdeck_fleet::Gateway,
        cluster: &str,
        namespace: &str,
    ) -> Result<Hub, TeamError> {
        let c = store.get::<Cluster>(cluster)?.ok_or_else(|| {
            TeamError::Usage(format!(
                "no cluster named {cluster:?} is imported here: `kdeck clusters import KUBECONFIG` it first (the hub is one of your clusters)"
            ))
        })?;
        let client = gateway.client(&c).await.map_err(|p| TeamError::Unreachable {
            hub: c.name.clone(),
            reason: p.message,
            since: String::new(),
        })?;
        Ok(Hub {
            api: Api::namespaced(client.clone(), namespace),
            client,
            cluster: c,
            namespace: namespace.to_string(),
        })
    }

    /// A kube error as the team's words: unreachable, forbidden, or else.
    pub(crate) fn said(&self, what: &str, e: kube::Error) -> TeamError {
        let p = kdeck_fleet::describe(&self.cluster, what, &e);
        use kdeck_fleet::ProblemKind as K;
        match p.kind {
            K::Forbidden => TeamError::Forbidden {
                hub: self.cluster.name.clone(),
                namespace: self.namespace.clone(),
                what: what.to_string(),
                reason: p.message,
            },
            K::Refused | K::Dns | K::Tls | K::Timeout | K::Unauthorized => TeamError::Unreachable {
                hub: self.cluster.name.clone(),
                reason: p.message,
                since: String::new(),
            },
            _ if p.code.is_some_and(|c| c >= 500) => TeamError::Unreachable {
                hub: self.cluster.name.clone(),
                reason: p.message,
                since: String::new(),
            },
            _ => TeamError::Other(p.message),
        }
    }

    /// Every settings object of the hub, in pages; with its list's resourceVersion.
    pub(crate) async fn list(&self) -> Result<(Vec<ConfigMap>, String), TeamError> {
        let mut out = Vec::new();
        let mut lp = ListParams::default()
            .labels(&format!("{TEAM_LABEL}=settings"))
            .limit(500);
        loop {
            let page = self.api.list(&lp).await.map_err(|e| self.said("list configmaps", e))?;
            let rv = page.metadata.resource_version.clone().unwrap_or_default();
            let next = page.metadata.continue_.clone().filter(|c| !c.is_empty());
            out.extend(page.items);
            match next {
                Some(c) => lp = lp.continue_token(&c),
                None => return Ok((out, rv)),
            }
        }
    }

    /// A conflict on an entity, with the hub's version of it now.
    async fn conflict(&self, tree: &str, key: &str, yours: Option<&[u8]>) -> TeamError {
        let theirs = self.api.get_opt(&object_name(tree, key)).await.ok().flatten();
        let (by, at, text) = match theirs.as_ref().map(read_object) {
            Some(Ok(e)) => (e.by, e.at, String::from_utf8_lossy(&e.value).into_owned()),
            Some(Err(why)) => ("someone".into(), String::new(), format!("(does not read: {why})")),
            None => ("someone".into(), String::new(), "(deleted)".into()),
        };
        TeamError::Conflict(Box::new(super::Conflict {
            tree: tree.to_string(),
            key: key.to_string(),
            by,
            at,
            theirs: text,
            yours: yours.map_or_else(|| "(delete it)".into(), |v| String::from_utf8_lossy(v).into_owned()),
        }))
    }

    /// Writes a batch's shared entities to the hub, each against the
    /// version last seen here; the local writes that record the new
    /// versions. A conflict stops at the entity it is on.
    pub async fn push(&self, store: &Store, batch: &Batch, by: &str, at: &str) -> Result<Batch, TeamError> {
        let mut versions = Batch::new();
        for (tree, key, value) in batch.ops() {
            let Some(tree) = shared_tree(tree) else { continue };
            let key = String::from_utf8_lossy(key).into_owned();
            // Nothing to tell the hub when the value is what it has.
            if let Some(v) = value
                && store.get_raw(tree, key.as_bytes())?.as_deref() == Some(v)
                && store.get::<HubVersion>(&HubVersion::key_of(tree, &key))?.is_some()
            {
                continue;
            }
            let seen = store.get::<HubVersion>(&HubVersion::key_of(tree, &key))?;
            let name = object_name(tree, &key);
            match value {
                Some(v) => {
                    let cm = object(
                        tree,
                        &key,
                        v,
                        by,
                        at,
                        seen.as_ref().map(|s| s.resource_version.as_str()),
                    );
                    let done = match &seen {
                        Some(_) => self.api.replace(&name, &PostParams::default(), &cm).await,
                        None => self.api.create(&PostParams::default(), &cm).await,
                    };
                    match done {
                        Ok(written) => {
                            versions.put(&HubVersion {
                                tree: tree.to_string(),
                                key: key.clone(),
                                name,
                                resource_version: written.metadata.resource_version.unwrap_or_default(),
                            })?;
                        }
                        Err(kube::Error::Api(s)) if s.code == 409 || (s.code == 404 && seen.is_some()) => {
                            return Err(self.conflict(tree, &key, Some(v)).await);
                        }
                        Err(e) => return Err(self.said("write configmaps", e)),
                    }
                }
                None => {
                    let dp = DeleteParams {
                        preconditions: seen.as_ref().map(|s| Preconditions {
                            resource_version: Some(s.resource_version.clone()),
                            uid: None,
                        }),
                        ..Default::default()
                    };
                    match self.api.delete(&name, &dp).await {
                        Ok(_) => {}
                        Err(kube::Error::Api(s)) if s.code == 404 => {}
                        Err(kube::Error::Api(s)) if s.code == 409 => return Err(self.conflict(tree, &key, None).await),
                        Err(e) => return Err(self.said("delete configmaps", e)),
                    }
                    versions.delete::<HubVersion>(&HubVersion::key_of(tree, &key));
                }
            }
        }
        Ok(versions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_names_the_api_takes_and_stable() {
        let n = object_name("routes", "prod-eu1/shop.apps.Example.com/api");
        assert!(n.starts_with("routes-prod-eu1-shop-apps-example-com-"), "{n}");
        assert!(n.len() <= 63, "{}", n.len());
        assert!(
            n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert_eq!(n, object_name("routes", "prod-eu1/shop.apps.Example.com/api"));
        assert_ne!(object_name("apps", "a/b/c"), object_name("apps", "a/b-c"));
        let long = object_name("apps", &"x".repeat(400));
        assert!(long.len() <= 63, "{}", long.len());
    }
}
