//! The real kube-rs client against the simulator over loopback HTTPS:
//! watchers that survive each injected fault and end equal to the server's
//! truth, paged lists, server-side apply conflicts, and followed logs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kdeck_sim::cluster::Stats;
use kdeck_sim::{FailRule, Faults, FleetSize, SimHandle, SimOptions};
use kube::api::{Api, ListParams, LogParams, Patch, PatchParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

async fn sim(spaces: usize, apps: usize) -> SimHandle {
    let opts = SimOptions {
        clusters: 1,
        fleet: FleetSize::Custom { spaces, apps },
        ..Default::default()
    };
    kdeck_sim::start(opts).await.expect("simulator starts").remove(0)
}

async fn client(h: &SimHandle, user: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&kdeck_sim::kubeconfig(std::slice::from_ref(h), user)).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

type Keys = BTreeSet<(String, String, String)>;

fn truth(h: &SimHandle) -> Keys {
    h.truth("Deployment")
        .iter()
        .map(|d| {
            let m = &d["metadata"];
            (
                m["namespace"].as_str().unwrap().into(),
                m["name"].as_str().unwrap().into(),
                m["resourceVersion"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn seen(store: &Store<Deployment>) -> Keys {
    store
        .state()
        .iter()
        .map(|d| {
            (
                d.metadata.namespace.clone().unwrap_or_default(),
                d.metadata.name.clone().unwrap_or_default(),
                d.metadata.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Starts a reflector over all Deployments, with the default backoff.
fn reflect(client: kube::Client, cfg: watcher::Config) -> (Store<Deployment>, tokio::task::JoinHandle<()>) {
    let (reader, writer) = reflector::store();
    let api: Api<Deployment> = Api::all(client);
    let stream = reflector::reflector(writer, watcher(api, cfg).default_backoff());
    let task = tokio::spawn(async move {
        stream.for_each(|_| async {}).await;
    });
    (reader, task)
}

/// Waits until the reflector holds exactly what the server holds.
async fn converges(h: &SimHandle, store: &Store<Deployment>, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (t, s) = (truth(h), seen(store));
        if t == s && !t.is_empty() {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            let missing: Vec<_> = t.difference(&s).take(5).collect();
            let extra: Vec<_> = s.difference(&t).take(5).collect();
            panic!(
                "watcher did not converge: {} on server, {} seen; missing {missing:?}, extra {extra:?}",
                t.len(),
                s.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Changes the server: annotate, add and delete deployments.
fn storm(h: &SimHandle, round: usize) {
    for (i, d) in h.truth("Deployment").iter().enumerate().take(4) {
        let mut v = d.clone();
        v["metadata"]["annotations"]["storm"] = json!(format!("{round}-{i}"));
        h.put("Deployment", d["metadata"]["namespace"].as_str().unwrap(), v);
    }
    let name = format!("storm-{round}");
    h.put(
        "Deployment",
        "shop-prod",
        json!({"metadata": {"name": name, "namespace": "shop-prod"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
    );
    if round > 0 {
        h.delete("Deployment", "shop-prod", &format!("storm-{}", round - 1));
    }
}

async fn fault_storm(faults: Faults, cfg: watcher::Config, settle: Duration) -> SimHandle {
    let h = sim(3, 4).await;
    let (store, task) = reflect(client(&h, "admin").await, cfg);
    converges(&h, &store, Duration::from_secs(10)).await;
    h.set_faults(faults);
    for round in 0..5 {
        storm(&h, round);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    tokio::time::sleep(settle).await;
    h.set_faults(Faults::default());
    storm(&h, 5);
    converges(&h, &store, Duration::from_secs(20)).await;
    task.abort();
    h
}

fn stat(c: &std::sync::atomic::AtomicU64) -> u64 {
    Stats::get(c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_survives_dropped_watches() {
    let h = fault_storm(
        Faults {
            drop_watch_after_events: Some(2),
            ..Default::default()
        },
        watcher::Config::default(),
        Duration::ZERO,
    )
    .await;
    assert!(stat(&h.cluster.stats.dropped) >= 2, "watches were dropped");
    assert!(stat(&h.cluster.stats.watches) >= 3, "and opened again");
    let h = fault_storm(
        Faults {
            drop_watch_after_ms: Some(100),
            ..Default::default()
        },
        watcher::Config::default(),
        Duration::ZERO,
    )
    .await;
    assert!(stat(&h.cluster.stats.dropped) >= 2);
    assert!(stat(&h.cluster.stats.watches) >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_relists_after_410_when_history_is_gone() {
    let h = sim(3, 4).await;
    let (store, task) = reflect(client(&h, "admin").await, watcher::Config::default());
    converges(&h, &store, Duration::from_secs(10)).await;
    // No bookmarks and a tiny history; while the cluster is down, more changes than the
    // history holds: the watch resumed afterwards must meet 410 and relist.
    h.set_faults(Faults {
        disable_bookmarks: true,
        ..Default::default()
    });
    h.set_history(3);
    h.set_up(false);
    tokio::time::sleep(Duration::from_millis(200)).await;
    for round in 0..3 {
        storm(&h, round);
    }
    h.set_up(true);
    converges(&h, &store, Duration::from_secs(20)).await;
    assert!(stat(&h.cluster.stats.watch_410) >= 1, "a resumed watch met 410 Expired");
    h.set_faults(Faults::default());
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_relists_when_continue_tokens_expire() {
    let h = sim(4, 5).await;
    h.set_faults(Faults {
        expire_continue: true,
        ..Default::default()
    });
    let (store, task) = reflect(client(&h, "admin").await, watcher::Config::default().page_size(3));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        seen(&store).is_empty(),
        "a paged list cannot finish while every continue token is expired"
    );
    assert!(stat(&h.cluster.stats.continue_410) >= 1);
    h.set_faults(Faults::default());
    converges(&h, &store, Duration::from_secs(20)).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_recovers_from_a_stalled_watch() {
    let h = sim(2, 3).await;
    let (store, task) = reflect(client(&h, "admin").await, watcher::Config::default().timeout(1));
    converges(&h, &store, Duration::from_secs(10)).await;
    // Every watch stalls: the open one goes silent, new ones say nothing.
    h.set_faults(Faults {
        stall_watches: true,
        ..Default::default()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    storm(&h, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_ne!(truth(&h), seen(&store), "nothing gets through a stalled watch");
    assert!(stat(&h.cluster.stats.stalled) >= 1);
    h.set_faults(Faults::default());
    // The client must give up on the silent watch by itself and watch again.
    converges(&h, &store, Duration::from_secs(20)).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_backs_off_through_errors_and_latency() {
    let fail = |code| Faults {
        fail: vec![FailRule {
            path: "/apis/apps/v1/deployments".into(),
            code,
            times: 3,
        }],
        drop_watch_after_ms: Some(200),
        ..Default::default()
    };
    for code in [500, 429, 403] {
        let h = fault_storm(fail(code), watcher::Config::default(), Duration::from_millis(300)).await;
        let served = stat(&h.cluster.stats.injected);
        assert!((1..=3).contains(&served), "injected {code}s served: {served}");
    }
    fault_storm(
        Faults {
            latency_ms: 150,
            ..Default::default()
        },
        watcher::Config::default(),
        Duration::ZERO,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_recovers_when_the_cluster_comes_back() {
    let h = sim(2, 3).await;
    let (store, task) = reflect(client(&h, "admin").await, watcher::Config::default());
    converges(&h, &store, Duration::from_secs(10)).await;
    h.set_up(false);
    // The port is closed: a fresh connection is refused.
    let addr = h.addr;
    let refused = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(refused.is_ok(), "the port still accepts connections while down");
    for round in 0..3 {
        storm(&h, round);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    h.set_up(true);
    converges(&h, &store, Duration::from_secs(30)).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_lists_return_everything_once() {
    let h = sim(5, 6).await;
    let api: Api<Deployment> = Api::all(client(&h, "admin").await);
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut lp = ListParams::default().limit(7);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        let page = api.list(&lp).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 7);
        names.extend(page.items.iter().map(|d| {
            format!(
                "{}/{}",
                d.metadata.namespace.as_deref().unwrap(),
                d.metadata.name.as_deref().unwrap()
            )
        }));
        token = page.metadata.continue_.filter(|c| !c.is_empty());
        if token.is_none() {
            break;
        }
    }
    let unique: BTreeSet<_> = names.iter().cloned().collect();
    assert_eq!(names.len(), 30);
    assert_eq!(unique.len(), 30);
    assert_eq!(pages, 5);
    // Label selectors filter on the server.
    let lp = ListParams::default().labels("app.kubernetes.io/name in (web,api)");
    assert_eq!(api.list(&lp).await.unwrap().items.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_conflicts_and_force() {
    let h = sim(1, 0).await;
    let api: Api<Deployment> = Api::namespaced(client(&h, "admin").await, "shop-prod");
    let manifest = |replicas: i32, image: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": image}]}}}})
    };
    let created = api
        .patch(
            "web",
            &PatchParams::apply("kdeck"),
            &Patch::Apply(manifest(2, "nginx:1")),
        )
        .await
        .unwrap();
    assert_eq!(created.spec.replicas, Some(2));
    let fields = created.metadata.managed_fields.as_ref().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f.manager.as_deref() == Some("kdeck") && f.operation.as_deref() == Some("Apply"))
    );
    // Another manager wants a different replica count: conflict, naming the field and the owner.
    let err = api
        .patch(
            "web",
            &PatchParams::apply("other"),
            &Patch::Apply(manifest(5, "nginx:1")),
        )
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert!(
                s.message.contains("conflict with \"kdeck\"") && s.message.contains(".spec.replicas"),
                "{}",
                s.message
            );
        }
        other => panic!("expected a 409, got {other}"),
    }
    // The same values are no conflict; force takes the field over.
    api.patch(
        "web",
        &PatchParams::apply("other"),
        &Patch::Apply(manifest(2, "nginx:1")),
    )
    .await
    .unwrap();
    let forced = api
        .patch(
            "web",
            &PatchParams::apply("other").force(),
            &Patch::Apply(manifest(5, "nginx:1")),
        )
        .await
        .unwrap();
    assert_eq!(forced.spec.replicas, Some(5));
    // Apply without a field manager is refused, as a real server does.
    let err = api
        .patch("web", &PatchParams::default(), &Patch::Apply(manifest(1, "nginx:1")))
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 422), "{err}");
    // A stale resourceVersion on replace is a conflict.
    let mut stale = created.clone();
    stale.metadata.managed_fields = None;
    let err = api.replace("web", &Default::default(), &stale).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_and_errors_are_statuses() {
    let h = sim(1, 1).await;
    let c = client(&h, "admin").await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop-prod");
    // Wait for the seeded app's pod to run.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let pod = loop {
        let list = pods
            .list(&ListParams::default().labels("app.kubernetes.io/name=web"))
            .await
            .unwrap();
        if let Some(p) = list
            .items
            .iter()
            .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        {
            break p.metadata.name.clone().unwrap();
        }
        assert!(tokio::time::Instant::now() < deadline, "no pod became Running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let lp = LogParams {
        follow: true,
        timestamps: true,
        ..Default::default()
    };
    let mut lines = pods.log_stream(&pod, &lp).await.unwrap().lines();
    let mut got = Vec::new();
    while got.len() < 3 {
        let l = tokio::time::timeout(Duration::from_secs(5), lines.next())
            .await
            .expect("a line within 5 s")
            .unwrap()
            .unwrap();
        got.push(l);
    }
    assert!(got.iter().all(|l| l.contains("Z level=")), "{got:?}");
    // Errors are full Status objects the client understands.
    let err = pods.logs("nope", &LogParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404 && s.message == "pods \"nope\" not found"),
        "{err}"
    );
    let viewer: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client(&h, "auditor").await, "shop-prod");
    let err = viewer.list(&ListParams::default()).await.unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 403);
            assert_eq!(
                s.message,
                "secrets is forbidden: User \"auditor\" cannot list resource \"secrets\" in API group \"\" in the namespace \"shop-prod\""
            );
        }
        other => panic!("expected 403, got {other}"),
    }
    let kc = kdeck_sim::kubeconfig(std::slice::from_ref(&h), "admin").replace("kdeck-sim-admin", "wrong-token");
    let cfg =
        kube::Config::from_custom_kubeconfig(kube::config::Kubeconfig::from_yaml(&kc).unwrap(), &Default::default())
            .await
            .unwrap();
    let err = Api::<Pod>::all(kube::Client::try_from(cfg).unwrap())
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 401), "{err}");
}
