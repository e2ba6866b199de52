//! The simulator's capacity kinds, driven by the real kubectl: a
//! ResourceQuota refuses the pod past it with the real 403 and keeps
//! `status.used`; a LimitRange's defaults land on pods that set none; a
//! claim is bound through the default StorageClass (a PersistentVolume
//! made, and deleted with the claim); a HorizontalPodAutoscaler scales its
//! Deployment up under simulated load and back down, within its bounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::time::Duration;

use common::Setup;
use kdeck_sim::{FleetSize, SimConfig, SimOptions};

const CTX: &str = "prod-eu1";
/// A namespace of its own, created by `setup`: nothing seeded counts against its quotas.
const NS: &str = "capacity";

fn setup() -> Setup {
    let s = Setup::with(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        config: SimConfig {
            hpa_sync: Duration::from_millis(200),
            ..Default::default()
        },
        ..Default::default()
    });
    let out = s.kubectl(CTX, &["create", "namespace", NS]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    s
}

/// `kubectl apply -f -` of a JSON document; the output and whether it worked.
fn apply(s: &Setup, doc: &serde_json::Value) -> (bool, String) {
    let path = s.dir.path().join(format!("doc-{}.json", rand_name()));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(doc.to_string().as_bytes())
        .unwrap();
    let out = s.kubectl(CTX, &["-n", NS, "apply", "-f", path.to_str().unwrap()]);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn rand_name() -> String {
    format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn deployment(name: &str, replicas: u32, cpu: Option<&str>) -> serde_json::Value {
    let mut c = serde_json::json!({"name": "app", "image": "nginx:1.27"});
    if let Some(cpu) = cpu {
        c["resources"] = serde_json::json!({"requests": {"cpu": cpu}});
    }
    serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [c]}}}})
}

#[test]
fn a_quota_refuses_the_pod_past_it_with_the_servers_reason_and_keeps_used() {
    let s = setup();
    let (ok, out) = apply(
        &s,
        &serde_json::json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team"},
                            "spec": {"hard": {"pods": "12", "requests.cpu": "1"}}}),
    );
    assert!(ok, "{out}");
    let used = |s: &Setup| s.jsonpath(CTX, NS, "resourcequota/team", "{.status.used.pods}");
    s.until("the quota's used pods", Duration::from_secs(10), || used(&s) == "0");
    // A pod that asks no cpu cannot be counted against requests.cpu: refused.
    let (ok, out) = apply(
        &s,
        &serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare"},
                            "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("pods \"bare\" is forbidden: failed quota: team: must specify requests.cpu"),
        "{out}"
    );
    // Three pods of 400m: the third would take requests.cpu past 1.
    let (ok, out) = apply(&s, &deployment("big", 3, Some("400m")));
    assert!(ok, "{out}");
    s.until("the ReplicaFailure condition", Duration::from_secs(10), || {
        s.jsonpath(
            CTX,
            NS,
            "deployment/big",
            "{.status.conditions[?(@.type==\"ReplicaFailure\")].message}",
        )
        .contains(
            "exceeded quota: team, requested: requests.cpu=400m, used: requests.cpu=800m, limited: requests.cpu=1",
        )
    });
    assert_eq!(s.jsonpath(CTX, NS, "deployment/big", "{.status.replicas}"), "2");
    s.until("used counts the two pods", Duration::from_secs(10), || {
        used(&s) == "2" && s.jsonpath(CTX, NS, "resourcequota/team", "{.status.used.requests\\.cpu}") == "800m"
    });
    let events = String::from_utf8(
        s.kubectl(CTX, &["-n", NS, "get", "events", "-o", "jsonpath={.items[*].message}"])
            .stdout,
    )
    .unwrap();
    assert!(events.contains("Error creating: pods \"big-"), "{events}");
    // More room: the controller tries again and the third pod comes.
    let (ok, out) = apply(
        &s,
        &serde_json::json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "team"},
                            "spec": {"hard": {"pods": "12", "requests.cpu": "2"}}}),
    );
    assert!(ok, "{out}");
    s.until("the third pod", Duration::from_secs(15), || {
        s.jsonpath(CTX, NS, "deployment/big", "{.status.replicas}") == "3"
    });
}

#[test]
fn a_limit_range_gives_pods_its_defaults() {
    let s = setup();
    let (ok, out) = apply(
        &s,
        &serde_json::json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
                            "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                                                 "defaultRequest": {"cpu": "100m"}}]}}),
    );
    assert!(ok, "{out}");
    let (ok, out) = apply(
        &s,
        &serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "plain"},
                            "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"memory": "64Mi"}}}]}}),
    );
    assert!(ok, "{out}");
    let res = s.jsonpath(CTX, NS, "pod/plain", "{.spec.containers[0].resources}");
    let v: serde_json::Value = serde_json::from_str(&res).unwrap();
    assert_eq!(v["requests"]["cpu"], "100m", "{v}");
    assert_eq!(v["requests"]["memory"], "64Mi", "{v}");
    assert_eq!(v["limits"]["cpu"], "500m", "{v}");
    assert_eq!(v["limits"]["memory"], "256Mi", "{v}");
    let said = s.jsonpath(
        CTX,
        NS,
        "pod/plain",
        "{.metadata.annotations.kubernetes\\.io/limit-ranger}",
    );
    assert!(said.starts_with("LimitRanger plugin set: "), "{said}");
    assert!(said.contains("cpu request for container app"), "{said}");
    // A quantity that does not parse is refused as the server does.
    let (ok, out) = apply(
        &s,
        &serde_json::json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "bad"},
                            "spec": {"limits": [{"type": "Container", "default": {"cpu": "lots"}}]}}),
    );
    assert!(!ok);
    assert!(out.contains("spec.limits[0].default[cpu]"), "{out}");
}

#[test]
fn a_claim_is_bound_through_the_default_storage_class_and_its_volume_goes_with_it() {
    let s = setup();
    let (ok, out) = apply(
        &s,
        &serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}}),
    );
    assert!(ok, "{out}");
    s.until("the claim bound", Duration::from_secs(10), || {
        s.jsonpath(CTX, NS, "pvc/data", "{.status.phase}") == "Bound"
    });
    assert_eq!(s.jsonpath(CTX, NS, "pvc/data", "{.spec.storageClassName}"), "standard");
    assert_eq!(s.jsonpath(CTX, NS, "pvc/data", "{.status.capacity.storage}"), "2Gi");
    let volume = s.jsonpath(CTX, NS, "pvc/data", "{.spec.volumeName}");
    assert!(volume.starts_with("pvc-"), "{volume}");
    let pv = |s: &Setup| {
        s.kubectl(
            CTX,
            &[
                "get",
                "pv",
                &volume,
                "-o",
                "jsonpath={.status.phase} {.spec.claimRef.name}",
            ],
        )
    };
    assert_eq!(String::from_utf8_lossy(&pv(&s).stdout), "Bound data");
    // A class that does not exist leaves a claim Pending, with the reason.
    let (ok, out) = apply(
        &s,
        &serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "odd"},
                            "spec": {"storageClassName": "gold", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    );
    assert!(ok, "{out}");
    s.until("the pending claim's event", Duration::from_secs(10), || {
        String::from_utf8_lossy(
            &s.kubectl(CTX, &["-n", NS, "get", "events", "-o", "jsonpath={.items[*].message}"])
                .stdout,
        )
        .contains("storageclass.storage.k8s.io \"gold\" not found")
    });
    assert_eq!(s.jsonpath(CTX, NS, "pvc/odd", "{.status.phase}"), "Pending");
    let out = s.kubectl(CTX, &["-n", NS, "delete", "pvc", "data"]);
    assert!(out.status.success());
    s.until("the volume deleted", Duration::from_secs(10), || {
        !pv(&s).status.success()
    });
}

#[test]
fn an_autoscaler_scales_up_under_load_and_back_down_within_its_bounds() {
    let s = setup();
    let (ok, out) = apply(&s, &deployment("busy", 1, Some("100m")));
    assert!(ok, "{out}");
    let hpa = serde_json::json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "busy"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "busy"},
                 "minReplicas": 1, "maxReplicas": 4,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
                 "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}}}});
    let (ok, out) = apply(&s, &hpa);
    assert!(ok, "{out}");
    let replicas = |s: &Setup| s.jsonpath(CTX, NS, "deployment/busy", "{.spec.replicas}");
    s.until("the autoscaler's first look", Duration::from_secs(10), || {
        s.jsonpath(
            CTX,
            NS,
            "hpa/busy",
            "{.status.currentMetrics[0].resource.current.averageUtilization}",
        ) == "30"
    });
    assert_eq!(replicas(&s), "1");
    // 150 % of one pod's request at a 50 % target: three pods.
    let out = s.kubectl(
        CTX,
        &["-n", NS, "annotate", "deployment/busy", "sim.kdeck.dev/cpu-demand=150"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    s.until("scaled up to 3", Duration::from_secs(15), || replicas(&s) == "3");
    // 900 %: capped at the maximum, and the status says so.
    let out = s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "annotate",
            "--overwrite",
            "deployment/busy",
            "sim.kdeck.dev/cpu-demand=900",
        ],
    );
    assert!(out.status.success());
    s.until("capped at 4", Duration::from_secs(15), || {
        replicas(&s) == "4"
            && s.jsonpath(
                CTX,
                NS,
                "hpa/busy",
                "{.status.conditions[?(@.type==\"ScalingLimited\")].reason}",
            ) == "TooManyReplicas"
    });
    let out = s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "annotate",
            "--overwrite",
            "deployment/busy",
            "sim.kdeck.dev/cpu-demand=10",
        ],
    );
    assert!(out.status.success());
    s.until("back down to the minimum", Duration::from_secs(15), || {
        replicas(&s) == "1"
    });
    let events = String::from_utf8(
        s.kubectl(CTX, &["-n", NS, "get", "events", "-o", "jsonpath={.items[*].message}"])
            .stdout,
    )
    .unwrap();
    assert!(
        events.contains("New size: 3; reason: cpu resource utilization (percentage of request) above target"),
        "{events}"
    );
    assert!(
        events.contains("New size: 1; reason: All metrics below target"),
        "{events}"
    );
    // min above max is refused as the server refuses it.
    let mut bad = hpa.clone();
    bad["metadata"]["name"] = serde_json::json!("bad");
    bad["spec"]["minReplicas"] = serde_json::json!(5);
    let (ok, out) = apply(&s, &bad);
    assert!(!ok);
    assert!(
        out.contains("spec.maxReplicas: Invalid value: 4: must be greater than or equal to `minReplicas`"),
        "{out}"
    );
}
