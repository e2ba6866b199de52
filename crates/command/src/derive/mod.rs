//! Derivation: from an app's stored settings to the Kubernetes objects kdeck
//! applies for it. A pure function of its inputs, so a plan can be printed
//! (dry run), compared with the cluster (drift), and tested on its own.
//!
//! - the workload: a Deployment, or a StatefulSet with volumeClaimTemplates
//!   for its own volumes (a Deployment gets a PersistentVolumeClaim each);
//! - a Service for its ports;
//! - an Ingress per route, or one shared Ingress per space for the routes
//!   that ask for it; TLS from the domain's wildcard secret unless the route
//!   names its own;
//! - env from bindings: `<PREFIX>_<KEY>` per connector value, plus `HOST`,
//!   `PORT` and `URL` worked out from where the provider runs (its Service in
//!   the same cluster, its route from another cluster), and one
//!   `KDECK_SERVICES` JSON variable in the style of VCAP_SERVICES.
//!
//! Every object carries `app.kubernetes.io/name` and
//! `app.kubernetes.io/managed-by: kdeck`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use kdeck_model::{
    App, AppRef, Binding, ConnectorValue, Domain, EnvSource, IngressMode, MountSource, ProbeCheck, Route, SpaceRef,
    WorkloadKind,
};

pub use kdeck_fleet::gateway::{MANAGED_BY, MANAGED_BY_KDECK};
pub const NAME: &str = "app.kubernetes.io/name";
/// The Ingress that holds a space's shared routes.
pub const SHARED_INGRESS: &str = "kdeck-routes";
/// Set on the pod template to roll the pods (restart).
pub const RESTARTED_AT: &str = "kdeck.dev/restartedAt";

/// A provider an app binds to, as the derivation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundProvider {
    pub binding: Binding,
    pub provider: App,
    /// The provider's routes (used when it runs on another cluster).
    pub routes: Vec<Route>,
}

/// A Secret kdeck copies so a consumer in another space can read a
/// provider's secret value (the data is read at apply time, never planned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretCopy {
    pub from: SpaceRef,
    pub from_name: String,
    pub to_name: String,
    pub keys: Vec<String>,
}

/// Everything the derivation reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub app: &'a App,
    /// This app's routes.
    pub routes: &'a [Route],
    /// The domains of the app's cluster (the first is the default).
    pub domains: &'a [Domain],
    pub bindings: &'a [BoundProvider],
    /// Set on the pod template when the app was restarted.
    pub restarted_at: Option<&'a str>,
}

/// The objects of one app, in apply order.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub claims: Vec<Value>,
    pub workload: Value,
    pub service: Option<Value>,
    /// Own Ingresses; shared routes go to [`shared_ingress`].
    pub ingresses: Vec<Value>,
    pub secret_copies: Vec<SecretCopy>,
    /// The HorizontalPodAutoscaler, when the app autoscales.
    pub autoscaler: Option<Value>,
}

impl Derived {
    pub fn objects(&self) -> Vec<&Value> {
        let mut v: Vec<&Value> = self.claims.iter().collect();
        v.push(&self.workload);
        v.extend(self.autoscaler.iter());
        v.extend(self.service.iter());
        v.extend(self.ingresses.iter());
        v
    }
}

fn labels(app: &App) -> Value {
    let mut l: BTreeMap<String, String> = app.labels.clone();
    l.insert(NAME.into(), app.app.name.clone());
    l.insert(MANAGED_BY.into(), MANAGED_BY_KDECK.into());
    json!(l)
}

fn meta(app: &App, name: &str) -> Value {
    json!({"name": name, "namespace": app.app.space.namespace, "labels": labels(app)})
}

/// The env var name for a connector key: `DB` + `user` → `DB_USER`.
pub fn env_key(prefix: &str, key: &str) -> String {
    format!("{prefix}_{}", key.to_ascii_uppercase().replace(['-', '.'], "_"))
}

/// The default route host of an app: `<app>-<space>.<domain>`.
pub fn default_host(app: &AppRef, domain: &Domain) -> String {
    format!("{}-{}.{}", app.name, app.space.namespace, domain.suffix)
}

/// The domain a host belongs to: the longest suffix that matches.
pub fn domain_of<'a>(host: &str, domains: &'a [Domain]) -> Option<&'a Domain> {
    let h = host.trim_start_matches("*.");
    domains
        .iter()
        .filter(|d| h == d.suffix || h.ends_with(&format!(".{}", d.suffix)))
        .max_by_key(|d| d.suffix.len())
}

fn service_port(app: &App, route_port: Option<u16>) -> u16 {
    route_port.or_else(|| app.ports.first().map(|p| p.port)).unwrap_or(80)
}

fn port_name(p: &kdeck_model::AppPort) -> String {
    p.name.clone().unwrap_or_else(|| format!("port-{}", p.port))
}

fn probe(p: &kdeck_model::Probe) -> Value {
    let mut v = match &p.check {
        ProbeCheck::Http { path, port } => json!({"httpGet": {"path": path, "port": port}}),
        ProbeCheck::Tcp { port } => json!({"tcpSocket": {"port": port}}),
        ProbeCheck::Exec { command } => json!({"exec": {"command": command}}),
    };
    v["initialDelaySeconds"] = json!(p.initial_delay_seconds);
    v["periodSeconds"] = json!(p.period_seconds);
    v["timeoutSeconds"] = json!(p.timeout_seconds);
    v["failureThreshold"] = json!(p.failure_threshold);
    v
}

/// Env vars and secret copies from the app's bindings.
fn binding_env(app: &App, bindings: &[BoundProvider]) -> (Vec<Value>, Vec<SecretCopy>, Value) {
    let mut env = Vec::new();
    let mut copies = Vec::new();
    let mut services: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for b in bindings {
        let prefix = b.binding.prefix();
        let p = &b.provider;
        let Some(conn) = p.connectors.iter().find(|c| c.name == b.binding.connector) else {
            continue;
        };
        let same_cluster = p.app.space.cluster == app.app.space.cluster;
        let same_space = p.app.space == app.app.space;
        // Where the provider answers from here.
        let (host, port, scheme) = if same_cluster {
            (
                format!("{}.{}.svc.cluster.local", p.app.name, p.app.space.namespace),
                p.ports.first().map_or(80, |x| x.port),
                "http",
            )
        } else {
            match b.routes.first() {
                Some(r) => (r.host.clone(), 443, "https"),
                None => (String::new(), 0, "https"),
            }
        };
        let mut credentials = serde_json::Map::new();
        let mut put = |key: &str, v: Value, credentials: &mut serde_json::Map<String, Value>| {
            if let Some(s) = v.get("value").and_then(Value::as_str) {
                credentials.insert(key.to_string(), json!(s));
            }
            let mut e = v;
            e["name"] = json!(env_key(&prefix, key));
            env.push(e);
        };
        for (k, v) in &conn.values {
            match v {
                ConnectorValue::Value(s) => put(k, json!({"value": s}), &mut credentials),
                ConnectorValue::SecretKey { name, key } => {
                    // Another space cannot read the provider's Secret: kdeck copies it.
                    let secret = if same_space {
                        name.clone()
                    } else {
                        let to = format!("{}-{}-{}", p.app.name, conn.name, name);
                        if !copies.iter().any(|c: &SecretCopy| c.to_name == to) {
                            copies.push(SecretCopy {
                                from: p.app.space.clone(),
                                from_name: name.clone(),
                                to_name: to.clone(),
                                keys: Vec::new(),
                            });
                        }
                        if let Some(c) = copies.iter_mut().find(|c| c.to_name == to)
                            && !c.keys.contains(key)
                        {
                            c.keys.push(key.clone());
                        }
                        to
                    };
                    put(
                        k,
                        json!({"valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}),
                        &mut credentials,
                    );
                }
            }
        }
        for (k, v) in [("host", host.clone()), ("port", port.to_string())] {
            if !conn.values.contains_key(k) && !host.is_empty() {
                put(k, json!({"value": v}), &mut credentials);
            }
        }
        if !conn.values.contains_key("url") && !host.is_empty() {
            let url = if same_cluster {
                format!("{scheme}://{host}:{port}")
            } else {
                format!("{scheme}://{host}")
            };
            put("url", json!({"value": url}), &mut credentials);
        }
        services.entry(conn.name.clone()).or_default().push(json!({
            "name": p.app.name, "app": p.app.to_string(), "credentials": credentials,
        }));
    }
    (env, copies, json!(services))
}

/// The objects for one app.
pub fn derive(i: Inputs) -> Derived {
    let app = i.app;
    let name = app.app.name.as_str();
    let stateful = app.kind == WorkloadKind::StatefulSet;
    let selector = json!({NAME: name});

    // Volumes: claims the app owns become PVCs (Deployment) or templates (StatefulSet).
    let mut volumes = Vec::new();
    let mut templates = Vec::new();
    let mut claims = Vec::new();
    for m in &app.mounts {
        match &m.source {
            MountSource::ConfigMap { name: cm } => volumes.push(json!({"name": m.name, "configMap": {"name": cm}})),
            MountSource::Secret { name: s } => volumes.push(json!({"name": m.name, "secret": {"secretName": s}})),
            MountSource::VolumeClaim { claim: Some(c), .. } => {
                volumes.push(json!({"name": m.name, "persistentVolumeClaim": {"claimName": c}}))
            }
            MountSource::VolumeClaim {
                claim: None,
                size,
                access_mode,
                storage_class,
            } => {
                let mut spec =
                    json!({"accessModes": [format!("{access_mode:?}")], "resources": {"requests": {"storage": size}}});
                if let Some(sc) = storage_class {
                    spec["storageClassName"] = json!(sc);
                }
                if stateful {
                    templates.push(json!({"metadata": {"name": m.name, "labels": labels(app)}, "spec": spec}));
                } else {
                    let claim = format!("{name}-{}", m.name);
                    claims.push(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                       "metadata": meta(app, &claim), "spec": spec}));
                    volumes.push(json!({"name": m.name, "persistentVolumeClaim": {"claimName": claim}}));
                }
            }
        }
    }

    let mut env: Vec<Value> = app
        .env
        .iter()
        .map(|e| match &e.source {
            EnvSource::Value(v) => json!({"name": e.name, "value": v}),
            EnvSource::ConfigMapKey { name, key, optional } => {
                json!({"name": e.name, "valueFrom": {"configMapKeyRef": {"name": name, "key": key, "optional": optional}}})
            }
            EnvSource::SecretKey { name, key, optional } => {
                json!({"name": e.name, "valueFrom": {"secretKeyRef": {"name": name, "key": key, "optional": optional}}})
            }
        })
        .collect();
    let (bound, secret_copies, services) = binding_env(app, i.bindings);
    // The app's own env wins over a binding's of the same name.
    for b in bound {
        if !env.iter().any(|e| e["name"] == b["name"]) {
            env.push(b);
        }
    }
    if !i.bindings.is_empty() && !env.iter().any(|e| e["name"] == "KDECK_SERVICES") {
        env.push(json!({"name": "KDECK_SERVICES", "value": services.to_string()}));
    }

    let mut container = json!({
        "name": name,
        "image": app.image,
        "ports": app.ports.iter().map(|p| json!({"name": port_name(p), "containerPort": p.port, "protocol": format!("{:?}", p.protocol).to_uppercase()})).collect::<Vec<_>>(),
        "env": env,
        "volumeMounts": app.mounts.iter().map(|m| json!({"name": m.name, "mountPath": m.path, "readOnly": m.read_only})).collect::<Vec<_>>(),
    });
    // Empty lists are left out, as the API server leaves them out.
    if let Some(m) = container.as_object_mut() {
        m.retain(|_, v| !v.as_array().is_some_and(Vec::is_empty));
    }
    let r = &app.resources;
    let mut resources = json!({});
    for (part, key, v) in [
        ("requests", "cpu", &r.cpu_request),
        ("limits", "cpu", &r.cpu_limit),
        ("requests", "memory", &r.memory_request),
        ("limits", "memory", &r.memory_limit),
    ] {
        if let Some(v) = v {
            resources[part][key] = json!(v);
        }
    }
    container["resources"] = resources;
    for (key, p) in [
        ("livenessProbe", &app.probes.liveness),
        ("readinessProbe", &app.probes.readiness),
        ("startupProbe", &app.probes.startup),
    ] {
        if let Some(p) = p {
            container[key] = probe(p);
        }
    }
    if !app.command.is_empty() {
        container["command"] = json!(app.command);
    }
    if !app.args.is_empty() {
        container["args"] = json!(app.args);
    }
    let pod_labels = match &app.pod_labels {
        Some(l) => {
            let mut l = l.clone();
            l.insert(NAME.into(), app.app.name.clone());
            json!(l)
        }
        None => labels(app),
    };
    let mut template_meta = json!({"labels": pod_labels});
    if let Some(t) = i.restarted_at {
        template_meta["annotations"] = json!({RESTARTED_AT: t});
    }
    let mut spec = json!({
        "replicas": app.replicas,
        "selector": {"matchLabels": selector},
        "template": {"metadata": template_meta, "spec": {"containers": [container]}},
    });
    // An autoscaled app leaves its replica count to the autoscaler (a stopped one stays at 0).
    if app.autoscale.is_some()
        && app.replicas > 0
        && let Some(m) = spec.as_object_mut()
    {
        m.remove("replicas");
    }
    // An empty list is left out, as the API server leaves it out.
    if !volumes.is_empty() {
        spec["template"]["spec"]["volumes"] = json!(volumes);
    }
    if stateful {
        spec["serviceName"] = json!(name);
        if !templates.is_empty() {
            spec["volumeClaimTemplates"] = json!(templates);
        }
    }
    let mut workload = json!({
        "apiVersion": "apps/v1",
        "kind": if stateful { "StatefulSet" } else { "Deployment" },
        "metadata": meta(app, name),
        "spec": spec,
    });
    if let Some(o) = &app.overrides {
        kdeck_model::merge::strategic_merge(&mut workload, o);
    }

    let service = (!app.ports.is_empty()).then(|| {
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": meta(app, name),
            "spec": {"selector": {NAME: name}, "ports": app.ports.iter().map(|p| json!({
                "name": port_name(p), "port": p.port, "targetPort": p.port,
                "protocol": format!("{:?}", p.protocol).to_uppercase()})).collect::<Vec<_>>()},
        })
    });

    let own: Vec<&Route> = i.routes.iter().filter(|r| r.ingress == IngressMode::Own).collect();
    let ingresses = own
        .iter()
        .map(|r| {
            let ing_name = if own.len() == 1 {
                name.to_string()
            } else {
                own_ingress_name(name, r)
            };
            ingress(meta(app, &ing_name), &[(*r, app)], i.domains)
        })
        .collect();
    let autoscaler = app.autoscale.as_ref().map(|a| autoscaler(app, a, stateful));
    Derived {
        claims,
        workload,
        service,
        ingresses,
        secret_copies,
        autoscaler,
    }
}

/// The app's HorizontalPodAutoscaler (autoscaling/v2): its bounds, a
/// Utilization target per resource, and the scale-down window when set.
fn autoscaler(app: &App, a: &kdeck_model::Autoscale, stateful: bool) -> Value {
    let name = app.app.name.as_str();
    let metrics: Vec<Value> = [("cpu", a.cpu), ("memory", a.memory)]
        .into_iter()
        .filter_map(|(r, v)| v.map(|v| json!({"type": "Resource", "resource": {"name": r, "target": {"type": "Utilization", "averageUtilization": v}}})))
        .collect();
    let mut spec = json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": if stateful { "StatefulSet" } else { "Deployment" }, "name": name},
        "minReplicas": a.min, "maxReplicas": a.max, "metrics": metrics,
    });
    if let Some(secs) = a.scale_down_after {
        spec["behavior"] = json!({"scaleDown": {"stabilizationWindowSeconds": secs}});
    }
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(app, name), "spec": spec})
}

/// Overrides that make the workload unreadable: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WorkloadError(pub String);

/// Checks that the workload, overrides laid over it, still reads as a
/// Deployment or StatefulSet; a field of the wrong type is named by its path.
pub fn check_workload(app: &App) -> Result<(), WorkloadError> {
    fn reads(w: &Value) -> Result<(), WorkloadError> {
        let r = if w["kind"] == "StatefulSet" {
            serde_json::from_value::<k8s_openapi::api::apps::v1::StatefulSet>(w.clone()).map(|_| ())
        } else {
            serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(w.clone()).map(|_| ())
        };
        r.map_err(|e| WorkloadError(e.to_string()))
    }
    fn leaves(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
        match v.as_object() {
            Some(m) if !m.is_empty() => {
                for (k, x) in m {
                    prefix.push(k.clone());
                    leaves(x, prefix, out);
                    prefix.pop();
                }
            }
            _ => out.push((prefix.clone(), v.clone())),
        }
    }
    let Some(o) = &app.overrides else { return Ok(()) };
    let plain_app = App {
        overrides: None,
        pod_labels: None,
        ..app.clone()
    };
    let inputs = |a: &App| {
        derive(Inputs {
            app: a,
            routes: &[],
            domains: &[],
            bindings: &[],
            restarted_at: None,
        })
        .workload
    };
    let Err(e) = reads(&inputs(app)) else { return Ok(()) };
    // Which override is it? Lay them one at a time.
    let mut all = Vec::new();
    leaves(o, &mut Vec::new(), &mut all);
    for (path, leaf) in all {
        let mut one = leaf;
        for k in path.iter().rev() {
            one = json!({ k.as_str(): one });
        }
        let mut w = inputs(&plain_app);
        kdeck_model::merge::strategic_merge(&mut w, &one);
        if let Err(e) = reads(&w) {
            return Err(WorkloadError(format!("overrides {}: {e}", path.join("."))));
        }
    }
    Err(WorkloadError(format!("overrides: {e}")))
}

/// `<app>-<6 hex>` from the route's host and path, stable across runs.
pub fn own_ingress_name(app: &str, r: &Route) -> String {
    let mut h: u32 = 0x811c9dc5;
    for b in r.host.bytes().chain(r.path.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x01000193);
    }
    format!("{app}-{:06x}", h & 0xff_ffff)
}

/// One Ingress for routes (with the app each points at).
fn ingress(metadata: Value, routes: &[(&Route, &App)], domains: &[Domain]) -> Value {
    let mut rules: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut tls: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut class: Option<String> = None;
    for (r, app) in routes {
        rules.entry(r.host.clone()).or_default().push(json!({
            "path": r.path, "pathType": "Prefix",
            "backend": {"service": {"name": app.app.name, "port": {"number": service_port(app, r.port)}}},
        }));
        let domain = domain_of(&r.host, domains);
        if let Some(secret) = r
            .tls_secret
            .clone()
            .or_else(|| domain.and_then(|d| d.tls_secret.clone()))
        {
            let hosts = tls.entry(secret).or_default();
            if !hosts.contains(&r.host) {
                hosts.push(r.host.clone());
            }
        }
        if class.is_none() {
            class = domain.and_then(|d| d.ingress_class.clone());
        }
    }
    let mut spec = json!({
        "rules": rules.into_iter().map(|(host, paths)| json!({"host": host, "http": {"paths": paths}})).collect::<Vec<_>>(),
    });
    if !tls.is_empty() {
        spec["tls"] = json!(
            tls.into_iter()
                .map(|(secret, hosts)| json!({"hosts": hosts, "secretName": secret}))
                .collect::<Vec<_>>()
        );
    }
    if let Some(c) = class {
        spec["ingressClassName"] = json!(c);
    }
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec})
}

/// The shared Ingress of a space: every shared route of its apps. `None`
/// when the space has no shared route (then kdeck deletes it).
pub fn shared_ingress(space: &SpaceRef, routes: &[(Route, App)], domains: &[Domain]) -> Option<Value> {
    let shared: Vec<(&Route, &App)> = routes
        .iter()
        .filter(|(r, _)| r.ingress == IngressMode::Shared && r.app.space == *space)
        .map(|(r, a)| (r, a))
        .collect();
    if shared.is_empty() {
        return None;
    }
    let metadata = json!({"name": SHARED_INGRESS, "namespace": space.namespace,
                          "labels": {MANAGED_BY: MANAGED_BY_KDECK, NAME: SHARED_INGRESS}});
    Some(ingress(metadata, &shared, domains))
}

mod diff;
pub use diff::*;

#[cfg(test)]
mod tests;
