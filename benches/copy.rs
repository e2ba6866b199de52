//! Copy figures. Run: `cargo build --release && cargo bench --bench copy`.
//! 200 apps (a Deployment or StatefulSet each, with its Service and Ingress)
//! from one simulated cluster to spaces on 3 others, every cluster answering
//! after 20 ms: `kdeck copy` against the same copy done the way people do it
//! today, `kubectl get -o json | jq … | kubectl apply -f -` per app and
//! target in a loop (the get once per app). Wall time and the requests the
//! four API servers saw, side by side in one run. Needs `kubectl` and `jq`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Instant;

use kdeck_sim::{Faults, FleetSize, SimHandle, SimOptions};

fn kdeck_bin() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/kdeck");
    assert!(p.exists(), "build the release binary first: cargo build --release");
    p
}

fn requests(h: &[SimHandle]) -> u64 {
    h.iter().map(|s| s.cluster.stats.requests.load(Ordering::Relaxed)).sum()
}

fn main() {
    for tool in ["kubectl", "jq"] {
        assert!(
            Command::new(tool)
                .arg("--help")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok(),
            "{tool} is needed for the side-by-side run"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handles = rt
        .block_on(kdeck_sim::start(SimOptions {
            clusters: 4,
            // 199 Deployments and a StatefulSet in one space per cluster.
            fleet: FleetSize::Custom { spaces: 1, apps: 199 },
            ..Default::default()
        }))
        .unwrap();
    for h in &handles {
        h.set_faults(Faults {
            latency_ms: 20,
            ..Default::default()
        });
    }
    let ns = kdeck_sim::fleet::space_names(1)[0].clone();
    let names: Vec<String> = handles.iter().map(|h| h.name.clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, kdeck_sim::kubeconfig(&handles, "admin")).unwrap();
    let data = dir.path().join("data");
    let kdeck = |args: &[&str]| {
        let out = Command::new(kdeck_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kdeck {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    kdeck(&["clusters", "import", kc.to_str().unwrap()]);
    for t in &names[1..] {
        kdeck(&["domains", "add", t, &format!("apps.{t}.example.com")]);
    }

    // kdeck: one command.
    let from = format!("{}/{ns}", names[0]);
    let mut args = vec!["copy".to_string(), "--from".into(), from.clone()];
    for t in &names[1..] {
        args.extend(["--to".into(), format!("{t}/bench-kdeck")]);
    }
    args.extend(["-o".into(), "json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r0 = requests(&handles);
    let t = Instant::now();
    let out = kdeck(&args);
    let kdeck_wall = t.elapsed();
    let kdeck_requests = requests(&handles) - r0;
    let entry: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(entry["status"], "applied", "{entry}");
    assert_eq!(entry["items"].as_array().unwrap().len(), 600);
    // Again: the rerun that finds everything done.
    let r0 = requests(&handles);
    let t = Instant::now();
    kdeck(&args);
    let rerun_wall = t.elapsed();
    let rerun_requests = requests(&handles) - r0;

    // kubectl: per app, get once, then apply to each target.
    let cache = dir.path().join("kube-cache");
    let kubectl = |ctx: &str| {
        format!(
            "kubectl --kubeconfig {} --cache-dir {} --context {ctx}",
            kc.display(),
            cache.display()
        )
    };
    for t in &names[1..] {
        let ok = Command::new("sh")
            .arg("-c")
            .arg(format!("{} create namespace bench-kubectl", kubectl(t)))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let apps: Vec<(String, String)> = handles[0]
        .truth("Deployment")
        .into_iter()
        .chain(handles[0].truth("StatefulSet"))
        .filter(|o| o["metadata"]["namespace"] == ns.as_str())
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or("Deployment").to_ascii_lowercase(),
                o["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(apps.len(), 200);
    let strip = "del(.items[].metadata.uid, .items[].metadata.resourceVersion, .items[].metadata.creationTimestamp, \
                 .items[].metadata.generation, .items[].metadata.managedFields, .items[].status, \
                 .items[].spec.clusterIP, .items[].spec.clusterIPs) | .items[].metadata.namespace = \"bench-kubectl\"";
    let r0 = requests(&handles);
    let t = Instant::now();
    for (kind, name) in &apps {
        let ing = if kind == "deployment" {
            format!(" ingress/{name}")
        } else {
            String::new()
        };
        let mut script = format!(
            "set -e; obj=$({} -n {ns} get {kind}/{name} service/{name}{ing} -o json | jq '{strip}')",
            kubectl(&names[0])
        );
        for tgt in &names[1..] {
            script.push_str(&format!("; echo \"$obj\" | {} apply -f - >/dev/null", kubectl(tgt)));
        }
        let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let kubectl_wall = t.elapsed();
    let kubectl_requests = requests(&handles) - r0;

    let secs = |d: std::time::Duration| d.as_secs_f64();
    println!("copy, 200 apps (workload + Service + Ingress each) from 1 cluster to 3, 20 ms latency per request:");
    println!(
        "  kdeck copy:              {:7.2} s  {:6} requests  (rerun with nothing to do: {:.2} s, {} requests)",
        secs(kdeck_wall),
        kdeck_requests,
        secs(rerun_wall),
        rerun_requests
    );
    println!(
        "  kubectl get|jq|apply loop:{:7.2} s  {:6} requests",
        secs(kubectl_wall),
        kubectl_requests
    );
    println!(
        "  kdeck is {:.1}x faster with {:.1}x fewer requests",
        secs(kubectl_wall) / secs(kdeck_wall),
        kubectl_requests as f64 / kdeck_requests.max(1) as f64
    );
    drop(rt);
}
