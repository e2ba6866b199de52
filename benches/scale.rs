//! Fleet-scale figures for the cockpit, side by side with the tools users
//! have today. One command: `cargo bench --bench scale`. It starts simulated
//! fleets itself (`kdeck sim`, in processes of their own), prints a table
//! with each target met or not, and writes `target/kdeck-bench.json`.
//!
//! - first complete frame of the all-spaces view, small / medium / large,
//!   and the peak RSS after sync: each in a fresh process running the real
//!   cockpit loop (headless, 160x48) against the simulators;
//! - event-to-screen latency under 100 / 1,000 / 5,000 events/s of churn
//!   across the large fleet: a probe app's image is changed through the API
//!   and timed until the frame that shows it;
//! - bytes written to the terminal per second at 1,000 events/s, the real
//!   crossterm backend writing into a counting sink, all spaces at 160x48;
//! - frame render p50 / p99 with the large fleet, and the fuzzy filter per
//!   keystroke over 100,000 rows (in process, fixed data);
//! - idle CPU of the real binary in tmux with a live fleet;
//! - `kdeck apps list --all -o json` against `kubectl get deploy -A -o json`
//!   looped over the same contexts.
//!
//! `cargo bench --bench scale -- quick` skips the large fleet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kdeck_fixture::large_fleet;
use kdeck_tui::cockpit::Cockpit;
use kdeck_tui::draw::{buffer_text, draw, page_for};
use kdeck_tui::keymap::{Key, Keymap};
use kdeck_tui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod support;
use support::*;

const NOW: time::OffsetDateTime = time::macros::datetime!(2026-11-22 10:00:00 UTC);

// ------------------------------------------------------------- the report

struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    /// (target, lower is better)
    target: Option<(f64, bool)>,
}

#[derive(Default)]
struct Report(Vec<Figure>);

impl Report {
    fn add(&mut self, name: impl Into<String>, value: f64, unit: &'static str, target: Option<(f64, bool)>) {
        let f = Figure {
            name: name.into(),
            value,
            unit,
            target,
        };
        println!("  {}", line(&f));
        self.0.push(f);
    }
}

fn verdict(f: &Figure) -> &'static str {
    match f.target {
        None => "",
        Some((t, lower)) if (lower && f.value < t) || (!lower && f.value >= t) => "met",
        Some(_) => "NOT MET",
    }
}

fn line(f: &Figure) -> String {
    let target = match f.target {
        Some((t, true)) => format!("< {t} {}", f.unit),
        Some((t, false)) => format!(">= {t} {}", f.unit),
        None => String::new(),
    };
    format!(
        "{:<62} {:>10.2} {:<6} {:<14} {}",
        f.name,
        f.value,
        f.unit,
        target,
        verdict(f)
    )
}

// --------------------------------------------------------------- children

/// Clusters from a kubeconfig, through kdeck's own import.
fn clusters_of(kc: &Path) -> (tempfile::TempDir, Vec<kdeck_model::Cluster>) {
    let dir = tempfile::tempdir().unwrap();
    let store = kdeck_store::Store::open(dir.path()).unwrap();
    let ex = kdeck_command::Executor::new(store, "bench".into(), Arc::new(kdeck_model::clock::SystemClock));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(ex.run(kdeck_command::Command::ImportClusters {
            files: vec![kc.display().to_string()],
            contexts: Vec::new(),
            update: false,
        }))
        .unwrap();
    assert_eq!(e.status, kdeck_command::Status::Applied, "{e:?}");
    let clusters = ex.store().list::<kdeck_model::Cluster>().unwrap();
    (dir, clusters)
}

fn options(clusters: Vec<kdeck_model::Cluster>) -> kdeck_tui::app::Options {
    kdeck_tui::app::Options {
        clusters,
        attached: Vec::new(),
        loaded: kdeck_tui::config::load(None, false),
        read_only: true,
        clock: Arc::new(kdeck_model::clock::SystemClock),
        executor: None,
    }
}

fn all_live(c: &Cockpit) -> bool {
    !c.clusters.is_empty() && c.clusters.iter().all(|s| s.health == kdeck_fleet::live::Health::Live)
}

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn fixed(w: u16, h: u16) -> TerminalOptions {
    TerminalOptions {
        viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
    }
}

/// Start to the first frame that shows every app of a synced fleet.
fn child_first_frame(kc: &Path, expected: usize) {
    let (_dir, clusters) = clusters_of(kc);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let t0 = Instant::now();
    let mut first = None;
    let mut frames = 0u32;
    let mut hook = |_: &ratatui::buffer::Buffer, c: &Cockpit| {
        frames += 1;
        if all_live(c) && c.apps.table.total() >= expected {
            first = Some(t0.elapsed());
            return true;
        }
        t0.elapsed() > Duration::from_secs(240)
    };
    let mut term = Terminal::with_options(TestBackend::new(160, 48), fixed(160, 48)).unwrap();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    rt.block_on(kdeck_tui::app::event_loop(
        &mut term,
        options(clusters),
        rx,
        None,
        Some(&mut hook),
    ))
    .unwrap();
    let ms = first.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    println!(
        "{}",
        json!({"first_frame_ms": ms, "rss_mib": vm_hwm_mib(), "frames": frames})
    );
}

async fn set_churn(clusters: &[kdeck_model::Cluster], total_per_sec: u32) {
    let each = total_per_sec / u32::try_from(clusters.len()).unwrap().max(1);
    for c in clusters {
        let client = kdeck_fleet::Gateway::new().client(c).await.unwrap();
        let req = http::Request::post("/sim/faults")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&json!({ "churn_per_sec": each })).unwrap())
            .unwrap();
        client.request_text(req).await.unwrap();
    }
}

fn key_event(s: &str) -> crossterm::event::Event {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let code = match s {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        _ => KeyCode::Char(s.chars().next().unwrap()),
    };
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Event-to-screen latency under churn: a probe app's image changes through
/// the API; the time until a frame shows it.
fn child_latency(kc: &Path, rates: &[u32]) {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, ListParams, Patch, PatchParams};
    let (_dir, clusters) = clusters_of(kc);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let probe_cluster = clusters[0].clone();
    let ns = kdeck_sim::fleet::space_names(1)[0].clone();
    let client = rt.block_on(kdeck_fleet::Gateway::new().client(&probe_cluster)).unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client, &ns);
    let app = rt.block_on(deploys.list(&ListParams::default())).unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    let sent: Arc<std::sync::Mutex<std::collections::HashMap<u64, Instant>>> = Arc::default();
    let seen: Arc<std::sync::Mutex<Vec<(u64, f64)>>> = Arc::default();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    // Once live: scope to the probe's space through the palette.
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (sent2, seen2, ready2) = (sent.clone(), seen.clone(), ready.clone());
    let probe_ref = format!("{}/{ns}/{app}", probe_cluster.name);
    let mut navigated = false;
    let mut hook = move |b: &ratatui::buffer::Buffer, c: &Cockpit| {
        if !navigated && all_live(c) {
            navigated = true;
            for k in std::iter::once(":".to_string())
                .chain(probe_ref.chars().map(|ch| ch.to_string()))
                .chain(std::iter::once("enter".to_string()))
            {
                let _ = tx.send(key_event(&k));
            }
        }
        let text = buffer_text(b);
        if navigated && text.contains(&format!("apps {}/{ns}", probe_cluster.name)) {
            ready2.store(true, Ordering::SeqCst);
        }
        let now = Instant::now();
        let sent = sent2.lock().unwrap();
        let mut seen = seen2.lock().unwrap();
        for part in text.split("probe:").skip(1) {
            let n: String = part.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = n.parse::<u64>()
                && !seen.iter().any(|(m, _)| *m == n)
                && let Some(t) = sent.get(&n)
            {
                seen.push((n, (now - *t).as_secs_f64() * 1e3));
            }
        }
        false
    };
    let clusters2 = clusters.clone();
    let rates = rates.to_vec();
    let out: Arc<std::sync::Mutex<Vec<Value>>> = Arc::default();
    let out2 = out.clone();
    rt.block_on(async move {
        let mut term = Terminal::with_options(TestBackend::new(160, 48), fixed(160, 48)).unwrap();
        let driver = tokio::spawn(async move {
            while !ready.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let mut n: u64 = 0;
            for rate in rates {
                set_churn(&clusters2, rate).await;
                tokio::time::sleep(Duration::from_secs(4)).await;
                let from = n + 1;
                for _ in 0..60 {
                    n += 1;
                    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": app, "image": format!("probe:{n}")}]}}}});
                    sent.lock().unwrap().insert(n, Instant::now());
                    deploys
                        .patch(&app, &PatchParams::default(), &Patch::Strategic(&patch))
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                let mut lat: Vec<f64> = seen
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(m, _)| *m >= from && *m <= n)
                    .map(|(_, l)| *l)
                    .collect();
                let shown = lat.len();
                out2.lock().unwrap().push(json!({"rate": rate, "p50": pct(&mut lat.clone(), 0.5),
                    "p99": pct(&mut lat, 0.99), "shown": shown, "sent": n - from + 1}));
            }
            set_churn(&clusters2, 0).await;
        });
        let mut stop_hook = move |b: &ratatui::buffer::Buffer, c: &Cockpit| hook(b, c) || driver.is_finished();
        // Frames come on fleet changes; churn keeps them coming until the driver ends.
        kdeck_tui::app::event_loop(&mut term, options(clusters), rx, None, Some(&mut stop_hook))
            .await
            .unwrap();
    });
    println!("{}", Value::Array(out.lock().unwrap().clone()));
}

/// Counts what the crossterm backend writes.
#[derive(Clone, Default)]
struct Counting(Arc<AtomicU64>);

impl Write for Counting {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(b.len() as u64, Ordering::Relaxed);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes per second to the terminal at a given churn, all spaces, 160x48.
fn child_bytes(kc: &Path, rate: u32) {
    let (_dir, clusters) = clusters_of(kc);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sink = Counting::default();
    let counter = sink.0.clone();
    let mut term = Terminal::with_options(ratatui::backend::CrosstermBackend::new(sink), fixed(160, 48)).unwrap();
    let result: Arc<std::sync::Mutex<Option<f64>>> = Arc::default();
    let synced = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (r2, s2) = (result.clone(), synced.clone());
    let mut hook = move |_: &ratatui::buffer::Buffer, c: &Cockpit| {
        if all_live(c) {
            s2.store(true, Ordering::SeqCst);
        }
        r2.lock().unwrap().is_some()
    };
    let clusters2 = clusters.clone();
    let r3 = result.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            while !synced.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            set_churn(&clusters2, rate).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
            let (t, b) = (Instant::now(), counter.load(Ordering::Relaxed));
            tokio::time::sleep(Duration::from_secs(10)).await;
            let bytes = counter.load(Ordering::Relaxed) - b;
            let per_sec = bytes as f64 / t.elapsed().as_secs_f64();
            set_churn(&clusters2, 0).await;
            *r3.lock().unwrap() = Some(per_sec);
        });
        // The loop ends on the first frame after the window closed.
        let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
        kdeck_tui::app::event_loop(&mut term, options(clusters), rx, None, Some(&mut hook))
            .await
            .unwrap();
    });
    let v = *result.lock().unwrap();
    println!("{}", json!({ "bytes_per_sec": v }));
}

fn child(mode: &str) {
    let args: Vec<String> = std::env::args().collect();
    let kc = PathBuf::from(std::env::var("KDECK_SCALE_KC").unwrap());
    match mode {
        "first-frame" => child_first_frame(&kc, std::env::var("KDECK_SCALE_EXPECT").unwrap().parse().unwrap()),
        "latency" => child_latency(&kc, &[100, 1000, 5000]),
        "bytes" => child_bytes(&kc, 1000),
        other => panic!("unknown child mode {other} ({args:?})"),
    }
}

/// Runs this benchmark again as a child in `mode`; its last stdout line is JSON.
fn run_child(mode: &str, kc: &Path, expect: usize) -> Value {
    let out = Command::new(std::env::current_exe().unwrap())
        .env("KDECK_SCALE_CHILD", mode)
        .env("KDECK_SCALE_KC", kc)
        .env("KDECK_SCALE_EXPECT", expect.to_string())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "child {mode} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap()
}

// ---------------------------------------------------------------- parent

/// Apps a simulated fleet holds: per space its apps, plus a database when it has 4 or more.
fn apps_in(clusters: usize, spaces: usize, apps: usize) -> usize {
    clusters * spaces * (apps + usize::from(apps >= 4))
}

fn key(c: &mut Cockpit, k: &str) -> f64 {
    let t = Instant::now();
    c.key(Key::parse(k).unwrap());
    c.refresh();
    t.elapsed().as_secs_f64() * 1e3
}

fn frames(r: &mut Report) {
    let fleet = large_fleet(NOW, 30, 100, 20);
    let mut c = Cockpit::new(Keymap::default_map(), NOW, 10_000);
    c.page = page_for(48);
    c.set_fleet(fleet);
    c.refresh();
    let theme = Theme::dark();
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    c.key(Key::parse("tab").unwrap());
    let mut times = Vec::new();
    for i in 0..500 {
        c.key(Key::parse(if i % 2 == 0 { "pagedown" } else { "j" }).unwrap());
        let t = Instant::now();
        term.draw(|f| draw(f, &c, &theme)).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    r.add(
        "frame render, 60,000 apps, 160x48, p50",
        pct(&mut times.clone(), 0.5),
        "ms",
        Some((2.0, true)),
    );
    r.add(
        "frame render, 60,000 apps, 160x48, p99",
        pct(&mut times, 0.99),
        "ms",
        None,
    );
}

fn filter(r: &mut Report) {
    let mut c = Cockpit::new(Keymap::default_map(), NOW, 10_000);
    c.set_fleet(large_fleet(NOW, 50, 100, 20));
    c.refresh();
    assert_eq!(c.apps.table.total(), 100_000);
    c.key(Key::parse("tab").unwrap());
    key(&mut c, "/");
    key(&mut c, "x");
    key(&mut c, "esc");
    let mut per_key = Vec::new();
    for _ in 0..5 {
        key(&mut c, "/");
        for ch in ["w", "e", "b", "-", "1", "t", "9"] {
            per_key.push(key(&mut c, ch));
        }
        for _ in 0..7 {
            per_key.push(key(&mut c, "backspace"));
        }
        key(&mut c, "esc");
    }
    let worst = per_key.iter().copied().fold(0.0, f64::max);
    r.add(
        "filter keystroke over 100,000 rows, p50",
        pct(&mut per_key, 0.5),
        "ms",
        Some((16.0, true)),
    );
    r.add(
        "filter keystroke over 100,000 rows, worst",
        worst,
        "ms",
        Some((16.0, true)),
    );
}

/// Idle CPU of the real binary in tmux with a live fleet.
fn idle_cpu(r: &mut Report, dir: &Path, kc: &Path, clusters: usize) {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("  idle CPU: skipped (no tmux)");
        return;
    }
    let data = imported(dir, "data-idle", kc);
    let cockpit = TmuxCockpit::start("scale", &data);
    let pid = cockpit.pid;
    cockpit.wait_live(clusters);
    std::thread::sleep(Duration::from_secs(3));
    let (t0, c0) = (Instant::now(), cpu_ticks(pid).unwrap());
    std::thread::sleep(Duration::from_secs(15));
    let (t1, c1) = (Instant::now(), cpu_ticks(pid).unwrap());
    let pct = (c1 - c0) as f64 / 100.0 / (t1 - t0).as_secs_f64() * 100.0;
    drop(cockpit);
    r.add(
        format!("idle CPU, {clusters} live clusters (real binary in tmux)"),
        pct,
        "%",
        Some((1.0, true)),
    );
}

/// `kdeck apps list --all` against kubectl looped over the contexts.
fn apps_list(r: &mut Report, dir: &Path, kc: &Path, clusters: usize) {
    let data = imported(dir, "data-list", kc);
    let contexts = kdeck_sim::cluster_names(clusters);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..6 {
        let t = Instant::now();
        let out = Command::new(kdeck_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(["apps", "list", "--all", "-o", "json"])
            .output()
            .unwrap();
        let d = t.elapsed().as_secs_f64() * 1e3;
        assert!(out.status.success());
        let t = Instant::now();
        for ctx in &contexts {
            let out = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(kc)
                .args(["--context", ctx, "--cache-dir"])
                .arg(dir.join("kcache"))
                .args(["get", "deploy", "-A", "-o", "json"])
                .output()
                .unwrap();
            assert!(out.status.success());
        }
        let k = t.elapsed().as_secs_f64() * 1e3;
        if round > 0 {
            ours.push(d);
            theirs.push(k);
        }
    }
    let (a, b) = (pct(&mut ours, 0.5), pct(&mut theirs, 0.5));
    r.add(format!("apps list --all, {clusters} clusters: kdeck"), a, "ms", None);
    r.add(
        format!("  kubectl get deploy -A looped over {clusters} contexts"),
        b,
        "ms",
        None,
    );
    r.add("  kubectl loop / kdeck", b / a, "x", Some((5.0, false)));
}

fn main() {
    if let Ok(mode) = std::env::var("KDECK_SCALE_CHILD") {
        child(&mode);
        return;
    }
    let quick = std::env::args().any(|a| a == "quick");
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut r = Report::default();
    println!(
        "kdeck scale benchmark ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("  {:<62} {:>10} {:<6} target", "figure", "value", "unit");
    frames(&mut r);
    filter(&mut r);
    let sizes: &[(&str, usize, usize, usize)] = if quick {
        &[("small", 3, 5, 4), ("medium", 10, 20, 10)]
    } else {
        &[("small", 3, 5, 4), ("medium", 10, 20, 10), ("large", 30, 100, 20)]
    };
    for &(fleet, clusters, spaces, apps) in sizes {
        let (_sim, kc) = start_sim(dir.path(), clusters, fleet);
        let expect = apps_in(clusters, spaces, apps);
        let v = run_child("first-frame", &kc, expect);
        let large = fleet == "large";
        r.add(
            format!("first complete frame, {fleet} ({clusters} clusters, {expect} apps)"),
            v["first_frame_ms"].as_f64().unwrap_or(f64::NAN) / 1e3,
            "s",
            large.then_some((1.5, true)),
        );
        r.add(
            format!("frames drawn until the first complete one, {fleet}"),
            v["frames"].as_f64().unwrap_or(f64::NAN),
            "frames",
            None,
        );
        r.add(
            format!("peak RSS after sync, {fleet}"),
            v["rss_mib"].as_f64().unwrap_or(f64::NAN),
            "MiB",
            large.then_some((300.0, true)),
        );
        if fleet == "medium" {
            apps_list(&mut r, dir.path(), &kc, clusters);
            idle_cpu(&mut r, dir.path(), &kc, clusters);
        }
        if large {
            let v = run_child("latency", &kc, expect);
            for x in v.as_array().into_iter().flatten() {
                let rate = x["rate"].as_u64().unwrap_or(0);
                r.add(
                    format!(
                        "event-to-screen at {rate} events/s, p50 ({} of {} seen)",
                        x["shown"], x["sent"]
                    ),
                    x["p50"].as_f64().unwrap_or(f64::NAN),
                    "ms",
                    None,
                );
                r.add(
                    format!("event-to-screen at {rate} events/s, p99"),
                    x["p99"].as_f64().unwrap_or(f64::NAN),
                    "ms",
                    (rate == 1000).then_some((100.0, true)),
                );
            }
            let v = run_child("bytes", &kc, expect);
            r.add(
                "terminal output at 1,000 events/s, all spaces, 160x48",
                v["bytes_per_sec"].as_f64().unwrap_or(f64::NAN) / 1024.0,
                "KiB/s",
                Some((20.0, true)),
            );
        }
    }
    // Beside the build: the target dir cargo was given, else the workspace's.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let json_path = target.join("kdeck-bench.json");
    let figures: Vec<Value> =
        r.0.iter()
            .map(|f| {
                json!({"figure": f.name.trim(), "value": f.value, "unit": f.unit,
                   "target": f.target.map(|t| t.0), "met": f.target.map(|_| verdict(f) == "met")})
            })
            .collect();
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&Value::Array(figures)).unwrap(),
    )
    .unwrap();
    println!(
        "\nall figures: {} (in {:.0} s)",
        json_path.display(),
        started.elapsed().as_secs_f64()
    );
    let missed: Vec<&Figure> = r.0.iter().filter(|f| verdict(f) == "NOT MET").collect();
    if !missed.is_empty() {
        println!("targets not met:");
        for f in missed {
            println!("  {}", line(f));
        }
    }
}
