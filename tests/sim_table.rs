//! Server-side printing as a real API server answers it: `kubectl get`
//! (1.27 and 1.33) prints each kind's columns, with `-o wide` the
//! priority ones, in lists, single gets and watches; the Table itself
//! (asked for by the kube client) has its column definitions, its rows
//! with their metadata, and the paging token; a plain JSON list is unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use common::{Setup, kubectls};
use serde_json::Value;

const CTX: &str = "prod-eu1";
const NS: &str = "shop-prod";

/// The header line and the row that starts with `name`, split on runs of spaces.
fn table(out: &std::process::Output, name: &str) -> (Vec<String>, Vec<String>) {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let split = |l: &str| {
        l.split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let mut lines = text.lines();
    let header = split(lines.next().unwrap_or(""));
    let row = lines
        .find(|l| l.starts_with(name))
        .map(split)
        .unwrap_or_else(|| panic!("no row {name}: {text}"));
    (header, row)
}

#[test]
fn kubectl_get_prints_each_kinds_columns() {
    let s = Setup::new();
    for (version, bin) in kubectls() {
        let get = |args: &[&str]| {
            let mut all = vec!["-n", NS, "get"];
            all.extend_from_slice(args);
            s.kubectl_at(&bin, CTX, &all)
        };
        let (h, r) = table(&get(&["deployments"]), "web");
        assert_eq!(h, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], "{version}");
        assert_eq!(&r[1..4], ["1/1", "1", "1"], "{version}: {r:?}");

        let (h, r) = table(&get(&["deployments", "-o", "wide"]), "web");
        assert_eq!(
            h,
            [
                "NAME",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "AGE",
                "CONTAINERS",
                "IMAGES",
                "SELECTOR"
            ],
            "{version}"
        );
        assert_eq!(r[7], "app.kubernetes.io/name=web", "{version}: {r:?}");

        let (h, r) = table(&get(&["pods", "-o", "wide"]), "web-");
        assert_eq!(
            h,
            [
                "NAME",
                "READY",
                "STATUS",
                "RESTARTS",
                "AGE",
                "IP",
                "NODE",
                "NOMINATED NODE",
                "READINESS GATES"
            ],
            "{version}"
        );
        assert_eq!(&r[1..4], ["1/1", "Running", "0"], "{version}: {r:?}");
        assert!(r[5].starts_with("10.") && r[6] == "sim-node-1", "{version}: {r:?}");

        let (h, r) = table(&get(&["services"]), "web");
        assert_eq!(
            h,
            ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
            "{version}"
        );
        assert_eq!(r[1], "ClusterIP", "{version}: {r:?}");
        assert_eq!(r[4], "8080/TCP", "{version}: {r:?}");

        let (h, r) = table(&get(&["ingresses"]), "web");
        assert_eq!(h, ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], "{version}");
        assert_eq!(r[1], "nginx", "{version}: {r:?}");
        assert!(r[2].starts_with("web-shop-prod."), "{version}: {r:?}");

        let (h, r) = table(&get(&["statefulsets"]), "postgres");
        assert_eq!(h, ["NAME", "READY", "AGE"], "{version}");
        assert_eq!(r[1], "1/1", "{version}");

        let (h, r) = table(&get(&["secrets"]), "postgres-credentials");
        assert_eq!(h, ["NAME", "TYPE", "DATA", "AGE"], "{version}");
        assert_eq!(r[1], "Opaque", "{version}");

        let (h, _) = table(&get(&["replicasets"]), "web-");
        assert_eq!(h, ["NAME", "DESIRED", "CURRENT", "READY", "AGE"], "{version}");
        let (h, _) = table(&get(&["pvc"]), "data-postgres-0");
        assert_eq!(&h[..3], ["NAME", "STATUS", "VOLUME"], "{version}");
        let (h, r) = table(&s.kubectl_at(&bin, CTX, &["get", "namespaces"]), NS);
        assert_eq!(h, ["NAME", "STATUS", "AGE"], "{version}");
        assert_eq!(r[1], "Active", "{version}");
        // Cluster-wide: the namespace column comes from the rows' metadata.
        let (h, _) = table(&s.kubectl_at(&bin, CTX, &["get", "deployments", "-A"]), NS);
        assert_eq!(h[..3], ["NAMESPACE", "NAME", "READY"], "{version}");
        // A single object is a Table too.
        let (h, r) = table(&get(&["deployment", "web"]), "web");
        assert_eq!((h.len(), r[1].as_str()), (5, "1/1"), "{version}");
        // A custom resource prints its definition's columns.
        let (h, _) = table(
            &s.kubectl_at(&bin, CTX, &["get", "pipelineruns", "-A"]),
            "payments-prod",
        );
        assert_eq!(
            h,
            [
                "NAMESPACE",
                "NAME",
                "SUCCEEDED",
                "REASON",
                "STARTTIME",
                "COMPLETIONTIME"
            ],
            "{version}"
        );
        // Kinds without a printer of their own: name and creation time.
        let (h, r) = table(&s.kubectl_at(&bin, CTX, &["get", "clusterroles"]), "view");
        assert_eq!(h, ["NAME", "CREATED AT"], "{version}");
        assert!(r[1].ends_with('Z'), "{version}: {r:?}");
    }
}

#[test]
fn kubectl_get_watch_prints_rows_as_they_change() {
    let s = Setup::new();
    for (version, bin) in kubectls() {
        let mut child = std::process::Command::new(&bin)
            .arg("--kubeconfig")
            .arg(s.dir.path().join("kubeconfig"))
            .args(["--context", CTX, "-n", NS, "get", "deployment", "web", "-w"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let replicas = if version == "1.27" { "3" } else { "4" };
        let out = s.kubectl(CTX, &["-n", NS, "scale", "deployment", "web", "--replicas", replicas]);
        assert!(out.status.success());
        std::thread::sleep(Duration::from_millis(1500));
        child.kill().unwrap();
        let mut text = String::new();
        child.stdout.take().unwrap().read_to_string(&mut text).unwrap();
        child.wait().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("NAME") && lines[0].contains("UP-TO-DATE"),
            "{version}: {text}"
        );
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("NAME")).count(),
            1,
            "one header: {text}"
        );
        let want = format!("{replicas}/{replicas}");
        assert!(
            lines.iter().any(|l| l.split_whitespace().nth(1) == Some(want.as_str())),
            "{version}: a row shows {want}: {text}"
        );
    }
}

#[test]
fn the_table_answer_has_columns_rows_metadata_and_paging() {
    let s = Setup::new();
    let h = s.handles[0].clone();
    s.rt.block_on(async move {
        let kc =
            kube::config::Kubeconfig::from_yaml(&kdeck_sim::kubeconfig(std::slice::from_ref(&h), "admin")).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap();
        let client = kube::Client::try_from(cfg).unwrap();
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
        let ask = |uri: &str, accept: &str| {
            http::Request::get(uri)
                .header("Accept", accept)
                .body(Vec::new())
                .unwrap()
        };
        let t: Value = client
            .request(ask("/api/v1/namespaces/shop-prod/pods?limit=2", accept))
            .await
            .unwrap();
        assert_eq!(
            (t["kind"].as_str(), t["apiVersion"].as_str()),
            (Some("Table"), Some("meta.k8s.io/v1"))
        );
        let cols: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            cols,
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP",
                "Node",
                "Nominated Node",
                "Readiness Gates"
            ]
        );
        assert_eq!(t["columnDefinitions"][0]["format"], "name");
        assert_eq!(t["columnDefinitions"][5]["priority"], 1);
        let rows = t["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(rows[0]["cells"][0], rows[0]["object"]["metadata"]["name"]);
        assert!(t["metadata"]["continue"].as_str().is_some_and(|c| !c.is_empty()), "{t}");
        assert!(t["metadata"]["resourceVersion"].as_str().is_some());

        // includeObject=Object carries the whole object, None nothing.
        let t: Value = client
            .request(ask(
                "/apis/apps/v1/namespaces/shop-prod/deployments?includeObject=Object",
                accept,
            ))
            .await
            .unwrap();
        assert_eq!(t["rows"][0]["object"]["kind"], "Deployment");
        assert!(t["rows"][0]["object"]["spec"]["template"].is_object());
        let t: Value = client
            .request(ask(
                "/apis/apps/v1/namespaces/shop-prod/deployments?includeObject=None",
                accept,
            ))
            .await
            .unwrap();
        assert!(t["rows"][0].get("object").is_none(), "{t}");

        // Plain JSON is what it was.
        let l: Value = client
            .request(ask(
                "/apis/apps/v1/namespaces/shop-prod/deployments",
                "application/json",
            ))
            .await
            .unwrap();
        assert_eq!(l["kind"], "DeploymentList");
        assert!(l["items"][0]["spec"].is_object());
    });
}
