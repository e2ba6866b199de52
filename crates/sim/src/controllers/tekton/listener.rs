//! Tekton Triggers' EventListener controller: each listener gets its sink,
//! a Deployment and a Service `el-NAME` with the port `http-listener`, as
//! the Triggers controller makes them. The sink itself is served by the
//! simulator's service proxy (`server::listener`).

use super::*;
use crate::ptr::At;

pub(in crate::controllers) fn eventlistener(s: &mut State, ids: &Ids, el: &Value) {
    if is_terminating(el) {
        return;
    }
    let ns = ns_of(el);
    let name = name_of(el);
    let sink = format!("el-{name}");
    let labels = json!({"app.kubernetes.io/managed-by": "EventListener", "app.kubernetes.io/part-of": "Triggers",
                        "eventlistener": name});
    if s.get(ids.svc, &ns, &sink).is_none() {
        s.put(
            ids.svc,
            &ns,
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": sink, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref(el, true)]},
                   "spec": {"type": "ClusterIP", "selector": labels,
                            "ports": [{"name": "http-listener", "port": 8080, "protocol": "TCP", "targetPort": 8080}]}}),
        );
    }
    if s.get(ids.deploy, &ns, &sink).is_none() {
        s.put(
            ids.deploy,
            &ns,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": sink, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref(el, true)]},
                   "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                            "template": {"metadata": {"labels": labels},
                                         "spec": {"serviceAccountName": el.at("/spec/serviceAccountName").cloned().unwrap_or(json!("default")),
                                                  "containers": [{"name": "event-listener",
                                                                  "image": "gcr.io/tekton-releases/github.com/tektoncd/triggers/cmd/eventlistenersink:v0.30.0",
                                                                  "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]}}}}),
        );
    }
    let status = json!({
        "address": {"url": format!("http://{sink}.{ns}.svc.cluster.local:8080")},
        "configuration": {"generatedName": sink},
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": el.at("/metadata/creationTimestamp").cloned().unwrap_or(json!(now_rfc3339()))}],
    });
    set_status(s, ids.el, el, status);
}
