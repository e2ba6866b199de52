//! Creating an app: its settings from what was typed (volumes, connectors,
//! routes), stored as a draft.

use super::*;

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

pub(crate) fn one() -> u32 {
    1
}

/// The route for `host` (`""`: `<app>-<space>.<default domain>`).
pub(crate) fn make_route(ex: &Executor, a: &AppRef, host: &str) -> Result<Route, Failure> {
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

pub(crate) fn create(ex: &Executor, n: &NewApp) -> Result<Applied, Failure> {
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
