//! A kube `Client` for a stored cluster, and cluster errors in words.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

use kdeck_model::Cluster;

/// Why a cluster did not answer, classified so health and commands can say it in words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// 401: the credentials were not accepted.
    Unauthorized,
    /// 403: this user may not do this.
    Forbidden,
    /// The server's certificate was not trusted, or the TLS handshake failed.
    Tls,
    /// The server's name did not resolve.
    Dns,
    /// Nothing listens on the port.
    Refused,
    /// No answer in time.
    Timeout,
    /// The server answered with an error status.
    Server,
    /// The stored settings cannot make a client.
    Config,
    Other,
}

/// The fleet layer's error: a cluster's answer (or silence), in words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    /// The cluster it is about.
    pub cluster: String,
    pub kind: ProblemKind,
    /// One line a user can act on.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// The kubeconfig of one stored cluster, as kube reads it.
fn kubeconfig(c: &Cluster) -> Value {
    let a = &c.auth;
    let exec = a.exec.as_ref().map(|e| {
        json!({
            "apiVersion": e.api_version, "command": e.command, "args": e.args,
            "env": e.env.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
            "interactiveMode": e.interactive_mode, "provideClusterInfo": e.provide_cluster_info, "installHint": e.install_hint,
        })
    });
    let user = if a.user.is_empty() {
        "user".to_string()
    } else {
        a.user.clone()
    };
    json!({
        "apiVersion": "v1", "kind": "Config", "current-context": c.context,
        "clusters": [{"name": c.name, "cluster": {
            "server": c.server, "certificate-authority-data": c.tls.ca_data,
            "insecure-skip-tls-verify": c.tls.insecure_skip_tls_verify, "tls-server-name": c.tls.tls_server_name,
            "proxy-url": c.proxy_url}}],
        "users": [{"name": user, "user": {
            "token": a.token, "tokenFile": a.token_file, "username": a.username, "password": a.password,
            "client-certificate-data": a.client_certificate_data, "client-key-data": a.client_key_data,
            "exec": exec, "auth-provider": a.auth_provider.as_ref().map(|p| json!({"name": p.name, "config": p.config})),
            "as": a.impersonate, "as-groups": if a.impersonate_groups.is_empty() { Value::Null } else { json!(a.impersonate_groups) }}}],
        "contexts": [{"name": c.context, "context": {"cluster": c.name, "user": user, "namespace": c.namespace}}],
    })
}

/// Builds a client for a stored cluster. Sends nothing.
pub(crate) async fn client_for(c: &Cluster) -> Result<kube::Client, Problem> {
    let bad = |e: String| Problem {
        cluster: c.name.clone(),
        kind: ProblemKind::Config,
        message: format!(
            "cluster {}: its stored settings cannot make a client: {e}; re-import it with `kdeck clusters import --update`",
            c.name
        ),
        code: None,
    };
    let kc: Kubeconfig = serde_json::from_value(kubeconfig(c)).map_err(|e| bad(e.to_string()))?;
    let opts = KubeConfigOptions {
        context: Some(c.context.clone()),
        ..Default::default()
    };
    // Either step may run the credential plugin.
    let fail = |e: &(dyn std::error::Error + 'static)| match plugin_failure(c, e) {
        Some(why) => Problem {
            cluster: c.name.clone(),
            kind: ProblemKind::Unauthorized,
            message: format!("cluster {}: {why}", c.name),
            code: None,
        },
        None => bad(e.to_string()),
    };
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| fail(&e))?;
    cfg.connect_timeout = Some(Duration::from_secs(5));
    kube::Client::try_from(cfg).map_err(|e| fail(&e))
}

/// A failed credential plugin in words: its command, its exit code and the
/// last line it wrote to stderr. Never its environment (kube's message
/// carries it, with any secret in it) nor its stdout (where a token goes).
fn plugin_failure(c: &Cluster, e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use kube::client::AuthError;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let cmd = c
        .auth
        .exec
        .as_ref()
        .map(|x| x.command.clone())
        .unwrap_or_else(|| "(the credential plugin)".into());
    while let Some(err) = cur {
        if let Some(a) = err.downcast_ref::<AuthError>() {
            return Some(match a {
                AuthError::AuthExecRun { out, .. } => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    let last = stderr.lines().map(str::trim).rfind(|l| !l.is_empty());
                    format!(
                        "the credential plugin `{cmd}` failed ({}){}; run it by hand to see why, or refresh the login it needs",
                        out.status
                            .code()
                            .map_or("killed by a signal".to_string(), |n| format!("exit code {n}")),
                        last.map(|l| format!(": {}", kdeck_model::printable(l, false)))
                            .unwrap_or_default()
                    )
                }
                AuthError::AuthExecStart(io) => format!(
                    "the credential plugin `{cmd}` could not be started ({}); install it or fix the path in the kubeconfig and re-import",
                    kdeck_model::plain_io(io)
                ),
                AuthError::AuthExecParse(_) => format!(
                    "the credential plugin `{cmd}` printed no ExecCredential kdeck can read; check its apiVersion"
                ),
                AuthError::AuthExec(_) => format!("the credential plugin `{cmd}` failed"),
                other => other.to_string(),
            });
        }
        cur = err.source();
    }
    None
}

/// Every message in an error's source chain, lower-cased, for classification.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// Says what went wrong talking to `cluster`, in words, with the way out.
pub fn describe(cluster: &Cluster, verb: &str, e: &kube::Error) -> Problem {
    let name = &cluster.name;
    if let kube::Error::Api(s) = e {
        let code = Some(s.code);
        return match s.code {
            401 => Problem {
                cluster: name.clone(),
                kind: ProblemKind::Unauthorized,
                message: format!(
                    "cluster {name} rejected the credentials (401 Unauthorized); they may have expired: refresh them with `kdeck clusters import --update`"
                ),
                code,
            },
            403 => Problem {
                cluster: name.clone(),
                kind: ProblemKind::Forbidden,
                message: format!("cluster {name}: forbidden to {verb}: {}", s.message),
                code,
            },
            _ => Problem {
                cluster: name.clone(),
                kind: ProblemKind::Server,
                message: format!("cluster {name}: {} ({} {})", s.message, s.code, s.reason),
                code,
            },
        };
    }
    if let Some(why) = plugin_failure(cluster, e) {
        return Problem {
            cluster: name.clone(),
            kind: ProblemKind::Unauthorized,
            message: format!("cluster {name}: {why}"),
            code: None,
        };
    }
    let text = chain(e);
    let lower = text.to_lowercase();
    let (kind, what) = if lower.contains("connection refused") {
        (
            ProblemKind::Refused,
            format!("nothing answers at {} (connection refused)", cluster.server),
        )
    } else if [
        "unexpected eof",
        "unexpected-eof",
        "close_notify",
        "peer closed connection",
        "connection reset",
        "broken pipe",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        (
            ProblemKind::Refused,
            format!("the connection to {} was cut", cluster.server),
        )
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        (
            ProblemKind::Dns,
            format!("the server name in {} does not resolve (DNS)", cluster.server),
        )
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        (
            ProblemKind::Tls,
            format!("TLS with {} failed: {}", cluster.server, last_part(&text)),
        )
    } else if lower.contains("timed out") || lower.contains("deadline has elapsed") || lower.contains("elapsed") {
        (
            ProblemKind::Timeout,
            format!("{} did not answer in time", cluster.server),
        )
    } else {
        (ProblemKind::Other, last_part(&text).to_string())
    };
    Problem {
        cluster: name.clone(),
        kind,
        message: format!("cluster {name}: {what}"),
        code: None,
    }
}

fn last_part(s: &str) -> &str {
    s.rsplit(": ").next().unwrap_or(s)
}

/// A timeout as a problem, when a call did not finish within its limit.
pub fn timed_out(cluster: &Cluster, after: Duration) -> Problem {
    Problem {
        cluster: cluster.name.clone(),
        kind: ProblemKind::Timeout,
        message: format!(
            "cluster {}: {} did not answer within {} s",
            cluster.name,
            cluster.server,
            after.as_secs()
        ),
        code: None,
    }
}
