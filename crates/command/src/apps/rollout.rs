//! Waiting for a rollout: ready, or why not (an image that does not pull,
//! a pod that crashes), within a limit.

use super::*;

/// Waits for the app's rollout: ready when every replica is updated and
/// ready; a failure as soon as a pod says why it cannot start (an image
/// that cannot be pulled, a crash loop) or the rollout passes its deadline.
pub async fn wait_rollout(
    client: &kube::Client,
    cluster: &Cluster,
    a: &AppRef,
    kind: WorkloadKind,
    within: std::time::Duration,
) -> ItemOutcome {
    let what = "rollout".to_string();
    let k = if kind == WorkloadKind::StatefulSet {
        "StatefulSet"
    } else {
        "Deployment"
    };
    let Some(ar) = resource("apps/v1", k) else {
        return ItemOutcome::failed(what, "unknown workload kind", None);
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &a.space.namespace, &ar);
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), &a.space.namespace);
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let w = match api.get(&a.name).await {
            Ok(w) => serde_json::to_value(&w).unwrap_or(Value::Null),
            Err(e) => {
                let p = describe(cluster, "get", &e);
                return ItemOutcome::failed(what, p.message, p.code);
            }
        };
        let n = |p: &str| w.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let want = n("/spec/replicas");
        let observed = n("/status/observedGeneration") >= n("/metadata/generation");
        let ready = n("/status/readyReplicas");
        let updated = if k == "Deployment" {
            n("/status/updatedReplicas")
        } else {
            n("/status/currentReplicas").max(ready)
        };
        if observed && ready >= want && updated >= want {
            return ItemOutcome::ok(what, format!("ready {ready}/{want}"));
        }
        if let Some(c) = w["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["reason"] == "ProgressDeadlineExceeded")
        {
            return ItemOutcome::failed(
                what,
                format!(
                    "the rollout stalled: {}",
                    c["message"].as_str().unwrap_or("progress deadline exceeded")
                ),
                None,
            );
        }
        let selector = format!("{}={}", derive::NAME, a.name);
        if let Ok(list) = pods.list(&ListParams::default().labels(&selector)).await {
            for p in &list.items {
                for cs in p
                    .status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .into_iter()
                    .flatten()
                {
                    if let Some(wt) = cs.state.as_ref().and_then(|s| s.waiting.as_ref())
                        && let Some(reason) = wt.reason.as_deref()
                        && matches!(
                            reason,
                            "ImagePullBackOff"
                                | "ErrImagePull"
                                | "InvalidImageName"
                                | "CrashLoopBackOff"
                                | "CreateContainerConfigError"
                        )
                    {
                        return ItemOutcome::failed(
                            what,
                            format!(
                                "pod {} cannot start: {reason}: {}",
                                p.metadata.name.as_deref().unwrap_or("?"),
                                wt.message.as_deref().unwrap_or("")
                            ),
                            None,
                        );
                    }
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return ItemOutcome::failed(
                what,
                format!("not ready within {} s: {ready}/{want} ready", within.as_secs()),
                None,
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
