//! Fixed fleets for snapshot tests and benchmarks: the same rows every time,
//! with times relative to a given clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::rfc3339;
use crate::fleet::live::{
    AppView, BuildState, BuildView, ClusterSnapshot, Health, NamespaceView, PodView, RouteView, SpaceWatch, Standing,
    StepView, TaskRunView,
};

fn ago(now: OffsetDateTime, secs: i64) -> String {
    rfc3339(now - time::Duration::seconds(secs))
}

fn ns(name: &str) -> NamespaceView {
    NamespaceView {
        name: name.into(),
        labels: BTreeMap::new(),
        terminating: false,
        resource_version: "1".into(),
    }
}

fn app(kind: &'static str, ns: &str, name: &str, ready: i32, desired: i32, image: &str, created: String) -> AppView {
    AppView {
        kind,
        namespace: ns.into(),
        name: name.into(),
        ready,
        desired,
        image: image.into(),
        created,
        resource_version: "1".into(),
        labels: BTreeMap::from([("app.kubernetes.io/name".to_string(), name.to_string())]),
        generation: 1,
        observed_generation: 1,
        updated: desired,
    }
}

/// Three clusters in three states of health, a handful of spaces and apps,
/// routes, pods, and builds (one failed) in `shop-prod` on `prod-eu1`.
pub fn small_fleet(now: OffsetDateTime) -> Vec<Arc<ClusterSnapshot>> {
    let mut prod = ClusterSnapshot::new("prod-eu1");
    prod.health = Health::Live;
    prod.namespaces = Arc::new(
        ["payments-prod", "shop-prod", "search-prod"]
            .iter()
            .map(|n| (n.to_string(), ns(n)))
            .collect(),
    );
    let mut apps = BTreeMap::new();
    for (k, n, name, r, d, img, age) in [
        (
            "Deployment",
            "shop-prod",
            "web",
            2,
            2,
            "ghcr.io/acme/web:1.4.2",
            3 * 86_400,
        ),
        (
            "Deployment",
            "shop-prod",
            "api",
            1,
            2,
            "ghcr.io/acme/api:2.0.1",
            5 * 3600,
        ),
        ("StatefulSet", "shop-prod", "postgres", 1, 1, "postgres:16", 9 * 86_400),
        (
            "Deployment",
            "shop-prod",
            "worker",
            0,
            1,
            "ghcr.io/acme/worker:unpullable",
            300,
        ),
        (
            "Deployment",
            "payments-prod",
            "ledger",
            3,
            3,
            "ghcr.io/acme/ledger:7.1.0",
            40 * 86_400,
        ),
        (
            "Deployment",
            "search-prod",
            "indexer",
            1,
            1,
            "ghcr.io/acme/indexer:0.9.0",
            2 * 86_400,
        ),
    ] {
        apps.insert(
            (Arc::from(n), Arc::from(name), k),
            Arc::new(app(k, n, name, r, d, img, ago(now, age))),
        );
    }
    prod.apps = Arc::new(apps);
    prod.routes = Arc::new(BTreeMap::from([
        (
            (Arc::from("shop-prod"), Arc::from("web")),
            RouteView {
                namespace: "shop-prod".into(),
                ingress: "web".into(),
                rules: vec![("web-shop-prod.apps.prod-eu1.example.com".into(), "web".into())],
                resource_version: "1".into(),
            },
        ),
        (
            (Arc::from("shop-prod"), Arc::from("api")),
            RouteView {
                namespace: "shop-prod".into(),
                ingress: "api".into(),
                rules: vec![("shop.example.com/api".into(), "api".into())],
                resource_version: "1".into(),
            },
        ),
    ]));
    let pod = |name: &str, app: &str, status: &str, ready: u32, restarts: u32| PodView {
        namespace: "shop-prod".into(),
        name: name.into(),
        app: Some(("Deployment", app.to_string())),
        task_run: None,
        phase: "Running".into(),
        status: status.into(),
        ready,
        total: 1,
        restarts,
        containers: vec![app.to_string()],
        node: "node-a".into(),
        created: ago(now, 3600),
        resource_version: "1".into(),
    };
    prod.pods = Arc::new(
        [
            pod("web-7d9f8c6b5-x2x4z", "web", "Running", 1, 0),
            pod("web-7d9f8c6b5-q8k2m", "web", "Running", 1, 0),
            pod("api-5c4b9d7f8-hh2lp", "api", "Running", 1, 0),
            pod("api-5c4b9d7f8-mm9wd", "api", "CrashLoopBackOff", 0, 7),
        ]
        .into_iter()
        .map(|p| ((Arc::from("shop-prod"), Arc::from(p.name.as_str())), p))
        .collect(),
    );
    let build = |name: &str, app: &str, state: BuildState, start: i64, secs: i64| BuildView {
        namespace: "shop-prod".into(),
        name: name.into(),
        pipeline: "build".into(),
        app: Some(app.into()),
        state,
        reason: String::new(),
        message: String::new(),
        started: ago(now, start),
        finished: if state.finished() {
            ago(now, start - secs)
        } else {
            String::new()
        },
        created: ago(now, start),
        resource_version: "1".into(),
    };
    prod.builds = Arc::new(
        [
            build("build-web-12", "web", BuildState::Succeeded, 7200, 154),
            build("build-api-7", "api", BuildState::Failed, 1800, 62),
            build("build-web-13", "web", BuildState::Running, 45, 0),
        ]
        .into_iter()
        .map(|b| ((Arc::from("shop-prod"), Arc::from(b.name.as_str())), b))
        .collect(),
    );
    let failed = TaskRunView {
        namespace: "shop-prod".into(),
        name: "build-api-7-test".into(),
        pipeline_run: Some("build-api-7".into()),
        task: "test".into(),
        state: BuildState::Failed,
        reason: "Failed".into(),
        message: "\"step-unit\" exited with code 1".into(),
        pod: "build-api-7-test-pod".into(),
        steps: vec![StepView {
            name: "unit".into(),
            container: "step-unit".into(),
            state: BuildState::Failed,
            exit_code: Some(1),
            reason: "Error".into(),
        }],
        started: ago(now, 1800),
        finished: ago(now, 1738),
        resource_version: "1".into(),
    };
    prod.task_runs = Arc::new(BTreeMap::from([(
        (Arc::from("shop-prod"), Arc::from(failed.name.as_str())),
        failed,
    )]));
    prod.focus = Arc::new(BTreeMap::from([(
        "shop-prod".to_string(),
        SpaceWatch {
            pods: Standing::Live,
            builds: Standing::Live,
        },
    )]));

    let mut stage = ClusterSnapshot::new("stage-eu1");
    stage.health = Health::Stale {
        since: ago(now, 40),
        why: "cluster stage-eu1: https://10.0.0.2:6443 has not answered for 40 s".into(),
    };
    stage.namespaces = Arc::new([("shop-stage".to_string(), ns("shop-stage"))].into_iter().collect());
    stage.apps = Arc::new(BTreeMap::from([(
        (Arc::from("shop-stage"), Arc::from("web"), "Deployment"),
        Arc::new(app(
            "Deployment",
            "shop-stage",
            "web",
            1,
            1,
            "ghcr.io/acme/web:1.5.0-rc1",
            ago(now, 600),
        )),
    )]));

    let mut dev = ClusterSnapshot::new("dev-us1");
    dev.health = Health::Unreachable {
        since: ago(now, 300),
        why: "cluster dev-us1: nothing answers at https://10.0.0.3:6443 (connection refused)".into(),
    };
    vec![Arc::new(dev), Arc::new(prod), Arc::new(stage)]
}

/// A large fleet for benchmarks: `clusters` × `spaces` × `apps` apps.
pub fn large_fleet(now: OffsetDateTime, clusters: usize, spaces: usize, apps: usize) -> Vec<Arc<ClusterSnapshot>> {
    let names = [
        "web",
        "api",
        "worker",
        "cart",
        "orders",
        "gateway",
        "auth",
        "search",
        "notifier",
        "scheduler",
    ];
    (0..clusters)
        .map(|c| {
            let mut s = ClusterSnapshot::new(&format!("cluster-{c:02}"));
            s.health = Health::Live;
            let mut nss = BTreeMap::new();
            let mut all = BTreeMap::new();
            for i in 0..spaces {
                let n = format!("team-{i:03}");
                nss.insert(n.clone(), ns(&n));
                for j in 0..apps {
                    let name = format!("{}-{j}", names[j % names.len()]);
                    all.insert(
                        (Arc::from(n.as_str()), Arc::from(name.as_str()), "Deployment"),
                        Arc::new(app(
                            "Deployment",
                            &n,
                            &name,
                            1,
                            1,
                            "ghcr.io/acme/app:1.0.0",
                            ago(now, 3600),
                        )),
                    );
                }
            }
            s.namespaces = Arc::new(nss);
            s.apps = Arc::new(all);
            Arc::new(s)
        })
        .collect()
}
