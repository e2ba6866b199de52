//! Bulk copy of apps between spaces, often across clusters: a planned
//! command. Each source app is read from its cluster with what it is made
//! of (Services that select it, the Ingress rules that reach them, the
//! ConfigMaps, Secrets and claims it references), rewritten for each target
//! (namespace, route hosts onto the target's domain, TLS, image registry,
//! replicas, a new name on conflict) and applied with server-side apply.
//! Every copied object says where it came from (`kdeck.dev/copied-from`),
//! which makes a rerun idempotent: what already matches is left alone, what
//! failed is done now. Apps kdeck manages are copied as settings, so the
//! copy is managed too, with its bindings resolved again in the target.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kube::api::{Api, DynamicObject, ListParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::apps::{AppState, digest_of};
use super::derive::{self, Inputs};
use super::{Applied, Executor, Failure, ItemOutcome, cluster_failure, cluster_of, invalid};
use kdeck_fleet::{Problem, describe};
use kdeck_model::{App, AppRef, Binding, Cluster, Domain, IngressMode, Route, SpaceRef};
use kdeck_store::Batch;

mod apply;
mod plan;
mod read;
mod rewrite;
pub(crate) use apply::*;
pub use plan::*;
pub use read::*;
pub use rewrite::*;

/// Set on every object a copy makes: `CLUSTER/NAMESPACE/APP` of its source.
pub const COPIED_FROM: &str = "kdeck.dev/copied-from";

/// The default host of a copied route.
pub const HOST_TEMPLATE: &str = "{app}-{space}.{domain}";

/// What to do when a target already has an app of that name that is not a
/// copy of the same source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Leave it; the item says so.
    #[default]
    Skip,
    /// Apply the copy over it.
    Overwrite,
    /// Copy under a free name: `<app>-copy`, `<app>-copy-2`, …
    Rename,
}

impl OnConflict {
    pub const ALL: [OnConflict; 3] = [OnConflict::Skip, OnConflict::Overwrite, OnConflict::Rename];

    /// What it does, in a few words (the CLI's help).
    pub fn help(self) -> &'static str {
        match self {
            OnConflict::Skip => "Leave it; the item says so",
            OnConflict::Overwrite => "Apply the copy over it",
            OnConflict::Rename => "Copy under a free name: <app>-copy, <app>-copy-2, …",
        }
    }

    /// As `--on-conflict` spells it.
    pub fn word(self) -> &'static str {
        match self {
            OnConflict::Skip => "skip",
            OnConflict::Overwrite => "overwrite",
            OnConflict::Rename => "rename",
        }
    }
}

/// A copy, as the CLI and the cockpit ask for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopySpec {
    /// Apps to copy, `CLUSTER/NAMESPACE/APP` (the cockpit's marks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<String>,
    /// A space to copy from: the apps in `names`, those matching `selector`, or all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Target spaces, `CLUSTER/NAMESPACE`.
    pub to: Vec<String>,
    #[serde(default)]
    pub on_conflict: OnConflict,
    /// Route hosts in the target: `{app}`, `{space}` and `{domain}` are filled in.
    #[serde(default = "host_template")]
    pub host_template: String,
    /// Replaces the registry of every image (`registry.eu.example.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Copy the Secrets the apps reference (their data is never printed).
    #[serde(default)]
    pub with_secrets: bool,
}

fn host_template() -> String {
    HOST_TEMPLATE.to_string()
}

/// Progress of a running copy, for a progress line or view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDone {
    pub cluster: String,
    pub ok: bool,
    pub item: String,
    pub message: String,
}

/// What a running copy reports: how many items each target cluster has,
/// then each item as it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Planned { cluster: String, items: usize },
    Done(ItemDone),
}

/// How a long command reports and is cancelled.
#[derive(Clone, Default)]
pub struct Progress {
    pub tx: Option<tokio::sync::mpsc::UnboundedSender<Event>>,
    pub cancel: Arc<AtomicBool>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("cancelled", &self.cancel.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_and_hosts_are_rewritten() {
        assert_eq!(with_registry("ghcr.io/acme/web:1", "reg.eu"), "reg.eu/acme/web:1");
        assert_eq!(with_registry("nginx:1.27", "reg.eu/"), "reg.eu/nginx:1.27");
        assert_eq!(with_registry("localhost:5000/x", "r.io"), "r.io/x");
        assert_eq!(
            target_host(HOST_TEMPLATE, "web", "shop", "apps.b.example.com", 0),
            "web-shop.apps.b.example.com"
        );
        assert_eq!(
            target_host(HOST_TEMPLATE, "web", "shop", "apps.b.example.com", 1),
            "web-shop-2.apps.b.example.com"
        );
    }

    #[test]
    fn server_fields_are_stripped() {
        let v = strip(
            json!({"kind": "Service", "metadata": {"name": "a", "uid": "u", "resourceVersion": "9",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80, "nodePort": 30001}]}, "status": {}}),
        );
        assert_eq!(
            v,
            json!({"kind": "Service", "metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}})
        );
    }

    #[test]
    fn an_app_bundle_takes_its_services_routes_and_references() {
        let mut s = SpaceObjects {
            exists: true,
            ..Default::default()
        };
        let put = |s: &mut SpaceObjects, kind: &'static str, v: Value| {
            let name = v["metadata"]["name"].as_str().unwrap().to_string();
            s.by_kind.entry(kind).or_default().insert(name, v);
        };
        put(
            &mut s,
            "Deployment",
            json!({"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "a/web:1",
            "envFrom": [{"configMapRef": {"name": "settings"}}], "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}]}]}}}}),
        );
        put(
            &mut s,
            "Service",
            json!({"kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}}),
        );
        put(
            &mut s,
            "Service",
            json!({"kind": "Service", "metadata": {"name": "api"}, "spec": {"selector": {"app": "api"}}}),
        );
        put(
            &mut s,
            "ConfigMap",
            json!({"kind": "ConfigMap", "metadata": {"name": "settings"}}),
        );
        put(
            &mut s,
            "Ingress",
            json!({"kind": "Ingress", "metadata": {"name": "routes"}, "spec": {"rules": [
            {"host": "web.apps.a.example.com", "http": {"paths": [{"path": "/", "backend": {"service": {"name": "web"}}}]}},
            {"host": "api.apps.a.example.com", "http": {"paths": [{"path": "/", "backend": {"service": {"name": "api"}}}]}}],
            "tls": [{"hosts": ["web.apps.a.example.com"], "secretName": "a-tls"}, {"hosts": ["api.apps.a.example.com"], "secretName": "a-tls"}]}}),
        );
        let a = AppRef::new(SpaceRef::new("a", "shop"), "web");
        let b = bundle(&s, &a).unwrap();
        assert_eq!(b.services.len(), 1);
        assert_eq!(b.config_maps.len(), 1);
        assert_eq!(b.secrets_left, vec!["db".to_string()]);
        assert_eq!(
            b.ingresses[0]["metadata"]["name"], "routes-web",
            "a shared Ingress is cut to the app"
        );
        assert_eq!(b.ingresses[0]["spec"]["rules"].as_array().unwrap().len(), 1);
        let spec = CopySpec {
            host_template: HOST_TEMPLATE.into(),
            registry: Some("reg.b".into()),
            replicas: Some(2),
            ..Default::default()
        };
        let target = Target {
            space: SpaceRef::new("b", "shop"),
            domains: vec![Domain {
                cluster: "b".into(),
                suffix: "apps.b.example.com".into(),
                tls_secret: Some("b-tls".into()),
                ingress_class: None,
            }],
        };
        let mut notes = Vec::new();
        let objs = rewrite(&b, &spec, &target, "web-copy", &mut notes);
        assert_eq!(host_clash(&b, &objs, &target), None);
        // The same cluster with no domain would serve the source's host twice;
        // another cluster with no domain keeps it, alone there.
        let here = Target {
            space: SpaceRef::new("a", "shop-2"),
            domains: Vec::new(),
        };
        let why = host_clash(&b, &rewrite(&b, &spec, &here, "web", &mut Vec::new()), &here).unwrap();
        assert!(
            why.contains("web.apps.a.example.com") && why.contains("kdeck domains add a SUFFIX"),
            "{why}"
        );
        let away = Target {
            space: SpaceRef::new("c", "shop"),
            domains: Vec::new(),
        };
        assert_eq!(
            host_clash(&b, &rewrite(&b, &spec, &away, "web", &mut Vec::new()), &away),
            None
        );
        let w = objs.iter().find(|o| o["kind"] == "Deployment").unwrap();
        assert_eq!(w["metadata"]["name"], "web-copy");
        assert_eq!(w["spec"]["selector"]["matchLabels"]["app"], "web-copy");
        assert_eq!(w["spec"]["replicas"], 2);
        assert_eq!(w["spec"]["template"]["spec"]["containers"][0]["image"], "reg.b/a/web:1");
        assert_eq!(w["metadata"]["annotations"][COPIED_FROM], "a/shop/web");
        let svc = objs.iter().find(|o| o["kind"] == "Service").unwrap();
        assert_eq!(
            (
                svc["metadata"]["name"].as_str(),
                svc["spec"]["selector"]["app"].as_str()
            ),
            (Some("web-copy"), Some("web-copy"))
        );
        let ing = objs.iter().find(|o| o["kind"] == "Ingress").unwrap();
        assert_eq!(ing["spec"]["rules"][0]["host"], "web-copy-shop.apps.b.example.com");
        assert_eq!(
            ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            "web-copy"
        );
        assert_eq!(ing["spec"]["tls"][0]["secretName"], "b-tls");
        assert!(notes.iter().any(|n| n.contains("secrets db not copied")), "{notes:?}");
        assert!(objs.iter().all(|o| o["metadata"]["namespace"] == "shop"));
    }
}
