//! Discovery: the API groups and resources the simulator serves.

use super::*;

pub(super) fn api_group_list(c: &SimCluster) -> Value {
    let tekton = c.config.tekton;
    let mut all = resources::groups();
    for id in c.read().custom_resources() {
        let r = resources::get(id);
        if !all.iter().any(|(g, v)| *g == r.group && *v == r.version) {
            all.push((r.group, r.version));
        }
    }
    let groups: Vec<Value> = all
        .into_iter()
        .filter(|(g, _)| tekton || !g.ends_with("tekton.dev"))
        .map(|(g, v)| {
            let gv = format!("{g}/{v}");
            json!({"name": g, "versions": [{"groupVersion": gv, "version": v}], "preferredVersion": {"groupVersion": gv, "version": v}})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub(super) fn verbs_for(r: &Resource) -> Vec<&'static str> {
    vec![
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
    .into_iter()
    .filter(|v| r.kind != "Event" || *v != "deletecollection")
    .filter(|v| !resources::is_review(r) || *v == "create")
    .collect()
}

/// The categories a kind is in, as the real server (and Tekton's CRDs)
/// declare them: `kubectl get all` reads the kinds in `all`.
pub(super) fn categories(r: &Resource) -> Vec<&'static str> {
    match r.kind {
        "Pod"
        | "ReplicationController"
        | "Service"
        | "DaemonSet"
        | "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "HorizontalPodAutoscaler"
        | "CronJob"
        | "Job" => vec!["all"],
        "PipelineRun" | "TaskRun" | "Pipeline" | "Task" => vec!["tekton", "tekton-pipelines"],
        _ => vec![],
    }
}

pub(super) fn resource_list(c: &SimCluster, group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut out = Vec::new();
    let custom: Vec<&Resource> = c.read().custom_resources().into_iter().map(resources::get).collect();
    for r in RESOURCES
        .iter()
        .chain(custom)
        .filter(|r| r.group == group && r.version == version)
    {
        out.push(
            json!({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                        "verbs": verbs_for(r), "shortNames": r.short_names, "categories": categories(r)}),
        );
        for s in r.subresources {
            let entry = match *s {
                "scale" => {
                    json!({"name": format!("{}/scale", r.plural), "singularName": "", "namespaced": r.namespaced,
                                  "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
                }
                "log" => {
                    json!({"name": format!("{}/log", r.plural), "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]})
                }
                _ => {
                    json!({"name": format!("{}/{s}", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind,
                            "verbs": ["get", "patch", "update"]})
                }
            };
            out.push(entry);
        }
    }
    if out.is_empty() {
        return None;
    }
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}))
}
