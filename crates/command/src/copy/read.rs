//! Reading what a copy takes: a space's objects, server fields stripped,
//! and each app's bundle (its workload and what it references).

use super::*;

/// The kinds a copy reads and writes, in the order they are applied.
pub(crate) const KINDS: &[&str] = &[
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

pub(crate) fn pod_spec(w: &Value) -> &Value {
    &w["spec"]["template"]["spec"]
}

/// The ConfigMaps, Secrets and claims a pod spec refers to.
pub(crate) fn references(pod: &Value) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
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

pub(crate) fn selects(selector: &Value, labels: &Value) -> bool {
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

impl SpaceObjects {
    pub fn get(&self, kind: &str, name: &str) -> Option<&Value> {
        self.by_kind.get(kind).and_then(|m| m.get(name))
    }
    pub(crate) fn of(&self, kind: &str) -> impl Iterator<Item = &Value> {
        self.by_kind.get(kind).into_iter().flat_map(|m| m.values())
    }
}
