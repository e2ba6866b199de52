//! Reading kubeconfig files for `clusters import`, with the merge rules of
//! `KUBECONFIG`: files are read in order and, for every cluster, user and
//! context name, the first file that defines it wins; so does the first
//! `current-context`. Paths inside a file are relative to that file.
//!
//! Files that entries point at (CA, client certificate and key) are read in,
//! so the stored cluster needs no kubeconfig later. Token files are kept as
//! absolute paths because they rotate. Nothing here touches the network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use kube::config::{AuthInfo, Kubeconfig};
use secrecy::ExposeSecret;

use kdeck_model::cluster::{AuthProvider, ExecPlugin};
use kdeck_model::{ClusterAuth, TlsSettings};

/// What is wrong with one entry of a kubeconfig (a user, a cluster), in
/// words that become part of its [`KubeconfigError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct EntryError(String);

impl From<String> for EntryError {
    fn from(s: String) -> Self {
        EntryError(s)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KubeconfigError {
    #[error("{file}: cannot read: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}{}: not a valid kubeconfig: {message}", .line.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Parse {
        file: String,
        line: Option<(u64, u64)>,
        message: String,
    },
    #[error("{files}: no contexts defined; a kubeconfig needs a `contexts:` list")]
    NoContexts { files: String },
    #[error("context {name:?} is not in {files}; it has: {}", .available.join(", "))]
    UnknownContext {
        name: String,
        files: String,
        available: Vec<String>,
    },
    #[error("{file}: context {context:?} names {what} {name:?}, which no file defines")]
    Dangling {
        file: String,
        context: String,
        what: &'static str,
        name: String,
    },
    #[error("{file}: context {context:?}: {problem}")]
    Entry {
        file: String,
        context: String,
        problem: String,
    },
}

impl KubeconfigError {
    /// True when the input could not be read at all (exit 2), as opposed to
    /// a name the user asked for that is not there (also exit 2, as usage).
    pub fn is_unreadable(&self) -> bool {
        matches!(
            self,
            Self::Unreadable { .. } | Self::Parse { .. } | Self::NoContexts { .. } | Self::Entry { .. }
        )
    }
}

/// One file, parsed.
struct Source {
    path: PathBuf,
    config: Kubeconfig,
}

/// The merged view of several kubeconfig files.
pub struct Merged {
    sources: Vec<Source>,
    pub current_context: Option<String>,
}

/// A context resolved to everything needed to reach its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedContext {
    pub context: String,
    /// The file whose entry defined the context.
    pub file: PathBuf,
    pub server: String,
    pub namespace: Option<String>,
    pub tls: TlsSettings,
    pub proxy_url: Option<String>,
    pub auth: ClusterAuth,
}

/// Reads a kubeconfig file into kube's types, naming the file and line on error.
fn parse_file(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    let file = path.display().to_string();
    let text = crate::files::read_text(path, crate::files::KUBECONFIG_LIMIT).map_err(|reason| {
        KubeconfigError::Unreadable {
            file: file.clone(),
            reason: reason.to_string().replace("give a file", "give a kubeconfig file"),
        }
    })?;
    if text.trim().is_empty() {
        return Ok(Kubeconfig::default());
    }
    serde_saphyr::from_str::<Kubeconfig>(&text).map_err(|e| {
        let line = e.location().map(|l| (l.line(), l.column())).filter(|(l, _)| *l > 0);
        // One line, less the snippet the parser renders and the position,
        // which the message puts after the file name.
        let message = crate::files::yaml_message(&e);
        KubeconfigError::Parse {
            file: file.clone(),
            line,
            message,
        }
    })
}

/// Splits `KUBECONFIG`-style lists (`a:b:c`) and drops empty parts.
pub fn split_paths(list: &str) -> Vec<PathBuf> {
    std::env::split_paths(list)
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}

/// Where to read when no file is named: `$KUBECONFIG` (missing files in it
/// are skipped, as kubectl does), else `~/.kube/config`.
pub fn default_files() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let all: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = all.iter().filter(|p| p.exists()).cloned().collect();
        return if existing.is_empty() { all } else { existing };
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    vec![home.join(".kube").join("config")]
}

impl Merged {
    /// Reads and merges the files in order. Every file must exist and parse.
    pub fn load(files: &[PathBuf]) -> Result<Self, KubeconfigError> {
        let mut sources = Vec::new();
        let mut current_context = None;
        for path in files {
            let config = parse_file(path)?;
            if current_context.is_none() {
                current_context = config.current_context.clone().filter(|c| !c.is_empty());
            }
            sources.push(Source {
                path: path.clone(),
                config,
            });
        }
        let merged = Self {
            sources,
            current_context,
        };
        if merged.context_names().is_empty() {
            return Err(KubeconfigError::NoContexts { files: merged.files() });
        }
        Ok(merged)
    }

    fn files(&self) -> String {
        self.sources
            .iter()
            .map(|s| s.path.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Context names in the order they first appear.
    pub fn context_names(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for s in &self.sources {
            for c in &s.config.contexts {
                if !seen.contains(&c.name) {
                    seen.push(c.name.clone());
                }
            }
        }
        seen
    }

    /// Resolves each named context (all, in file order, when `names` is empty).
    pub fn resolve(&self, names: &[String]) -> Result<Vec<ResolvedContext>, KubeconfigError> {
        let available = self.context_names();
        let wanted: Vec<String> = if names.is_empty() {
            available.clone()
        } else {
            names.to_vec()
        };
        let mut out = Vec::new();
        for name in &wanted {
            if !available.contains(name) {
                return Err(KubeconfigError::UnknownContext {
                    name: name.clone(),
                    files: self.files(),
                    available: available.clone(),
                });
            }
            if out.iter().any(|r: &ResolvedContext| &r.context == name) {
                continue;
            }
            out.push(self.resolve_one(name)?);
        }
        Ok(out)
    }

    fn resolve_one(&self, name: &str) -> Result<ResolvedContext, KubeconfigError> {
        // First definition wins for each of context, cluster and user.
        let (ctx_src, ctx) = self
            .sources
            .iter()
            .find_map(|s| s.config.contexts.iter().find(|c| c.name == name).map(|c| (s, c)))
            .ok_or_else(|| KubeconfigError::UnknownContext {
                name: name.into(),
                files: self.files(),
                available: self.context_names(),
            })?;
        let file = ctx_src.path.display().to_string();
        let entry_err = |problem: String| KubeconfigError::Entry {
            file: file.clone(),
            context: name.into(),
            problem,
        };
        let Some(context) = &ctx.context else {
            return Err(entry_err("has no `context:` body (cluster and user)".into()));
        };
        let (cl_src, cluster) = self
            .sources
            .iter()
            .find_map(|s| {
                s.config
                    .clusters
                    .iter()
                    .find(|c| c.name == context.cluster)
                    .map(|c| (s, c))
            })
            .ok_or_else(|| KubeconfigError::Dangling {
                file: file.clone(),
                context: name.into(),
                what: "cluster",
                name: context.cluster.clone(),
            })?;
        let Some(cluster) = &cluster.cluster else {
            return Err(entry_err(format!(
                "cluster {:?} has no `cluster:` body",
                context.cluster
            )));
        };
        let server = cluster
            .server
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| entry_err(format!("cluster {:?} has no server URL", context.cluster)))?;
        if !(server.starts_with("https://") || server.starts_with("http://")) {
            return Err(entry_err(format!(
                "cluster {:?} has server {server:?}; it must be an https:// or http:// URL",
                context.cluster
            )));
        }
        let cl_dir = dir_of(&cl_src.path);
        let ca_data = match (&cluster.certificate_authority_data, &cluster.certificate_authority) {
            (Some(d), _) if !d.is_empty() => {
                Some(check_base64(d).map_err(|e| entry_err(format!("certificate-authority-data {e}")))?)
            }
            (_, Some(p)) if !p.is_empty() => {
                Some(read_b64(&cl_dir, p).map_err(|e| entry_err(format!("certificate-authority {e}")))?)
            }
            _ => None,
        };
        let tls = TlsSettings {
            ca_data,
            insecure_skip_tls_verify: cluster.insecure_skip_tls_verify.unwrap_or(false),
            tls_server_name: cluster.tls_server_name.clone(),
        };
        let auth = match context.user.as_deref().filter(|u| !u.is_empty()) {
            None => ClusterAuth::default(),
            Some(user) => {
                let (u_src, u) = self
                    .sources
                    .iter()
                    .find_map(|s| s.config.auth_infos.iter().find(|a| a.name == user).map(|a| (s, a)))
                    .ok_or_else(|| KubeconfigError::Dangling {
                        file: file.clone(),
                        context: name.into(),
                        what: "user",
                        name: user.into(),
                    })?;
                let info = u.auth_info.clone().unwrap_or_default();
                convert_auth(user, &info, &dir_of(&u_src.path)).map_err(|e| entry_err(e.0))?
            }
        };
        Ok(ResolvedContext {
            context: name.into(),
            file: ctx_src.path.clone(),
            server,
            namespace: context.namespace.clone().filter(|n| !n.is_empty()),
            tls,
            proxy_url: cluster.proxy_url.clone(),
            auth,
        })
    }
}

fn dir_of(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    abs.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn resolve_path(dir: &Path, p: &str) -> PathBuf {
    let expanded = match p.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(rest),
        None => PathBuf::from(p),
    };
    if expanded.is_absolute() {
        expanded
    } else {
        dir.join(expanded)
    }
}

/// Reads a referenced file and returns it base64-encoded.
fn read_b64(dir: &Path, p: &str) -> Result<String, EntryError> {
    let path = resolve_path(dir, p);
    let bytes = crate::files::read_bytes(&path, crate::files::SMALL_LIMIT)
        .map_err(|why| format!("file {}: {why}", path.display()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn check_base64(d: &str) -> Result<String, EntryError> {
    let clean: String = d.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&clean)
        .map(|_| clean)
        .map_err(|e| EntryError(format!("is not valid base64: {e}")))
}

fn convert_auth(user: &str, info: &AuthInfo, dir: &Path) -> Result<ClusterAuth, EntryError> {
    let client_certificate_data = match (&info.client_certificate_data, &info.client_certificate) {
        (Some(d), _) if !d.is_empty() => {
            Some(check_base64(d).map_err(|e| format!("user {user:?} client-certificate-data {e}"))?)
        }
        (_, Some(p)) if !p.is_empty() => {
            Some(read_b64(dir, p).map_err(|e| format!("user {user:?} client-certificate {e}"))?)
        }
        _ => None,
    };
    let client_key_data = match (&info.client_key_data, &info.client_key) {
        (Some(d), _) if !d.expose_secret().is_empty() => {
            Some(check_base64(d.expose_secret()).map_err(|e| format!("user {user:?} client-key-data {e}"))?)
        }
        (_, Some(p)) if !p.is_empty() => Some(read_b64(dir, p).map_err(|e| format!("user {user:?} client-key {e}"))?),
        _ => None,
    };
    if client_certificate_data.is_some() != client_key_data.is_some() {
        return Err(EntryError::from(format!(
            "user {user:?} has a client certificate without a key, or a key without a certificate"
        )));
    }
    let token_file = info
        .token_file
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| resolve_path(dir, t).display().to_string());
    let exec = match &info.exec {
        None => None,
        Some(e) => {
            let command = e
                .command
                .clone()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| format!("user {user:?} exec has no command"))?;
            // kubectl resolves a relative command that has a '/' against the file's directory.
            let command = if command.contains('/') && !Path::new(&command).is_absolute() {
                dir.join(&command).display().to_string()
            } else {
                command
            };
            let mut env = BTreeMap::new();
            for pair in e.env.iter().flatten() {
                match (pair.get("name"), pair.get("value")) {
                    (Some(n), Some(v)) => {
                        env.insert(n.clone(), v.clone());
                    }
                    _ => {
                        return Err(EntryError(format!(
                            "user {user:?} exec env entries need `name` and `value`"
                        )));
                    }
                }
            }
            let interactive_mode = e.interactive_mode.as_ref().map(|m| {
                serde_json::to_value(m)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "IfAvailable".into())
            });
            Some(ExecPlugin {
                api_version: e
                    .api_version
                    .clone()
                    .unwrap_or_else(|| "client.authentication.k8s.io/v1".into()),
                command,
                args: e.args.clone().unwrap_or_default(),
                env,
                interactive_mode,
                provide_cluster_info: e.provide_cluster_info,
                install_hint: e.install_hint.clone(),
            })
        }
    };
    let auth_provider = info.auth_provider.as_ref().map(|p| AuthProvider {
        name: p.name.clone(),
        config: p.config.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    });
    Ok(ClusterAuth {
        user: user.into(),
        token: info
            .token
            .as_ref()
            .map(|t| t.expose_secret().to_string())
            .filter(|t| !t.is_empty()),
        token_file,
        username: info.username.clone().filter(|u| !u.is_empty()),
        password: info.password.as_ref().map(|p| p.expose_secret().to_string()),
        client_certificate_data,
        client_key_data,
        exec,
        auth_provider,
        impersonate: info.impersonate.clone(),
        impersonate_groups: info.impersonate_groups.clone().unwrap_or_default(),
    })
}
