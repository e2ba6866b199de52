//! Adopting an app kdeck did not create: its objects read into settings.

use super::*;

/// Reads an app kdeck did not create into the store, from its workload and
/// the Ingresses that send traffic to its Service.
/// With `replace`, a stored app takes the cluster's version of the fields
/// adopt reads (image, replicas, ports, env, command, args, resources,
/// labels); the rest of its settings (connectors, mounts, overrides…) stay.
pub(crate) async fn adopt(ex: &Executor, app: &str, replace: bool) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let existing = ex.store().get::<App>(&a.to_string())?;
    if existing.is_some() && !replace {
        return Err(invalid(format!(
            "app {a} is stored already; `kdeck apps show {a}` shows it, `kdeck apps adopt {a} --replace` takes the cluster's version over it"
        )));
    }
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let mut found = None;
    for kind in ["Deployment", "StatefulSet"] {
        let Some(ar) = resource("apps/v1", kind) else { continue };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        match api.get_opt(&a.name).await {
            Ok(Some(o)) => {
                found = Some((kind, serde_json::to_value(&o).unwrap_or(Value::Null)));
                break;
            }
            Ok(None) => {}
            Err(e) => return Err(cluster_failure(describe(&cluster, "get", &e))),
        }
    }
    let (kind, w) = found.ok_or_else(|| {
        invalid(format!(
            "no Deployment or StatefulSet {} in space {}; `kdeck apps list --space {}` lists them",
            a.name, a.space, a.space
        ))
    })?;
    let c = &w["spec"]["template"]["spec"]["containers"][0];
    let mut state = match &existing {
        Some(_) => state_of(ex, &a)?,
        None => AppState {
            app: Some(a.clone()),
            ..Default::default()
        },
    };
    let mut settings = existing.clone().unwrap_or_else(|| App::new(a.clone(), ""));
    settings.image = c["image"].as_str().unwrap_or("").to_string();
    settings.ports.clear();
    settings.env.clear();
    settings.labels.clear();
    settings.kind = if kind == "StatefulSet" {
        WorkloadKind::StatefulSet
    } else {
        WorkloadKind::Deployment
    };
    let replicas = w["spec"]["replicas"]
        .as_u64()
        .and_then(|r| u32::try_from(r).ok())
        .unwrap_or(1);
    // Zero replicas on a stored app: stopped, and the count it had stays.
    state.stopped = replicas == 0 && existing.as_ref().is_some_and(|e| e.replicas > 0);
    if !state.stopped {
        settings.replicas = replicas;
    }
    for p in c["ports"].as_array().into_iter().flatten() {
        if let Some(port) = p["containerPort"].as_u64().and_then(|x| u16::try_from(x).ok()) {
            settings.ports.push(AppPort {
                port,
                name: p["name"].as_str().map(str::to_string),
                protocol: if p["protocol"] == "UDP" {
                    Protocol::Udp
                } else {
                    Protocol::Tcp
                },
            });
        }
    }
    for e in c["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap_or("").to_string();
        let source = if let Some(v) = e["value"].as_str() {
            EnvSource::Value(v.to_string())
        } else if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
            EnvSource::SecretKey {
                name: r["name"].as_str().unwrap_or("").into(),
                key: r["key"].as_str().unwrap_or("").into(),
                optional: r["optional"].as_bool().unwrap_or(false),
            }
        } else if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
            EnvSource::ConfigMapKey {
                name: r["name"].as_str().unwrap_or("").into(),
                key: r["key"].as_str().unwrap_or("").into(),
                optional: r["optional"].as_bool().unwrap_or(false),
            }
        } else {
            continue;
        };
        settings.env.push(EnvEntry { name, source });
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    };
    settings.command = strings(&c["command"]);
    settings.args = strings(&c["args"]);
    // Requests and limits: a deploy must not drop what the pods reserve.
    let quantity = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    settings.resources = kdeck_model::Resources {
        cpu_request: quantity(&c["resources"]["requests"]["cpu"]),
        cpu_limit: quantity(&c["resources"]["limits"]["cpu"]),
        memory_request: quantity(&c["resources"]["requests"]["memory"]),
        memory_limit: quantity(&c["resources"]["limits"]["memory"]),
    };
    for (k, v) in w["metadata"]["labels"].as_object().into_iter().flatten() {
        if k != derive::NAME && k != derive::MANAGED_BY {
            settings.labels.insert(k.clone(), v.as_str().unwrap_or("").to_string());
        }
    }
    // The pods keep the labels they have: a deploy rolls none for adopting.
    settings.pod_labels = w
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        });
    settings
        .validate()
        .map_err(|e| invalid(format!("the cluster's {kind} does not fit kdeck's settings: {e}")))?;
    let mut items = vec![ItemOutcome::ok(a.to_string(), format!("adopted from its {kind}"))];
    let mut adopted_routes: Vec<Route> = Vec::new();
    let mut batch = Batch::new();
    // Routes: the Ingress rules that point at a Service of the app's name.
    if let Some(ar) = resource("networking.k8s.io/v1", "Ingress") {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        if let Ok(list) = api.list(&ListParams::default()).await {
            for ing in list.items {
                for r in ing.data["spec"]["rules"].as_array().into_iter().flatten() {
                    for p in r["http"]["paths"].as_array().into_iter().flatten() {
                        if p["backend"]["service"]["name"] != a.name.as_str() {
                            continue;
                        }
                        let route = Route {
                            app: a.clone(),
                            host: r["host"].as_str().unwrap_or("").to_string(),
                            path: p["path"].as_str().unwrap_or("/").to_string(),
                            port: p["backend"]["service"]["port"]["number"]
                                .as_u64()
                                .and_then(|x| u16::try_from(x).ok()),
                            ingress: IngressMode::Own,
                            tls_secret: None,
                        };
                        if route.validate().is_ok() {
                            items.push(ItemOutcome::ok(format!("route {}", route.host), "adopted"));
                            batch.put(&route)?;
                            adopted_routes.push(route);
                        }
                    }
                }
            }
        }
    }
    state.deployed_at = Some(ex.now());
    state.deployed_generation = w["metadata"]["generation"].as_i64();
    // What kdeck holds now is what runs, when a deploy would change nothing
    // (compared as the server stores objects): synced. Otherwise pending, and
    // `apps status` says what a deploy would change.
    let mut routes = routes_of(ex, &a)?;
    routes.retain(|r| !adopted_routes.iter().any(|n| n.key() == r.key()));
    routes.extend(adopted_routes);
    state.deployed_digest = match plan_with_routes(ex, settings.clone(), &state, routes) {
        Ok((_, d, shared)) => {
            let drift = drift_of(&cluster, &client, &a, &d, shared.as_ref()).await?;
            drift
                .iter()
                .all(|o| o.action == "unchanged")
                .then(|| digest_of(&d, shared.as_ref()))
        }
        Err(_) => None,
    };
    batch.put(&settings)?;
    batch.put(&state)?;
    Ok(Applied { items, batch })
}
