//! TaskRuns: the task resolved, params substituted, a pod with a container
//! per step; steps run one after another, each printing what its script
//! prints; results, cancel and timeouts as Tekton v1 reports them.

use super::script::{Effect, Env, Shell};
use super::subst::{self, Vars};
use super::*;
use crate::ptr::At;

/// Annotation on a step pod: what each step prints, when it starts and how
/// it ends (the simulator's runtime; the log endpoint reads it).
pub const STEPS_ANNOTATION: &str = "sim.kdeck.dev/steps";

fn fail(s: &mut State, ids: &Ids, tr: &Value, status: Value, reason: &str, message: String) {
    end_run(s, ids, ids.tr, tr, status, "False", reason, message);
}

/// The task's spec: inline, or the Task it names.
fn task_spec(s: &State, ids: &Ids, ns: &str, tr: &Value) -> Result<Value, String> {
    if let Some(spec) = tr.at("/spec/taskSpec") {
        return Ok(spec.clone());
    }
    let name = tr.at("/spec/taskRef/name").and_then(Value::as_str).unwrap_or("");
    s.get(ids.task, ns, name)
        .and_then(|t| t.get("spec").cloned())
        .ok_or_else(|| {
            format!(
                "error when listing tasks for taskRun {}: tasks.tekton.dev \"{name}\" not found",
                name_of(tr)
            )
        })
}

/// Each step's plan, run through the shell once, when the pod is made.
fn plan(s: &State, ids: &Ids, cfg: &crate::cluster::SimConfig, tr: &Value, spec: &Value) -> (Vec<Value>, Value) {
    let ns = ns_of(tr);
    let mut params = subst::param_list(spec.get("params"));
    params.extend(subst::param_list(tr.at("/spec/params")));
    let mut vars = Vars::new();
    subst::add_params(&mut vars, &params);
    vars.insert("context.taskRun.name".into(), name_of(tr).to_string());
    vars.insert("context.taskRun.namespace".into(), ns.clone());
    vars.insert(
        "context.task.name".into(),
        tr.at("/spec/taskRef/name")
            .and_then(Value::as_str)
            .unwrap_or(name_of(tr))
            .to_string(),
    );
    for r in spec.get("results").and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = r.get("name").and_then(Value::as_str) {
            vars.insert(format!("results.{n}.path"), format!("/tekton/results/{n}"));
        }
    }
    for w in spec.get("workspaces").and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = w.get("name").and_then(Value::as_str) {
            vars.insert(format!("workspaces.{n}.path"), format!("/workspace/{n}"));
        }
    }
    let spec = subst::substitute_value(spec, &vars);
    // A registry login: a Secret volume mounted at /kaniko/.docker that exists.
    let secret_res = resources::ids::of("Secret");
    let docker_config = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|v| {
            let name = v.get("name").and_then(Value::as_str).unwrap_or("");
            let secret = v.at("/secret/secretName").and_then(Value::as_str).unwrap_or("");
            let mounted = spec
                .get("steps")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|st| {
                    st.get("volumeMounts")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .any(|m| {
                            m.get("name").and_then(Value::as_str) == Some(name)
                                && m.get("mountPath").and_then(Value::as_str) == Some("/kaniko/.docker")
                        })
                });
            mounted && s.get(secret_res, &ns, secret).is_some()
        });
    let deployments = s
        .iter_kind(ids.deploy, Some(&ns))
        .map(|(_, d)| {
            let cs = crate::state::names_in(d.at("/spec/template/spec/containers"));
            (name_of(d).to_string(), cs)
        })
        .collect();
    let mut shell = Shell::new(Env {
        namespace: ns,
        deployments,
        docker_config,
    });
    let step_ms = cfg.step_duration.as_millis() as u64;
    let line_ms = cfg.log_interval.as_millis() as u64;
    let mut offset = 0u64;
    let mut steps = Vec::new();
    let mut failed = false;
    for st in spec.get("steps").and_then(Value::as_array).into_iter().flatten() {
        let sname = st.get("name").and_then(Value::as_str).unwrap_or("step");
        let (lines, exit, effects) = if failed {
            (Vec::new(), None, Vec::new())
        } else {
            let r = shell.run_step(st);
            failed = r.exit != 0;
            (r.lines, Some(r.exit), r.effects)
        };
        let dur = step_ms.max(line_ms * lines.len() as u64);
        steps.push(
            json!({"name": sname, "container": format!("step-{sname}"), "image": st.get("image"),
                          "offsetMs": offset, "durMs": dur, "exit": exit, "lines": lines,
                          "effects": effects.iter().map(Effect::to_json).collect::<Vec<_>>()}),
        );
        offset += dur;
    }
    let results: serde_json::Map<String, Value> = shell
        .files
        .iter()
        .filter_map(|(p, v)| {
            p.strip_prefix("/tekton/results/")
                .map(|n| (n.to_string(), json!(v.trim_end())))
        })
        .collect();
    (steps, Value::Object(results))
}

pub(in crate::controllers) fn taskrun(
    s: &mut State,
    ids: &Ids,
    cfg: &crate::cluster::SimConfig,
    tr: &Value,
    cx: &mut Ctx,
) {
    let Some((ns, trname, now, mut status)) = open_run(tr) else {
        return;
    };
    let spec = match task_spec(s, ids, &ns, tr) {
        Ok(spec) => spec,
        Err(msg) => return fail(s, ids, tr, status, "TaskRunResolutionFailed", msg),
    };
    status["taskSpec"] = spec.clone();
    let cancelled = tr.at("/spec/status").and_then(Value::as_str) == Some("TaskRunCancelled");
    let (timeout, started, timed_out) = clock(&status, tr.at("/spec/timeout").and_then(Value::as_str));
    let pod_name = format!("{trname}-pod");
    let pod = s.get(ids.pod, &ns, &pod_name).cloned();
    if cancelled || timed_out {
        // The pod goes; its steps end where they were.
        let mut steps = status.get("steps").cloned().unwrap_or(json!([]));
        if let Some(arr) = steps.as_array_mut() {
            for st in arr.iter_mut() {
                if st.get("terminated").is_none() {
                    let reason = if cancelled {
                        "TaskRunCancelled"
                    } else {
                        "TaskRunTimeout"
                    };
                    st["terminated"] = json!({"exitCode": 1, "reason": reason, "startedAt": now, "finishedAt": now});
                    if let Some(o) = st.as_object_mut() {
                        o.remove("running");
                    }
                }
            }
        }
        status["steps"] = steps;
        if pod.is_some() {
            s.remove(ids.pod, &ns, &pod_name);
        }
        let (reason, msg) = if cancelled {
            let m = tr
                .at("/spec/statusMessage")
                .and_then(Value::as_str)
                .unwrap_or("TaskRun cancelled as the PipelineRun it belongs to has been cancelled.");
            ("TaskRunCancelled", format!("TaskRun \"{trname}\" was cancelled. {m}"))
        } else {
            let t = subst::go_duration_string(timeout.unwrap_or_default());
            (
                "TaskRunTimeout",
                format!("TaskRun \"{trname}\" failed to finish within \"{t}\""),
            )
        };
        return fail(s, ids, tr, status, reason, msg);
    }
    if let Some(t) = timeout {
        cx.later.push((
            Instant::now() + t.saturating_sub(Duration::from_millis(started)) + Duration::from_millis(20),
            (ids.tr, ns.clone(), trname.clone()),
        ));
    }
    let Some(pod) = pod else {
        let (steps, results) = plan(s, ids, cfg, tr, &spec);
        let containers: Vec<Value> = steps
            .iter()
            .map(|st| json!({"name": st.get("container"), "image": st.get("image").cloned().unwrap_or(json!("sim/step"))}))
            .collect();
        let mut labels = labels_of(tr);
        labels.insert("tekton.dev/taskRun".into(), trname.clone());
        labels.insert("app.kubernetes.io/managed-by".into(), "tekton-pipelines".into());
        let plan = json!({"steps": steps, "results": results});
        let template = json!({"metadata": {"labels": labels, "annotations": {STEPS_ANNOTATION: plan.to_string()}},
                              "spec": {"containers": containers, "restartPolicy": "Never",
                                       "serviceAccountName": tr.at("/spec/serviceAccountName").cloned().unwrap_or(json!("default"))}});
        let p = new_pod(tr, &pod_name, &template, &[]);
        s.put(ids.pod, &ns, p);
        status["podName"] = json!(pod_name);
        status["conditions"] = json!([{"type": "Succeeded", "status": "Unknown", "reason": "Pending", "message": "Pending", "lastTransitionTime": now}]);
        set_status(s, ids.tr, tr, status);
        return;
    };
    if !pod_ready(&pod) {
        return;
    }
    let plan: Value = pod
        .at(&format!(
            "/metadata/annotations/{}",
            STEPS_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(json!({}));
    let steps = plan.get("steps").and_then(Value::as_array).cloned().unwrap_or_default();
    let pod_start = pod
        .at("/status/startTime")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or(now.clone());
    let elapsed = ms_since(&pod_start).unwrap_or(0);
    let at = |ms: u64| crate::state::rfc3339_after(&pod_start, ms);
    let before: Vec<Value> = status
        .get("steps")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut step_status = Vec::new();
    let mut failed: Option<(String, i64)> = None;
    let mut next_wake = None;
    for st in &steps {
        let sname = st.get("name").and_then(Value::as_str).unwrap_or("step").to_string();
        let container = format!("step-{sname}");
        let (off, dur) = (
            st.get("offsetMs").and_then(Value::as_u64).unwrap_or(0),
            st.get("durMs").and_then(Value::as_u64).unwrap_or(0),
        );
        let mut entry = json!({"name": sname, "container": container});
        if failed.is_some() {
            // Steps after a failed one never run: Tekton skips them.
            entry["terminated"] =
                json!({"exitCode": 1, "reason": "Skipped", "startedAt": at(off), "finishedAt": at(off)});
        } else if elapsed >= off + dur {
            let code = st.get("exit").and_then(Value::as_i64).unwrap_or(0);
            let reason = if code == 0 { "Completed" } else { "Error" };
            entry["terminated"] =
                json!({"exitCode": code, "reason": reason, "startedAt": at(off), "finishedAt": at(off + dur)});
            let was_done = before.iter().any(|b| {
                b.get("name").and_then(Value::as_str) == Some(sname.as_str()) && b.get("terminated").is_some()
            });
            if !was_done {
                for e in st.get("effects").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(e) = Effect::from_json(e) {
                        apply_effect(s, ids, &ns, &e);
                    }
                }
            }
            if code != 0 {
                failed = Some((container.clone(), code));
            }
        } else {
            entry["running"] = json!({"startedAt": pod_start});
            next_wake.get_or_insert(off + dur);
        }
        step_status.push(entry);
    }
    let complete = next_wake.is_none();
    let cond = match (&failed, complete) {
        (Some((c, code)), _) => json!({"type": "Succeeded", "status": "False", "reason": "Failed",
                                       "message": format!("\"{c}\" exited with code {code}"), "lastTransitionTime": now}),
        (None, true) => json!({"type": "Succeeded", "status": "True", "reason": "Succeeded",
                               "message": "All Steps have completed executing", "lastTransitionTime": now}),
        (None, false) => json!({"type": "Succeeded", "status": "Unknown", "reason": "Running",
                                "message": "Not all Steps in the Task have finished executing", "lastTransitionTime": now}),
    };
    let complete = complete || failed.is_some();
    let changed =
        status.at("/conditions/0/reason") != cond.get("reason") || status.get("steps") != Some(&json!(step_status));
    status["podName"] = json!(pod_name);
    status["steps"] = json!(step_status);
    if !changed && !complete {
        if let Some(n) = next_wake {
            cx.later.push((
                Instant::now() + Duration::from_millis(n.saturating_sub(elapsed) + 20),
                (ids.tr, ns, trname),
            ));
        }
        return;
    }
    status["conditions"] = json!([cond]);
    // The pod's containers say what the steps did, as the kubelet reports it.
    let mut p = (*pod).clone();
    if let Some(Value::Array(cs)) = p.pointer_mut("/status/containerStatuses") {
        for c in cs.iter_mut() {
            let cname = c.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let ended = step_status
                .iter()
                .find(|e| e.get("container").and_then(Value::as_str) == Some(cname.as_str()))
                .and_then(|e| e.get("terminated").cloned());
            if let Some(mut t) = ended
                && c.at("/state/terminated").is_none()
            {
                // The container ran from the pod's start (waiting for its
                // turn, as Tekton's entrypoint makes it); its log keeps that.
                if let Some(started) = c.at("/state/running/startedAt").cloned() {
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
        if failed.is_none() {
            let written = plan.get("results").cloned().unwrap_or(json!({}));
            let results: Vec<Value> = spec
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    let n = r.get("name").and_then(Value::as_str)?;
                    Some(json!({"name": n, "type": "string", "value": written.get(n)?}))
                })
                .collect();
            if !results.is_empty() {
                status["results"] = json!(results);
            }
        }
        p["status"]["phase"] = json!(if failed.is_some() { "Failed" } else { "Succeeded" });
    } else if let Some(n) = next_wake {
        cx.later.push((
            Instant::now() + Duration::from_millis(n.saturating_sub(elapsed) + 20),
            (ids.tr, ns.clone(), trname.clone()),
        ));
    }
    if p != *pod {
        s.put(ids.pod, &ns, p);
    }
    set_status(s, ids.tr, tr, status);
    if complete && let Some(cur) = s.get(ids.tr, &ns, &trname).cloned() {
        let (kind, reason) = if failed.is_some() {
            ("Warning", "Failed")
        } else {
            ("Normal", "Succeeded")
        };
        let msg = cur
            .at("/status/conditions/0/message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        emit(s, ids, &cur, kind, reason, &msg);
    }
}

/// A step's change in the cluster, as its kubectl made it.
fn apply_effect(s: &mut State, ids: &Ids, ns: &str, e: &Effect) {
    match e {
        Effect::SetImage {
            deployment,
            container,
            image,
        } => {
            let Some(d) = s.get(ids.deploy, ns, deployment).cloned() else {
                return;
            };
            let mut d = (*d).clone();
            if let Some(Value::Array(cs)) = d.pointer_mut("/spec/template/spec/containers") {
                for c in cs.iter_mut() {
                    if c.get("name").and_then(Value::as_str) == Some(container.as_str()) {
                        c["image"] = json!(image);
                    }
                }
            }
            s.put(ids.deploy, ns, d);
        }
    }
}
