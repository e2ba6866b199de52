//! DaemonSets: one pod on each node the pod template's node selector
//! takes (the simulated cluster has one node), replaced when the template
//! changes.

use super::*;
use crate::ptr::At;

pub(super) fn daemonset(s: &mut State, ids: &Ids, ds: &Value, cx: &mut Ctx) {
    if is_terminating(ds) {
        return;
    }
    let ns = ns_of(ds);
    let uid = uid_of(ds);
    let name = name_of(ds).to_string();
    let template = ds.at("/spec/template").cloned().unwrap_or(json!({}));
    let hash = short_hash(&template);
    let generation = ds.at("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
    let nodes: Vec<Arc<Value>> = s
        .iter_kind(ids.node, None)
        .filter(|(_, n)| node_selected(&template, n))
        .map(|(_, n)| n.clone())
        .collect();
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid) && !is_terminating(p))
        .map(|(_, p)| p.clone())
        .collect();
    let hash_of = |p: &Value| {
        p.at("/metadata/labels/controller-revision-hash")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    // Old template: the pod goes and a new one takes its place.
    for p in pods.iter().filter(|p| hash_of(p) != hash) {
        let _ = s.delete(ids.pod, &ns, name_of(p), &DeleteOptions::default());
        emit(
            s,
            ids,
            ds,
            "Normal",
            "SuccessfulDelete",
            &format!("Deleted pod: {}", name_of(p)),
        );
    }
    let current: Vec<&Arc<Value>> = pods.iter().filter(|p| hash_of(p) == hash).collect();
    for node in &nodes {
        let node_name = name_of(node).to_string();
        let on_node = current
            .iter()
            .any(|p| p.at("/spec/nodeName").and_then(Value::as_str) == Some(node_name.as_str()));
        if on_node {
            continue;
        }
        let pod_name = format!("{name}-{}", random_suffix(5));
        let mut p = new_pod(
            ds,
            &pod_name,
            &template,
            &[
                ("controller-revision-hash", hash.clone()),
                ("pod-template-generation", generation.to_string()),
            ],
        );
        p["spec"]["nodeName"] = json!(node_name);
        let _ = create_pod(s, ids, (ids.ds, ds), p, cx);
    }
    let desired = nodes.len();
    let ready = current.iter().filter(|p| pod_ready(p)).count();
    let status = json!({
        "desiredNumberScheduled": desired,
        "currentNumberScheduled": current.len(),
        "numberReady": ready,
        "numberAvailable": ready,
        "updatedNumberScheduled": current.len(),
        "numberMisscheduled": 0,
        "observedGeneration": generation,
    });
    set_status(s, ids.ds, ds, status);
}

/// Whether a pod template's nodeSelector takes a node.
fn node_selected(template: &Value, node: &Value) -> bool {
    let Some(sel) = template.at("/spec/nodeSelector").and_then(Value::as_object) else {
        return true;
    };
    let labels = labels_of(node);
    sel.iter().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
}
