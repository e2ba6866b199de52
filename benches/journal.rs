//! Journal and store figures: what one command's write-ahead costs, and how
//! fast the store lists. Run: `cargo bench --bench journal`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use kdeck_command::{Command, Journal, Status};
use kdeck_model::{Cluster, ClusterAuth, ImportSource, TlsSettings};
use kdeck_store::{Batch, Store};

fn cluster(i: usize) -> Cluster {
    Cluster {
        name: format!("cluster-{i:05}"),
        server: format!("https://api.c{i}.example.com:6443"),
        context: format!("ctx-{i}"),
        namespace: None,
        tls: TlsSettings {
            ca_data: Some("Q".repeat(1500)),
            ..Default::default()
        },
        proxy_url: None,
        auth: ClusterAuth {
            user: "u".into(),
            token: Some("t".repeat(900)),
            ..Default::default()
        },
        source: ImportSource {
            file: "/home/u/.kube/config".into(),
            imported_at: "2026-11-22T00:00:00Z".into(),
        },
        read_only: false,
        prod: None,
        labels: Default::default(),
    }
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort_unstable();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.99), *v.last().unwrap())
}

fn report(name: &str, samples: Vec<Duration>) {
    let n = samples.len();
    let total: Duration = samples.iter().sum();
    let (p50, p99, max) = percentiles(samples);
    println!(
        "{name:<42} n={n:<6} p50={:>9.1}µs p99={:>9.1}µs max={:>9.1}µs  {:>8.0}/s",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        max.as_secs_f64() * 1e6,
        n as f64 / total.as_secs_f64()
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let journal = Journal::new(store.clone());
    const N: usize = 2000;

    let mut begin = Vec::with_capacity(N);
    let mut whole = Vec::with_capacity(N);
    for i in 0..N {
        let t0 = Instant::now();
        let mut e = journal
            .begin(
                Command::RemoveCluster {
                    name: format!("c{i}"),
                    yes: false,
                },
                "bench@host",
                "t".into(),
            )
            .unwrap();
        let t1 = Instant::now();
        e.status = Status::Applied;
        let mut b = Batch::new();
        b.put(&cluster(i)).unwrap();
        journal.finish(&e, b).unwrap();
        begin.push(t1 - t0);
        whole.push(t0.elapsed());
    }
    report("journal begin (write + flush)", begin);
    report("command: begin + finish with one write", whole);

    let mut lists = Vec::new();
    for _ in 0..20 {
        let t0 = Instant::now();
        let all: Vec<Cluster> = store.list().unwrap();
        assert_eq!(all.len(), N);
        lists.push(t0.elapsed());
    }
    report(&format!("store list of {N} clusters"), lists);

    let mut history = Vec::new();
    for _ in 0..20 {
        let t0 = Instant::now();
        assert_eq!(journal.list().unwrap().len(), N);
        history.push(t0.elapsed());
    }
    report(&format!("journal list of {N} entries"), history);

    drop(journal);
    drop(store);
    let mut opens = Vec::new();
    for _ in 0..10 {
        let t0 = Instant::now();
        let s = Store::open(dir.path()).unwrap();
        opens.push(t0.elapsed());
        drop(s);
    }
    report(&format!("store open ({N} clusters, {N} entries)"), opens);
}
