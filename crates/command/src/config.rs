//! ConfigMaps and Secrets of a space (`kdeck config …`, `kdeck secrets …`):
//! keys set and unset by merge patch, and the stored apps that read the
//! object (env or mount) marked as needing a restart. A Secret's values are
//! never written to the journal: its command carries them as [`Hidden`].

use std::collections::BTreeMap;

use base64::Engine;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use super::apps::{AppState, resource};
use super::derive::{MANAGED_BY, MANAGED_BY_KDECK};
use super::{Applied, Batch, Executor, Failure, FailureKind, ItemOutcome, cluster_failure, cluster_of, invalid};
use kdeck_fleet::describe;
use kdeck_model::{App, EnvSource, MountSource, SpaceRef};

/// A secret value: in memory while its command runs, never serialized (the
/// journal reads `(hidden)`), so a rerun from the journal must be given it again.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Hidden(pub Option<String>);

impl std::fmt::Debug for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(hidden)")
    }
}

impl Serialize for Hidden {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("(hidden)")
    }
}

impl<'de> Deserialize<'de> for Hidden {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _ = serde::de::IgnoredAny::deserialize(d)?;
        Ok(Hidden(None))
    }
}

/// Which kind of object: a ConfigMap or a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Store {
    Config,
    Secret,
}

impl Store {
    pub fn kind(self) -> &'static str {
        match self {
            Store::Config => "ConfigMap",
            Store::Secret => "Secret",
        }
    }
    /// The CLI's word: `config` or `secrets`.
    pub fn word(self) -> &'static str {
        match self {
            Store::Config => "config",
            Store::Secret => "secrets",
        }
    }
}

/// Keys to set and unset in one ConfigMap or Secret (made when missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// CLUSTER/NAMESPACE/NAME.
    pub target: String,
    pub store: Store,
    /// A ConfigMap's keys and values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, String>,
    /// A Secret's keys; their values are not kept.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set_secret: BTreeMap<String, Hidden>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
}

/// One key of a ConfigMap or Secret, as shown: a Secret's value masked unless revealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub key: String,
    pub value: String,
}

/// One ConfigMap or Secret of a space, for lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub name: String,
    pub keys: usize,
    pub created: String,
    /// Stored apps that read it (env or mount).
    pub used_by: Vec<String>,
}

/// `CLUSTER/NAMESPACE/NAME` split.
pub fn parse_target(s: &str, word: &str) -> Result<(SpaceRef, String), Failure> {
    let mut parts = s.rsplitn(2, '/');
    let (name, space) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let space = SpaceRef::parse(word, space).map_err(|_| {
        Failure::new(
            FailureKind::Usage,
            format!("{word} {s:?}: give CLUSTER/NAMESPACE/NAME, e.g. prod-eu1/shop/settings"),
        )
    })?;
    kdeck_model::validate::dns_subdomain(word, name).map_err(|e| invalid(e.to_string()))?;
    Ok((space, name.to_string()))
}

/// The masked form of a value: its length, never its content.
pub fn masked(v: &str) -> String {
    format!("•••••• ({} bytes)", v.len())
}

async fn api(
    ex: &Executor,
    space: &SpaceRef,
    store: Store,
) -> Result<(kdeck_model::Cluster, Api<DynamicObject>), Failure> {
    let cluster = cluster_of(ex, &space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let ar = resource("v1", store.kind()).ok_or_else(|| invalid("kdeck does not know this kind"))?;
    Ok((cluster, Api::namespaced_with(client, &space.namespace, &ar)))
}

/// An object's keys and values (a Secret's decoded).
fn entries(o: &DynamicObject, store: Store) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in o.data["data"].as_object().into_iter().flatten() {
        let text = v.as_str().unwrap_or_default();
        let value = match store {
            Store::Config => text.to_string(),
            Store::Secret => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
        };
        out.insert(k.clone(), value);
    }
    out
}

/// The ConfigMaps and the Secrets an app reads by env or mount, by name.
pub fn reads(a: &App) -> (std::collections::BTreeSet<String>, std::collections::BTreeSet<String>) {
    let (mut cms, mut secrets) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for e in &a.env {
        match &e.source {
            EnvSource::ConfigMapKey { name, .. } => {
                cms.insert(name.clone());
            }
            EnvSource::SecretKey { name, .. } => {
                secrets.insert(name.clone());
            }
            EnvSource::Value(_) => {}
        }
    }
    for m in &a.mounts {
        match &m.source {
            MountSource::ConfigMap { name } => {
                cms.insert(name.clone());
            }
            MountSource::Secret { name } => {
                secrets.insert(name.clone());
            }
            _ => {}
        }
    }
    (cms, secrets)
}

/// The stored apps of a space that read an object, by env or mount.
pub fn users(ex: &Executor, space: &SpaceRef, store: Store, name: &str) -> Result<Vec<App>, Failure> {
    Ok(ex
        .store()
        .list::<App>()?
        .into_iter()
        .filter(|a| a.app.space == *space)
        .filter(|a| {
            let (cms, secrets) = reads(a);
            match store {
                Store::Config => cms.contains(name),
                Store::Secret => secrets.contains(name),
            }
        })
        .collect())
}

/// The ConfigMaps or Secrets of a space, with the apps that read each.
pub async fn list(ex: &Executor, space: &SpaceRef, store: Store) -> Result<Vec<Summary>, Failure> {
    Ok(objects(ex, space, store).await?.into_iter().map(|(s, _)| s).collect())
}

/// [`list`], with each object's keys and values (a Secret's decoded: mask
/// them before showing them).
pub async fn objects(
    ex: &Executor,
    space: &SpaceRef,
    store: Store,
) -> Result<Vec<(Summary, BTreeMap<String, String>)>, Failure> {
    let (cluster, api) = api(ex, space, store).await?;
    let items = api.list(&ListParams::default()).await.map_err(|e| {
        cluster_failure(describe(
            &cluster,
            &format!("list {}s", store.kind().to_ascii_lowercase()),
            &e,
        ))
    })?;
    let mut out = Vec::new();
    for o in items.items {
        // Service-account tokens and Helm's release records are not settings.
        let t = o.data["type"].as_str().unwrap_or("");
        if store == Store::Secret && (t.starts_with("kubernetes.io/service-account") || t.starts_with("helm.sh/")) {
            continue;
        }
        let name = o.metadata.name.clone().unwrap_or_default();
        let values = entries(&o, store);
        out.push((
            Summary {
                keys: values.len(),
                created: o
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string())
                    .unwrap_or_default(),
                used_by: users(ex, space, store, &name)?
                    .iter()
                    .map(|a| a.app.name.clone())
                    .collect(),
                name,
            },
            values,
        ));
    }
    Ok(out)
}

/// The keys of one object; a Secret's values masked unless `reveal`.
pub async fn show(ex: &Executor, target: &str, store: Store, reveal: bool) -> Result<Vec<Entry>, Failure> {
    let (space, name) = parse_target(target, store.word())?;
    let (cluster, api) = api(ex, &space, store).await?;
    let o = api
        .get_opt(&name)
        .await
        .map_err(|e| cluster_failure(describe(&cluster, "get", &e)))?
        .ok_or_else(|| {
            invalid(format!(
                "{} {target}: no {} {name} in {space}",
                store.word(),
                store.kind()
            ))
        })?;
    Ok(entries(&o, store)
        .into_iter()
        .map(|(key, v)| Entry {
            key,
            value: if store == Store::Secret && !reveal {
                masked(&v)
            } else {
                v
            },
        })
        .collect())
}

/// Parses `KEY=VALUE` pairs; a value `@FILE` is read from the file.
pub fn parse_pairs(pairs: &[String], word: &str) -> Result<BTreeMap<String, String>, Failure> {
    let mut out = BTreeMap::new();
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            return Err(Failure::new(
                FailureKind::Usage,
                format!("{word} set: {p:?} is not KEY=VALUE (KEY=@FILE reads a file)"),
            ));
        };
        kdeck_model::app::config_key("key", k).map_err(|e| invalid(format!("{word} set: {e}")))?;
        let v = match v.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                invalid(format!(
                    "{word} set {k}: cannot read {path}: {}",
                    kdeck_model::plain_io(&e)
                ))
            })?,
            None => v.to_string(),
        };
        if out.insert(k.to_string(), v).is_some() {
            return Err(invalid(format!("{word} set: key {k} is given twice; keep one")));
        }
    }
    Ok(out)
}

/// What a change would do, as the object after it (a Secret's values masked):
/// the dry run.
pub async fn change_plan(ex: &Executor, c: &ConfigChange) -> Result<(Value, bool), Failure> {
    let (space, name) = parse_target(&c.target, c.store.word())?;
    let (cluster, api) = api(ex, &space, c.store).await?;
    let existing = api
        .get_opt(&name)
        .await
        .map_err(|e| cluster_failure(describe(&cluster, "get", &e)))?;
    let mut now = existing.as_ref().map(|o| entries(o, c.store)).unwrap_or_default();
    for k in &c.unset {
        if now.remove(k).is_none() {
            let keys: Vec<&String> = now.keys().collect();
            return Err(invalid(format!(
                "{}: {name} has no key {k} (its keys: {}); nothing applied",
                c.target,
                if keys.is_empty() {
                    "none".to_string()
                } else {
                    keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                }
            )));
        }
    }
    for (k, v) in &c.set {
        now.insert(k.clone(), v.clone());
    }
    for (k, v) in &c.set_secret {
        let Some(v) = &v.0 else {
            return Err(invalid(format!(
                "{}: the value of {k} is not kept in the journal; run `kdeck secrets set` with it again",
                c.target
            )));
        };
        now.insert(k.clone(), v.clone());
    }
    let shown: serde_json::Map<String, Value> = now
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                json!(if c.store == Store::Secret { masked(v) } else { v.clone() }),
            )
        })
        .collect();
    let obj = json!({"apiVersion": "v1", "kind": c.store.kind(),
                     "metadata": {"name": name, "namespace": space.namespace}, "data": shown});
    Ok((obj, existing.is_some()))
}

pub(crate) async fn change(ex: &Executor, c: &ConfigChange) -> Result<Applied, Failure> {
    // Checked first: a missing key or a forgotten value applies nothing.
    let (_, exists) = change_plan(ex, c).await?;
    let (space, name) = parse_target(&c.target, c.store.word())?;
    let (cluster, api) = api(ex, &space, c.store).await?;
    let encode = |v: &str| match c.store {
        Store::Config => json!(v),
        Store::Secret => json!(base64::engine::general_purpose::STANDARD.encode(v)),
    };
    let mut data = serde_json::Map::new();
    for (k, v) in &c.set {
        data.insert(k.clone(), encode(v));
    }
    for (k, v) in &c.set_secret {
        data.insert(k.clone(), encode(v.0.as_deref().unwrap_or_default()));
    }
    for k in &c.unset {
        data.insert(k.clone(), Value::Null);
    }
    let what = format!("{} {name}", c.store.kind().to_ascii_lowercase());
    let keys = c.set.len() + c.set_secret.len();
    let summary = format!(
        "{}{}",
        if keys > 0 {
            format!("{keys} key(s) set")
        } else {
            String::new()
        },
        if c.unset.is_empty() {
            String::new()
        } else {
            format!("{}{} key(s) unset", if keys > 0 { ", " } else { "" }, c.unset.len())
        }
    );
    let result = if exists {
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&json!({"data": data})))
            .await
    } else {
        let mut obj = json!({"apiVersion": "v1", "kind": c.store.kind(),
            "metadata": {"name": name, "namespace": space.namespace, "labels": {MANAGED_BY: MANAGED_BY_KDECK}},
            "data": data});
        if c.store == Store::Secret {
            obj["type"] = json!("Opaque");
        }
        match serde_json::from_value::<DynamicObject>(obj) {
            Ok(o) => api.create(&PostParams::default(), &o).await,
            Err(e) => return Err(invalid(e.to_string())),
        }
    };
    let item = match result {
        Ok(_) => ItemOutcome::ok(what, if exists { summary } else { format!("created; {summary}") }),
        Err(e) => {
            let p = describe(&cluster, if exists { "patch" } else { "create" }, &e);
            return Ok(Applied {
                items: vec![ItemOutcome::failed(what, p.message, p.code)],
                batch: Batch::new(),
            });
        }
    };
    let mut items = vec![item];
    let mut batch = Batch::new();
    // The apps that read it still have the old values until their pods restart.
    for app in users(ex, &space, c.store, &name)? {
        let mut st = ex.store().get::<AppState>(&app.app.to_string())?.unwrap_or_default();
        if st.deployed_at.is_none() {
            continue;
        }
        st.app = Some(app.app.clone());
        st.needs_restart = true;
        batch.put(&st)?;
        items.push(ItemOutcome::ok(
            app.app.to_string(),
            format!(
                "needs a restart: it reads {} {name} (`kdeck apps restart {}`)",
                c.store.kind(),
                app.app
            ),
        ));
    }
    Ok(Applied { items, batch })
}

/// Refuses a deploy whose env reads a ConfigMap or Secret key that is not
/// there (its pods would never start), naming the key and what is there.
pub(crate) async fn check_refs(
    client: &kube::Client,
    cluster: &kdeck_model::Cluster,
    app: &App,
) -> Result<(), Failure> {
    let a = &app.app;
    for e in &app.env {
        let (store, name, key) = match &e.source {
            EnvSource::ConfigMapKey {
                name,
                key,
                optional: false,
            } => (Store::Config, name, key),
            EnvSource::SecretKey {
                name,
                key,
                optional: false,
            } => (Store::Secret, name, key),
            _ => continue,
        };
        let Some(ar) = resource("v1", store.kind()) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        let found = match api.get_opt(name).await {
            Ok(f) => f,
            // Not allowed to read it (an auditor's Secrets): the pods will say.
            Err(kube::Error::Api(s)) if s.code == 403 => continue,
            Err(err) => return Err(cluster_failure(describe(cluster, "get", &err))),
        };
        let Some(o) = found else {
            return Err(invalid(format!(
                "{a}: env {} reads {} {name}, which is not in {}; create it with `kdeck {} set {}/{name} {key}=…`; nothing applied",
                e.name,
                store.kind(),
                a.space,
                store.word(),
                a.space
            )));
        };
        if !o.data["data"].as_object().is_some_and(|d| d.contains_key(key)) {
            let keys: Vec<String> = o.data["data"]
                .as_object()
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            return Err(invalid(format!(
                "{a}: env {} reads key {key} of {} {name}, which has no such key (its keys: {}); nothing applied",
                e.name,
                store.kind(),
                if keys.is_empty() {
                    "none".to_string()
                } else {
                    keys.join(", ")
                }
            )));
        }
    }
    Ok(())
}
