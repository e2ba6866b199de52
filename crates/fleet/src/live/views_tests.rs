use super::*;
use serde_json::json;

fn pod(v: Value) -> PodView {
    pod_view(&serde_json::from_value(v).unwrap())
}

#[test]
fn a_pod_names_its_app_and_the_status_kubectl_shows() {
    let p = pod(json!({
        "metadata": {"name": "web-7d9f8c6b5-x2x4z", "namespace": "shop",
                     "labels": {"pod-template-hash": "7d9f8c6b5"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8c6b5",
                                          "uid": "u", "controller": true}]},
        "spec": {"nodeName": "n1", "containers": [{"name": "web"}, {"name": "sidecar"}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "web", "ready": true, "restartCount": 2, "image": "i", "imageID": "",
             "state": {"running": {}}},
            {"name": "sidecar", "ready": false, "restartCount": 5, "image": "i", "imageID": "",
             "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    }));
    assert_eq!(p.app, Some(("Deployment", "web".to_string())));
    assert_eq!((p.ready, p.total, p.restarts), (1, 2, 7));
    assert_eq!(p.status, "CrashLoopBackOff");
    assert_eq!(p.phase, "Running");
    assert_eq!(p.node, "n1");

    let s = pod(json!({
        "metadata": {"name": "db-0", "namespace": "shop", "deletionTimestamp": "2026-11-22T00:00:00Z",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "u", "controller": true}]},
        "spec": {"containers": [{"name": "db"}]},
        "status": {"phase": "Running"}
    }));
    assert_eq!(s.app, Some(("StatefulSet", "db".to_string())));
    assert_eq!(s.status, "Terminating");

    let init = pod(json!({
        "metadata": {"name": "x", "namespace": "shop"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Pending", "initContainerStatuses": [
            {"name": "i", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
             "state": {"waiting": {"reason": "PodInitializing"}}}]}
    }));
    assert_eq!(init.status, "Init:0/1");
    assert_eq!(init.app, None);

    let done = pod(json!({
        "metadata": {"name": "b-pod", "namespace": "ci", "labels": {"tekton.dev/taskRun": "b-build"}},
        "spec": {"containers": [{"name": "step-build"}]},
        "status": {"phase": "Succeeded", "containerStatuses": [
            {"name": "step-build", "ready": false, "restartCount": 0, "image": "i", "imageID": "",
             "state": {"terminated": {"exitCode": 0}}}]}
    }));
    assert_eq!(done.status, "Completed");
    assert_eq!(done.task_run.as_deref(), Some("b-build"));
}

fn dynamic(v: Value) -> DynamicObject {
    serde_json::from_value(v).unwrap()
}

#[test]
fn builds_and_their_failing_step() {
    let b = build_view(&dynamic(json!({
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": "build-web-1", "namespace": "shop",
                     "labels": {"tekton.dev/pipeline": "build", "kdeck.dev/app": "web"}},
        "spec": {"pipelineRef": {"name": "build"}},
        "status": {"startTime": "2026-11-22T01:00:00Z", "completionTime": "2026-11-22T01:02:00Z",
                   "conditions": [{"type": "Succeeded", "status": "False", "reason": "Failed", "message": "Tasks Completed: failed"}]}
    })));
    assert_eq!(b.state, BuildState::Failed);
    assert_eq!((b.pipeline.as_str(), b.app.as_deref()), ("build", Some("web")));
    assert_eq!(b.finished, "2026-11-22T01:02:00Z");

    let t = task_run_view(&dynamic(json!({
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": {"name": "build-web-1-compile", "namespace": "shop",
                     "labels": {"tekton.dev/pipelineRun": "build-web-1", "tekton.dev/pipelineTask": "compile"}},
        "status": {"podName": "build-web-1-compile-pod",
                   "conditions": [{"type": "Succeeded", "status": "False", "reason": "Failed"}],
                   "steps": [
                       {"name": "fetch", "container": "step-fetch", "terminated": {"exitCode": 0, "reason": "Completed"}},
                       {"name": "test", "container": "step-test", "terminated": {"exitCode": 2, "reason": "Error"}}]}
    })));
    assert_eq!(t.pipeline_run.as_deref(), Some("build-web-1"));
    assert_eq!(t.task, "compile");
    let failed = t.failed_step().unwrap();
    assert_eq!((failed.name.as_str(), failed.exit_code), ("test", Some(2)));
    assert_eq!(t.steps[0].state, BuildState::Succeeded);

    let pending = build_view(&dynamic(json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                                             "metadata": {"name": "p", "namespace": "shop"}})));
    assert_eq!(pending.state, BuildState::Pending);
    let running = build_view(&dynamic(json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": "p", "namespace": "shop"},
        "status": {"conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running"}]}})));
    assert_eq!(running.state, BuildState::Running);
    let cancelled = build_view(&dynamic(json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
        "metadata": {"name": "p", "namespace": "shop"},
        "status": {"conditions": [{"type": "Succeeded", "status": "False", "reason": "Cancelled"}]}})));
    assert_eq!(cancelled.state, BuildState::Cancelled);
}
