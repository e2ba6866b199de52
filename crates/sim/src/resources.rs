//! The resource kinds the simulator serves, with what discovery says of them.

/// One kind of object, as discovery describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Subresources served: "status", "scale", "log".
    pub subresources: &'static [&'static str],
    /// A custom resource's printer columns: name, type, priority,
    /// description and JSONPath, from its definition.
    pub printer: &'static [PrinterColumn],
}

/// One of a CustomResourceDefinition's `additionalPrinterColumns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: &'static str,
    pub kind: &'static str,
    pub priority: u8,
    pub description: &'static str,
    pub json_path: &'static str,
}

impl Resource {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, or `pods` for the core group: how error messages name it.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps`, or `Pod`: how 422 messages name the kind.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

const RW: &[&str] = &[];

macro_rules! res {
    ($group:expr, $version:expr, $plural:expr, $singular:expr, $kind:expr, $ns:expr, $short:expr, $sub:expr) => {
        Resource {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $ns,
            short_names: $short,
            subresources: $sub,
            printer: &[],
        }
    };
}

pub const RESOURCES: &[Resource] = &[
    res!(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
        &["status"]
    ),
    res!("", "v1", "pods", "pod", "Pod", true, &["po"], &["status", "log"]),
    res!("", "v1", "services", "service", "Service", true, &["svc"], &["status"]),
    res!("", "v1", "endpoints", "endpoints", "Endpoints", true, &["ep"], RW),
    res!("", "v1", "nodes", "node", "Node", false, &["no"], &["status"]),
    res!("", "v1", "configmaps", "configmap", "ConfigMap", true, &["cm"], RW),
    res!("", "v1", "secrets", "secret", "Secret", true, RW, RW),
    res!(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
        &["status"]
    ),
    res!("", "v1", "events", "event", "Event", true, &["ev"], RW),
    res!(
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        true,
        &["quota"],
        &["status"]
    ),
    res!(
        "",
        "v1",
        "limitranges",
        "limitrange",
        "LimitRange",
        true,
        &["limits"],
        RW
    ),
    res!(
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
        &["pv"],
        &["status"]
    ),
    res!(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        false,
        &["sc"],
        RW
    ),
    res!(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
        &["hpa"],
        &["status"]
    ),
    res!(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        &["sa"],
        RW
    ),
    res!(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
        &["status", "scale"]
    ),
    res!(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
        &["status", "scale"]
    ),
    res!(
        "apps",
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        true,
        &[],
        RW
    ),
    res!(
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        &["sts"],
        &["status", "scale"]
    ),
    res!(
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        &["ds"],
        &["status"]
    ),
    res!("batch", "v1", "jobs", "job", "Job", true, RW, &["status"]),
    res!(
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        true,
        &["cj"],
        &["status"]
    ),
    res!(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        true,
        &["pdb"],
        &["status"]
    ),
    res!(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
        &["ing"],
        &["status"]
    ),
    res!(
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "ingressclass",
        "IngressClass",
        false,
        RW,
        RW
    ),
    res!(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
        &["netpol"],
        RW
    ),
    res!(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
        RW,
        RW
    ),
    res!("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, RW, RW),
    res!("events.k8s.io", "v1", "events", "event", "Event", true, &["ev"], RW),
    res!(
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "priorityclass",
        "PriorityClass",
        false,
        &["pc"],
        RW
    ),
    res!("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, RW, RW),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
        RW,
        RW
    ),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
        RW,
        RW
    ),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
        RW,
        RW
    ),
    res!(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "",
        "SelfSubjectAccessReview",
        false,
        RW,
        RW
    ),
    res!(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "",
        "SelfSubjectRulesReview",
        false,
        RW,
        RW
    ),
    res!(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "",
        "SelfSubjectReview",
        false,
        RW,
        RW
    ),
    res!("tekton.dev", "v1", "pipelines", "pipeline", "Pipeline", true, RW, RW),
    res!("tekton.dev", "v1", "tasks", "task", "Task", true, RW, RW),
    res!(
        "tekton.dev",
        "v1",
        "pipelineruns",
        "pipelinerun",
        "PipelineRun",
        true,
        &["pr"],
        &["status"]
    ),
    res!(
        "tekton.dev",
        "v1",
        "taskruns",
        "taskrun",
        "TaskRun",
        true,
        &["tr"],
        &["status"]
    ),
    res!(
        "triggers.tekton.dev",
        "v1beta1",
        "eventlisteners",
        "eventlistener",
        "EventListener",
        true,
        &["el"],
        &["status"]
    ),
    res!(
        "triggers.tekton.dev",
        "v1beta1",
        "triggerbindings",
        "triggerbinding",
        "TriggerBinding",
        true,
        &["tb"],
        RW
    ),
    res!(
        "triggers.tekton.dev",
        "v1beta1",
        "triggertemplates",
        "triggertemplate",
        "TriggerTemplate",
        true,
        &["tt"],
        RW
    ),
    res!(
        "triggers.tekton.dev",
        "v1beta1",
        "triggers",
        "trigger",
        "Trigger",
        true,
        &["tri"],
        RW
    ),
    res!(
        "triggers.tekton.dev",
        "v1beta1",
        "clustertriggerbindings",
        "clustertriggerbinding",
        "ClusterTriggerBinding",
        false,
        &["ctb"],
        RW
    ),
    res!(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
        &["status"]
    ),
];

/// Reviews: asked by a create, answered, never stored.
pub fn is_review(r: &Resource) -> bool {
    r.kind.starts_with("SelfSubject")
}

/// Kinds that a CustomResourceDefinition serves on a real cluster (Tekton's,
/// and those of definitions created on a simulated one): they take no
/// strategic merge patch.
pub fn is_custom(r: &Resource) -> bool {
    r.group.ends_with("tekton.dev") || is_defined(r)
}

/// Whether a kind was made served by a CustomResourceDefinition at run time.
pub fn is_defined(r: &Resource) -> bool {
    dynamic().iter().any(|d| std::ptr::eq(*d, r))
}

/// The kinds CustomResourceDefinitions made served, on any simulated
/// cluster of this process; each cluster serves those its own definitions
/// name. Each distinct definition is kept for the life of the process.
fn dynamic() -> std::sync::RwLockReadGuard<'static, Vec<&'static Resource>> {
    DYNAMIC.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

static DYNAMIC: std::sync::RwLock<Vec<&'static Resource>> = std::sync::RwLock::new(Vec::new());

/// The id of a kind a definition serves: `key` says the definition (its
/// group, version, names, scope and columns); the kind is built, and its
/// strings kept, only the first time a key is seen.
pub fn register(key: &str, build: impl FnOnce() -> Resource) -> ResId {
    static KEYS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut keys = KEYS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(i) = keys.iter().position(|k| k == key) {
        return RESOURCES.len() + i;
    }
    let mut all = DYNAMIC.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    all.push(Box::leak(Box::new(build())));
    keys.push(key.to_string());
    RESOURCES.len() + all.len() - 1
}

/// A string kept for the life of the process, for a registered kind.
pub fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Index of a resource in [`RESOURCES`]: the key objects are stored under.
pub type ResId = usize;

pub fn find(group: &str, version: &str, plural: &str) -> Option<ResId> {
    RESOURCES
        .iter()
        .position(|r| r.group == group && r.version == version && r.plural == plural)
}

pub fn by_kind(kind: &str) -> Option<ResId> {
    RESOURCES.iter().position(|r| r.kind == kind)
}

pub fn get(id: ResId) -> &'static Resource {
    match RESOURCES.get(id) {
        Some(r) => r,
        None => dynamic().get(id - RESOURCES.len()).copied().unwrap_or(&RESOURCES[0]),
    }
}

/// The groups, in discovery order, each with its one version.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        if !out.iter().any(|(g, _)| *g == r.group) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// Well-known resource ids, for controllers.
pub mod ids {
    use super::{ResId, by_kind};
    pub fn of(kind: &str) -> ResId {
        by_kind(kind).unwrap_or(0)
    }
}
