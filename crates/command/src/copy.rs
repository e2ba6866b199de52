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

use kube::api::{Api, DynamicObject, ListParams, Patch, PostParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::apps::{AppState, digest_of};
use super::derive::{self, Inputs};
use super::{Applied, Executor, Failure, ItemOutcome, cluster_failure, cluster_of, invalid};
use kdeck_fleet::{Problem, describe};
use kdeck_model::{App, AppRef, Binding, Cluster, Domain, IngressMode, Route, SpaceRef};
use kdeck_store::Batch;

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

// ------------------------------------------------------------------ reading

/// The kinds a copy reads and writes, in the order they are applied.
const KINDS: &[&str] = &[
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "Service",
    "Ingress",
];

/// Everything of some kinds in one namespace, by kind then name.
#[derive(Debug, Clone, Default)]
pub struct SpaceObjects {
    pub by_kind: BTreeMap<&'static str, BTreeMap<String, Value>>,
    /// The namespace is being deleted.
    pub terminating: bool,
    pub exists: bool,
}

impl SpaceObjects {
    pub fn get(&self, kind: &str, name: &str) -> Option<&Value> {
        self.by_kind.get(kind).and_then(|m| m.get(name))
    }
    fn of(&self, kind: &str) -> impl Iterator<Item = &Value> {
        self.by_kind.get(kind).into_iter().flat_map(|m| m.values())
    }
}

/// Lists the kinds a copy needs in a namespace: one LIST per kind.
pub async fn read_space(
    client: &kube::Client,
    cluster: &Cluster,
    ns: &str,
    secrets: bool,
) -> Result<SpaceObjects, Problem> {
    let mut out = SpaceObjects::default();
    let (nsr, _) = kdeck_fleet::kinds::resource("Namespace").ok_or_else(|| Problem {
        cluster: cluster.name.clone(),
        kind: kdeck_fleet::ProblemKind::Config,
        message: "no Namespace kind".into(),
        code: None,
    })?;
    let nsapi: Api<DynamicObject> = Api::all_with(client.clone(), &nsr);
    match nsapi.get_opt(ns).await {
        Ok(Some(n)) => {
            out.exists = true;
            out.terminating = n.metadata.deletion_timestamp.is_some() || n.data["status"]["phase"] == "Terminating";
        }
        Ok(None) => return Ok(out),
        // Reading namespaces may be forbidden where the space is not: go on.
        Err(_) => out.exists = true,
    }
    for kind in KINDS {
        if *kind == "Secret" && !secrets {
            continue;
        }
        let Some((ar, _)) = kdeck_fleet::kinds::resource(kind) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| describe(cluster, &format!("list {} in {ns}", ar.plural), &e))?;
        let m = out.by_kind.entry(kind).or_default();
        for o in list.items {
            let name = o.metadata.name.clone().unwrap_or_default();
            let mut v = serde_json::to_value(&o).unwrap_or(Value::Null);
            v["apiVersion"] = json!(ar.api_version);
            v["kind"] = json!(ar.kind);
            m.insert(name, v);
        }
    }
    Ok(out)
}

/// Drops what the server sets, so the object can be applied elsewhere.
pub fn strip(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
            "ownerReferences",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "finalizers",
        ] {
            meta.remove(k);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.retain(|k, _| {
                k != "kubectl.kubernetes.io/last-applied-configuration"
                    && k != "deployment.kubernetes.io/revision"
                    && !k.starts_with("pv.kubernetes.io/")
                    && !k.starts_with("volume.")
            });
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    match v["kind"].as_str() {
        Some("Service") => {
            if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
                for k in ["clusterIP", "clusterIPs", "healthCheckNodePort"] {
                    spec.remove(k);
                }
                if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports {
                        if let Some(p) = p.as_object_mut() {
                            p.remove("nodePort");
                        }
                    }
                }
            }
        }
        Some("PersistentVolumeClaim") => {
            if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("volumeName");
                spec.remove("dataSource");
                spec.remove("dataSourceRef");
            }
        }
        _ => {}
    }
    v
}

/// One app as its cluster has it: the workload and what it uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub app: AppRef,
    pub workload: Value,
    pub services: Vec<Value>,
    /// Ingresses cut down to the rules that reach the app's Services.
    pub ingresses: Vec<Value>,
    pub config_maps: Vec<Value>,
    pub secrets: Vec<Value>,
    /// Secrets it references that were not read (no consent).
    pub secrets_left: Vec<String>,
    pub claims: Vec<Value>,
}

fn pod_spec(w: &Value) -> &Value {
    &w["spec"]["template"]["spec"]
}

/// The ConfigMaps, Secrets and claims a pod spec refers to.
fn references(pod: &Value) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let (mut cms, mut secrets, mut claims) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let name_of = |v: &Value, set: &mut BTreeSet<String>| {
        if let Some(n) = v.as_str() {
            set.insert(n.to_string());
        }
    };
    for list in ["containers", "initContainers"] {
        for c in pod[list].as_array().into_iter().flatten() {
            for e in c["env"].as_array().into_iter().flatten() {
                name_of(&e["valueFrom"]["configMapKeyRef"]["name"], &mut cms);
                name_of(&e["valueFrom"]["secretKeyRef"]["name"], &mut secrets);
            }
            for e in c["envFrom"].as_array().into_iter().flatten() {
                name_of(&e["configMapRef"]["name"], &mut cms);
                name_of(&e["secretRef"]["name"], &mut secrets);
            }
        }
    }
    for v in pod["volumes"].as_array().into_iter().flatten() {
        name_of(&v["configMap"]["name"], &mut cms);
        name_of(&v["secret"]["secretName"], &mut secrets);
        name_of(&v["persistentVolumeClaim"]["claimName"], &mut claims);
        for s in v["projected"]["sources"].as_array().into_iter().flatten() {
            name_of(&s["configMap"]["name"], &mut cms);
            name_of(&s["secret"]["name"], &mut secrets);
        }
    }
    for s in pod["imagePullSecrets"].as_array().into_iter().flatten() {
        name_of(&s["name"], &mut secrets);
    }
    (cms, secrets, claims)
}

fn selects(selector: &Value, labels: &Value) -> bool {
    match selector.as_object() {
        Some(sel) if !sel.is_empty() => sel.iter().all(|(k, v)| labels.get(k) == Some(v)),
        _ => false,
    }
}

/// Assembles an app from its space's objects.
pub fn bundle(space: &SpaceObjects, app: &AppRef) -> Option<Bundle> {
    let workload = space
        .get("Deployment", &app.name)
        .or_else(|| space.get("StatefulSet", &app.name))?
        .clone();
    let labels = &workload["spec"]["template"]["metadata"]["labels"];
    let services: Vec<Value> = space
        .of("Service")
        .filter(|s| selects(&s["spec"]["selector"], labels))
        .cloned()
        .collect();
    let svc_names: BTreeSet<&str> = services.iter().filter_map(|s| s["metadata"]["name"].as_str()).collect();
    let mut ingresses = Vec::new();
    for ing in space.of("Ingress") {
        let mut cut = ing.clone();
        let mut kept_hosts = BTreeSet::new();
        let rules: Vec<Value> = ing["spec"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let paths: Vec<Value> = r["http"]["paths"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| {
                        p["backend"]["service"]["name"]
                            .as_str()
                            .is_some_and(|n| svc_names.contains(n))
                    })
                    .cloned()
                    .collect();
                if paths.is_empty() {
                    return None;
                }
                if let Some(h) = r["host"].as_str() {
                    kept_hosts.insert(h.to_string());
                }
                let mut r = r.clone();
                r["http"]["paths"] = json!(paths);
                Some(r)
            })
            .collect();
        if rules.is_empty() {
            continue;
        }
        let shared = rules.len() != ing["spec"]["rules"].as_array().map_or(0, Vec::len)
            || ing["spec"]["rules"].as_array().into_iter().flatten().any(|r| {
                r["http"]["paths"].as_array().into_iter().flatten().any(|p| {
                    !p["backend"]["service"]["name"]
                        .as_str()
                        .is_some_and(|n| svc_names.contains(n))
                })
            });
        cut["spec"]["rules"] = json!(rules);
        if let Some(tls) = ing["spec"]["tls"].as_array() {
            let tls: Vec<Value> = tls
                .iter()
                .filter(|t| {
                    t["hosts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|h| h.as_str().is_some_and(|h| kept_hosts.contains(h)))
                })
                .cloned()
                .collect();
            cut["spec"]["tls"] = json!(tls);
        }
        if shared {
            // Rules of several apps: the copy gets an Ingress of its own.
            let name = format!("{}-{}", ing["metadata"]["name"].as_str().unwrap_or("routes"), app.name);
            cut["metadata"]["name"] = json!(name);
        }
        ingresses.push(cut);
    }
    let (cms, secrets, claims) = references(pod_spec(&workload));
    let config_maps = cms.iter().filter_map(|n| space.get("ConfigMap", n)).cloned().collect();
    let have_secrets = space.by_kind.contains_key("Secret");
    let secret_objs: Vec<Value> = secrets.iter().filter_map(|n| space.get("Secret", n)).cloned().collect();
    let secrets_left = if have_secrets {
        Vec::new()
    } else {
        secrets.into_iter().collect()
    };
    let claims = claims
        .iter()
        .filter_map(|n| space.get("PersistentVolumeClaim", n))
        .cloned()
        .collect();
    Some(Bundle {
        app: app.clone(),
        workload,
        services,
        ingresses,
        config_maps,
        secrets: secret_objs,
        secrets_left,
        claims,
    })
}

// ---------------------------------------------------------------- rewriting

/// `registry/path:tag` with its registry replaced (or put in front).
pub fn with_registry(image: &str, registry: &str) -> String {
    let registry = registry.trim_end_matches('/');
    match image.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            format!("{registry}/{rest}")
        }
        _ => format!("{registry}/{image}"),
    }
}

/// Where a copy goes, with what the target cluster offers.
#[derive(Debug, Clone)]
pub struct Target {
    pub space: SpaceRef,
    pub domains: Vec<Domain>,
}

/// The host of the `n`th distinct route host of an app in the target.
pub fn target_host(template: &str, app: &str, space: &str, domain: &str, n: usize) -> String {
    let host = template
        .replace("{app}", app)
        .replace("{space}", space)
        .replace("{domain}", domain);
    if n == 0 {
        host
    } else {
        match host.split_once('.') {
            Some((first, rest)) => format!("{first}-{}.{rest}", n + 1),
            None => format!("{host}-{}", n + 1),
        }
    }
}

/// Maps the source hosts of an app onto the target's domain.
fn host_map(
    hosts: &[String],
    spec: &CopySpec,
    app: &str,
    target: &Target,
    notes: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(domain) = target.domains.first() else {
        if !hosts.is_empty() {
            notes.push(format!(
                "cluster {} has no domain: route hosts kept (`kdeck domains add {} SUFFIX`)",
                target.space.cluster, target.space.cluster
            ));
        }
        return out;
    };
    let mut n = 0;
    for h in hosts {
        if out.contains_key(h) {
            continue;
        }
        out.insert(
            h.clone(),
            target_host(&spec.host_template, app, &target.space.namespace, &domain.suffix, n),
        );
        n += 1;
    }
    out
}

fn annotate(o: &mut Value, source: &AppRef) {
    o["metadata"]["annotations"][COPIED_FROM] = json!(source.to_string());
}

fn set_images(pod: &mut Value, registry: &str) {
    for list in ["containers", "initContainers"] {
        if let Some(cs) = pod[list].as_array_mut() {
            for c in cs {
                if let Some(img) = c["image"].as_str() {
                    c["image"] = json!(with_registry(img, registry));
                }
            }
        }
    }
}

/// An object of the source, stripped, in the target namespace, saying where it came from.
fn place(o: Value, ns: &str, source: &AppRef) -> Value {
    let mut o = strip(o);
    o["metadata"]["namespace"] = json!(ns);
    annotate(&mut o, source);
    o
}

/// The ConfigMaps and (with consent) Secrets an app references, for a target.
fn config_of(b: &Bundle, target: &SpaceRef, notes: &mut Vec<String>) -> Vec<Value> {
    let out = b
        .config_maps
        .iter()
        .chain(&b.secrets)
        .map(|o| place(o.clone(), &target.namespace, &b.app))
        .collect();
    if !b.secrets_left.is_empty() {
        notes.push(format!(
            "secrets {} not copied; the target must have them",
            b.secrets_left.join(", ")
        ));
    }
    out
}

/// The objects of an unmanaged app for one target, under `name`.
pub fn rewrite(b: &Bundle, spec: &CopySpec, target: &Target, name: &str, notes: &mut Vec<String>) -> Vec<Value> {
    let ns = target.space.namespace.as_str();
    let renamed = name != b.app.name;
    let mut out = config_of(b, &target.space, notes);
    let push = |o: Value, out: &mut Vec<Value>| out.push(place(o, ns, &b.app));
    let claim_name = |c: &str| if renamed { format!("{name}-{c}") } else { c.to_string() };
    for c in &b.claims {
        let mut c = c.clone();
        let n = claim_name(c["metadata"]["name"].as_str().unwrap_or(""));
        c["metadata"]["name"] = json!(n);
        push(c, &mut out);
    }
    // The workload; renamed, its pods get labels of their own so the two
    // apps' Services do not select each other's pods.
    let mut w = b.workload.clone();
    let mut relabel: BTreeMap<String, String> = BTreeMap::new();
    if renamed {
        w["metadata"]["name"] = json!(name);
        if let Some(sel) = w["spec"]["selector"]["matchLabels"].as_object() {
            for (k, v) in sel {
                if v == b.app.name.as_str() {
                    relabel.insert(k.clone(), name.to_string());
                }
            }
        }
        if relabel.is_empty() {
            relabel.insert("kdeck.dev/copy".into(), name.to_string());
        }
        for (k, v) in &relabel {
            w["spec"]["selector"]["matchLabels"][k] = json!(v);
            w["spec"]["template"]["metadata"]["labels"][k] = json!(v);
            if w["metadata"]["labels"].get(k).is_some() {
                w["metadata"]["labels"][k] = json!(v);
            }
        }
        if let Some(vols) = w["spec"]["template"]["spec"]["volumes"].as_array_mut() {
            for v in vols {
                if let Some(c) = v["persistentVolumeClaim"]["claimName"].as_str() {
                    v["persistentVolumeClaim"]["claimName"] = json!(claim_name(c));
                }
            }
        }
    }
    if let Some(r) = &spec.registry {
        set_images(&mut w["spec"]["template"]["spec"], r);
    }
    if let Some(n) = spec.replicas {
        w["spec"]["replicas"] = json!(n);
    }
    let svc_name = |s: &str| {
        if !renamed {
            s.to_string()
        } else if s == b.app.name {
            name.to_string()
        } else {
            format!("{name}-{s}")
        }
    };
    if renamed
        && w["kind"] == "StatefulSet"
        && let Some(s) = w["spec"]["serviceName"].as_str()
    {
        w["spec"]["serviceName"] = json!(svc_name(s));
    }
    push(w, &mut out);
    for s in &b.services {
        let mut s = s.clone();
        let n = svc_name(s["metadata"]["name"].as_str().unwrap_or(""));
        s["metadata"]["name"] = json!(n);
        for (k, v) in &relabel {
            s["spec"]["selector"][k] = json!(v);
        }
        push(s, &mut out);
    }
    let hosts = ingress_hosts(&b.ingresses);
    let map = host_map(&hosts, spec, name, target, notes);
    let tls_secret = target.domains.first().and_then(|d| d.tls_secret.clone());
    for i in &b.ingresses {
        let mut i = i.clone();
        if renamed {
            let n = i["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .replacen(&b.app.name, name, 1);
            i["metadata"]["name"] = json!(if n == i["metadata"]["name"] {
                format!("{name}-{n}")
            } else {
                n
            });
        }
        if let Some(rules) = i["spec"]["rules"].as_array_mut() {
            for r in rules {
                if let Some(h) = r["host"].as_str().and_then(|h| map.get(h)) {
                    r["host"] = json!(h);
                }
                if let Some(paths) = r["http"]["paths"].as_array_mut() {
                    for p in paths {
                        if let Some(s) = p["backend"]["service"]["name"].as_str() {
                            p["backend"]["service"]["name"] = json!(svc_name(s));
                        }
                    }
                }
            }
        }
        if let Some(tls) = i["spec"]["tls"].as_array_mut() {
            for t in tls.iter_mut() {
                if let Some(hs) = t["hosts"].as_array_mut() {
                    for h in hs {
                        if let Some(n) = h.as_str().and_then(|x| map.get(x)) {
                            *h = json!(n);
                        }
                    }
                }
                if !map.is_empty()
                    && let Some(s) = &tls_secret
                {
                    t["secretName"] = json!(s);
                }
            }
        }
        push(i, &mut out);
    }
    out
}

// ----------------------------------------------------------------- planning

/// A choice of the copy's that would change an item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Secrets it references were left out.
    WithSecrets,
    /// It exists in the target and is not a copy: skipped.
    OnConflict,
}

impl Remedy {
    /// As the CLI says it.
    pub fn flag(self) -> &'static str {
        match self {
            Remedy::WithSecrets => "--with-secrets copies them",
            Remedy::OnConflict => "--on-conflict overwrite or rename copies it",
        }
    }
    /// In words for the journal, which any front end shows.
    pub fn words(self) -> &'static str {
        match self {
            Remedy::WithSecrets => "copying with secrets copies them",
            Remedy::OnConflict => "the overwrite or rename conflict policy copies it",
        }
    }
}

/// What a copy will do for one app and one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanItem {
    pub source: String,
    pub target: String,
    /// The app's name in the target (differs with `rename`).
    pub name: String,
    /// `create`, `update`, `unchanged`, `skip` (conflict, policy skip) or `fail`.
    pub action: &'static str,
    /// Per object: `kind name: create|update|unchanged`.
    pub objects: Vec<String>,
    pub notes: Vec<String>,
    /// What would change the outcome, for each front end to say its own way
    /// (a flag in the CLI, a key in the cockpit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remedies: Vec<Remedy>,
    #[serde(skip)]
    apply: Vec<Value>,
    #[serde(skip)]
    store: Option<StoredCopy>,
}

impl PlanItem {
    /// An item as a plan shows it, with nothing to apply (for views and tests).
    pub fn described(
        source: &str,
        target: &str,
        name: &str,
        action: &'static str,
        objects: Vec<String>,
        notes: Vec<String>,
    ) -> PlanItem {
        PlanItem {
            source: source.into(),
            target: target.into(),
            name: name.into(),
            action,
            objects,
            notes,
            remedies: Vec::new(),
            apply: Vec::new(),
            store: None,
        }
    }

    /// The item with what would change its outcome.
    pub fn with_remedies(mut self, remedies: Vec<Remedy>) -> PlanItem {
        self.remedies = remedies;
        self
    }

    pub fn item(&self) -> String {
        format!("{} → {}/{}", self.source, self.target, self.name)
    }
}

/// The settings a copy of a managed app stores for its target.
#[derive(Debug, Clone, PartialEq)]
struct StoredCopy {
    app: App,
    routes: Vec<Route>,
    bindings: Vec<Binding>,
    digest: String,
    /// The generation of the workload already in the target, if there is one.
    live_generation: Option<i64>,
}

/// A planned copy: per app and target.
#[derive(Debug, Clone, Serialize)]
pub struct CopyPlan {
    /// The conflict policy the plan was made with.
    #[serde(default)]
    pub on_conflict: OnConflict,
    pub items: Vec<PlanItem>,
    /// Target spaces that do not exist yet (created first).
    pub new_spaces: Vec<String>,
}

fn parse_space(s: &str, what: &str) -> Result<SpaceRef, Failure> {
    SpaceRef::parse(what, s).map_err(|e| invalid(e.to_string()))
}

/// `k=v,k2=v2` as a map; a clear error otherwise.
fn parse_selector(s: &str) -> Result<BTreeMap<String, String>, Failure> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| invalid(format!("--selector {s:?}: {p:?} is not key=value")))
        })
        .collect()
}

/// The source apps, by space.
fn sources(spec: &CopySpec) -> Result<BTreeMap<SpaceRef, Vec<String>>, Failure> {
    let mut out: BTreeMap<SpaceRef, Vec<String>> = BTreeMap::new();
    for a in &spec.apps {
        let a = AppRef::parse("app", a).map_err(|e| invalid(e.to_string()))?;
        out.entry(a.space).or_default().push(a.name);
    }
    if let Some(from) = &spec.from {
        let s = parse_space(from, "--from")?;
        let e = out.entry(s).or_default();
        e.extend(spec.names.iter().cloned());
    } else if !spec.names.is_empty() || spec.selector.is_some() {
        return Err(invalid("--app and --selector need --from SPACE"));
    }
    if out.is_empty() {
        return Err(invalid(
            "nothing to copy: give --from SPACE (with --app or --selector), or apps",
        ));
    }
    Ok(out)
}

/// Re-resolves a managed app's bindings in the target space: a same-named
/// provider there offering the connector first (stored, or among the apps
/// this copy brings), else the original provider.
fn rebind(
    ex: &Executor,
    source: &AppRef,
    target: &AppRef,
    copied: &BTreeSet<String>,
    notes: &mut Vec<String>,
) -> Result<Vec<(Binding, App, Vec<Route>)>, Failure> {
    let mut out = Vec::new();
    for b in ex
        .store()
        .list::<Binding>()?
        .into_iter()
        .filter(|b| b.consumer == *source)
    {
        let local = AppRef::new(target.space.clone(), &b.provider.name);
        let local_settings = ex.store().get::<App>(&local.to_string())?;
        let offered = |a: &App| a.connectors.iter().any(|c| c.name == b.connector);
        let routes_of = |a: &AppRef| -> Result<Vec<Route>, Failure> {
            Ok(ex
                .store()
                .list::<Route>()?
                .into_iter()
                .filter(|r| r.app == *a)
                .collect())
        };
        let (provider, settings, routes) = match local_settings {
            Some(a) if offered(&a) => {
                let routes = routes_of(&local)?;
                (local, a, routes)
            }
            _ if copied.contains(&b.provider.name) => {
                // Copied here by this same command: the same space, so its
                // Service is what the binding uses; its settings are the source's.
                match ex.store().get::<App>(&b.provider.to_string())? {
                    Some(mut a) => {
                        a.app = local.clone();
                        (local, a, Vec::new())
                    }
                    None => continue,
                }
            }
            _ => match ex.store().get::<App>(&b.provider.to_string())? {
                Some(a) => {
                    let routes = routes_of(&b.provider)?;
                    if b.provider.space.cluster != target.space.cluster && routes.is_empty() {
                        notes.push(format!(
                            "unbound: {} has no route that cluster {} can reach, and {} has no {}",
                            b.provider, target.space.cluster, target.space, b.provider.name
                        ));
                        continue;
                    }
                    notes.push(format!(
                        "binding {}:{} kept pointing at {} (none in {})",
                        b.provider.name, b.connector, b.provider, target.space
                    ));
                    (b.provider.clone(), a, routes)
                }
                None => {
                    notes.push(format!(
                        "unbound: {} is no longer stored and {} has no {}",
                        b.provider, target.space, b.provider.name
                    ));
                    continue;
                }
            },
        };
        out.push((
            Binding {
                consumer: target.clone(),
                provider,
                connector: b.connector.clone(),
                env_prefix: b.env_prefix.clone(),
            },
            settings,
            routes,
        ));
    }
    Ok(out)
}

/// The objects (and settings to store) of a managed app for one target.
fn rewrite_managed(
    ex: &Executor,
    settings: &App,
    spec: &CopySpec,
    target: &Target,
    name: &str,
    copied: &BTreeSet<String>,
    notes: &mut Vec<String>,
) -> Result<(Vec<Value>, StoredCopy), Failure> {
    let source = &settings.app;
    let mut app = settings.clone();
    app.app = AppRef::new(target.space.clone(), name);
    if let Some(r) = &spec.registry {
        app.image = with_registry(&app.image, r);
    }
    if let Some(n) = spec.replicas {
        app.replicas = n;
    }
    let src_routes: Vec<Route> = ex
        .store()
        .list::<Route>()?
        .into_iter()
        .filter(|r| r.app == *source)
        .collect();
    let hosts: Vec<String> = src_routes.iter().map(|r| r.host.clone()).collect();
    let map = host_map(&hosts, spec, name, target, notes);
    let routes: Vec<Route> = src_routes
        .into_iter()
        .map(|mut r| {
            r.app = app.app.clone();
            if let Some(h) = map.get(&r.host) {
                r.host = h.clone();
            }
            // A copy gets Ingresses of its own.
            r.ingress = IngressMode::Own;
            r.tls_secret = None;
            r
        })
        .collect();
    let bound = rebind(ex, source, &app.app, copied, notes)?;
    let providers: Vec<derive::BoundProvider> = bound
        .iter()
        .map(|(b, p, r)| derive::BoundProvider {
            binding: b.clone(),
            provider: p.clone(),
            routes: r.clone(),
        })
        .collect();
    let d = derive::derive(Inputs {
        app: &app,
        routes: &routes,
        domains: &target.domains,
        bindings: &providers,
        restarted_at: None,
    });
    if !d.secret_copies.is_empty() {
        notes.push("bound secrets are copied by `kdeck apps deploy` of the copy".into());
    }
    let shared = super::apps::shared_of(ex, &target.space, &target.domains)?;
    let digest = digest_of(&d, shared.as_ref());
    let mut objects: Vec<Value> = d.objects().into_iter().cloned().collect();
    for o in &mut objects {
        annotate(o, source);
    }
    Ok((
        objects,
        StoredCopy {
            app,
            routes,
            bindings: bound.into_iter().map(|(b, _, _)| b).collect(),
            digest,
            live_generation: None,
        },
    ))
}

fn key(o: &Value) -> (String, String) {
    (
        o["kind"].as_str().unwrap_or("").to_string(),
        o["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// Is the live object a copy of this source?
fn copy_of(live: &Value, source: &AppRef) -> bool {
    live["metadata"]["annotations"][COPIED_FROM] == source.to_string().as_str()
}

/// Compares each object with the target; says what applying would do.
fn judge(objects: &[Value], live: &SpaceObjects) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut changes = 0;
    for o in objects {
        let (kind, name) = key(o);
        let what = match live.get(&kind, &name) {
            None => "create",
            Some(l) => {
                if derive::changes(o, l).is_empty() {
                    "unchanged"
                } else {
                    "update"
                }
            }
        };
        if what != "unchanged" {
            changes += 1;
        }
        lines.push(format!("{} {name}: {what}", kind.to_ascii_lowercase()));
    }
    (lines, changes)
}

/// A free name for a renamed copy: one not used, or already this source's copy.
fn free_name(source: &AppRef, live: &SpaceObjects, taken: &BTreeSet<String>) -> String {
    for n in 1..1000 {
        let name = if n == 1 {
            format!("{}-copy", source.name)
        } else {
            format!("{}-copy-{n}", source.name)
        };
        let w = live.get("Deployment", &name).or_else(|| live.get("StatefulSet", &name));
        if !taken.contains(&name) && w.is_none_or(|w| copy_of(w, source)) {
            return name;
        }
    }
    format!("{}-copy-x", source.name)
}

/// The hosts the rules of these Ingresses serve.
fn ingress_hosts(ingresses: &[Value]) -> Vec<String> {
    ingresses
        .iter()
        .flat_map(|i| i["spec"]["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["host"].as_str().map(str::to_string))
        .collect()
}

/// Why a copy may not go where its routes would serve the hosts its source
/// serves on the same cluster (two Ingresses, one host): with no domain
/// there, the hosts are kept.
fn host_clash(b: &Bundle, objects: &[Value], target: &Target) -> Option<String> {
    if b.app.space.cluster != target.space.cluster || !target.domains.is_empty() {
        return None;
    }
    let source = ingress_hosts(&b.ingresses);
    let copied: Vec<Value> = objects.iter().filter(|o| o["kind"] == "Ingress").cloned().collect();
    let host = ingress_hosts(&copied).into_iter().find(|h| source.contains(h))?;
    let c = &target.space.cluster;
    Some(format!(
        "cluster {c} has no domain, so the copy would serve {host} beside {}, on the same cluster; \
         add a domain (`kdeck domains add {c} SUFFIX`) and copy again, or copy to another cluster",
        b.app
    ))
}

fn fail_item(source: &AppRef, target: &SpaceRef, why: String) -> PlanItem {
    PlanItem {
        source: source.to_string(),
        target: target.to_string(),
        name: source.name.clone(),
        action: "fail",
        objects: Vec::new(),
        notes: vec![why],
        apply: Vec::new(),
        remedies: Vec::new(),
        store: None,
    }
}

/// Reads sources and targets and works out every item. Nothing is changed.
pub async fn plan(ex: &Executor, spec: &CopySpec) -> Result<CopyPlan, Failure> {
    if spec.to.is_empty() {
        return Err(invalid("no target: give --to SPACE (repeatable)"));
    }
    for part in ["{app}", "{domain}"] {
        if !spec.host_template.contains(part) {
            return Err(invalid(format!(
                "--host-template {:?} must contain {part}, e.g. {HOST_TEMPLATE}",
                spec.host_template
            )));
        }
    }
    let targets: Vec<SpaceRef> = spec
        .to
        .iter()
        .map(|t| parse_space(t, "--to"))
        .collect::<Result<_, _>>()?;
    let by_space = sources(spec)?;
    let selector = spec.selector.as_deref().map(parse_selector).transpose()?;
    // Read every source space once.
    let mut bundles: Vec<(Bundle, Option<App>)> = Vec::new();
    for (space, names) in &by_space {
        let cluster = cluster_of(ex, &space.cluster)?;
        let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
        let objs = read_space(&client, &cluster, &space.namespace, spec.with_secrets)
            .await
            .map_err(cluster_failure)?;
        if !objs.exists {
            return Err(invalid(format!("space {space} does not exist")));
        }
        let mut wanted: Vec<String> = names.clone();
        if wanted.is_empty() {
            for kind in ["Deployment", "StatefulSet"] {
                for w in objs.of(kind) {
                    let labels = &w["metadata"]["labels"];
                    if selector
                        .as_ref()
                        .is_none_or(|s| s.iter().all(|(k, v)| labels[k] == v.as_str()))
                    {
                        wanted.push(w["metadata"]["name"].as_str().unwrap_or("").to_string());
                    }
                }
            }
            if wanted.is_empty() {
                return Err(invalid(format!(
                    "no apps in {space}{} to copy",
                    spec.selector
                        .as_ref()
                        .map(|s| format!(" match {s}"))
                        .unwrap_or_default()
                )));
            }
        }
        for name in wanted {
            let a = AppRef::new(space.clone(), &name);
            let b = bundle(&objs, &a).ok_or_else(|| {
                invalid(format!(
                    "no Deployment or StatefulSet {name} in {space}; `kdeck apps list --space {space}` lists them"
                ))
            })?;
            let settings = ex.store().get::<App>(&a.to_string())?;
            bundles.push((b, settings));
        }
    }
    let copied: BTreeSet<String> = bundles.iter().map(|(b, _)| b.app.name.clone()).collect();
    // Read every target space once, concurrently.
    let mut reads = Vec::new();
    for t in &targets {
        let ex = ex.clone();
        let t = t.clone();
        let secrets = spec.with_secrets;
        reads.push(async move {
            let cluster = cluster_of(&ex, &t.cluster)?;
            let domains = super::apps::domains_of(&ex, &t.cluster)?;
            let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
            let live = read_space(&client, &cluster, &t.namespace, secrets)
                .await
                .map_err(cluster_failure)?;
            Ok::<_, Failure>((live, domains))
        });
    }
    let read = futures::future::join_all(reads).await;
    let mut items = Vec::new();
    let mut new_spaces = Vec::new();
    for (t, r) in targets.iter().zip(read) {
        let (live, domains) = match r {
            Ok(x) => x,
            Err(f) => {
                for (b, _) in &bundles {
                    items.push(fail_item(&b.app, t, f.reason.clone()));
                }
                continue;
            }
        };
        if live.terminating {
            for (b, _) in &bundles {
                items.push(fail_item(
                    &b.app,
                    t,
                    format!("namespace {} is being deleted", t.namespace),
                ));
            }
            continue;
        }
        if !live.exists {
            new_spaces.push(t.to_string());
        }
        let target = Target {
            space: t.clone(),
            domains,
        };
        let mut taken = BTreeSet::new();
        for (b, settings) in &bundles {
            if b.app.space == *t {
                items.push(fail_item(&b.app, t, "source and target are the same space".into()));
                continue;
            }
            let existing = live
                .get("Deployment", &b.app.name)
                .or_else(|| live.get("StatefulSet", &b.app.name));
            let conflict = existing.is_some_and(|w| !copy_of(w, &b.app));
            let name = match (conflict, spec.on_conflict) {
                (true, OnConflict::Rename) => free_name(&b.app, &live, &taken),
                _ => b.app.name.clone(),
            };
            taken.insert(name.clone());
            let mut notes = Vec::new();
            if conflict && spec.on_conflict == OnConflict::Skip {
                items.push(PlanItem {
                    source: b.app.to_string(),
                    target: t.to_string(),
                    name,
                    action: "skip",
                    objects: Vec::new(),
                    notes: vec![format!("{} exists there and is not a copy of {}", b.app.name, b.app)],
                    remedies: vec![Remedy::OnConflict],
                    apply: Vec::new(),
                    store: None,
                });
                continue;
            }
            let (objects, store) = match settings {
                Some(s) => {
                    let (derived, st) = rewrite_managed(ex, s, spec, &target, &name, &copied, &mut notes)?;
                    // What it references comes along, as for any app.
                    let mut o = config_of(b, t, &mut notes);
                    o.extend(derived);
                    (o, Some(st))
                }
                None => (rewrite(b, spec, &target, &name, &mut notes), None),
            };
            if let Some(why) = host_clash(b, &objects, &target) {
                items.push(fail_item(&b.app, t, why));
                continue;
            }
            let (lines, changes) = judge(&objects, &live);
            let there = live.get("Deployment", &name).or_else(|| live.get("StatefulSet", &name));
            let action = if changes == 0 {
                "unchanged"
            } else if there.is_some() {
                "update"
            } else {
                "create"
            };
            let live_generation = there.and_then(|o| o["metadata"]["generation"].as_i64());
            let remedies = if b.secrets_left.is_empty() {
                Vec::new()
            } else {
                vec![Remedy::WithSecrets]
            };
            items.push(PlanItem {
                source: b.app.to_string(),
                target: t.to_string(),
                name,
                action,
                objects: lines,
                notes,
                remedies,
                apply: objects,
                store: store.map(|s| StoredCopy { live_generation, ..s }),
            });
        }
    }
    Ok(CopyPlan {
        on_conflict: spec.on_conflict,
        items,
        new_spaces,
    })
}

// ---------------------------------------------------------------- applying

async fn apply_one(client: &kube::Client, cluster: &Cluster, o: &Value) -> Result<Option<i64>, Problem> {
    let (kind, name) = key(o);
    let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
    let Some((ar, _)) = kdeck_fleet::kinds::resource(&kind) else {
        return Err(Problem {
            cluster: cluster.name.clone(),
            kind: kdeck_fleet::ProblemKind::Config,
            message: format!("kdeck cannot copy a {kind}"),
            code: None,
        });
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    api.patch(&name, &kdeck_fleet::gateway::apply_params(), &Patch::Apply(o))
        .await
        .map(|d| d.metadata.generation)
        .map_err(|e| describe(cluster, &format!("apply {}", ar.plural), &e))
}

async fn create_space(client: &kube::Client, cluster: &Cluster, ns: &str) -> Result<(), Problem> {
    let Some((ar, _)) = kdeck_fleet::kinds::resource("Namespace") else {
        return Ok(());
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": {derive::MANAGED_BY: derive::MANAGED_BY_KDECK}}
    }))
    .map_err(|e| Problem {
        cluster: cluster.name.clone(),
        kind: kdeck_fleet::ProblemKind::Config,
        message: e.to_string(),
        code: None,
    })?;
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(describe(cluster, "create namespaces", &e)),
    }
}

/// What applying one item came to, and the settings to store for it.
struct Done {
    outcome: ItemOutcome,
    store: Option<(StoredCopy, Option<i64>)>,
}

async fn run_item(client: &kube::Client, cluster: &Cluster, it: PlanItem) -> Done {
    let item = it.item();
    let said: Vec<String> = it
        .notes
        .iter()
        .cloned()
        .chain(it.remedies.iter().map(|r| r.words().to_string()))
        .collect();
    let notes = if said.is_empty() {
        String::new()
    } else {
        format!(" ({})", said.join("; "))
    };
    match it.action {
        "fail" => {
            return Done {
                outcome: ItemOutcome::failed(item, it.notes.join("; "), None),
                store: None,
            };
        }
        "skip" => {
            return Done {
                outcome: ItemOutcome::ok(item, format!("skipped: {}", said.join("; "))),
                store: None,
            };
        }
        "unchanged" => {
            // The cluster has it already (a run killed after applying it, say):
            // the settings are stored all the same, as a clean run stores them.
            return Done {
                outcome: ItemOutcome::ok(item, format!("unchanged{notes}")),
                store: it.store.map(|s| {
                    let g = s.live_generation;
                    (s, g)
                }),
            };
        }
        _ => {}
    }
    let mut generation = None;
    for o in &it.apply {
        match apply_one(client, cluster, o).await {
            Ok(g) => {
                if matches!(o["kind"].as_str(), Some("Deployment" | "StatefulSet")) {
                    generation = g;
                }
            }
            Err(p) => {
                let (kind, name) = key(o);
                return Done {
                    outcome: ItemOutcome::failed(
                        item,
                        format!("{} {name}: {}", kind.to_ascii_lowercase(), p.message),
                        p.code,
                    ),
                    store: None,
                };
            }
        }
    }
    let n = it.apply.len();
    Done {
        outcome: ItemOutcome::ok(item, format!("{}d ({n} objects){notes}", it.action)),
        store: it.store.map(|s| (s, generation)),
    }
}

/// Runs a planned copy: target clusters concurrently, up to 8 apps at a
/// time on each. Cancelling lets running items finish; the rest are
/// recorded as not started, and the same copy run again finishes the job.
pub(super) async fn copy(ex: &Executor, spec: &CopySpec, progress: &Progress) -> Result<Applied, Failure> {
    use futures::StreamExt;
    let plan = plan(ex, spec).await?;
    let mut by_cluster: BTreeMap<String, Vec<PlanItem>> = BTreeMap::new();
    for it in plan.items {
        let cluster = it
            .target
            .split_once('/')
            .map(|(c, _)| c.to_string())
            .unwrap_or_default();
        by_cluster.entry(cluster).or_default().push(it);
    }
    let mut tasks = Vec::new();
    for (cluster_name, items) in by_cluster {
        let ex = ex.clone();
        let progress = progress.clone();
        let new_spaces: Vec<String> = plan
            .new_spaces
            .iter()
            .filter(|s| s.starts_with(&format!("{cluster_name}/")))
            .cloned()
            .collect();
        tasks.push(async move {
            if let Some(tx) = &progress.tx {
                let _ = tx.send(Event::Planned {
                    cluster: cluster_name.clone(),
                    items: items.len(),
                });
            }
            let report = |d: &ItemOutcome| {
                if let Some(tx) = &progress.tx {
                    let _ = tx.send(Event::Done(ItemDone {
                        cluster: cluster_name.clone(),
                        ok: d.ok,
                        item: d.item.clone(),
                        message: d.message.clone(),
                    }));
                }
            };
            let mut out: Vec<Done> = Vec::new();
            let cluster = match cluster_of(&ex, &cluster_name) {
                Ok(c) => c,
                Err(f) => {
                    for it in items {
                        let o = ItemOutcome::failed(it.item(), f.reason.clone(), None);
                        report(&o);
                        out.push(Done {
                            outcome: o,
                            store: None,
                        });
                    }
                    return out;
                }
            };
            let client = match ex.gateway().client(&cluster).await {
                Ok(c) => c,
                Err(p) => {
                    for it in items {
                        let o = ItemOutcome::failed(it.item(), p.message.clone(), p.code);
                        report(&o);
                        out.push(Done {
                            outcome: o,
                            store: None,
                        });
                    }
                    return out;
                }
            };
            for s in &new_spaces {
                let ns = s.split_once('/').map(|(_, n)| n).unwrap_or("");
                if let Err(p) = create_space(&client, &cluster, ns).await {
                    let o = ItemOutcome::failed(format!("space {s}"), p.message, p.code);
                    report(&o);
                    out.push(Done {
                        outcome: o,
                        store: None,
                    });
                }
            }
            let results: Vec<Done> = futures::stream::iter(items)
                .map(|it| {
                    let (client, cluster, cancel) = (&client, &cluster, &progress.cancel);
                    async move {
                        if cancel.load(Ordering::SeqCst) {
                            return Done {
                                outcome: ItemOutcome::failed(
                                    it.item(),
                                    "cancelled before it started; run the same copy again to finish",
                                    None,
                                ),
                                store: None,
                            };
                        }
                        run_item(client, cluster, it).await
                    }
                })
                .buffer_unordered(8)
                .inspect(|d| report(&d.outcome))
                .collect()
                .await;
            out.extend(results);
            out
        });
    }
    let done: Vec<Done> = futures::future::join_all(tasks).await.into_iter().flatten().collect();
    let mut batch = Batch::new();
    let mut items = Vec::new();
    for d in done {
        if let Some((s, generation)) = d.store {
            batch.put(&s.app)?;
            for r in &s.routes {
                batch.put(r)?;
            }
            for b in &s.bindings {
                batch.put(b)?;
            }
            batch.put(&AppState {
                app: Some(s.app.app.clone()),
                deployed_at: Some(ex.now()),
                deployed_generation: generation,
                deployed_digest: Some(s.digest),
                ..Default::default()
            })?;
        }
        items.push(d.outcome);
    }
    items.sort_by(|a, b| a.item.cmp(&b.item));
    if items.is_empty() {
        return Err(invalid("nothing to copy"));
    }
    Ok(Applied { items, batch })
}

// ------------------------------------------------------------------ export

/// A space's or an app's objects as `kubectl apply -f` takes them: server
/// fields stripped, the Namespace first for a whole space. Secrets only
/// with consent; service-account tokens never.
pub async fn export(ex: &Executor, what: &str, with_secrets: bool) -> Result<Vec<Value>, Failure> {
    let (space, app) = match AppRef::parse("SPACE[/APP]", what) {
        Ok(a) if what.matches('/').count() == 2 => (a.space.clone(), Some(a)),
        _ => (parse_space(what, "SPACE[/APP]")?, None),
    };
    let cluster = cluster_of(ex, &space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let objs = read_space(&client, &cluster, &space.namespace, with_secrets)
        .await
        .map_err(cluster_failure)?;
    if !objs.exists {
        return Err(invalid(format!("space {space} does not exist")));
    }
    let mut out = Vec::new();
    match app {
        Some(a) => {
            let b = bundle(&objs, &a).ok_or_else(|| {
                invalid(format!(
                    "no Deployment or StatefulSet {} in {space}; `kdeck apps list --space {space}` lists them",
                    a.name
                ))
            })?;
            for o in b
                .config_maps
                .into_iter()
                .chain(b.secrets)
                .chain(b.claims)
                .chain([b.workload])
                .chain(b.services)
                .chain(b.ingresses)
            {
                out.push(strip(o));
            }
        }
        None => {
            out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": space.namespace}}));
            for kind in KINDS {
                for o in objs.of(kind) {
                    let name = o["metadata"]["name"].as_str().unwrap_or("");
                    // What the cluster makes in every namespace is not the space's own.
                    if (*kind == "ConfigMap" && name == "kube-root-ca.crt")
                        || (*kind == "Secret" && o["type"] == "kubernetes.io/service-account-token")
                    {
                        continue;
                    }
                    out.push(strip(o.clone()));
                }
            }
        }
    }
    Ok(out)
}

/// A stored app as a solution: its settings, to create again elsewhere.
pub fn solution(ex: &Executor, app: &str) -> Result<kdeck_model::Solution, Failure> {
    let a = AppRef::parse("APP", app).map_err(|e| invalid(e.to_string()))?;
    let settings = ex.store().get::<App>(&a.to_string())?.ok_or_else(|| {
        invalid(format!(
            "{a} is not managed by kdeck: `kdeck apps adopt {a}` first, or export its YAML without --solution"
        ))
    })?;
    Ok(kdeck_model::Solution {
        name: a.name.clone(),
        description: format!("saved from {a}"),
        source: kdeck_model::SolutionSource::AppTemplate {
            app: Box::new(settings),
        },
    })
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
