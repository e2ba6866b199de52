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
}

impl Derived {
    pub fn objects(&self) -> Vec<&Value> {
        let mut v: Vec<&Value> = self.claims.iter().collect();
        v.push(&self.workload);
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
    Derived {
        claims,
        workload,
        service,
        ingresses,
        secret_copies,
    }
}

/// Checks that the workload, overrides laid over it, still reads as a
/// Deployment or StatefulSet; a field of the wrong type is named by its path.
pub fn check_workload(app: &App) -> Result<(), String> {
    fn reads(w: &Value) -> Result<(), String> {
        let r = if w["kind"] == "StatefulSet" {
            serde_json::from_value::<k8s_openapi::api::apps::v1::StatefulSet>(w.clone()).map(|_| ())
        } else {
            serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(w.clone()).map(|_| ())
        };
        r.map_err(|e| e.to_string())
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
            return Err(format!("overrides {}: {e}", path.join(".")));
        }
    }
    Err(format!("overrides: {e}"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use kdeck_model::{AccessMode, AppPort, Connector, EnvEntry, Mount, Protocol};

    fn app(space: &str, name: &str) -> App {
        let (c, n) = space.split_once('/').unwrap();
        let mut a = App::new(AppRef::new(SpaceRef::new(c, n), name), "ghcr.io/acme/web:1.0");
        a.ports = vec![AppPort {
            port: 8080,
            name: Some("http".into()),
            protocol: Protocol::Tcp,
        }];
        a
    }

    fn route(a: &App, host: &str, mode: IngressMode) -> Route {
        Route {
            app: a.app.clone(),
            host: host.into(),
            path: "/".into(),
            port: None,
            ingress: mode,
            tls_secret: None,
        }
    }

    fn domain(cluster: &str) -> Domain {
        Domain {
            cluster: cluster.into(),
            suffix: format!("apps.{cluster}.example.com"),
            tls_secret: Some("wildcard-tls".into()),
            ingress_class: Some("nginx".into()),
        }
    }

    fn inputs<'a>(a: &'a App, routes: &'a [Route], domains: &'a [Domain], b: &'a [BoundProvider]) -> Inputs<'a> {
        Inputs {
            app: a,
            routes,
            domains,
            bindings: b,
            restarted_at: None,
        }
    }

    #[test]
    fn a_deployment_with_its_service_and_own_ingress() {
        let a = app("eu1/shop", "web");
        let d = [domain("eu1")];
        let host = default_host(&a.app, &d[0]);
        assert_eq!(host, "web-shop.apps.eu1.example.com");
        let r = [route(&a, &host, IngressMode::Own)];
        let out = derive(inputs(&a, &r, &d, &[]));
        let w = &out.workload;
        assert_eq!(w["kind"], "Deployment");
        assert_eq!(w["metadata"]["labels"][MANAGED_BY], "kdeck");
        assert_eq!(w["spec"]["selector"]["matchLabels"][NAME], "web");
        assert_eq!(w["spec"]["template"]["metadata"]["labels"][NAME], "web");
        assert_eq!(
            w["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
            8080
        );
        let s = out.service.as_ref().unwrap();
        assert_eq!(s["spec"]["ports"][0]["port"], 8080);
        assert_eq!(s["spec"]["selector"][NAME], "web");
        let i = &out.ingresses[0];
        assert_eq!(i["metadata"]["name"], "web");
        assert_eq!(i["spec"]["rules"][0]["host"], host);
        assert_eq!(
            i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            "web"
        );
        assert_eq!(
            i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"],
            8080
        );
        assert_eq!(i["spec"]["tls"][0]["secretName"], "wildcard-tls", "TLS from the domain");
        assert_eq!(i["spec"]["ingressClassName"], "nginx");
        assert_eq!(out.objects().len(), 3);
    }

    #[test]
    fn a_statefulset_claims_per_pod_and_a_deployment_one_claim() {
        let mut a = app("eu1/data", "db");
        a.kind = WorkloadKind::StatefulSet;
        a.mounts = vec![Mount {
            name: "data".into(),
            path: "/var/lib/db".into(),
            read_only: false,
            source: MountSource::VolumeClaim {
                claim: None,
                size: "10Gi".into(),
                access_mode: AccessMode::ReadWriteOnce,
                storage_class: Some("fast".into()),
            },
        }];
        let out = derive(inputs(&a, &[], &[], &[]));
        let w = &out.workload;
        assert_eq!(w["kind"], "StatefulSet");
        assert_eq!(w["spec"]["serviceName"], "db");
        let t = &w["spec"]["volumeClaimTemplates"][0];
        assert_eq!(t["metadata"]["name"], "data");
        assert_eq!(t["spec"]["resources"]["requests"]["storage"], "10Gi");
        assert_eq!(t["spec"]["storageClassName"], "fast");
        assert_eq!(t["spec"]["accessModes"][0], "ReadWriteOnce");
        assert!(out.claims.is_empty());
        assert_eq!(
            w["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["mountPath"],
            "/var/lib/db"
        );

        a.kind = WorkloadKind::Deployment;
        let out = derive(inputs(&a, &[], &[], &[]));
        assert_eq!(out.claims[0]["metadata"]["name"], "db-data");
        assert_eq!(
            out.workload["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "db-data"
        );
        assert!(out.workload["spec"].get("volumeClaimTemplates").is_none());
    }

    #[test]
    fn shared_routes_go_to_one_ingress_per_space_and_tls_can_be_overridden() {
        let web = app("eu1/shop", "web");
        let api = app("eu1/shop", "api");
        let other = app("eu1/blog", "site");
        let d = [
            domain("eu1"),
            Domain {
                cluster: "eu1".into(),
                suffix: "example.com".into(),
                tls_secret: Some("apex-tls".into()),
                ingress_class: None,
            },
        ];
        let mut own = route(&api, "api.apps.eu1.example.com", IngressMode::Own);
        own.tls_secret = Some("api-cert".into());
        let routes = vec![
            (route(&web, "shop.example.com", IngressMode::Shared), web.clone()),
            (
                Route {
                    path: "/api".into(),
                    ..route(&api, "shop.example.com", IngressMode::Shared)
                },
                api.clone(),
            ),
            (route(&other, "blog.example.com", IngressMode::Shared), other.clone()),
        ];
        let shared = shared_ingress(&web.app.space, &routes, &d).unwrap();
        assert_eq!(shared["metadata"]["name"], SHARED_INGRESS);
        let paths = &shared["spec"]["rules"][0]["http"]["paths"];
        assert_eq!(paths.as_array().unwrap().len(), 2, "both apps under one host");
        assert_eq!(paths[1]["backend"]["service"]["name"], "api");
        assert_eq!(
            shared["spec"]["tls"][0]["secretName"], "apex-tls",
            "the longest matching domain"
        );
        assert!(shared_ingress(&SpaceRef::new("eu1", "empty"), &routes, &d).is_none());

        let out = derive(inputs(&api, std::slice::from_ref(&own), &d, &[]));
        assert_eq!(
            out.ingresses[0]["spec"]["tls"][0]["secretName"], "api-cert",
            "the route's own certificate"
        );
        // Shared routes make no own Ingress.
        let out = derive(inputs(&web, &[routes[0].0.clone()], &d, &[]));
        assert!(out.ingresses.is_empty());
    }

    #[test]
    fn several_own_routes_get_stable_distinct_names() {
        let a = app("eu1/shop", "web");
        let r = [
            route(&a, "a.example.com", IngressMode::Own),
            route(&a, "b.example.com", IngressMode::Own),
        ];
        let out = derive(inputs(&a, &r, &[], &[]));
        let names: Vec<&str> = out
            .ingresses
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 2);
        assert_ne!(names[0], names[1]);
        assert!(
            names
                .iter()
                .all(|n| n.starts_with("web-") && n.len() == "web-".len() + 6)
        );
        assert_eq!(derive(inputs(&a, &r, &[], &[])).ingresses, out.ingresses, "stable");
        assert!(out.ingresses[0]["spec"].get("tls").is_none(), "no domain, no TLS");
    }

    fn db_provider(space: &str) -> App {
        let mut db = app(space, "db");
        db.ports[0].port = 5432;
        db.connectors = vec![Connector {
            name: "postgres".into(),
            values: BTreeMap::from([
                ("user".to_string(), ConnectorValue::Value("app".into())),
                (
                    "password".to_string(),
                    ConnectorValue::SecretKey {
                        name: "db-credentials".into(),
                        key: "password".into(),
                    },
                ),
            ]),
        }];
        db
    }

    fn bound(consumer: &App, db: &App, routes: Vec<Route>) -> BoundProvider {
        BoundProvider {
            binding: Binding {
                consumer: consumer.app.clone(),
                provider: db.app.clone(),
                connector: "postgres".into(),
                env_prefix: None,
            },
            provider: db.clone(),
            routes,
        }
    }

    fn env_of(d: &Derived) -> BTreeMap<String, Value> {
        d.workload["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
            .collect()
    }

    #[test]
    fn bindings_in_the_same_space_use_the_service_and_the_secret() {
        let web = app("eu1/shop", "web");
        let db = db_provider("eu1/shop");
        let b = [bound(&web, &db, vec![])];
        let out = derive(inputs(&web, &[], &[], &b));
        let env = env_of(&out);
        assert_eq!(env["DB_USER"]["value"], "app");
        assert_eq!(env["DB_HOST"]["value"], "db.shop.svc.cluster.local");
        assert_eq!(env["DB_PORT"]["value"], "5432");
        assert_eq!(env["DB_URL"]["value"], "http://db.shop.svc.cluster.local:5432");
        assert_eq!(
            env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"],
            "db-credentials"
        );
        assert!(out.secret_copies.is_empty());
        let services: Value = serde_json::from_str(env["KDECK_SERVICES"]["value"].as_str().unwrap()).unwrap();
        assert_eq!(services["postgres"][0]["name"], "db");
        assert_eq!(services["postgres"][0]["credentials"]["user"], "app");
        assert!(
            services["postgres"][0]["credentials"].get("password").is_none(),
            "secrets stay out of it"
        );
    }

    #[test]
    fn bindings_across_spaces_copy_the_secret_and_across_clusters_use_the_route() {
        let web = app("eu1/shop", "web");
        let db = db_provider("eu1/data");
        let out = derive(inputs(&web, &[], &[], &[bound(&web, &db, vec![])]));
        let env = env_of(&out);
        assert_eq!(env["DB_HOST"]["value"], "db.data.svc.cluster.local");
        let copy = &out.secret_copies[0];
        assert_eq!(copy.from, SpaceRef::new("eu1", "data"));
        assert_eq!(
            (copy.from_name.as_str(), copy.to_name.as_str()),
            ("db-credentials", "db-postgres-db-credentials")
        );
        assert_eq!(copy.keys, vec!["password".to_string()]);
        assert_eq!(
            env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"],
            "db-postgres-db-credentials"
        );

        let far = db_provider("us1/data");
        let r = route(&far, "db-data.apps.us1.example.com", IngressMode::Own);
        let out = derive(inputs(&web, &[], &[], &[bound(&web, &far, vec![r])]));
        let env = env_of(&out);
        assert_eq!(
            env["DB_HOST"]["value"], "db-data.apps.us1.example.com",
            "the external host"
        );
        assert_eq!(env["DB_PORT"]["value"], "443");
        assert_eq!(env["DB_URL"]["value"], "https://db-data.apps.us1.example.com");
    }

    #[test]
    fn the_apps_own_env_wins_and_restarts_roll_the_template() {
        let mut web = app("eu1/shop", "web");
        web.env = vec![EnvEntry {
            name: "DB_HOST".into(),
            source: EnvSource::Value("override".into()),
        }];
        let db = db_provider("eu1/shop");
        let b = [bound(&web, &db, vec![])];
        let mut i = inputs(&web, &[], &[], &b);
        i.restarted_at = Some("2026-11-22T10:00:00Z");
        let out = derive(i);
        assert_eq!(env_of(&out)["DB_HOST"]["value"], "override");
        assert_eq!(
            out.workload["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT],
            "2026-11-22T10:00:00Z"
        );
        // No ports: no Service.
        let mut worker = app("eu1/shop", "worker");
        worker.ports.clear();
        assert!(derive(inputs(&worker, &[], &[], &[])).service.is_none());
    }

    #[test]
    fn overrides_merge_over_the_workload_by_name_and_wrong_types_name_their_path() {
        let mut a = app("eu1/shop", "web");
        a.env = vec![EnvEntry {
            name: "MODE".into(),
            source: EnvSource::Value("a".into()),
        }];
        a.overrides = Some(json!({
            "metadata": {"annotations": {"team": "shop"}},
            "spec": {"template": {"spec": {
                "nodeSelector": {"disk": "ssd"},
                "containers": [
                    {"name": "web", "env": [{"name": "EXTRA", "value": "1"}], "securityContext": {"runAsNonRoot": true}},
                    {"name": "proxy", "image": "envoy:1.30"}
                ]
            }}}
        }));
        assert!(a.validate().is_ok());
        assert_eq!(check_workload(&a), Ok(()));
        let w = derive(inputs(&a, &[], &[], &[])).workload;
        let pod = &w["spec"]["template"]["spec"];
        assert_eq!(pod["nodeSelector"]["disk"], "ssd");
        assert_eq!(
            pod["containers"][0]["image"], "ghcr.io/acme/web:1.0",
            "kdeck's fields stay"
        );
        assert_eq!(pod["containers"][0]["env"][0]["name"], "MODE");
        assert_eq!(pod["containers"][0]["env"][1]["name"], "EXTRA", "env merges by name");
        assert_eq!(pod["containers"][0]["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["containers"][1]["name"], "proxy", "a sidecar is added");
        assert_eq!(w["metadata"]["annotations"]["team"], "shop");
        assert_eq!(w["metadata"]["labels"][NAME], "web");

        a.overrides = Some(json!({"spec": {"selector": {"matchLabels": {"x": "y"}}}}));
        let e = a.validate().unwrap_err().to_string();
        assert!(e.contains("spec.selector") && e.contains("cannot be overridden"), "{e}");
        a.overrides = Some(json!(["not", "a", "mapping"]));
        assert!(a.validate().unwrap_err().to_string().contains("must be a mapping"));

        a.overrides = Some(json!({"spec": {"minReadySeconds": 5, "replicas": "three"}}));
        let e = check_workload(&a).unwrap_err();
        assert!(e.starts_with("overrides spec.replicas: invalid type: string"), "{e}");
    }
}

/// One field kdeck sets that the cluster has otherwise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `spec.replicas`, `spec.template.spec.containers[0].image`, …
    pub path: String,
    pub ours: String,
    pub cluster: String,
}

fn leaf(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// What applying `desired` would change in `live`: [`diff`] without the
/// type fields, which the API server may leave out of what it returns.
pub fn changes(desired: &Value, live: &Value) -> Vec<Change> {
    diff(desired, live)
        .into_iter()
        .filter(|c| !c.path.starts_with("apiVersion") && !c.path.starts_with("kind"))
        .collect()
}

/// The fields of `desired` whose values differ in `live` (fields kdeck does
/// not set are the cluster's business and not compared). Numbers and
/// strings compare by text, so `8080` and `"8080"` are the same.
pub fn diff(desired: &Value, live: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(desired, Some(live), String::new(), &mut out);
    out
}

/// The key the API server merges a list's items by (its strategic merge
/// key), found from the items: containers, env, volumes by `name`, ports
/// by their port number, mounts by path. `None`: compared by position.
fn merge_key(items: &[Value]) -> Option<&'static str> {
    const KEYS: [&str; 5] = ["containerPort", "port", "mountPath", "name", "devicePath"];
    KEYS.into_iter()
        .find(|k| !items.is_empty() && items.iter().all(|i| i.get(*k).is_some_and(|v| !v.is_null())))
}

/// A value the API server fills in when it is left out: kdeck sending it
/// and the stored object not saying it is no difference.
fn server_default(field: &str, v: &Value) -> bool {
    match (field, v) {
        (_, Value::Bool(false)) => true,
        ("protocol", Value::String(s)) => s == "TCP",
        ("type", Value::String(s)) => s == "ClusterIP" || s == "RollingUpdate",
        ("restartPolicy", Value::String(s)) => s == "Always",
        ("dnsPolicy", Value::String(s)) => s == "ClusterFirst",
        ("schedulerName", Value::String(s)) => s == "default-scheduler",
        ("sessionAffinity", Value::String(s)) => s == "None",
        ("podManagementPolicy", Value::String(s)) => s == "OrderedReady",
        ("terminationMessagePath", Value::String(s)) => s == "/dev/termination-log",
        ("terminationMessagePolicy", Value::String(s)) => s == "File",
        ("terminationGracePeriodSeconds", v) => leaf(Some(v)) == "30",
        ("revisionHistoryLimit", v) => leaf(Some(v)) == "10",
        ("progressDeadlineSeconds", v) => leaf(Some(v)) == "600",
        _ => false,
    }
}

fn walk(d: &Value, l: Option<&Value>, path: String, out: &mut Vec<Change>) {
    match d {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let theirs = l.and_then(|l| l.get(k)).filter(|t| !t.is_null());
                if theirs.is_none() && server_default(k, v) {
                    continue;
                }
                walk(v, theirs, p, out);
            }
        }
        Value::Array(a) => {
            let la = l.and_then(Value::as_array);
            if a.is_empty() {
                // kdeck setting nothing here leaves the cluster's list alone.
                return;
            }
            if la.map_or(0, Vec::len) != a.len() {
                out.push(Change {
                    path: path.clone(),
                    ours: format!("{} item(s)", a.len()),
                    cluster: format!("{} item(s)", la.map_or(0, Vec::len)),
                });
            }
            // As the server merges them: by key where the items have one,
            // so that the same items in another order are the same list.
            match merge_key(a) {
                Some(key) => {
                    for v in a {
                        let id = leaf(v.get(key));
                        let theirs = la.and_then(|x| x.iter().find(|t| leaf(t.get(key)) == id));
                        walk(v, theirs, format!("{path}[{key}={id}]"), out);
                    }
                }
                None => {
                    for (i, v) in a.iter().enumerate() {
                        walk(v, la.and_then(|x| x.get(i)), format!("{path}[{i}]"), out);
                    }
                }
            }
        }
        _ => {
            let (ours, theirs) = (leaf(Some(d)), leaf(l));
            if ours != theirs {
                out.push(Change {
                    path,
                    ours,
                    cluster: theirs,
                });
            }
        }
    }
}

#[cfg(test)]
mod diff_tests {
    use super::*;

    #[test]
    fn only_fields_we_set_are_compared() {
        let ours = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "a:1", "ports": [{"containerPort": 8080}]}]}}}});
        let live = json!({"spec": {"replicas": 5, "paused": false, "template": {"spec": {"containers": [{"image": "a:1", "ports": [{"containerPort": "8080"}], "terminationMessagePath": "/dev/x"}]}}}, "status": {}});
        let d = diff(&ours, &live);
        assert_eq!(
            d,
            vec![Change {
                path: "spec.replicas".into(),
                ours: "3".into(),
                cluster: "5".into()
            }]
        );
        let gone = diff(&ours, &json!({}));
        assert!(gone.iter().any(|c| c.path == "spec.replicas" && c.cluster == "(none)"));
    }
}
