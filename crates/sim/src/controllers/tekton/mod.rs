//! Tekton Pipelines as its controller runs them: a PipelineRun's Pipeline is
//! resolved, params substituted, tasks started in `runAfter` order (and the
//! order their result references imply) as TaskRuns, `when` expressions
//! skip tasks, `finally` tasks run once the rest ended, results flow from
//! task to task and into the run's own results; cancel (`Cancelled`,
//! `CancelledRunFinally`, `StoppedRunFinally`) and timeouts end it as
//! Tekton v1 does.

use super::*;
use crate::ptr::At;

mod listener;
pub mod script;
pub mod subst;
mod taskrun;

pub(super) use listener::eventlistener;
pub use taskrun::STEPS_ANNOTATION;
pub(super) use taskrun::taskrun;

use subst::Vars;

/// Where a pipeline task stands.
#[derive(Debug, Clone, PartialEq)]
enum Tk {
    NotStarted,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Skipped(String),
}

impl Tk {
    fn ended(&self) -> bool {
        !matches!(self, Tk::NotStarted | Tk::Running)
    }
    /// `$(tasks.X.status)`: Succeeded, Failed or None.
    fn word(&self) -> &'static str {
        match self {
            Tk::Succeeded => "Succeeded",
            Tk::Failed | Tk::Cancelled => "Failed",
            _ => "None",
        }
    }
}

/// A run (PipelineRun or TaskRun) not ended yet: its namespace, name, the
/// time now and its status with a start time; `None` once it ended or goes.
fn open_run(obj: &Value) -> Option<(String, String, String, Value)> {
    if obj.at("/status/completionTime").is_some() || is_terminating(obj) {
        return None;
    }
    let now = now_rfc3339();
    let mut status = obj.get("status").cloned().unwrap_or(json!({}));
    if status.get("startTime").is_none() {
        status["startTime"] = json!(now);
    }
    Some((ns_of(obj), name_of(obj).to_string(), now, status))
}

/// Ends a run with its Succeeded condition, and says so in an Event.
#[allow(clippy::too_many_arguments)]
fn end_run(
    s: &mut State,
    ids: &Ids,
    res: ResId,
    obj: &Value,
    mut status: Value,
    st: &str,
    reason: &str,
    message: String,
) {
    let now = now_rfc3339();
    status["conditions"] =
        json!([{"type": "Succeeded", "status": st, "reason": reason, "message": message, "lastTransitionTime": now}]);
    status["completionTime"] = json!(now);
    set_status(s, res, obj, status);
    if let Some(cur) = s.get(res, &ns_of(obj), name_of(obj)).cloned() {
        let kind = if st == "True" { "Normal" } else { "Warning" };
        emit(s, ids, &cur, kind, reason, &message);
    }
}

fn pipeline_spec(s: &State, ids: &Ids, ns: &str, pr: &Value) -> Result<(Value, String), String> {
    if let Some(spec) = pr.at("/spec/pipelineSpec") {
        return Ok((spec.clone(), name_of(pr).to_string()));
    }
    let name = pr.at("/spec/pipelineRef/name").and_then(Value::as_str).unwrap_or("");
    s.get(ids.pipeline, ns, name)
        .and_then(|p| p.get("spec").cloned())
        .map(|spec| (spec, name.to_string()))
        .ok_or_else(|| {
            format!(
                "Error retrieving pipeline for pipelinerun {ns}/{}: pipelines.tekton.dev \"{name}\" not found",
                name_of(pr)
            )
        })
}

fn tasks_of(spec: &Value, key: &str) -> Vec<Value> {
    spec.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn tname(t: &Value) -> &str {
    t.get("name").and_then(Value::as_str).unwrap_or("task")
}

/// The tasks a task waits for: `runAfter` and the tasks whose results it uses.
fn parents(t: &Value) -> Vec<String> {
    let mut p: Vec<String> = t
        .get("runAfter")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    for r in subst::result_refs(&json!([t.get("params"), t.get("when")])) {
        if !p.contains(&r) {
            p.push(r);
        }
    }
    p
}

fn state_of(tr: Option<&Value>) -> Tk {
    let Some(tr) = tr else {
        return Tk::NotStarted;
    };
    match (
        tr.at("/status/conditions/0/status").and_then(Value::as_str),
        tr.at("/status/conditions/0/reason").and_then(Value::as_str),
    ) {
        (Some("True"), _) => Tk::Succeeded,
        (Some("False"), Some("TaskRunCancelled")) => Tk::Cancelled,
        (Some("False"), _) => Tk::Failed,
        _ => Tk::Running,
    }
}

/// A run's time limit (`None`: none; Tekton's hour when not set), how
/// long it has run, and whether its time is up.
fn clock(status: &Value, timeout: Option<&str>) -> (Option<Duration>, u64, bool) {
    let limit = match timeout {
        Some(t) => subst::go_duration(t).filter(|d| !d.is_zero()),
        None => Some(Duration::from_secs(3600)),
    };
    let ran = status
        .get("startTime")
        .and_then(Value::as_str)
        .and_then(ms_since)
        .unwrap_or(0);
    (limit, ran, limit.is_some_and(|t| ran >= t.as_millis() as u64))
}

pub(super) fn pipelinerun(s: &mut State, ids: &Ids, _cfg: &crate::cluster::SimConfig, pr: &Value, cx: &mut Ctx) {
    let Some((ns, prname, now, mut status)) = open_run(pr) else {
        return;
    };
    let spec_status = pr.at("/spec/status").and_then(Value::as_str).unwrap_or("").to_string();
    if spec_status == "PipelineRunPending" {
        status["conditions"] = json!([{"type": "Succeeded", "status": "Unknown", "reason": "PipelineRunPending", "message": format!("PipelineRun \"{prname}\" is pending"), "lastTransitionTime": now}]);
        return set_status(s, ids.pr, pr, status);
    }
    // Cancelled before anything ran: it ends there, whatever its spec (Tekton
    // looks at cancellation before it resolves the pipeline).
    let cancelled_now = matches!(spec_status.as_str(), "Cancelled" | "PipelineRunCancelled")
        && status
            .get("childReferences")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
    if cancelled_now {
        let msg = format!("PipelineRun \"{prname}\" was cancelled");
        return end_run(s, ids, ids.pr, pr, status, "False", "Cancelled", msg);
    }
    let (spec, pipeline) = match pipeline_spec(s, ids, &ns, pr) {
        Ok(x) => x,
        Err(msg) => return end_run(s, ids, ids.pr, pr, status, "False", "CouldntGetPipeline", msg),
    };
    status["pipelineSpec"] = spec.clone();
    let mut params = subst::param_list(spec.get("params"));
    let given = subst::param_list(pr.at("/spec/params"));
    let declared: Vec<String> = spec
        .get("params")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    let missing: Vec<&String> = declared
        .iter()
        .filter(|d| !params.contains_key(*d) && !given.contains_key(*d))
        .collect();
    if !missing.is_empty() {
        let list = missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
        return end_run(
            s,
            ids,
            ids.pr,
            pr,
            status,
            "False",
            "ParameterMissing",
            format!(
                "PipelineRun {ns}/{prname} parameters is missing some parameters required by Pipeline {pipeline}'s parameters: pipelineRun missing parameters: [{list}]"
            ),
        );
    }
    params.extend(given);
    let dag = tasks_of(&spec, "tasks");
    let fin = tasks_of(&spec, "finally");
    let (timeout, started_ms, timed_out) = clock(&status, pr.at("/spec/timeouts/pipeline").and_then(Value::as_str));
    // What each task did so far; skipped tasks stay skipped.
    let mut skipped: BTreeMap<String, String> = status
        .get("skippedTasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                t.get("name")?.as_str()?.to_string(),
                t.get("reason")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let mut states: BTreeMap<String, Tk> = BTreeMap::new();
    let mut vars = Vars::new();
    subst::add_params(&mut vars, &params);
    vars.insert("context.pipelineRun.name".into(), prname.clone());
    vars.insert("context.pipelineRun.namespace".into(), ns.clone());
    vars.insert("context.pipeline.name".into(), pipeline.clone());
    for t in dag.iter().chain(&fin) {
        let n = tname(t).to_string();
        let tr = s.get(ids.tr, &ns, &format!("{prname}-{n}")).cloned();
        for r in tr
            .as_ref()
            .and_then(|v| v.at("/status/results"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(rn), Some(rv)) = (
                r.get("name").and_then(Value::as_str),
                r.get("value").and_then(Value::as_str),
            ) {
                vars.insert(format!("tasks.{n}.results.{rn}"), rv.to_string());
            }
        }
        let st = match skipped.get(&n) {
            Some(reason) => Tk::Skipped(reason.clone()),
            None => state_of(tr.as_deref()),
        };
        states.insert(n, st);
    }
    let dag_names: Vec<String> = dag.iter().map(|t| tname(t).to_string()).collect();
    let failed_dag = dag_names
        .iter()
        .any(|n| matches!(states[n], Tk::Failed | Tk::Cancelled));
    let cancel_all = spec_status == "Cancelled" || spec_status == "PipelineRunCancelled" || timed_out;
    let cancel_dag = cancel_all || spec_status == "CancelledRunFinally";
    let stopping = failed_dag || cancel_dag || spec_status == "StoppedRunFinally";
    let cancel_message = if timed_out {
        "TaskRun cancelled as the PipelineRun it belongs to has timed out."
    } else {
        "TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
    };
    let cancel = |s: &mut State, n: &str| {
        if let Some(tr) = s.get(ids.tr, &ns, &format!("{prname}-{n}")).cloned()
            && tr.at("/spec/status").is_none()
        {
            let mut v = (*tr).clone();
            v["spec"]["status"] = json!("TaskRunCancelled");
            v["spec"]["statusMessage"] = json!(cancel_message);
            s.put(ids.tr, &ns, v);
        }
    };
    for n in &dag_names {
        if states[n] == Tk::Running && cancel_dag {
            cancel(s, n);
        }
    }
    // Start the DAG tasks whose parents are done.
    let mut children_changed = false;
    let skip_reason = if timed_out {
        "PipelineRun timeout has been reached"
    } else if spec_status == "CancelledRunFinally" || cancel_all {
        "PipelineRun was gracefully cancelled"
    } else {
        "PipelineRun was stopping"
    };
    loop {
        let mut progressed = false;
        for t in &dag {
            let n = tname(t).to_string();
            if states[&n] != Tk::NotStarted {
                continue;
            }
            let ps = parents(t);
            if stopping {
                let no_running = dag_names.iter().all(|d| states[d] != Tk::Running);
                if no_running
                    || ps.iter().any(|p| {
                        states
                            .get(p)
                            .is_some_and(|x| !matches!(x, Tk::Succeeded | Tk::Skipped(_)))
                    })
                {
                    skipped.insert(n.clone(), skip_reason.into());
                    states.insert(n, Tk::Skipped(skip_reason.into()));
                    progressed = true;
                }
                continue;
            }
            if !ps.iter().all(|p| {
                states
                    .get(p)
                    .is_none_or(|x| matches!(x, Tk::Succeeded | Tk::Skipped(_)))
            }) {
                continue;
            }
            let uses_skipped = subst::result_refs(&json!([t.get("params"), t.get("when")]))
                .iter()
                .any(|p| matches!(states.get(p), Some(Tk::Skipped(_))));
            let reason = if uses_skipped {
                Some("Results were missing")
            } else if !subst::when_holds(t.get("when"), &vars) {
                Some("When Expressions evaluated to false")
            } else {
                None
            };
            if let Some(r) = reason {
                skipped.insert(n.clone(), r.into());
                states.insert(n, Tk::Skipped(r.into()));
                progressed = true;
                continue;
            }
            start_task(s, ids, pr, &pipeline, t, &vars, "tasks");
            states.insert(n, Tk::Running);
            children_changed = true;
        }
        if !progressed {
            break;
        }
    }
    let dag_done = dag_names.iter().all(|n| states[n].ended());
    // Finally tasks, once the DAG ended (not when cancelled outright).
    if dag_done && !cancel_all {
        let any_failed = dag_names
            .iter()
            .any(|n| matches!(states[n], Tk::Failed | Tk::Cancelled));
        vars.insert(
            "tasks.status".into(),
            if any_failed { "Failed" } else { "Succeeded" }.into(),
        );
        for n in &dag_names {
            vars.insert(format!("tasks.{n}.status"), states[n].word().into());
        }
        for t in &fin {
            let n = tname(t).to_string();
            if states[&n] != Tk::NotStarted {
                continue;
            }
            if !subst::when_holds(t.get("when"), &vars) {
                skipped.insert(n.clone(), "When Expressions evaluated to false".into());
                states.insert(n, Tk::Skipped("When Expressions evaluated to false".into()));
                continue;
            }
            start_task(s, ids, pr, &pipeline, t, &vars, "finally");
            states.insert(n, Tk::Running);
            children_changed = true;
        }
    } else if cancel_all {
        for t in &fin {
            let n = tname(t).to_string();
            if states[&n] == Tk::Running {
                cancel(s, &n);
            } else if states[&n] == Tk::NotStarted {
                skipped.insert(n.clone(), skip_reason.into());
                states.insert(n, Tk::Skipped(skip_reason.into()));
            }
        }
    }
    let all_done = states.values().all(Tk::ended);
    let count = |f: &dyn Fn(&Tk) -> bool| states.values().filter(|x| f(x)).count();
    let done = count(&|x| matches!(x, Tk::Succeeded | Tk::Failed));
    let failed = count(&|x| *x == Tk::Failed);
    let cancelled = count(&|x| *x == Tk::Cancelled);
    let skipped_n = count(&|x| matches!(x, Tk::Skipped(_)));
    let incomplete = count(&|x| !x.ended());
    let tally = format!("Tasks Completed: {done} (Failed: {failed}, Cancelled {cancelled}), Skipped: {skipped_n}");
    let (st, reason, message) = if !all_done {
        let reason = match spec_status.as_str() {
            "CancelledRunFinally" => "CancelledRunningFinally",
            "StoppedRunFinally" => "StoppedRunningFinally",
            _ => "Running",
        };
        (
            "Unknown",
            reason,
            format!(
                "Tasks Completed: {done} (Failed: {failed}, Cancelled {cancelled}), Incomplete: {incomplete}, Skipped: {skipped_n}"
            ),
        )
    } else if timed_out {
        let t = subst::go_duration_string(timeout.unwrap_or_default());
        (
            "False",
            "PipelineRunTimeout",
            format!("PipelineRun \"{prname}\" failed to finish within \"{t}\""),
        )
    } else if cancel_dag || (spec_status == "StoppedRunFinally" && !failed_dag) {
        ("False", "Cancelled", format!("PipelineRun \"{prname}\" was cancelled"))
    } else if failed > 0 || cancelled > 0 {
        ("False", "Failed", tally)
    } else if skipped_n > 0 {
        ("True", "Completed", tally)
    } else {
        ("True", "Succeeded", tally)
    };
    let children: Vec<Value> = dag
        .iter()
        .chain(&fin)
        .filter(|t| {
            matches!(
                states[tname(t)],
                Tk::Running | Tk::Succeeded | Tk::Failed | Tk::Cancelled
            )
        })
        .map(|t| {
            json!({"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": format!("{prname}-{}", tname(t)),
                   "pipelineTaskName": tname(t)})
        })
        .collect();
    status["childReferences"] = json!(children);
    let skipped_list: Vec<Value> = dag
        .iter()
        .chain(&fin)
        .filter_map(|t| {
            skipped
                .get(tname(t))
                .map(|r| json!({"name": tname(t), "reason": r, "whenExpressions": t.get("when")}))
        })
        .collect();
    if skipped_list.is_empty() {
        if let Some(o) = status.as_object_mut() {
            o.remove("skippedTasks");
        }
    } else {
        status["skippedTasks"] = json!(skipped_list);
    }
    if all_done && st == "True" {
        let results: Vec<Value> = spec
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let v = subst::substitute(r.get("value").and_then(Value::as_str)?, &vars);
                (!v.contains("$(")).then(|| json!({"name": r.get("name"), "value": v}))
            })
            .collect();
        if !results.is_empty() {
            status["results"] = json!(results);
        }
    }
    let old_reason = status
        .at("/conditions/0/reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let old_message = status
        .at("/conditions/0/message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if old_reason != reason || old_message != message {
        let transition = if old_reason == reason {
            status
                .at("/conditions/0/lastTransitionTime")
                .cloned()
                .unwrap_or(json!(now))
        } else {
            json!(now)
        };
        status["conditions"] = json!([{"type": "Succeeded", "status": st, "reason": reason, "message": message, "lastTransitionTime": transition}]);
    }
    if all_done {
        status["completionTime"] = json!(now);
    } else if let Some(t) = timeout {
        cx.later.push((
            Instant::now() + t.saturating_sub(Duration::from_millis(started_ms)) + Duration::from_millis(20),
            (ids.pr, ns.clone(), prname.clone()),
        ));
    }
    let _ = children_changed;
    set_status(s, ids.pr, pr, status);
    if all_done && let Some(cur) = s.get(ids.pr, &ns, &prname).cloned() {
        let kind = if st == "True" { "Normal" } else { "Warning" };
        emit(s, ids, &cur, kind, reason, &message);
    }
}

/// Creates a pipeline task's TaskRun, params substituted, labelled as
/// Tekton labels them (the run's own labels carried over).
fn start_task(s: &mut State, ids: &Ids, pr: &Value, pipeline: &str, t: &Value, vars: &Vars, member_of: &str) {
    let ns = ns_of(pr);
    let prname = name_of(pr);
    let n = tname(t);
    let mut labels = labels_of(pr);
    labels.insert("tekton.dev/pipelineRun".into(), prname.to_string());
    labels.insert("tekton.dev/pipelineTask".into(), n.to_string());
    labels.insert("tekton.dev/pipeline".into(), pipeline.to_string());
    labels.insert("tekton.dev/memberOf".into(), member_of.to_string());
    if let Some(task) = t.at("/taskRef/name").and_then(Value::as_str) {
        labels.insert("tekton.dev/task".into(), task.to_string());
    }
    let mut spec = json!({"params": subst::substitute_value(&t.get("params").cloned().unwrap_or(json!([])), vars),
                          "serviceAccountName": pr.at("/spec/taskRunTemplate/serviceAccountName").cloned().unwrap_or(json!("default"))});
    match (t.get("taskRef"), t.get("taskSpec")) {
        (Some(r), _) => spec["taskRef"] = json!({"name": r.get("name"), "kind": "Task"}),
        (None, Some(ts)) => spec["taskSpec"] = ts.clone(),
        (None, None) => spec["taskSpec"] = json!({"steps": []}),
    }
    if let Some(tt) = t.get("timeout").or_else(|| pr.at("/spec/timeouts/tasks")) {
        spec["timeout"] = tt.clone();
    }
    let tr = json!({
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": format!("{prname}-{n}"), "namespace": ns, "ownerReferences": [owner_ref(pr, true)],
                     "labels": labels, "annotations": pr.at("/metadata/annotations").cloned().unwrap_or(json!({}))},
        "spec": spec,
    });
    s.put(ids.tr, &ns, tr);
}
