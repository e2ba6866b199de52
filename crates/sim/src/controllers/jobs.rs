//! Jobs: pods up to the job's parallelism until its completions succeed.
//! A simulated container runs for the kubelet's start-up delay and exits 0.

use super::*;
use crate::ptr::At;

pub(super) fn job(s: &mut State, ids: &Ids, cfg: &crate::cluster::SimConfig, job: &Value, cx: &mut Ctx) {
    if is_terminating(job) {
        return;
    }
    let ns = ns_of(job);
    let uid = uid_of(job);
    let name = name_of(job).to_string();
    let completions = job.at("/spec/completions").and_then(Value::as_u64).unwrap_or(1) as usize;
    let parallelism = job.at("/spec/parallelism").and_then(Value::as_u64).unwrap_or(1) as usize;
    let suspended = job.at("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid))
        .map(|(_, p)| p.clone())
        .collect();
    let phase = |p: &Value| p.at("/status/phase").and_then(Value::as_str).unwrap_or("").to_string();
    let now = now_rfc3339();
    // Running pods finish once they have run for the start-up delay.
    for p in pods.iter().filter(|p| phase(p) == "Running") {
        let started = p
            .at("/status/startTime")
            .and_then(Value::as_str)
            .and_then(ms_since)
            .unwrap_or(0);
        let wait = if ids.quiet {
            0
        } else {
            cfg.pod_ready_after.as_millis() as u64
        };
        if started < wait {
            cx.later.push((
                Instant::now() + Duration::from_millis(wait - started),
                (ids.job, ns.clone(), name.clone()),
            ));
            continue;
        }
        let mut st = p.get("status").cloned().unwrap_or(json!({}));
        st["phase"] = json!("Succeeded");
        for c in st
            .get_mut("containerStatuses")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let started_at = c.at("/state/running/startedAt").cloned().unwrap_or(json!(now));
            c["ready"] = json!(false);
            c["started"] = json!(false);
            c["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started_at, "finishedAt": now}});
        }
        for cond in st
            .get_mut("conditions")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if matches!(
                cond.get("type").and_then(Value::as_str),
                Some("Ready" | "ContainersReady")
            ) {
                cond["status"] = json!("False");
                cond["reason"] = json!("PodCompleted");
            }
        }
        set_status(s, ids.pod, p, st);
    }
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid))
        .map(|(_, p)| p.clone())
        .collect();
    let succeeded = pods.iter().filter(|p| phase(p) == "Succeeded").count();
    let failed = pods.iter().filter(|p| phase(p) == "Failed").count();
    let active: Vec<&Arc<Value>> = pods
        .iter()
        .filter(|p| !matches!(phase(p).as_str(), "Succeeded" | "Failed") && !is_terminating(p))
        .collect();
    let ready = active.iter().filter(|p| pod_ready(p)).count();
    let done = succeeded >= completions;
    let mut created = 0;
    if !done && !suspended {
        let want = parallelism.min(completions - succeeded).saturating_sub(active.len());
        let template = job.at("/spec/template").cloned().unwrap_or(json!({}));
        for _ in 0..want {
            let pod_name = format!("{name}-{}", random_suffix(5));
            let labels = [
                ("batch.kubernetes.io/controller-uid", uid.clone()),
                ("batch.kubernetes.io/job-name", name.clone()),
                ("controller-uid", uid.clone()),
                ("job-name", name.clone()),
            ];
            let p = new_pod(job, &pod_name, &template, &labels);
            if create_pod(s, ids, (ids.job, job), p, cx).is_err() {
                break;
            }
            created += 1;
        }
    }
    let prev = job.get("status").cloned().unwrap_or(json!({}));
    let mut st = json!({
        "active": active.len() + created, "ready": ready, "terminating": 0,
        "uncountedTerminatedPods": {},
    });
    if succeeded > 0 {
        st["succeeded"] = json!(succeeded);
    }
    if failed > 0 {
        st["failed"] = json!(failed);
    }
    if st["active"] == 0
        && let Value::Object(m) = &mut st
    {
        m.remove("active");
    }
    if !suspended {
        st["startTime"] = prev.get("startTime").cloned().unwrap_or(json!(now));
    }
    let prev_conds = prev.get("conditions").and_then(Value::as_array);
    let prev_cond =
        |t: &str| prev_conds.and_then(|cs| cs.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(t)));
    if done {
        st["completionTime"] = prev.get("completionTime").cloned().unwrap_or(json!(now));
        st["conditions"] = json!([
            condition(
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                prev_cond("SuccessCriteriaMet")
            ),
            condition(
                "Complete",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                prev_cond("Complete")
            ),
        ]);
        if prev.get("completionTime").is_none() {
            emit(s, ids, job, "Normal", "Completed", "Job completed");
        }
    } else if suspended {
        st["conditions"] = json!([condition(
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            prev_cond("Suspended")
        )]);
    }
    set_status(s, ids.job, job, st);
}

/// A new Job's defaults: the selector and pod labels the API server adds
/// from its uid, completions, parallelism, backoffLimit and completionMode.
pub fn job_defaults(obj: &mut Value) {
    let uid = uid_of(obj);
    let name = name_of(obj).to_string();
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual && spec.get("selector").is_none() {
        spec.insert(
            "selector".into(),
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
        if let Some(labels) = spec
            .get_mut("template")
            .and_then(|t| t.as_object_mut())
            .map(|t| t.entry("metadata").or_insert_with(|| json!({})))
            .and_then(|m| m.as_object_mut())
            .map(|m| m.entry("labels").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        {
            labels.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
            labels.insert("batch.kubernetes.io/job-name".into(), json!(name));
            labels.insert("controller-uid".into(), json!(uid));
            labels.insert("job-name".into(), json!(name));
        }
    }
    for (k, v) in [
        ("completions", json!(1)),
        ("parallelism", json!(1)),
        ("backoffLimit", json!(6)),
        ("completionMode", json!("NonIndexed")),
        ("suspend", json!(false)),
        ("podReplacementPolicy", json!("TerminatingOrFailed")),
    ] {
        spec.entry(k).or_insert(v);
    }
}
