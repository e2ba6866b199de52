//! What bounds and feeds a namespace's capacity: ResourceQuota status (used
//! against hard, kept as the quota controller keeps it), claims bound by the
//! default StorageClass's provisioner (a PersistentVolume per claim,
//! deleted with it), and the HorizontalPodAutoscaler controller, scaling
//! between its bounds on a simulated CPU and memory load.

use super::*;
use crate::ptr::At;
use crate::quantity;

/// The annotation on a Deployment or StatefulSet that sets its simulated
/// CPU demand, in percent of one pod's request (`"300"`: three pods' worth,
/// shared by the ready pods). Memory likewise with `memory-demand`.
pub const CPU_DEMAND: &str = "sim.kdeck.dev/cpu-demand";
pub const MEMORY_DEMAND: &str = "sim.kdeck.dev/memory-demand";

/// Each pod's use of what it requests when nothing else is said.
const IDLE_PERCENT: u64 = 30;

/// Recomputes `status.used` (and `status.hard`) of every quota of a namespace.
pub(super) fn quotas(s: &mut State, ids: &Ids, ns: &str) {
    let qs: Vec<Arc<Value>> = s.iter_kind(ids.quota, Some(ns)).map(|(_, q)| q.clone()).collect();
    for q in qs {
        let hard = q
            .at("/spec/hard")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let used = s.quota_used(ns, &hard);
        let used: serde_json::Map<String, Value> = used
            .into_iter()
            .map(|(k, v)| {
                let text = quantity::format(v, quantity::is_bytes(&k));
                (k, json!(text))
            })
            .collect();
        set_status(s, ids.quota, &q, json!({"hard": hard, "used": used}));
    }
}

/// A claim: given the default class when it names none, then provisioned
/// and bound (a PersistentVolume of its size), or left Pending with the
/// reason as an Event.
pub(super) fn claim(s: &mut State, ids: &Ids, pvc: &Value) {
    if is_terminating(pvc) || pvc.at("/status/phase").and_then(Value::as_str) == Some("Bound") {
        return;
    }
    let ns = ns_of(pvc);
    let name = name_of(pvc).to_string();
    let class_name = pvc
        .at("/spec/storageClassName")
        .and_then(Value::as_str)
        .map(str::to_string);
    let class = match &class_name {
        Some(c) => s.get(ids.sc, "", c).cloned(),
        None => s.iter_kind(ids.sc, None).map(|(_, c)| c.clone()).find(|c| {
            c.at("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                .and_then(Value::as_str)
                == Some("true")
        }),
    };
    let Some(class) = class else {
        let msg = match &class_name {
            Some(c) => format!("storageclass.storage.k8s.io \"{c}\" not found"),
            None => "no persistent volumes available for this claim and no storage class is set".to_string(),
        };
        set_status(s, ids.pvc, pvc, json!({"phase": "Pending"}));
        emit(s, ids, pvc, "Warning", "ProvisioningFailed", &msg);
        return;
    };
    let class_name = name_of(&class).to_string();
    let uid = uid_of(pvc);
    let pv_name = format!("pvc-{uid}");
    let size = pvc
        .at("/spec/resources/requests/storage")
        .cloned()
        .unwrap_or(json!("1Gi"));
    let modes = pvc.at("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"]));
    let provisioner = class.get("provisioner").cloned().unwrap_or(json!("kdeck.dev/sim"));
    let pv = json!({
        "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": provisioner},
                     "finalizers": ["kubernetes.io/pv-protection"]},
        "spec": {"capacity": {"storage": size}, "accessModes": modes,
                 "persistentVolumeReclaimPolicy": class.get("reclaimPolicy").cloned().unwrap_or(json!("Delete")),
                 "storageClassName": class_name, "volumeMode": "Filesystem",
                 "hostPath": {"path": format!("/var/sim/volumes/{ns}/{name}"), "type": "DirectoryOrCreate"},
                 "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": ns, "name": name, "uid": uid}},
        "status": {"phase": "Bound"},
    });
    s.put(ids.pv, "", pv);
    let mut bound = pvc.clone();
    bound["spec"]["storageClassName"] = json!(class_name);
    bound["spec"]["volumeName"] = json!(pv_name);
    bound["spec"]["volumeMode"] = json!("Filesystem");
    let ann = &mut bound["metadata"]["annotations"];
    if !ann.is_object() {
        *ann = json!({});
    }
    ann["pv.kubernetes.io/bind-completed"] = json!("yes");
    ann["pv.kubernetes.io/bound-by-controller"] = json!("yes");
    ann["volume.kubernetes.io/storage-provisioner"] = provisioner.clone();
    bound["status"] = json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}});
    s.put(ids.pvc, &ns, bound);
    emit(
        s,
        ids,
        pvc,
        "Normal",
        "ProvisioningSucceeded",
        &format!("Successfully provisioned volume {pv_name}"),
    );
}

/// A volume whose claim is gone: deleted (reclaim policy Delete) or Released.
pub(super) fn volume(s: &mut State, ids: &Ids, pv: &Value) {
    let Some(cref) = pv.at("/spec/claimRef") else {
        return;
    };
    let ns = cref.get("namespace").and_then(Value::as_str).unwrap_or("");
    let claim = cref.get("name").and_then(Value::as_str).unwrap_or("");
    let uid = cref.get("uid").and_then(Value::as_str).unwrap_or("");
    if s.get(ids.pvc, ns, claim).is_some_and(|c| uid_of(c) == uid) {
        return;
    }
    if pv.at("/spec/persistentVolumeReclaimPolicy").and_then(Value::as_str) == Some("Delete") {
        s.remove(ids.pv, "", name_of(pv));
    } else {
        set_status(s, ids.pv, pv, json!({"phase": "Released"}));
    }
}

/// The autoscaler's memory: recent recommendations, for the scale-down
/// stabilization window.
pub(super) type Recommendations = std::collections::HashMap<(String, String), Vec<(Instant, u64)>>;

/// One HorizontalPodAutoscaler: reads its target's pods and simulated load,
/// recommends a size between min and max, scales the target, and says why
/// in its status and Events. Looks again after the sync period.
pub(super) fn hpa(s: &mut State, ids: &Ids, cfg: &crate::cluster::SimConfig, h: &Value, cx: &mut Ctx) {
    if is_terminating(h) {
        return;
    }
    let ns = ns_of(h);
    let name = name_of(h).to_string();
    cx.later
        .push((Instant::now() + cfg.hpa_sync, (ids.hpa, ns.clone(), name.clone())));
    let prev = h.get("status").cloned().unwrap_or(json!({}));
    let prev_cond = |t: &str| {
        prev.get("conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c.get("type") == Some(&json!(t))))
            .cloned()
    };
    let cond = |t: &str, st: &str, reason: &str, msg: &str| {
        let mut c = condition(t, st, reason, msg, prev_cond(t).as_ref());
        if let Some(o) = c.as_object_mut() {
            o.remove("lastUpdateTime");
        }
        c
    };
    let kind = h.at("/spec/scaleTargetRef/kind").and_then(Value::as_str).unwrap_or("");
    let target_name = h.at("/spec/scaleTargetRef/name").and_then(Value::as_str).unwrap_or("");
    let target_id = match kind {
        "Deployment" => Some(ids.deploy),
        "StatefulSet" => Some(ids.sts),
        _ => None,
    };
    let Some(target) = target_id.and_then(|t| s.get(t, &ns, target_name).cloned()) else {
        let plural = if kind == "StatefulSet" {
            "statefulsets"
        } else {
            "deployments"
        };
        let status = json!({"currentReplicas": 0, "desiredReplicas": 0, "conditions": [
            cond("AbleToScale", "False", "FailedGetScale",
                 &format!("the HPA controller was unable to get the target's current scale: {plural}/scale.apps \"{target_name}\" not found"))]});
        set_status(s, ids.hpa, h, status);
        return;
    };
    let min = h.at("/spec/minReplicas").and_then(Value::as_u64).unwrap_or(1).max(1);
    let max = h.at("/spec/maxReplicas").and_then(Value::as_u64).unwrap_or(1).max(min);
    let current = target.at("/spec/replicas").and_then(Value::as_u64).unwrap_or(1);
    if current == 0 {
        let status = json!({"currentReplicas": 0, "desiredReplicas": 0, "conditions": [
            cond("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale"),
            cond("ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")]});
        set_status(s, ids.hpa, h, status);
        return;
    }
    // The target's pods, and what their containers request.
    let selector = target
        .at("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| !is_terminating(p))
        .filter(|(_, p)| {
            selector
                .iter()
                .all(|(k, v)| p.at("/metadata/labels").and_then(|l| l.get(k)) == Some(v))
        })
        .map(|(_, p)| p.clone())
        .collect();
    let ready = pods.iter().filter(|p| pod_ready(p)).count().max(1) as u64;
    let fault_demand = cx.cpu_demand;
    let mut metrics = Vec::new();
    let mut desired = 0_u64;
    let mut reasons = Vec::new();
    for m in h.at("/spec/metrics").and_then(Value::as_array).into_iter().flatten() {
        if m.get("type").and_then(Value::as_str) != Some("Resource") {
            continue;
        }
        let rname = m.at("/resource/name").and_then(Value::as_str).unwrap_or("cpu");
        let Some(goal) = m.at("/resource/target/averageUtilization").and_then(Value::as_u64) else {
            continue;
        };
        let request: Option<i128> = target
            .at("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        c.at(&format!("/resources/requests/{rname}"))
                            .and_then(Value::as_str)
                            .and_then(quantity::parse)
                    })
                    .sum::<Option<i128>>()
            })
            .unwrap_or(None)
            .or_else(|| pods.first().and_then(|p| pod_request(p, rname)));
        let Some(request) = request.filter(|r| *r > 0) else {
            let cname = target
                .at("/spec/template/spec/containers/0/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let status = json!({"currentReplicas": current, "desiredReplicas": current, "conditions": [
                cond("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale"),
                cond("ScalingActive", "False", "FailedGetResourceMetric",
                     &format!("the HPA was unable to compute the replica count: failed to get {rname} utilization: missing request for {rname} in container {cname}"))]});
            set_status(s, ids.hpa, h, status);
            return;
        };
        let annotation = if rname == "memory" { MEMORY_DEMAND } else { CPU_DEMAND };
        let demand = target
            .at(&format!("/metadata/annotations/{}", annotation.replace('/', "~1")))
            .and_then(Value::as_str)
            .and_then(|v| v.parse::<u64>().ok())
            .or(if rname == "cpu" { fault_demand } else { None })
            .unwrap_or(IDLE_PERCENT * ready);
        let utilization = demand / ready;
        let ratio = utilization as f64 / goal.max(1) as f64;
        let want = if (ratio - 1.0).abs() <= 0.1 {
            current
        } else {
            (current as f64 * ratio).ceil() as u64
        };
        desired = desired.max(want);
        let per_pod = request * i128::from(utilization) / 100;
        metrics.push(json!({"type": "Resource", "resource": {"name": rname, "current": {
            "averageUtilization": utilization, "averageValue": quantity::format(per_pod, rname == "memory")}}}));
        reasons.push(format!(
            "{rname} resource utilization (percentage of request) {} target",
            if utilization > goal { "above" } else { "below" }
        ));
    }
    if metrics.is_empty() {
        desired = current;
    }
    // Scale-down stabilization: the highest recommendation within the window wins.
    let window = h
        .at("/spec/behavior/scaleDown/stabilizationWindowSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(300);
    let now = Instant::now();
    let recs = cx.recommendations.entry((ns.clone(), name.clone())).or_default();
    recs.push((now, desired));
    recs.retain(|(t, _)| now.duration_since(*t) <= Duration::from_secs(window));
    let stabilized = recs.iter().map(|(_, d)| *d).max().unwrap_or(desired);
    let recommended = if desired < current {
        stabilized.min(current)
    } else {
        desired
    };
    let bounded = recommended.clamp(min, max);
    let mut conditions = vec![cond(
        "AbleToScale",
        "True",
        if recommended < current && bounded == current {
            "ScaleDownStabilized"
        } else {
            "ReadyForNewScale"
        },
        if recommended < current && bounded == current {
            "recent recommendations were higher than current one, applying the highest recent recommendation"
        } else {
            "recommended size matches current size"
        },
    )];
    conditions.push(cond(
        "ScalingActive",
        "True",
        "ValidMetricFound",
        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)",
    ));
    conditions.push(if recommended > max {
        cond(
            "ScalingLimited",
            "True",
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    } else if recommended < min {
        cond(
            "ScalingLimited",
            "True",
            "TooFewReplicas",
            "the desired replica count is less than the minimum replica count",
        )
    } else {
        cond(
            "ScalingLimited",
            "False",
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        )
    });
    let mut status = json!({"observedGeneration": h.at("/metadata/generation").cloned().unwrap_or(json!(1)),
                            "currentReplicas": current, "desiredReplicas": bounded,
                            "currentMetrics": metrics, "conditions": conditions});
    if let Some(t) = prev.get("lastScaleTime") {
        status["lastScaleTime"] = t.clone();
    }
    if bounded != current
        && let Some(tid) = target_id
    {
        let mut t = (*target).clone();
        t["spec"]["replicas"] = json!(bounded);
        s.put(tid, &ns, t);
        status["lastScaleTime"] = json!(now_rfc3339());
        let why = if bounded > current && !reasons.is_empty() {
            reasons.join(", ")
        } else if bounded > current {
            "Current number of replicas below Spec's minimum".to_string()
        } else {
            "All metrics below target".to_string()
        };
        emit(
            s,
            ids,
            h,
            "Normal",
            "SuccessfulRescale",
            &format!("New size: {bounded}; reason: {why}"),
        );
    }
    set_status(s, ids.hpa, h, status);
}

fn pod_request(p: &Value, rname: &str) -> Option<i128> {
    p.at("/spec/containers")?
        .as_array()?
        .iter()
        .map(|c| {
            c.at(&format!("/resources/requests/{rname}"))
                .and_then(Value::as_str)
                .and_then(quantity::parse)
        })
        .sum()
}
