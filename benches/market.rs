//! Marketplace figures. One command: `cargo bench --bench market`. It
//! starts a simulated fleet of 10 clusters (`kdeck sim`, a process of its
//! own), adds a catalog of one small chart (a Deployment, a Service, a
//! ConfigMap; a file catalog, so no network is measured), and times:
//!
//! - `kdeck market install CHART --clusters tier=bench`: one command, the
//!   10 clusters at once (one render, then 10 installs concurrently);
//! - the same 10 installs one after another, as a loop over
//!   `kdeck market install … --clusters n=I` would do them (a render each).
//!
//! Each is run 5 times with a fresh release name; the figures are the
//! median and the slowest, wall clock, process start included. Helm is the
//! tests' helm (tests/helm/helm over Helm's Go SDK), as in CI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Instant;

mod support;
use support::*;

#[path = "../tests/common/charts.rs"]
#[allow(dead_code)]
mod charts;

const CLUSTERS: usize = 10;
const ROUNDS: usize = 5;

fn cli(data: &Path, args: &[&str]) -> String {
    let helm = charts::helm().0;
    cli_with(data, args, &[("KDECK_HELM", helm.as_os_str())])
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, kc) = start_sim(dir.path(), CLUSTERS, "small");
    let data = imported(dir.path(), "data", &kc);
    let names = kdeck_sim::cluster_names(CLUSTERS);
    for (i, c) in names.iter().enumerate() {
        cli(&data, &["clusters", "label", c, "tier=bench", &format!("n={i}")]);
    }
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let (tgz, sum) = charts::package(&charts::write_chart(&repo), "web", "1.0.0");
    std::fs::write(repo.join("web-1.0.0.tgz"), tgz).unwrap();
    std::fs::write(
        repo.join("index.yaml"),
        format!("apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 1.0.0\n    urls: [web-1.0.0.tgz]\n    digest: {sum}\n"),
    )
    .unwrap();
    cli(&data, &["catalogs", "add", "bench", repo.to_str().unwrap()]);

    let mut together = Vec::new();
    let mut apart = Vec::new();
    for round in 0..ROUNDS {
        let name = format!("c{round}");
        let t = Instant::now();
        let said = cli(
            &data,
            &[
                "market",
                "install",
                "web",
                "--name",
                &name,
                "--namespace",
                "bench",
                "--clusters",
                "tier=bench",
            ],
        );
        together.push(t.elapsed().as_secs_f64());
        assert_eq!(said.matches("installed: revision 1").count(), CLUSTERS, "{said}");

        let name = format!("s{round}");
        let t = Instant::now();
        for i in 0..CLUSTERS {
            cli(
                &data,
                &[
                    "market",
                    "install",
                    "web",
                    "--name",
                    &name,
                    "--namespace",
                    "bench",
                    "--clusters",
                    &format!("n={i}"),
                ],
            );
        }
        apart.push(t.elapsed().as_secs_f64());
    }
    let (t50, tmax) = (pct(&mut together, 0.5), pct(&mut together, 1.0));
    let (a50, amax) = (pct(&mut apart, 0.5), pct(&mut apart, 1.0));
    println!("market install on {CLUSTERS} clusters, {ROUNDS} rounds:");
    println!(
        "  one command, concurrently:   median {:.2} s, slowest {:.2} s",
        t50, tmax
    );
    println!(
        "  one cluster after another:   median {:.2} s, slowest {:.2} s",
        a50, amax
    );
    println!("  speed-up (medians):          {:.1}x", a50 / t50);
}
