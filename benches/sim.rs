//! Simulator figures: load time and memory of a fleet, and how fast one
//! cluster's Deployments are listed through the real kube client.
//! Run: `cargo bench --bench sim` (large: 30 clusters x 100 spaces x 20 apps),
//! or `cargo bench --bench sim -- CLUSTERS FLEET` for another size.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use kdeck_sim::{FleetSize, SimOptions};
use kube::api::{Api, ListParams};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn proc_status(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let clusters: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(30);
    let fleet = FleetSize::parse(args.get(1).map(String::as_str).unwrap_or("large")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let before = proc_status("VmRSS:");
        let t0 = Instant::now();
        let handles = kdeck_sim::start(SimOptions { clusters, fleet: fleet.clone(), ..Default::default() }).await.unwrap();
        let load = t0.elapsed();
        let objects: usize = handles.iter().map(|h| h.cluster.read().objects.len()).sum();
        let deploys = handles[0].truth("Deployment").len();
        println!("fleet {fleet:?} x {clusters} clusters: {objects} objects ({deploys} deployments per cluster)");
        println!("load (seed + settle + listen): {:.1} s", load.as_secs_f64());
        println!("RSS after load: {:.0} MiB (before {:.0} MiB, peak {:.0} MiB)", mib(proc_status("VmRSS:")), mib(before), mib(proc_status("VmHWM:")));

        let kc = kube::config::Kubeconfig::from_yaml(&kdeck_sim::kubeconfig(&handles[..1], "admin")).unwrap();
        let client = kube::Client::try_from(kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.unwrap()).unwrap();
        let api: Api<Deployment> = Api::all(client.clone());
        // The server's answer alone: the raw bytes, not decoded.
        let mut raw = Vec::new();
        let mut size = 0;
        for i in 0..25 {
            let req = http::Request::get("/apis/apps/v1/deployments").body(Vec::new()).unwrap();
            let t = Instant::now();
            let text = client.request_text(req).await.unwrap();
            if i > 0 {
                raw.push(t.elapsed());
            }
            size = text.len();
        }
        raw.sort();
        println!(
            "list all {deploys} deployments, raw HTTPS answer ({:.1} MiB): p50 {:.1} ms, p99 {:.1} ms",
            size as f64 / 1048576.0,
            raw[raw.len() / 2].as_secs_f64() * 1e3,
            raw[((raw.len() - 1) as f64 * 0.99).round() as usize].as_secs_f64() * 1e3
        );
        let mut samples = Vec::new();
        for i in 0..25 {
            let t = Instant::now();
            let list = api.list(&ListParams::default()).await.unwrap();
            let d = t.elapsed();
            assert_eq!(list.items.len(), deploys);
            if i > 0 {
                samples.push(d);
            }
        }
        samples.sort();
        let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "list all {deploys} deployments of one cluster via kube-rs (HTTPS, decode included): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(*samples.last().unwrap())
        );
        println!("RSS at end: {:.0} MiB, peak {:.0} MiB", mib(proc_status("VmRSS:")), mib(proc_status("VmHWM:")));
    });
}
