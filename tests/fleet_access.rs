//! The permissions tracker against a simulated cluster, with the real kube
//! client: it asks SelfSubjectRulesReview only for the spaces it is asked
//! about; a user who may watch RoleBindings sees a grant to them reflected
//! on the binding's own event; one who may not gets it when asked again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{stored_clusters, until};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use kdeck_fleet::Gateway;
use kdeck_fleet::access::Tracker;
use kdeck_model::{Role, SpaceRef};
use kdeck_sim::{FleetSize, SimOptions};
use kube::api::{Api, PostParams};
use serde_json::json;

async fn admin(h: &kdeck_sim::SimHandle) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&kdeck_sim::kubeconfig(std::slice::from_ref(h), "admin")).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

fn grant(user: &str, cluster_role: &str, ns: &str) -> RoleBinding {
    serde_json::from_value(json!({
        "metadata": {"name": format!("{user}-{cluster_role}"), "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_follow_grants_on_the_bindings_own_events_or_when_asked_again() {
    let handles = kdeck_sim::start(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        ..Default::default()
    })
    .await
    .unwrap();
    let h = &handles[0];
    let admin = admin(h).await;
    // ops may watch RoleBindings everywhere, and nothing else.
    let watcher: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": "binding-watcher"},
        "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["get", "list", "watch"]}]
    }))
    .unwrap();
    Api::<ClusterRole>::all(admin.clone())
        .create(&PostParams::default(), &watcher)
        .await
        .unwrap();
    let crb: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "ops-watches-bindings"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "binding-watcher"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "ops"}]
    }))
    .unwrap();
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &crb)
        .await
        .unwrap();

    for (user, by_event) in [("ops", true), ("dana", false)] {
        let dir = tempfile::tempdir().unwrap();
        let clusters = stored_clusters(std::slice::from_ref(h), user, dir.path()).await;
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let tracker = Tracker::start(Gateway::new(), &clusters, tx);
        let shop = SpaceRef::new(&h.name, "shop-prod");
        let other = SpaceRef::new(&h.name, "search-prod");
        tracker.want(&BTreeSet::from([shop.clone()]));
        tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap();
        let map = tracker.snapshot();
        assert_eq!(map.len(), 1, "{user}: only the space asked about is asked");
        assert_eq!(map[&shop].role(), None, "{user} has no role in shop-prod yet");
        assert_eq!(map[&shop].may("patch", "apps", "deployments"), Some(false));

        Api::<RoleBinding>::namespaced(admin.clone(), "shop-prod")
            .create(&PostParams::default(), &grant(user, "edit", "shop-prod"))
            .await
            .unwrap();
        if by_event {
            // The binding's event brings the new answer, unasked.
            until(&format!("{user} is developer"), Duration::from_secs(10), || {
                tracker.snapshot().get(&shop).and_then(|a| a.role()) == Some(Role::Developer)
            })
            .await;
        } else {
            // Not allowed to watch bindings: the old answer stands until asked again.
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(tracker.snapshot()[&shop].role(), None);
            tracker.again(std::slice::from_ref(&shop));
            until(&format!("{user} is developer"), Duration::from_secs(10), || {
                tracker.snapshot().get(&shop).and_then(|a| a.role()) == Some(Role::Developer)
            })
            .await;
        }
        assert!(!tracker.snapshot().contains_key(&other), "never asked about {other}");
    }
}
