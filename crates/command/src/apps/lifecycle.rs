//! Scale, restart, stop, start and delete: on the stored settings and the
//! cluster, or on the cluster alone for an app kdeck does not manage.

use super::*;

/// Changes the stored state or settings, then applies the workload when deployed.
pub(crate) async fn change(
    ex: &Executor,
    app: &str,
    f: impl FnOnce(&mut App, &mut AppState, &str),
    what: &str,
) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let mut settings = stored_app(ex, &a)?;
    let mut state = state_of(ex, &a)?;
    // Synced before the change: the change keeps it synced.
    let before = plan(ex, &a).ok().map(|(_, d, s)| digest_of(&d, s.as_ref()));
    let was_synced = before.is_some() && before == state.deployed_digest;
    f(&mut settings, &mut state, &ex.now());
    settings.validate().map_err(|e| invalid(e.to_string()))?;
    let mut batch = Batch::new();
    batch.put(&settings)?;
    if state.deployed_at.is_none() {
        batch.put(&state)?;
        return Ok(Applied {
            items: vec![ItemOutcome::ok(
                a.to_string(),
                format!("{what} (stored; deploy to apply)"),
            )],
            batch,
        });
    }
    // The new settings land with the journal entry; plan from them as they will be.
    let (settings, derived, shared) = plan_with(ex, settings, &state)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    // More pods than the space's quota allows: refused with its numbers before anything is applied.
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    crate::quota::check_deploy(ex, &client, &cluster, &settings, &derived.workload).await?;
    let (item, generation) = apply_gen(ex, &cluster, &derived.workload).await;
    if item.ok {
        // The whole workload was applied: kdeck's fields in it are kdeck's again.
        state.deployed_generation = generation;
        if was_synced {
            state.deployed_digest = Some(digest_of(&derived, shared.as_ref()));
        }
    }
    batch.put(&state)?;
    Ok(Applied {
        items: vec![ItemOutcome {
            message: if item.ok {
                what.to_string()
            } else {
                item.message.clone()
            },
            ..item
        }],
        batch,
    })
}

pub(crate) async fn scale(ex: &Executor, app: &str, replicas: u32) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    if ex.store().get::<App>(&a.to_string())?.is_none() {
        let patch = json!({"spec": {"replicas": replicas}});
        return patch_unmanaged(ex, &a, patch, &format!("scaled to {replicas}")).await;
    }
    change(
        ex,
        app,
        |s, st, _| {
            s.replicas = replicas;
            st.stopped = false;
        },
        &format!("scaled to {replicas}"),
    )
    .await
}

pub(crate) async fn restart(ex: &Executor, app: &str) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    if ex.store().get::<App>(&a.to_string())?.is_none() {
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": ex.now()}}}}});
        return patch_unmanaged(ex, &a, patch, "restarting (rolling)").await;
    }
    change(
        ex,
        app,
        |_, st, now| {
            st.restarted_at = Some(now.to_string());
            st.needs_restart = false;
        },
        "restarting (rolling)",
    )
    .await
}

pub(crate) async fn stop(ex: &Executor, app: &str) -> Result<Applied, Failure> {
    change(
        ex,
        app,
        |_, st, _| st.stopped = true,
        "stopped (0 replicas; settings kept)",
    )
    .await
}

pub(crate) async fn start(ex: &Executor, app: &str) -> Result<Applied, Failure> {
    change(ex, app, |_, st, _| st.stopped = false, "started").await
}

pub(crate) async fn delete(ex: &Executor, app: &str, purge: bool, yes: bool) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    if !yes {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("apps delete {a}: this deletes its objects in the cluster; pass --yes to do it"),
        ));
    }
    if ex.store().get::<App>(&a.to_string())?.is_none() {
        // Not kdeck's: its workload goes; a Service or Ingresses kdeck did not make stay.
        let (cluster, api, kind) = unmanaged(ex, &a).await?;
        let what = format!("{} {}", kind.to_ascii_lowercase(), a.name);
        let item = match api.delete(&a.name, &DeleteParams::default()).await {
            Ok(_) => ItemOutcome::ok(
                what,
                "deleted (its Service and Ingresses, if any, were not kdeck's and stay)",
            ),
            Err(e) => {
                let p = describe(&cluster, "delete", &e);
                ItemOutcome::failed(what, p.message, p.code)
            }
        };
        return Ok(Applied {
            items: vec![item],
            batch: Batch::new(),
        });
    }
    let (_, derived, _) = plan(ex, &a)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
    let mut items = Vec::new();
    for o in derived.objects().into_iter().rev() {
        let what = describe_obj(o);
        let Some(ar) = resource(o["apiVersion"].as_str().unwrap_or(""), o["kind"].as_str().unwrap_or("")) else {
            continue;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        items.push(match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => ItemOutcome::ok(what, "deleted"),
            Err(kube::Error::Api(s)) if s.code == 404 => ItemOutcome::ok(what, "not there"),
            Err(e) => {
                let p = describe(&cluster, "delete", &e);
                ItemOutcome::failed(what, p.message, p.code)
            }
        });
    }
    let mut batch = Batch::new();
    // A canary goes with its app.
    if ex.store().get::<kdeck_model::Canary>(&a.to_string())?.is_some() {
        let (removed, _) = super::canary_removal(&a).run(ex, &cluster).await;
        if removed.iter().all(|i| i.ok) {
            batch.delete::<kdeck_model::Canary>(&a.to_string());
        }
        items.extend(removed);
    }
    let mut state = state_of(ex, &a)?;
    state.deployed_at = None;
    if purge {
        batch.delete::<App>(&a.to_string());
        batch.delete::<AppState>(&a.to_string());
        for r in routes_of(ex, &a)? {
            batch.delete::<Route>(&r.key());
        }
        for b in ex.store().list::<Binding>()?.into_iter().filter(|b| b.consumer == a) {
            batch.delete::<Binding>(&b.key());
        }
        items.push(ItemOutcome::ok(a.to_string(), "settings forgotten"));
    } else {
        batch.put(&state)?;
    }
    Ok(Applied { items, batch })
}
