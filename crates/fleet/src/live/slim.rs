//! Slim decoding for the fleet-wide watches. A row keeps a handful of fields
//! of a Deployment, StatefulSet, Service or Ingress; decoding the whole
//! object (managedFields, pod specs, every status condition) into
//! k8s-openapi's types is most of the work and most of the memory of
//! listing 60,000 apps. `Slim<K>` reads only those fields, skipping the rest
//! of the JSON without allocating, and hands the views a `K` with just them
//! filled in, so the views are the same functions either way.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStatus, StatefulSet, StatefulSetSpec, StatefulSetStatus,
};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::Resource;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A type that can be read through a slimmer shadow of itself.
pub trait Shadow: Sized {
    type S: DeserializeOwned;
    fn from_shadow(s: Self::S) -> Self;
}

/// `K`, decoded through its shadow.
#[derive(Debug, Clone)]
pub struct Slim<K>(pub K);

impl<'de, K: Shadow> Deserialize<'de> for Slim<K> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        K::S::deserialize(d).map(|s| Slim(K::from_shadow(s)))
    }
}

impl<K: Resource<DynamicType = ()>> Resource for Slim<K> {
    type DynamicType = ();
    type Scope = K::Scope;
    fn kind(dt: &()) -> Cow<'_, str> {
        K::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        K::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        K::version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        K::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        self.0.meta()
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        self.0.meta_mut()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    resource_version: Option<String>,
    generation: Option<i64>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
    labels: Option<BTreeMap<String, String>>,
}

impl From<Meta> for ObjectMeta {
    fn from(m: Meta) -> ObjectMeta {
        ObjectMeta {
            name: m.name,
            namespace: m.namespace,
            resource_version: m.resource_version,
            generation: m.generation,
            creation_timestamp: m.creation_timestamp,
            deletion_timestamp: m.deletion_timestamp,
            labels: m.labels,
            ..Default::default()
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SContainer {
    name: String,
    image: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SPodSpec {
    containers: Vec<SContainer>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct STemplate {
    spec: Option<SPodSpec>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SWorkloadSpec {
    replicas: Option<i32>,
    template: STemplate,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SWorkloadStatus {
    ready_replicas: Option<i32>,
    updated_replicas: Option<i32>,
    observed_generation: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SWorkload {
    metadata: Meta,
    spec: SWorkloadSpec,
    status: Option<SWorkloadStatus>,
}

fn template(t: STemplate) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: None,
        spec: t.spec.map(|s| PodSpec {
            containers: s
                .containers
                .into_iter()
                .map(|c| Container {
                    name: c.name,
                    image: c.image,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
    }
}

/// Deployments and StatefulSets read the same few fields into their own types.
macro_rules! workload_shadow {
    ($kind:ident, $spec:ident, $status:ident) => {
        impl Shadow for $kind {
            type S = SWorkload;
            fn from_shadow(s: SWorkload) -> $kind {
                $kind {
                    metadata: s.metadata.into(),
                    spec: $spec {
                        replicas: s.spec.replicas,
                        template: template(s.spec.template),
                        ..Default::default()
                    },
                    status: s.status.map(|st| $status {
                        ready_replicas: st.ready_replicas,
                        updated_replicas: st.updated_replicas,
                        observed_generation: st.observed_generation,
                        ..Default::default()
                    }),
                }
            }
        }
    };
}

workload_shadow!(Deployment, DeploymentSpec, DeploymentStatus);
workload_shadow!(StatefulSet, StatefulSetSpec, StatefulSetStatus);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SPort {
    port: i32,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SServiceSpec {
    ports: Option<Vec<SPort>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SService {
    metadata: Meta,
    spec: Option<SServiceSpec>,
}

impl Shadow for Service {
    type S = SService;
    fn from_shadow(s: SService) -> Service {
        Service {
            metadata: s.metadata.into(),
            spec: s.spec.map(|sp| ServiceSpec {
                ports: sp.ports.map(|ps| {
                    ps.into_iter()
                        .map(|p| ServicePort {
                            port: p.port,
                            ..Default::default()
                        })
                        .collect()
                }),
                ..Default::default()
            }),
            status: None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SBackendService {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SBackend {
    service: Option<SBackendService>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SPath {
    path: Option<String>,
    backend: SBackend,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SHttp {
    paths: Vec<SPath>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SRule {
    host: Option<String>,
    http: Option<SHttp>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SIngressSpec {
    rules: Option<Vec<SRule>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SIngress {
    metadata: Meta,
    spec: Option<SIngressSpec>,
}

impl Shadow for Ingress {
    type S = SIngress;
    fn from_shadow(s: SIngress) -> Ingress {
        Ingress {
            metadata: s.metadata.into(),
            spec: s.spec.map(|sp| IngressSpec {
                rules: sp.rules.map(|rs| {
                    rs.into_iter()
                        .map(|r| IngressRule {
                            host: r.host,
                            http: r.http.map(|h| HTTPIngressRuleValue {
                                paths: h
                                    .paths
                                    .into_iter()
                                    .map(|p| HTTPIngressPath {
                                        path: p.path,
                                        path_type: String::new(),
                                        backend: IngressBackend {
                                            service: p.backend.service.map(|s| IngressServiceBackend {
                                                name: s.name,
                                                port: None,
                                            }),
                                            resource: None,
                                        },
                                    })
                                    .collect(),
                            }),
                        })
                        .collect()
                }),
                ..Default::default()
            }),
            status: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::live::views;

    #[test]
    fn slim_objects_make_the_same_rows_as_full_ones() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7", "generation": 3,
                "creationTimestamp": "2026-11-22T10:00:00Z", "labels": {"app": "web"},
                "managedFields": [{"manager": "kdeck", "fieldsV1": {"f:spec": {}}}]},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "a/web:1", "env": [{"name": "X", "value": "1"}]}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "observedGeneration": 3,
                "conditions": [{"type": "Available", "status": "True"}]}});
        let full: Deployment = serde_json::from_value(d.clone()).unwrap();
        let slim: Slim<Deployment> = serde_json::from_value(d).unwrap();
        assert_eq!(views::deployment_view(&slim.0), views::deployment_view(&full));
        let s = json!({"metadata": {"name": "pg", "namespace": "shop"},
            "spec": {"replicas": 1, "serviceName": "pg", "selector": {}, "template": {"spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}}},
            "status": {"readyReplicas": 1, "replicas": 1}});
        let full: StatefulSet = serde_json::from_value(s.clone()).unwrap();
        let slim: Slim<StatefulSet> = serde_json::from_value(s).unwrap();
        assert_eq!(views::statefulset_view(&slim.0), views::statefulset_view(&full));
        let svc = json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {"clusterIP": "10.0.0.1",
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}], "selector": {"app": "web"}}});
        let full: Service = serde_json::from_value(svc.clone()).unwrap();
        let slim: Slim<Service> = serde_json::from_value(svc).unwrap();
        assert_eq!(views::service_view(&slim.0), views::service_view(&full));
        let ing = json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {"ingressClassName": "nginx",
            "tls": [{"hosts": ["web.example.com"], "secretName": "t"}],
            "rules": [{"host": "web.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
                {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}]}});
        let full: Ingress = serde_json::from_value(ing.clone()).unwrap();
        let slim: Slim<Ingress> = serde_json::from_value(ing).unwrap();
        assert_eq!(views::route_view(&slim.0), views::route_view(&full));
    }
}
