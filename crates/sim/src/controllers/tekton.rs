//! Tekton: PipelineRuns run their tasks as TaskRuns, each a pod with a
//! container per step.

use super::*;

pub(super) fn steps_of(s: &State, ids: &Ids, ns: &str, task: &Value) -> Vec<Value> {
    if let Some(spec) = task.get("taskSpec") {
        return spec.get("steps").and_then(Value::as_array).cloned().unwrap_or_default();
    }
    let name = task.pointer("/taskRef/name").and_then(Value::as_str).unwrap_or("");
    s.get(ids.task, ns, name)
        .and_then(|t| t.pointer("/spec/steps").and_then(Value::as_array).cloned())
        .unwrap_or_else(|| vec![json!({"name": "build", "image": "sim/builder"})])
}

pub(super) fn pipelinerun(s: &mut State, ids: &Ids, _cfg: &crate::cluster::SimConfig, pr: &Value, _cx: &mut Ctx) {
    let ns = ns_of(pr);
    let prname = name_of(pr).to_string();
    let done = pr.pointer("/status/completionTime").is_some();
    if done || is_terminating(pr) {
        return;
    }
    let now = now_rfc3339();
    let mut status = pr.get("status").cloned().unwrap_or(json!({}));
    if status.get("startTime").is_none() {
        status["startTime"] = json!(now);
    }
    let tasks: Vec<Value> = pr
        .pointer("/spec/pipelineSpec/tasks")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| {
            let pname = pr.pointer("/spec/pipelineRef/name").and_then(Value::as_str)?;
            s.get(ids.pipeline, &ns, pname)
                .and_then(|p| p.pointer("/spec/tasks").and_then(Value::as_array).cloned())
        })
        .unwrap_or_else(|| {
            vec![json!({"name": "build", "taskSpec": {"steps": [{"name": "build", "image": "sim/builder"}]}})]
        });
    let cancelled = pr
        .pointer("/spec/status")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with("Cancelled"));
    let mut children = Vec::new();
    let mut outcome: Option<(&str, &str, String)> = None;
    let mut all_done = true;
    for t in &tasks {
        let tname = t.get("name").and_then(Value::as_str).unwrap_or("task");
        let trname = format!("{prname}-{tname}");
        children
            .push(json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": trname, "pipelineTaskName": tname}));
        match s.get(ids.tr, &ns, &trname).cloned() {
            None => {
                all_done = false;
                if cancelled {
                    break;
                }
                let steps = steps_of(s, ids, &ns, t);
                let tr = json!({
                    "metadata": {"name": trname, "namespace": ns, "ownerReferences": [owner_ref(pr, true)],
                                 "labels": {"tekton.dev/pipelineRun": prname, "tekton.dev/pipelineTask": tname,
                                            "tekton.dev/pipeline": pr.pointer("/spec/pipelineRef/name").and_then(Value::as_str).unwrap_or(prname.as_str())}},
                    "spec": {"taskSpec": {"steps": steps}, "params": t.get("params").cloned().unwrap_or(json!([]))},
                });
                s.put(ids.tr, &ns, tr);
                break;
            }
            Some(tr) => {
                let cond = tr
                    .pointer("/status/conditions/0/status")
                    .and_then(Value::as_str)
                    .unwrap_or("Unknown");
                match cond {
                    "True" => continue,
                    "False" => {
                        outcome = Some(("False", "Failed", format!("Tasks Completed: failed: TaskRun {trname}")));
                        break;
                    }
                    _ => {
                        all_done = false;
                        if cancelled {
                            let mut v = (*tr).clone();
                            v["spec"]["status"] = json!("TaskRunCancelled");
                            s.put(ids.tr, &ns, v);
                        }
                        break;
                    }
                }
            }
        }
    }
    if cancelled && outcome.is_none() {
        outcome = Some(("False", "Cancelled", format!("PipelineRun \"{prname}\" was cancelled")));
    } else if outcome.is_none() && all_done {
        outcome = Some((
            "True",
            "Succeeded",
            format!("Tasks Completed: {} (Failed: 0, Cancelled 0), Skipped: 0", tasks.len()),
        ));
    }
    status["childReferences"] = json!(children);
    status["conditions"] = match &outcome {
        Some((st, reason, msg)) => {
            json!([{"type": "Succeeded", "status": st, "reason": reason, "message": msg, "lastTransitionTime": now}])
        }
        None => {
            json!([{"type": "Succeeded", "status": "Unknown", "reason": "Running", "message": "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 1, Skipped: 0", "lastTransitionTime": now}])
        }
    };
    if outcome.is_some() {
        status["completionTime"] = json!(now);
    }
    let old = pr.get("status").cloned().unwrap_or(json!({}));
    let same = old.get("conditions").and_then(|c| c.pointer("/0/reason"))
        == status.get("conditions").and_then(|c| c.pointer("/0/reason"))
        && old.get("childReferences") == status.get("childReferences");
    if !same {
        set_status(s, ids.pr, pr, status);
        if let Some((_, reason, msg)) = outcome {
            let kind = if reason == "Succeeded" { "Normal" } else { "Warning" };
            if let Some(cur) = s.get(ids.pr, &ns, &prname).cloned() {
                emit(s, ids, &cur, kind, reason, &msg);
            }
        }
    }
}

pub(super) fn taskrun(s: &mut State, ids: &Ids, cfg: &crate::cluster::SimConfig, tr: &Value, cx: &mut Ctx) {
    let ns = ns_of(tr);
    let trname = name_of(tr).to_string();
    if tr.pointer("/status/completionTime").is_some() || is_terminating(tr) {
        return;
    }
    let steps = tr
        .pointer("/spec/taskSpec/steps")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pod_name = format!("{trname}-pod");
    let now = now_rfc3339();
    let cancelled = tr.pointer("/spec/status").and_then(Value::as_str) == Some("TaskRunCancelled");
    let pod = s.get(ids.pod, &ns, &pod_name).cloned();
    let lines_per_step = 5u64;
    let pod = match pod {
        Some(p) => p,
        None if cancelled => {
            let status = json!({"conditions": [{"type": "Succeeded", "status": "False", "reason": "TaskRunCancelled", "message": "TaskRun was cancelled", "lastTransitionTime": now}],
                                "completionTime": now, "startTime": now});
            set_status(s, ids.tr, tr, status);
            return;
        }
        None => {
            let containers: Vec<Value> = steps
                .iter()
                .map(|st| {
                    json!({"name": format!("step-{}", st.get("name").and_then(Value::as_str).unwrap_or("step")),
                           "image": st.get("image").cloned().unwrap_or(json!("sim/step"))})
                })
                .collect();
            let template = json!({"metadata": {"labels": {"tekton.dev/taskRun": trname,
                                                           "tekton.dev/pipelineRun": tr.pointer("/metadata/labels/tekton.dev~1pipelineRun").cloned().unwrap_or(json!(""))},
                                               "annotations": {LOG_LINES_ANNOTATION: lines_per_step.to_string()}},
                                  "spec": {"containers": containers, "restartPolicy": "Never"}});
            let p = new_pod(tr, &pod_name, &template, &[]);
            s.put(ids.pod, &ns, p);
            let status = json!({"podName": pod_name, "startTime": now,
                                "conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Pending", "message": "Pending", "lastTransitionTime": now}]});
            set_status(s, ids.tr, tr, status);
            return;
        }
    };
    if !pod_ready(&pod) {
        return;
    }
    // Steps run one after another from the pod's start, each for step_duration.
    let step_ms = (cfg.step_duration.as_millis() as u64).max(cfg.log_interval.as_millis() as u64 * lines_per_step);
    let elapsed = pod
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .and_then(ms_since)
        .unwrap_or(0);
    let mut step_status = Vec::new();
    let mut failed = None;
    let mut finished = 0;
    for (i, st) in steps.iter().enumerate() {
        let sname = st.get("name").and_then(Value::as_str).unwrap_or("step");
        let end = step_ms * (i as u64 + 1);
        let fails = sname.contains("fail")
            || st
                .get("script")
                .and_then(Value::as_str)
                .is_some_and(|sc| sc.contains("exit 1"));
        let mut entry = json!({"name": sname, "container": format!("step-{sname}")});
        if elapsed >= end || cancelled {
            let (code, reason) = if fails || cancelled {
                (1, if cancelled { "TaskRunCancelled" } else { "Error" })
            } else {
                (0, "Completed")
            };
            entry["terminated"] = json!({"exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now});
            finished += 1;
            if code != 0 {
                failed = Some(sname.to_string());
                step_status.push(entry);
                break;
            }
        } else {
            entry["running"] = json!({"startedAt": now});
        }
        step_status.push(entry);
        if elapsed < end {
            break;
        }
    }
    let mut status = tr.get("status").cloned().unwrap_or(json!({}));
    status["podName"] = json!(pod_name);
    status["steps"] = json!(step_status);
    let (cond, complete) = match (&failed, finished == steps.len()) {
        (Some(step), _) => {
            let reason = if cancelled { "TaskRunCancelled" } else { "Failed" };
            (
                json!({"type": "Succeeded", "status": "False", "reason": reason, "message": format!("\"step-{step}\" exited with code 1"), "lastTransitionTime": now}),
                true,
            )
        }
        (None, true) => (
            json!({"type": "Succeeded", "status": "True", "reason": "Succeeded", "message": "All Steps have completed executing", "lastTransitionTime": now}),
            true,
        ),
        (None, false) => (
            json!({"type": "Succeeded", "status": "Unknown", "reason": "Running", "message": "Not all Steps in the Task have finished executing", "lastTransitionTime": now}),
            false,
        ),
    };
    let reason_changed = status.pointer("/conditions/0/reason") != cond.get("reason");
    status["conditions"] = json!([cond]);
    // The pod's containers say what the steps did: a finished step's
    // container is terminated with its exit code, as the kubelet reports it.
    let mut p = (*pod).clone();
    if let Some(Value::Array(cs)) = p.pointer_mut("/status/containerStatuses") {
        for c in cs.iter_mut() {
            let cname = c.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let step = step_status
                .iter()
                .find(|e| e.get("container").and_then(Value::as_str) == Some(cname.as_str()));
            let ended = match step.and_then(|e| e.get("terminated")) {
                Some(t) => Some(t.clone()),
                // Steps after a failed one never ran: the pod ends them.
                None if complete => {
                    Some(json!({"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}))
                }
                None => None,
            };
            if let Some(mut t) = ended {
                if c.pointer("/state/terminated").is_some() {
                    continue;
                }
                // It ran from when it started: its log keeps its times.
                if let Some(started) = c.pointer("/state/running/startedAt").cloned() {
                    t["startedAt"] = started;
                }
                c["state"] = json!({"terminated": t});
                c["ready"] = json!(false);
                c["started"] = json!(false);
            }
        }
    }
    if complete {
        status["completionTime"] = json!(now);
        // The pod is done: its containers terminated.
        p["status"]["phase"] = json!(if failed.is_some() { "Failed" } else { "Succeeded" });
        s.put(ids.pod, &ns, p);
    } else {
        if p != *pod {
            s.put(ids.pod, &ns, p);
        }
        let next = step_ms * (finished as u64 + 1);
        cx.later.push((
            Instant::now() + Duration::from_millis(next.saturating_sub(elapsed) + 20),
            (ids.tr, ns.clone(), trname.clone()),
        ));
    }
    let steps_changed = tr.pointer("/status/steps") != status.get("steps");
    if reason_changed || steps_changed || complete {
        set_status(s, ids.tr, tr, status);
    }
    let _ = labels_of;
}
