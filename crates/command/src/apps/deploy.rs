//! Deploying an app: its derived objects planned (a dry run prints them)
//! and applied by server-side apply, with the secrets its bindings need.

use super::*;

/// Server-side apply of one object, through the gateway.
pub(crate) async fn apply(ex: &Executor, cluster: &Cluster, o: &Value) -> ItemOutcome {
    apply_gen(ex, cluster, o).await.0
}

/// Server-side apply of one object, with its generation after the apply.
pub(crate) async fn apply_gen(ex: &Executor, cluster: &Cluster, o: &Value) -> (ItemOutcome, Option<i64>) {
    let what = describe_obj(o);
    match ex.gateway().apply(cluster, o).await {
        Ok(done) => (ItemOutcome::ok(what, "applied"), done.metadata.generation),
        Err(p) => (ItemOutcome::failed(what, p.message, p.code), None),
    }
}

/// Everything deploy needs, read from the store: the derived objects.
pub fn plan(ex: &Executor, a: &AppRef) -> Result<(App, Derived, Option<Value>), Failure> {
    let app = stored_app(ex, a)?;
    let state = state_of(ex, a)?;
    plan_with(ex, app, &state)
}

/// The plan for given settings and state (not yet stored), with everything
/// else from the store.
pub(crate) fn plan_with(ex: &Executor, app: App, state: &AppState) -> Result<(App, Derived, Option<Value>), Failure> {
    let routes = routes_of(ex, &app.app)?;
    plan_with_routes(ex, app, state, routes)
}

/// [`plan_with`], with the app's routes given (not yet stored).
pub(crate) fn plan_with_routes(
    ex: &Executor,
    app: App,
    state: &AppState,
    routes: Vec<Route>,
) -> Result<(App, Derived, Option<Value>), Failure> {
    let a = &app.app;
    let domains = domains_of(ex, &a.space.cluster)?;
    let mut bound = Vec::new();
    for b in ex.store().list::<Binding>()?.into_iter().filter(|b| b.consumer == *a) {
        let provider = ex.store().get::<App>(&b.provider.to_string())?.ok_or_else(|| {
            invalid(format!(
                "{a} binds to {}, which is not a stored app; `kdeck apps list` shows the apps, `kdeck bind` changes bindings",
                b.provider
            ))
        })?;
        let routes = routes_of(ex, &b.provider)?;
        bound.push(BoundProvider {
            binding: b,
            provider,
            routes,
        });
    }
    let mut shown = app.clone();
    if state.stopped {
        shown.replicas = 0;
    }
    let derived = derive::derive(Inputs {
        app: &shown,
        routes: &routes,
        domains: &domains,
        bindings: &bound,
        restarted_at: state.restarted_at.as_deref(),
    });
    let shared = shared_of(ex, &a.space, &domains)?;
    Ok((app, derived, shared))
}

/// The space's shared Ingress, from every stored app's shared routes there.
pub(crate) fn shared_of(ex: &Executor, space: &SpaceRef, domains: &[Domain]) -> Result<Option<Value>, Failure> {
    let mut shared = Vec::new();
    for r in ex.store().list::<Route>()? {
        if r.app.space == *space
            && r.ingress == IngressMode::Shared
            && let Some(owner) = ex.store().get::<App>(&r.app.to_string())?
        {
            shared.push((r, owner));
        }
    }
    Ok(derive::shared_ingress(space, &shared, domains))
}

/// Hosts this app's routes would take that another Ingress in the cluster already serves.
pub(crate) async fn host_conflicts(client: &kube::Client, a: &AppRef, d: &Derived) -> Vec<String> {
    let Some(ar) = resource("networking.k8s.io/v1", "Ingress") else {
        return Vec::new();
    };
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let Ok(list) = api.list(&ListParams::default()).await else {
        return Vec::new();
    };
    let ours: Vec<(String, String)> = d
        .ingresses
        .iter()
        .flat_map(|i| {
            i["spec"]["rules"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .flat_map(|r| {
                    let host = r["host"].as_str().unwrap_or("").to_string();
                    r["http"]["paths"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |p| (host.clone(), p["path"].as_str().unwrap_or("/").to_string()))
                })
        })
        .collect();
    let mut out = Vec::new();
    for ing in list.items {
        let ns = ing.metadata.namespace.clone().unwrap_or_default();
        let name = ing.metadata.name.clone().unwrap_or_default();
        // Ours: one of the app's own Ingresses, now or before (kdeck's labels).
        let labels = ing.metadata.labels.clone().unwrap_or_default();
        let made_for_app = (labels.get(derive::NAME) == Some(&a.name) || labels.get(super::CANARY_OF) == Some(&a.name))
            && kdeck_fleet::gateway::is_managed(&labels);
        let mine = ns == a.space.namespace
            && (made_for_app || d.ingresses.iter().any(|i| i["metadata"]["name"] == name.as_str()));
        if mine {
            continue;
        }
        for r in ing.data["spec"]["rules"].as_array().cloned().unwrap_or_default() {
            let host = r["host"].as_str().unwrap_or("");
            for p in r["http"]["paths"].as_array().cloned().unwrap_or_default() {
                let path = p["path"].as_str().unwrap_or("/");
                if ours.iter().any(|(h, pa)| h == host && pa == path) {
                    out.push(format!(
                        "route {host}{} is already served by ingress {ns}/{name} on cluster {}",
                        if path == "/" { "" } else { path },
                        a.space.cluster
                    ));
                }
            }
        }
    }
    out
}

/// Copies the secret values a binding across spaces needs.
pub(crate) async fn copy_secret(ex: &Executor, a: &AppRef, c: &derive::SecretCopy, cluster: &Cluster) -> ItemOutcome {
    let what = format!("secret {}", c.to_name);
    let from_cluster = match cluster_of(ex, &c.from.cluster) {
        Ok(cl) => cl,
        Err(f) => return ItemOutcome::failed(what, f.reason, None),
    };
    let from = match ex.gateway().client(&from_cluster).await {
        Ok(cl) => cl,
        Err(p) => return ItemOutcome::failed(what, p.message, p.code),
    };
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(from, &c.from.namespace);
    let s = match secrets.get(&c.from_name).await {
        Ok(s) => s,
        Err(e) => {
            let p = describe(&from_cluster, "get secrets", &e);
            return ItemOutcome::failed(
                what,
                format!("reading {}/{}: {}", c.from, c.from_name, p.message),
                p.code,
            );
        }
    };
    let mut data = serde_json::Map::new();
    for k in &c.keys {
        match s.data.as_ref().and_then(|d| d.get(k)) {
            Some(v) => {
                data.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
            }
            None => {
                return ItemOutcome::failed(what, format!("secret {}/{} has no key {k}", c.from, c.from_name), None);
            }
        }
    }
    let obj = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": c.to_name, "namespace": a.space.namespace,
                     "labels": {derive::MANAGED_BY: derive::MANAGED_BY_KDECK, derive::NAME: a.name}},
        "type": "Opaque", "data": data});
    apply(ex, cluster, &obj).await
}

pub(crate) async fn deploy(ex: &Executor, app: &str, wait: Option<u64>) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let (settings, derived, shared) = plan(ex, &a)?;
    let routes = routes_of(ex, &a)?;
    let release = Release {
        settings: &settings,
        routes: &routes,
        note: None,
    };
    deploy_planned(ex, &a, release, &derived, shared.as_ref(), wait).await
}

/// What a deploy releases: the settings and routes (recorded as a revision
/// when they differ from the last one), and a note for the revision.
pub(crate) struct Release<'a> {
    pub settings: &'a App,
    pub routes: &'a [Route],
    /// Said before what changed: `rollback to revision 2`.
    pub note: Option<String>,
}

/// Applies a planned deploy; a deploy that applied everything records its
/// release as the app's next revision.
pub(crate) async fn deploy_planned(
    ex: &Executor,
    a: &AppRef,
    release: Release<'_>,
    derived: &Derived,
    shared: Option<&Value>,
    wait: Option<u64>,
) -> Result<Applied, Failure> {
    let settings = release.settings;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let conflicts = host_conflicts(&client, a, derived).await;
    if !conflicts.is_empty() {
        return Err(invalid(conflicts.join("; ")));
    }
    crate::quota::check_deploy(ex, &client, &cluster, settings, &derived.workload).await?;
    crate::config::check_refs(&client, &cluster, settings).await?;
    let mut items = Vec::new();
    for c in &derived.secret_copies {
        items.push(copy_secret(ex, a, c, &cluster).await);
    }
    let mut generation = None;
    for o in derived.objects() {
        let (item, g) = apply_gen(ex, &cluster, o).await;
        if std::ptr::eq(o, &derived.workload) {
            generation = g;
        }
        items.push(item);
    }
    if let Some(s) = shared {
        items.push(apply(ex, &cluster, s).await);
    }
    // Own Ingresses of routes that were removed: kdeck made them, kdeck drops them.
    items.extend(crate::routes::prune_ingresses(&client, &cluster, a, derived).await);
    if derived.autoscaler.is_none() {
        items.extend(super::prune_autoscaler(&client, &cluster, a).await);
    }
    let applied = items.iter().all(|i| i.ok);
    if let Some(secs) = wait
        && applied
    {
        items.push(
            wait_rollout(
                &client,
                &cluster,
                a,
                settings.kind,
                std::time::Duration::from_secs(secs),
            )
            .await,
        );
    }
    let mut state = state_of(ex, a)?;
    let mut batch = Batch::new();
    if items.iter().any(|i| i.ok) {
        state.deployed_at = Some(ex.now());
        if applied {
            state.deployed_digest = Some(digest_of(derived, shared));
            state.deployed_generation = generation;
            if let Some(n) = super::release::record(ex, &mut batch, &release)? {
                items.push(ItemOutcome::ok(format!("revision {n}"), "recorded"));
            }
        }
        batch.put(&state)?;
    }
    Ok(Applied { items, batch })
}
