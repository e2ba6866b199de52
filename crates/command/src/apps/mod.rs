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

mod adopt;
mod canary;
mod create;
mod deploy;
mod edit;
mod lifecycle;
mod release;
mod rollout;
mod scaling;
mod status;
mod volumes;
pub(crate) use adopt::*;
pub use canary::*;
pub use create::*;
pub use deploy::*;
pub use edit::*;
pub(crate) use lifecycle::*;
pub use release::*;
pub use rollout::*;
pub use scaling::*;
pub use status::*;
pub use volumes::*;

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
        // An autoscaler changes the replica count, and with it the generation:
        // for an autoscaled app a new generation is not someone else's edit.
        if self.settings.autoscale.is_none() && self.state.deployed_generation.is_some_and(|g| g != live) {
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

pub(crate) fn managed_of(ex: &Executor, settings: App) -> Result<Managed, Failure> {
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

pub(crate) fn parse_app(s: &str) -> Result<AppRef, Failure> {
    AppRef::parse("app", s).map_err(|e| invalid(e.to_string()))
}

pub(crate) fn stored_app(ex: &Executor, a: &AppRef) -> Result<App, Failure> {
    ex.store().get::<App>(&a.to_string())?.ok_or_else(|| {
        invalid(format!(
            "kdeck has no settings for app {a}; if it runs in the cluster, `kdeck apps adopt {a}` manages it; else `kdeck apps create {a} --image IMAGE` makes it"
        ))
    })
}

/// An app kdeck has no settings for: its workload in the cluster, found by
/// name (a Deployment, else a StatefulSet), to act on as kubectl would.
pub(crate) async fn unmanaged(
    ex: &Executor,
    a: &AppRef,
) -> Result<(Cluster, Api<DynamicObject>, &'static str), Failure> {
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
pub(crate) async fn patch_unmanaged(ex: &Executor, a: &AppRef, patch: Value, what: &str) -> Result<Applied, Failure> {
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

pub(crate) fn state_of(ex: &Executor, a: &AppRef) -> Result<AppState, Failure> {
    Ok(ex.store().get::<AppState>(&a.to_string())?.unwrap_or(AppState {
        app: Some(a.clone()),
        ..Default::default()
    }))
}

pub fn domains_of(ex: &Executor, cluster: &str) -> Result<Vec<Domain>, Failure> {
    Ok(ex.store().list_prefix::<Domain>(&format!("{cluster}/"))?)
}

pub(crate) fn routes_of(ex: &Executor, a: &AppRef) -> Result<Vec<Route>, Failure> {
    Ok(ex
        .store()
        .list::<Route>()?
        .into_iter()
        .filter(|r| r.app == *a)
        .collect())
}

/// The kinds kdeck applies, as API resources.
/// The API resource of a kind kdeck applies.
pub(crate) fn resource(_api_version: &str, kind: &str) -> Option<ApiResource> {
    kdeck_fleet::kinds::resource(kind).map(|r| r.0)
}

pub(crate) fn describe_obj(o: &Value) -> String {
    format!(
        "{} {}",
        o["kind"].as_str().unwrap_or("?").to_ascii_lowercase(),
        o["metadata"]["name"].as_str().unwrap_or("?")
    )
}
