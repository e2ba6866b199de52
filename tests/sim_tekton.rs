//! The simulator runs Tekton as Tekton does, checked with the real kube
//! client over loopback HTTPS: runAfter order, results flowing between
//! tasks, `when` skipping, finally tasks seeing `$(tasks.status)`, step logs
//! that are the scripts' output with `exit N` honoured, a missing Pipeline,
//! cancel and graceful cancel, timeouts, strategic merge refused on custom
//! kinds, and a cluster without Tekton.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kdeck_sim::{FleetSize, SimHandle, SimOptions};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, LogParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

async fn sim(without_tekton: bool) -> SimHandle {
    let opts = SimOptions {
        clusters: 1,
        fleet: FleetSize::Custom { spaces: 1, apps: 1 },
        without_tekton: if without_tekton {
            kdeck_sim::cluster_names(1)
        } else {
            vec![]
        },
        ..Default::default()
    };
    kdeck_sim::start(opts).await.expect("simulator starts").remove(0)
}

async fn client(h: &SimHandle) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&kdeck_sim::kubeconfig(std::slice::from_ref(h), "admin")).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

fn api(c: &kube::Client, kind: &str, plural: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("tekton.dev", "v1", kind), plural);
    Api::namespaced_with(c.clone(), NS, &ar)
}

const NS: &str = "shop-prod";

fn obj(v: Value) -> DynamicObject {
    serde_json::from_value(v).unwrap()
}

async fn create_run(c: &kube::Client, name: &str, spec: Value) {
    api(c, "PipelineRun", "pipelineruns")
        .create(
            &PostParams::default(),
            &obj(json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                        "metadata": {"name": name, "namespace": NS}, "spec": spec})),
        )
        .await
        .unwrap();
}

/// Waits for the run to end; its final object.
async fn ended(c: &kube::Client, name: &str, within: Duration) -> Value {
    let prs = api(c, "PipelineRun", "pipelineruns");
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let pr = prs.get(name).await.unwrap();
        if pr.data.pointer("/status/completionTime").is_some() {
            return serde_json::to_value(&pr).unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run {name} did not end: {:?}",
            pr.data.get("status")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cond(pr: &Value) -> (String, String, String) {
    let c = &pr["status"]["conditions"][0];
    (
        c["status"].as_str().unwrap_or("").into(),
        c["reason"].as_str().unwrap_or("").into(),
        c["message"].as_str().unwrap_or("").into(),
    )
}

async fn logs(c: &kube::Client, pod: &str, container: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(c.clone(), NS);
    pods.logs(
        pod,
        &LogParams {
            container: Some(container.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn step(name: &str, script: &str) -> Value {
    json!({"name": name, "image": "alpine", "script": script})
}

#[tokio::test]
async fn a_pipeline_runs_in_order_with_results_when_and_finally() {
    let h = sim(false).await;
    let c = client(&h).await;
    // A Task by reference, with a param and a result.
    api(&c, "Task", "tasks")
        .create(
            &PostParams::default(),
            &obj(json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "make-version", "namespace": NS},
                "spec": {"params": [{"name": "base", "default": "1.0"}], "results": [{"name": "version"}],
                         "steps": [step("make", "echo making version from $(params.base)\nprintf '%s' $(params.base).7 > $(results.version.path)")]}})),
        )
        .await
        .unwrap();
    let spec = json!({
        "params": [{"name": "base", "value": "2.4"}, {"name": "publish", "value": "no"}],
        "pipelineSpec": {
            "params": [{"name": "base"}, {"name": "publish", "default": "yes"}],
            "tasks": [
                {"name": "use", "runAfter": ["version"], "params": [{"name": "v", "value": "$(tasks.version.results.version)"}],
                 "taskSpec": {"params": [{"name": "v"}], "steps": [step("show", "echo building $(params.v)")]}},
                {"name": "version", "taskRef": {"name": "make-version"}, "params": [{"name": "base", "value": "$(params.base)"}]},
                {"name": "publish", "runAfter": ["use"],
                 "when": [{"input": "$(params.publish)", "operator": "in", "values": ["yes"]}],
                 "taskSpec": {"steps": [step("push", "echo pushing")]}}
            ],
            "finally": [
                {"name": "report", "params": [{"name": "s", "value": "$(tasks.status)"}],
                 "taskSpec": {"params": [{"name": "s"}], "steps": [step("say", "echo pipeline $(params.s)")]}}
            ],
            "results": [{"name": "version", "value": "$(tasks.version.results.version)"}]
        }
    });
    create_run(&c, "ordered", spec).await;
    let pr = ended(&c, "ordered", Duration::from_secs(20)).await;
    let (st, reason, msg) = cond(&pr);
    assert_eq!(
        (st.as_str(), reason.as_str()),
        ("True", "Completed"),
        "skipped tasks make Completed: {msg}"
    );
    assert_eq!(msg, "Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 1");
    assert_eq!(pr["status"]["skippedTasks"][0]["name"], "publish");
    assert_eq!(
        pr["status"]["skippedTasks"][0]["reason"],
        "When Expressions evaluated to false"
    );
    assert_eq!(pr["status"]["results"][0], json!({"name": "version", "value": "2.4.7"}));
    // Children in the pipeline's order, the skipped one left out.
    let children: Vec<&str> = pr["status"]["childReferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pipelineTaskName"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["use", "version", "report"]);
    let trs = api(&c, "TaskRun", "taskruns");
    let start = |n: &str| {
        let trs = trs.clone();
        let n = n.to_string();
        async move {
            let tr = trs.get(&format!("ordered-{n}")).await.unwrap();
            let v = serde_json::to_value(&tr).unwrap();
            (
                v["status"]["startTime"].as_str().unwrap().to_string(),
                v["status"]["completionTime"].as_str().unwrap().to_string(),
            )
        }
    };
    let (version, used, report) = (start("version").await, start("use").await, start("report").await);
    assert!(
        used.0 >= version.1,
        "use starts after version ends: {used:?} {version:?}"
    );
    assert!(report.0 >= used.1, "finally runs last: {report:?} {used:?}");
    // The logs are the scripts' output, params and results substituted.
    assert_eq!(
        logs(&c, "ordered-version-pod", "step-make").await,
        "making version from 2.4\n"
    );
    assert_eq!(logs(&c, "ordered-use-pod", "step-show").await, "building 2.4.7\n");
    assert_eq!(logs(&c, "ordered-report-pod", "step-say").await, "pipeline Succeeded\n");
}

#[tokio::test]
async fn a_failing_step_exits_with_its_code_and_the_rest_is_skipped() {
    let h = sim(false).await;
    let c = client(&h).await;
    let spec = json!({"pipelineSpec": {
        "tasks": [
            {"name": "test", "taskSpec": {"steps": [step("unit", "echo 3 tests\necho 1 failed\nexit 3\necho never"),
                                                   step("lint", "echo linting")]}},
            {"name": "ship", "runAfter": ["test"], "taskSpec": {"steps": [step("ship", "echo shipping")]}}
        ],
        "finally": [{"name": "always", "params": [{"name": "t", "value": "$(tasks.test.status)"}],
                     "taskSpec": {"params": [{"name": "t"}], "steps": [step("say", "echo test was $(params.t)")]}}]
    }});
    create_run(&c, "failing", spec).await;
    let pr = ended(&c, "failing", Duration::from_secs(20)).await;
    assert_eq!(
        cond(&pr),
        (
            "False".into(),
            "Failed".into(),
            "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1".into()
        )
    );
    assert_eq!(pr["status"]["skippedTasks"][0]["name"], "ship");
    let tr = api(&c, "TaskRun", "taskruns").get("failing-test").await.unwrap();
    let tr = serde_json::to_value(&tr).unwrap();
    assert_eq!(tr["status"]["steps"][0]["terminated"]["exitCode"], 3);
    assert_eq!(tr["status"]["steps"][1]["terminated"]["reason"], "Skipped");
    assert_eq!(
        tr["status"]["conditions"][0]["message"],
        "\"step-unit\" exited with code 3"
    );
    assert_eq!(logs(&c, "failing-test-pod", "step-unit").await, "3 tests\n1 failed\n");
    assert_eq!(logs(&c, "failing-always-pod", "step-say").await, "test was Failed\n");
}

#[tokio::test]
async fn a_missing_pipeline_cancel_graceful_cancel_and_timeout() {
    let h = sim(false).await;
    let c = client(&h).await;
    create_run(&c, "orphan", json!({"pipelineRef": {"name": "nowhere"}})).await;
    let pr = ended(&c, "orphan", Duration::from_secs(10)).await;
    let (st, reason, msg) = cond(&pr);
    assert_eq!((st.as_str(), reason.as_str()), ("False", "CouldntGetPipeline"));
    assert!(msg.contains("pipelines.tekton.dev \"nowhere\" not found"), "{msg}");

    // A param without a default and no value: ParameterMissing, nothing runs.
    create_run(
        &c,
        "unfed",
        json!({"pipelineSpec": {"params": [{"name": "revision"}],
                                "tasks": [{"name": "t", "taskSpec": {"steps": [step("s", "echo $(params.revision)")]}}]}}),
    )
    .await;
    let pr = ended(&c, "unfed", Duration::from_secs(10)).await;
    let (st, reason, msg) = cond(&pr);
    assert_eq!((st.as_str(), reason.as_str()), ("False", "ParameterMissing"));
    assert!(msg.contains("[revision]"), "{msg}");
    assert!(pr["status"].get("childReferences").is_none() || pr["status"]["childReferences"] == json!([]));

    // A long step, then cancel: the TaskRun is cancelled, finally does not run.
    let long = json!({"pipelineSpec": {
        "tasks": [{"name": "slow", "taskSpec": {"steps": [step("wait", &"echo tick\n".repeat(40))]}}],
        "finally": [{"name": "cleanup", "taskSpec": {"steps": [step("clean", "echo cleaning")]}}]}});
    let prs = api(&c, "PipelineRun", "pipelineruns");
    for (name, how) in [("cut", "Cancelled"), ("gentle", "CancelledRunFinally")] {
        create_run(&c, name, long.clone()).await;
        // Let it start.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while api(&c, "TaskRun", "taskruns")
            .get_opt(&format!("{name}-slow"))
            .await
            .unwrap()
            .is_none()
        {
            assert!(tokio::time::Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        prs.patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"status": how}})),
        )
        .await
        .unwrap();
        let pr = ended(&c, name, Duration::from_secs(10)).await;
        let (st, reason, msg) = cond(&pr);
        assert_eq!((st.as_str(), reason.as_str()), ("False", "Cancelled"), "{how}");
        assert_eq!(msg, format!("PipelineRun \"{name}\" was cancelled"));
        let slow = api(&c, "TaskRun", "taskruns")
            .get(&format!("{name}-slow"))
            .await
            .unwrap();
        assert_eq!(
            slow.data.pointer("/status/conditions/0/reason").unwrap(),
            "TaskRunCancelled"
        );
        let cleanup = api(&c, "TaskRun", "taskruns")
            .get_opt(&format!("{name}-cleanup"))
            .await
            .unwrap();
        assert_eq!(
            cleanup.is_some(),
            how == "CancelledRunFinally",
            "finally runs only when graceful"
        );
    }

    // A timeout shorter than the work.
    let mut timed = long.clone();
    timed["timeouts"] = json!({"pipeline": "1s"});
    create_run(&c, "late", timed).await;
    let pr = ended(&c, "late", Duration::from_secs(10)).await;
    assert_eq!(
        cond(&pr),
        (
            "False".into(),
            "PipelineRunTimeout".into(),
            "PipelineRun \"late\" failed to finish within \"1s\"".into()
        )
    );

    // Custom kinds take merge patches, not strategic ones, as on a real server.
    let smp = prs
        .patch(
            "late",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap_err();
    match smp {
        kube::Error::Api(s) => assert_eq!(s.code, 415),
        other => panic!("expected 415, got {other}"),
    }
}

#[tokio::test]
async fn a_cluster_without_tekton_serves_none_of_it() {
    let h = sim(true).await;
    let c = client(&h).await;
    let err = c.list_api_group_resources("tekton.dev/v1").await.unwrap_err();
    match err {
        kube::Error::Api(s) => assert_eq!(s.code, 404),
        other => panic!("expected 404, got {other}"),
    }
    let groups = c.list_api_groups().await.unwrap();
    assert!(
        !groups.groups.iter().any(|g| g.name.ends_with("tekton.dev")),
        "no Tekton group in discovery"
    );
}
