//! The simulator authorizes as RBAC does, checked with the real kube client
//! and the real kubectl: a fresh user can do nothing until bound; a
//! RoleBinding to `edit` lets them scale in that namespace only, and its
//! removal takes it back; `view` reads but neither scales nor reads Secrets;
//! groups bind too; and `kubectl auth can-i`, `can-i --list` and `auth
//! whoami` answer from the same rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::Secret;
use kdeck_sim::{FleetSize, SimHandle, SimOptions};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

async fn client(h: &SimHandle, token_user: &str) -> kube::Client {
    let yaml = kdeck_sim::kubeconfig(std::slice::from_ref(h), "admin")
        .replace("kdeck-sim-admin", &format!("kdeck-sim-{token_user}"));
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

async fn scale(c: &kube::Client, ns: &str, replicas: i32) -> Result<(), u16> {
    let api: Api<Deployment> = Api::namespaced(c.clone(), ns);
    match api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": replicas}})),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) => Err(e.code),
        Err(e) => panic!("{e}"),
    }
}

async fn can(c: &kube::Client, ns: &str, verb: &str, group: &str, resource: &str) -> bool {
    let api: Api<SelfSubjectAccessReview> = Api::all(c.clone());
    let r = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(ns.into()),
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &r)
        .await
        .unwrap()
        .status
        .unwrap()
        .allowed
}

fn kubectl(h: &SimHandle, user: &str, args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    std::fs::write(
        &kc,
        kdeck_sim::kubeconfig(std::slice::from_ref(h), "admin")
            .replace("kdeck-sim-admin", &format!("kdeck-sim-{user}")),
    )
    .unwrap();
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kc)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bindings_decide_what_a_user_may_do() {
    let mut config = kdeck_sim::SimConfig::default();
    config.groups.insert("grouped".into(), vec!["shop-devs".into()]);
    let h = kdeck_sim::start(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        config,
        ..Default::default()
    })
    .await
    .unwrap()
    .remove(0);
    let admin = client(&h, "admin").await;
    let fresh = client(&h, "fresh").await;

    // Nobody bound them: nothing, with the real message.
    let deploys: Api<Deployment> = Api::namespaced(fresh.clone(), "shop-prod");
    match deploys.list(&ListParams::default()).await.unwrap_err() {
        kube::Error::Api(e) => {
            assert_eq!(e.code, 403);
            assert_eq!(
                e.message,
                "deployments.apps is forbidden: User \"fresh\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"shop-prod\""
            );
        }
        other => panic!("{other}"),
    }
    assert!(!can(&fresh, "shop-prod", "patch", "apps", "deployments").await);

    // edit in shop-prod: they scale there, not in another namespace.
    let rbs: Api<k8s_openapi::api::rbac::v1::RoleBinding> = Api::namespaced(admin.clone(), "shop-prod");
    let rb: k8s_openapi::api::rbac::v1::RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "fresh-edit", "namespace": "shop-prod"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "fresh"}]}))
    .unwrap();
    rbs.create(&PostParams::default(), &rb).await.unwrap();
    assert_eq!(scale(&fresh, "shop-prod", 3).await, Ok(()));
    assert_eq!(scale(&fresh, "payments-prod", 3).await, Err(403));
    assert!(can(&fresh, "shop-prod", "patch", "apps", "deployments").await);
    assert!(!can(&fresh, "payments-prod", "patch", "apps", "deployments").await);
    assert!(
        !can(
            &fresh,
            "shop-prod",
            "create",
            "rbac.authorization.k8s.io",
            "rolebindings"
        )
        .await
    );
    // kubectl agrees, and says who they are.
    let (yes, text) = kubectl(
        &h,
        "fresh",
        &["auth", "can-i", "patch", "deployments", "-n", "shop-prod"],
    );
    assert!(yes && text.trim() == "yes", "{text}");
    let (yes, text) = kubectl(
        &h,
        "fresh",
        &["auth", "can-i", "patch", "deployments", "-n", "payments-prod"],
    );
    assert!(!yes && text.trim() == "no", "{text}");
    let (ok, text) = kubectl(&h, "fresh", &["auth", "whoami"]);
    assert!(
        ok && text.contains("fresh") && text.contains("system:authenticated"),
        "{text}"
    );
    let (ok, text) = kubectl(&h, "fresh", &["auth", "can-i", "--list", "-n", "shop-prod"]);
    assert!(ok && text.contains("deployments.apps"), "{text}");

    // Revoked: refused again.
    rbs.delete("fresh-edit", &DeleteParams::default()).await.unwrap();
    assert_eq!(scale(&fresh, "shop-prod", 2).await, Err(403));

    // The auditor reads, neither scales nor reads Secrets.
    let auditor = client(&h, "auditor").await;
    let deploys: Api<Deployment> = Api::namespaced(auditor.clone(), "shop-prod");
    assert!(!deploys.list(&ListParams::default()).await.unwrap().items.is_empty());
    assert_eq!(scale(&auditor, "shop-prod", 5).await, Err(403));
    let secrets: Api<Secret> = Api::namespaced(auditor.clone(), "shop-prod");
    assert!(secrets.list(&ListParams::default()).await.is_err());
    let (yes, text) = kubectl(&h, "auditor", &["auth", "can-i", "get", "secrets", "-n", "shop-prod"]);
    assert!(!yes && text.trim() == "no", "{text}");

    // A group bound to view: its member reads.
    let rb: k8s_openapi::api::rbac::v1::RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "devs-view", "namespace": "shop-prod"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "shop-devs"}]}))
    .unwrap();
    rbs.create(&PostParams::default(), &rb).await.unwrap();
    let grouped = client(&h, "grouped").await;
    assert!(can(&grouped, "shop-prod", "list", "apps", "deployments").await);
    assert!(!can(&grouped, "shop-prod", "patch", "apps", "deployments").await);
    let (ok, text) = kubectl(&h, "grouped", &["auth", "whoami"]);
    assert!(ok && text.contains("shop-devs"), "{text}");
}

/// `kdeck whoami` and `kdeck can`, each user with a store of their own,
/// against `kubectl auth whoami` and `kubectl auth can-i`.
#[test]
fn kdeck_can_agrees_with_kubectl_auth_can_i() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let h = rt
        .block_on(kdeck_sim::start(SimOptions {
            clusters: 1,
            fleet: FleetSize::Small,
            ..Default::default()
        }))
        .unwrap()
        .remove(0);
    let dir = tempfile::tempdir().unwrap();
    let kdeck = |user: &str, args: &[&str]| {
        let data = dir.path().join(user);
        let kc = dir.path().join(format!("{user}.kc"));
        if !kc.exists() {
            std::fs::write(
                &kc,
                kdeck_sim::kubeconfig(std::slice::from_ref(&h), "admin")
                    .replace("kdeck-sim-admin", &format!("kdeck-sim-{user}")),
            )
            .unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_kdeck"))
                .arg("--data-dir")
                .arg(&data)
                .args(["clusters", "import"])
                .arg(&kc)
                .output()
                .unwrap();
            assert!(out.status.success());
        }
        let out = Command::new(env!("CARGO_BIN_EXE_kdeck"))
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = kdeck("developer", &["whoami"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("prod-eu1") && out.contains("developer") && out.contains("system:authenticated"),
        "{out}"
    );
    let asks = [
        ("patch", "deployments"),
        ("patch", "deployments/scale"),
        ("get", "secrets"),
        ("create", "rolebindings"),
        ("get", "pods/log"),
        ("create", "pipelineruns"),
        ("list", "pipelineruns.tekton.dev"),
    ];
    for user in ["developer", "auditor", "nobody"] {
        for (verb, resource) in asks {
            let (code, out) = kdeck(user, &["can", "prod-eu1/shop-prod", verb, resource]);
            let (_, theirs) = kubectl(&h, user, &["auth", "can-i", verb, resource, "-n", "shop-prod"]);
            assert_eq!(
                out.trim(),
                theirs.lines().last().unwrap_or("").trim(),
                "{user} {verb} {resource}"
            );
            assert_eq!(code, Some(if out.trim() == "yes" { 0 } else { 1 }));
        }
    }
    let (code, _) = kdeck("developer", &["can", "prod-eu1/shop-prod", "get", "gadgets"]);
    assert_eq!(code, Some(2), "an unknown resource is a usage error naming it");
    drop(rt);
}
