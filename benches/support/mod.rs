//! What the benchmarks share: the binary, percentiles, simulated fleets in
//! processes of their own, CPU time of a process, a store with a fleet
//! imported.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn kdeck_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kdeck"))
}

pub fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

pub struct Sim(pub Child);
impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start_sim(dir: &Path, clusters: usize, fleet: &str) -> (Sim, PathBuf) {
    let kc = dir.join(format!("kc-{fleet}"));
    let t = Instant::now();
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
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while !kc.exists() {
        assert!(t.elapsed() < Duration::from_secs(600), "sim did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let up = t.elapsed();
    settle(child.id());
    eprintln!(
        "  ({clusters} clusters, {fleet} fleet, simulated in {:.0} s, settled in {:.1} s more)",
        up.as_secs_f64(),
        (t.elapsed() - up).as_secs_f64()
    );
    (Sim(child), kc)
}

/// Waits until the simulator is done reconciling what it seeded (under 5%
/// of a core for half a second): a real fleet is measured at rest too.
pub fn settle(pid: u32) {
    let t = Instant::now();
    let mut last = cpu_ticks(pid).unwrap_or(0);
    while t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
        let now = cpu_ticks(pid).unwrap_or(0);
        // Ticks are hundredths of a second: 2.5 in half a second is 5%.
        if now.saturating_sub(last) <= 2 {
            return;
        }
        last = now;
    }
}

pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// The CLI on a data dir, with `env` set: its stdout; it must succeed.
pub fn cli_with(data: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> String {
    let mut cmd = Command::new(kdeck_bin());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.arg("--data-dir").arg(data).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "kdeck {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A store of its own under `dir`, with the kubeconfig's clusters imported by the CLI.
pub fn imported(dir: &Path, name: &str, kc: &Path) -> PathBuf {
    let data = dir.join(name);
    let out = Command::new(kdeck_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["clusters", "import"])
        .arg(kc)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    data
}

/// The real binary's cockpit in a tmux session of its own (160x48), on a
/// store; the session goes when this does.
pub struct TmuxCockpit {
    sock: String,
    pub pid: u32,
}

impl TmuxCockpit {
    pub fn start(tag: &str, data: &Path) -> TmuxCockpit {
        let sock = format!("kdeck-{tag}-{}", std::process::id());
        let mut c = TmuxCockpit { sock, pid: 0 };
        c.tmux(&[
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
            &format!("exec {} --data-dir {}", kdeck_bin().display(), data.display()),
        ]);
        c.pid = String::from_utf8_lossy(&c.tmux(&["display", "-p", "-t", "b", "#{pane_pid}"]).stdout)
            .trim()
            .parse()
            .unwrap();
        c
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.sock)
            .args(args)
            .output()
            .unwrap()
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "b"]).stdout).into_owned()
    }

    pub fn keys(&self, keys: &str) {
        self.tmux(&["send-keys", "-t", "b", keys]);
    }

    /// Waits until `n` clusters are live on screen.
    pub fn wait_live(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let live = format!("{n} live");
        while !self.screen().contains(&live) {
            assert!(Instant::now() < deadline, "the cockpit did not come live");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for TmuxCockpit {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}
