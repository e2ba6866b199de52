//! The kinds kdeck reads and writes, with where they live in the API: one
//! table for the YAML view, describe, `$EDITOR` patches and deploys.

use kube::api::{ApiResource, GroupVersionKind};

/// (kind, group, version, plural, namespaced)
const KINDS: &[(&str, &str, &str, &str, bool)] = &[
    ("Deployment", "apps", "v1", "deployments", true),
    ("StatefulSet", "apps", "v1", "statefulsets", true),
    ("Pod", "", "v1", "pods", true),
    ("Service", "", "v1", "services", true),
    ("Secret", "", "v1", "secrets", true),
    ("ConfigMap", "", "v1", "configmaps", true),
    ("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims", true),
    ("Ingress", "networking.k8s.io", "v1", "ingresses", true),
    ("ServiceAccount", "", "v1", "serviceaccounts", true),
    ("RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings", true),
    ("PipelineRun", "tekton.dev", "v1", "pipelineruns", true),
    ("TaskRun", "tekton.dev", "v1", "taskruns", true),
    ("Pipeline", "tekton.dev", "v1", "pipelines", true),
    ("Task", "tekton.dev", "v1", "tasks", true),
    (
        "EventListener",
        "triggers.tekton.dev",
        "v1beta1",
        "eventlisteners",
        true,
    ),
    (
        "TriggerBinding",
        "triggers.tekton.dev",
        "v1beta1",
        "triggerbindings",
        true,
    ),
    (
        "TriggerTemplate",
        "triggers.tekton.dev",
        "v1beta1",
        "triggertemplates",
        true,
    ),
    ("Trigger", "triggers.tekton.dev", "v1beta1", "triggers", true),
    ("Namespace", "", "v1", "namespaces", false),
    (
        "HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        true,
    ),
    ("ResourceQuota", "", "v1", "resourcequotas", true),
    ("LimitRange", "", "v1", "limitranges", true),
];

/// The API resource of a kind, and whether it is namespaced.
pub fn resource(kind: &str) -> Option<(ApiResource, bool)> {
    KINDS
        .iter()
        .find(|k| k.0 == kind)
        .map(|&(kind, g, v, plural, namespaced)| {
            (
                ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(g, v, kind), plural),
                namespaced,
            )
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn kinds_resolve_to_their_api() {
        let (d, ns) = super::resource("Deployment").unwrap();
        assert_eq!(
            (d.api_version.as_str(), d.plural.as_str(), ns),
            ("apps/v1", "deployments", true)
        );
        let (n, ns) = super::resource("Namespace").unwrap();
        assert_eq!((n.api_version.as_str(), ns), ("v1", false));
        assert!(super::resource("Gadget").is_none());
    }
}
