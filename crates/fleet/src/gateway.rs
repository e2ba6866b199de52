//! The cluster gateway: the one way kdeck talks to a cluster. One kube
//! client per stored cluster, made on first use and shared by the live
//! model, the commands and the cockpit; server-side apply, namespace
//! creation, object reads and events behind it, with the field manager and
//! the managed-by label defined here once.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Event, Namespace};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::Value;

use crate::client::{Problem, ProblemKind, client_for, describe};
use kdeck_model::Cluster;

/// The field manager of every server-side apply kdeck sends.
pub const FIELD_MANAGER: &str = "kdeck";
/// The label on every object kdeck creates.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY_KDECK: &str = "kdeck";

/// Whether labels say kdeck manages the object.
pub fn is_managed(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels.get(MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_KDECK)
}

/// An event about an object, as the describe view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    /// Normal or Warning.
    pub type_: String,
    pub reason: String,
    pub message: String,
    /// When it last happened, RFC 3339; empty when the server did not say.
    pub last: String,
}

/// One client per cluster, cheap to clone and to share between tasks.
#[derive(Clone, Default)]
pub struct Gateway {
    /// Cluster name → (a digest of its stored settings, its client). New
    /// settings (a re-import with fresh credentials) make a new client.
    clients: Arc<Mutex<HashMap<String, (u64, kube::Client)>>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.clients.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("Gateway").field("clients", &n).finish()
    }
}

fn digest(c: &Cluster) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(c).unwrap_or_default().hash(&mut h);
    h.finish()
}

/// What a kind is to the API: its resource and whether it is namespaced.
fn resource(cluster: &Cluster, kind: &str) -> Result<(kube::api::ApiResource, bool), Problem> {
    crate::kinds::resource(kind).ok_or_else(|| Problem {
        cluster: cluster.name.clone(),
        kind: ProblemKind::Other,
        message: format!("kdeck does not know the kind {kind:?}"),
        code: None,
    })
}

impl Gateway {
    pub fn new() -> Gateway {
        Gateway::default()
    }

    /// The client of a cluster: the one made before for the same settings,
    /// or a new one. Making one sends nothing.
    pub async fn client(&self, cluster: &Cluster) -> Result<kube::Client, Problem> {
        let d = digest(cluster);
        if let Ok(m) = self.clients.lock()
            && let Some((have, client)) = m.get(&cluster.name)
            && *have == d
        {
            return Ok(client.clone());
        }
        let client = client_for(cluster).await?;
        if let Ok(mut m) = self.clients.lock() {
            m.insert(cluster.name.clone(), (d, client.clone()));
        }
        Ok(client)
    }

    /// Forgets a cluster's client (the cluster was removed).
    pub fn forget(&self, cluster: &str) {
        if let Ok(mut m) = self.clients.lock() {
            m.remove(cluster);
        }
    }

    /// The API of a kind, in a namespace when the kind is namespaced, and
    /// the kind's resource.
    pub async fn api(
        &self,
        cluster: &Cluster,
        kind: &str,
        namespace: &str,
    ) -> Result<(Api<DynamicObject>, kube::api::ApiResource), Problem> {
        let (ar, namespaced) = resource(cluster, kind)?;
        let client = self.client(cluster).await?;
        let api = if namespaced {
            Api::namespaced_with(client, namespace, &ar)
        } else {
            Api::all_with(client, &ar)
        };
        Ok((api, ar))
    }

    /// Server-side apply of one object (field manager `kdeck`, forced):
    /// the object as the server keeps it afterwards.
    pub async fn apply(&self, cluster: &Cluster, obj: &Value) -> Result<DynamicObject, Problem> {
        let kind = obj["kind"].as_str().unwrap_or_default();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
        if crate::kinds::resource(kind).is_none() {
            return Err(Problem {
                cluster: cluster.name.clone(),
                kind: ProblemKind::Config,
                message: format!("kdeck cannot apply a {kind}"),
                code: None,
            });
        }
        let (api, ar) = self.api(cluster, kind, ns).await?;
        api.patch(name, &apply_params(), &Patch::Apply(obj))
            .await
            .map_err(|e| describe(cluster, &format!("apply {}", ar.plural), &e))
    }

    /// The resource of any served kind (`apiVersion` and `kind` as a
    /// manifest names them): kdeck's table first, else the cluster's discovery.
    pub async fn discover(
        &self,
        cluster: &Cluster,
        api_version: &str,
        kind: &str,
    ) -> Result<(kube::api::ApiResource, bool), Problem> {
        if let Some((ar, namespaced)) = crate::kinds::resource(kind)
            && ar.api_version == api_version
        {
            return Ok((ar, namespaced));
        }
        let client = self.client(cluster).await?;
        let list = if api_version == "v1" {
            client.list_core_api_resources("v1").await
        } else {
            client.list_api_group_resources(api_version).await
        };
        let not_served = || Problem {
            cluster: cluster.name.clone(),
            kind: ProblemKind::Other,
            message: format!("{} does not serve {kind} ({api_version})", cluster.name),
            code: Some(404),
        };
        let list = match list {
            Ok(l) => l,
            Err(kube::Error::Api(s)) if s.code == 404 => return Err(not_served()),
            Err(e) => return Err(describe(cluster, &format!("discover {api_version}"), &e)),
        };
        let r = list
            .resources
            .iter()
            .find(|r| r.kind == kind && !r.name.contains('/'))
            .ok_or_else(not_served)?;
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        Ok((
            kube::api::ApiResource::from_gvk_with_plural(&gvk, &r.name),
            r.namespaced,
        ))
    }

    /// The API of a manifest object of any served kind: in the namespace it
    /// names, else `namespace`, when its kind is namespaced. With the
    /// object's name and the namespace it is in ("" for a cluster's own).
    async fn api_of(
        &self,
        cluster: &Cluster,
        obj: &Value,
        namespace: &str,
    ) -> Result<(Api<DynamicObject>, kube::api::ApiResource, String, String), Problem> {
        let kind = obj["kind"].as_str().unwrap_or_default();
        let api_version = obj["apiVersion"].as_str().unwrap_or_default();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let (ar, namespaced) = self.discover(cluster, api_version, kind).await?;
        let client = self.client(cluster).await?;
        if !namespaced {
            return Ok((Api::all_with(client, &ar), ar, name, String::new()));
        }
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or(namespace).to_string();
        Ok((Api::namespaced_with(client, &ns, &ar), ar, name, ns))
    }

    /// Server-side apply of an object of any served kind, in `namespace`
    /// when it is namespaced and names none.
    pub async fn apply_any(&self, cluster: &Cluster, obj: &Value, namespace: &str) -> Result<DynamicObject, Problem> {
        let (api, ar, name, ns) = self.api_of(cluster, obj, namespace).await?;
        let mut o = obj.clone();
        if !ns.is_empty() {
            o["metadata"]["namespace"] = Value::String(ns);
        }
        api.patch(&name, &apply_params(), &Patch::Apply(&o))
            .await
            .map_err(|e| describe(cluster, &format!("apply {}", ar.plural), &e))
    }

    /// Deletes an object of any served kind; Ok(false) when it was not there.
    pub async fn delete_any(&self, cluster: &Cluster, obj: &Value, namespace: &str) -> Result<bool, Problem> {
        let (api, ar, name, _) = self.api_of(cluster, obj, namespace).await?;
        match api.delete(&name, &kube::api::DeleteParams::background()).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(describe(cluster, &format!("delete {}", ar.plural), &e)),
        }
    }

    /// Whether the cluster serves an API group version (`tekton.dev/v1`):
    /// its discovery document lists resources.
    pub async fn serves(&self, cluster: &Cluster, group_version: &str) -> Result<bool, Problem> {
        let client = self.client(cluster).await?;
        match client.list_api_group_resources(group_version).await {
            Ok(list) => Ok(!list.resources.is_empty()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(describe(cluster, &format!("discover {group_version}"), &e)),
        }
    }

    /// Who the cluster says kdeck's login is (SelfSubjectReview): the user
    /// name and groups.
    pub async fn whoami(&self, cluster: &Cluster) -> Result<(String, Vec<String>), Problem> {
        use k8s_openapi::api::authentication::v1::SelfSubjectReview;
        let api: Api<SelfSubjectReview> = Api::all(self.client(cluster).await?);
        let r = api
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
            .map_err(|e| describe(cluster, "create selfsubjectreviews", &e))?;
        let info = r.status.and_then(|s| s.user_info).unwrap_or_default();
        Ok((info.username.unwrap_or_default(), info.groups.unwrap_or_default()))
    }

    /// Whether kdeck's login may do `verb` on `resource` (`plural`,
    /// `plural/sub`) of `group` in `namespace` (SelfSubjectAccessReview).
    pub async fn can(
        &self,
        cluster: &Cluster,
        namespace: &str,
        verb: &str,
        group: &str,
        resource: &str,
    ) -> Result<bool, Problem> {
        use k8s_openapi::api::authorization::v1::{
            ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
        };
        let (plural, sub) = match resource.split_once('/') {
            Some((p, s)) => (p, Some(s.to_string())),
            None => (resource, None),
        };
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
                    verb: Some(verb.to_string()),
                    group: Some(group.to_string()),
                    resource: Some(plural.to_string()),
                    subresource: sub,
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client(cluster).await?);
        let r = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| describe(cluster, "create selfsubjectaccessreviews", &e))?;
        Ok(r.status.is_some_and(|s| s.allowed))
    }

    /// Creates a namespace labelled managed-by kdeck. `Ok(false)`: it was
    /// there already (left as it is).
    pub async fn create_namespace(&self, cluster: &Cluster, name: &str) -> Result<bool, Problem> {
        let api: Api<Namespace> = Api::all(self.client(cluster).await?);
        let mut ns = Namespace::default();
        ns.metadata.name = Some(name.to_string());
        ns.metadata.labels = Some([(MANAGED_BY.to_string(), MANAGED_BY_KDECK.to_string())].into());
        let pp = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        match api.create(&pp, &ns).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(describe(cluster, "create namespaces", &e)),
        }
    }

    /// One object as JSON, managedFields stripped; `None` when there is none.
    pub async fn read(
        &self,
        cluster: &Cluster,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, Problem> {
        let (api, ar) = self.api(cluster, kind, namespace).await?;
        let Some(mut obj) = api
            .get_opt(name)
            .await
            .map_err(|e| describe(cluster, &format!("read {} {name}", kind.to_ascii_lowercase()), &e))?
        else {
            return Ok(None);
        };
        obj.metadata.managed_fields = None;
        let mut v = serde_json::to_value(&obj).map_err(|e| Problem {
            cluster: cluster.name.clone(),
            kind: ProblemKind::Other,
            message: format!("cluster {}: {kind} {name} cannot be read: {e}", cluster.name),
            code: None,
        })?;
        if v.get("apiVersion").is_none() {
            v["apiVersion"] = Value::String(ar.api_version.clone());
            v["kind"] = Value::String(ar.kind.clone());
        }
        Ok(Some(v))
    }

    /// The events about one object in a namespace, as listed.
    pub async fn events_for(&self, cluster: &Cluster, namespace: &str, name: &str) -> Result<Vec<EventView>, Problem> {
        let api: Api<Event> = Api::namespaced(self.client(cluster).await?, namespace);
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| describe(cluster, &format!("list events in {namespace}"), &e))?;
        Ok(list
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .map(|e| EventView {
                type_: e.type_.unwrap_or_default(),
                reason: e.reason.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
                last: e.last_timestamp.map(|t| t.0.to_string()).unwrap_or_default(),
            })
            .collect())
    }
}

/// Server-side apply as kdeck sends it: its field manager, taking over
/// fields another manager set (kdeck's settings are the desired state).
pub fn apply_params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdeck_model::{ClusterAuth, ImportSource, TlsSettings};

    fn cluster(name: &str, token: &str) -> Cluster {
        Cluster {
            name: name.into(),
            server: "https://127.0.0.1:1".into(),
            context: name.into(),
            namespace: None,
            tls: TlsSettings {
                insecure_skip_tls_verify: true,
                ..Default::default()
            },
            proxy_url: None,
            auth: ClusterAuth {
                user: "u".into(),
                token: Some(token.into()),
                ..Default::default()
            },
            source: ImportSource {
                file: "/k".into(),
                imported_at: "2026-01-01T00:00:00Z".into(),
            },
            read_only: false,
            prod: None,
            labels: Default::default(),
        }
    }

    fn clients(g: &Gateway) -> usize {
        g.clients.lock().map(|m| m.len()).unwrap_or(0)
    }

    #[tokio::test]
    async fn one_client_per_cluster_made_again_only_for_new_settings() {
        let g = Gateway::new();
        let shared = g.clone();
        g.client(&cluster("eu1", "t1")).await.unwrap();
        shared.client(&cluster("eu1", "t1")).await.unwrap();
        assert_eq!(clients(&g), 1, "a clone shares the clients");
        let first = g.clients.lock().unwrap()["eu1"].0;
        // Re-imported with a fresh token: a new client replaces the old one.
        g.client(&cluster("eu1", "t2")).await.unwrap();
        assert_eq!(clients(&g), 1);
        assert_ne!(g.clients.lock().unwrap()["eu1"].0, first);
        g.client(&cluster("us1", "t1")).await.unwrap();
        assert_eq!(clients(&g), 2);
        g.forget("us1");
        assert_eq!(clients(&shared), 1);
    }

    #[test]
    fn managed_by_is_read_from_labels() {
        let mut l = std::collections::BTreeMap::new();
        assert!(!is_managed(&l));
        l.insert(MANAGED_BY.to_string(), MANAGED_BY_KDECK.to_string());
        assert!(is_managed(&l));
    }
}
