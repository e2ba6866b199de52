//! Discovery as the real server answers it, with the real kubectl: every
//! advertised group version lists its resources (`kubectl api-resources`
//! exits 0), and kinds carry their categories, so `kubectl get all` lists
//! a namespace's pods, services and workloads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Setup;

#[test]
fn api_resources_and_get_all_work() {
    let s = Setup::new();
    let out = s.kubectl("prod-eu1", &["api-resources"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = s.kubectl("prod-eu1", &["api-resources", "--categories=all", "-o", "name"]);
    let all = String::from_utf8_lossy(&out.stdout);
    for kind in [
        "pods",
        "services",
        "deployments.apps",
        "statefulsets.apps",
        "replicasets.apps",
    ] {
        assert!(all.lines().any(|l| l == kind), "{kind} in category all: {all}");
    }
    assert!(!all.contains("configmaps") && !all.contains("secrets"), "{all}");
    let out = s.kubectl("prod-eu1", &["-n", "shop-prod", "get", "all"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for item in [
        "pod/web-",
        "service/web",
        "deployment.apps/web",
        "statefulset.apps/postgres",
        "replicaset.apps/web-",
    ] {
        assert!(listed.contains(item), "{item}: {listed}");
    }
    let out = s.kubectl("prod-eu1", &["api-resources", "--categories=tekton", "-o", "name"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("pipelineruns.tekton.dev"));
}
