//! Everything kdeck can be asked to change, as plain serializable data:
//! what the journal records before it runs.

use super::*;

/// Everything kdeck can be asked to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Store the contexts of kubeconfig files as clusters.
    ImportClusters {
        /// Absolute paths, merged in order as `KUBECONFIG` would.
        files: Vec<String>,
        /// Contexts to import; all when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        contexts: Vec<String>,
        /// Refresh the credentials of contexts imported before.
        #[serde(default)]
        update: bool,
    },
    /// Forget a cluster and everything stored for it. Changes nothing in it.
    RemoveCluster {
        name: String,
        /// Confirmed: forget the apps stored for it too.
        #[serde(default)]
        yes: bool,
    },
    /// Create a namespace labelled managed-by kdeck, and store it as a space.
    CreateSpace {
        space: String,
    },
    /// Store an existing namespace as a space, changing nothing in it.
    AttachSpace {
        space: String,
    },
    /// Forget a space; the namespace stays as it is.
    DetachSpace {
        space: String,
    },
    /// Delete the namespace, with everything in it, and forget the space.
    DeleteSpace {
        space: String,
        #[serde(default)]
        yes: bool,
    },
    /// Store an app's settings as a draft; nothing happens in the cluster.
    CreateApp(apps::NewApp),
    /// Apply the app's derived objects (server-side apply, manager `kdeck`).
    DeployApp {
        app: String,
        /// Wait this many seconds for the rollout to be ready.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<u64>,
    },
    /// Deploy an earlier revision's settings and routes (the one before the
    /// last when `to` is not given); recorded as the next revision.
    RollbackApp {
        app: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<u32>,
        /// Wait this many seconds for the rollout to be ready.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<u64>,
    },
    /// Change an app's stored settings (applied by the next deploy).
    EditApp(apps::AppEdit),
    /// Copy apps to other spaces, often on other clusters.
    Copy(copy::CopySpec),
    /// A merge patch of one object, as an edit of its YAML made it. Carrying
    /// `metadata.resourceVersion` makes it fail if the object changed since.
    PatchObject {
        cluster: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        namespace: String,
        kind: String,
        name: String,
        patch: serde_json::Value,
    },
    /// Read an app kdeck did not create into the store, to manage it from now on.
    AdoptApp {
        app: String,
        /// Take the cluster's version over stored settings.
        #[serde(default)]
        replace: bool,
    },
    ScaleApp {
        app: String,
        replicas: u32,
    },
    /// Roll the app's pods (a new template annotation).
    RestartApp {
        app: String,
    },
    /// 0 replicas in the cluster; the settings keep the count.
    StopApp {
        app: String,
    },
    StartApp {
        app: String,
    },
    /// Delete the app's objects in the cluster; `purge` forgets its settings too.
    DeleteApp {
        app: String,
        #[serde(default)]
        purge: bool,
        #[serde(default)]
        yes: bool,
    },
    AddDomain {
        cluster: String,
        suffix: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tls_secret: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ingress_class: Option<String>,
    },
    RemoveDomain {
        cluster: String,
        suffix: String,
    },
    RemoveRoute {
        app: String,
        host: String,
    },
    /// A route for an app: `host` empty means `<app>-<space>.<domain>`.
    AddRoute {
        app: String,
        #[serde(default)]
        host: String,
        #[serde(default)]
        shared: bool,
    },
    Bind {
        consumer: String,
        provider: String,
        connector: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    /// An app's build settings; logins become Secrets in its space.
    SetBuild(builds::BuildSet),
    /// Apply kdeck's Pipeline, Tasks and ServiceAccount in a space.
    SetupBuilds {
        space: String,
    },
    /// Start a PipelineRun of an app's build, named `run`.
    StartBuild {
        app: String,
        run: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        revision: Option<String>,
        /// Set the app's image to the built digest and deploy it, when it succeeds.
        #[serde(default)]
        deploy: bool,
    },
    /// Cancel a run (`graceful`: its finally tasks still run).
    CancelBuild {
        run: String,
        #[serde(default)]
        graceful: bool,
    },
    /// A new run, `new_run`, with the same params as `run`.
    RerunBuild {
        run: String,
        new_run: String,
    },
    /// Delete an app's ended runs but the newest `keep`.
    PruneBuilds {
        app: String,
        keep: usize,
    },
    /// Set the app's image to the digest a run built, and deploy it.
    DeployBuild {
        run: String,
    },
    /// Tekton Triggers objects that build an app on a push.
    SetWebhook(builds::WebhookSpec),
    RemoveWebhook {
        app: String,
    },
    /// A role (manager, developer, auditor) on spaces for a subject
    /// (`user:NAME`, `group:NAME`, `sa:NS/NAME`), as RoleBindings.
    GrantRole {
        spaces: Vec<String>,
        subject: String,
        role: String,
    },
    RevokeRole {
        spaces: Vec<String>,
        subject: String,
        role: String,
        /// Revoke bindings kdeck did not make too.
        #[serde(default)]
        force: bool,
    },
    /// The grants kdeck keeps for a space, applied to it again.
    ApplyRoles {
        space: String,
    },
    /// A Helm repository's index, read and kept as a catalog.
    AddCatalog {
        name: String,
        /// http(s), or `file://` with an absolute path.
        url: String,
    },
    /// Read catalogs again (all when none is named).
    RefreshCatalogs {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        names: Vec<String>,
    },
    RemoveCatalog {
        name: String,
    },
    /// A cluster's labels in kdeck (`k=v` set, `k-` removed), for selectors.
    LabelCluster {
        name: String,
        changes: Vec<String>,
    },
    /// An app's autoscaling: a HorizontalPodAutoscaler between bounds, or off.
    AutoscaleApp(apps::AutoscaleSpec),
    /// A new image run beside the app, behind the same Service.
    StartCanary(apps::CanarySpec),
    /// The app takes the canary's image; the canary goes.
    PromoteCanary {
        app: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<u64>,
    },
    /// The canary goes; the app is unchanged.
    AbortCanary {
        app: String,
    },
    /// Keys set and unset in a ConfigMap or Secret; the apps reading it are
    /// marked as needing a restart. A Secret's values are not journalled.
    ChangeConfig(config::ConfigChange),
    /// A space's quota (ResourceQuota) and default requests and limits (LimitRange).
    SetQuota(quota::QuotaSpec),
    /// A chart from a catalog installed (or brought up to date) on clusters,
    /// recorded as Helm records releases; with a selector, saved as a placement.
    InstallChart(market::InstallSpec),
    /// Another version or other values of a release, where it is.
    UpgradeRelease(market::UpgradeSpec),
    /// A release's revision `to` applied again, recorded as a new revision.
    RollbackRelease {
        /// `NAMESPACE/NAME`.
        release: String,
        clusters: Vec<String>,
        to: u32,
    },
    /// A release's objects deleted, and its history unless kept.
    UninstallRelease {
        release: String,
        clusters: Vec<String>,
        #[serde(default)]
        keep_history: bool,
        #[serde(default)]
        yes: bool,
    },
    /// Placements installed again on the clusters their selectors choose now.
    ApplyPlacements {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        names: Vec<String>,
    },
    /// Forget a placement; its releases stay.
    RemovePlacement {
        name: String,
    },
    /// A solution kept in the store, for the marketplace.
    SaveSolution(kdeck_model::Solution),
    RemoveSolution {
        name: String,
    },
    /// A stored solution's apps created and deployed in spaces, step by
    /// step (each step its own journal entry).
    InstallSolution {
        solution: String,
        spaces: Vec<String>,
    },
    /// Make a team: the hub's namespace, and this data dir's shared settings pushed there.
    TeamInit {
        cluster: String,
        namespace: String,
    },
    /// Join the team on a hub: the local copy becomes the hub's.
    TeamJoin {
        cluster: String,
        namespace: String,
        /// Drop local shared settings the team does not have.
        #[serde(default)]
        discard_local: bool,
    },
    /// Leave the team: the settings stay here as local ones.
    TeamLeave,
    /// Put a cluster, credentials and all, in the hub for the team's
    /// members who do not have it (or, `stop`, take it out).
    TeamShareCluster {
        name: String,
        #[serde(default)]
        stop: bool,
    },
    /// A cluster's own settings: read-only, production.
    SetCluster {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        read_only: Option<bool>,
        /// Some(None): back to guessing from the name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prod: Option<Option<bool>>,
    },
}

impl Command {
    /// What the command acts on, in words, for the journal and messages.
    pub fn target(&self) -> String {
        match self {
            Command::ImportClusters { files, contexts, .. } => {
                let what = if contexts.is_empty() {
                    "all contexts".to_string()
                } else {
                    contexts.join(",")
                };
                format!("{what} of {}", files.join(":"))
            }
            Command::RemoveCluster { name, .. }
            | Command::SetCluster { name, .. }
            | Command::LabelCluster { name, .. } => format!("cluster {name}"),
            Command::CreateSpace { space }
            | Command::AttachSpace { space }
            | Command::DetachSpace { space }
            | Command::DeleteSpace { space, .. } => format!("space {space}"),
            Command::CreateApp(n) => format!("app {}", n.app),
            Command::EditApp(e) => format!("app {}", e.app),
            Command::DeployApp { app, .. }
            | Command::RollbackApp { app, .. }
            | Command::AdoptApp { app, .. }
            | Command::ScaleApp { app, .. }
            | Command::RestartApp { app }
            | Command::StopApp { app }
            | Command::StartApp { app }
            | Command::DeleteApp { app, .. }
            | Command::AddRoute { app, .. }
            | Command::StartBuild { app, .. }
            | Command::PruneBuilds { app, .. }
            | Command::RemoveWebhook { app } => format!("app {app}"),
            Command::SetBuild(b) => format!("app {}", b.app),
            Command::AutoscaleApp(s) => format!("app {}", s.app),
            Command::AddCatalog { name, .. } | Command::RemoveCatalog { name } => format!("catalog {name}"),
            Command::RefreshCatalogs { names } if names.is_empty() => "every catalog".to_string(),
            Command::RefreshCatalogs { names } => format!("catalog {}", names.join(",")),
            Command::ChangeConfig(c) => format!("{} {}", c.store.kind().to_ascii_lowercase(), c.target),
            Command::StartCanary(s) => format!("app {}", s.app),
            Command::PromoteCanary { app, .. } | Command::AbortCanary { app } => format!("app {app}"),
            Command::SetQuota(q) => format!("space {}", q.space),
            Command::InstallChart(i) => format!(
                "release {}/{} ({} chart {})",
                i.namespace,
                i.name,
                i.clusters.len(),
                i.chart
            ),
            Command::UpgradeRelease(u) => format!("release {}", u.release),
            Command::RollbackRelease { release, to, .. } => format!("release {release} to revision {to}"),
            Command::UninstallRelease { release, .. } => format!("release {release}"),
            Command::ApplyPlacements { names } if names.is_empty() => "every placement".to_string(),
            Command::ApplyPlacements { names } => format!("placement {}", names.join(",")),
            Command::RemovePlacement { name } => format!("placement {name}"),
            Command::SaveSolution(s) => format!("solution {}", s.name),
            Command::TeamInit { cluster, namespace } | Command::TeamJoin { cluster, namespace, .. } => {
                format!("team on {cluster}/{namespace}")
            }
            Command::TeamLeave => "the team".to_string(),
            Command::TeamShareCluster { name, .. } => format!("cluster {name}"),
            Command::RemoveSolution { name } => format!("solution {name}"),
            Command::InstallSolution { solution, spaces } => format!("solution {solution} in {}", spaces.join(",")),
            Command::SetWebhook(w) => format!("app {}", w.app),
            Command::SetupBuilds { space } | Command::ApplyRoles { space } => format!("space {space}"),
            Command::GrantRole { spaces, subject, role }
            | Command::RevokeRole {
                spaces, subject, role, ..
            } => {
                format!("{role} {subject} on {}", spaces.join(","))
            }
            Command::CancelBuild { run, .. } | Command::RerunBuild { run, .. } | Command::DeployBuild { run } => {
                format!("build {run}")
            }
            Command::AddDomain { cluster, suffix, .. } | Command::RemoveDomain { cluster, suffix } => {
                format!("domain {suffix} on {cluster}")
            }
            Command::RemoveRoute { app, host } => format!("route {host} of {app}"),
            Command::Copy(c) => {
                let from = match (&c.from, c.apps.len()) {
                    (Some(f), 0) => f.clone(),
                    (Some(f), n) => format!("{f} and {n} apps"),
                    (None, n) => format!("{n} apps"),
                };
                format!("{from} to {}", c.to.join(","))
            }
            Command::PatchObject {
                cluster,
                namespace,
                kind,
                name,
                ..
            } => format!("{} {cluster}/{namespace}/{name}", kind.to_ascii_lowercase()),
            Command::Bind { consumer, provider, .. } => format!("{consumer} to {provider}"),
        }
    }

    /// The command's name as the CLI spells it.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::ImportClusters { .. } => "clusters import",
            Command::RemoveCluster { .. } => "clusters remove",
            Command::CreateSpace { .. } => "spaces create",
            Command::AttachSpace { .. } => "spaces attach",
            Command::DetachSpace { .. } => "spaces detach",
            Command::DeleteSpace { .. } => "spaces delete",
            Command::CreateApp(_) => "apps create",
            Command::EditApp(_) => "apps edit",
            Command::DeployApp { .. } => "apps deploy",
            Command::RollbackApp { .. } => "apps rollback",
            Command::AdoptApp { .. } => "apps adopt",
            Command::ScaleApp { .. } => "apps scale",
            Command::RestartApp { .. } => "apps restart",
            Command::StopApp { .. } => "apps stop",
            Command::StartApp { .. } => "apps start",
            Command::DeleteApp { .. } => "apps delete",
            Command::AddDomain { .. } => "domains add",
            Command::RemoveDomain { .. } => "domains remove",
            Command::RemoveRoute { .. } => "routes remove",
            Command::AddRoute { .. } => "routes add",
            Command::Bind { .. } => "bind",
            Command::PatchObject { .. } => "edit",
            Command::Copy(_) => "copy",
            Command::SetBuild(_) => "builds settings",
            Command::SetupBuilds { .. } => "builds setup",
            Command::StartBuild { .. } => "builds start",
            Command::CancelBuild { .. } => "builds cancel",
            Command::RerunBuild { .. } => "builds rerun",
            Command::PruneBuilds { .. } => "builds prune",
            Command::DeployBuild { .. } => "builds deploy",
            Command::SetWebhook(_) => "builds webhook",
            Command::RemoveWebhook { .. } => "builds webhook remove",
            Command::GrantRole { .. } => "roles grant",
            Command::RevokeRole { .. } => "roles revoke",
            Command::ApplyRoles { .. } => "roles apply",
            Command::SetCluster { .. } => "clusters set",
            Command::LabelCluster { .. } => "clusters label",
            Command::AddCatalog { .. } => "catalogs add",
            Command::RefreshCatalogs { .. } => "catalogs refresh",
            Command::RemoveCatalog { .. } => "catalogs remove",
            Command::AutoscaleApp(_) => "apps autoscale",
            Command::ChangeConfig(c) => match (c.store, c.set.is_empty() && c.set_secret.is_empty()) {
                (config::Store::Config, false) => "config set",
                (config::Store::Config, true) => "config unset",
                (config::Store::Secret, false) => "secrets set",
                (config::Store::Secret, true) => "secrets unset",
            },
            Command::StartCanary(_) => "apps canary",
            Command::PromoteCanary { .. } => "apps canary promote",
            Command::AbortCanary { .. } => "apps canary abort",
            Command::SetQuota(_) => "spaces quota",
            Command::InstallChart(_) => "market install",
            Command::UpgradeRelease(_) => "releases upgrade",
            Command::RollbackRelease { .. } => "releases rollback",
            Command::UninstallRelease { .. } => "releases uninstall",
            Command::ApplyPlacements { .. } => "placements apply",
            Command::RemovePlacement { .. } => "placements remove",
            Command::SaveSolution(_) => "solutions save",
            Command::TeamInit { .. } => "team init",
            Command::TeamJoin { .. } => "team join",
            Command::TeamLeave => "team leave",
            Command::TeamShareCluster { stop: false, .. } => "team share",
            Command::TeamShareCluster { stop: true, .. } => "team unshare",
            Command::RemoveSolution { .. } => "solutions remove",
            Command::InstallSolution { .. } => "market install",
        }
    }

    /// The clusters the command acts on (the first part of the apps, spaces
    /// and runs it names); none for those that change only kdeck's own
    /// settings of clusters (import, remove, set).
    pub fn clusters(&self) -> Vec<String> {
        let head = |s: &str| s.split('/').next().unwrap_or_default().to_string();
        let mut out: Vec<String> = match self {
            Command::ImportClusters { .. }
            | Command::RemoveCluster { .. }
            | Command::SetCluster { .. }
            | Command::LabelCluster { .. }
            | Command::AddCatalog { .. }
            | Command::RefreshCatalogs { .. }
            | Command::RemoveCatalog { .. }
            | Command::RemovePlacement { .. }
            | Command::SaveSolution(_)
            | Command::RemoveSolution { .. }
            | Command::TeamLeave
            | Command::TeamShareCluster { .. } => vec![],
            Command::TeamInit { cluster, .. } | Command::TeamJoin { cluster, .. } => vec![cluster.clone()],
            Command::InstallSolution { spaces, .. } => spaces.iter().map(|s| head(s)).collect(),
            // The clusters its selectors choose when it runs.
            Command::ApplyPlacements { .. } => vec![],
            Command::InstallChart(i) => i.clusters.clone(),
            Command::UpgradeRelease(u) => u.clusters.clone(),
            Command::RollbackRelease { clusters, .. } | Command::UninstallRelease { clusters, .. } => clusters.clone(),
            Command::CreateSpace { space }
            | Command::AttachSpace { space }
            | Command::DetachSpace { space }
            | Command::DeleteSpace { space, .. }
            | Command::SetupBuilds { space }
            | Command::ApplyRoles { space } => vec![head(space)],
            Command::CreateApp(n) => vec![head(&n.app)],
            Command::EditApp(e) => vec![head(&e.app)],
            Command::SetBuild(b) => vec![head(&b.app)],
            Command::AutoscaleApp(s) => vec![head(&s.app)],
            Command::ChangeConfig(c) => vec![head(&c.target)],
            Command::StartCanary(s) => vec![head(&s.app)],
            Command::PromoteCanary { app, .. } | Command::AbortCanary { app } => vec![head(app)],
            Command::SetQuota(q) => vec![head(&q.space)],
            Command::SetWebhook(w) => vec![head(&w.app)],
            Command::DeployApp { app, .. }
            | Command::RollbackApp { app, .. }
            | Command::AdoptApp { app, .. }
            | Command::ScaleApp { app, .. }
            | Command::RestartApp { app }
            | Command::StopApp { app }
            | Command::StartApp { app }
            | Command::DeleteApp { app, .. }
            | Command::AddRoute { app, .. }
            | Command::RemoveRoute { app, .. }
            | Command::StartBuild { app, .. }
            | Command::PruneBuilds { app, .. }
            | Command::RemoveWebhook { app } => vec![head(app)],
            Command::CancelBuild { run, .. } | Command::RerunBuild { run, .. } | Command::DeployBuild { run } => {
                vec![head(run)]
            }
            Command::AddDomain { cluster, .. }
            | Command::RemoveDomain { cluster, .. }
            | Command::PatchObject { cluster, .. } => vec![cluster.clone()],
            Command::Bind { consumer, provider, .. } => vec![head(consumer), head(provider)],
            Command::GrantRole { spaces, .. } | Command::RevokeRole { spaces, .. } => {
                spaces.iter().map(|s| head(s)).collect()
            }
            Command::Copy(c) => c
                .apps
                .iter()
                .chain(c.from.iter())
                .chain(c.to.iter())
                .map(|s| head(s))
                .collect(),
        };
        out.sort();
        out.dedup();
        out
    }

    /// Whether it changes something in a cluster (not only kdeck's store:
    /// drafts, settings, routes, domains and bindings wait for a deploy).
    pub fn changes_cluster(&self) -> bool {
        !matches!(
            self,
            Command::ImportClusters { .. }
                | Command::RemoveCluster { .. }
                | Command::SetCluster { .. }
                | Command::LabelCluster { .. }
                | Command::AddCatalog { .. }
                | Command::RefreshCatalogs { .. }
                | Command::RemoveCatalog { .. }
                | Command::RemovePlacement { .. }
                | Command::SaveSolution(_)
                | Command::RemoveSolution { .. }
                | Command::TeamInit { .. }
                | Command::TeamJoin { .. }
                | Command::TeamLeave
                | Command::TeamShareCluster { .. }
                | Command::DetachSpace { .. }
                | Command::CreateApp(_)
                | Command::EditApp(_)
                | Command::Bind { .. }
                | Command::AddDomain { .. }
                | Command::RemoveDomain { .. }
                | Command::AddRoute { .. }
                | Command::RemoveRoute { .. }
        )
    }

    /// Commands that lose something unless confirmed.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Command::RemoveCluster { .. }
                | Command::DeleteSpace { .. }
                | Command::DeleteApp { .. }
                | Command::CancelBuild { .. }
                | Command::PruneBuilds { .. }
                | Command::RemoveWebhook { .. }
                | Command::RevokeRole { .. }
                | Command::AbortCanary { .. }
                | Command::UninstallRelease { .. }
        )
    }
}
