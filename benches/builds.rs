//! Build figures. One command: `cargo bench --bench builds`. It starts a
//! simulated fleet of 10 clusters (`kdeck sim`, in a process of its own),
//! sets builds up in one space per cluster with the CLI, then measures:
//!
//! - the time from `kdeck builds start APP --follow` to its first log line
//!   on stdout (the terminal the user watches), 10 builds one after the
//!   other;
//! - the cockpit's CPU (the real binary in tmux, 160x48, the builds pane of
//!   every space in view) while 50 builds run across the 10 clusters (5 per
//!   cluster), from their start to the end of the last one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::*;

const CLUSTERS: usize = 10;
const SPACE: &str = "shop-prod";
const APPS: [&str; 4] = ["web", "api", "worker", "cart"];
/// Builds run at once for the CPU figure: 5 per cluster (web twice).
const AT_ONCE: usize = 50;

fn cli(data: &Path, args: &[&str]) -> String {
    let out = Command::new(kdeck_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("KDECK_REGISTRY_PASSWORD", "bench-password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kdeck {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every app adopted, with build settings and a registry login; builds set up.
fn prepare(data: &Path) -> Vec<String> {
    let mut apps = Vec::new();
    for c in kdeck_sim::cluster_names(CLUSTERS) {
        let space = format!("{c}/{SPACE}");
        cli(data, &["spaces", "attach", &space]);
        cli(data, &["builds", "setup", &space]);
        for a in APPS {
            let app = format!("{space}/{a}");
            cli(data, &["apps", "adopt", &app]);
            cli(
                data,
                &[
                    "builds",
                    "settings",
                    &app,
                    "--git",
                    &format!("https://git.example.com/shop/{a}.git"),
                    "--registry",
                    "registry.example.com/shop",
                    "--registry-username",
                    "bot",
                ],
            );
            apps.push(app);
        }
    }
    apps
}

/// Seconds from `builds start --follow` to its first step line.
fn first_line(data: &Path, app: &str) -> f64 {
    let t = Instant::now();
    let mut child = Command::new(kdeck_bin())
        .arg("--data-dir")
        .arg(data)
        .args(["builds", "start", app, "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut first = None;
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        if first.is_none() && line.starts_with('[') {
            first = Some(t.elapsed().as_secs_f64());
        }
    }
    assert!(child.wait().unwrap().success(), "the build of {app} failed");
    first.expect("a log line")
}

fn cockpit_cpu(dir: &Path, data: &Path, apps: &[String]) -> (f64, f64) {
    let _ = dir;
    let cockpit = TmuxCockpit::start("builds", data);
    let pid = cockpit.pid;
    cockpit.wait_live(CLUSTERS);
    // The builds pane of every space.
    cockpit.keys("3");
    std::thread::sleep(Duration::from_secs(2));
    let (t0, c0) = (Instant::now(), cpu_ticks(pid).unwrap());
    // 50 builds at once: each CLI call starts one and returns.
    let mut order: Vec<&String> = apps.iter().collect();
    order.extend(apps.iter().filter(|a| a.ends_with("/web")));
    let starts: Vec<_> = order
        .iter()
        .take(AT_ONCE)
        .map(|a| {
            Command::new(kdeck_bin())
                .arg("--data-dir")
                .arg(data)
                .args(["builds", "start", a])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut s in starts {
        assert!(s.wait().unwrap().success());
    }
    // Until the last one ended, as the cockpit shows it.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let list = cli(data, &["builds", "list", "--all", "-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&list).unwrap();
        let running = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| matches!(b["state"].as_str(), Some("running" | "pending")))
            .count();
        if running == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{running} builds still running");
        std::thread::sleep(Duration::from_millis(500));
    }
    let (t1, c1) = (Instant::now(), cpu_ticks(pid).unwrap());
    let secs = (t1 - t0).as_secs_f64();
    let pct = (c1 - c0) as f64 / 100.0 / secs * 100.0;
    (pct, secs)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_sim, kc) = start_sim(dir.path(), CLUSTERS, "small");
    let data = imported(dir.path(), "data", &kc);
    let t = Instant::now();
    let apps = prepare(&data);
    eprintln!(
        "  ({} apps with build settings in {:.0} s)",
        apps.len(),
        t.elapsed().as_secs_f64()
    );
    let mut firsts: Vec<f64> = apps.iter().take(10).map(|a| first_line(&data, a)).collect();
    let (p50, p90) = (pct(&mut firsts, 0.5), pct(&mut firsts, 0.9));
    println!(
        "builds start --follow to the first log line: p50 {:.0} ms, p90 {:.0} ms (10 builds)",
        p50 * 1000.0,
        p90 * 1000.0
    );
    let (cpu, secs) = cockpit_cpu(dir.path(), &data, &apps);
    println!("cockpit CPU while {AT_ONCE} builds ran across {CLUSTERS} clusters: {cpu:.1}% of a core over {secs:.1} s");
}
