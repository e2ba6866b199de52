//! Rewriting a bundle for its target: namespace, hosts under the target's
//! domain, images, and the bindings of stored apps.

use super::*;

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
pub(crate) fn host_map(
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

pub(crate) fn annotate(o: &mut Value, source: &AppRef) {
    o["metadata"]["annotations"][COPIED_FROM] = json!(source.to_string());
}

pub(crate) fn set_images(pod: &mut Value, registry: &str) {
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
pub(crate) fn place(o: Value, ns: &str, source: &AppRef) -> Value {
    let mut o = strip(o);
    o["metadata"]["namespace"] = json!(ns);
    annotate(&mut o, source);
    o
}

/// The ConfigMaps and (with consent) Secrets an app references, for a target.
pub(crate) fn config_of(b: &Bundle, target: &SpaceRef, notes: &mut Vec<String>) -> Vec<Value> {
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

/// Re-resolves a managed app's bindings in the target space: a same-named
/// provider there offering the connector first (stored, or among the apps
/// this copy brings), else the original provider.
pub(crate) fn rebind(
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
pub(crate) fn rewrite_managed(
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
    let shared = crate::apps::shared_of(ex, &target.space, &target.domains)?;
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
