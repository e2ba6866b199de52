//! Routes of an app: its own Ingress or the space's shared one.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use crate::apps::{make_route, parse_app, resource, routes_of, stored_app};
use crate::derive::{self, Derived};
use crate::{Applied, Executor, Failure, ItemOutcome, invalid};
use kdeck_fleet::describe;
use kdeck_model::*;
use kdeck_store::Batch;

pub(crate) fn add_route(ex: &Executor, app: &str, host: &str, shared: bool) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let settings = stored_app(ex, &a)?;
    if settings.ports.is_empty() {
        return Err(invalid(format!("app {a} has no port for a route to send traffic to")));
    }
    let mut r = make_route(ex, &a, host)?;
    if shared {
        r.ingress = IngressMode::Shared;
    }
    let mut batch = Batch::new();
    batch.put(&r)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            format!("route {}", r.host),
            "stored; `kdeck apps deploy` applies it",
        )],
        batch,
    })
}

/// Removes a route from the store; the next deploy of its app (or of its
/// space's shared routes) drops it from the cluster.
pub(crate) fn remove_route(ex: &Executor, app: &str, host: &str) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let routes: Vec<Route> = routes_of(ex, &a)?.into_iter().filter(|r| r.host == host).collect();
    if routes.is_empty() {
        let have: Vec<String> = routes_of(ex, &a)?.into_iter().map(|r| r.host).collect();
        return Err(invalid(format!(
            "{a} has no route {host}; its routes: {}",
            if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            }
        )));
    }
    let mut batch = Batch::new();
    let mut items = Vec::new();
    for r in routes {
        batch.delete::<Route>(&r.key());
        items.push(ItemOutcome::ok(
            format!("route {}{}", r.host, if r.path == "/" { "" } else { &r.path }),
            "removed; `kdeck apps deploy` applies it",
        ));
    }
    Ok(Applied { items, batch })
}

/// Deletes the app's own Ingresses (made by kdeck, labelled with its name)
/// that its routes no longer call for.
pub(crate) async fn prune_ingresses(
    client: &kube::Client,
    cluster: &Cluster,
    a: &AppRef,
    d: &Derived,
) -> Vec<ItemOutcome> {
    let Some(ar) = resource("networking.k8s.io/v1", "Ingress") else {
        return Vec::new();
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
    let selector = format!(
        "{}={},{}={}",
        derive::NAME,
        a.name,
        derive::MANAGED_BY,
        derive::MANAGED_BY_KDECK
    );
    let Ok(list) = api.list(&ListParams::default().labels(&selector)).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ing in list.items {
        let name = ing.metadata.name.clone().unwrap_or_default();
        if d.ingresses.iter().any(|i| i["metadata"]["name"] == name.as_str()) {
            continue;
        }
        out.push(match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => ItemOutcome::ok(format!("ingress {name}"), "deleted (its route was removed)"),
            Err(e) => {
                let p = describe(cluster, "delete ingresses", &e);
                ItemOutcome::failed(format!("ingress {name}"), p.message, p.code)
            }
        });
    }
    out
}
