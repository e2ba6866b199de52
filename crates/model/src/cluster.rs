//! A cluster: an API server plus the credentials to reach it, stored whole so
//! that later runs need no kubeconfig.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validate::{ValidationErrors, dns_label};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// kdeck's name for it: a DNS label, unique in the store, the first part
    /// of every space name on it.
    pub name: String,
    /// API server URL.
    pub server: String,
    /// The kubeconfig context it came from; with `server` its identity.
    pub context: String,
    /// The context's default namespace, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default)]
    pub tls: TlsSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    pub auth: ClusterAuth,
    /// Where the import read it from.
    pub source: ImportSource,
    /// kdeck changes nothing in it: every command aimed at it is refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Production, said explicitly (`None`: guessed from the name): its
    /// accent, and a confirm before every change from the cockpit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prod: Option<bool>,
    /// The user's labels (region, tier, cloud…), for choosing clusters by selector.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Cluster {
    /// Production: as set, else when a word of its name says so
    /// (`prod`, `prd`, `production`, `live`).
    pub fn is_prod(&self) -> bool {
        self.prod.unwrap_or_else(|| name_says_prod(&self.name))
    }
}

/// Whether a cluster's name says production.
pub fn name_says_prod(name: &str) -> bool {
    name.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        let w = w.to_ascii_lowercase();
        matches!(w.as_str(), "prd" | "production" | "live") || w.starts_with("prod")
    })
}

impl Cluster {
    /// Two imports describe the same cluster when server and context agree.
    pub fn identity(&self) -> (&str, &str) {
        (&self.server, &self.context)
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(dns_label("cluster name", &self.name));
        if !(self.server.starts_with("https://") || self.server.starts_with("http://")) {
            errs.0.push(super::ValidationError::new(
                "cluster server",
                &self.server,
                "must be an http:// or https:// URL",
            ));
        }
        errs.into_result()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSettings {
    /// PEM of the CA bundle, base64 as in kubeconfig `certificate-authority-data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_data: Option<String>,
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
}

/// How kdeck proves who it is. Mirrors the kubeconfig user entry; files it
/// referenced are read in at import, except token files, which rotate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterAuth {
    /// Name of the kubeconfig user entry.
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Absolute path of a token file, re-read on every use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// base64 PEM, as kubeconfig `client-certificate-data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_data: Option<String>,
    /// base64 PEM, as kubeconfig `client-key-data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecPlugin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<AuthProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonate: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub impersonate_groups: Vec<String>,
}

impl ClusterAuth {
    /// A short word for tables: how this cluster authenticates.
    pub fn method(&self) -> &'static str {
        if self.exec.is_some() {
            "exec"
        } else if self.auth_provider.is_some() {
            "auth-provider"
        } else if self.client_certificate_data.is_some() {
            "client-cert"
        } else if self.token.is_some() || self.token_file.is_some() {
            "token"
        } else if self.username.is_some() {
            "basic"
        } else {
            "none"
        }
    }
}

/// A client-go credential plugin (`users[].user.exec`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecPlugin {
    pub api_version: String,
    /// Absolute when the kubeconfig gave a relative path with a '/'.
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive_mode: Option<String>,
    #[serde(default)]
    pub provide_cluster_info: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_hint: Option<String>,
}

/// A legacy auth provider (`users[].user.auth-provider`), kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthProvider {
    pub name: String,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSource {
    /// The kubeconfig file that defined the context.
    pub file: String,
    pub imported_at: String,
}
