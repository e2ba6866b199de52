//! API defaults as a real API server applies them, read back with the real
//! kubectl: workloads' strategies and limits, pod spec defaults in pods and
//! templates, Service type, Secret type and stringData folded into data; and
//! what they make work (`kubectl rollout status` on a StatefulSet).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Setup;

const CTX: &str = "prod-eu1";
const NS: &str = "shop-prod";

#[test]
fn objects_read_back_with_the_api_defaults() {
    let s = Setup::new();
    let ok = |args: &[&str]| {
        let out = s.kubectl(CTX, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    ok(&["-n", NS, "create", "deployment", "plain", "--image=nginx:1.27"]);
    assert_eq!(
        s.jsonpath(CTX, NS, "deployment/plain", "{.spec.strategy.type} {.spec.strategy.rollingUpdate.maxUnavailable} {.spec.strategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit} {.spec.progressDeadlineSeconds}"),
        "RollingUpdate 25% 25% 10 600"
    );
    assert_eq!(
        s.jsonpath(CTX, NS, "deployment/plain", "{.spec.template.spec.restartPolicy} {.spec.template.spec.dnsPolicy} {.spec.template.spec.terminationGracePeriodSeconds} {.spec.template.spec.schedulerName}"),
        "Always ClusterFirst 30 default-scheduler"
    );
    ok(&["-n", NS, "run", "bare", "--image=nginx:1.27"]);
    assert_eq!(
        s.jsonpath(
            CTX,
            NS,
            "pod/bare",
            "{.spec.restartPolicy} {.spec.enableServiceLinks} {.spec.serviceAccountName} {.spec.priority}"
        ),
        "Always true default 0"
    );
    assert_eq!(
        s.jsonpath(
            CTX,
            NS,
            "statefulset/postgres",
            "{.spec.updateStrategy.type} {.spec.podManagementPolicy} {.spec.revisionHistoryLimit}"
        ),
        "RollingUpdate OrderedReady 10"
    );
    let out = ok(&["-n", NS, "rollout", "status", "statefulset/postgres", "--timeout=20s"]);
    assert!(
        out.contains("partitioned roll out complete") || out.contains("roll out complete"),
        "{out}"
    );

    let secret = s.dir.path().join("secret.yaml");
    std::fs::write(
        &secret,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: folded, namespace: shop-prod}\nstringData: {password: s3cret}\n",
    )
    .unwrap();
    ok(&["apply", "-f", secret.to_str().unwrap()]);
    assert_eq!(
        s.jsonpath(CTX, NS, "secret/folded", "{.type} {.data.password}|{.stringData}"),
        "Opaque czNjcmV0|"
    );
    ok(&["-n", NS, "create", "service", "clusterip", "plain", "--tcp=80:8080"]);
    let svc = s.jsonpath(
        CTX,
        NS,
        "service/plain",
        "{.spec.type} {.spec.sessionAffinity} {.spec.ipFamilyPolicy} {.spec.clusterIP}",
    );
    assert!(svc.starts_with("ClusterIP None SingleStack 10.96."), "{svc}");
    ok(&[
        "-n",
        NS,
        "create",
        "cronjob",
        "tick",
        "--image=busybox",
        "--schedule=*/5 * * * *",
    ]);
    assert_eq!(
        s.jsonpath(CTX, NS, "cronjob/tick", "{.spec.concurrencyPolicy} {.spec.successfulJobsHistoryLimit} {.spec.failedJobsHistoryLimit} {.spec.suspend}"),
        "Allow 3 1 false"
    );
}
