//! Authorization as Kubernetes RBAC does it: Roles and ClusterRoles (the
//! built-in cluster-admin, admin, edit and view with their rules), bound to
//! users, groups and service accounts by RoleBindings (in a namespace) and
//! ClusterRoleBindings (everywhere). A user nobody bound can do nothing.

use crate::ptr::At;
use serde_json::{Value, json};

use crate::resources::{self, ResId};
use crate::state::State;

/// Who asks: a user and their groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user: String,
    pub groups: Vec<String>,
}

/// What is asked: a verb on a resource (`plural` or `plural/sub`) of an API
/// group, in a namespace (None: cluster scope), by name when there is one.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

/// What `view` reads (no Secrets), per API group.
const VIEWED: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "pods/log",
            "pods/status",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "replicationcontrollers/status",
            "serviceaccounts",
            "services",
            "services/status",
            "bindings",
            "events",
            "limitranges",
            "namespaces",
            "namespaces/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
    ),
    (
        "apps",
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
    ),
    (
        "autoscaling",
        &["horizontalpodautoscalers", "horizontalpodautoscalers/status"],
    ),
    ("batch", &["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    (
        "networking.k8s.io",
        &["ingresses", "ingresses/status", "networkpolicies"],
    ),
    ("policy", &["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    ("discovery.k8s.io", &["endpointslices"]),
    // Tekton aggregates its kinds into view, edit and admin.
    ("tekton.dev", &["pipelines", "pipelineruns", "tasks", "taskruns"]),
    (
        "triggers.tekton.dev",
        &["eventlisteners", "triggerbindings", "triggertemplates", "triggers"],
    ),
];

/// What `edit` changes, per API group (it reads these too).
const EDITED: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "pods",
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
    ),
    (
        "apps",
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
    ),
    ("autoscaling", &["horizontalpodautoscalers"]),
    ("batch", &["cronjobs", "jobs"]),
    ("networking.k8s.io", &["ingresses", "networkpolicies"]),
    ("policy", &["poddisruptionbudgets"]),
    ("discovery.k8s.io", &["endpointslices"]),
    ("tekton.dev", &["pipelines", "pipelineruns", "tasks", "taskruns"]),
    (
        "triggers.tekton.dev",
        &["eventlisteners", "triggerbindings", "triggertemplates", "triggers"],
    ),
];

fn view_rules() -> Vec<Value> {
    VIEWED.iter().map(|(g, rs)| rule(&[g], rs, READ)).collect()
}

fn edit_rules() -> Vec<Value> {
    let mut out = view_rules();
    out.push(rule(&[""], &["secrets"], READ));
    let verbs: Vec<&str> = READ.iter().chain(WRITE).copied().collect();
    out.extend(EDITED.iter().map(|(g, rs)| rule(&[g], rs, &verbs)));
    out.push(rule(&[""], &["serviceaccounts"], &["impersonate"]));
    out
}

fn admin_rules() -> Vec<Value> {
    let mut out = edit_rules();
    let verbs: Vec<&str> = READ.iter().chain(WRITE).copied().collect();
    out.push(rule(&["rbac.authorization.k8s.io"], &["rolebindings", "roles"], &verbs));
    out.push(rule(
        &["authorization.k8s.io"],
        &["localsubjectaccessreviews"],
        &["create"],
    ));
    out
}

/// The built-in ClusterRoles, labelled as the API server bootstraps them.
pub fn builtin_cluster_roles() -> Vec<Value> {
    let role = |name: &str, rules: Vec<Value>| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
               "rules": rules})
    };
    vec![
        role(
            "cluster-admin",
            vec![
                json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
                json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
            ],
        ),
        role("admin", admin_rules()),
        role("edit", edit_rules()),
        role("view", view_rules()),
        // Every authenticated user may ask what they may do, and who they are.
        role(
            "system:basic-user",
            vec![
                rule(
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    &["create"],
                ),
                rule(&["authentication.k8s.io"], &["selfsubjectreviews"], &["create"]),
            ],
        ),
    ]
}

/// The binding of `system:basic-user` to every authenticated user.
pub fn builtin_bindings() -> Vec<Value> {
    vec![json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "system:basic-user", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:basic-user"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}],
    })]
}

fn strs(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn rule_allows(r: &Value, a: &Ask) -> bool {
    let has = |key: &str, want: &str| {
        let list = strs(r.get(key));
        list.contains(&"*") || list.contains(&want)
    };
    if r.get("nonResourceURLs").is_some() {
        return false;
    }
    let names = strs(r.get("resourceNames"));
    has("apiGroups", a.group)
        && has("resources", a.resource)
        && has("verbs", a.verb)
        && (names.is_empty() || a.name.is_some_and(|n| names.contains(&n)))
}

fn subject_matches(s: &Value, who: &Subject) -> bool {
    let name = s.get("name").and_then(Value::as_str).unwrap_or("");
    match s.get("kind").and_then(Value::as_str) {
        Some("User") => name == who.user,
        Some("Group") => who.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let ns = s.get("namespace").and_then(Value::as_str).unwrap_or("");
            who.user == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

fn ids() -> (ResId, ResId, ResId, ResId) {
    let of = resources::ids::of;
    (
        of("Role"),
        of("ClusterRole"),
        of("RoleBinding"),
        of("ClusterRoleBinding"),
    )
}

/// The rules a binding's role holds (a Role in the binding's namespace, or a ClusterRole).
fn rules_of<'a>(s: &'a State, binding: &Value, ns: &str) -> Vec<&'a Value> {
    let (role, cluster_role, _, _) = ids();
    let name = binding.at("/roleRef/name").and_then(Value::as_str).unwrap_or("");
    let r = match binding.at("/roleRef/kind").and_then(Value::as_str) {
        Some("Role") => s.get(role, ns, name),
        _ => s.get(cluster_role, "", name),
    };
    r.and_then(|r| r.get("rules"))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Every rule that applies to `who` in `ns` (cluster-wide ones too): (rule, from where).
pub fn rules_for<'a>(s: &'a State, who: &Subject, ns: Option<&str>) -> Vec<&'a Value> {
    let (_, _, rb, crb) = ids();
    let mut out = Vec::new();
    for (_, b) in s.iter_kind(crb, None) {
        if strs_subjects(b).any(|sub| subject_matches(sub, who)) {
            out.extend(rules_of(s, b, ""));
        }
    }
    if let Some(ns) = ns {
        for (_, b) in s.iter_kind(rb, Some(ns)) {
            if strs_subjects(b).any(|sub| subject_matches(sub, who)) {
                out.extend(rules_of(s, b, ns));
            }
        }
    }
    out
}

fn strs_subjects(b: &Value) -> impl Iterator<Item = &Value> {
    b.get("subjects").and_then(Value::as_array).into_iter().flatten()
}

/// Whether RBAC allows the ask.
pub fn allows(s: &State, who: &Subject, a: &Ask) -> bool {
    rules_for(s, who, a.namespace).iter().any(|r| rule_allows(r, a))
}

/// The bindings that give a configured user their role: cluster-wide, or
/// in their namespaces only (with `get` on those namespace objects).
pub fn bootstrap(user: &crate::cluster::User) -> Vec<Value> {
    let role = match user.role {
        crate::cluster::Role::Admin => "cluster-admin",
        crate::cluster::Role::Edit => "edit",
        crate::cluster::Role::View => "view",
    };
    let subject = json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user.name}]);
    let role_ref = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role});
    match &user.namespaces {
        None => vec![json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": format!("kdeck-sim:{}", user.name)},
            "roleRef": role_ref, "subjects": subject})],
        Some(list) => {
            let mut out: Vec<Value> = list
                .iter()
                .map(|ns| {
                    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                           "metadata": {"name": format!("kdeck-sim:{}", user.name), "namespace": ns},
                           "roleRef": role_ref, "subjects": subject})
                })
                .collect();
            let reader = format!("kdeck-sim:{}:namespaces", user.name);
            out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                            "metadata": {"name": reader},
                            "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"], "resourceNames": list}]}));
            out.push(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                            "metadata": {"name": reader},
                            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": reader},
                            "subjects": subject}),
            );
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_groups_resources_verbs_and_names() {
        let r = json!({"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "patch"]});
        let a = |verb, resource, name| Ask {
            verb,
            group: "apps",
            resource,
            namespace: Some("x"),
            name,
        };
        assert!(rule_allows(&r, &a("patch", "deployments/scale", None)));
        assert!(!rule_allows(&r, &a("delete", "deployments", None)));
        let named =
            json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"], "resourceNames": ["shop"]});
        let ns = |name| Ask {
            verb: "get",
            group: "",
            resource: "namespaces",
            namespace: None,
            name,
        };
        assert!(rule_allows(&named, &ns(Some("shop"))));
        assert!(!rule_allows(&named, &ns(Some("other"))) && !rule_allows(&named, &ns(None)));
    }

    #[test]
    fn view_reads_no_secrets_and_edit_no_rbac() {
        let has = |rules: &[Value], group: &str, resource: &str, verb: &str| {
            rules.iter().any(|r| {
                rule_allows(
                    r,
                    &Ask {
                        verb,
                        group,
                        resource,
                        namespace: Some("x"),
                        name: None,
                    },
                )
            })
        };
        let (v, e, a) = (view_rules(), edit_rules(), admin_rules());
        assert!(has(&v, "apps", "deployments", "list") && !has(&v, "", "secrets", "get"));
        assert!(!has(&v, "apps", "deployments/scale", "patch"));
        assert!(has(&e, "apps", "deployments/scale", "patch") && has(&e, "", "secrets", "get"));
        assert!(!has(&e, "rbac.authorization.k8s.io", "rolebindings", "create"));
        assert!(has(&a, "rbac.authorization.k8s.io", "rolebindings", "create"));
        assert!(has(&e, "tekton.dev", "pipelineruns", "create"));
    }
}
