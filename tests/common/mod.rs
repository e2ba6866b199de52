//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use kdeck::clock::FixedClock;
use kdeck::command::Executor;
use kdeck::store::Store;

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

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The simulated clusters imported into a fresh store under `dir`, as `user`.
pub async fn stored_clusters(
    handles: &[kdeck::sim::SimHandle],
    user: &str,
    dir: &std::path::Path,
) -> Vec<kdeck::model::Cluster> {
    let kc = dir.join("kubeconfig");
    std::fs::write(&kc, kdeck::sim::kubeconfig(handles, user)).expect("kubeconfig written");
    let store = Store::open(&dir.join("data")).expect("store opens");
    let ex = Executor::new(store.clone(), "t@h".into(), Arc::new(kdeck::clock::SystemClock));
    ex.run(kdeck::command::Command::ImportClusters {
        files: vec![kc.display().to_string()],
        contexts: vec![],
        update: false,
    })
    .await
    .expect("import runs");
    store.list::<kdeck::model::Cluster>().expect("clusters listed")
}

/// Polls `f` every 25 ms until it holds; fails the test after `within`.
pub async fn until(what: &str, within: std::time::Duration, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
