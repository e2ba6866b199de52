//! Many kdecks on one store: 1,000 small journalled commands (`apps create`
//! of a draft, each its own `kdeck` process) from one process at a time,
//! then from 4 concurrent script loops while a cockpit (the real binary in
//! tmux) owns the store. Prints commands/s and p50/p99 latency per command,
//! and the errors (there must be none).
//!
//! `cargo bench --bench store`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;
use support::*;

const COMMANDS: usize = 1000;

fn fixture_kubeconfig() -> String {
    format!("{}/tests/fixtures/three-contexts.yaml", env!("CARGO_MANIFEST_DIR"))
}

fn run(data: &Path, args: &[&str]) -> Result<Duration, String> {
    let t = Instant::now();
    let out = Command::new(kdeck_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(t.elapsed())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

struct Figures {
    per_s: f64,
    p50: Duration,
    p99: Duration,
    errors: Vec<String>,
}

/// `COMMANDS` drafts created by `loops` concurrent loops of processes.
fn load(data: &Path, loops: usize, tag: &str) -> Figures {
    let started = Instant::now();
    let per_loop = COMMANDS / loops;
    let handles: Vec<_> = (0..loops)
        .map(|l| {
            let data = data.to_path_buf();
            let tag = tag.to_string();
            std::thread::spawn(move || {
                (0..per_loop)
                    .map(|i| {
                        let app = format!("dev/bench/{tag}-{l}-{i}");
                        run(&data, &["apps", "create", &app, "--image", "nginx:1.27"])
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Result<Duration, String>> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let elapsed = started.elapsed();
    let mut times: Vec<Duration> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    times.sort();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    Figures {
        per_s: results.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        errors: results.into_iter().filter_map(Result::err).collect(),
    }
}

fn print(what: &str, f: &Figures) {
    println!(
        "  {what:<52} {:>7.1} commands/s   p50 {:>6.1} ms   p99 {:>6.1} ms   errors {}",
        f.per_s,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.errors.len()
    );
    for e in f.errors.iter().take(3) {
        println!("    error: {}", e.trim());
    }
}

fn main() {
    println!("store: {COMMANDS} `kdeck apps create` processes on one data dir");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    run(&data, &["clusters", "import", &fixture_kubeconfig()]).unwrap();

    let alone = load(&data, 1, "alone");
    print("one process at a time, no cockpit", &alone);

    // The cockpit in tmux owns the store while 4 loops run.
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("  4 loops beside a cockpit: skipped (no tmux)");
        return;
    }
    let cockpit = TmuxCockpit::start("store", &data);
    let owner = cockpit_owner(&data);
    println!("  (the store's owner is pid {owner}, the cockpit)");
    let four = load(&data, 4, "four");
    print("4 concurrent loops, a cockpit open (owner)", &four);
    drop(cockpit);
    assert!(alone.errors.is_empty() && four.errors.is_empty(), "commands failed");
}

/// Waits until the cockpit owns the store; its pid.
fn cockpit_owner(data: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // Opened before the cockpit took it, the store is this process's: let go.
        if let Ok(s) = kdeck_store::Store::open(data)
            && let Ok(p) = s.owner_pid()
            && p != std::process::id()
        {
            return p;
        }
        assert!(Instant::now() < deadline, "the cockpit never took the store");
        std::thread::sleep(Duration::from_millis(100));
    }
}
