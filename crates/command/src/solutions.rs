//! Saved solutions: apps saved together with their routes, the bindings
//! between them, the ConfigMaps they read (with data) and the Secrets they
//! read (keys only), installed in another space, often on another cluster,
//! as the commands a user would type: space, config, apps, routes,
//! bindings, then deploys, providers first. Each step is its own journal
//! entry; a rerun skips what is there.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;

use super::config::{ConfigChange, Hidden, Store as ConfigStore};
use super::{Applied, Batch, Command, Executor, Failure, FailureKind, ItemOutcome, cluster_of, invalid};
use kdeck_fleet::describe;
use kdeck_model::{
    App, AppRef, Binding, Bundle, ConnectorValue, SavedBinding, SavedConfig, SavedRoute, Solution, SolutionSource,
    Space, SpaceRef,
};

/// The stored apps `what` names: `CLUSTER/SPACE/APP`s, or `CLUSTER/SPACE`s (every app in it).
fn apps_named(ex: &Executor, what: &[String]) -> Result<Vec<App>, Failure> {
    let all = ex.store().list::<App>()?;
    let mut out: Vec<App> = Vec::new();
    for w in what {
        let picked: Vec<App> = match w.split('/').count() {
            3 => {
                let a = AppRef::parse("APP", w).map_err(|e| invalid(e.to_string()))?;
                vec![
                    all.iter()
                        .find(|x| x.app == a)
                        .cloned()
                        .ok_or_else(|| invalid(format!("{a} is not managed by kdeck: `kdeck apps adopt {a}` first")))?,
                ]
            }
            2 => {
                let s = SpaceRef::parse("SPACE", w).map_err(|e| invalid(e.to_string()))?;
                let in_space: Vec<App> = all.iter().filter(|x| x.app.space == s).cloned().collect();
                if in_space.is_empty() {
                    return Err(invalid(format!("{s} holds no app kdeck manages")));
                }
                in_space
            }
            _ => {
                return Err(Failure::new(
                    FailureKind::Usage,
                    format!("{w:?}: name apps as CLUSTER/SPACE/APP, or a space as CLUSTER/SPACE"),
                ));
            }
        };
        for a in picked {
            if !out.iter().any(|x| x.app == a.app) {
                out.push(a);
            }
        }
    }
    let spaces: BTreeSet<String> = out.iter().map(|a| a.app.space.to_string()).collect();
    if spaces.len() > 1 {
        return Err(invalid(format!(
            "a solution's apps come from one space; these are in {}",
            spaces.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(out)
}

/// The ConfigMaps and Secrets an app reads: env and mounts, and the
/// Secrets its connectors offer values from.
fn reads(a: &App) -> (BTreeSet<String>, BTreeSet<String>) {
    let (cms, mut secrets) = super::config::reads(a);
    for c in &a.connectors {
        for v in c.values.values() {
            if let ConnectorValue::SecretKey { name, .. } = v {
                secrets.insert(name.clone());
            }
        }
    }
    (cms, secrets)
}

/// Apps saved as a solution named `name`, with their routes, the bindings
/// between them, the ConfigMaps they read (read from the cluster, data and
/// all) and the keys of the Secrets they read; and notes on what stays behind.
pub async fn save(
    ex: &Executor,
    what: &[String],
    name: &str,
    description: &str,
) -> Result<(Solution, Vec<String>), Failure> {
    let apps = apps_named(ex, what)?;
    let Some(first) = apps.first() else {
        return Err(Failure::new(FailureKind::Usage, "name the apps or the space to save"));
    };
    let space = first.app.space.clone();
    let names: BTreeSet<&str> = apps.iter().map(|a| a.app.name.as_str()).collect();
    let mut notes = Vec::new();
    let mut routes = Vec::new();
    for a in &apps {
        for r in super::apps::routes_of(ex, &a.app)? {
            routes.push(SavedRoute {
                app: a.app.name.clone(),
                shared: r.ingress == kdeck_model::IngressMode::Shared,
                was: r.host,
            });
        }
    }
    let mut bindings = Vec::new();
    for b in ex.store().list::<Binding>()? {
        if b.consumer.space != space || !names.contains(b.consumer.name.as_str()) {
            continue;
        }
        if b.provider.space == space && names.contains(b.provider.name.as_str()) {
            bindings.push(SavedBinding {
                consumer: b.consumer.name.clone(),
                provider: b.provider.name.clone(),
                connector: b.connector.clone(),
                prefix: b.env_prefix.clone(),
            });
        } else {
            notes.push(format!(
                "{} is bound to {}, which is not saved: bind it again after an install",
                b.consumer, b.provider
            ));
        }
    }
    let (mut cms, mut secrets) = (BTreeSet::new(), BTreeSet::new());
    for a in &apps {
        let (c, s) = reads(a);
        cms.extend(c);
        secrets.extend(s);
    }
    let mut config = Vec::new();
    if !cms.is_empty() || !secrets.is_empty() {
        let cluster = cluster_of(ex, &space.cluster)?;
        let client = ex.gateway().client(&cluster).await.map_err(super::cluster_failure)?;
        let cm_api: Api<ConfigMap> = Api::namespaced(client.clone(), &space.namespace);
        for n in &cms {
            match cm_api.get_opt(n).await {
                Ok(Some(cm)) => config.push(SavedConfig {
                    name: n.clone(),
                    secret: false,
                    data: cm.data.unwrap_or_default(),
                    keys: vec![],
                }),
                Ok(None) => notes.push(format!("ConfigMap {n} is read but not in {space}: not saved")),
                Err(e) => return Err(super::cluster_failure(describe(&cluster, "get configmaps", &e))),
            }
        }
        let s_api: Api<Secret> = Api::namespaced(client, &space.namespace);
        for n in &secrets {
            match s_api.get_opt(n).await {
                Ok(Some(s)) => config.push(SavedConfig {
                    name: n.clone(),
                    secret: true,
                    data: BTreeMap::new(),
                    keys: s.data.unwrap_or_default().into_keys().collect(),
                }),
                Ok(None) => notes.push(format!("Secret {n} is read but not in {space}: not saved")),
                Err(e) => return Err(super::cluster_failure(describe(&cluster, "get secrets", &e))),
            }
        }
    }
    let s = Solution {
        name: name.to_string(),
        description: if description.is_empty() {
            format!(
                "{} from {space}",
                apps.iter()
                    .map(|a| a.app.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        } else {
            description.to_string()
        },
        source: SolutionSource::Apps(Box::new(Bundle {
            apps,
            routes,
            bindings,
            config,
        })),
    };
    s.validate().map_err(|e| invalid(e.to_string()))?;
    Ok((s, notes))
}

pub(crate) fn store(ex: &Executor, s: &Solution) -> Result<Applied, Failure> {
    s.validate().map_err(|e| invalid(e.to_string()))?;
    let was = ex.store().get::<Solution>(&s.name)?.is_some();
    let mut batch = Batch::new();
    batch.put(s)?;
    let what = match &s.source {
        SolutionSource::Apps(b) => format!("{} app(s)", b.apps.len()),
        SolutionSource::AppTemplate { .. } => "1 app".into(),
        SolutionSource::HelmChart { chart, .. } => format!("chart {chart}"),
    };
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            format!("solution {}", s.name),
            format!("{} ({what})", if was { "replaced" } else { "saved" }),
        )],
        batch,
    })
}

pub(crate) fn remove(ex: &Executor, name: &str) -> Result<Applied, Failure> {
    if ex.store().get::<Solution>(name)?.is_none() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("no solution named {name:?}; `kdeck solutions list` shows them"),
        ));
    }
    let mut batch = Batch::new();
    batch.delete::<Solution>(name);
    Ok(Applied {
        items: vec![ItemOutcome::ok(format!("solution {name}"), "removed")],
        batch,
    })
}

/// A solution's apps as a bundle (a single saved app is a bundle of one).
pub fn bundle(s: &Solution) -> Result<Bundle, Failure> {
    match &s.source {
        SolutionSource::Apps(b) => Ok((**b).clone()),
        SolutionSource::AppTemplate { app } => Ok(Bundle {
            apps: vec![(**app).clone()],
            ..Default::default()
        }),
        SolutionSource::HelmChart { chart, .. } => Err(invalid(format!(
            "solution {} is chart {chart}: `kdeck market install {chart} --clusters SELECTOR --namespace NS` installs it",
            s.name
        ))),
    }
}

/// A random value for a Secret key an install makes: 24 letters and digits.
fn fresh_value() -> String {
    let mut bytes = [0u8; 24];
    let rng = ring::rand::SystemRandom::new();
    let _ = ring::rand::SecureRandom::fill(&rng, &mut bytes);
    const ABC: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    bytes.iter().map(|b| ABC[*b as usize % ABC.len()] as char).collect()
}

/// Runs one step as its own command; its outcome as an item.
async fn step(ex: &Executor, what: String, c: Command) -> (bool, ItemOutcome) {
    match Box::pin(ex.run(c)).await {
        Ok(e) if !e.status.is_failure() => {
            let said = super::summary(&e);
            (true, ItemOutcome::ok(what, said))
        }
        Ok(e) => (
            false,
            ItemOutcome::failed(what, format!("{} (journal entry {})", super::summary(&e), e.id), None),
        ),
        Err(err) => (false, ItemOutcome::failed(what, err.to_string(), None)),
    }
}

/// Installs a stored solution in each space: the steps are journalled one
/// by one; what is there already (space, app, route, binding, keys) is kept.
pub(crate) async fn install(ex: &Executor, name: &str, spaces: &[String]) -> Result<Applied, Failure> {
    let s = ex.store().get::<Solution>(name)?.ok_or_else(|| {
        Failure::new(
            FailureKind::Usage,
            format!("no solution named {name:?}; `kdeck solutions list` shows them"),
        )
    })?;
    let b = bundle(&s)?;
    if spaces.is_empty() {
        return Err(Failure::new(FailureKind::Usage, "no space to install in; nothing done"));
    }
    let mut items = Vec::new();
    for sp in spaces {
        let sref = SpaceRef::parse("SPACE", sp).map_err(|e| invalid(e.to_string()))?;
        install_in(ex, &b, &sref, &mut items).await?;
    }
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}

async fn install_in(ex: &Executor, b: &Bundle, sref: &SpaceRef, items: &mut Vec<ItemOutcome>) -> Result<(), Failure> {
    let cluster = cluster_of(ex, &sref.cluster)?;
    let at = |w: &str| format!("{sref}: {w}");
    // The space.
    if ex.store().get::<Space>(&sref.to_string())?.is_none() {
        let (ok, mut o) = step(
            ex,
            at("space"),
            Command::CreateSpace {
                space: sref.to_string(),
            },
        )
        .await;
        if !ok && o.code.is_none() && o.message.contains("already exists") {
            let (ok2, o2) = step(
                ex,
                at("space"),
                Command::AttachSpace {
                    space: sref.to_string(),
                },
            )
            .await;
            o = o2;
            if !ok2 {
                items.push(o);
                return Ok(());
            }
        } else if !ok {
            items.push(o);
            return Ok(());
        }
        items.push(o);
    }
    // Config and secrets: a ConfigMap's saved data; a Secret's missing keys, new values.
    let client = ex.gateway().client(&cluster).await.map_err(super::cluster_failure)?;
    for c in &b.config {
        let target = format!("{sref}/{}", c.name);
        if c.secret {
            let api: Api<Secret> = Api::namespaced(client.clone(), &sref.namespace);
            let have: BTreeSet<String> = match api.get_opt(&c.name).await {
                Ok(Some(s)) => s.data.unwrap_or_default().into_keys().collect(),
                Ok(None) => BTreeSet::new(),
                Err(e) => {
                    let p = describe(&cluster, "get secrets", &e);
                    items.push(ItemOutcome::failed(
                        at(&format!("secret {}", c.name)),
                        p.message,
                        p.code,
                    ));
                    continue;
                }
            };
            let missing: BTreeMap<String, Hidden> = c
                .keys
                .iter()
                .filter(|k| !have.contains(*k))
                .map(|k| (k.clone(), Hidden(Some(fresh_value()))))
                .collect();
            if missing.is_empty() {
                items.push(ItemOutcome::ok(
                    at(&format!("secret {}", c.name)),
                    "there, kept as it is",
                ));
                continue;
            }
            let n = missing.len();
            let (_, mut o) = step(
                ex,
                at(&format!("secret {}", c.name)),
                Command::ChangeConfig(ConfigChange {
                    target,
                    store: ConfigStore::Secret,
                    set: BTreeMap::new(),
                    set_secret: missing,
                    unset: vec![],
                }),
            )
            .await;
            if o.ok {
                o.message = format!("{n} key(s) made with new random values");
            }
            items.push(o);
        } else {
            let (_, o) = step(
                ex,
                at(&format!("configmap {}", c.name)),
                Command::ChangeConfig(ConfigChange {
                    target,
                    store: ConfigStore::Config,
                    set: c.data.clone(),
                    set_secret: BTreeMap::new(),
                    unset: vec![],
                }),
            )
            .await;
            items.push(o);
        }
    }
    // The apps' settings, then their routes and bindings.
    let mut ready: BTreeSet<String> = BTreeSet::new();
    for a in &b.apps {
        let r = AppRef {
            space: sref.clone(),
            name: a.app.name.clone(),
        };
        if ex.store().get::<App>(&r.to_string())?.is_some() {
            items.push(ItemOutcome::ok(at(&format!("app {}", r.name)), "stored already, kept"));
            ready.insert(r.name.clone());
            continue;
        }
        let (ok, o) = step(
            ex,
            at(&format!("app {}", r.name)),
            Command::CreateApp(super::apps::NewApp {
                app: r.to_string(),
                image: String::new(),
                stateful: false,
                replicas: a.replicas,
                ports: vec![],
                env: vec![],
                connectors: vec![],
                volumes: vec![],
                routes: vec![],
                template: Some(Box::new(a.clone())),
            }),
        )
        .await;
        items.push(o);
        if ok {
            ready.insert(r.name.clone());
        }
    }
    for rt in &b.routes {
        if !ready.contains(&rt.app) {
            continue;
        }
        let r = AppRef {
            space: sref.clone(),
            name: rt.app.clone(),
        };
        if !super::apps::routes_of(ex, &r)?.is_empty() {
            continue;
        }
        let (_, o) = step(
            ex,
            at(&format!("route of {}", rt.app)),
            Command::AddRoute {
                app: r.to_string(),
                host: String::new(),
                shared: rt.shared,
            },
        )
        .await;
        items.push(o);
    }
    let bound: Vec<Binding> = ex.store().list::<Binding>()?;
    for sb in &b.bindings {
        let consumer = format!("{sref}/{}", sb.consumer);
        let provider = format!("{sref}/{}", sb.provider);
        if bound.iter().any(|x| {
            x.consumer.to_string() == consumer && x.provider.to_string() == provider && x.connector == sb.connector
        }) {
            continue;
        }
        let (_, o) = step(
            ex,
            at(&format!("bind {} to {}", sb.consumer, sb.provider)),
            Command::Bind {
                consumer,
                provider,
                connector: sb.connector.clone(),
                prefix: sb.prefix.clone(),
            },
        )
        .await;
        items.push(o);
    }
    // Deploys: providers first, so that their connectors' Secrets are there.
    let providers: BTreeSet<&str> = b.bindings.iter().map(|x| x.provider.as_str()).collect();
    let mut order: Vec<&App> = b.apps.iter().collect();
    order.sort_by_key(|a| !providers.contains(a.app.name.as_str()));
    for a in order {
        if !ready.contains(&a.app.name) {
            continue;
        }
        let (_, o) = step(
            ex,
            at(&format!("deploy {}", a.app.name)),
            Command::DeployApp {
                app: format!("{sref}/{}", a.app.name),
                wait: None,
            },
        )
        .await;
        items.push(o);
    }
    Ok(())
}
