//! The PaaS words on top of Kubernetes: routes, domains, connectors,
//! bindings, builds, solutions, catalogs and roles.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::space::{AppRef, SpaceRef};
use super::validate::{
    ValidationError, ValidationErrors, dns_label, dns_subdomain, env_name, git_url, host, http_path, image, port,
};

/// `host[/path] -> app:port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub app: AppRef,
    pub host: String,
    #[serde(default = "root")]
    pub path: String,
    /// The app port; the app's first port when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub ingress: IngressMode,
    /// Overrides the domain's wildcard certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
}

fn root() -> String {
    "/".into()
}

impl Route {
    /// Store key: routes are unique by host and path within a space's cluster.
    pub fn key(&self) -> String {
        format!("{}/{}{}", self.app.space.cluster, self.host, self.path)
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(host("route host", &self.host));
        errs.push(http_path("route path", &self.path));
        if let Some(p) = self.port {
            errs.push(port("route port", u32::from(p)));
        }
        if let Some(s) = &self.tls_secret {
            errs.push(dns_subdomain("route TLS secret", s));
        }
        errs.into_result()
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{} -> {}",
            self.host,
            if self.path == "/" { "" } else { &self.path },
            self.app
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngressMode {
    /// One Ingress per route (the default).
    #[default]
    Own,
    /// One shared Ingress per space holds all its shared routes.
    Shared,
}

/// A DNS suffix on one cluster, with its wildcard certificate and ingress class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub cluster: String,
    /// e.g. `apps.eu1.example.com`; routes use `<name>.<suffix>`.
    pub suffix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_class: Option<String>,
}

impl Domain {
    pub fn key(&self) -> String {
        format!("{}/{}", self.cluster, self.suffix)
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(dns_label("domain cluster", &self.cluster));
        errs.push(host("domain suffix", &self.suffix));
        if self.suffix.starts_with("*.") {
            errs.0.push(
                ValidationError::new("domain suffix", &self.suffix, "is a suffix; leave out the '*.'")
                    .with_suggestion(self.suffix.trim_start_matches("*.")),
            );
        }
        if let Some(s) = &self.tls_secret {
            errs.push(dns_subdomain("domain TLS secret", s));
        }
        if let Some(c) = &self.ingress_class {
            errs.push(dns_subdomain("ingress class", c));
        }
        errs.into_result()
    }
}

impl ValidationError {
    pub fn with_suggestion(mut self, s: &str) -> Self {
        self.suggestion = Some(s.to_string());
        self
    }
}

/// Named values an app offers to the apps that bind to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connector {
    pub name: String,
    /// key (e.g. `url`, `host`, `port`, `user`, `password`) to value.
    pub values: BTreeMap<String, ConnectorValue>,
}

impl Connector {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(dns_label("connector name", &self.name));
        for (k, v) in &self.values {
            errs.push(env_name("connector key", k));
            if let ConnectorValue::SecretKey { name, key } = v {
                errs.push(dns_subdomain("connector secret", name));
                errs.push(super::app::config_key("connector secret key", key));
            }
        }
        errs.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorValue {
    Value(String),
    /// Read from a Secret in the provider's space (copied when bound across spaces).
    SecretKey {
        name: String,
        key: String,
    },
}

/// App `consumer` uses connector `connector` of app `provider`: each of the
/// connector's keys becomes an env var `<PREFIX>_<KEY>` in the consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub consumer: AppRef,
    pub provider: AppRef,
    pub connector: String,
    /// Defaults to the provider's name in upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_prefix: Option<String>,
}

impl Binding {
    pub fn key(&self) -> String {
        format!("{}>{}:{}", self.consumer, self.provider, self.connector)
    }

    pub fn prefix(&self) -> String {
        self.env_prefix
            .clone()
            .unwrap_or_else(|| self.provider.name.to_ascii_uppercase().replace('-', "_"))
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(dns_label("connector name", &self.connector));
        errs.push(env_name("env prefix", &self.prefix()));
        if self.consumer == self.provider {
            errs.0.push(ValidationError::new(
                "binding",
                &self.consumer.to_string(),
                "an app cannot bind to itself",
            ));
        }
        errs.into_result()
    }
}

/// How an app's image is built by a Tekton PipelineRun.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSettings {
    pub git_url: String,
    #[serde(default = "main_branch")]
    pub revision: String,
    /// Subdirectory of the repository holding the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_dir: Option<String>,
    /// Registry to push to, e.g. `registry.example.com/team`.
    pub registry: String,
    /// Image name pushed to the registry (the app's name when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The Dockerfile, relative to the context dir (`Dockerfile` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    /// The Secret (in the app's space) holding the git login, made by kdeck
    /// from what the user gave; absent for a public repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_secret: Option<String>,
    /// The Secret (type `kubernetes.io/dockerconfigjson`) holding the
    /// registry login, made by kdeck from what the user gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_secret: Option<String>,
}

fn main_branch() -> String {
    "main".into()
}

impl BuildSettings {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(git_url("git url", &self.git_url));
        if self.revision.trim().is_empty() || self.revision.contains(char::is_whitespace) {
            errs.0.push(ValidationError::new(
                "git revision",
                &self.revision,
                "must be a branch, tag or commit without spaces",
            ));
        }
        errs.push(
            image("build registry", &format!("{}/x", self.registry.trim_end_matches('/'))).map_err(|mut e| {
                e.value = self.registry.clone();
                e
            }),
        );
        if let Some(i) = &self.image {
            errs.push(image("build image", i));
        }
        for (field, v) in [("context dir", &self.context_dir), ("dockerfile", &self.dockerfile)] {
            if let Some(v) = v
                && (v.starts_with('/') || v.split('/').any(|p| p == "..") || v.contains(char::is_whitespace))
            {
                errs.0.push(ValidationError::new(
                    field,
                    v,
                    "must be a path inside the repository, without spaces, '..' or a leading '/'",
                ));
            }
        }
        errs.into_result()
    }

    /// The image the build pushes, without a tag: `registry/name`.
    pub fn image_repository(&self, app: &str) -> String {
        format!(
            "{}/{}",
            self.registry.trim_end_matches('/'),
            self.image.as_deref().unwrap_or(app)
        )
    }
}

/// A reusable package from the marketplace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub source: SolutionSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolutionSource {
    /// A chart from a catalog's Helm `index.yaml`.
    HelmChart {
        catalog: String,
        chart: String,
        version: String,
        #[serde(default)]
        values: BTreeMap<String, serde_json::Value>,
    },
    /// A saved app with its settings, to be created under a new name.
    AppTemplate { app: Box<super::app::App> },
    /// Apps saved together, with their routes, the bindings between them
    /// and the config they read, to install in another space.
    Apps(Box<Bundle>),
}

/// What a multi-app solution holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// Each app's settings (volumes among them), as saved.
    pub apps: Vec<super::app::App>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SavedRoute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<SavedBinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<SavedConfig>,
}

/// A route of a saved app: installed at the new space's default host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRoute {
    pub app: String,
    #[serde(default)]
    pub shared: bool,
    /// The host it had, for the record (a host is one app's on a cluster).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub was: String,
}

/// A binding between two saved apps, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedBinding {
    pub consumer: String,
    pub provider: String,
    pub connector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// A ConfigMap the apps read, with its data; or a Secret, with its keys
/// only (an install makes new values for the keys its space lacks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedConfig {
    pub name: String,
    #[serde(default)]
    pub secret: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

impl Solution {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(dns_label("solution name", &self.name));
        match &self.source {
            SolutionSource::HelmChart {
                catalog,
                chart,
                version,
                ..
            } => {
                errs.push(dns_label("catalog name", catalog));
                errs.push(dns_subdomain("chart name", chart));
                if version.trim().is_empty() {
                    errs.0
                        .push(ValidationError::new("chart version", version, "must not be empty"));
                }
            }
            SolutionSource::AppTemplate { app } => errs.extend(app.validate()),
            SolutionSource::Apps(b) => {
                for a in &b.apps {
                    errs.extend(a.validate());
                }
                if b.apps.is_empty() {
                    errs.0
                        .push(ValidationError::new("solution apps", "", "must hold at least one app"));
                }
            }
        }
        errs.into_result()
    }
}

/// A Helm chart repository: its `index.yaml` lists the solutions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub name: String,
    /// URL of the `index.yaml` (or of the repository that holds it).
    pub url: String,
    /// When its index was last read (RFC 3339); None before the first read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<String>,
    /// Every version of every chart its index lists, as read then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charts: Vec<ChartVersion>,
}

/// One version of a chart, as a Helm repository's `index.yaml` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartVersion {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Where its archive is, as the index says (relative to the index, or absolute).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

/// A chart placed on the clusters a label selector chooses, saved so that
/// a cluster labelled later gets it too (`kdeck placements apply`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The Helm release's name on every cluster.
    pub release: String,
    pub namespace: String,
    pub catalog: String,
    pub chart: String,
    pub version: String,
    /// A Kubernetes label selector over the clusters' labels in kdeck.
    pub selector: String,
    /// The values given (a YAML mapping), and `--set` pairs on top.
    #[serde(default)]
    pub values: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<String>,
    /// When it was saved or last changed (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
}

impl Placement {
    /// `NAMESPACE/RELEASE`: one placement per release name and namespace.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.release)
    }
}

impl Catalog {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(dns_label("catalog name", &self.name));
        if !(self.url.starts_with("https://") || self.url.starts_with("http://") || self.url.starts_with("file://")) {
            errs.0.push(ValidationError::new(
                "catalog url",
                &self.url,
                "must be an https://, http:// or file:// URL",
            ));
        }
        errs.into_result()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Manager,
    Developer,
    Auditor,
}

impl Role {
    /// The built-in ClusterRole the RoleBinding points at.
    pub fn cluster_role(self) -> &'static str {
        match self {
            Role::Manager => "admin",
            Role::Developer => "edit",
            Role::Auditor => "view",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

/// A role on a space for a user, group or service account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    pub space: SpaceRef,
    pub subject_kind: SubjectKind,
    pub subject: String,
    pub role: Role,
}

impl RoleGrant {
    pub fn key(&self) -> String {
        format!("{}/{:?}/{}", self.space, self.subject_kind, self.subject)
    }

    /// Name of the RoleBinding kdeck writes for this grant.
    pub fn binding_name(&self) -> String {
        let subject = super::validate::to_dns_label(&self.subject);
        let mut n = format!("kdeck-{}-{}", self.role.cluster_role(), subject);
        n.truncate(253);
        n
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.subject.trim().is_empty() {
            errs.0.push(ValidationError::new(
                "subject",
                &self.subject,
                "must name a user, group or service account",
            ));
        }
        if self.subject_kind == SubjectKind::ServiceAccount {
            errs.push(dns_subdomain("service account", &self.subject));
        }
        errs.into_result()
    }
}
