//! Conformance through the real `kubectl` on the machine: the simulator must
//! satisfy it unchanged. Each test uses its own `--cache-dir`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kdeck_sim::{FleetSize, SimHandle, SimOptions};

struct Fleet {
    _rt: tokio::runtime::Runtime,
    handles: Vec<SimHandle>,
    dir: tempfile::TempDir,
}

impl Fleet {
    fn start(clusters: usize, fleet: FleetSize) -> Self {
        require_kubectl();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handles = rt
            .block_on(kdeck_sim::start(SimOptions {
                clusters,
                fleet,
                ..Default::default()
            }))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kubeconfig"), kdeck_sim::kubeconfig(&handles, "admin")).unwrap();
        Self { _rt: rt, handles, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn kubectl(&self, context: &str) -> Command {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--context")
            .arg(context)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"));
        c.env_remove("KUBECONFIG");
        c
    }

    /// Runs kubectl with a time limit; (exit code, stdout, stderr).
    fn run(&self, context: &str, args: &[&str]) -> (i32, String, String) {
        run_bounded(self.kubectl(context).args(args), Duration::from_secs(60))
    }

    fn ok(&self, context: &str, args: &[&str]) -> String {
        let (code, out, err) = self.run(context, args);
        assert_eq!(code, 0, "kubectl {args:?} failed: {err}{out}");
        out
    }
}

fn require_kubectl() {
    let found = Command::new("kubectl").arg("version").arg("--client").output();
    if !matches!(found, Ok(ref o) if o.status.success()) {
        panic!(
            "kubectl is not on PATH: these tests need the real kubectl (1.27-1.33) that the machine image ships; install it and run again"
        );
    }
}

fn run_bounded(cmd: &mut Command, limit: Duration) -> (i32, String, String) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into(),
                String::from_utf8_lossy(&out.stderr).into(),
            );
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn manifest(dir: &Path, name: &str, image: &str, extra: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  replicas: 2\n{extra}  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: {name}\n        image: {image}\n        ports: [{{containerPort: 80}}]\n"
        ),
    )
    .unwrap();
    p
}

#[test]
fn get_apply_rollout_scale_logs_delete_on_every_context() {
    let f = Fleet::start(2, FleetSize::Small);
    for h in &f.handles {
        let ctx = h.name.as_str();
        let ns = f.ok(ctx, &["get", "ns"]);
        assert!(ns.contains("shop-prod") && ns.contains("kube-system"), "{ns}");
        let deploys = f.ok(ctx, &["get", "deploy", "-A"]);
        assert!(
            deploys
                .lines()
                .any(|l| l.starts_with("shop-prod") && l.contains(" web ")),
            "{deploys}"
        );
        assert!(f.ok(ctx, &["get", "po", "-n", "shop-prod"]).contains("web-"));

        let m = manifest(f.dir.path(), "hello", "nginx:1.27", "");
        let m = m.to_str().unwrap();
        assert!(f.ok(ctx, &["apply", "-f", m]).contains("deployment.apps/hello created"));
        let out = f.ok(
            ctx,
            &["rollout", "status", "deploy/hello", "-n", "default", "--timeout=30s"],
        );
        assert!(out.contains("successfully rolled out"), "{out}");
        // Change and apply again: a new revision rolls out.
        let m2 = manifest(f.dir.path(), "hello", "nginx:1.28", "");
        assert!(
            f.ok(ctx, &["apply", "-f", m2.to_str().unwrap()])
                .contains("deployment.apps/hello configured")
        );
        assert!(
            f.ok(
                ctx,
                &["rollout", "status", "deploy/hello", "-n", "default", "--timeout=30s"]
            )
            .contains("successfully rolled out")
        );
        let image = f.ok(
            ctx,
            &[
                "get",
                "deploy",
                "hello",
                "-n",
                "default",
                "-o",
                "jsonpath={.spec.template.spec.containers[0].image}",
            ],
        );
        assert_eq!(image, "nginx:1.28");
        let rev = f.ok(
            ctx,
            &[
                "get",
                "deploy",
                "hello",
                "-n",
                "default",
                "-o",
                "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
            ],
        );
        assert_eq!(rev, "2");
        // Applying the same file again changes nothing.
        assert!(f.ok(ctx, &["apply", "-f", m2.to_str().unwrap()]).contains("unchanged"));

        assert!(
            f.ok(ctx, &["scale", "deploy/hello", "-n", "default", "--replicas=3"])
                .contains("scaled")
        );
        f.ok(
            ctx,
            &["rollout", "status", "deploy/hello", "-n", "default", "--timeout=30s"],
        );
        let ready = f.ok(
            ctx,
            &[
                "get",
                "deploy",
                "hello",
                "-n",
                "default",
                "-o",
                "jsonpath={.status.readyReplicas}",
            ],
        );
        assert_eq!(ready, "3");

        let pod = f.ok(
            ctx,
            &[
                "get",
                "pods",
                "-n",
                "default",
                "-l",
                "app=hello",
                "-o",
                "jsonpath={.items[0].metadata.name}",
            ],
        );
        std::thread::sleep(Duration::from_millis(1200));
        let logs = f.ok(ctx, &["logs", "-n", "default", &pod, "--tail", "2"]);
        assert_eq!(logs.lines().count(), 2, "{logs}");
        assert!(logs.lines().all(|l| l.starts_with("level=")), "{logs}");
        // Follow: lines keep coming until we stop listening.
        let mut child = f
            .kubectl(ctx)
            .args(["logs", "-n", "default", &pod, "-f", "--tail", "1", "--timestamps"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let started = Instant::now();
        let mut got = Vec::new();
        while got.len() < 3 && started.elapsed() < Duration::from_secs(10) {
            match lines.next() {
                Some(Ok(l)) => got.push(l),
                _ => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(got.len(), 3, "followed lines: {got:?}");
        assert!(got[0].contains("Z level="), "{got:?}");

        // delete waits (list + watch) until the object is gone.
        let out = f.ok(ctx, &["delete", "-f", m2.to_str().unwrap()]);
        assert!(out.contains("deployment.apps \"hello\" deleted"), "{out}");
        let (code, _, err) = f.run(ctx, &["get", "deploy", "hello", "-n", "default"]);
        assert_eq!(code, 1);
        assert!(err.contains("deployments.apps \"hello\" not found"), "{err}");
        // The ReplicaSets and pods went with it.
        std::thread::sleep(Duration::from_millis(500));
        let left = f.ok(
            ctx,
            &["get", "rs,pods", "-n", "default", "-l", "app=hello", "-o", "name"],
        );
        assert!(left.trim().is_empty(), "{left}");
    }
}

#[test]
fn get_watch_sees_a_change() {
    let f = Fleet::start(1, FleetSize::Small);
    let ctx = f.handles[0].name.clone();
    let mut child = f
        .kubectl(&ctx)
        .args([
            "get",
            "deploy",
            "web",
            "-n",
            "shop-prod",
            "-w",
            "-o",
            "jsonpath={.spec.replicas}{\"\\n\"}",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    f.ok(&ctx, &["scale", "deploy/web", "-n", "shop-prod", "--replicas=4"]);
    let started = Instant::now();
    let mut seen = vec![first];
    while !seen.iter().any(|l| l == "4") && started.elapsed() < Duration::from_secs(10) {
        match lines.next() {
            Some(Ok(l)) => seen.push(l),
            _ => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().any(|l| l == "4"), "the watch showed {seen:?}");
}

#[test]
fn unpullable_image_fails_the_rollout_and_bad_input_is_refused() {
    let f = Fleet::start(1, FleetSize::Empty);
    let ctx = f.handles[0].name.clone();
    let m = manifest(
        f.dir.path(),
        "broken",
        "registry.example.com/unpullable:1",
        "  progressDeadlineSeconds: 2\n",
    );
    f.ok(&ctx, &["apply", "-f", m.to_str().unwrap()]);
    let (code, out, err) = f.run(
        &ctx,
        &["rollout", "status", "deploy/broken", "-n", "default", "--timeout=30s"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("exceeded its progress deadline"), "{err}");
    let reason = f.ok(
        &ctx,
        &[
            "get",
            "pods",
            "-n",
            "default",
            "-l",
            "app=broken",
            "-o",
            "jsonpath={.items[0].status.containerStatuses[0].state.waiting.reason}",
        ],
    );
    assert_eq!(reason, "ImagePullBackOff");

    // Invalid objects: 422 naming the field.
    let bad = f.dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: neg, namespace: default}\nspec:\n  replicas: -1\n  selector: {matchLabels: {app: neg}}\n  template:\n    metadata: {labels: {app: neg}}\n    spec: {containers: [{name: c, image: nginx}]}\n").unwrap();
    let (code, _, err) = f.run(&ctx, &["create", "-f", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("spec.replicas: Invalid value: -1"), "{err}");
    std::fs::write(&bad, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: empty, namespace: default}\nspec:\n  selector: {matchLabels: {app: e}}\n  template:\n    metadata: {labels: {app: e}}\n    spec: {containers: []}\n").unwrap();
    let (code, _, err) = f.run(&ctx, &["create", "-f", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("spec.template.spec.containers: Required value"), "{err}");
    // Unknown resources answer 404 the way a real server does.
    let (code, _, err) = f.run(&ctx, &["get", "widgets"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("the server doesn't have a resource type \"widgets\""),
        "{err}"
    );
    // Namespaces terminate with their contents.
    f.ok(&ctx, &["create", "namespace", "doomed"]);
    f.ok(
        &ctx,
        &["create", "configmap", "x", "-n", "doomed", "--from-literal=a=b"],
    );
    f.ok(&ctx, &["delete", "namespace", "doomed"]);
    let (code, _, err) = f.run(&ctx, &["get", "ns", "doomed"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn roles_limit_what_kubectl_may_do() {
    let f = Fleet::start(1, FleetSize::Small);
    let viewer = f.dir.path().join("viewer");
    std::fs::write(&viewer, kdeck_sim::kubeconfig(&f.handles, "auditor")).unwrap();
    let ctx = f.handles[0].name.clone();
    let cache = f.dir.path().join("cache-viewer");
    let run = |args: &[&str]| {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&viewer)
            .arg("--context")
            .arg(&ctx)
            .arg("--cache-dir")
            .arg(&cache)
            .args(args);
        run_bounded(&mut c, Duration::from_secs(60))
    };
    let (code, out, _) = run(&["get", "deploy", "-n", "shop-prod"]);
    assert_eq!(code, 0);
    assert!(out.contains("web"));
    let (code, _, err) = run(&["scale", "deploy/web", "-n", "shop-prod", "--replicas=3"]);
    assert_eq!(code, 1);
    assert!(err.contains("User \"auditor\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"shop-prod\""), "{err}");
}

#[test]
fn kdeck_sim_command_serves_kubectl_until_interrupted() {
    require_kubectl();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("k");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .args(["sim", "--clusters", "2", "--kubeconfig-out"])
        .arg(&kc)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = err.next().unwrap().unwrap();
    assert!(first.contains("2 cluster(s) running"), "{first}");
    let text = std::fs::read_to_string(&kc).unwrap();
    assert!(text.contains("certificate-authority-data"));
    for ctx in ["prod-eu1", "stage-eu1"] {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&kc)
            .arg("--context")
            .arg(ctx)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .args(["get", "ns"]);
        let (code, out, e) = run_bounded(&mut c, Duration::from_secs(60));
        assert_eq!(code, 0, "{e}");
        assert!(out.contains("shop-prod"), "{out}");
    }
    // Ctrl-C ends it cleanly.
    let _ = Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&kc).unwrap().permissions()) & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn kdeck_demo_imports_the_simulated_clusters_and_cleans_up() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .args(["demo", "--clusters", "2", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = err.next().unwrap().unwrap();
    assert!(
        line.contains("2 simulated cluster(s) imported into a throw-away store in "),
        "{line}"
    );
    let dir = PathBuf::from(line.rsplit(" in ").next().unwrap());
    assert!(dir.join("data/store").is_dir());
    let _ = Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prod-eu1", "stage-eu1"]);
    assert!(v[0]["server"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    assert!(!dir.exists(), "the demo store is removed on exit");
}
