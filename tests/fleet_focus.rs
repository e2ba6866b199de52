//! The on-demand parts of the live model against the simulator: pods and
//! Tekton builds of the spaces in view (started and stopped as the view
//! changes), a server that goes quiet, and spaces attached while running.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use kdeck_fleet::live::{BuildState, Fleet, FleetOptions, Health, Standing};
use kdeck_model::SpaceRef;
use kdeck_sim::{Faults, FleetSize, SimHandle, SimOptions};
use serde_json::json;

mod common;
use common::{stored_clusters, until};

fn names_in(h: &SimHandle, kind: &str, ns: &str) -> BTreeSet<String> {
    h.truth(kind)
        .iter()
        .filter(|o| o["metadata"]["namespace"].as_str().unwrap_or("") == ns)
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// The spaces that have builds, in name order.
fn spaces_with_builds(h: &SimHandle) -> Vec<String> {
    let set: BTreeSet<String> = h
        .truth("PipelineRun")
        .iter()
        .map(|o| o["metadata"]["namespace"].as_str().unwrap().to_string())
        .collect();
    set.into_iter().collect()
}

fn open_watches(h: &SimHandle, plural: &str) -> Vec<String> {
    h.cluster
        .stats
        .open_watches()
        .into_iter()
        .filter(|(k, _)| k.ends_with(&format!("/{plural}")))
        .map(|(k, _)| k)
        .collect()
}

async fn start(clusters: usize, config: kdeck_sim::SimConfig) -> Vec<SimHandle> {
    kdeck_sim::start(SimOptions {
        clusters,
        fleet: FleetSize::Small,
        config,
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_and_builds_are_watched_for_the_spaces_in_view_only() {
    let handles = start(1, Default::default()).await;
    let h = &handles[0];
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "admin", dir.path()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let fleet = Fleet::start(&clusters, &[], tx);
    let snap = || fleet.cluster(&h.name).unwrap();
    until("live", Duration::from_secs(15), || snap().health == Health::Live).await;
    assert!(
        snap().pods.is_empty() && snap().focus.is_empty(),
        "nothing in view, no pods"
    );
    assert!(open_watches(h, "pods").is_empty());

    let spaces = spaces_with_builds(h);
    let (a, b) = (spaces[0].clone(), spaces[1].clone());
    fleet.focus(&[SpaceRef::new(&h.name, &a)]);
    until("pods and builds of the space in view", Duration::from_secs(10), || {
        let s = snap();
        s.focus
            .get(&a)
            .is_some_and(|w| w.pods == Standing::Live && w.builds == Standing::Live)
            && s.pods_in(&a).map(|p| p.name.clone()).collect::<BTreeSet<_>>() == names_in(h, "Pod", &a)
            && s.builds_in(&a).len() == names_in(h, "PipelineRun", &a).len()
    })
    .await;
    let s = snap();
    assert!(s.pods.keys().all(|(ns, _)| **ns == *a), "only the space in view");
    // Each watch follows the list that made its kind live: it opens a moment later.
    until("the space's pod and run watches", Duration::from_secs(5), || {
        open_watches(h, "pods") == vec![format!("{a}/pods")]
            && open_watches(h, "pipelineruns") == vec![format!("{a}/pipelineruns")]
    })
    .await;
    // An app's pods, through its ReplicaSet.
    let web = h
        .truth("Deployment")
        .into_iter()
        .find(|d| d["metadata"]["namespace"] == a.as_str())
        .unwrap();
    let web_name = web["metadata"]["name"].as_str().unwrap();
    let replicas = web["spec"]["replicas"].as_i64().unwrap() as usize;
    until("the app's pods", Duration::from_secs(10), || {
        snap().pods_of(&a, "Deployment", web_name).count() == replicas
    })
    .await;

    // The seeded builds finish; each shows its TaskRuns.
    until("builds succeed", Duration::from_secs(15), || {
        let s = snap();
        let b = s.builds_in(&a);
        !b.is_empty()
            && b.iter().all(|b| b.state == BuildState::Succeeded)
            && b.iter().all(|x| !s.task_runs_of(&a, &x.name).is_empty())
    })
    .await;

    // A failing build names its failing step.
    h.put(
        "PipelineRun",
        &a,
        json!({"metadata": {"name": "build-broken", "namespace": a},
        "spec": {"pipelineSpec": {"tasks": [{"name": "unit", "taskSpec": {"steps": [
            {"name": "compile", "image": "golang"}, {"name": "fail-tests", "image": "golang", "script": "echo 2 tests failed\nexit 1"}]}}]}}}),
    );
    until("the failed build", Duration::from_secs(15), || {
        let s = snap();
        s.builds
            .get(&(Arc::from(a.as_str()), Arc::from("build-broken")))
            .is_some_and(|b| b.state == BuildState::Failed)
            && s.failing_step(&a, "build-broken").is_some()
    })
    .await;
    let s = snap();
    let (task_run, step) = s.failing_step(&a, "build-broken").unwrap();
    assert_eq!(
        (task_run.task.as_str(), step.name.as_str(), step.exit_code),
        ("unit", "fail-tests", Some(1))
    );
    assert_eq!(step.container, "step-fail-tests");
    // The step pod is there too, named by its TaskRun.
    assert!(
        s.pods_in(&a)
            .any(|p| p.task_run.as_deref() == Some(task_run.name.as_str()))
    );

    // The view moves: the old space's rows and watches go, the new one's come.
    fleet.focus(&[SpaceRef::new(&h.name, &b)]);
    until("the other space", Duration::from_secs(10), || {
        let s = snap();
        s.focus.keys().collect::<Vec<_>>() == vec![&b]
            && s.pods.keys().all(|(ns, _)| **ns == *b)
            && s.pods_in(&b).map(|p| p.name.clone()).collect::<BTreeSet<_>>() == names_in(h, "Pod", &b)
            && !s.builds.keys().any(|(ns, _)| **ns == *a)
    })
    .await;
    until("the old watches closed", Duration::from_secs(10), || {
        open_watches(h, "pods") == vec![format!("{b}/pods")]
    })
    .await;

    // Nothing in view: no pods, no builds, no watches of them.
    fleet.focus(&[]);
    until("nothing in view", Duration::from_secs(10), || {
        let s = snap();
        s.pods.is_empty() && s.builds.is_empty() && s.task_runs.is_empty() && s.focus.is_empty()
    })
    .await;
    until("no pod watches", Duration::from_secs(10), || {
        open_watches(h, "pods").is_empty() && open_watches(h, "taskruns").is_empty()
    })
    .await;
    assert_eq!(snap().health, Health::Live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_spaces_in_view_share_one_cluster_wide_watch() {
    let handles = start(1, Default::default()).await;
    let h = &handles[0];
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "admin", dir.path()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let opts = FleetOptions {
        focus_per_space_limit: 2,
        ..Default::default()
    };
    let fleet = Fleet::start_with(&clusters, &[], tx, opts);
    let spaces: Vec<String> = names_in(h, "Namespace", "")
        .into_iter()
        .filter(|n| !names_in(h, "Pod", n).is_empty())
        .take(3)
        .collect();
    assert_eq!(spaces.len(), 3);
    let refs: Vec<SpaceRef> = spaces.iter().map(|n| SpaceRef::new(&h.name, n)).collect();
    fleet.focus(&refs);
    let want = |spaces: &[String]| -> BTreeSet<(String, String)> {
        spaces
            .iter()
            .flat_map(|n| names_in(h, "Pod", n).into_iter().map(move |p| (n.clone(), p)))
            .collect()
    };
    until("the pods of the three spaces", Duration::from_secs(10), || {
        let s = fleet.cluster(&h.name).unwrap();
        s.pods
            .keys()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<BTreeSet<_>>()
            == want(&spaces)
            && s.focus.values().all(|w| w.pods == Standing::Live)
    })
    .await;
    // The watch follows the list that made the pods live: it opens a moment later.
    until("one cluster-wide pod watch", Duration::from_secs(5), || {
        open_watches(h, "pods") == vec!["*/pods".to_string()]
    })
    .await;
    // Down to two: per space again, and the third space's pods are gone.
    fleet.focus(&refs[..2]);
    until("two spaces", Duration::from_secs(10), || {
        let s = fleet.cluster(&h.name).unwrap();
        s.pods
            .keys()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<BTreeSet<_>>()
            == want(&spaces[..2])
    })
    .await;
    until("per-space watches", Duration::from_secs(10), || {
        open_watches(h, "pods").len() == 2 && !open_watches(h, "pods").contains(&"*/pods".to_string())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_tekton_says_so_and_pods_still_work() {
    let config = kdeck_sim::SimConfig {
        tekton: false,
        ..Default::default()
    };
    let handles = start(1, config).await;
    let h = &handles[0];
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "admin", dir.path()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let fleet = Fleet::start(&clusters, &[], tx);
    let ns = names_in(h, "Namespace", "")
        .into_iter()
        .find(|n| !names_in(h, "Pod", n).is_empty())
        .unwrap();
    fleet.focus(&[SpaceRef::new(&h.name, &ns)]);
    until("pods live, builds failed", Duration::from_secs(10), || {
        let s = fleet.cluster(&h.name).unwrap();
        s.focus.get(&ns).is_some_and(|w| {
            w.pods == Standing::Live
                && matches!(&w.builds, Standing::Failed { why } if why.contains("Tekton Pipelines is not installed"))
        })
    })
    .await;
    // A missing optional API is not the cluster's health: it comes live
    // (its main watches may still be listing on a loaded machine).
    until("the cluster live with builds failed", Duration::from_secs(15), || {
        let s = fleet.cluster(&h.name).unwrap();
        s.health == Health::Live
            && s.focus
                .get(&ns)
                .is_some_and(|w| matches!(w.builds, Standing::Failed { .. }))
    })
    .await;
    let s = fleet.cluster(&h.name).unwrap();
    assert!(s.pods_in(&ns).count() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_server_is_stale_then_unreachable_and_recovers_without_waiting_for_the_watch_timeout() {
    let handles = start(2, Default::default()).await;
    let (quiet, other) = (&handles[0], &handles[1]);
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "admin", dir.path()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let opts = FleetOptions {
        probe_every: Duration::from_millis(300),
        probe_timeout: Duration::from_millis(500),
        stale_to_unreachable: Duration::from_secs(3),
        // Long: recovery must not come from kube's idle timeout (60 s).
        watch_timeout_secs: 55,
        ..Default::default()
    };
    let fleet = Fleet::start_with(&clusters, &[], tx, opts);
    fleet.focus(&[SpaceRef::new(&quiet.name, "shop-prod")]);
    until("both live", Duration::from_secs(15), || {
        fleet.snapshot().iter().all(|s| s.health == Health::Live)
    })
    .await;
    quiet.set_faults(Faults {
        silent: true,
        ..Default::default()
    });
    let went_quiet = tokio::time::Instant::now();
    until("stale", Duration::from_secs(3), || {
        matches!(fleet.cluster(&quiet.name).unwrap().health, Health::Stale { .. })
    })
    .await;
    let stale_after = went_quiet.elapsed();
    match fleet.cluster(&quiet.name).unwrap().health.clone() {
        Health::Stale { since, why } => {
            assert!(since.ends_with('Z'), "{since}");
            assert!(why.contains("has not answered for"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // Changes made meanwhile are not seen; the other cluster is unaffected.
    quiet.put("Deployment", "shop-prod", json!({"metadata": {"name": "made-while-quiet", "namespace": "shop-prod"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "q"}},
                 "template": {"metadata": {"labels": {"app": "q"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}));
    other.put(
        "Namespace",
        "",
        json!({"metadata": {"name": "while-the-other-was-quiet"}}),
    );
    until("the other cluster updates", Duration::from_secs(5), || {
        fleet
            .cluster(&other.name)
            .unwrap()
            .namespaces
            .contains_key("while-the-other-was-quiet")
    })
    .await;
    assert_eq!(fleet.cluster(&other.name).unwrap().health, Health::Live);
    until("unreachable after a long silence", Duration::from_secs(6), || {
        matches!(fleet.cluster(&quiet.name).unwrap().health, Health::Unreachable { .. })
    })
    .await;
    // It speaks again: fresh watches catch up at once.
    quiet.set_faults(Faults::default());
    let back = tokio::time::Instant::now();
    until("caught up", Duration::from_secs(10), || {
        let s = fleet.cluster(&quiet.name).unwrap();
        s.health == Health::Live
            && s.apps.keys().any(|(_, n, _)| &**n == "made-while-quiet")
            && s.pods_in("shop-prod").any(|p| p.name.starts_with("made-while-quiet-"))
    })
    .await;
    eprintln!(
        "stale after {stale_after:?}; caught up {:?} after the server spoke again",
        back.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spaces_attached_while_running_are_watched_for_a_restricted_user() {
    let mut config = kdeck_sim::SimConfig::default();
    config.users.push(kdeck_sim::User {
        name: "restricted".into(),
        token: "kdeck-sim-restricted".into(),
        role: kdeck_sim::Role::Edit,
        namespaces: Some(vec!["shop-prod".into(), "payments-prod".into()]),
    });
    let handles = start(1, config).await;
    let h = &handles[0];
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "restricted", dir.path()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let fleet = Fleet::start(&clusters, &[], tx);
    let snap = || fleet.cluster(&h.name).unwrap();
    until("forbidden, with the way out", Duration::from_secs(10), || {
        matches!(&snap().health, Health::Forbidden { why, .. } if why.contains("kdeck spaces attach prod-eu1/NAMESPACE"))
    })
    .await;
    assert!(snap().restricted);
    assert!(snap().apps.is_empty());
    fleet.set_attached(&[SpaceRef::new(&h.name, "shop-prod")]);
    until("the attached space's apps", Duration::from_secs(10), || {
        snap().apps.len()
            == names_in(h, "Deployment", "shop-prod").len() + names_in(h, "StatefulSet", "shop-prod").len()
    })
    .await;
    match snap().health.clone() {
        Health::Forbidden { verb, .. } => assert_eq!(verb, "list namespaces"),
        other => panic!("{other:?}"),
    }
    fleet.set_attached(&[
        SpaceRef::new(&h.name, "shop-prod"),
        SpaceRef::new(&h.name, "payments-prod"),
    ]);
    until("both spaces", Duration::from_secs(10), || {
        let s = snap();
        let spaces: BTreeSet<&str> = s.apps.keys().map(|(ns, _, _)| &**ns).collect();
        spaces == BTreeSet::from(["shop-prod", "payments-prod"])
    })
    .await;
    // Detached: its rows go.
    fleet.set_attached(&[SpaceRef::new(&h.name, "payments-prod")]);
    until("one space again", Duration::from_secs(10), || {
        snap().apps.keys().all(|(ns, _, _)| &**ns == "payments-prod")
    })
    .await;
    // Pods of an attached space in view work the same way.
    fleet.focus(&[SpaceRef::new(&h.name, "payments-prod")]);
    until("pods", Duration::from_secs(10), || {
        snap().pods_in("payments-prod").count() == names_in(h, "Pod", "payments-prod").len()
            && snap()
                .focus
                .get("payments-prod")
                .is_some_and(|w| w.pods == Standing::Live)
    })
    .await;
}
