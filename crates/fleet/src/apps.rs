//! One concurrent pass over every cluster: the apps (Deployments and
//! StatefulSets) with their routes, and the namespaces. A slow or dead
//! cluster costs its own time limit, never the others'.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};

use super::client::{Problem, ProblemKind, describe, timed_out};
use super::live::views::created;
use crate::Gateway;
use kdeck_model::{Cluster, SpaceRef};

/// One app as the cluster has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRow {
    pub name: String,
    pub space: String,
    pub kind: String,
    pub ready: i32,
    pub desired: i32,
    pub image: String,
    pub routes: Vec<String>,
    /// creationTimestamp, RFC 3339.
    pub created: String,
}

/// One namespace as the cluster has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceRow {
    pub space: String,
    pub phase: String,
    pub managed_by_kdeck: bool,
    pub created: String,
}

/// What a pass found, and which clusters did not answer (or not fully).
#[derive(Debug, Default)]
pub struct Pass<T> {
    pub rows: Vec<T>,
    pub problems: Vec<Problem>,
}

/// Runs `f` for every cluster at once, each within `limit`, and gathers rows and problems.
pub async fn each_cluster<T, F, Fut>(gateway: &Gateway, clusters: &[Cluster], limit: Duration, f: F) -> Pass<T>
where
    F: Fn(Cluster, kube::Client) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, Problem>>,
{
    let runs = clusters.iter().map(|c| {
        let c = c.clone();
        let f = &f;
        async move {
            let client = gateway.client(&c).await?;
            match tokio::time::timeout(limit, f(c.clone(), client)).await {
                Ok(r) => r,
                Err(_) => Err(timed_out(&c, limit)),
            }
        }
    });
    let mut pass = Pass {
        rows: Vec::new(),
        problems: Vec::new(),
    };
    for r in join_all(runs).await {
        match r {
            Ok(rows) => pass.rows.extend(rows),
            Err(p) => pass.problems.push(p),
        }
    }
    pass
}

/// Lists a kind in every namespace; a user who may not do that gets the
/// namespaces of their stored spaces one by one.
async fn list_kind<K>(
    client: &kube::Client,
    c: &Cluster,
    namespaces: &Option<Vec<String>>,
    fallback: &[String],
) -> Result<Vec<K>, Problem>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let per_ns = |nss: Vec<String>| async move {
        let mut out = Vec::new();
        for ns in nss {
            let api: Api<K> = Api::namespaced(client.clone(), &ns);
            out.extend(
                api.list(&ListParams::default())
                    .await
                    .map_err(|e| describe(c, &format!("list in {ns}"), &e))?
                    .items,
            );
        }
        Ok::<_, Problem>(out)
    };
    match namespaces {
        Some(nss) => per_ns(nss.clone()).await,
        None => {
            let api: Api<K> = Api::all(client.clone());
            match api.list(&ListParams::default()).await {
                Ok(l) => Ok(l.items),
                Err(e) => {
                    let p = describe(c, "list in all namespaces", &e);
                    if p.kind == ProblemKind::Forbidden && !fallback.is_empty() {
                        per_ns(fallback.to_vec()).await
                    } else {
                        Err(p)
                    }
                }
            }
        }
    }
}

/// The apps of all clusters, or of the given spaces. `attached` are the
/// stored spaces, used where a user may not list across namespaces.
pub async fn list_apps(
    gateway: &Gateway,
    clusters: &[Cluster],
    only: Option<&[SpaceRef]>,
    attached: &[SpaceRef],
    limit: Duration,
) -> Pass<AppRow> {
    let only: Option<Vec<SpaceRef>> = only.map(<[SpaceRef]>::to_vec);
    let clusters: Vec<Cluster> = match &only {
        Some(spaces) => clusters
            .iter()
            .filter(|c| spaces.iter().any(|s| s.cluster == c.name))
            .cloned()
            .collect(),
        None => clusters.to_vec(),
    };
    each_cluster(gateway, &clusters, limit, |c, client| {
        let only = only.clone();
        let fallback: Vec<String> = attached
            .iter()
            .filter(|s| s.cluster == c.name)
            .map(|s| s.namespace.clone())
            .collect();
        async move {
            let nss: Option<Vec<String>> = only.map(|spaces| {
                spaces
                    .iter()
                    .filter(|s| s.cluster == c.name)
                    .map(|s| s.namespace.clone())
                    .collect()
            });
            let (deploys, sets, ings) = tokio::join!(
                list_kind::<Deployment>(&client, &c, &nss, &fallback),
                list_kind::<StatefulSet>(&client, &c, &nss, &fallback),
                list_kind::<Ingress>(&client, &c, &nss, &fallback),
            );
            let (deploys, sets) = (deploys?, sets?);
            // Routes are optional: a user who may not read Ingresses still gets the apps.
            let routes = routes_by_service(&ings.unwrap_or_default());
            let views = deploys
                .iter()
                .map(super::live::deployment_view)
                .chain(sets.iter().map(super::live::statefulset_view));
            let rows = views
                .map(|v| AppRow {
                    routes: routes
                        .get(&(v.namespace.clone(), v.name.clone()))
                        .cloned()
                        .unwrap_or_default(),
                    space: format!("{}/{}", c.name, v.namespace),
                    kind: v.kind.to_string(),
                    ready: v.ready,
                    desired: v.desired,
                    image: v.image,
                    created: v.created,
                    name: v.name,
                })
                .collect();
            Ok(rows)
        }
    })
    .await
    .sorted_by(|r| (r.space.clone(), r.name.clone()))
}

/// (namespace, service) → `host[/path]` of the Ingress rules that send traffic there.
fn routes_by_service(ings: &[Ingress]) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for ing in ings {
        let ns = ing.metadata.namespace.clone().unwrap_or_default();
        for rule in ing.spec.as_ref().and_then(|s| s.rules.as_ref()).into_iter().flatten() {
            let host = rule.host.clone().unwrap_or_else(|| "*".into());
            for p in rule.http.as_ref().map(|h| h.paths.as_slice()).unwrap_or_default() {
                if let Some(svc) = p.backend.service.as_ref() {
                    let path = p.path.as_deref().filter(|p| *p != "/").unwrap_or("");
                    out.entry((ns.clone(), svc.name.clone()))
                        .or_default()
                        .insert(format!("{host}{path}"));
                }
            }
        }
    }
    out.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect()
}

/// Every namespace of every cluster. Clusters where listing is forbidden
/// come back as problems; the caller shows their stored spaces instead.
pub async fn list_namespaces(gateway: &Gateway, clusters: &[Cluster], limit: Duration) -> Pass<NamespaceRow> {
    each_cluster(gateway, clusters, limit, |c, client| async move {
        let api: Api<Namespace> = Api::all(client);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| describe(&c, "list namespaces", &e))?;
        Ok(list
            .items
            .into_iter()
            .map(|n| NamespaceRow {
                space: format!("{}/{}", c.name, n.metadata.name.clone().unwrap_or_default()),
                phase: n
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| "Active".into()),
                managed_by_kdeck: n.metadata.labels.as_ref().is_some_and(crate::gateway::is_managed),
                created: created(&n.metadata),
            })
            .collect())
    })
    .await
    .sorted_by(|r| r.space.clone())
}

impl<T> Pass<T> {
    fn sorted_by<K: Ord>(mut self, key: impl Fn(&T) -> K) -> Self {
        self.rows.sort_by_key(|r| key(r));
        self.problems.sort_by(|a, b| a.message.cmp(&b.message));
        self
    }
}
