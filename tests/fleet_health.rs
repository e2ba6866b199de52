//! Cluster health tells the truth, checked against the simulator's faults
//! with the watchers' default settings (as the cockpit runs them): after an
//! outage the cluster is live again within 5 s of answering, with nothing
//! changed in it, round after round; a silently stalled watch shows the
//! cluster stale and the model is relisted to the server's truth within 60 s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kdeck_fleet::live::{Fleet, Health};
use kdeck_sim::{Faults, FleetSize, SimHandle, SimOptions};
use serde_json::json;

mod common;
use common::{model_apps as model, stored_clusters, truth_apps as truth, until};

async fn one_cluster() -> (Vec<SimHandle>, Fleet, tempfile::TempDir) {
    let handles = kdeck_sim::start(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "admin", dir.path()).await;
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    // Nobody reads the notices here; keep the channel open.
    std::mem::forget(rx);
    let fleet = Fleet::start(&clusters, &[], tx);
    until("live", Duration::from_secs(15), || {
        fleet.snapshot().iter().all(|s| s.health == Health::Live)
    })
    .await;
    (handles, fleet, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_each_outage_the_cluster_is_live_within_5s_with_nothing_changed() {
    let (handles, fleet, _dir) = one_cluster().await;
    let h = &handles[0];
    let mut took = Vec::new();
    for round in 0..6 {
        h.set_up(false);
        until("unreachable", Duration::from_secs(10), || {
            matches!(fleet.cluster(&h.name).unwrap().health, Health::Unreachable { .. })
        })
        .await;
        // Down long enough for the watchers' backoff to grow.
        tokio::time::sleep(Duration::from_millis(2500 + 700 * round)).await;
        h.set_up(true);
        let back = tokio::time::Instant::now();
        let deadline = back + Duration::from_secs(5);
        loop {
            let s = fleet.cluster(&h.name).unwrap();
            if s.health == Health::Live && model(&s) == truth(h) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: still {:?} 5 s after the cluster answered again",
                s.health
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        took.push(back.elapsed());
    }
    eprintln!("live again after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_stalled_watch_shows_stale_and_is_relisted_to_the_truth() {
    let (handles, fleet, _dir) = one_cluster().await;
    let h = &handles[0];
    h.set_faults(Faults {
        stall_watches: true,
        ..Default::default()
    });
    let stalled = tokio::time::Instant::now();
    // Changes the stalled watches never deliver.
    for i in 0..3 {
        let name = format!("after-stall-{i}");
        h.put("Deployment", "shop-prod", json!({"metadata": {"name": name, "namespace": "shop-prod"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}));
    }
    let mut saw_stale = None;
    let mut matched = None;
    let deadline = stalled + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline && (saw_stale.is_none() || matched.is_none()) {
        let s = fleet.cluster(&h.name).unwrap();
        if saw_stale.is_none()
            && let Health::Stale { why, .. } = &s.health
        {
            assert!(why.contains("said nothing"), "{why}");
            saw_stale = Some(stalled.elapsed());
        }
        if matched.is_none() && model(&s) == truth(h) {
            matched = Some(stalled.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = fleet.cluster(&h.name).unwrap();
    assert!(saw_stale.is_some(), "never shown stale; health {:?}", s.health);
    assert!(
        matched.is_some(),
        "the model does not match the server 60 s after the stall: {} vs {} apps",
        model(&s).len(),
        truth(h).len()
    );
    // The stall ends: live again, and changes flow.
    h.set_faults(Faults::default());
    until("live after the stall", Duration::from_secs(60), || {
        let s = fleet.cluster(&h.name).unwrap();
        s.health == Health::Live && model(&s) == truth(h)
    })
    .await;
    eprintln!("stale after {saw_stale:?}, equal to the server after {matched:?}");
}
