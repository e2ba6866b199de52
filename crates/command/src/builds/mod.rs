//! Builds on Tekton: an app's build settings (with its git and registry
//! logins kept as Secrets in its space), setting a space up, starting,
//! cancelling, rerunning and pruning runs, deploying a run's image, and
//! webhooks that build on push. Builds run in the app's own space and
//! cluster; kdeck installs no controller, only namespaced objects.

pub mod manifests;
mod runs;
mod webhook;

pub(crate) use runs::*;
pub use runs::{built_image, new_run_name};
pub use webhook::{Provider, WebhookSpec, webhook_url};
pub(crate) use webhook::{remove_webhook, set_webhook};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::apps::{parse_app, stored_app};
use super::{Applied, Executor, Failure, ItemOutcome, cluster_failure, cluster_of, invalid};
use kdeck_model::{AppRef, BuildSettings, Cluster, SpaceRef};
use kdeck_store::Batch;

/// A login given on the command line or in a form. Never serialized, never
/// printed: it goes into a Secret in the cluster and nowhere else.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Login {{ username: {:?}, password: <hidden> }}", self.username)
    }
}

/// `builds settings`: an app's build settings, and logins to keep as Secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSet {
    pub app: String,
    pub git_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    pub registry: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Kept out of the journal: only whether one was given is recorded.
    #[serde(skip)]
    pub git_login: Option<Login>,
    #[serde(skip)]
    pub registry_login: Option<Login>,
    /// Whether logins were given (what the journal keeps of them).
    #[serde(default)]
    pub logins_given: Vec<String>,
}

/// A build run: `cluster/namespace/name`, the shape of an app's reference.
pub fn parse_run(s: &str) -> Result<(SpaceRef, String), Failure> {
    let a = AppRef::parse("build run", s).map_err(|e| {
        invalid(format!(
            "{}; a run is named CLUSTER/SPACE/RUN as `kdeck builds list` shows it",
            e.to_string()
                .replace("APP", "RUN")
                .replace("eu1/shop/web", "eu1/shop/web-build-x7k2p")
        ))
    })?;
    Ok((a.space, a.name))
}

/// The Secrets of the apps of a space that have build settings.
fn space_secrets(ex: &Executor, space: &SpaceRef) -> Result<Vec<String>, Failure> {
    let mut out: Vec<String> = ex
        .store()
        .list::<kdeck_model::App>()?
        .into_iter()
        .filter(|a| a.app.space == *space)
        .filter_map(|a| a.build)
        .flat_map(|b| [b.git_secret, b.registry_secret])
        .flatten()
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', ':']).next().unwrap_or("").to_string()
}

fn git_secret(ns: &str, name: &str, url: &str, l: &Login) -> Value {
    let scheme = if url.starts_with("http://") { "http" } else { "https" };
    json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
           "metadata": {"name": name, "namespace": ns, "labels": {kdeck_fleet::gateway::MANAGED_BY: kdeck_fleet::gateway::MANAGED_BY_KDECK},
                        "annotations": {"tekton.dev/git-0": format!("{scheme}://{}", host_of(url))}},
           "stringData": {"username": l.username, "password": l.password}})
}

fn registry_secret(ns: &str, name: &str, registry: &str, l: &Login) -> Value {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let host = registry.split('/').next().unwrap_or(registry);
    let config = json!({"auths": {host: {"username": l.username, "password": l.password,
                                         "auth": b64(&format!("{}:{}", l.username, l.password))}}});
    json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
           "metadata": {"name": name, "namespace": ns, "labels": {kdeck_fleet::gateway::MANAGED_BY: kdeck_fleet::gateway::MANAGED_BY_KDECK}},
           "data": {".dockerconfigjson": b64(&config.to_string())}})
}

use crate::apps::apply;

/// `builds settings`: validates, stores, and keeps the logins as Secrets.
pub(crate) async fn set(ex: &Executor, b: &BuildSet) -> Result<Applied, Failure> {
    let a = parse_app(&b.app)?;
    let mut app = stored_app(ex, &a)?;
    let before = app.build.clone();
    let mut settings = BuildSettings {
        git_url: b.git_url.trim().to_string(),
        revision: b
            .revision
            .clone()
            .or_else(|| before.as_ref().map(|x| x.revision.clone()))
            .unwrap_or_else(|| "main".into()),
        context_dir: b.context_dir.clone().filter(|s| !s.is_empty()),
        registry: b.registry.trim().to_string(),
        image: b.image.clone().filter(|s| !s.is_empty()),
        dockerfile: b.dockerfile.clone().filter(|s| !s.is_empty()),
        git_secret: before.as_ref().and_then(|x| x.git_secret.clone()),
        registry_secret: before.as_ref().and_then(|x| x.registry_secret.clone()),
    };
    if b.git_login.is_some() {
        settings.git_secret = Some(format!("{}-git", a.name));
    }
    if b.registry_login.is_some() {
        settings.registry_secret = Some(format!("{}-registry", a.name));
    }
    settings.validate().map_err(|e| invalid(e.to_string()))?;
    for (what, l) in [("git", &b.git_login), ("registry", &b.registry_login)] {
        if let Some(l) = l
            && (l.username.trim().is_empty() || l.password.is_empty())
        {
            return Err(invalid(format!(
                "the {what} login needs both a username and a password (the password from --{what}-password-stdin or ${})",
                if what == "git" {
                    "KDECK_GIT_PASSWORD"
                } else {
                    "KDECK_REGISTRY_PASSWORD"
                }
            )));
        }
    }
    let mut items = Vec::new();
    let ns = &a.space.namespace;
    if b.git_login.is_some() || b.registry_login.is_some() {
        let cluster = cluster_of(ex, &a.space.cluster)?;
        if let (Some(l), Some(name)) = (&b.git_login, &settings.git_secret) {
            items.push(apply(ex, &cluster, &git_secret(ns, name, &settings.git_url, l)).await);
        }
        if let (Some(l), Some(name)) = (&b.registry_login, &settings.registry_secret) {
            items.push(apply(ex, &cluster, &registry_secret(ns, name, &settings.registry, l)).await);
        }
        if items.iter().any(|i| !i.ok) {
            return Ok(Applied {
                items,
                batch: Batch::new(),
            });
        }
        // The runs' ServiceAccount lists the space's logins.
        let mut secrets = space_secrets(ex, &a.space)?;
        secrets.extend(
            [settings.git_secret.clone(), settings.registry_secret.clone()]
                .into_iter()
                .flatten(),
        );
        secrets.sort();
        secrets.dedup();
        items.push(apply(ex, &cluster, &manifests::service_account(ns, &secrets)).await);
    }
    let image = settings.image_repository(&a.name);
    app.build = Some(settings);
    let mut batch = Batch::new();
    batch.put(&app)?;
    items.insert(
        0,
        ItemOutcome::ok(a.to_string(), format!("build settings stored (pushes {image})")),
    );
    Ok(Applied { items, batch })
}

/// The Tekton API a cluster must serve, or the one line that says what to do.
pub(crate) async fn require_api(
    ex: &Executor,
    cluster: &Cluster,
    gv: &str,
    what: &str,
    how: &str,
) -> Result<(), Failure> {
    if ex.gateway().serves(cluster, gv).await.map_err(cluster_failure)? {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} is not installed on cluster {} (it does not serve {gv}); {how}",
            cluster.name
        )))
    }
}

pub(crate) const PIPELINES_HOW: &str = "an admin installs it with `kubectl apply -f https://storage.googleapis.com/tekton-releases/pipeline/latest/release.yaml`, then run this again";

/// What `builds setup SPACE` applies: the objects, in order.
pub fn setup_objects(ex: &Executor, space: &SpaceRef) -> Result<Vec<Value>, Failure> {
    Ok(manifests::setup(&space.namespace, &space_secrets(ex, space)?))
}

/// `builds setup`: checks Tekton is there, then applies kdeck's Pipeline,
/// Tasks, ServiceAccount and RoleBinding in the space.
pub(crate) async fn setup(ex: &Executor, space: &str) -> Result<Applied, Failure> {
    let s = SpaceRef::parse("space", space).map_err(|e| invalid(e.to_string()))?;
    let cluster = cluster_of(ex, &s.cluster)?;
    require_api(ex, &cluster, "tekton.dev/v1", "Tekton Pipelines", PIPELINES_HOW).await?;
    let mut items = Vec::new();
    for o in setup_objects(ex, &s)? {
        items.push(apply(ex, &cluster, &o).await);
    }
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}
