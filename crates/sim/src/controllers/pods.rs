//! The kubelet's part: pods scheduled, pulled, started, ready, crashing
//! or completed, with their container states and events.

use super::*;
use crate::ptr::At;

pub(super) fn new_pod(owner: &Value, name: &str, template: &Value, extra_labels: &[(&str, String)]) -> Value {
    let mut labels = template.at("/metadata/labels").cloned().unwrap_or(json!({}));
    for (k, v) in extra_labels {
        labels[*k] = json!(v);
    }
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    spec["nodeName"] = json!("sim-node-1");
    let containers: Vec<Value> = spec
        .get("containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({"name": c.get("name"), "image": c.get("image"), "ready": false, "restartCount": 0, "started": false,
                           "state": {"waiting": {"reason": "ContainerCreating"}}})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "metadata": {"name": name, "namespace": ns_of(owner), "labels": labels,
                     "annotations": template.at("/metadata/annotations").cloned().unwrap_or(json!({})),
                     "ownerReferences": [owner_ref(owner, true)]},
        "spec": spec,
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}],
                   "containerStatuses": containers, "qosClass": "BestEffort"},
    })
}

/// A pod a controller creates, through admission: stored with the owner's
/// SuccessfulCreate event, or refused (a quota) with its FailedCreate event
/// and the owner looked at again in 2 s, as the real controllers requeue.
/// The refusal comes back as the controller says it.
pub(super) fn create_pod(
    s: &mut State,
    ids: &Ids,
    owner: (ResId, &Value),
    mut pod: Value,
    cx: &mut Ctx,
) -> Result<Arc<Value>, String> {
    let (owner_res, owner) = owner;
    let ns = ns_of(owner);
    let name = name_of(&pod).to_string();
    if let Err(m) = s.admit("Pod", &ns, &mut pod) {
        let msg = format!("pods \"{name}\" is forbidden: {m}");
        emit(
            s,
            ids,
            owner,
            "Warning",
            "FailedCreate",
            &format!("Error creating: {msg}"),
        );
        cx.later.push((
            Instant::now() + Duration::from_secs(2),
            (owner_res, ns, name_of(owner).to_string()),
        ));
        return Err(msg);
    }
    let created = s.put(ids.pod, &ns, pod);
    emit(
        s,
        ids,
        owner,
        "Normal",
        "SuccessfulCreate",
        &format!("Created pod: {name}"),
    );
    Ok(created)
}

pub(super) fn pod(s: &mut State, ids: &Ids, cfg: &crate::cluster::SimConfig, p: &Value, cx: &mut Ctx) {
    let ns = ns_of(p);
    let name = name_of(p).to_string();
    if is_terminating(p) {
        let grace = p
            .at("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let wait = cfg.pod_termination.min(Duration::from_secs(grace));
        let elapsed = p
            .at("/metadata/deletionTimestamp")
            .and_then(Value::as_str)
            .and_then(ms_since)
            .unwrap_or(0);
        if grace == 0 || Duration::from_millis(elapsed) >= wait {
            cx.seen.remove(&(ns.clone(), name.clone()));
            s.remove(ids.pod, &ns, &name);
        } else {
            cx.later.push((
                Instant::now() + wait - Duration::from_millis(elapsed),
                (ids.pod, ns, name),
            ));
        }
        return;
    }
    if p.at("/status/phase").and_then(Value::as_str) != Some("Pending") {
        return;
    }
    // A pod nobody placed (kubectl run, a bare manifest): the scheduler binds it.
    if p.at("/spec/nodeName").and_then(Value::as_str).unwrap_or("").is_empty() {
        let mut bound = p.clone();
        bound["spec"]["nodeName"] = json!("sim-node-1");
        bound["status"]["conditions"] =
            json!([{"type": "PodScheduled", "status": "True", "lastTransitionTime": now_rfc3339()}]);
        let bound = s.put(ids.pod, &ns, bound);
        emit(
            s,
            ids,
            &bound,
            "Normal",
            "Scheduled",
            &format!("Successfully assigned {ns}/{name} to sim-node-1"),
        );
        return;
    }
    let images: Vec<String> = p
        .at("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("image").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(bad) = images.iter().find(|i| unpullable(i)) {
        let waiting = p
            .at("/status/containerStatuses/0/state/waiting/reason")
            .and_then(Value::as_str);
        if waiting != Some("ImagePullBackOff") {
            let mut st = p.get("status").cloned().unwrap_or(json!({}));
            if let Some(Value::Array(cs)) = st.get_mut("containerStatuses") {
                for c in cs {
                    c["state"] = json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{bad}\"")}});
                }
            }
            set_status(s, ids.pod, p, st);
            emit(
                s,
                ids,
                p,
                "Warning",
                "Failed",
                &format!("Failed to pull image \"{bad}\": not found"),
            );
        }
        return;
    }
    // A pod starts after the configured delay from when the controller first saw it.
    if !ids.quiet {
        let first = *cx.seen.entry((ns.clone(), name.clone())).or_insert_with(Instant::now);
        let due = first + cfg.pod_ready_after;
        if Instant::now() < due {
            cx.later.push((due, (ids.pod, ns, name)));
            return;
        }
        cx.seen.remove(&(ns.clone(), name.clone()));
    }
    let now = now_rfc3339();
    let step_lines = p.at("/metadata/labels/tekton.dev~1taskRun").is_some();
    let containers: Vec<Value> = p
        .at("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({"name": c.get("name"), "image": c.get("image"), "imageID": format!("sim://{}", c.get("image").and_then(Value::as_str).unwrap_or("")),
                           "ready": true, "restartCount": 0, "started": true, "containerID": format!("sim://{}", random_suffix(12)),
                           "state": {"running": {"startedAt": now}}})
                })
                .collect()
        })
        .unwrap_or_default();
    let ip = s.next_pod_ip();
    let status = json!({
        "phase": "Running", "startTime": now, "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "10.0.0.1",
        "qosClass": crate::state::qos_class(p),
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
        ],
        "containerStatuses": containers,
    });
    let _ = step_lines;
    set_status(s, ids.pod, p, status);
    if let Some(updated) = s.get(ids.pod, &ns, &name).cloned() {
        emit(s, ids, &updated, "Normal", "Started", "Started container");
    }
}

/// Milliseconds from an RFC 3339 time until now (0 for a time in the future).
pub(super) fn ms_since(t: &str) -> Option<u64> {
    let t = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()?;
    Some((time::OffsetDateTime::now_utc() - t).whole_milliseconds().max(0) as u64)
}
