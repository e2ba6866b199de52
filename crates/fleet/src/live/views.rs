//! Compact rows built from Kubernetes objects as they arrive: what the panes
//! show, without the rest of the object (managedFields, specs, statuses the
//! views never read). Pure functions, tested on their own.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, PodSpec, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppView {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub ready: i32,
    pub desired: i32,
    pub image: String,
    pub created: String,
    pub resource_version: String,
    pub labels: BTreeMap<String, String>,
    /// `metadata.generation`: bumped by every change to the spec.
    pub generation: i64,
    /// The generation the controller has acted on.
    pub observed_generation: i64,
    /// Replicas running the current template.
    pub updated: i32,
}

/// Where an app's rollout stands, as `kubectl rollout status` would say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    /// Zero replicas asked for.
    Stopped,
    /// The controller has not caught up with the spec, or old pods remain.
    Rolling {
        updated: i32,
        desired: i32,
    },
    /// Every replica is on the current template but not all are ready.
    Unready {
        ready: i32,
        desired: i32,
    },
    Ready,
}

impl AppView {
    pub fn rollout(&self) -> Rollout {
        if self.desired == 0 {
            Rollout::Stopped
        } else if self.observed_generation < self.generation || self.updated < self.desired {
            Rollout::Rolling {
                updated: self.updated.min(self.desired),
                desired: self.desired,
            }
        } else if self.ready < self.desired {
            Rollout::Unready {
                ready: self.ready,
                desired: self.desired,
            }
        } else {
            Rollout::Ready
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteView {
    pub namespace: String,
    pub ingress: String,
    /// `host[/path]` → backend service.
    pub rules: Vec<(String, String)>,
    pub resource_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    pub namespace: String,
    pub name: String,
    pub ports: Vec<i32>,
    pub resource_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceView {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub terminating: bool,
    pub resource_version: String,
}

/// A pod, as `kubectl get pods` and k9s show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodView {
    pub namespace: String,
    pub name: String,
    /// The app that owns it (through its ReplicaSet for a Deployment).
    pub app: Option<(&'static str, String)>,
    /// The TaskRun that owns it, for build step pods.
    pub task_run: Option<String>,
    pub phase: String,
    /// What `kubectl get pods` prints under STATUS: the phase, or the
    /// reason that matters more (CrashLoopBackOff, Terminating, …).
    pub status: String,
    pub ready: u32,
    pub total: u32,
    pub restarts: u32,
    pub containers: Vec<String>,
    pub node: String,
    pub created: String,
    pub resource_version: String,
}

/// Where a build (or one of its tasks or steps) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl BuildState {
    pub fn word(self) -> &'static str {
        match self {
            BuildState::Pending => "pending",
            BuildState::Running => "running",
            BuildState::Succeeded => "succeeded",
            BuildState::Failed => "failed",
            BuildState::Cancelled => "cancelled",
        }
    }
    pub fn finished(self) -> bool {
        matches!(self, BuildState::Succeeded | BuildState::Failed | BuildState::Cancelled)
    }
}

/// The label naming the app a build run builds. Not `app.kubernetes.io/name`:
/// Tekton copies a run's labels onto its pods, which would then match the
/// app's own selector (its Service would send them traffic).
pub const BUILD_APP_LABEL: &str = "kdeck.dev/app";

/// A Tekton PipelineRun.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildView {
    pub namespace: String,
    pub name: String,
    pub pipeline: String,
    /// The app it builds ([`BUILD_APP_LABEL`]), when labelled.
    pub app: Option<String>,
    pub state: BuildState,
    pub reason: String,
    pub message: String,
    pub started: String,
    pub finished: String,
    pub created: String,
    pub resource_version: String,
    /// What started it: `manual`, `webhook` (a Triggers EventListener), or "".
    pub trigger: String,
    /// The revision asked for (branch, tag or commit), when known.
    pub revision: String,
    /// The commit built (the run's `commit` result), when known.
    pub commit: String,
    /// The image pushed (`IMAGE_URL@IMAGE_DIGEST` results), when known.
    pub image: String,
    /// The pipeline's tasks in order, then its finally tasks (from the
    /// spec Tekton copies into the status), when known.
    pub tasks: Vec<String>,
    pub finally: Vec<String>,
    /// Tasks that did not run, with Tekton's reason.
    pub skipped: Vec<(String, String)>,
}

/// One step of a TaskRun: a container of its pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepView {
    pub name: String,
    pub container: String,
    pub state: BuildState,
    pub exit_code: Option<i32>,
    pub reason: String,
    pub started: String,
    pub finished: String,
}

/// A Tekton TaskRun, with its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskRunView {
    pub namespace: String,
    pub name: String,
    pub pipeline_run: Option<String>,
    pub task: String,
    pub state: BuildState,
    pub reason: String,
    pub message: String,
    pub pod: String,
    pub steps: Vec<StepView>,
    pub started: String,
    pub finished: String,
    pub resource_version: String,
}

impl TaskRunView {
    /// The first step that exited non-zero.
    pub fn failed_step(&self) -> Option<&StepView> {
        self.steps.iter().find(|s| s.exit_code.is_some_and(|c| c != 0))
    }
}

pub(crate) fn created(m: &ObjectMeta) -> String {
    m.creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .unwrap_or_default()
}

fn ns_name_rv(m: &ObjectMeta) -> (String, String, String) {
    (
        m.namespace.clone().unwrap_or_default(),
        m.name.clone().unwrap_or_default(),
        m.resource_version.clone().unwrap_or_default(),
    )
}

/// What Deployment and StatefulSet status have alike.
struct Counts {
    desired: Option<i32>,
    ready: Option<i32>,
    updated: Option<i32>,
    observed_generation: Option<i64>,
}

/// An app row from what Deployments and StatefulSets have alike.
fn app_view(kind: &'static str, meta: &ObjectMeta, n: Counts, pod: Option<&PodSpec>) -> AppView {
    let (namespace, name, resource_version) = ns_name_rv(meta);
    AppView {
        kind,
        namespace,
        name,
        ready: n.ready.unwrap_or(0),
        desired: n.desired.unwrap_or(1),
        generation: meta.generation.unwrap_or(0),
        observed_generation: n.observed_generation.unwrap_or(0),
        updated: n.updated.unwrap_or(0),
        image: pod
            .and_then(|p| p.containers.first())
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        created: created(meta),
        resource_version,
        labels: meta.labels.clone().unwrap_or_default(),
    }
}

pub fn deployment_view(d: &Deployment) -> AppView {
    let st = d.status.as_ref();
    let n = Counts {
        desired: d.spec.replicas,
        ready: st.and_then(|s| s.ready_replicas),
        updated: st.and_then(|s| s.updated_replicas),
        observed_generation: st.and_then(|s| s.observed_generation),
    };
    app_view("Deployment", &d.metadata, n, d.spec.template.spec.as_ref())
}

pub fn statefulset_view(s: &StatefulSet) -> AppView {
    let st = s.status.as_ref();
    let n = Counts {
        desired: s.spec.replicas,
        ready: st.and_then(|s| s.ready_replicas),
        updated: st.and_then(|s| s.updated_replicas),
        observed_generation: st.and_then(|s| s.observed_generation),
    };
    app_view("StatefulSet", &s.metadata, n, s.spec.template.spec.as_ref())
}

pub fn service_view(s: &Service) -> ServiceView {
    let (namespace, name, resource_version) = ns_name_rv(&s.metadata);
    ServiceView {
        namespace,
        name,
        ports: s
            .spec
            .as_ref()
            .and_then(|sp| sp.ports.as_ref())
            .map(|ps| ps.iter().map(|p| p.port).collect())
            .unwrap_or_default(),
        resource_version,
    }
}

pub fn route_view(i: &Ingress) -> RouteView {
    let (namespace, ingress, resource_version) = ns_name_rv(&i.metadata);
    let mut rules = Vec::new();
    for r in i.spec.as_ref().and_then(|s| s.rules.as_ref()).into_iter().flatten() {
        let host = r.host.clone().unwrap_or_else(|| "*".into());
        for p in r.http.as_ref().map(|h| h.paths.as_slice()).unwrap_or_default() {
            let path = p.path.as_deref().filter(|p| *p != "/").unwrap_or("");
            let svc = p.backend.service.as_ref().map(|s| s.name.clone()).unwrap_or_default();
            rules.push((format!("{host}{path}"), svc));
        }
    }
    RouteView {
        namespace,
        ingress,
        rules,
        resource_version,
    }
}

pub fn namespace_view(m: &ObjectMeta) -> NamespaceView {
    NamespaceView {
        name: m.name.clone().unwrap_or_default(),
        labels: m.labels.clone().unwrap_or_default(),
        terminating: m.deletion_timestamp.is_some(),
        resource_version: m.resource_version.clone().unwrap_or_default(),
    }
}

pub fn pod_view(p: &Pod) -> PodView {
    let m = &p.metadata;
    let (namespace, name, resource_version) = ns_name_rv(m);
    let owner = m
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .or_else(|| m.owner_references.as_ref().and_then(|os| os.first()));
    let labels = m.labels.as_ref();
    let app = owner.and_then(|o| match o.kind.as_str() {
        // A ReplicaSet is named `<deployment>-<pod-template-hash>`.
        "ReplicaSet" => {
            let hash = labels.and_then(|l| l.get("pod-template-hash"));
            let base = match hash {
                Some(h) => o.name.strip_suffix(h.as_str()).and_then(|b| b.strip_suffix('-')),
                None => o.name.rsplit_once('-').map(|(b, _)| b),
            };
            base.map(|b| ("Deployment", b.to_string()))
        }
        "StatefulSet" => Some(("StatefulSet", o.name.clone())),
        _ => None,
    });
    let task_run = labels
        .and_then(|l| l.get("tekton.dev/taskRun"))
        .cloned()
        .or_else(|| owner.filter(|o| o.kind == "TaskRun").map(|o| o.name.clone()));
    let spec = p.spec.as_ref();
    let status = p.status.as_ref();
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into());
    let statuses = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    let ready = statuses.iter().filter(|c| c.ready).count() as u32;
    let restarts = statuses
        .iter()
        .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
        .sum();
    let containers: Vec<String> = spec
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    // The STATUS column, the way kubectl works it out: a waiting or
    // terminated container's reason beats the phase, deletion beats all.
    let mut shown = status.and_then(|s| s.reason.clone()).unwrap_or_else(|| phase.clone());
    let init = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let mut in_init = false;
    for (i, c) in init.iter().enumerate() {
        let st = c.state.as_ref();
        if let Some(t) = st.and_then(|s| s.terminated.as_ref()) {
            if t.exit_code == 0 {
                continue;
            }
            shown = format!("Init:{}", t.reason.clone().unwrap_or_else(|| "Error".into()));
        } else if let Some(r) = st.and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_ref()) {
            shown = if r == "PodInitializing" {
                format!("Init:{i}/{}", init.len())
            } else {
                format!("Init:{r}")
            };
        } else {
            shown = format!("Init:{i}/{}", init.len());
        }
        in_init = true;
        break;
    }
    if !in_init {
        for c in statuses.iter().rev() {
            let st = c.state.as_ref();
            if let Some(r) = st.and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_ref()) {
                shown = r.clone();
            } else if let Some(t) = st.and_then(|s| s.terminated.as_ref()) {
                shown = t.reason.clone().unwrap_or_else(|| {
                    if t.exit_code == 0 {
                        "Completed".into()
                    } else {
                        format!("ExitCode:{}", t.exit_code)
                    }
                });
            }
        }
    }
    if m.deletion_timestamp.is_some() {
        shown = "Terminating".into();
    }
    PodView {
        namespace,
        name,
        app,
        task_run,
        phase,
        status: shown,
        ready,
        total: containers.len() as u32,
        restarts,
        containers,
        node: spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        created: created(m),
        resource_version,
    }
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A Tekton object's standing, from its `Succeeded` condition.
fn tekton_state(status: &Value) -> (BuildState, String, String) {
    let cond = status.get("conditions").and_then(Value::as_array).and_then(|cs| {
        cs.iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some("Succeeded"))
    });
    let Some(c) = cond else {
        return (BuildState::Pending, String::new(), String::new());
    };
    let reason = text(c, "/reason");
    let message = text(c, "/message");
    let state = match c.get("status").and_then(Value::as_str) {
        Some("True") => BuildState::Succeeded,
        Some("False") if reason.contains("Cancelled") => BuildState::Cancelled,
        Some("False") => BuildState::Failed,
        _ if reason == "Pending" || reason.is_empty() => BuildState::Pending,
        _ => BuildState::Running,
    };
    (state, reason, message)
}

pub fn build_view(pr: &DynamicObject) -> BuildView {
    let m = &pr.metadata;
    let (namespace, name, resource_version) = ns_name_rv(m);
    let labels = m.labels.as_ref();
    let status = pr.data.get("status").cloned().unwrap_or(Value::Null);
    let (state, reason, message) = tekton_state(&status);
    let pipeline = labels
        .and_then(|l| l.get("tekton.dev/pipeline"))
        .cloned()
        .unwrap_or_else(|| text(&pr.data, "/spec/pipelineRef/name"));
    BuildView {
        namespace,
        name,
        pipeline,
        app: labels.and_then(|l| l.get(BUILD_APP_LABEL)).cloned(),
        state,
        reason,
        message,
        started: text(&status, "/startTime"),
        finished: text(&status, "/completionTime"),
        created: created(m),
        resource_version,
        trigger: match labels {
            Some(l) if l.contains_key("triggers.tekton.dev/eventlistener") => "webhook".into(),
            Some(l) => l.get("kdeck.dev/trigger").cloned().unwrap_or_default(),
            None => String::new(),
        },
        revision: m
            .annotations
            .as_ref()
            .and_then(|a| a.get("kdeck.dev/revision"))
            .cloned()
            .or_else(|| named(pr.data.pointer("/spec/params"), "revision"))
            .unwrap_or_default(),
        commit: named(status.get("results"), "commit").unwrap_or_default(),
        image: match (
            named(status.get("results"), "IMAGE_URL"),
            named(status.get("results"), "IMAGE_DIGEST"),
        ) {
            (Some(u), Some(d)) => format!("{u}@{d}"),
            _ => String::new(),
        },
        tasks: names(status.pointer("/pipelineSpec/tasks"), "name"),
        finally: names(status.pointer("/pipelineSpec/finally"), "name"),
        skipped: status
            .get("skippedTasks")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|s| (text(s, "/name"), text(s, "/reason"))).collect())
            .unwrap_or_default(),
    }
}

fn names(list: Option<&Value>, key: &str) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get(key)?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The value of the entry named `name` in a list of `{name, value}`
/// (Tekton's params and results).
fn named(list: Option<&Value>, name: &str) -> Option<String> {
    list?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?
        .get("value")?
        .as_str()
        .map(str::to_string)
}

pub fn task_run_view(tr: &DynamicObject) -> TaskRunView {
    let m = &tr.metadata;
    let (namespace, name, resource_version) = ns_name_rv(m);
    let labels = m.labels.as_ref();
    let status = tr.data.get("status").cloned().unwrap_or(Value::Null);
    let (state, reason, message) = tekton_state(&status);
    let steps = status
        .get("steps")
        .and_then(Value::as_array)
        .map(|ss| {
            ss.iter()
                .map(|s| {
                    let exit_code = s
                        .pointer("/terminated/exitCode")
                        .and_then(Value::as_i64)
                        .and_then(|c| i32::try_from(c).ok());
                    let state = match exit_code {
                        Some(0) => BuildState::Succeeded,
                        Some(_) if text(s, "/terminated/reason").contains("Cancelled") => BuildState::Cancelled,
                        Some(_) if text(s, "/terminated/reason") == "Skipped" => BuildState::Cancelled,
                        Some(_) => BuildState::Failed,
                        None if s.get("running").is_some() => BuildState::Running,
                        None => BuildState::Pending,
                    };
                    let reason = match text(s, "/terminated/reason") {
                        r if !r.is_empty() => r,
                        _ => text(s, "/waiting/reason"),
                    };
                    let name = text(s, "/name");
                    let container = match text(s, "/container") {
                        c if !c.is_empty() => c,
                        _ => format!("step-{name}"),
                    };
                    StepView {
                        name,
                        container,
                        state,
                        exit_code,
                        reason,
                        started: text(s, "/terminated/startedAt"),
                        finished: text(s, "/terminated/finishedAt"),
                    }
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    // Steps run one at a time: after the running one, the others wait.
    let mut steps = steps;
    let mut seen_running = false;
    for s in &mut steps {
        if s.state == BuildState::Running {
            if seen_running {
                s.state = BuildState::Pending;
            }
            seen_running = true;
        }
    }
    TaskRunView {
        namespace,
        name,
        pipeline_run: labels.and_then(|l| l.get("tekton.dev/pipelineRun")).cloned(),
        task: labels
            .and_then(|l| l.get("tekton.dev/pipelineTask"))
            .or_else(|| labels.and_then(|l| l.get("tekton.dev/task")))
            .cloned()
            .unwrap_or_default(),
        state,
        reason,
        message,
        pod: text(&status, "/podName"),
        steps,
        started: text(&status, "/startTime"),
        finished: text(&status, "/completionTime"),
        resource_version,
    }
}

#[cfg(test)]
#[path = "views_tests.rs"]
mod tests;
