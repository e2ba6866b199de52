//! API semantics and controllers of the simulator, through the real kube-rs
//! client: generateName, status subresource, garbage collection, events,
//! StatefulSet order, Tekton runs, churn, bad bodies and the faults endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod};
use kdeck_sim::{FleetSize, SimConfig, SimHandle, SimOptions};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

async fn sim_with(spaces: usize, apps: usize, churn: u32, config: SimConfig) -> SimHandle {
    let opts = SimOptions {
        clusters: 1,
        fleet: FleetSize::Custom { spaces, apps },
        churn_per_sec: churn,
        config,
        ..Default::default()
    };
    kdeck_sim::start(opts).await.unwrap().remove(0)
}

async fn client(h: &SimHandle) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&kdeck_sim::kubeconfig(std::slice::from_ref(h), "admin")).unwrap();
    kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap(),
    )
    .unwrap()
}

async fn eventually<F: Fn() -> Fut, Fut: std::future::Future<Output = bool>>(what: &str, within: Duration, f: F) {
    let deadline = tokio::time::Instant::now() + within;
    while !f().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn deployment(name: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_name_status_subresource_and_gc() {
    let h = sim_with(1, 0, 0, SimConfig::default()).await;
    let c = client(&h).await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "shop-prod");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"generateName": "job-"}, "data": {"a": "b"}})).unwrap();
    let made = cms.create(&PostParams::default(), &cm).await.unwrap();
    let name = made.metadata.name.unwrap();
    assert!(name.starts_with("job-") && name.len() == 9, "{name}");
    assert!(
        name[4..].chars().all(|ch| "bcdfghjklmnpqrstvwxz2456789".contains(ch)),
        "{name}"
    );
    assert!(made.metadata.uid.is_some() && made.metadata.creation_timestamp.is_some());
    let again = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(again, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{again}"
    );

    let deploys: Api<Deployment> = Api::namespaced(c.clone(), "shop-prod");
    let d = deploys
        .create(&PostParams::default(), &deployment("web", 2))
        .await
        .unwrap();
    assert_eq!(d.metadata.generation, Some(1));
    assert!(d.status.is_none(), "status is the controllers' to write");
    // A metadata change keeps generation; a spec change bumps it.
    let d = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(d.metadata.generation, Some(1));
    let d = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(d.metadata.generation, Some(2));
    // Status goes through /status only.
    let ignored = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 99}})),
        )
        .await
        .unwrap();
    assert_ne!(ignored.status.and_then(|s| s.replicas), Some(99));
    let set = deploys
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"observedGeneration": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(set.status.unwrap().observed_generation, Some(2));

    // The controller makes a ReplicaSet and pods; deleting the Deployment takes them along.
    let rss: Api<ReplicaSet> = Api::namespaced(c.clone(), "shop-prod");
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop-prod");
    eventually("3 ready pods", Duration::from_secs(10), || async {
        pods.list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count()
            == 3
    })
    .await;
    let rs = rss.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(rs.len(), 1);
    let owner = &rs[0].metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("Deployment", "web", Some(true))
    );
    let events: Api<Event> = Api::namespaced(c.clone(), "shop-prod");
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    for r in ["ScalingReplicaSet", "SuccessfulCreate", "Started"] {
        assert!(reasons.iter().any(|x| x == r), "event {r} in {reasons:?}");
    }
    deploys.delete("web", &DeleteParams::default()).await.unwrap();
    eventually("pods gone", Duration::from_secs(10), || async {
        pods.list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;
    assert!(rss.list(&ListParams::default()).await.unwrap().items.is_empty());

    // Orphan: the ReplicaSet stays, without its owner reference.
    deploys
        .create(&PostParams::default(), &deployment("keep", 1))
        .await
        .unwrap();
    eventually("a replicaset", Duration::from_secs(10), || async {
        !rss.list(&ListParams::default()).await.unwrap().items.is_empty()
    })
    .await;
    deploys.delete("keep", &DeleteParams::orphan()).await.unwrap();
    let left = rss.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(left.len(), 1);
    assert!(left[0].metadata.owner_references.as_ref().is_none_or(|r| r.is_empty()));
    // Preconditions: a wrong uid is a conflict.
    let dp = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some("wrong".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    let err = rss
        .delete(left[0].metadata.name.as_deref().unwrap(), &dp)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.message.contains("Precondition failed")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_400_and_invalid_objects_422() {
    let h = sim_with(1, 0, 0, SimConfig::default()).await;
    let c = client(&h).await;
    let send = |method: &str, path: &str, ct: &str, body: &'static [u8]| {
        let c = c.clone();
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .body(body.to_vec())
            .unwrap();
        async move { c.request_text(req).await }
    };
    let err = send(
        "POST",
        "/api/v1/namespaces/shop-prod/configmaps",
        "application/json",
        b"{not json",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400 && s.message.starts_with("error decoding JSON")),
        "{err}"
    );
    let err = send(
        "POST",
        "/api/v1/namespaces/shop-prod/configmaps",
        "application/yaml",
        b"a: [b",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400 && s.message.starts_with("error decoding YAML")),
        "{err}"
    );
    let err = send(
        "POST",
        "/apis/apps/v1/namespaces/shop-prod/deployments",
        "application/json",
        br#"{"metadata":{"name":"x"},"spec":{"replicas":"three"}}"#,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400 && s.message.contains("Deployment.apps in body")),
        "{err}"
    );
    let err = send("POST", "/apis/apps/v1/namespaces/shop-prod/deployments", "application/json", br#"{"metadata":{"name":"Bad_Name"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c"}]}}}}"#).await.unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 422);
            assert!(
                s.message
                    .starts_with("Deployment.apps \"Bad_Name\" is invalid: [metadata.name: Invalid value"),
                "{}",
                s.message
            );
            assert!(
                s.message
                    .contains("spec.template.spec.containers[0].image: Required value"),
                "{}",
                s.message
            );
        }
        other => panic!("{other}"),
    }
    let err = send(
        "GET",
        "/apis/apps/v1/namespaces/shop-prod/widgets",
        "application/json",
        b"",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 404), "{err}");
    let err = send(
        "POST",
        "/api/v1/namespaces/nowhere/configmaps",
        "application/json",
        br#"{"metadata":{"name":"x"}}"#,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.message == "namespaces \"nowhere\" not found"),
        "{err}"
    );
    let err = send(
        "PATCH",
        "/api/v1/namespaces/shop-prod/configmaps/x?force=true",
        "application/merge-patch+json",
        b"{}",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 422), "{err}");
    // JSON patch and strategic merge patch.
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "shop-prod");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "p"}, "data": {"a": "1"}})).unwrap(),
    )
    .await
    .unwrap();
    let p: Patch<()> = Patch::Json(
        serde_json::from_value(
            json!([{"op": "add", "path": "/data/b", "value": "2"}, {"op": "remove", "path": "/data/a"}]),
        )
        .unwrap(),
    );
    let cm = cms.patch("p", &PatchParams::default(), &p).await.unwrap();
    assert_eq!(
        cm.data.unwrap().into_iter().collect::<Vec<_>>(),
        vec![("b".to_string(), "2".to_string())]
    );
    // The faults endpoint takes JSON from an admin.
    let body = br#"{"latency_ms": 5, "history": 50}"#;
    let out = send("POST", "/sim/faults", "application/json", body).await.unwrap();
    assert!(out.contains("\"latency_ms\":5"), "{out}");
    assert_eq!(h.cluster.faults().latency_ms, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulsets_start_pods_in_order() {
    let h = sim_with(
        1,
        0,
        0,
        SimConfig {
            pod_ready_after: Duration::from_millis(400),
            ..Default::default()
        },
    )
    .await;
    let c = client(&h).await;
    let sts: Api<StatefulSet> = Api::namespaced(c.clone(), "shop-prod");
    let s: StatefulSet = serde_json::from_value(json!({"metadata": {"name": "db"}, "spec": {"replicas": 3, "serviceName": "db",
        "selector": {"matchLabels": {"app": "db"}}, "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}}}}))
    .unwrap();
    sts.create(&PostParams::default(), &s).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop-prod");
    // Watch the pod names appear: db-1 only after db-0 is ready, and so on.
    let mut order = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while order.len() < 3 && tokio::time::Instant::now() < deadline {
        for p in pods.list(&ListParams::default().labels("app=db")).await.unwrap().items {
            let n = p.metadata.name.unwrap();
            if !order.contains(&n) {
                order.push(n);
            }
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(order, ["db-0", "db-1", "db-2"]);
    eventually("3 ready", Duration::from_secs(10), || async {
        sts.get("db").await.unwrap().status.and_then(|s| s.ready_replicas) == Some(3)
    })
    .await;
    sts.patch(
        "db",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    eventually("scaled to 1 from the top", Duration::from_secs(10), || async {
        let names: Vec<String> = pods
            .list(&ListParams::default().labels("app=db"))
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
        names == ["db-0"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelineruns_run_tasks_with_step_logs() {
    let cfg = SimConfig {
        pod_ready_after: Duration::from_millis(100),
        log_interval: Duration::from_millis(40),
        step_duration: Duration::from_millis(200),
        ..Default::default()
    };
    let h = sim_with(1, 1, 0, cfg).await;
    let c = client(&h).await;
    let gvk = GroupVersionKind::gvk("tekton.dev", "v1", "PipelineRun");
    let prs: Api<DynamicObject> = Api::namespaced_with(c.clone(), "shop-prod", &ApiResource::from_gvk(&gvk));
    let trs: Api<DynamicObject> = Api::namespaced_with(
        c.clone(),
        "shop-prod",
        &ApiResource::from_gvk(&GroupVersionKind::gvk("tekton.dev", "v1", "TaskRun")),
    );
    let pr: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"generateName": "build-"},
        "spec": {"pipelineRef": {"name": "build"}, "params": [{"name": "revision", "value": "main"}]}}),
    )
    .unwrap();
    let pr = prs.create(&PostParams::default(), &pr).await.unwrap();
    let name = pr.metadata.name.clone().unwrap();
    let cond = |o: &DynamicObject| {
        (
            o.data
                .pointer("/status/conditions/0/status")
                .and_then(Value::as_str)
                .map(str::to_string),
            o.data
                .pointer("/status/conditions/0/reason")
                .and_then(Value::as_str)
                .map(str::to_string),
        )
    };
    eventually("the run to succeed", Duration::from_secs(20), || async {
        cond(&prs.get(&name).await.unwrap()).0.as_deref() == Some("True")
    })
    .await;
    let done = prs.get(&name).await.unwrap();
    assert_eq!(cond(&done).1.as_deref(), Some("Succeeded"));
    assert!(done.data.pointer("/status/completionTime").is_some() && done.data.pointer("/status/startTime").is_some());
    let children = done
        .data
        .pointer("/status/childReferences")
        .and_then(Value::as_array)
        .unwrap();
    assert_eq!(children.len(), 2, "clone and build");
    let build = trs.get(&format!("{name}-build")).await.unwrap();
    let steps = build.data.pointer("/status/steps").and_then(Value::as_array).unwrap();
    assert_eq!(
        steps.iter().map(|s| s["name"].as_str().unwrap()).collect::<Vec<_>>(),
        ["build", "push"]
    );
    assert!(steps.iter().all(|s| s["terminated"]["exitCode"] == 0));
    let pod_name = build
        .data
        .pointer("/status/podName")
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop-prod");
    let pod = pods.get(&pod_name).await.unwrap();
    assert_eq!(
        pod.metadata.labels.as_ref().unwrap().get("tekton.dev/pipelineRun"),
        Some(&name)
    );
    let lp = LogParams {
        container: Some("step-push".into()),
        ..Default::default()
    };
    // What the step's script prints.
    let log = pods.logs(&pod_name, &lp).await.unwrap();
    assert_eq!(log, "pushed image\n");
    let err = pods.logs(&pod_name, &LogParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400 && s.message.contains("choose one of: [step-build step-push]")),
        "{err}"
    );

    // A failing step fails the run; cancelling stops one.
    let failing: DynamicObject = serde_json::from_value(json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "broken"},
        "spec": {"pipelineSpec": {"tasks": [{"name": "test", "taskSpec": {"steps": [{"name": "unit", "image": "golang", "script": "go test ./...; exit 1"}]}}]}}})).unwrap();
    prs.create(&PostParams::default(), &failing).await.unwrap();
    eventually("the run to fail", Duration::from_secs(20), || async {
        cond(&prs.get("broken").await.unwrap()).1.as_deref() == Some("Failed")
    })
    .await;
    let long: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": {"name": "long"},
        "spec": {"pipelineRef": {"name": "build"}}}),
    )
    .unwrap();
    prs.create(&PostParams::default(), &long).await.unwrap();
    prs.patch(
        "long",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"status": "Cancelled"}})),
    )
    .await
    .unwrap();
    eventually("the run to be cancelled", Duration::from_secs(20), || async {
        let c = cond(&prs.get("long").await.unwrap());
        c.0.as_deref() == Some("False") && c.1.as_deref() == Some("Cancelled")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_moves_things_and_watches_see_it() {
    let h = sim_with(2, 3, 50, SimConfig::default()).await;
    let c = client(&h).await;
    let api: Api<Deployment> = Api::all(c);
    let start_rv = h.resource_version();
    let lp = kube::api::WatchParams::default().timeout(5);
    let mut stream = api.watch(&lp, &start_rv.to_string()).await.unwrap().boxed();
    let mut modified = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while modified < 10 && tokio::time::Instant::now() < deadline {
        if let Ok(Some(Ok(kube::api::WatchEvent::Modified(d)))) =
            tokio::time::timeout(Duration::from_secs(1), stream.next()).await
            && d.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key("sim.kdeck.dev/churn"))
        {
            modified += 1;
        }
    }
    assert!(modified >= 10, "saw {modified} churn updates");
}
