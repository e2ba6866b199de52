//! Cockpit figures. Run: `cargo build --release && cargo bench --bench cockpit`.
//! 1. One frame with the large fleet loaded (30 clusters, 3,000 spaces,
//!    60,000 apps, all spaces view) at 160x48: p50 / p99 of `Terminal::draw`
//!    (the same buffer diff a real terminal gets), and the rows rebuild that
//!    runs when the fleet changed.
//! 2. The `/` filter per keystroke over 100,000 app rows, and the `:`
//!    palette's fuzzy ranking over the same fleet.
//! 3. CPU of `kdeck demo` (release binary, in tmux) while idle with a live
//!    fleet and no churn, from /proc over 20 s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use kdeck::ui::draw::{draw, page_for};
use kdeck::ui::fixture::large_fleet;
use kdeck::ui::keymap::{Key, Keymap};
use kdeck::ui::state::Cockpit;
use kdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NOW: time::OffsetDateTime = time::macros::datetime!(2026-11-22 10:00:00 UTC);

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn key(c: &mut Cockpit, k: &str) -> f64 {
    let t = Instant::now();
    c.key(Key::parse(k).unwrap());
    c.refresh();
    t.elapsed().as_secs_f64() * 1e3
}

fn frames() {
    let fleet = large_fleet(NOW, 30, 100, 20);
    let mut c = Cockpit::new(Keymap::default_map(), NOW, 10_000);
    c.page = page_for(48);
    let t = Instant::now();
    c.set_fleet(fleet.clone());
    c.refresh();
    let first = t.elapsed().as_secs_f64() * 1e3;
    let mut rebuild = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        c.set_fleet(fleet.clone());
        c.refresh();
        rebuild.push(t.elapsed().as_secs_f64() * 1e3);
    }
    assert_eq!(c.apps.total(), 60_000);
    let theme = Theme::dark();
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    // Focus on the apps pane, scrolled into the middle: rows change every frame.
    c.key(Key::parse("tab").unwrap());
    let mut times = Vec::new();
    for i in 0..500 {
        c.key(Key::parse(if i % 2 == 0 { "pagedown" } else { "j" }).unwrap());
        let t = Instant::now();
        term.draw(|f| draw(f, &c, &theme)).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "frame, 60,000 apps, all spaces, 160x48: p50 {:.3} ms, p99 {:.3} ms (target p50 < 2 ms); rows rebuilt on a fleet change: p50 {:.1} ms (first {:.1} ms)",
        pct(&mut times.clone(), 0.5),
        pct(&mut times, 0.99),
        pct(&mut rebuild, 0.5),
        first
    );
}

fn filter() {
    // 50 clusters x 100 spaces x 20 apps = 100,000 rows.
    let fleet = large_fleet(NOW, 50, 100, 20);
    let mut c = Cockpit::new(Keymap::default_map(), NOW, 10_000);
    c.set_fleet(fleet);
    c.refresh();
    assert_eq!(c.apps.total(), 100_000);
    c.key(Key::parse("tab").unwrap());
    // The first filter after the rows changed lays out their texts once.
    key(&mut c, "/");
    let index = key(&mut c, "x");
    key(&mut c, "esc");
    let mut per_key = Vec::new();
    let mut first = Vec::new();
    for _ in 0..5 {
        key(&mut c, "/");
        for (n, ch) in ["w", "e", "b", "-", "1", "t", "9"].into_iter().enumerate() {
            let ms = key(&mut c, ch);
            if n == 0 {
                first.push(ms);
            }
            per_key.push(ms);
        }
        // Narrowing ended on nothing; backspace widens again, also timed.
        for _ in 0..7 {
            per_key.push(key(&mut c, "backspace"));
        }
        key(&mut c, "esc");
    }
    let worst = per_key.iter().copied().fold(0.0, f64::max);
    println!(
        "filter keystroke over 100,000 rows: p50 {:.2} ms, worst {:.2} ms, first key p50 {:.2} ms (target < 16 ms); the first filter after the rows changed, which lays out their texts: {:.1} ms",
        pct(&mut per_key, 0.5),
        worst,
        pct(&mut first, 0.5),
        index
    );
    // The palette ranks every command, space and app with fuzzy-matcher.
    let mut pal = Vec::new();
    for _ in 0..3 {
        key(&mut c, ":");
        for ch in ["w", "e", "b"] {
            pal.push(key(&mut c, ch));
        }
        key(&mut c, "esc");
    }
    println!(
        "palette keystroke, fuzzy ranking over 105,000 items: p50 {:.1} ms, worst {:.1} ms",
        pct(&mut pal.clone(), 0.5),
        pal.iter().copied().fold(0.0, f64::max)
    );
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn idle_cpu() {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/kdeck");
    if !bin.exists() {
        println!("idle CPU: skipped (build the release binary first: cargo build --release)");
        return;
    }
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("idle CPU: skipped (no tmux)");
        return;
    }
    // The simulated fleet in its own process; the cockpit alone is measured.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let mut sim = Command::new(&bin)
        .args(["sim", "--clusters", "10", "--fleet", "medium", "--kubeconfig-out"])
        .arg(&kc)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !kc.exists() {
        assert!(Instant::now() < deadline, "kdeck sim did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let data = dir.path().join("data");
    let out = Command::new(&bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["clusters", "import"])
        .arg(&kc)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sock = format!("kdeck-bench-{}", std::process::id());
    let tmux = |args: &[&str]| Command::new("tmux").arg("-L").arg(&sock).args(args).output().unwrap();
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "b",
        "-x",
        "160",
        "-y",
        "48",
        "-e",
        "TERM=tmux-256color",
        &format!("exec {} --data-dir {}", bin.display(), data.display()),
    ]);
    let pid: u32 = String::from_utf8_lossy(&tmux(&["display", "-p", "-t", "b", "#{pane_pid}"]).stdout)
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let screen = String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "b"]).stdout).into_owned();
        if screen.contains("10 live") {
            break;
        }
        assert!(Instant::now() < deadline, "the demo did not come live:\n{screen}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let the first sync settle, then measure.
    std::thread::sleep(Duration::from_secs(5));
    let hz = 100.0; // USER_HZ on Linux
    let (t0, c0) = (Instant::now(), cpu_ticks(pid).unwrap());
    std::thread::sleep(Duration::from_secs(20));
    let (t1, c1) = (Instant::now(), cpu_ticks(pid).unwrap());
    let secs = (t1 - t0).as_secs_f64();
    let pct = (c1 - c0) as f64 / hz / secs * 100.0;
    println!(
        "idle CPU of the cockpit (10 live clusters, medium fleet of 2,200 apps, no churn; simulators in another process): {pct:.2} % of one core over {secs:.0} s"
    );
    tmux(&["kill-server"]);
    let _ = sim.kill();
    let _ = sim.wait();
}

fn main() {
    // `cargo bench --bench cockpit -- filter` runs one part.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if want("frames") {
        frames();
    }
    if want("filter") {
        filter();
    }
    if want("idle") {
        idle_cpu();
    }
}
