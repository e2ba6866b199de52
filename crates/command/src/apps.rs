//! App lifecycle commands: create (a draft in the store), deploy
//! (server-side apply of the derived objects, field manager `kdeck`), scale,
//! restart (a template annotation rolls the pods), stop and start (replicas
//! 0 and back, settings kept), delete (the cluster objects; `purge` forgets
//! the settings too), plus domains, routes and bindings.

use kdeck_model::{AccessMode, Mount, MountSource};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::derive::{self, BoundProvider, Derived, Inputs};
use super::{Applied, Executor, Failure, FailureKind, ItemOutcome, cluster_failure, cluster_of, invalid};
use kdeck_fleet::describe;
use kdeck_model::{
    App, AppPort, AppRef, Binding, Cluster, Connector, ConnectorValue, Domain, EnvEntry, EnvSource, IngressMode,
    Protocol, Route, SpaceRef, WorkloadKind,
};
use kdeck_store::{Batch, Entity};

/// What kdeck knows of an app's life in the cluster, apart from its settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppState {
    #[serde(rename = "ref")]
    pub app: Option<AppRef>,
    /// Stopped: deployed with 0 replicas; the settings keep the count.
    #[serde(default)]
    pub stopped: bool,
    /// The last restart, set on the pod template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarted_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<String>,
    /// A connector it is bound to changed: its pods still have the old values.
    #[serde(default)]
    pub needs_restart: bool,
    /// The workload's `metadata.generation` after kdeck last applied it: a
    /// different one in the cluster means someone else changed the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_generation: Option<i64>,
    /// The digest of the objects kdeck last applied: a different plan now
    /// means settings changed since (not deployed yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_digest: Option<String>,
}

/// How a stored app stands against its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sync {
    /// Stored, not in the cluster yet.
    Draft,
    /// The cluster runs what kdeck last deployed, and the settings are unchanged since.
    Synced,
    /// The cluster's spec was changed by someone else since kdeck's deploy.
    Drift,
    /// The settings changed since the last deploy.
    Pending,
    /// A connector it binds to changed; its pods have the old values.
    NeedsRestart,
}

impl Sync {
    pub fn word(self) -> &'static str {
        match self {
            Sync::Draft => "draft",
            Sync::Synced => "synced",
            Sync::Drift => "drift",
            Sync::Pending => "pending",
            Sync::NeedsRestart => "restart",
        }
    }
}

/// A stored app with its state and the digest of its plan now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Managed {
    pub settings: App,
    pub state: AppState,
    /// None when no plan can be made (a binding to an app no longer stored).
    pub digest: Option<String>,
}

impl Managed {
    /// Where it stands, given the workload's generation in the cluster (None: not there).
    pub fn sync(&self, live_generation: Option<i64>) -> Sync {
        let Some(live) = live_generation else {
            return Sync::Draft;
        };
        if self.state.deployed_generation.is_some_and(|g| g != live) {
            Sync::Drift
        } else if self.digest.is_none() || self.digest != self.state.deployed_digest {
            Sync::Pending
        } else if self.state.needs_restart {
            Sync::NeedsRestart
        } else {
            Sync::Synced
        }
    }
}

fn managed_of(ex: &Executor, settings: App) -> Result<Managed, Failure> {
    let state = state_of(ex, &settings.app)?;
    let digest = plan_with(ex, settings.clone(), &state)
        .ok()
        .map(|(_, d, shared)| digest_of(&d, shared.as_ref()));
    Ok(Managed {
        settings,
        state,
        digest,
    })
}

/// Every stored app, with its state and plan digest.
pub fn managed(ex: &Executor) -> Result<Vec<Managed>, Failure> {
    ex.store()
        .list::<App>()?
        .into_iter()
        .map(|settings| managed_of(ex, settings))
        .collect()
}

/// Where one stored app stands, asking its cluster for the workload's generation.
pub async fn sync_of(ex: &Executor, a: &AppRef) -> Result<Sync, Failure> {
    let m = managed_of(ex, stored_app(ex, a)?)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let kind = match m.settings.kind {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
    };
    let ar = resource("apps/v1", kind).ok_or_else(|| invalid(format!("kdeck cannot read a {kind}")))?;
    let api: Api<DynamicObject> = Api::namespaced_with(client, &a.space.namespace, &ar);
    let live = api
        .get_opt(&a.name)
        .await
        .map_err(|e| cluster_failure(describe(&cluster, "get", &e)))?;
    Ok(m.sync(live.map(|o| o.metadata.generation.unwrap_or(0))))
}

/// A stable digest of the objects a plan applies (FNV-1a over their JSON).
pub fn digest_of(d: &Derived, shared: Option<&Value>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for o in d.objects().into_iter().chain(shared) {
        for b in o.to_string().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

impl Entity for AppState {
    const TREE: &'static str = "app_state";
    fn key(&self) -> String {
        self.app.as_ref().map(ToString::to_string).unwrap_or_default()
    }
}

fn parse_app(s: &str) -> Result<AppRef, Failure> {
    AppRef::parse("app", s).map_err(|e| invalid(e.to_string()))
}

fn stored_app(ex: &Executor, a: &AppRef) -> Result<App, Failure> {
    ex.store().get::<App>(&a.to_string())?.ok_or_else(|| {
        invalid(format!(
            "kdeck has no settings for app {a}; if it runs in the cluster, `kdeck apps adopt {a}` manages it; else `kdeck apps create {a} --image IMAGE` makes it"
        ))
    })
}

/// An app kdeck has no settings for: its workload in the cluster, found by
/// name (a Deployment, else a StatefulSet), to act on as kubectl would.
async fn unmanaged(ex: &Executor, a: &AppRef) -> Result<(Cluster, Api<DynamicObject>, &'static str), Failure> {
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    for kind in ["Deployment", "StatefulSet"] {
        let Some(ar) = resource("apps/v1", kind) else { continue };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        match api.get_opt(&a.name).await {
            Ok(Some(_)) => return Ok((cluster, api, kind)),
            Ok(None) => {}
            Err(e) => return Err(cluster_failure(describe(&cluster, "get", &e))),
        }
    }
    Err(invalid(format!(
        "no app {a}: neither kdeck's settings nor a Deployment or StatefulSet {} in {}; create it with `kdeck apps create {a} --image IMAGE`",
        a.name, a.space
    )))
}

/// Scales or restarts an app kdeck does not manage, on its cluster object
/// (a merge patch, as `kubectl scale` and `kubectl rollout restart` do).
async fn patch_unmanaged(ex: &Executor, a: &AppRef, patch: Value, what: &str) -> Result<Applied, Failure> {
    let (cluster, api, kind) = unmanaged(ex, a).await?;
    let item = match api.patch(&a.name, &PatchParams::default(), &Patch::Merge(&patch)).await {
        Ok(_) => ItemOutcome::ok(
            a.to_string(),
            format!(
                "{what} ({} in the cluster; `kdeck apps adopt {a}` lets kdeck manage it)",
                kind.to_ascii_lowercase()
            ),
        ),
        Err(e) => {
            let p = describe(&cluster, "patch", &e);
            ItemOutcome::failed(a.to_string(), p.message, p.code)
        }
    };
    Ok(Applied {
        items: vec![item],
        batch: Batch::new(),
    })
}

fn state_of(ex: &Executor, a: &AppRef) -> Result<AppState, Failure> {
    Ok(ex.store().get::<AppState>(&a.to_string())?.unwrap_or(AppState {
        app: Some(a.clone()),
        ..Default::default()
    }))
}

pub fn domains_of(ex: &Executor, cluster: &str) -> Result<Vec<Domain>, Failure> {
    Ok(ex.store().list_prefix::<Domain>(&format!("{cluster}/"))?)
}

fn routes_of(ex: &Executor, a: &AppRef) -> Result<Vec<Route>, Failure> {
    Ok(ex
        .store()
        .list::<Route>()?
        .into_iter()
        .filter(|r| r.app == *a)
        .collect())
}

/// Creation arguments, as the CLI and the form give them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApp {
    pub app: String,
    pub image: String,
    #[serde(default)]
    pub stateful: bool,
    #[serde(default = "one")]
    pub replicas: u32,
    #[serde(default)]
    pub ports: Vec<u16>,
    /// `NAME=VALUE`.
    #[serde(default)]
    pub env: Vec<String>,
    /// Route hosts; an empty string asks for the default host.
    #[serde(default)]
    pub routes: Vec<String>,
    /// `NAME:key=value,key=secret:SECRET/KEY`.
    #[serde(default)]
    pub connectors: Vec<String>,
    /// `NAME:SIZE[:PATH][:ACCESS]`: a volume kdeck claims for the app (one
    /// per pod for a StatefulSet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// A saved app (a solution) to start from; the fields above add to it,
    /// and a non-empty image replaces its image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Box<App>>,
}

/// Writes a connector back as `NAME:key=value,key=secret:SECRET/KEY`.
pub fn connector_spec(c: &Connector) -> String {
    let values: Vec<String> = c
        .values
        .iter()
        .map(|(k, v)| match v {
            ConnectorValue::Value(x) => format!("{k}={x}"),
            ConnectorValue::SecretKey { name, key } => format!("{k}=secret:{name}/{key}"),
        })
        .collect();
    format!("{}:{}", c.name, values.join(","))
}

/// Reads `NAME:SIZE[:PATH][:ACCESS]`: a claim kdeck makes for the app,
/// mounted at PATH (default `/data/NAME`), ReadWriteOnce unless ACCESS says
/// RWO, ROX, RWX or RWOP (or the full mode name).
pub fn parse_volume(spec: &str) -> Result<Mount, Failure> {
    let bad = |why: String| {
        invalid(format!(
            "--volume {spec:?}: {why}; give NAME:SIZE[:PATH][:ACCESS], e.g. data:10Gi:/var/lib/data:RWO"
        ))
    };
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() < 2 || parts.len() > 4 {
        return Err(bad("expected 2 to 4 parts separated by ':'".into()));
    }
    let (name, size) = (parts[0], parts[1]);
    let path = parts
        .get(2)
        .filter(|p| !p.is_empty())
        .map_or_else(|| format!("/data/{name}"), |p| p.to_string());
    let access = match parts.get(3).copied().unwrap_or("RWO") {
        "RWO" | "ReadWriteOnce" => AccessMode::ReadWriteOnce,
        "ROX" | "ReadOnlyMany" => AccessMode::ReadOnlyMany,
        "RWX" | "ReadWriteMany" => AccessMode::ReadWriteMany,
        "RWOP" | "ReadWriteOncePod" => AccessMode::ReadWriteOncePod,
        other => return Err(bad(format!("access mode {other:?} is not RWO, ROX, RWX or RWOP"))),
    };
    let size_ok = size
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .parse::<u64>()
        .is_ok_and(|n| n > 0)
        && ["", "Ki", "Mi", "Gi", "Ti", "Pi", "k", "M", "G", "T", "P"]
            .contains(&size.trim_start_matches(|c: char| c.is_ascii_digit()));
    if !size_ok {
        return Err(bad(format!("size {size:?} is not a quantity such as 500Mi or 10Gi")));
    }
    if !path.starts_with('/') {
        return Err(bad(format!("path {path:?} is not absolute")));
    }
    Ok(Mount {
        name: name.to_string(),
        path,
        read_only: false,
        source: MountSource::VolumeClaim {
            claim: None,
            size: size.to_string(),
            access_mode: access,
            storage_class: None,
        },
    })
}

/// Reads `NAME:key=value,key=secret:SECRET/KEY`.
pub fn parse_connector(spec: &str) -> Result<Connector, Failure> {
    let bad = |why: &str| {
        invalid(format!(
            "--connector {spec:?}: {why}; write NAME:key=value,key=secret:SECRET/KEY"
        ))
    };
    let (name, rest) = spec.split_once(':').ok_or_else(|| bad("no ':' after the name"))?;
    let mut values = std::collections::BTreeMap::new();
    for kv in rest.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| bad(&format!("{kv:?} is not key=value")))?;
        let value = match v.strip_prefix("secret:") {
            Some(sk) => {
                let (secret, key) = sk
                    .split_once('/')
                    .ok_or_else(|| bad(&format!("{v:?} is not secret:SECRET/KEY")))?;
                ConnectorValue::SecretKey {
                    name: secret.to_string(),
                    key: key.to_string(),
                }
            }
            None => ConnectorValue::Value(v.to_string()),
        };
        values.insert(k.to_string(), value);
    }
    let c = Connector {
        name: name.to_string(),
        values,
    };
    c.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(c)
}

fn one() -> u32 {
    1
}

/// The route for `host` (`""`: `<app>-<space>.<default domain>`).
fn make_route(ex: &Executor, a: &AppRef, host: &str) -> Result<Route, Failure> {
    let host = if host.is_empty() {
        let domains = domains_of(ex, &a.space.cluster)?;
        let d = domains.first().ok_or_else(|| {
            invalid(format!(
                "cluster {} has no domain for a default route host; add one with `kdeck domains add {} SUFFIX`, or give --route HOST",
                a.space.cluster, a.space.cluster
            ))
        })?;
        derive::default_host(a, d)
    } else {
        host.to_string()
    };
    let r = Route {
        app: a.clone(),
        host,
        path: "/".into(),
        port: None,
        ingress: IngressMode::Own,
        tls_secret: None,
    };
    r.validate().map_err(|e| invalid(e.to_string()))?;
    // A host and path belong to one app in a cluster.
    if let Some(other) = ex.store().get::<Route>(&r.key())?
        && other.app != *a
    {
        return Err(invalid(format!(
            "route {}{} is already used by {} on cluster {}",
            r.host,
            if r.path == "/" { "" } else { &r.path },
            other.app,
            a.space.cluster
        )));
    }
    Ok(r)
}

pub(super) fn create(ex: &Executor, n: &NewApp) -> Result<Applied, Failure> {
    let a = parse_app(&n.app)?;
    cluster_of(ex, &a.space.cluster)?;
    if ex.store().get::<App>(&a.to_string())?.is_some() {
        return Err(invalid(format!(
            "app {a} exists already; `kdeck apps show {a}` shows it"
        )));
    }
    let mut app = match &n.template {
        Some(t) => {
            let mut t = (**t).clone();
            t.app = a.clone();
            if !n.image.is_empty() {
                t.image = n.image.clone();
            }
            t
        }
        None => {
            let mut app = App::new(a.clone(), n.image.clone());
            app.kind = if n.stateful {
                WorkloadKind::StatefulSet
            } else {
                WorkloadKind::Deployment
            };
            app.replicas = n.replicas;
            app
        }
    };
    for p in &n.ports {
        if !app.ports.iter().any(|x| x.port == *p) {
            app.ports.push(AppPort {
                port: *p,
                name: None,
                protocol: Protocol::Tcp,
            });
        }
    }
    for e in &n.env {
        let Some((k, v)) = e.split_once('=') else {
            return Err(invalid(format!("--env {e:?}: must be NAME=VALUE")));
        };
        app.env.retain(|x| x.name != k);
        app.env.push(EnvEntry {
            name: k.to_string(),
            source: EnvSource::Value(v.to_string()),
        });
    }
    for c in &n.connectors {
        let c = parse_connector(c)?;
        app.connectors.retain(|x| x.name != c.name);
        app.connectors.push(c);
    }
    for v in &n.volumes {
        let m = parse_volume(v)?;
        app.mounts.retain(|x| x.name != m.name);
        app.mounts.push(m);
    }
    app.validate().map_err(|e| invalid(e.to_string()))?;
    let mut batch = Batch::new();
    let mut items = vec![ItemOutcome::ok(
        a.to_string(),
        "stored as a draft; nothing in the cluster yet",
    )];
    for h in &n.routes {
        let r = make_route(ex, &a, h)?;
        items.push(ItemOutcome::ok(format!("route {}", r.host), "stored"));
        batch.put(&r)?;
    }
    if !n.routes.is_empty() && app.ports.is_empty() {
        return Err(invalid(format!(
            "app {a}: a route needs a port to send traffic to; add --port PORT"
        )));
    }
    batch.put(&app)?;
    Ok(Applied { items, batch })
}

/// The kinds kdeck applies, as API resources.
/// The API resource of a kind kdeck applies.
fn resource(_api_version: &str, kind: &str) -> Option<ApiResource> {
    kdeck_fleet::kinds::resource(kind).map(|r| r.0)
}

fn describe_obj(o: &Value) -> String {
    format!(
        "{} {}",
        o["kind"].as_str().unwrap_or("?").to_ascii_lowercase(),
        o["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// Server-side apply of one object.
async fn apply(client: &kube::Client, cluster: &Cluster, o: &Value) -> ItemOutcome {
    apply_gen(client, cluster, o).await.0
}

/// Server-side apply of one object, with its generation after the apply.
async fn apply_gen(client: &kube::Client, cluster: &Cluster, o: &Value) -> (ItemOutcome, Option<i64>) {
    let what = describe_obj(o);
    let (Some(ar), Some(ns), Some(name)) = (
        resource(o["apiVersion"].as_str().unwrap_or(""), o["kind"].as_str().unwrap_or("")),
        o["metadata"]["namespace"].as_str(),
        o["metadata"]["name"].as_str(),
    ) else {
        return (
            ItemOutcome::failed(what, "kdeck cannot apply this kind of object", None),
            None,
        );
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    let pp = kdeck_fleet::gateway::apply_params();
    match api.patch(name, &pp, &Patch::Apply(o)).await {
        Ok(done) => (ItemOutcome::ok(what, "applied"), done.metadata.generation),
        Err(e) => {
            let p = describe(cluster, &format!("apply {}", o["kind"].as_str().unwrap_or("")), &e);
            (ItemOutcome::failed(what, p.message, p.code), None)
        }
    }
}

/// Everything deploy needs, read from the store: the derived objects.
pub fn plan(ex: &Executor, a: &AppRef) -> Result<(App, Derived, Option<Value>), Failure> {
    let app = stored_app(ex, a)?;
    let state = state_of(ex, a)?;
    plan_with(ex, app, &state)
}

/// The plan for given settings and state (not yet stored), with everything
/// else from the store.
fn plan_with(ex: &Executor, app: App, state: &AppState) -> Result<(App, Derived, Option<Value>), Failure> {
    let routes = routes_of(ex, &app.app)?;
    plan_with_routes(ex, app, state, routes)
}

/// [`plan_with`], with the app's routes given (not yet stored).
fn plan_with_routes(
    ex: &Executor,
    app: App,
    state: &AppState,
    routes: Vec<Route>,
) -> Result<(App, Derived, Option<Value>), Failure> {
    let a = &app.app;
    let domains = domains_of(ex, &a.space.cluster)?;
    let mut bound = Vec::new();
    for b in ex.store().list::<Binding>()?.into_iter().filter(|b| b.consumer == *a) {
        let provider = ex.store().get::<App>(&b.provider.to_string())?.ok_or_else(|| {
            invalid(format!(
                "{a} binds to {}, which is not a stored app; `kdeck apps list` shows the apps, `kdeck bind` changes bindings",
                b.provider
            ))
        })?;
        let routes = routes_of(ex, &b.provider)?;
        bound.push(BoundProvider {
            binding: b,
            provider,
            routes,
        });
    }
    let mut shown = app.clone();
    if state.stopped {
        shown.replicas = 0;
    }
    let derived = derive::derive(Inputs {
        app: &shown,
        routes: &routes,
        domains: &domains,
        bindings: &bound,
        restarted_at: state.restarted_at.as_deref(),
    });
    let shared = shared_of(ex, &a.space, &domains)?;
    Ok((app, derived, shared))
}

/// The space's shared Ingress, from every stored app's shared routes there.
pub(super) fn shared_of(ex: &Executor, space: &SpaceRef, domains: &[Domain]) -> Result<Option<Value>, Failure> {
    let mut shared = Vec::new();
    for r in ex.store().list::<Route>()? {
        if r.app.space == *space
            && r.ingress == IngressMode::Shared
            && let Some(owner) = ex.store().get::<App>(&r.app.to_string())?
        {
            shared.push((r, owner));
        }
    }
    Ok(derive::shared_ingress(space, &shared, domains))
}

/// Hosts this app's routes would take that another Ingress in the cluster already serves.
async fn host_conflicts(client: &kube::Client, a: &AppRef, d: &Derived) -> Vec<String> {
    let Some(ar) = resource("networking.k8s.io/v1", "Ingress") else {
        return Vec::new();
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let Ok(list) = api.list(&ListParams::default()).await else {
        return Vec::new();
    };
    let ours: Vec<(String, String)> = d
        .ingresses
        .iter()
        .flat_map(|i| {
            i["spec"]["rules"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|r| {
                    let host = r["host"].as_str().unwrap_or("").to_string();
                    r["http"]["paths"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |p| (host.clone(), p["path"].as_str().unwrap_or("/").to_string()))
                })
        })
        .collect();
    let mut out = Vec::new();
    for ing in list.items {
        let ns = ing.metadata.namespace.clone().unwrap_or_default();
        let name = ing.metadata.name.clone().unwrap_or_default();
        // Ours: one of the app's own Ingresses, now or before (kdeck's labels).
        let labels = ing.metadata.labels.clone().unwrap_or_default();
        let made_for_app = labels.get(derive::NAME) == Some(&a.name) && kdeck_fleet::gateway::is_managed(&labels);
        let mine = ns == a.space.namespace
            && (made_for_app || d.ingresses.iter().any(|i| i["metadata"]["name"] == name.as_str()));
        if mine {
            continue;
        }
        for r in ing.data["spec"]["rules"].as_array().cloned().unwrap_or_default() {
            let host = r["host"].as_str().unwrap_or("");
            for p in r["http"]["paths"].as_array().cloned().unwrap_or_default() {
                let path = p["path"].as_str().unwrap_or("/");
                if ours.iter().any(|(h, pa)| h == host && pa == path) {
                    out.push(format!(
                        "route {host}{} is already served by ingress {ns}/{name} on cluster {}",
                        if path == "/" { "" } else { path },
                        a.space.cluster
                    ));
                }
            }
        }
    }
    out
}

/// Copies the secret values a binding across spaces needs.
async fn copy_secret(
    ex: &Executor,
    a: &AppRef,
    c: &derive::SecretCopy,
    to: &kube::Client,
    cluster: &Cluster,
) -> ItemOutcome {
    let what = format!("secret {}", c.to_name);
    let from_cluster = match cluster_of(ex, &c.from.cluster) {
        Ok(cl) => cl,
        Err(f) => return ItemOutcome::failed(what, f.reason, None),
    };
    let from = match ex.gateway().client(&from_cluster).await {
        Ok(cl) => cl,
        Err(p) => return ItemOutcome::failed(what, p.message, p.code),
    };
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(from, &c.from.namespace);
    let s = match secrets.get(&c.from_name).await {
        Ok(s) => s,
        Err(e) => {
            let p = describe(&from_cluster, "get secrets", &e);
            return ItemOutcome::failed(
                what,
                format!("reading {}/{}: {}", c.from, c.from_name, p.message),
                p.code,
            );
        }
    };
    let mut data = serde_json::Map::new();
    for k in &c.keys {
        match s.data.as_ref().and_then(|d| d.get(k)) {
            Some(v) => {
                data.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
            }
            None => {
                return ItemOutcome::failed(what, format!("secret {}/{} has no key {k}", c.from, c.from_name), None);
            }
        }
    }
    let obj = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": c.to_name, "namespace": a.space.namespace,
                     "labels": {derive::MANAGED_BY: derive::MANAGED_BY_KDECK, derive::NAME: a.name}},
        "type": "Opaque", "data": data});
    apply(to, cluster, &obj).await
}

pub(super) async fn deploy(ex: &Executor, app: &str, wait: Option<u64>) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let (settings, derived, shared) = plan(ex, &a)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let conflicts = host_conflicts(&client, &a, &derived).await;
    if !conflicts.is_empty() {
        return Err(invalid(conflicts.join("; ")));
    }
    let mut items = Vec::new();
    for c in &derived.secret_copies {
        items.push(copy_secret(ex, &a, c, &client, &cluster).await);
    }
    let mut generation = None;
    for o in derived.objects() {
        let (item, g) = apply_gen(&client, &cluster, o).await;
        if std::ptr::eq(o, &derived.workload) {
            generation = g;
        }
        items.push(item);
    }
    if let Some(s) = &shared {
        items.push(apply(&client, &cluster, s).await);
    }
    // Own Ingresses of routes that were removed: kdeck made them, kdeck drops them.
    items.extend(prune_ingresses(&client, &cluster, &a, &derived).await);
    let applied = items.iter().all(|i| i.ok);
    if let Some(secs) = wait
        && applied
    {
        items.push(
            wait_rollout(
                &client,
                &cluster,
                &a,
                settings.kind,
                std::time::Duration::from_secs(secs),
            )
            .await,
        );
    }
    let mut state = state_of(ex, &a)?;
    let mut batch = Batch::new();
    if items.iter().any(|i| i.ok) {
        state.deployed_at = Some(ex.now());
        if applied {
            state.deployed_digest = Some(digest_of(&derived, shared.as_ref()));
            state.deployed_generation = generation;
        }
        batch.put(&state)?;
    }
    Ok(Applied { items, batch })
}

/// Changes the stored state or settings, then applies the workload when deployed.
async fn change(
    ex: &Executor,
    app: &str,
    f: impl FnOnce(&mut App, &mut AppState, &str),
    what: &str,
) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let mut settings = stored_app(ex, &a)?;
    let mut state = state_of(ex, &a)?;
    // Synced before the change: the change keeps it synced.
    let before = plan(ex, &a).ok().map(|(_, d, s)| digest_of(&d, s.as_ref()));
    let was_synced = before.is_some() && before == state.deployed_digest;
    f(&mut settings, &mut state, &ex.now());
    settings.validate().map_err(|e| invalid(e.to_string()))?;
    let mut batch = Batch::new();
    batch.put(&settings)?;
    if state.deployed_at.is_none() {
        batch.put(&state)?;
        return Ok(Applied {
            items: vec![ItemOutcome::ok(
                a.to_string(),
                format!("{what} (stored; deploy to apply)"),
            )],
            batch,
        });
    }
    // The new settings land with the journal entry; plan from them as they will be.
    let (_, derived, shared) = plan_with(ex, settings, &state)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let (item, generation) = apply_gen(&client, &cluster, &derived.workload).await;
    if item.ok {
        // The whole workload was applied: kdeck's fields in it are kdeck's again.
        state.deployed_generation = generation;
        if was_synced {
            state.deployed_digest = Some(digest_of(&derived, shared.as_ref()));
        }
    }
    batch.put(&state)?;
    Ok(Applied {
        items: vec![ItemOutcome {
            message: if item.ok {
                what.to_string()
            } else {
                item.message.clone()
            },
            ..item
        }],
        batch,
    })
}

pub(super) async fn scale(ex: &Executor, app: &str, replicas: u32) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    if ex.store().get::<App>(&a.to_string())?.is_none() {
        let patch = json!({"spec": {"replicas": replicas}});
        return patch_unmanaged(ex, &a, patch, &format!("scaled to {replicas}")).await;
    }
    change(
        ex,
        app,
        |s, st, _| {
            s.replicas = replicas;
            st.stopped = false;
        },
        &format!("scaled to {replicas}"),
    )
    .await
}

pub(super) async fn restart(ex: &Executor, app: &str) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    if ex.store().get::<App>(&a.to_string())?.is_none() {
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": ex.now()}}}}});
        return patch_unmanaged(ex, &a, patch, "restarting (rolling)").await;
    }
    change(
        ex,
        app,
        |_, st, now| {
            st.restarted_at = Some(now.to_string());
            st.needs_restart = false;
        },
        "restarting (rolling)",
    )
    .await
}

pub(super) async fn stop(ex: &Executor, app: &str) -> Result<Applied, Failure> {
    change(
        ex,
        app,
        |_, st, _| st.stopped = true,
        "stopped (0 replicas; settings kept)",
    )
    .await
}

pub(super) async fn start(ex: &Executor, app: &str) -> Result<Applied, Failure> {
    change(ex, app, |_, st, _| st.stopped = false, "started").await
}

pub(super) async fn delete(ex: &Executor, app: &str, purge: bool, yes: bool) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    if !yes {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("apps delete {a}: this deletes its objects in the cluster; pass --yes to do it"),
        ));
    }
    if ex.store().get::<App>(&a.to_string())?.is_none() {
        // Not kdeck's: its workload goes; a Service or Ingresses kdeck did not make stay.
        let (cluster, api, kind) = unmanaged(ex, &a).await?;
        let what = format!("{} {}", kind.to_ascii_lowercase(), a.name);
        let item = match api.delete(&a.name, &DeleteParams::default()).await {
            Ok(_) => ItemOutcome::ok(
                what,
                "deleted (its Service and Ingresses, if any, were not kdeck's and stay)",
            ),
            Err(e) => {
                let p = describe(&cluster, "delete", &e);
                ItemOutcome::failed(what, p.message, p.code)
            }
        };
        return Ok(Applied {
            items: vec![item],
            batch: Batch::new(),
        });
    }
    let (_, derived, _) = plan(ex, &a)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let mut items = Vec::new();
    for o in derived.objects().into_iter().rev() {
        let what = describe_obj(o);
        let Some(ar) = resource(o["apiVersion"].as_str().unwrap_or(""), o["kind"].as_str().unwrap_or("")) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        items.push(match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => ItemOutcome::ok(what, "deleted"),
            Err(kube::Error::Api(s)) if s.code == 404 => ItemOutcome::ok(what, "not there"),
            Err(e) => {
                let p = describe(&cluster, "delete", &e);
                ItemOutcome::failed(what, p.message, p.code)
            }
        });
    }
    let mut batch = Batch::new();
    let mut state = state_of(ex, &a)?;
    state.deployed_at = None;
    if purge {
        batch.delete::<App>(&a.to_string());
        batch.delete::<AppState>(&a.to_string());
        for r in routes_of(ex, &a)? {
            batch.delete::<Route>(&r.key());
        }
        for b in ex.store().list::<Binding>()?.into_iter().filter(|b| b.consumer == a) {
            batch.delete::<Binding>(&b.key());
        }
        items.push(ItemOutcome::ok(a.to_string(), "settings forgotten"));
    } else {
        batch.put(&state)?;
    }
    Ok(Applied { items, batch })
}

pub(super) fn add_domain(
    ex: &Executor,
    cluster: &str,
    suffix: &str,
    tls_secret: Option<String>,
    ingress_class: Option<String>,
) -> Result<Applied, Failure> {
    cluster_of(ex, cluster)?;
    let d = Domain {
        cluster: cluster.to_string(),
        suffix: suffix.to_string(),
        tls_secret,
        ingress_class,
    };
    d.validate().map_err(|e| invalid(e.to_string()))?;
    let mut batch = Batch::new();
    batch.put(&d)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(d.key(), "stored")],
        batch,
    })
}

pub(super) fn add_route(ex: &Executor, app: &str, host: &str, shared: bool) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let settings = stored_app(ex, &a)?;
    if settings.ports.is_empty() {
        return Err(invalid(format!("app {a} has no port for a route to send traffic to")));
    }
    let mut r = make_route(ex, &a, host)?;
    if shared {
        r.ingress = IngressMode::Shared;
    }
    let mut batch = Batch::new();
    batch.put(&r)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            format!("route {}", r.host),
            "stored; `kdeck apps deploy` applies it",
        )],
        batch,
    })
}

pub(super) fn bind(
    ex: &Executor,
    consumer: &str,
    provider: &str,
    connector: &str,
    prefix: Option<String>,
) -> Result<Applied, Failure> {
    let c = parse_app(consumer)?;
    let p = parse_app(provider)?;
    stored_app(ex, &c)?;
    let prov = ex.store().get::<App>(&p.to_string())?.ok_or_else(|| {
        invalid(format!(
            "binding target {p}: kdeck has no settings for it, so it offers no connectors; `kdeck apps adopt {p}` manages it, then `kdeck apps edit {p} --connector ...` offers one"
        ))
    })?;
    if !prov.connectors.iter().any(|x| x.name == connector) {
        let offered: Vec<&str> = prov.connectors.iter().map(|x| x.name.as_str()).collect();
        return Err(invalid(format!(
            "app {p} offers no connector {connector:?}; it offers: {}",
            if offered.is_empty() {
                "none".to_string()
            } else {
                offered.join(", ")
            }
        )));
    }
    let b = Binding {
        consumer: c,
        provider: p,
        connector: connector.to_string(),
        env_prefix: prefix,
    };
    b.validate().map_err(|e| invalid(e.to_string()))?;
    let mut batch = Batch::new();
    batch.put(&b)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(b.key(), "stored; deploy the consumer to apply")],
        batch,
    })
}

/// How each of an app's objects compares with the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectDrift {
    pub object: String,
    /// `create` (not in the cluster), `update` (differs) or `unchanged`.
    pub action: &'static str,
    pub changes: Vec<derive::Change>,
}

/// The plan against the cluster: what deploy would create or change.
pub async fn drift(ex: &Executor, a: &AppRef) -> Result<Vec<ObjectDrift>, Failure> {
    let (_, derived, shared) = plan(ex, a)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    drift_of(&cluster, &client, a, &derived, shared.as_ref()).await
}

/// Each derived object against the cluster's.
async fn drift_of(
    cluster: &Cluster,
    client: &kube::Client,
    a: &AppRef,
    derived: &Derived,
    shared: Option<&Value>,
) -> Result<Vec<ObjectDrift>, Failure> {
    let mut out = Vec::new();
    for o in derived.objects().into_iter().chain(shared) {
        let Some(ar) = resource(o["apiVersion"].as_str().unwrap_or(""), o["kind"].as_str().unwrap_or("")) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        let live = api
            .get_opt(name)
            .await
            .map_err(|e| cluster_failure(describe(cluster, "get", &e)))?;
        let object = describe_obj(o);
        out.push(match live {
            None => ObjectDrift {
                object,
                action: "create",
                changes: Vec::new(),
            },
            Some(l) => {
                let lv = serde_json::to_value(&l).unwrap_or(Value::Null);
                let changes = derive::changes(o, &lv);
                ObjectDrift {
                    object,
                    action: if changes.is_empty() { "unchanged" } else { "update" },
                    changes,
                }
            }
        });
    }
    Ok(out)
}

/// Reads an app kdeck did not create into the store, from its workload and
/// the Ingresses that send traffic to its Service.
/// With `replace`, a stored app takes the cluster's version of the fields
/// adopt reads (image, replicas, ports, env, command, args, resources,
/// labels); the rest of its settings (connectors, mounts, overrides…) stay.
pub(super) async fn adopt(ex: &Executor, app: &str, replace: bool) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let existing = ex.store().get::<App>(&a.to_string())?;
    if existing.is_some() && !replace {
        return Err(invalid(format!(
            "app {a} is stored already; `kdeck apps show {a}` shows it, `kdeck apps adopt {a} --replace` takes the cluster's version over it"
        )));
    }
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let mut found = None;
    for kind in ["Deployment", "StatefulSet"] {
        let Some(ar) = resource("apps/v1", kind) else { continue };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        match api.get_opt(&a.name).await {
            Ok(Some(o)) => {
                found = Some((kind, serde_json::to_value(&o).unwrap_or(Value::Null)));
                break;
            }
            Ok(None) => {}
            Err(e) => return Err(cluster_failure(describe(&cluster, "get", &e))),
        }
    }
    let (kind, w) = found.ok_or_else(|| {
        invalid(format!(
            "no Deployment or StatefulSet {} in space {}; `kdeck apps list --space {}` lists them",
            a.name, a.space, a.space
        ))
    })?;
    let c = &w["spec"]["template"]["spec"]["containers"][0];
    let mut state = match &existing {
        Some(_) => state_of(ex, &a)?,
        None => AppState {
            app: Some(a.clone()),
            ..Default::default()
        },
    };
    let mut settings = existing.clone().unwrap_or_else(|| App::new(a.clone(), ""));
    settings.image = c["image"].as_str().unwrap_or("").to_string();
    settings.ports.clear();
    settings.env.clear();
    settings.labels.clear();
    settings.kind = if kind == "StatefulSet" {
        WorkloadKind::StatefulSet
    } else {
        WorkloadKind::Deployment
    };
    let replicas = w["spec"]["replicas"]
        .as_u64()
        .and_then(|r| u32::try_from(r).ok())
        .unwrap_or(1);
    // Zero replicas on a stored app: stopped, and the count it had stays.
    state.stopped = replicas == 0 && existing.as_ref().is_some_and(|e| e.replicas > 0);
    if !state.stopped {
        settings.replicas = replicas;
    }
    for p in c["ports"].as_array().into_iter().flatten() {
        if let Some(port) = p["containerPort"].as_u64().and_then(|x| u16::try_from(x).ok()) {
            settings.ports.push(AppPort {
                port,
                name: p["name"].as_str().map(str::to_string),
                protocol: if p["protocol"] == "UDP" {
                    Protocol::Udp
                } else {
                    Protocol::Tcp
                },
            });
        }
    }
    for e in c["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap_or("").to_string();
        let source = if let Some(v) = e["value"].as_str() {
            EnvSource::Value(v.to_string())
        } else if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
            EnvSource::SecretKey {
                name: r["name"].as_str().unwrap_or("").into(),
                key: r["key"].as_str().unwrap_or("").into(),
                optional: r["optional"].as_bool().unwrap_or(false),
            }
        } else if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
            EnvSource::ConfigMapKey {
                name: r["name"].as_str().unwrap_or("").into(),
                key: r["key"].as_str().unwrap_or("").into(),
                optional: r["optional"].as_bool().unwrap_or(false),
            }
        } else {
            continue;
        };
        settings.env.push(EnvEntry { name, source });
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    };
    settings.command = strings(&c["command"]);
    settings.args = strings(&c["args"]);
    // Requests and limits: a deploy must not drop what the pods reserve.
    let quantity = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    settings.resources = kdeck_model::Resources {
        cpu_request: quantity(&c["resources"]["requests"]["cpu"]),
        cpu_limit: quantity(&c["resources"]["limits"]["cpu"]),
        memory_request: quantity(&c["resources"]["requests"]["memory"]),
        memory_limit: quantity(&c["resources"]["limits"]["memory"]),
    };
    for (k, v) in w["metadata"]["labels"].as_object().into_iter().flatten() {
        if k != derive::NAME && k != derive::MANAGED_BY {
            settings.labels.insert(k.clone(), v.as_str().unwrap_or("").to_string());
        }
    }
    // The pods keep the labels they have: a deploy rolls none for adopting.
    settings.pod_labels = w
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        });
    settings
        .validate()
        .map_err(|e| invalid(format!("the cluster's {kind} does not fit kdeck's settings: {e}")))?;
    let mut items = vec![ItemOutcome::ok(a.to_string(), format!("adopted from its {kind}"))];
    let mut adopted_routes: Vec<Route> = Vec::new();
    let mut batch = Batch::new();
    // Routes: the Ingress rules that point at a Service of the app's name.
    if let Some(ar) = resource("networking.k8s.io/v1", "Ingress") {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        if let Ok(list) = api.list(&ListParams::default()).await {
            for ing in list.items {
                for r in ing.data["spec"]["rules"].as_array().into_iter().flatten() {
                    for p in r["http"]["paths"].as_array().into_iter().flatten() {
                        if p["backend"]["service"]["name"] != a.name.as_str() {
                            continue;
                        }
                        let route = Route {
                            app: a.clone(),
                            host: r["host"].as_str().unwrap_or("").to_string(),
                            path: p["path"].as_str().unwrap_or("/").to_string(),
                            port: p["backend"]["service"]["port"]["number"]
                                .as_u64()
                                .and_then(|x| u16::try_from(x).ok()),
                            ingress: IngressMode::Own,
                            tls_secret: None,
                        };
                        if route.validate().is_ok() {
                            items.push(ItemOutcome::ok(format!("route {}", route.host), "adopted"));
                            batch.put(&route)?;
                            adopted_routes.push(route);
                        }
                    }
                }
            }
        }
    }
    state.deployed_at = Some(ex.now());
    state.deployed_generation = w["metadata"]["generation"].as_i64();
    // What kdeck holds now is what runs, when a deploy would change nothing
    // (compared as the server stores objects): synced. Otherwise pending, and
    // `apps status` says what a deploy would change.
    let mut routes = routes_of(ex, &a)?;
    routes.retain(|r| !adopted_routes.iter().any(|n| n.key() == r.key()));
    routes.extend(adopted_routes);
    state.deployed_digest = match plan_with_routes(ex, settings.clone(), &state, routes) {
        Ok((_, d, shared)) => {
            let drift = drift_of(&cluster, &client, &a, &d, shared.as_ref()).await?;
            drift
                .iter()
                .all(|o| o.action == "unchanged")
                .then(|| digest_of(&d, shared.as_ref()))
        }
        Err(_) => None,
    };
    batch.put(&settings)?;
    batch.put(&state)?;
    Ok(Applied { items, batch })
}

/// Waits for the app's rollout: ready when every replica is updated and
/// ready; a failure as soon as a pod says why it cannot start (an image
/// that cannot be pulled, a crash loop) or the rollout passes its deadline.
pub async fn wait_rollout(
    client: &kube::Client,
    cluster: &Cluster,
    a: &AppRef,
    kind: WorkloadKind,
    within: std::time::Duration,
) -> ItemOutcome {
    let what = "rollout".to_string();
    let k = if kind == WorkloadKind::StatefulSet {
        "StatefulSet"
    } else {
        "Deployment"
    };
    let Some(ar) = resource("apps/v1", k) else {
        return ItemOutcome::failed(what, "unknown workload kind", None);
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), &a.space.namespace);
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let w = match api.get(&a.name).await {
            Ok(w) => serde_json::to_value(&w).unwrap_or(Value::Null),
            Err(e) => {
                let p = describe(cluster, "get", &e);
                return ItemOutcome::failed(what, p.message, p.code);
            }
        };
        let n = |p: &str| w.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let want = n("/spec/replicas");
        let observed = n("/status/observedGeneration") >= n("/metadata/generation");
        let ready = n("/status/readyReplicas");
        let updated = if k == "Deployment" {
            n("/status/updatedReplicas")
        } else {
            n("/status/currentReplicas").max(ready)
        };
        if observed && ready >= want && updated >= want {
            return ItemOutcome::ok(what, format!("ready {ready}/{want}"));
        }
        if let Some(c) = w["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["reason"] == "ProgressDeadlineExceeded")
        {
            return ItemOutcome::failed(
                what,
                format!(
                    "the rollout stalled: {}",
                    c["message"].as_str().unwrap_or("progress deadline exceeded")
                ),
                None,
            );
        }
        let selector = format!("{}={}", derive::NAME, a.name);
        if let Ok(list) = pods.list(&ListParams::default().labels(&selector)).await {
            for p in &list.items {
                for cs in p
                    .status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .into_iter()
                    .flatten()
                {
                    if let Some(wt) = cs.state.as_ref().and_then(|s| s.waiting.as_ref())
                        && let Some(reason) = wt.reason.as_deref()
                        && matches!(
                            reason,
                            "ImagePullBackOff"
                                | "ErrImagePull"
                                | "InvalidImageName"
                                | "CrashLoopBackOff"
                                | "CreateContainerConfigError"
                        )
                    {
                        return ItemOutcome::failed(
                            what,
                            format!(
                                "pod {} cannot start: {reason}: {}",
                                p.metadata.name.as_deref().unwrap_or("?"),
                                wt.message.as_deref().unwrap_or("")
                            ),
                            None,
                        );
                    }
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return ItemOutcome::failed(
                what,
                format!("not ready within {} s: {ready}/{want} ready", within.as_secs()),
                None,
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Changes to an app's settings; each field left `None` (or empty) stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppEdit {
    pub app: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `NAME=VALUE` to set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_env: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset_env: Vec<String>,
    /// Connectors to add or replace (by name), as in `apps create`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connectors: Vec<String>,
    /// Connectors to remove, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_connectors: Vec<String>,
    /// YAML laid over the workload; an empty text drops the overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<String>,
}

/// Reads overrides as the user wrote them: YAML (or JSON), a mapping.
pub fn parse_overrides(text: &str) -> Result<Option<Value>, Failure> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let v: Value = serde_saphyr::from_str(text)
        .map_err(|e| invalid(format!("not YAML kdeck can read: {}", crate::files::yaml_problem(&e))))?;
    if v.is_null() {
        return Ok(None);
    }
    kdeck_model::app::check_overrides(&v).map_err(|e| invalid(e.to_string()))?;
    Ok(Some(v))
}

/// Edits the stored settings. When a connector changes, the apps bound to it
/// are marked as needing a restart, and the outcome names them.
pub(super) fn edit(ex: &Executor, e: &AppEdit) -> Result<Applied, Failure> {
    let a = parse_app(&e.app)?;
    let mut settings = stored_app(ex, &a)?;
    if let Some(img) = &e.image {
        settings.image = img.clone();
    }
    for kv in &e.set_env {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(invalid(format!("--env {kv:?}: must be NAME=VALUE")));
        };
        settings.env.retain(|x| x.name != k);
        settings.env.push(EnvEntry {
            name: k.to_string(),
            source: EnvSource::Value(v.to_string()),
        });
    }
    for k in &e.unset_env {
        if !settings.env.iter().any(|x| x.name == *k) {
            return Err(invalid(format!("--unset-env {k}: {a} has no env var {k}")));
        }
        settings.env.retain(|x| x.name != *k);
    }
    let mut changed_connectors = Vec::new();
    for spec in &e.connectors {
        let c = parse_connector(spec)?;
        match settings.connectors.iter_mut().find(|x| x.name == c.name) {
            Some(old) if *old == c => {}
            Some(old) => {
                changed_connectors.push(c.name.clone());
                *old = c;
            }
            None => settings.connectors.push(c),
        }
    }
    for name in &e.remove_connectors {
        if !settings.connectors.iter().any(|c| c.name == *name) {
            return Err(invalid(format!(
                "--remove-connector {name}: {a} offers no connector {name}"
            )));
        }
        settings.connectors.retain(|c| c.name != *name);
        changed_connectors.push(name.clone());
    }
    if let Some(text) = &e.overrides {
        settings.overrides = parse_overrides(text)?;
    }
    settings.validate().map_err(|er| invalid(er.to_string()))?;
    derive::check_workload(&settings).map_err(invalid)?;
    let mut batch = Batch::new();
    batch.put(&settings)?;
    let mut items = vec![ItemOutcome::ok(
        a.to_string(),
        "settings changed; `kdeck apps deploy` applies them",
    )];
    for b in ex.store().list::<Binding>()? {
        if b.provider == a && changed_connectors.contains(&b.connector) {
            let mut st = state_of(ex, &b.consumer)?;
            st.needs_restart = true;
            batch.put(&st)?;
            items.push(ItemOutcome::ok(
                b.consumer.to_string(),
                format!(
                    "needs a restart: connector {} changed (`kdeck apps deploy {}` then `kdeck apps restart {}`)",
                    b.connector, b.consumer, b.consumer
                ),
            ));
        }
    }
    Ok(Applied { items, batch })
}

/// Forgets a domain. Routes already made under it keep their hosts.
pub(super) fn remove_domain(ex: &Executor, cluster: &str, suffix: &str) -> Result<Applied, Failure> {
    let key = format!("{cluster}/{suffix}");
    if ex.store().get::<Domain>(&key)?.is_none() {
        return Err(invalid(format!(
            "no domain {suffix} on cluster {cluster}; `kdeck domains list` shows them"
        )));
    }
    let mut batch = Batch::new();
    batch.delete::<Domain>(&key);
    Ok(Applied {
        items: vec![ItemOutcome::ok(key, "forgotten (routes under it keep their hosts)")],
        batch,
    })
}

/// Removes a route from the store; the next deploy of its app (or of its
/// space's shared routes) drops it from the cluster.
pub(super) fn remove_route(ex: &Executor, app: &str, host: &str) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let routes: Vec<Route> = routes_of(ex, &a)?.into_iter().filter(|r| r.host == host).collect();
    if routes.is_empty() {
        let have: Vec<String> = routes_of(ex, &a)?.into_iter().map(|r| r.host).collect();
        return Err(invalid(format!(
            "{a} has no route {host}; its routes: {}",
            if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            }
        )));
    }
    let mut batch = Batch::new();
    let mut items = Vec::new();
    for r in routes {
        batch.delete::<Route>(&r.key());
        items.push(ItemOutcome::ok(
            format!("route {}{}", r.host, if r.path == "/" { "" } else { &r.path }),
            "removed; `kdeck apps deploy` applies it",
        ));
    }
    Ok(Applied { items, batch })
}

/// Deletes the app's own Ingresses (made by kdeck, labelled with its name)
/// that its routes no longer call for.
async fn prune_ingresses(client: &kube::Client, cluster: &Cluster, a: &AppRef, d: &Derived) -> Vec<ItemOutcome> {
    let Some(ar) = resource("networking.k8s.io/v1", "Ingress") else {
        return Vec::new();
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
    let selector = format!(
        "{}={},{}={}",
        derive::NAME,
        a.name,
        derive::MANAGED_BY,
        derive::MANAGED_BY_KDECK
    );
    let Ok(list) = api.list(&ListParams::default().labels(&selector)).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ing in list.items {
        let name = ing.metadata.name.clone().unwrap_or_default();
        if d.ingresses.iter().any(|i| i["metadata"]["name"] == name.as_str()) {
            continue;
        }
        out.push(match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => ItemOutcome::ok(format!("ingress {name}"), "deleted (its route was removed)"),
            Err(e) => {
                let p = describe(cluster, "delete ingresses", &e);
                ItemOutcome::failed(format!("ingress {name}"), p.message, p.code)
            }
        });
    }
    out
}
