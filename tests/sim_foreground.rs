//! Foreground deletion as the API server and its garbage collector do it,
//! with the real kube client and kubectl: the DELETE answers the object,
//! marked with a deletionTimestamp and the foregroundDeletion finalizer; it
//! stays until its ReplicaSets and their pods are gone, then goes itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::Setup;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, DeleteParams};

const CTX: &str = "prod-eu1";
const NS: &str = "shop-prod";

#[test]
fn a_foreground_delete_answers_the_marked_object_and_ends_with_its_dependents() {
    let s = Setup::new();
    let h = s.handles[0].clone();
    let answer = s.rt.block_on(async move {
        let kc =
            kube::config::Kubeconfig::from_yaml(&kdeck_sim::kubeconfig(std::slice::from_ref(&h), "admin")).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap();
        let api: Api<Deployment> = Api::namespaced(kube::Client::try_from(cfg).unwrap(), NS);
        api.delete("web", &DeleteParams::foreground()).await.unwrap()
    });
    let marked = answer.left().expect("the object, not a Status");
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert!(
        marked
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"foregroundDeletion".to_string()),
        "the finalizer is on the answer"
    );
    s.until(
        "the deployment, its replicasets and pods to go",
        Duration::from_secs(20),
        || {
            let out = s.kubectl(CTX, &["-n", NS, "get", "deployments,replicasets,pods", "-o", "name"]);
            let names = String::from_utf8_lossy(&out.stdout).to_string();
            !names.lines().any(|l| l.contains("/web"))
        },
    );

    // kubectl's --cascade=foreground waits for the same end.
    let out = s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "delete",
            "deployment",
            "api",
            "--cascade=foreground",
            "--timeout=20s",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = s.kubectl(CTX, &["-n", NS, "get", "replicasets,pods", "-o", "name"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("/api-"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
