//! Fleet figures. Run: `cargo bench --bench fleet` (builds the release binary first:
//! `cargo build --release`).
//! 1. `kdeck apps list --all -o json` over 10 simulated clusters (medium fleet)
//!    against the same answer assembled by `kubectl get deploy -A -o json`
//!    looped over the 10 contexts: both medians and the ratio.
//! 2. RSS of the live model (this process) after syncing the large fleet,
//!    served by a separate `kdeck sim` process (last run: 284 MiB; apps list 12.3x).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kdeck::fleet::live::{Fleet, Health};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn kdeck_bin() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/kdeck");
    assert!(p.exists(), "build the release binary first: cargo build --release");
    p
}

struct Sim(Child);
impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sim(dir: &Path, clusters: usize, fleet: &str) -> (Sim, PathBuf) {
    let kc = dir.join(format!("kc-{fleet}"));
    let child = Command::new(kdeck_bin())
        .args([
            "sim",
            "--clusters",
            &clusters.to_string(),
            "--fleet",
            fleet,
            "--kubeconfig-out",
        ])
        .arg(&kc)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !kc.exists() {
        assert!(t.elapsed() < Duration::from_secs(600), "sim did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    (Sim(child), kc)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    // 1. apps list vs kubectl loop (skipped with `-- model`).
    if !std::env::args().any(|a| a == "model") {
        let (_sim, kc) = start_sim(dir.path(), 10, "medium");
        let data = dir.path().join("data-medium");
        let ok = Command::new(kdeck_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(["clusters", "import"])
            .arg(&kc)
            .output()
            .unwrap();
        assert!(ok.status.success());
        let contexts: Vec<String> = kdeck::sim::cluster_names(10);
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        let mut counts = (0, 0);
        for round in 0..7 {
            let t = Instant::now();
            let out = Command::new(kdeck_bin())
                .arg("--data-dir")
                .arg(&data)
                .args(["apps", "list", "--all", "-o", "json"])
                .output()
                .unwrap();
            let d = t.elapsed();
            assert!(out.status.success());
            counts.0 = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
                .unwrap()
                .len();
            let t = Instant::now();
            let mut n = 0;
            for ctx in &contexts {
                let out = Command::new("kubectl")
                    .arg("--kubeconfig")
                    .arg(&kc)
                    .args(["--context", ctx, "--cache-dir"])
                    .arg(dir.path().join("kcache"))
                    .args(["get", "deploy", "-A", "-o", "json"])
                    .output()
                    .unwrap();
                assert!(out.status.success());
                n += serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["items"]
                    .as_array()
                    .unwrap()
                    .len();
            }
            let k = t.elapsed();
            counts.1 = n;
            if round > 0 {
                ours.push(d);
                theirs.push(k);
            }
        }
        let (a, b) = (median(ours), median(theirs));
        println!(
            "apps list --all over 10 clusters (medium): kdeck {:.0} ms ({} apps incl. statefulsets), kubectl loop {:.0} ms ({} deployments); kubectl/kdeck = {:.1}x",
            a.as_secs_f64() * 1e3,
            counts.0,
            b.as_secs_f64() * 1e3,
            counts.1,
            b.as_secs_f64() / a.as_secs_f64()
        );
    }
    // 2. Live model memory on the large fleet.
    let (_sim, kc) = start_sim(dir.path(), 30, "large");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = kdeck::store::Store::open(&dir.path().join("data-large")).unwrap();
        let ex = kdeck::command::Executor::new(store.clone(), "bench".into(), Arc::new(kdeck::clock::SystemClock));
        ex.run(kdeck::command::Command::ImportClusters {
            files: vec![kc.display().to_string()],
            contexts: vec![],
            update: false,
        })
        .await
        .unwrap();
        let clusters = store.list::<kdeck::model::Cluster>().unwrap();
        let before = rss_mib();
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let t = Instant::now();
        let fleet = Fleet::start(&clusters, &[], tx);
        loop {
            while rx.try_recv().is_ok() {}
            let snap = fleet.snapshot();
            let apps: usize = snap.iter().map(|s| s.apps.len()).sum();
            if snap.iter().all(|s| s.health == Health::Live) && apps >= 63_000 {
                println!(
                    "live model synced: {} clusters, {apps} apps, {} namespaces, {} services, {} routes in {:.1} s",
                    snap.len(),
                    snap.iter().map(|s| s.namespaces.len()).sum::<usize>(),
                    snap.iter().map(|s| s.services.len()).sum::<usize>(),
                    snap.iter().map(|s| s.routes.len()).sum::<usize>(),
                    t.elapsed().as_secs_f64()
                );
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(600), "did not sync: {apps} apps");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "RSS of kdeck with the live model: {:.0} MiB (before starting it: {before:.0} MiB)",
            rss_mib()
        );
    });
}
