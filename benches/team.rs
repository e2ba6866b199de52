//! Team figures. One command: `cargo bench --bench team`. It starts one
//! simulated cluster as the hub (`kdeck sim`, a process of its own) and
//! measures:
//!
//! - joining a team of 500 spaces and 5,000 apps: `kdeck team join` on a
//!   fresh data dir, wall clock, process start included (target < 5 s);
//! - a change reaching 10 watching kdecks: 10 data dirs follow the hub
//!   (kdeck's own follow loop, as the cockpit runs it), 50 domains are
//!   added one by one through `kdeck domains add` on an 11th; each is timed
//!   from the start of its command (a process, a pull of the hub, the
//!   write) until each follower's store has it (target p99 < 2 s).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

mod support;
use support::*;

const SPACES: usize = 500;
const APPS: usize = 5_000;
const FOLLOWERS: usize = 10;
const CHANGES: usize = 50;

fn cli(data: &Path, args: &[&str]) -> String {
    cli_with(data, args, &[])
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, kc) = start_sim(dir.path(), 1, "small");
    let hub = kdeck_sim::cluster_names(1)[0].clone();
    // The team's settings, written straight into the first store.
    let first = imported(dir.path(), "first", &kc);
    {
        let store = kdeck_store::Store::open(&first).unwrap();
        let mut batch = kdeck_store::Batch::new();
        for s in 0..SPACES {
            let space = kdeck_model::SpaceRef {
                cluster: hub.clone(),
                namespace: format!("team-{s}"),
            };
            batch
                .put(&kdeck_model::Space {
                    space: space.clone(),
                    origin: kdeck_model::SpaceOrigin::Attached,
                    added_at: "2026-12-02T00:00:00Z".into(),
                })
                .unwrap();
            for a in 0..APPS / SPACES {
                let app = kdeck_model::AppRef {
                    space: space.clone(),
                    name: format!("app-{a}"),
                };
                batch.put(&kdeck_model::App::new(app, "nginx:1.27")).unwrap();
            }
        }
        store.write(batch).unwrap();
    }
    let t = Instant::now();
    cli(&first, &["team", "init", &hub]);
    let init = t.elapsed();

    let mut joins = Vec::new();
    for round in 0..3 {
        let data = imported(dir.path(), &format!("joiner-{round}"), &kc);
        let t = Instant::now();
        cli(&data, &["team", "join", &hub]);
        joins.push(t.elapsed().as_secs_f64());
        let apps = cli(&data, &["team", "status", "-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&apps).unwrap();
        assert_eq!(v["settings"].as_u64(), Some((SPACES + APPS) as u64), "{apps}");
    }

    // Followers: 10 data dirs in the team, each followed by kdeck's loop.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut stores = Vec::new();
    let mut keep = Vec::new();
    for i in 0..FOLLOWERS {
        let data = imported(dir.path(), &format!("follower-{i}"), &kc);
        cli(&data, &["team", "join", &hub]);
        let store = kdeck_store::Store::open(&data).unwrap();
        let (tx, rx) = tokio::sync::watch::channel(None);
        rt.spawn(kdeck_team::follow(
            store.clone(),
            kdeck_fleet::Gateway::new(),
            || "2026-12-02T00:00:00Z".to_string(),
            tx,
        ));
        keep.push(rx);
        stores.push(store);
    }
    // All live.
    let t = Instant::now();
    while !keep
        .iter()
        .all(|rx| matches!(*rx.borrow(), Some(kdeck_team::HubState::Live { .. })))
    {
        assert!(t.elapsed() < Duration::from_secs(60), "followers not live");
        std::thread::sleep(Duration::from_millis(20));
    }
    let writer = imported(dir.path(), "writer", &kc);
    cli(&writer, &["team", "join", &hub]);
    let mut reach = Vec::new();
    let mut command = Vec::new();
    for i in 0..CHANGES {
        let suffix = format!("apps-{i}.example.com");
        // From the start of the writer's command: its process, its pull of
        // the hub, its write, then each follower's watch.
        let done = Instant::now();
        cli(&writer, &["domains", "add", &hub, &suffix]);
        command.push(done.elapsed().as_secs_f64() * 1000.0);
        let key = format!("{hub}/{suffix}");
        let mut pending: Vec<usize> = (0..FOLLOWERS).collect();
        while !pending.is_empty() {
            pending.retain(|f| {
                let has = stores[*f].get::<kdeck_model::Domain>(&key).unwrap().is_some();
                if has {
                    reach.push(done.elapsed().as_secs_f64() * 1000.0);
                }
                !has
            });
            assert!(
                done.elapsed() < Duration::from_secs(30),
                "{key} did not reach {pending:?}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let (j50, jmax) = (pct(&mut joins, 0.5), pct(&mut joins, 1.0));
    let (r50, r99, rmax) = (pct(&mut reach, 0.5), pct(&mut reach, 0.99), pct(&mut reach, 1.0));
    let c50 = pct(&mut command, 0.5);
    println!("team mode, a hub of {SPACES} spaces and {APPS} apps on one simulated cluster:");
    println!(
        "  team init (push {} settings):           {:.2} s",
        SPACES + APPS,
        init.as_secs_f64()
    );
    println!(
        "  team join, 3 fresh data dirs:            median {j50:.2} s, slowest {jmax:.2} s   target < 5 s: {}",
        if jmax < 5.0 { "met" } else { "NOT MET" }
    );
    println!(
        "  a change reaching {FOLLOWERS} followers ({CHANGES} changes): p50 {r50:.0} ms, p99 {r99:.0} ms, worst {rmax:.0} ms   target p99 < 2 s: {}",
        if r99 < 2000.0 { "met" } else { "NOT MET" }
    );
    println!("    (timed from the start of the writer's command, which itself takes {c50:.0} ms at p50)");
    drop(keep);
    rt.shutdown_timeout(Duration::from_secs(2));
}
