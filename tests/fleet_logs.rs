//! Pod logs against the simulator: an app's pods merged with a prefix and
//! followed through a rollout, a cut connection resumed without lost or
//! repeated lines, failures shown as lines, and `kdeck logs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kdeck_fleet::live::Fleet;
use kdeck_fleet::logs::{LineKind, LogBuffer, LogLine, LogRequest, LogSource};
use kdeck_sim::{FleetSize, SimConfig, SimHandle, SimOptions};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod common;
use common::stored_clusters;

const INTERVAL: Duration = Duration::from_millis(50);

async fn sim() -> Vec<SimHandle> {
    kdeck_sim::start(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        config: SimConfig {
            log_interval: INTERVAL,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap()
}

fn pods_of(h: &SimHandle, ns: &str, app: &str) -> BTreeSet<String> {
    h.truth("Pod")
        .iter()
        .filter(|p| p["metadata"]["namespace"] == ns && p["metadata"]["labels"]["app.kubernetes.io/name"] == app)
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// A fleet on the simulated clusters, with its clients made.
async fn fleet_on(handles: &[SimHandle]) -> (tempfile::TempDir, Fleet) {
    let dir = tempfile::tempdir().unwrap();
    let clusters = stored_clusters(handles, "admin", dir.path()).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let fleet = Fleet::start(&clusters, &[], tx);
    for h in handles {
        fleet.client_within(&h.name, Duration::from_secs(5)).await.unwrap();
    }
    (dir, fleet)
}

/// Collects lines for `d`, or until `stop` says so.
async fn collect(
    stream: &mut kdeck_fleet::logs::LogStream,
    d: Duration,
    mut stop: impl FnMut(&[LogLine]) -> bool,
) -> Vec<LogLine> {
    let deadline = tokio::time::Instant::now() + d;
    let mut got = Vec::new();
    while let Ok(Some(l)) = tokio::time::timeout_at(deadline, stream.next()).await {
        got.push(l);
        if stop(&got) {
            break;
        }
    }
    got
}

fn stamp(l: &LogLine) -> OffsetDateTime {
    OffsetDateTime::parse(l.time.as_deref().unwrap(), &Rfc3339).unwrap()
}

/// Each source's lines are the simulator's lines one after another: no gap
/// (a lost line) and no repeat.
fn contiguous(lines: &[LogLine]) -> Result<(), String> {
    let mut by_source: BTreeMap<&str, Vec<OffsetDateTime>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.kind == LineKind::Out) {
        by_source.entry(&l.source).or_default().push(stamp(l));
    }
    for (src, ts) in by_source {
        for w in ts.windows(2) {
            let gap = w[1] - w[0];
            if gap != time::Duration::try_from(INTERVAL).unwrap() {
                return Err(format!("{src}: {} then {} ({gap})", w[0], w[1]));
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apps_pods_are_merged_with_a_prefix_and_followed_through_a_rollout() {
    let handles = sim().await;
    let h = &handles[0];
    let (_dir, fleet) = fleet_on(&handles).await;
    // An app with two replicas.
    let (ns, app) = h
        .truth("Deployment")
        .iter()
        .find(|d| d["spec"]["replicas"] == 2)
        .map(|d| {
            (
                d["metadata"]["namespace"].as_str().unwrap().to_string(),
                d["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .unwrap();
    let before = pods_of(h, &ns, &app);
    assert_eq!(before.len(), 2);
    let mut stream = fleet
        .logs(
            &h.name,
            LogRequest {
                namespace: ns.clone(),
                source: LogSource::App(app.clone()),
                container: None,
                follow: true,
                tail: Some(5),
                previous: false,
            },
        )
        .unwrap();
    let first = collect(&mut stream, Duration::from_secs(5), |got| {
        let sources: BTreeSet<&str> = got.iter().map(|l| &*l.source).collect();
        sources.len() == 2 && got.len() >= 30
    })
    .await;
    let sources: BTreeSet<String> = first.iter().map(|l| l.source.to_string()).collect();
    assert_eq!(sources, before, "one prefix per pod (one container each)");
    assert!(first.iter().all(|l| l.kind == LineKind::Out), "{first:?}");
    assert!(first.iter().all(|l| l.text.starts_with("level=")), "{first:?}");
    contiguous(&first).unwrap();
    // Lines are the pod's own: the simulator's deterministic line at that index.
    let l = &first[0];
    let pod = h
        .truth("Pod")
        .into_iter()
        .find(|p| p["metadata"]["name"] == *l.source)
        .unwrap();
    let start = OffsetDateTime::parse(
        pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
            .as_str()
            .unwrap(),
        &Rfc3339,
    )
    .unwrap();
    let i = ((stamp(l) - start).whole_milliseconds() / INTERVAL.as_millis() as i128) as u64;
    assert_eq!(l.text, kdeck_sim::logs::line(42, &l.source, &app, i));

    // A rollout: new pods join, the old ones say they went.
    let mut d = h
        .truth("Deployment")
        .into_iter()
        .find(|d| d["metadata"]["name"] == app.as_str() && d["metadata"]["namespace"] == ns.as_str())
        .unwrap();
    d["spec"]["template"]["metadata"]["annotations"] = json!({"kdeck.dev/restartedAt": "now"});
    h.put("Deployment", &ns, d);
    let mut new_pods = BTreeSet::new();
    let after = collect(&mut stream, Duration::from_secs(15), |got| {
        let deleted = got
            .iter()
            .filter(|l| l.kind == LineKind::Notice && l.text.ends_with("was deleted"))
            .count();
        let fresh: BTreeSet<&str> = got
            .iter()
            .filter(|l| l.kind == LineKind::Out && !before.contains(&*l.source))
            .map(|l| &*l.source)
            .collect();
        deleted >= 2 && fresh.len() == 2
    })
    .await;
    for l in &after {
        if l.kind == LineKind::Out && !before.contains(&*l.source) {
            new_pods.insert(l.source.to_string());
        }
    }
    assert_eq!(new_pods.len(), 2, "{after:?}");
    assert_eq!(new_pods, pods_of(h, &ns, &app));
    let gone: BTreeSet<String> = after
        .iter()
        .filter(|l| l.kind == LineKind::Notice && l.text.ends_with("was deleted"))
        .map(|l| l.source.to_string())
        .collect();
    assert_eq!(gone, before);
    contiguous(&after).unwrap();

    // Into a bounded buffer, as the cockpit reads it.
    let mut buf = LogBuffer::new(10);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let n = stream.drain(&mut buf);
    assert!(n > 10, "{n}");
    assert_eq!(buf.len(), 10);
    assert_eq!(buf.dropped(), n as u64 - 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_resumes_without_losing_or_repeating_lines() {
    let handles = sim().await;
    let h = &handles[0];
    let (_dir, fleet) = fleet_on(&handles).await;
    let pod = pods_of(h, "shop-prod", "web").into_iter().next().unwrap();
    let mut stream = fleet
        .logs(
            &h.name,
            LogRequest {
                namespace: "shop-prod".into(),
                source: LogSource::Pods(vec![pod.clone()]),
                container: None,
                follow: true,
                tail: Some(3),
                previous: false,
            },
        )
        .unwrap();
    let mut got = collect(&mut stream, Duration::from_secs(5), |g| g.len() >= 10).await;
    h.set_up(false);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.set_up(true);
    got.extend(
        collect(&mut stream, Duration::from_secs(20), |g| {
            g.iter().any(|l| l.text.contains("resumed")) && g.iter().filter(|l| l.kind == LineKind::Out).count() >= 60
        })
        .await,
    );
    let said: Vec<&str> = got
        .iter()
        .filter(|l| l.kind != LineKind::Out)
        .map(|l| l.text.as_str())
        .collect();
    assert!(said.iter().any(|t| t.contains("resumed")), "{said:?}");
    assert!(
        said.iter()
            .any(|t| t.contains("log stream ended") || t.contains("connection")),
        "the cut is said: {said:?}"
    );
    // The lines written while the cluster was away arrive after it returns.
    contiguous(&got).unwrap();
    let out: Vec<&LogLine> = got.iter().filter(|l| l.kind == LineKind::Out).collect();
    let span = stamp(out[out.len() - 1]) - stamp(out[0]);
    // 60 lines, no gap: the ones written while it was away are among them.
    assert!(span >= time::Duration::milliseconds(2900), "{span}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_read_is_said_in_a_line() {
    let handles = kdeck_sim::start(SimOptions {
        clusters: 1,
        fleet: FleetSize::Small,
        config: SimConfig {
            pod_ready_after: Duration::from_secs(60),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let h = &handles[0];
    let (_dir, fleet) = fleet_on(&handles).await;
    // A new app whose pod will not start for a minute.
    h.put(
        "Deployment",
        "shop-prod",
        json!({"metadata": {"name": "slow", "namespace": "shop-prod"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "slow"}},
                 "template": {"metadata": {"labels": {"app.kubernetes.io/name": "slow"}},
                              "spec": {"containers": [{"name": "slow", "image": "nginx"}]}}}}),
    );
    let mut slow = None;
    for _ in 0..100 {
        slow = pods_of(h, "shop-prod", "slow").into_iter().next();
        if slow.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let slow = slow.unwrap();
    let web = pods_of(h, "shop-prod", "web").into_iter().next().unwrap();
    let ask = |source: LogSource, container: Option<&str>| LogRequest {
        namespace: "shop-prod".into(),
        source,
        container: container.map(str::to_string),
        follow: false,
        tail: Some(1),
        previous: false,
    };
    let run = |req: LogRequest| {
        let mut s = fleet.logs(&h.name, req).unwrap();
        async move { collect(&mut s, Duration::from_secs(10), |_| false).await }
    };
    let lines = run(ask(LogSource::Pods(vec!["nope".into(), web.clone()]), None)).await;
    let errors: Vec<&LogLine> = lines.iter().filter(|l| l.kind == LineKind::Error).collect();
    assert_eq!(errors.len(), 1, "{lines:?}");
    assert!(errors[0].text.contains("pods \"nope\" not found"), "{}", errors[0].text);
    assert_eq!(&*errors[0].source, "nope");
    assert_eq!(
        lines.iter().filter(|l| l.kind == LineKind::Out).count(),
        1,
        "the good pod still answers"
    );

    let lines = run(ask(LogSource::Pods(vec![web.clone()]), Some("sidecar"))).await;
    assert!(
        lines[0]
            .text
            .contains(&format!("pod {web} has no container sidecar; its containers: web")),
        "{lines:?}"
    );

    let lines = run(ask(LogSource::Pods(vec![slow.clone()]), None)).await;
    assert!(
        lines[0].text.contains("is waiting to start: ContainerCreating"),
        "{lines:?}"
    );
    assert_eq!(lines[0].kind, LineKind::Error);

    let lines = run(ask(LogSource::App("ghost".into()), None)).await;
    assert!(lines[0].text.contains("no app ghost in space shop-prod"), "{lines:?}");
}

fn kdeck(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn kdeck_logs_prints_an_apps_lines_with_a_prefix() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handles = rt.block_on(sim());
    let h = &handles[0];
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(stored_clusters(&handles, "admin", dir.path()));
    let data = dir.path().join("data");
    let pods = pods_of(h, "shop-prod", "web");
    let out = kdeck(&data, &["logs", "prod-eu1/shop-prod/web", "--tail", "3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 3 * pods.len(), "{text}");
    for l in text.lines() {
        let (prefix, rest) = l.split_once("] ").unwrap();
        assert!(pods.contains(prefix.trim_start_matches('[')), "{l}");
        assert!(rest.starts_with("level="), "{l}");
    }
    // One pod: no prefix; timestamps on request; JSON lines for scripts.
    let pod = pods.iter().next().unwrap();
    let out = kdeck(
        &data,
        &[
            "logs",
            "prod-eu1/shop-prod",
            "--pod",
            pod,
            "--tail",
            "2",
            "--timestamps",
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.lines().all(|l| l.starts_with("20") && l.contains("Z level=")),
        "{text}"
    );
    let out = kdeck(
        &data,
        &["logs", "prod-eu1/shop-prod", "--pod", pod, "--tail", "2", "-o", "json"],
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["source"], pod.as_str());
    assert_eq!(rows[0]["kind"], "out");
    // Bad input: said, with the way out; partial answers exit 3.
    let out = kdeck(&data, &["logs", "prod-eu1/shop-prod/ghost"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no app ghost"));
    let out = kdeck(
        &data,
        &[
            "logs",
            "prod-eu1/shop-prod",
            "--pod",
            "nope",
            "--pod",
            pod,
            "--tail",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pods \"nope\" not found"));
    let out = kdeck(&data, &["logs", "prod-eu1/shop-prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pod POD"));
    let out = kdeck(&data, &["logs", "nowhere/shop-prod/web"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cluster named \"nowhere\""));
    let out = kdeck(&data, &["logs", "prod-eu1/shop-prod/web", "-o", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Following a build's steps: each step container's log ends once, with its
/// exit code, when the step is done; `kdeck logs -f` exits when the pod is
/// done, as `kubectl logs -f` does (it said "ended; reconnecting" and
/// "resumed" forever before). The simulator's pod says its containers
/// terminated.
#[test]
fn following_a_finished_build_step_ends_once_and_kdeck_logs_exits() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handles = rt
        .block_on(kdeck_sim::start(SimOptions {
            clusters: 1,
            fleet: FleetSize::Small,
            config: SimConfig {
                log_interval: INTERVAL,
                step_duration: Duration::from_millis(1500),
                ..Default::default()
            },
            ..Default::default()
        }))
        .unwrap();
    let h = &handles[0];
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(stored_clusters(&handles, "admin", dir.path()));
    let data = dir.path().join("data");
    h.put(
        "PipelineRun",
        "shop-prod",
        serde_json::json!({"metadata": {"name": "quick", "namespace": "shop-prod"},
            "spec": {"pipelineRef": {"name": "build"}, "params": [{"name": "revision", "value": "main"}]}}),
    );
    // The build task's pod (two steps: build, push).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let pod = loop {
        let found = h.truth("Pod").into_iter().find(|p| {
            p["metadata"]["labels"]["tekton.dev/pipelineRun"] == "quick"
                && p["spec"]["containers"].as_array().is_some_and(|c| c.len() == 2)
                && p["status"]["phase"] == "Running"
        });
        if let Some(p) = found {
            break p["metadata"]["name"].as_str().unwrap().to_string();
        }
        assert!(std::time::Instant::now() < deadline, "the build's pod never came");
        std::thread::sleep(Duration::from_millis(100));
    };
    let started = std::time::Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .arg("--data-dir")
        .arg(&data)
        .args(["logs", "prod-eu1/shop-prod", "--pod", &pod, "-f"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Killed if it follows on and on, so that the test fails instead of hanging.
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(40));
        let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().unwrap();
    drop(watchdog);
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(took < Duration::from_secs(30), "followed for {took:?}");
    for step in ["step-build", "step-push"] {
        let ended: Vec<&str> = err
            .lines()
            .filter(|l| l.contains(step) && l.contains("exited with code 0"))
            .collect();
        assert_eq!(ended.len(), 1, "{step} ends once: {err}");
        let again = err
            .lines()
            .filter(|l| l.contains(step) && l.contains("reconnecting"))
            .count();
        assert!(again <= 1, "{step} reconnects in a loop: {err}");
    }
    assert!(!err.contains("resumed"), "{err}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() >= 2, "the steps' lines: {text}");
    // The pod is Succeeded and says its containers terminated.
    let p = h
        .truth("Pod")
        .into_iter()
        .find(|p| p["metadata"]["name"] == pod.as_str())
        .unwrap();
    assert_eq!(p["status"]["phase"], "Succeeded");
    for c in p["status"]["containerStatuses"].as_array().unwrap() {
        assert_eq!(c["state"]["terminated"]["exitCode"], 0, "{c}");
    }
}
