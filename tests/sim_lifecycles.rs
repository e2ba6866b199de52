//! Object lifecycles as a real cluster runs them, through the real kubectl:
//! a bare pod (`kubectl run`) is scheduled and runs; `kubectl expose` gets
//! a Service with a cluster IP (and node ports); a Job's pod runs to
//! completion; nodes are listed; a deleted namespace stays Terminating,
//! refuses new content and says what remains until its last finalizer goes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Setup, kubectls, succeeds as ok};

const CTX: &str = "prod-eu1";
const NS: &str = "shop-prod";

#[test]
fn run_expose_and_jobs_behave_as_on_a_cluster() {
    let s = Setup::new();
    for (version, bin) in kubectls() {
        let k = |args: &[&str]| {
            let mut all = vec!["-n", NS];
            all.extend_from_slice(args);
            s.kubectl_at(&bin, CTX, &all)
        };
        let pod = format!("hello-{}", version.replace('.', "-"));
        ok(k(&[
            "run",
            &pod,
            "--image=nginx:1.27",
            "--port=80",
            "--labels=run=hello",
        ]));
        ok(k(&[
            "wait",
            "--for=condition=Ready",
            &format!("pod/{pod}"),
            "--timeout=20s",
        ]));
        let seen = ok(k(&[
            "get",
            "pod",
            &pod,
            "-o",
            "jsonpath={.spec.nodeName} {.status.phase} {.status.podIP} {.status.qosClass}",
        ]));
        let f: Vec<&str> = seen.split(' ').collect();
        assert_eq!(
            (f[0], f[1], f[3]),
            ("sim-node-1", "Running", "BestEffort"),
            "{version}: {seen}"
        );
        assert!(f[2].starts_with("10.244."), "{version}: {seen}");

        ok(k(&["expose", "pod", &pod, "--port=8080", "--target-port=80"]));
        let svc = ok(k(&[
            "get",
            "service",
            &pod,
            "-o",
            "jsonpath={.spec.clusterIP} {.spec.ports[0].port} {.spec.selector.run}",
        ]));
        let f: Vec<&str> = svc.split(' ').collect();
        assert!(
            f[0].starts_with("10.96."),
            "{version}: a cluster IP is allocated: {svc}"
        );
        assert_eq!((f[1], f[2]), ("8080", "hello"), "{version}");
        let np = format!("web-np-{}", version.replace('.', "-"));
        ok(k(&[
            "expose",
            "deployment",
            "web",
            "--name",
            &np,
            "--type=NodePort",
            "--port=80",
            "--target-port=8080",
        ]));
        let node_port: u32 = ok(k(&["get", "service", &np, "-o", "jsonpath={.spec.ports[0].nodePort}"]))
            .parse()
            .unwrap();
        assert!((30000..=32767).contains(&node_port), "{version}: {node_port}");
        // Addresses are unique.
        let ips = ok(k(&["get", "services", "-o", "jsonpath={.items[*].spec.clusterIP}"]));
        let mut all: Vec<&str> = ips.split(' ').filter(|ip| *ip != "None").collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "{version}: {ips}");

        let job = format!("once-{}", version.replace('.', "-"));
        ok(k(&["create", "job", &job, "--image=busybox", "--", "echo", "hi"]));
        ok(k(&[
            "wait",
            "--for=condition=complete",
            &format!("job/{job}"),
            "--timeout=20s",
        ]));
        let out = ok(k(&["get", "job", &job]));
        let row = out.lines().nth(1).unwrap_or("");
        assert!(row.contains("Complete") && row.contains("1/1"), "{version}: {out}");
        let pods = ok(k(&[
            "get",
            "pods",
            "-l",
            &format!("job-name={job}"),
            "-o",
            "jsonpath={.items[*].status.phase}",
        ]));
        assert_eq!(pods, "Succeeded", "{version}");
        let out = ok(s.kubectl_at(&bin, CTX, &["get", "nodes"]));
        assert!(
            out.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("sim-node-1") && l.contains("Ready")),
            "{out}"
        );
    }
}

#[test]
fn a_deleted_namespace_terminates_until_its_content_is_gone() {
    let s = Setup::new();
    let k = |args: &[&str]| s.kubectl(CTX, args);
    ok(k(&["create", "namespace", "gone"]));
    ok(k(&[
        "-n",
        "gone",
        "create",
        "deployment",
        "d",
        "--image=nginx",
        "--replicas=2",
    ]));
    ok(k(&["-n", "gone", "create", "configmap", "held", "--from-literal=a=b"]));
    ok(k(&[
        "-n",
        "gone",
        "patch",
        "configmap",
        "held",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
    ]));
    ok(k(&[
        "-n",
        "gone",
        "wait",
        "--for=condition=Available",
        "deployment/d",
        "--timeout=20s",
    ]));
    ok(k(&["delete", "namespace", "gone", "--wait=false"]));
    s.until(
        "the content but the held ConfigMap is gone",
        Duration::from_secs(20),
        || {
            let out = k(&["-n", "gone", "get", "pods,deployments,configmaps", "-o", "name"]);
            String::from_utf8_lossy(&out.stdout).trim() == "configmap/held"
        },
    );
    let out = ok(k(&["get", "namespace", "gone"]));
    assert!(out.contains("Terminating"), "{out}");
    let said = ok(k(&[
        "get",
        "namespace",
        "gone",
        "-o",
        "jsonpath={.status.conditions[*].message}",
    ]));
    assert!(
        said.contains("Some resources are remaining: configmaps has 1 resource instances"),
        "{said}"
    );
    assert!(said.contains("example.com/hold in 1 resource instances"), "{said}");
    let out = k(&["-n", "gone", "create", "configmap", "late", "--from-literal=a=b"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "new content is refused");
    assert!(
        err.contains(r#"configmaps "late" is forbidden: unable to create new content in namespace gone because it is being terminated"#),
        "{err}"
    );
    ok(k(&[
        "-n",
        "gone",
        "patch",
        "configmap",
        "held",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]));
    ok(k(&["wait", "--for=delete", "namespace/gone", "--timeout=20s"]));
}

#[test]
fn services_have_endpoints_and_slices_of_their_ready_pods() {
    let s = Setup::new();
    let k = |args: &[&str]| {
        let mut all = vec!["-n", NS];
        all.extend_from_slice(args);
        s.kubectl(CTX, &all)
    };
    ok(k(&["scale", "deployment", "web", "--replicas=3"]));
    ok(k(&["rollout", "status", "deployment/web", "--timeout=20s"]));
    let pod_ips = ok(k(&[
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/name=web",
        "-o",
        "jsonpath={.items[*].status.podIP}",
    ]));
    let mut want: Vec<String> = pod_ips.split(' ').map(|ip| format!("{ip}:8080")).collect();
    want.sort();
    let mut uniq = want.clone();
    uniq.dedup();
    assert_eq!((want.len(), uniq.len()), (3, 3), "pods have their own IPs: {pod_ips}");
    s.until("three endpoints", Duration::from_secs(10), || {
        let out = k(&[
            "get",
            "endpoints",
            "web",
            "-o",
            "jsonpath={range .subsets[*].addresses[*]}{.ip}{' '}{end}",
        ]);
        String::from_utf8_lossy(&out.stdout).split_whitespace().count() == 3
    });
    let out = ok(k(&["get", "endpoints", "web", "--no-headers"]));
    let mut shown: Vec<String> = out
        .split_whitespace()
        .nth(1)
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    shown.sort();
    assert_eq!(shown, want, "{out}");
    let slice = ok(k(&[
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=web",
        "-o",
        "jsonpath={.items[0].addressType} {.items[0].ports[0].port} {.items[0].metadata.ownerReferences[0].kind}",
    ]));
    assert_eq!(slice, "IPv4 8080 Service");
    let described = ok(k(&["describe", "service", "web"]));
    assert!(
        described.contains("Endpoints:") && described.contains(":8080"),
        "{described}"
    );
    // A Service without a selector has none until a client writes them.
    ok(k(&["create", "service", "clusterip", "external", "--tcp=80:80"]));
    ok(k(&[
        "patch",
        "service",
        "external",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/selector"}]"#,
    ]));
    assert!(!k(&["get", "endpoints", "external"]).status.success());
}

#[test]
fn events_are_served_in_both_versions_and_derived_kinds_are_watched() {
    let s = Setup::new();
    let k = |args: &[&str]| {
        let mut all = vec!["-n", NS];
        all.extend_from_slice(args);
        s.kubectl(CTX, &all)
    };
    // An events.k8s.io/v1 Event written is a core Event, and reads back in both versions.
    let file = s.dir.path().join("event.yaml");
    std::fs::write(
        &file,
        "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: hello.1, namespace: shop-prod}\neventTime: \"2026-12-02T08:00:00.000000Z\"\nreportingController: example.com/ctl\nreportingInstance: ctl-1\naction: Check\nreason: Checked\ntype: Normal\nnote: all good\nregarding: {kind: Deployment, name: web, namespace: shop-prod, apiVersion: apps/v1}\n",
    )
    .unwrap();
    ok(s.kubectl(CTX, &["create", "-f", file.to_str().unwrap()]));
    assert_eq!(
        ok(k(&[
            "get",
            "events.v1.",
            "hello.1",
            "-o",
            "jsonpath={.message} {.involvedObject.kind} {.reportingComponent}"
        ])),
        "all good Deployment example.com/ctl"
    );
    assert_eq!(
        ok(k(&[
            "get",
            "events.v1.events.k8s.io",
            "hello.1",
            "-o",
            "jsonpath={.note} {.regarding.name} {.reportingController}"
        ])),
        "all good web example.com/ctl"
    );
    let out = ok(k(&["get", "events.events.k8s.io"]));
    assert!(
        out.starts_with("LAST SEEN") && out.contains("deployment/web") && out.contains("all good"),
        "{out}"
    );

    // A watch of Endpoints says when a Service's pods change.
    let mut child = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(s.dir.path().join("kubeconfig"))
        .args([
            "--context",
            CTX,
            "-n",
            NS,
            "get",
            "endpoints",
            "web",
            "-w",
            "--no-headers",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    ok(k(&["scale", "deployment", "web", "--replicas=2"]));
    std::thread::sleep(Duration::from_millis(2000));
    child.kill().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    child.wait().unwrap();
    let counts: Vec<usize> = text
        .lines()
        .map(|l| {
            l.split_whitespace()
                .nth(1)
                .unwrap_or("")
                .split(',')
                .filter(|x| !x.is_empty())
                .count()
        })
        .collect();
    assert_eq!(counts.first(), Some(&1), "{text}");
    assert_eq!(counts.last(), Some(&2), "the watch saw the second address: {text}");
}
