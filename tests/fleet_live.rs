//! The live fleet model against simulated clusters: it ends equal to the
//! servers' truth after fault storms, shows a dead cluster unreachable within
//! 5 s while the others keep updating, and recovers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use kdeck_fleet::live::{ClusterSnapshot, Fleet, FleetOptions, Health};
use kdeck_model::SpaceRef;
use kdeck_sim::{Faults, FleetSize, SimHandle, SimOptions};
use serde_json::json;

mod common;
use common::{model_apps, stored_clusters, truth_apps, until};

fn equal(h: &SimHandle, s: &ClusterSnapshot) -> bool {
    let ns_truth: BTreeSet<String> = h
        .truth("Namespace")
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let ns_model: BTreeSet<String> = s.namespaces.keys().cloned().collect();
    let routes_truth: BTreeSet<String> = h
        .truth("Ingress")
        .iter()
        .map(|i| i["metadata"]["resourceVersion"].as_str().unwrap().to_string())
        .collect();
    let routes_model: BTreeSet<String> = s.routes.values().map(|r| r.resource_version.clone()).collect();
    truth_apps(h) == model_apps(s)
        && ns_truth == ns_model
        && routes_truth == routes_model
        && s.services.len() == h.truth("Service").len()
}

fn storm(h: &SimHandle, round: usize) {
    for d in h.truth("Deployment").iter().take(3) {
        let mut v = d.clone();
        v["metadata"]["annotations"]["storm"] = json!(round.to_string());
        h.put("Deployment", d["metadata"]["namespace"].as_str().unwrap(), v);
    }
    let name = format!("storm-{round}");
    h.put("Deployment", "shop-prod", json!({"metadata": {"name": name, "namespace": "shop-prod"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}));
    if round > 0 {
        h.delete("Deployment", "shop-prod", &format!("storm-{}", round - 1));
    }
    h.put("Namespace", "", json!({"metadata": {"name": format!("ns-{round}")}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_equals_the_truth_after_each_storm() {
    let handles = kdeck_sim::start(SimOptions {
        clusters: 2,
        fleet: FleetSize::Small,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "admin", dir.path()).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    // A short watch timeout, so a stalled watch is given up within the test's time.
    let fleet = Fleet::start_with(
        &clusters,
        &[],
        tx,
        FleetOptions {
            watch_timeout_secs: 2,
            ..Default::default()
        },
    );
    until("both live and equal", Duration::from_secs(15), || {
        fleet
            .snapshot()
            .iter()
            .zip(&handles)
            .all(|(s, h)| s.health == Health::Live && equal(h, s))
    })
    .await;
    assert!(rx.try_recv().is_ok(), "changes were announced");
    let snap = fleet.cluster("prod-eu1").unwrap();
    assert_eq!(snap.apps_in("shop-prod").count(), 5);
    assert_eq!(snap.apps_labelled("app.kubernetes.io/name", "web").count(), 5);
    let h = &handles[0];
    let storms: Vec<(&str, Faults)> = vec![
        (
            "dropped watches",
            Faults {
                drop_watch_after_events: Some(2),
                ..Default::default()
            },
        ),
        (
            "short watches",
            Faults {
                drop_watch_after_ms: Some(100),
                ..Default::default()
            },
        ),
        (
            "latency",
            Faults {
                latency_ms: 150,
                drop_watch_after_ms: Some(300),
                ..Default::default()
            },
        ),
        (
            "no bookmarks, tiny history",
            Faults {
                disable_bookmarks: true,
                drop_watch_after_ms: Some(200),
                ..Default::default()
            },
        ),
    ];
    for (round, (what, faults)) in storms.into_iter().enumerate() {
        if what.contains("history") {
            h.set_history(3);
        }
        h.set_faults(faults);
        for i in 0..4 {
            storm(h, round * 10 + i);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        h.set_faults(Faults::default());
        storm(h, round * 10 + 9);
        until(what, Duration::from_secs(20), || {
            equal(h, &fleet.cluster("prod-eu1").unwrap())
        })
        .await;
    }
    // A stall: nothing arrives until the client gives up on the silent watch.
    h.set_faults(Faults {
        stall_watches: true,
        ..Default::default()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    storm(h, 100);
    h.set_faults(Faults::default());
    storm(h, 101);
    let stall_started = tokio::time::Instant::now();
    let deadline = stall_started + Duration::from_secs(90);
    while !equal(h, &fleet.cluster("prod-eu1").unwrap()) {
        if tokio::time::Instant::now() > deadline {
            let s = fleet.cluster("prod-eu1").unwrap();
            let (t, m) = (truth_apps(h), model_apps(&s));
            panic!(
                "no recovery from a stall: health {:?}; missing {:?}; extra {:?}; ns {} vs {}; routes {} vs {}",
                s.health,
                t.difference(&m).take(3).collect::<Vec<_>>(),
                m.difference(&t).take(3).collect::<Vec<_>>(),
                s.namespaces.len(),
                h.truth("Namespace").len(),
                s.routes.len(),
                h.truth("Ingress").len()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("recovered from the stall in {:?}", stall_started.elapsed());
    // An outage with more changes than the history holds: relist after 410.
    h.set_history(3);
    h.set_up(false);
    for i in 0..3 {
        storm(h, 200 + i);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.set_up(true);
    until("relist after an outage", Duration::from_secs(30), || {
        equal(h, &fleet.cluster("prod-eu1").unwrap())
    })
    .await;
    assert!(kdeck_sim::cluster::Stats::get(&h.cluster.stats.watch_410) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_cluster_is_unreachable_within_5s_and_the_others_keep_going() {
    let handles = kdeck_sim::start(SimOptions {
        clusters: 2,
        fleet: FleetSize::Small,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "admin", dir.path()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let fleet = Fleet::start(&clusters, &[], tx);
    until("both live", Duration::from_secs(15), || {
        fleet.snapshot().iter().all(|s| s.health == Health::Live)
    })
    .await;
    let (alive, dead) = (&handles[0], &handles[1]);
    dead.set_up(false);
    let started = tokio::time::Instant::now();
    until("unreachable", Duration::from_secs(5), || {
        matches!(fleet.cluster(&dead.name).unwrap().health, Health::Unreachable { .. })
    })
    .await;
    let took = started.elapsed();
    match &fleet.cluster(&dead.name).unwrap().health {
        Health::Unreachable { why, .. } => {
            assert!(why.contains("connection refused") || why.contains("was cut"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    // Meanwhile the live cluster's changes keep arriving.
    storm(alive, 1);
    until("the live cluster updates", Duration::from_secs(5), || {
        equal(alive, &fleet.cluster(&alive.name).unwrap())
    })
    .await;
    assert_eq!(fleet.cluster(&alive.name).unwrap().health, Health::Live);
    storm(dead, 2);
    dead.set_up(true);
    until("recovery", Duration::from_secs(40), || {
        let s = fleet.cluster(&dead.name).unwrap();
        s.health == Health::Live && equal(dead, &s)
    })
    .await;
    eprintln!("unreachable after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_namespaces_leave_attached_spaces_working() {
    let mut config = kdeck_sim::SimConfig::default();
    config.users.push(kdeck_sim::User {
        name: "restricted".into(),
        token: "kdeck-sim-restricted".into(),
        role: kdeck_sim::Role::Edit,
        namespaces: Some(vec!["shop-prod".into()]),
    });
    let handles = kdeck_sim::start(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        config,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(&handles, "restricted", dir.path()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let attached = [SpaceRef::new("prod-eu1", "shop-prod")];
    let fleet = Fleet::start(&clusters, &attached, tx);
    until("the attached space's apps", Duration::from_secs(15), || {
        fleet.cluster("prod-eu1").unwrap().apps.len() == 5
    })
    .await;
    until("forbidden health", Duration::from_secs(15), || {
        matches!(fleet.cluster("prod-eu1").unwrap().health, Health::Forbidden { .. })
    })
    .await;
    let s = fleet.cluster("prod-eu1").unwrap();
    match &s.health {
        Health::Forbidden { verb, why } => {
            assert_eq!(verb, "list namespaces");
            assert!(why.contains("cannot list resource \"namespaces\""), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(s.apps.values().all(|a| a.namespace == "shop-prod"));
    // It stays current.
    let h = &handles[0];
    storm(h, 1);
    until("updates in the attached space", Duration::from_secs(10), || {
        fleet
            .cluster("prod-eu1")
            .unwrap()
            .apps
            .values()
            .any(|a| a.name == "storm-1")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_tls_and_dns_are_said_in_words() {
    let handles = kdeck_sim::start(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = stored_clusters(&handles, "admin", dir.path()).await.remove(0);
    let mut expired = good.clone();
    expired.name = "expired".into();
    expired.auth.token = Some("an-expired-token".into());
    let mut wrong_ca = good.clone();
    wrong_ca.name = "wrong-ca".into();
    {
        use base64::Engine;
        let other = kdeck_sim::tls::generate().unwrap();
        wrong_ca.tls.ca_data = Some(base64::engine::general_purpose::STANDARD.encode(other.ca_pem));
    }
    let mut no_dns = good.clone();
    no_dns.name = "no-dns".into();
    no_dns.server = "https://cluster.does-not-exist.invalid:6443".into();
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let fleet = Fleet::start(&[good.clone(), expired, wrong_ca, no_dns], &[], tx);
    let why = |name: &str| match &fleet.cluster(name).unwrap().health {
        Health::Unreachable { why, .. } => Some(why.clone()),
        _ => None,
    };
    until("all three unreachable", Duration::from_secs(10), || {
        why("expired").is_some() && why("wrong-ca").is_some() && why("no-dns").is_some()
    })
    .await;
    assert!(
        why("expired")
            .unwrap()
            .contains("rejected the credentials (401 Unauthorized)"),
        "{:?}",
        why("expired")
    );
    assert!(why("expired").unwrap().contains("clusters import --update"));
    assert!(
        why("wrong-ca")
            .unwrap()
            .starts_with("cluster wrong-ca: TLS with https://127.0.0.1:"),
        "{:?}",
        why("wrong-ca")
    );
    assert!(
        why("no-dns").unwrap().contains("does not resolve (DNS)"),
        "{:?}",
        why("no-dns")
    );
    until("the good one live", Duration::from_secs(10), || {
        fleet.cluster(&good.name).unwrap().health == Health::Live
    })
    .await;
}
