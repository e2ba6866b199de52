//! Making a team, joining one, pulling the hub into the local copy, and
//! leaving.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ConfigMap;
use kdeck_store::{Batch, Store};

use super::hub::{FORMAT, HubEntity, TEAM_LABEL, format_of, read_object};
use super::{Hub, HubVersion, Membership, SHARED, TeamError};

/// Whether bytes read as the entity a tree keeps.
pub(crate) fn check_entity(tree: &str, bytes: &[u8]) -> Result<(), String> {
    use kdeck_model as m;
    fn is<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<(), String> {
        serde_json::from_slice::<T>(b)
            .map(|_| ())
            .map_err(|e| format!("it does not read: {e}"))
    }
    match tree {
        "spaces" => is::<m::Space>(bytes),
        "apps" => is::<m::App>(bytes),
        "routes" => is::<m::Route>(bytes),
        "domains" => is::<m::Domain>(bytes),
        "bindings" => is::<m::Binding>(bytes),
        "solutions" => is::<m::Solution>(bytes),
        "catalogs" => is::<m::Catalog>(bytes),
        "revisions" => is::<m::Revision>(bytes),
        "canaries" => is::<m::Canary>(bytes),
        "roles" => is::<m::RoleGrant>(bytes),
        "placements" => is::<m::Placement>(bytes),
        other => Err(format!("{other} is not a kind the team shares")),
    }
}

/// What a pull did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pulled {
    /// Shared entities the hub holds.
    pub entities: usize,
    /// Of them, new or changed here.
    pub changed: usize,
    /// Removed here, as they were on the hub.
    pub removed: usize,
    /// Hub objects passed over, each named with why.
    pub skipped: Vec<String>,
    /// The hub's list version, to watch from.
    pub resource_version: String,
    /// Clusters the team shares that were not here, now imported.
    pub clusters: Vec<String>,
}

/// The hub's entities, refusing objects of a newer format and naming the
/// ones that do not read.
async fn read_hub(hub: &Hub) -> Result<(Vec<HubEntity>, Vec<String>, String), TeamError> {
    let (objects, rv) = hub.list().await?;
    let mut entities = Vec::new();
    let mut skipped = Vec::new();
    for cm in &objects {
        let f = format_of(cm);
        if f > FORMAT {
            return Err(TeamError::Newer {
                object: format!("ConfigMap {}", cm.metadata.name.clone().unwrap_or_default()),
                found: f,
                supported: FORMAT,
            });
        }
        match read_object(cm) {
            Ok(e) => entities.push(e),
            Err(why) => skipped.push(why),
        }
    }
    Ok((entities, skipped, rv))
}

/// The local shared entities: tree → key → bytes.
fn local(store: &Store) -> Result<BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>, TeamError> {
    let mut out = BTreeMap::new();
    for tree in SHARED {
        let pairs = store.scan_raw(tree, b"")?;
        out.insert(
            *tree,
            pairs
                .into_iter()
                .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
                .collect(),
        );
    }
    Ok(out)
}

/// The writes that make the local copy the hub's: puts of what differs,
/// the versions, and deletes of what the hub no longer has (of what came
/// from it; with `everything`, of all that it does not have).
fn converge(store: &Store, entities: &[HubEntity], everything: bool) -> Result<(Batch, Pulled), TeamError> {
    let here = local(store)?;
    let versions: BTreeSet<String> = store
        .scan_raw(<HubVersion as kdeck_store::Entity>::TREE, b"")?
        .into_iter()
        .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
        .collect();
    let mut batch = Batch::new();
    let mut pulled = Pulled {
        entities: entities.len(),
        ..Default::default()
    };
    let mut on_hub: BTreeSet<(&str, &str)> = BTreeSet::new();
    for e in entities {
        on_hub.insert((e.tree, e.key.as_str()));
        let same = here.get(e.tree).and_then(|t| t.get(&e.key)) == Some(&e.value);
        if !same {
            batch.raw(e.tree, e.key.as_bytes().to_vec(), Some(e.value.clone()));
            pulled.changed += 1;
        }
        batch.put(&HubVersion {
            tree: e.tree.to_string(),
            key: e.key.clone(),
            name: e.name.clone(),
            resource_version: e.resource_version.clone(),
        })?;
    }
    for (tree, keys) in &here {
        for key in keys.keys() {
            if on_hub.contains(&(*tree, key.as_str())) {
                continue;
            }
            let vkey = HubVersion::key_of(tree, key);
            if everything || versions.contains(&vkey) {
                batch.raw(tree, key.as_bytes().to_vec(), None);
                batch.delete::<HubVersion>(&vkey);
                pulled.removed += 1;
            }
        }
    }
    Ok((batch, pulled))
}

impl Hub {
    /// Brings the local copy to what the hub holds, and records the sync.
    pub async fn pull(&self, store: &Store, now: &str) -> Result<Pulled, TeamError> {
        let read = read_hub(self).await;
        let mut m = store.get::<Membership>("team")?;
        let (entities, skipped, rv) = match read {
            Ok(r) => r,
            Err(e) => {
                if let (TeamError::Unreachable { .. }, Some(m)) = (&e, m.as_mut())
                    && m.unreachable_since.is_none()
                {
                    m.unreachable_since = Some(now.to_string());
                    store.put(m)?;
                }
                return Err(self.since(e, m.as_ref()));
            }
        };
        let (mut batch, mut pulled) = converge(store, &entities, false)?;
        pulled.skipped = skipped;
        pulled.resource_version = rv;
        pulled.clusters = self.adopt_clusters(store, &mut batch).await.unwrap_or_default();
        if let Some(mut m) = m {
            m.last_sync = Some(now.to_string());
            m.unreachable_since = None;
            batch.put(&m)?;
        }
        store.write(batch)?;
        Ok(pulled)
    }

    /// An unreachable hub's error, saying since when.
    pub fn since(&self, e: TeamError, m: Option<&Membership>) -> TeamError {
        match e {
            TeamError::Unreachable { hub, reason, .. } => TeamError::Unreachable {
                hub,
                reason,
                since: m
                    .and_then(|m| m.unreachable_since.clone())
                    .map(|s| format!(" since {s}"))
                    .unwrap_or_default(),
            },
            other => other,
        }
    }

    /// Objects in the namespace that are not the team's (kube-root-ca.crt aside).
    async fn strangers(&self) -> Result<Vec<String>, TeamError> {
        let all = self
            .api
            .list(&kube::api::ListParams::default())
            .await
            .map_err(|e| self.said("list configmaps", e))?;
        Ok(all
            .items
            .iter()
            .filter(|cm: &&ConfigMap| {
                cm.metadata.name.as_deref() != Some("kube-root-ca.crt")
                    && cm.metadata.labels.as_ref().and_then(|l| l.get(TEAM_LABEL)).is_none()
            })
            .filter_map(|cm| cm.metadata.name.clone())
            .collect())
    }
}

/// Refuses a data dir that is in a team already.
fn not_in_team(store: &Store) -> Result<(), TeamError> {
    match store.get::<Membership>("team")? {
        Some(m) => Err(TeamError::Usage(format!(
            "this data dir is in the team on {}/{} already; `kdeck team leave` first",
            m.hub, m.namespace
        ))),
        None => Ok(()),
    }
}

/// Makes a team on `cluster`: its namespace (created when missing, refused
/// when it holds something else), and every local shared entity pushed there.
pub async fn init(
    store: &Store,
    gateway: &kdeck_fleet::Gateway,
    cluster: &str,
    namespace: &str,
    by: &str,
    now: &str,
) -> Result<Pulled, TeamError> {
    not_in_team(store)?;
    let hub = Hub::at(store, gateway, cluster, namespace).await?;
    gateway
        .create_namespace(&hub.cluster, namespace)
        .await
        .map_err(|p| match p.kind {
            kdeck_fleet::ProblemKind::Forbidden => TeamError::Forbidden {
                hub: cluster.to_string(),
                namespace: namespace.to_string(),
                what: "create the team's namespace".into(),
                reason: p.message,
            },
            _ => TeamError::Unreachable {
                hub: cluster.to_string(),
                reason: p.message,
                since: String::new(),
            },
        })?;
    let others = hub.strangers().await?;
    if !others.is_empty() {
        return Err(TeamError::Usage(format!(
            "namespace {namespace} on {cluster} holds objects that are not a kdeck team's ({}): choose another --namespace",
            others.into_iter().take(5).collect::<Vec<_>>().join(", ")
        )));
    }
    let (there, _, _) = read_hub(&hub).await?;
    if !there.is_empty() || hub.marker().await?.is_some() {
        return Err(TeamError::Usage(format!(
            "namespace {namespace} on {cluster} holds a team already ({} settings): `kdeck team join {cluster} --namespace {namespace}` joins it",
            there.len()
        )));
    }
    let mut all = Batch::new();
    let mut count = 0;
    for (tree, keys) in local(store)? {
        for (k, v) in keys {
            all.raw(tree, k.into_bytes(), Some(v));
            count += 1;
        }
    }
    hub.mark(by, now).await?;
    // Pushed as new: the hub has none of them.
    let mut batch = hub.push_new(store, &all, by, now).await?;
    batch.put(&Membership::new(cluster, namespace, now))?;
    store.write(batch)?;
    Ok(Pulled {
        entities: count,
        changed: count,
        ..Default::default()
    })
}

/// The name of the object that says a namespace holds a team.
const MARKER: &str = "kdeck-team";

impl Hub {
    /// The team's marker object, when the namespace holds a team.
    async fn marker(&self) -> Result<Option<ConfigMap>, TeamError> {
        self.api
            .get_opt(MARKER)
            .await
            .map_err(|e| self.said("get configmaps", e))
    }

    /// Marks the namespace as a team's: by whom, when, in which format.
    async fn mark(&self, by: &str, at: &str) -> Result<(), TeamError> {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(MARKER.into());
        cm.metadata.labels = Some(BTreeMap::from([
            (TEAM_LABEL.to_string(), "team".to_string()),
            (
                kdeck_fleet::gateway::MANAGED_BY.to_string(),
                kdeck_fleet::gateway::MANAGED_BY_KDECK.to_string(),
            ),
        ]));
        cm.metadata.annotations = Some(BTreeMap::from([
            (super::hub::FORMAT_KEY.to_string(), FORMAT.to_string()),
            (super::hub::BY.to_string(), by.to_string()),
            (super::hub::AT.to_string(), at.to_string()),
        ]));
        self.api
            .create(&kube::api::PostParams::default(), &cm)
            .await
            .map(|_| ())
            .map_err(|e| self.said("create configmaps", e))
    }

    /// Pushes every entity of `all` as new (none is on the hub yet).
    async fn push_new(&self, store: &Store, all: &Batch, by: &str, at: &str) -> Result<Batch, TeamError> {
        // Forget versions of an earlier team: they are not this hub's.
        let mut clean = Batch::new();
        for (k, _) in store.scan_raw(<HubVersion as kdeck_store::Entity>::TREE, b"")? {
            clean.delete::<HubVersion>(&String::from_utf8_lossy(&k));
        }
        store.write(clean)?;
        self.push(store, all, by, at).await
    }
}

/// Joins the team on `cluster`: the local copy becomes the hub's. Local
/// shared settings the hub does not have are refused unless `discard`.
pub async fn join(
    store: &Store,
    gateway: &kdeck_fleet::Gateway,
    cluster: &str,
    namespace: &str,
    discard: bool,
    now: &str,
) -> Result<Pulled, TeamError> {
    not_in_team(store)?;
    let hub = Hub::at(store, gateway, cluster, namespace).await?;
    let Some(marker) = hub.marker().await? else {
        return Err(TeamError::Usage(format!(
            "no team in namespace {namespace} on {cluster}: `kdeck team init {cluster} --namespace {namespace}` makes one"
        )));
    };
    let f = format_of(&marker);
    if f > FORMAT {
        return Err(TeamError::Newer {
            object: format!("team in {namespace}"),
            found: f,
            supported: FORMAT,
        });
    }
    let (entities, skipped, _) = read_hub(&hub).await?;
    let on_hub: BTreeSet<(&str, &str)> = entities.iter().map(|e| (e.tree, e.key.as_str())).collect();
    let mine: Vec<String> = local(store)?
        .iter()
        .flat_map(|(t, keys)| keys.keys().map(move |k| (*t, k.clone())))
        .filter(|(t, k)| !on_hub.contains(&(*t, k.as_str())))
        .map(|(t, k)| format!("{t} {k}"))
        .collect();
    if !mine.is_empty() && !discard {
        return Err(TeamError::Usage(format!(
            "this data dir has {} setting(s) the team does not ({}{}): joining would drop them; `kdeck export` or `solutions save` what you want to keep, then join with --discard-local",
            mine.len(),
            mine.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
            if mine.len() > 3 { ", …" } else { "" }
        )));
    }
    let (mut batch, mut pulled) = converge(store, &entities, true)?;
    pulled.skipped = skipped;
    pulled.clusters = hub.adopt_clusters(store, &mut batch).await?;
    batch.put(&Membership::new(cluster, namespace, now))?;
    store.write(batch)?;
    Ok(pulled)
}

/// Leaves the team: the settings stay here as local ones; the hub is untouched.
pub fn leave(store: &Store) -> Result<Membership, TeamError> {
    let m = store
        .get::<Membership>("team")?
        .ok_or_else(|| TeamError::Usage("this data dir is in no team".into()))?;
    let mut batch = Batch::new();
    batch.delete::<Membership>("team");
    for (k, _) in store.scan_raw(<HubVersion as kdeck_store::Entity>::TREE, b"")? {
        batch.delete::<HubVersion>(&String::from_utf8_lossy(&k));
    }
    store.write(batch)?;
    Ok(m)
}
