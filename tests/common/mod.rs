//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod charts;
pub mod http;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kdeck_command::Executor;
use kdeck_model::clock::FixedClock;
use kdeck_store::Store;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kdeck_sim::{FleetSize, SimHandle, SimOptions};

/// The real binary on a data dir of its own, as `user` (USER, which names
/// the journal's actor) when given.
pub fn kdeck_as(data: &std::path::Path, user: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kdeck"));
    if let Some(u) = user {
        cmd.env("USER", u);
    }
    cmd.arg("--data-dir").arg(data).args(args).output().unwrap()
}

/// [`kdeck_as`] that must succeed: its stdout.
pub fn ok_as(data: &std::path::Path, user: Option<&str>, args: &[&str]) -> String {
    succeeded(format_args!("kdeck {args:?}"), kdeck_as(data, user, args))
}

pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// An executor on a fresh store in a temp dir, with a fixed clock.
pub fn executor() -> (tempfile::TempDir, Executor) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store opens");
    let t = time::macros::datetime!(2026-11-22 10:00:00 UTC);
    (dir, Executor::new(store, "tester@host".into(), Arc::new(FixedClock(t))))
}

/// Simulated clusters for a test that is not async itself, on a runtime
/// of their own (kept alive by the caller with the handles).
pub fn sim_on_runtime(opts: SimOptions) -> (tokio::runtime::Runtime, Vec<SimHandle>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let handles = rt.block_on(kdeck_sim::start(opts)).expect("the simulator starts");
    (rt, handles)
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The simulated clusters imported into a fresh store under `dir`, as `user`.
pub async fn stored_clusters(
    handles: &[kdeck_sim::SimHandle],
    user: &str,
    dir: &std::path::Path,
) -> Vec<kdeck_model::Cluster> {
    let kc = dir.join("kubeconfig");
    std::fs::write(&kc, kdeck_sim::kubeconfig(handles, user)).expect("kubeconfig written");
    let store = Store::open(&dir.join("data")).expect("store opens");
    let ex = Executor::new(store.clone(), "t@h".into(), Arc::new(kdeck_model::clock::SystemClock));
    ex.run(kdeck_command::Command::ImportClusters {
        files: vec![kc.display().to_string()],
        contexts: vec![],
        update: false,
    })
    .await
    .expect("import runs");
    store.list::<kdeck_model::Cluster>().expect("clusters listed")
}

/// Polls `f` every 25 ms until it holds; fails the test after `within`.
pub async fn until(what: &str, within: std::time::Duration, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Simulated clusters, their kubeconfig imported into a store in a temp
/// dir, and the real binary and kubectl to drive them.
pub struct Setup {
    pub rt: tokio::runtime::Runtime,
    pub handles: Vec<SimHandle>,
    pub dir: tempfile::TempDir,
}

impl Setup {
    /// Two small clusters.
    pub fn new() -> Setup {
        Setup::with(SimOptions {
            clusters: 2,
            fleet: FleetSize::Small,
            ..Default::default()
        })
    }

    pub fn with(opts: SimOptions) -> Setup {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handles = rt.block_on(kdeck_sim::start(opts)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kubeconfig"), kdeck_sim::kubeconfig(&handles, "admin")).unwrap();
        let s = Setup { rt, handles, dir };
        let kc = s.dir.path().join("kubeconfig");
        s.ok(&["clusters", "import", kc.to_str().unwrap()]);
        s
    }

    pub fn kdeck(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kdeck"))
            .env("KDECK_HELM", charts::helm().0)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(args)
            .output()
            .unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(format_args!("kdeck {args:?}"), self.kdeck(args))
    }

    pub fn fails(&self, args: &[&str], code: i32, says: &str) {
        let out = self.kdeck(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "kdeck {args:?}: {err}");
        assert!(err.contains(says), "kdeck {args:?} should say {says:?}: {err}");
    }

    pub fn kubectl(&self, context: &str, args: &[&str]) -> Output {
        self.kubectl_at(Path::new("kubectl"), context, args)
    }

    /// A given kubectl binary (see [`kubectls`]) against a context.
    pub fn kubectl_at(&self, bin: &Path, context: &str, args: &[&str]) -> Output {
        Command::new(bin)
            .arg("--kubeconfig")
            .arg(self.dir.path().join("kubeconfig"))
            .arg("--context")
            .arg(context)
            .args(args)
            .output()
            .unwrap()
    }

    pub fn jsonpath(&self, context: &str, ns: &str, what: &str, path: &str) -> String {
        let out = self.kubectl(context, &["-n", ns, "get", what, "-o", &format!("jsonpath={path}")]);
        assert!(
            out.status.success(),
            "kubectl get {what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn until(&self, what: &str, within: Duration, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + within;
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The apps of a simulated cluster as (namespace, name, resourceVersion).
pub fn truth_apps(h: &SimHandle) -> std::collections::BTreeSet<(String, String, String)> {
    ["Deployment", "StatefulSet"]
        .iter()
        .flat_map(|k| h.truth(k))
        .map(|d| {
            let m = &d["metadata"];
            (
                m["namespace"].as_str().unwrap_or_default().into(),
                m["name"].as_str().unwrap_or_default().into(),
                m["resourceVersion"].as_str().unwrap_or_default().into(),
            )
        })
        .collect()
}

/// The same of the live model's snapshot of a cluster.
pub fn model_apps(s: &kdeck_fleet::live::ClusterSnapshot) -> std::collections::BTreeSet<(String, String, String)> {
    s.apps
        .values()
        .map(|a| (a.namespace.clone(), a.name.clone(), a.resource_version.clone()))
        .collect()
}

/// A small deterministic generator for randomized tests, seeded from the
/// clock (the tests print the seed).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }

    /// `k` items of `from`, in a random order.
    pub fn pick<'a, T>(&mut self, from: &'a [T], k: usize) -> Vec<&'a T> {
        let mut idx: Vec<usize> = (0..from.len()).collect();
        for i in (1..idx.len()).rev() {
            idx.swap(i, self.below(i as u64 + 1) as usize);
        }
        idx.into_iter().take(k).map(|i| &from[i]).collect()
    }
}

/// The oldest and newest kubectl the machine's dispatcher carries (1.27
/// and 1.33): they differ in what they send (1.32 and later send protobuf
/// for typed creates; 1.27 reads OpenAPI v2 for some commands).
pub fn kubectls() -> Vec<(String, PathBuf)> {
    let out = Command::new("sh")
        .args(["-c", "readlink -f \"$(command -v kubectl)\""])
        .output()
        .unwrap();
    let real = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let dir = real.parent().expect("kubectl lives in a directory").to_path_buf();
    ["1.27", "1.33"]
        .iter()
        .map(|v| {
            let bin = dir.join(format!("kubectl.{v}"));
            assert!(
                bin.exists(),
                "kubectl {v} is expected beside the dispatcher at {}",
                bin.display()
            );
            (v.to_string(), bin)
        })
        .collect()
}

/// A command that must succeed: its stdout (stdout and stderr said when not).
pub fn succeeds(out: Output) -> String {
    succeeded("the command", out)
}

/// `what` must have succeeded: its stdout; when not, what it was and all it said.
pub fn succeeded(what: impl std::fmt::Display, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
