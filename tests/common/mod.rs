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
