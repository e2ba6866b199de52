//! Builds end to end, as a script drives them: build settings (the registry
//! login kept as a Secret, never printed or journalled), space setup, a
//! followed build whose logs come in order and whose exit code is the
//! result, a failing step, cancel, rerun, prune, deploying the built digest,
//! and a signed GitHub push to the webhook that builds and deploys while a
//! badly signed one does nothing. Against the simulator with the real
//! binary, kubectl and the kube client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use kdeck_sim::{FleetSize, SimOptions};

mod common;
use common::Setup;

const APP: &str = "prod-eu1/shop-prod/web";
const PASSWORD: &str = "hunter2-registry-password";

/// kdeck with stdin.
fn kdeck_in(s: &Setup, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .arg("--data-dir")
        .arg(s.dir.path().join("data"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The web app adopted, its space set up and its build settings stored.
fn ready() -> Setup {
    let s = Setup::new();
    s.ok(&["spaces", "attach", "prod-eu1/shop-prod"]);
    s.ok(&["apps", "adopt", APP]);
    let out = s.ok(&["builds", "setup", "prod-eu1/shop-prod"]);
    assert!(
        out.contains("pipeline kdeck-build") && out.contains("serviceaccount kdeck-builder"),
        "{out}"
    );
    let o = kdeck_in(
        &s,
        &[
            "builds",
            "settings",
            APP,
            "--git",
            "https://git.example.com/shop/web.git",
            "--registry",
            "registry.example.com/shop",
            "--registry-username",
            "bot",
            "--registry-password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("secret web-registry") && !out.contains(PASSWORD), "{out}");
    s
}

fn run_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.split_whitespace().next().filter(|w| w.contains("-build-")))
        .unwrap()
        .to_string()
}

#[test]
fn a_followed_build_prints_its_steps_in_order_and_deploys_the_digest() {
    let s = ready();
    // The login is in the Secret, not in the journal.
    let secret = s.jsonpath("prod-eu1", "shop-prod", "secret/web-registry", "{.type}");
    assert_eq!(secret, "kubernetes.io/dockerconfigjson");
    let history = s.ok(&["history", "-o", "json"]);
    assert!(
        !history.contains(PASSWORD) && history.contains("\"set_build\""),
        "{history}"
    );

    let o = s.kdeck(&["builds", "start", APP, "--follow", "--deploy"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let run = run_of(&out);
    // Every step, in order, with its task and step prefix.
    let prefixes: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| &l[..l.find(']').unwrap() + 1])
        .collect();
    let mut order = prefixes.clone();
    order.dedup();
    assert_eq!(
        order,
        [
            "[clone : clone]",
            "[build : build-and-push]",
            "[build : image-url]",
            "[report : report]"
        ],
        "{out}"
    );
    assert!(
        out.contains("[report : report] build of web at main: Succeeded"),
        "{out}"
    );
    // Deployed: the cluster runs the digest, and kdeck's settings say so.
    let image = s.jsonpath(
        "prod-eu1",
        "shop-prod",
        "deployment/web",
        "{.spec.template.spec.containers[0].image}",
    );
    assert!(image.starts_with("registry.example.com/shop/web@sha256:"), "{image}");
    assert!(err.contains(&format!("succeeded: {image}")), "{err}");
    let shown = s.ok(&["apps", "show", APP, "-o", "json"]);
    assert!(shown.contains(&image), "{shown}");
    let history = s.ok(&["history"]);
    assert!(
        history.contains("builds start") && history.contains("builds deploy"),
        "{history}"
    );

    // The task tree: steps with exit codes, the skipped deploy task, results.
    let show = s.ok(&["builds", "show", &run]);
    assert!(show.contains("· build-and-push  succeeded  exit 0"), "{show}");
    assert!(
        show.contains("deploy  skipped: When Expressions evaluated to false"),
        "{show}"
    );
    assert!(show.contains("report (finally)  succeeded"), "{show}");
    assert!(
        show.contains(&format!("IMAGE_DIGEST = {}", image.split('@').nth(1).unwrap())),
        "{show}"
    );
    // One step's logs alone.
    let logs = s.ok(&["builds", "logs", &run, "--task", "build", "--step", "image-url"]);
    assert_eq!(logs.lines().count(), 1, "{logs}");
    assert!(
        logs.starts_with("[build : image-url] pushed registry.example.com/shop/web:"),
        "{logs}"
    );
}

#[test]
fn an_unknown_revision_fails_at_clone_with_the_reason_in_the_journal() {
    let s = ready();
    let o = s.kdeck(&[
        "builds",
        "start",
        APP,
        "--revision",
        "no-such-branch",
        "--follow",
        "--deploy",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("[clone : clone] fatal: couldn't find remote ref no-such-branch"),
        "{out}"
    );
    assert!(
        err.contains("failed at clone/clone (exit code 128): fatal: couldn't find remote ref no-such-branch"),
        "{err}"
    );
    // The deploy that was asked for is journalled, refused with the reason.
    let history = s.ok(&["history"]);
    assert!(
        history.contains("builds deploy") && history.contains("fatal: couldn't find remote ref no-such-branch"),
        "{history}"
    );
    let run = run_of(&out);
    let show = s.ok(&["builds", "show", &run]);
    assert!(show.contains("· clone  failed  exit 128"), "{show}");
    assert!(show.contains("build  skipped: PipelineRun was stopping"), "{show}");
    // Listed as failed, with its revision.
    let list = s.ok(&["builds", "list", APP]);
    let line = list.lines().find(|l| l.contains(&run)).unwrap();
    assert!(line.contains("failed") && line.contains("no-such-branch"), "{list}");
}

#[test]
fn cancel_rerun_and_prune() {
    let s = ready();
    let started = s.ok(&["builds", "start", APP]);
    let run = run_of(&started);
    s.ok(&["builds", "cancel", &run]);
    s.until("the run is cancelled", Duration::from_secs(10), || {
        s.ok(&["builds", "list", APP])
            .lines()
            .any(|l| l.contains(&run) && l.contains("cancelled"))
    });
    s.fails(&["builds", "cancel", &run], 1, "already ended (Cancelled)");
    // A rerun has the same params, under a new name, and runs to the end.
    // (A second later: runs are ordered by their creation, to the second.)
    std::thread::sleep(Duration::from_millis(1100));
    let o = s.kdeck(&["builds", "rerun", &run, "--follow"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let again = run_of(&out);
    let params = |r: &str| s.jsonpath("prod-eu1", "shop-prod", &format!("pipelinerun/{r}"), "{.spec.params}");
    let name = |r: &str| r.rsplit('/').next().unwrap().to_string();
    assert_eq!(params(&name(&run)), params(&name(&again)));
    // Keep the newest one: the cancelled run goes, the seeded ones of the
    // app too; runs of other apps stay.
    let pruned = s.ok(&["builds", "prune", APP, "--keep", "1"]);
    assert!(pruned.contains(&run) && pruned.contains("deleted"), "{pruned}");
    let left = s.ok(&["builds", "list", APP]);
    assert_eq!(left.lines().count(), 2, "{left}");
    assert!(left.contains(&again), "{left}");
    assert!(s.ok(&["builds", "list", "prod-eu1/shop-prod"]).contains("build-api-"));
}

#[test]
fn bad_input_is_refused_before_anything_is_applied() {
    let s = Setup::with(SimOptions {
        clusters: 2,
        fleet: FleetSize::Small,
        without_tekton: vec!["stage-eu1".into()],
        ..Default::default()
    });
    s.ok(&["apps", "adopt", APP]);
    s.fails(
        &[
            "builds",
            "settings",
            APP,
            "--git",
            "github.com/x",
            "--registry",
            "r.example.com",
        ],
        1,
        "git url",
    );
    s.fails(
        &[
            "builds",
            "settings",
            APP,
            "--git",
            "https://g.example.com/x.git",
            "--registry",
            "r.example.com",
            "--registry-username",
            "bot",
        ],
        2,
        "--registry-username needs a password",
    );
    s.fails(&["builds", "start", APP], 1, "has no build settings");
    s.ok(&[
        "builds",
        "settings",
        APP,
        "--git",
        "https://g.example.com/x.git",
        "--registry",
        "r.example.com",
    ]);
    s.fails(&["builds", "start", APP], 1, "has no registry login");
    s.fails(
        &["builds", "setup", "stage-eu1/shop-prod"],
        1,
        "Tekton Pipelines is not installed on cluster stage-eu1",
    );
    s.fails(
        &["builds", "webhook", APP, "--provider", "github"],
        1,
        "has no registry login",
    );
    s.fails(&["builds", "show", "prod-eu1/shop-prod"], 2, "CLUSTER/SPACE/RUN");
    // Nothing was made in the cluster by the refused commands.
    let out = s.kubectl("prod-eu1", &["-n", "shop-prod", "get", "pipelineruns", "-o", "name"]);
    let names = String::from_utf8_lossy(&out.stdout);
    assert!(!names.contains("web-build-"), "{names}");
}

/// POSTs a push to the app's EventListener through the API server's
/// service proxy, as a git host reaches it through the route.
async fn push(s: &Setup, body: &str, headers: &[(&str, String)]) -> Result<String, u16> {
    let kc = kube::config::Kubeconfig::read_from(s.dir.path().join("kubeconfig")).unwrap();
    let opts = kube::config::KubeConfigOptions {
        context: Some("prod-eu1".into()),
        ..Default::default()
    };
    let client = kube::Client::try_from(kube::Config::from_custom_kubeconfig(kc, &opts).await.unwrap()).unwrap();
    let mut req = http::Request::post("/api/v1/namespaces/shop-prod/services/el-kdeck-web:http-listener/proxy/")
        .header("Content-Type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    match client.request_text(req.body(body.as_bytes().to_vec()).unwrap()).await {
        Ok(t) => Ok(t),
        Err(kube::Error::Api(e)) => Err(e.code),
        Err(e) => panic!("{e}"),
    }
}

fn sign(secret: &str, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, body.as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn webhook_runs(s: &Setup) -> Vec<String> {
    s.ok(&["builds", "list", APP])
        .lines()
        .filter(|l| l.contains(" webhook "))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_signed_push_builds_and_deploys_and_a_bad_signature_does_nothing() {
    let s = ready();
    s.fails(
        &["builds", "webhook", APP, "--provider", "github"],
        1,
        "cluster prod-eu1 has no domain",
    );
    s.ok(&["domains", "add", "prod-eu1", "apps.prod-eu1.example.com"]);
    let o = s.kdeck(&[
        "builds",
        "webhook",
        APP,
        "--provider",
        "github",
        "--branch",
        "main",
        "--deploy",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("http://hook-web-shop-prod.apps.prod-eu1.example.com/"),
        "{out}"
    );
    let secret = out.lines().last().unwrap().trim().to_string();
    assert_eq!(secret.len(), 64, "{out}");
    // Shown once: not in the journal.
    assert!(!s.ok(&["history", "-o", "json"]).contains(&secret));
    assert_eq!(
        s.jsonpath(
            "prod-eu1",
            "shop-prod",
            "ingress/kdeck-hook-web",
            "{.spec.rules[0].http.paths[0].backend.service.name}"
        ),
        "el-kdeck-web"
    );
    let before = s.jsonpath(
        "prod-eu1",
        "shop-prod",
        "deployment/web",
        "{.spec.template.spec.containers[0].image}",
    );

    let commit = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
    let body = format!(
        r#"{{"ref":"refs/heads/main","after":"{commit}","repository":{{"clone_url":"https://git.example.com/shop/web.git"}}}}"#
    );
    let event = ("X-GitHub-Event", "push".to_string());
    // A wrong signature: 403, nothing made.
    let bad = s.rt.block_on(push(
        &s,
        &body,
        &[event.clone(), ("X-Hub-Signature-256", sign("not-the-secret", &body))],
    ));
    assert_eq!(bad, Err(403));
    // A push to another branch: accepted, filtered out.
    let other = r#"{"ref":"refs/heads/dev","after":"1111111111111111111111111111111111111111"}"#;
    let ok = s.rt.block_on(push(
        &s,
        other,
        &[event.clone(), ("X-Hub-Signature-256", sign(&secret, other))],
    ));
    assert!(ok.is_ok(), "{ok:?}");
    assert!(
        webhook_runs(&s).is_empty(),
        "nothing built for another branch or a bad signature"
    );
    // The signed push: a run with the pushed commit, that builds and deploys.
    let good =
        s.rt.block_on(push(&s, &body, &[event, ("X-Hub-Signature-256", sign(&secret, &body))]));
    assert!(good.unwrap().contains("\"eventListener\":\"kdeck-web\""));
    s.until("the webhook's build succeeds", Duration::from_secs(20), || {
        webhook_runs(&s).iter().any(|l| l.contains("succeeded"))
    });
    let runs = webhook_runs(&s);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].contains(commit), "the pushed commit is built: {runs:?}");
    s.until("the deployment runs the built digest", Duration::from_secs(10), || {
        let now = s.jsonpath(
            "prod-eu1",
            "shop-prod",
            "deployment/web",
            "{.spec.template.spec.containers[0].image}",
        );
        now != before && now.starts_with("registry.example.com/shop/web@sha256:")
    });
    // Removed: the listener and its route go.
    s.ok(&["builds", "webhook", "remove", APP]);
    assert!(
        !s.kubectl("prod-eu1", &["-n", "shop-prod", "get", "eventlistener/kdeck-web"])
            .status
            .success()
    );

    // GitLab, on tags: its token header, not a signature.
    let o = s.kdeck(&["builds", "webhook", APP, "--provider", "gitlab", "--tags"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let token = out.lines().last().unwrap().trim().to_string();
    let tag = r#"{"ref":"refs/tags/v2.0.0","checkout_sha":"feedfacefeedfacefeedfacefeedfacefeedface"}"#;
    let event = ("X-Gitlab-Event", "Tag Push Hook".to_string());
    let wrong =
        s.rt.block_on(push(&s, tag, &[event.clone(), ("X-Gitlab-Token", "guess".into())]));
    assert_eq!(wrong, Err(403));
    let branch = r#"{"ref":"refs/heads/main","checkout_sha":"feedfacefeedfacefeedfacefeedfacefeedface"}"#;
    let ok =
        s.rt.block_on(push(&s, branch, &[event.clone(), ("X-Gitlab-Token", token.clone())]));
    assert!(ok.is_ok(), "a branch push is accepted and filtered out: {ok:?}");
    assert_eq!(
        webhook_runs(&s).len(),
        1,
        "no build for a branch when tags are asked for"
    );
    let ok = s.rt.block_on(push(&s, tag, &[event, ("X-Gitlab-Token", token)]));
    assert!(ok.is_ok(), "{ok:?}");
    s.until("the tag's build", Duration::from_secs(10), || {
        webhook_runs(&s).iter().any(|l| l.contains("feedfac"))
    });
}
