//! Builds read on demand: a space's runs, one run's task tree (from its
//! `childReferences`, with skipped tasks, steps and results), and a run's
//! step logs in order, task by task and step by step, as `tkn pr logs -f`
//! prints them.

use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DynamicObject, ListParams, LogParams};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::client::{Problem, describe};
use super::gateway::Gateway;
use super::live::views::{BuildView, TaskRunView, build_view, task_run_view};
use kdeck_model::Cluster;

/// One pipeline task of a run: its TaskRun once started.
#[derive(Debug, Clone, Serialize)]
pub struct TaskDetail {
    pub task: String,
    pub task_run: Option<TaskRunView>,
    /// Its results, `name = value`.
    pub results: Vec<(String, String)>,
    /// A `finally` task.
    pub finally: bool,
}

/// A run with its task tree.
#[derive(Debug, Clone, Serialize)]
pub struct RunDetail {
    pub cluster: String,
    pub run: BuildView,
    pub tasks: Vec<TaskDetail>,
    /// Tasks that did not run, with Tekton's reason.
    pub skipped: Vec<(String, String)>,
    pub results: Vec<(String, String)>,
}

fn pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    let n = r.get("name")?.as_str()?;
                    let v = match r.get("value")? {
                        Value::String(s) => s.clone(),
                        o => o.to_string(),
                    };
                    Some((n.to_string(), v))
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn apis(gw: &Gateway, cluster: &Cluster, ns: &str) -> Result<(Api<DynamicObject>, Api<DynamicObject>), Problem> {
    Ok((
        gw.api(cluster, "PipelineRun", ns).await?.0,
        gw.api(cluster, "TaskRun", ns).await?.0,
    ))
}

/// A space's runs (all namespaces when `ns` is empty), newest first;
/// only an app's when `app` is given.
pub async fn list(gw: &Gateway, cluster: &Cluster, ns: &str, app: Option<&str>) -> Result<Vec<BuildView>, Problem> {
    let (ar, _) = crate::kinds::resource("PipelineRun").ok_or_else(|| Problem {
        cluster: cluster.name.clone(),
        kind: crate::ProblemKind::Other,
        message: "kdeck does not know PipelineRuns".into(),
        code: None,
    })?;
    let client = gw.client(cluster).await?;
    let api: Api<DynamicObject> = if ns.is_empty() {
        Api::all_with(client, &ar)
    } else {
        Api::namespaced_with(client, ns, &ar)
    };
    let mut lp = ListParams::default();
    if let Some(a) = app {
        lp = lp.labels(&format!("{}={a}", super::live::views::BUILD_APP_LABEL));
    }
    let list = api
        .list(&lp)
        .await
        .map_err(|e| describe(cluster, "list pipelineruns", &e))?;
    let mut out: Vec<BuildView> = list.items.iter().map(build_view).collect();
    out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// One run with its task tree; `None` when there is no such run.
pub async fn detail(gw: &Gateway, cluster: &Cluster, ns: &str, name: &str) -> Result<Option<RunDetail>, Problem> {
    let (prs, trs) = apis(gw, cluster, ns).await?;
    let Some(pr) = prs
        .get_opt(name)
        .await
        .map_err(|e| describe(cluster, "get pipelineruns", &e))?
    else {
        return Ok(None);
    };
    let status = pr.data.get("status").cloned().unwrap_or(Value::Null);
    let spec = status
        .get("pipelineSpec")
        .cloned()
        .unwrap_or_else(|| pr.data.pointer("/spec/pipelineSpec").cloned().unwrap_or(Value::Null));
    let children: Vec<(String, String)> = status
        .get("childReferences")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    Some((
                        c.get("pipelineTaskName")?.as_str()?.to_string(),
                        c.get("name")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let declared = |key: &str| -> Vec<String> {
        spec.get(key)
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (dag, fin) = (declared("tasks"), declared("finally"));
    let mut order: Vec<(String, bool)> = dag.iter().map(|t| (t.clone(), false)).collect();
    order.extend(fin.iter().map(|t| (t.clone(), true)));
    // Children the spec does not list (a run kdeck cannot read the spec of).
    for (t, _) in &children {
        if !order.iter().any(|(o, _)| o == t) {
            order.push((t.clone(), false));
        }
    }
    let skipped: Vec<(String, String)> = status
        .get("skippedTasks")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| {
                    Some((
                        s.get("name")?.as_str()?.to_string(),
                        s.get("reason").and_then(Value::as_str).unwrap_or("skipped").to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut tasks = Vec::new();
    for (task, finally) in order {
        let tr = match children.iter().find(|(t, _)| *t == task) {
            Some((_, trname)) => trs
                .get_opt(trname)
                .await
                .map_err(|e| describe(cluster, "get taskruns", &e))?,
            None => None,
        };
        tasks.push(TaskDetail {
            task,
            results: pairs(tr.as_ref().and_then(|t| t.data.pointer("/status/results"))),
            task_run: tr.as_ref().map(task_run_view),
            finally,
        });
    }
    Ok(Some(RunDetail {
        cluster: cluster.name.clone(),
        run: build_view(&pr),
        tasks,
        skipped,
        results: pairs(status.get("results")),
    }))
}

impl RunDetail {
    /// The first step that failed: task, step, exit code, and its TaskRun's message.
    pub fn failing_step(&self) -> Option<(String, String, i32, String)> {
        self.tasks.iter().find_map(|t| {
            let tr = t.task_run.as_ref()?;
            let s = tr.failed_step()?;
            Some((
                t.task.clone(),
                s.name.clone(),
                s.exit_code.unwrap_or(1),
                tr.message.clone(),
            ))
        })
    }
}

/// Why a run failed, in one line: the failing task and step, its exit code,
/// and the last line it printed (or its TaskRun's message when the logs
/// are gone). `None` when no step failed (cancelled, timed out, unresolved).
pub async fn failure(gw: &Gateway, cluster: &Cluster, d: &RunDetail) -> Option<String> {
    let (task, step, code, message) = d.failing_step()?;
    let tr = d.tasks.iter().find(|t| t.task == task)?.task_run.as_ref()?;
    let container = tr.steps.iter().find(|s| s.name == step).map(|s| s.container.clone());
    let last = match gw.client(cluster).await {
        Ok(client) => {
            let pods: Api<Pod> = Api::namespaced(client, &d.run.namespace);
            let lp = LogParams {
                container,
                tail_lines: Some(1),
                ..LogParams::default()
            };
            pods.logs(&tr.pod, &lp)
                .await
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        }
        Err(_) => None,
    };
    Some(format!(
        "failed at {task}/{step} (exit code {code}): {}",
        last.unwrap_or(message)
    ))
}

/// What a run's log stream carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildLog {
    /// A line a step printed.
    Line { task: String, step: String, text: String },
    /// Something about the stream, in words (a step with no logs, a retry).
    Notice(String),
    /// The run ended (followed) or everything there is was printed: its view.
    Ended(Box<BuildView>),
    /// The run cannot be read: why.
    Failed(String),
}

/// Which steps' logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepFilter {
    pub task: Option<String>,
    pub step: Option<String>,
}

/// Streams a run's step logs in order: each task's steps one after the
/// other, waiting for a step to start when `follow`. Ends with `Ended`.
pub fn logs(
    gw: Gateway,
    cluster: Cluster,
    ns: String,
    run: String,
    filter: StepFilter,
    follow: bool,
) -> mpsc::Receiver<BuildLog> {
    let (tx, rx) = mpsc::channel(1024);
    tokio::spawn(async move {
        if let Err(why) = stream(&gw, &cluster, &ns, &run, &filter, follow, &tx).await {
            let _ = tx.send(BuildLog::Failed(why)).await;
        }
    });
    rx
}

async fn stream(
    gw: &Gateway,
    cluster: &Cluster,
    ns: &str,
    run: &str,
    filter: &StepFilter,
    follow: bool,
    tx: &mpsc::Sender<BuildLog>,
) -> Result<(), String> {
    let pods: Api<Pod> = Api::namespaced(gw.client(cluster).await.map_err(|p| p.message)?, ns);
    // (task, step) pairs printed in full.
    let mut done: Vec<(String, String)> = Vec::new();
    let mut failures = 0;
    loop {
        let d = match detail(gw, cluster, ns, run).await {
            Ok(Some(d)) => d,
            Ok(None) => return Err(format!("no build run {}/{ns}/{run}", cluster.name)),
            Err(p) if failures < 5 => {
                failures += 1;
                let _ = tx.send(BuildLog::Notice(format!("{}; trying again", p.message))).await;
                tokio::time::sleep(Duration::from_millis(500 * failures)).await;
                continue;
            }
            Err(p) => return Err(p.message),
        };
        failures = 0;
        let ended = d.run.state.finished();
        let mut waiting = false;
        'tasks: for t in &d.tasks {
            if filter.task.as_ref().is_some_and(|f| *f != t.task) {
                continue;
            }
            let Some(tr) = &t.task_run else {
                continue;
            };
            if tr.pod.is_empty() || tr.steps.is_empty() {
                if !tr.state.finished() {
                    waiting = true;
                    break 'tasks;
                }
                continue;
            }
            for s in &tr.steps {
                let key = (t.task.clone(), s.name.clone());
                if done.contains(&key) || filter.step.as_ref().is_some_and(|f| *f != s.name) {
                    continue;
                }
                let lp = LogParams {
                    container: Some(s.container.clone()),
                    follow: follow && !s.state.finished(),
                    ..LogParams::default()
                };
                match pods.log_stream(&tr.pod, &lp).await {
                    Ok(reader) => {
                        let mut lines = reader.lines();
                        while let Some(l) = lines.next().await {
                            match l {
                                Ok(text) => {
                                    let line = BuildLog::Line {
                                        task: t.task.clone(),
                                        step: s.name.clone(),
                                        text,
                                    };
                                    if tx.send(line).await.is_err() {
                                        return Ok(());
                                    }
                                }
                                Err(_) => break,
                            }
                        }
                        done.push(key);
                    }
                    Err(kube::Error::Api(e)) if e.code == 404 => {
                        // The pod went (a cancelled run): nothing more to read.
                        let _ = tx
                            .send(BuildLog::Notice(format!(
                                "{} {}: the step's pod {} is gone; its logs went with it",
                                t.task, s.name, tr.pod
                            )))
                            .await;
                        done.push(key);
                    }
                    Err(kube::Error::Api(e)) if e.code == 400 && follow => {
                        // Not started yet: wait for it.
                        waiting = true;
                        break 'tasks;
                    }
                    Err(e) => {
                        let _ = tx
                            .send(BuildLog::Notice(format!(
                                "{} {}: {}",
                                t.task,
                                s.name,
                                describe(cluster, "logs", &e).message
                            )))
                            .await;
                        done.push(key);
                    }
                }
            }
        }
        let all_printed = d
            .tasks
            .iter()
            .filter(|t| filter.task.as_ref().is_none_or(|f| *f == t.task))
            .filter_map(|t| t.task_run.as_ref().map(|tr| (t, tr)))
            .all(|(t, tr)| {
                tr.steps
                    .iter()
                    .filter(|s| filter.step.as_ref().is_none_or(|f| *f == s.name))
                    .all(|s| done.contains(&(t.task.clone(), s.name.clone())))
            });
        if (ended && all_printed && !waiting) || !follow {
            let last = match detail(gw, cluster, ns, run).await {
                Ok(Some(d)) => d.run,
                _ => d.run,
            };
            let _ = tx.send(BuildLog::Ended(Box::new(last))).await;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
