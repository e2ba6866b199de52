//! Roles from the CLI against simulated clusters, checked with kubectl as
//! the users themselves: a developer granted on a space deploys there and
//! not elsewhere, and is refused again once revoked; a binding kdeck did
//! not make is listed, and revoked only with --force; kept grants come
//! back with `roles apply`; a bulk grant over 20 spaces on 3 clusters goes
//! on past the cluster that refuses, naming its 403 per space.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use kdeck_sim::{FleetSize, SimHandle, SimOptions};

struct World {
    _rt: tokio::runtime::Runtime,
    handles: Vec<SimHandle>,
    dir: tempfile::TempDir,
}

impl World {
    /// 3 clusters of 7 spaces; the store logs in as admin on the first two
    /// and as auditor on the third.
    fn new() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handles = rt
            .block_on(kdeck_sim::start(SimOptions {
                clusters: 3,
                fleet: FleetSize::Custom { spaces: 7, apps: 1 },
                ..Default::default()
            }))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let w = World { _rt: rt, handles, dir };
        std::fs::write(
            w.dir.path().join("admin.kc"),
            kdeck_sim::kubeconfig(&w.handles[..2], "admin"),
        )
        .unwrap();
        std::fs::write(
            w.dir.path().join("auditor.kc"),
            kdeck_sim::kubeconfig(&w.handles[2..], "auditor"),
        )
        .unwrap();
        for kc in ["admin.kc", "auditor.kc"] {
            let p = w.dir.path().join(kc);
            w.ok(&["clusters", "import", p.to_str().unwrap()]);
        }
        w
    }

    fn kdeck(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kdeck"))
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.kdeck(args);
        assert!(
            out.status.success(),
            "kdeck {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails_usage(&self, args: &[&str]) {
        let out = self.kdeck(args);
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    }

    /// kubectl on a cluster as a user.
    fn kubectl(&self, cluster: usize, user: &str, args: &[&str]) -> Output {
        let kc = self.dir.path().join(format!("{user}-{cluster}.kc"));
        std::fs::write(&kc, kdeck_sim::kubeconfig(&self.handles[cluster..=cluster], user)).unwrap();
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kc)
            .args(args)
            .output()
            .unwrap()
    }

    fn can_scale(&self, user: &str, ns: &str) -> bool {
        self.kubectl(0, user, &["-n", ns, "scale", "deployment/web", "--replicas", "2"])
            .status
            .success()
    }
}

#[test]
fn grant_list_revoke_and_apply() {
    let w = World::new();
    let (prod, stage) = ("prod-eu1/shop-prod", "stage-eu1/shop-prod");
    assert!(!w.can_scale("fresh", "shop-prod"), "nobody bound them yet");
    let out = w.ok(&["roles", "grant", prod, stage, "user:fresh", "developer"]);
    assert!(
        out.contains(prod) && out.contains("user:fresh is developer (RoleBinding kdeck-edit-fresh)"),
        "{out}"
    );
    assert!(w.can_scale("fresh", "shop-prod"));
    assert!(!w.can_scale("fresh", "payments-prod"), "not in another space");
    // Granted again: shown, not duplicated.
    let out = w.ok(&["roles", "grant", prod, "user:fresh", "developer"]);
    assert!(
        out.contains("is developer already (RoleBinding kdeck-edit-fresh)"),
        "{out}"
    );

    // A binding made with kubectl: listed, by role or as custom.
    let manifest = w.dir.path().join("rbac.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: carol-view, namespace: shop-prod}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\n\
         subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader, namespace: shop-prod}\n\
         rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: dan-reader, namespace: shop-prod}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}\n\
         subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: oncall}]\n",
    )
    .unwrap();
    let out = w.kubectl(0, "admin", &["create", "-f", manifest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = w.ok(&["roles", "list", prod]);
    let line = |needle: &str| list.lines().find(|l| l.contains(needle)).unwrap_or("").to_string();
    assert!(
        line("user:fresh").contains("developer") && line("user:fresh").ends_with("kdeck"),
        "{list}"
    );
    assert!(
        line("user:carol").contains("auditor") && line("user:carol").contains("carol-view"),
        "{list}"
    );
    assert!(line("group:oncall").contains("custom (Role/reader)"), "{list}");
    // Revoking what kdeck did not make needs --force.
    let out = w.kdeck(&["roles", "revoke", prod, "user:carol", "auditor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("RoleBinding carol-view was not made by kdeck; `--force` revokes it anyway")
    );
    w.ok(&["roles", "revoke", prod, "user:carol", "auditor", "--force"]);
    assert!(!w.ok(&["roles", "list", prod]).contains("user:carol"));

    // Revoked: refused again.
    w.ok(&["roles", "revoke", prod, "user:fresh", "developer"]);
    assert!(!w.can_scale("fresh", "shop-prod"));

    // Kept grants come back: the binding deleted by hand, then applied.
    w.ok(&["roles", "grant", prod, "group:shop-devs", "manager"]);
    assert!(
        w.kubectl(
            0,
            "admin",
            &["-n", "shop-prod", "delete", "rolebinding", "kdeck-admin-shop-devs"]
        )
        .status
        .success()
    );
    let out = w.ok(&["roles", "apply", prod]);
    assert!(
        out.contains("group:shop-devs manager") && out.contains("kdeck-admin-shop-devs"),
        "{out}"
    );
    assert!(
        w.kubectl(
            0,
            "admin",
            &["-n", "shop-prod", "get", "rolebinding", "kdeck-admin-shop-devs"]
        )
        .status
        .success()
    );

    // The journal as the audit trail, filtered.
    let h = w.ok(&["history", "--command", "roles revoke", "--space", prod, "-o", "json"]);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&h).unwrap();
    assert_eq!(entries.len(), 3, "a refused, a forced and a plain revoke: {h}");
    let h = w.ok(&["history", "--command", "roles", "--cluster", "stage-eu1", "-o", "json"]);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&h).unwrap();
    assert_eq!(entries.len(), 1, "only the grant that named stage-eu1: {h}");
    let h = w.ok(&["history", "--since", "1h", "--failed"]);
    assert!(h.contains("roles revoke") && h.contains("failed"), "{h}");
    let out = w.kdeck(&["history", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));

    // Bad input: named, nothing done.
    let out = w.kdeck(&["roles", "grant", prod, "alice", "developer"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be user:NAME, group:NAME or sa:NAMESPACE/NAME"));
    let out = w.kdeck(&["roles", "grant", prod, "user:alice", "owner"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("kdeck's roles are manager"));
}

#[test]
fn a_bulk_grant_goes_on_past_a_cluster_that_refuses() {
    let w = World::new();
    let names = kdeck_sim::fleet::space_names(7);
    let clusters = kdeck_sim::cluster_names(3);
    let spaces: Vec<String> = clusters
        .iter()
        .flat_map(|c| names.iter().map(move |n| format!("{c}/{n}")))
        .take(20)
        .collect();
    let mut args = vec!["roles", "grant"];
    args.extend(spaces.iter().map(String::as_str));
    args.extend(["user:bulk", "auditor"]);
    let out = w.kdeck(&args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "exit {:?}: {stderr}", out.status.code());
    let refused: Vec<&str> = stdout.lines().filter(|l| l.contains("forbidden")).collect();
    assert_eq!(refused.len(), 6, "the third cluster's 6 spaces: {stdout}");
    assert!(
        refused.iter().all(
            |l| l.starts_with(&clusters[2]) && l.contains("User \"auditor\" cannot list resource \"rolebindings\"")
        ),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.contains("user:bulk is auditor")).count(),
        14,
        "{stdout}"
    );
    assert!(
        stderr.contains("6 of 20 items failed") || stderr.contains("20 item(s), 6 failed"),
        "{stderr}"
    );
    // The 14 that went are real.
    let out = w.kubectl(1, "bulk", &["auth", "can-i", "list", "deployments", "-n", &names[3]]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "yes");
}

#[test]
fn spaces_named_by_pattern_or_label_selector_are_resolved_and_said_first() {
    let w = World::new();
    let names = kdeck_sim::fleet::space_names(7);
    let clusters = kdeck_sim::cluster_names(3);
    // A pattern over the clusters kdeck stores: one space name on each.
    let pattern = format!("*/{}", names[1]);
    let out = w.kdeck(&["roles", "grant", &pattern, "user:pat", "auditor"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut each: Vec<String> = clusters.iter().map(|c| format!("{c}/{}", names[1])).collect();
    each.sort();
    let said = format!("granting on 3 spaces: {}", each.join(", "));
    assert!(stderr.contains(&said), "{stderr}");
    // The third cluster (logged in as auditor) refuses; the first two took it.
    for (i, ok) in [(0, "yes"), (1, "yes"), (2, "no")] {
        let out = w.kubectl(i, "pat", &["auth", "can-i", "list", "deployments", "-n", &names[1]]);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), ok, "cluster {i}");
    }
    // A label selector: the namespaces labelled grants=shop on the first cluster.
    for n in [&names[2], &names[4]] {
        let out = w.kubectl(0, "admin", &["label", "namespace", n, "grants=shop"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let first = format!("{}/*", clusters[0]);
    let out = w.ok(&[
        "roles",
        "grant",
        &first,
        "--selector",
        "grants=shop",
        "group:shop",
        "developer",
    ]);
    assert_eq!(
        out.lines().filter(|l| l.contains("group:shop is developer")).count(),
        2,
        "{out}"
    );
    let listed = w.ok(&["roles", "list", &format!("{}/{}", clusters[0], names[4])]);
    assert!(listed.contains("group:shop"), "{listed}");
    // Nothing matches: said, nothing done; no space at all: a usage error.
    let out = w.kdeck(&["roles", "grant", "nowhere/*", "user:x", "auditor"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no space matches"));
    w.fails_usage(&["roles", "grant", "user:x", "auditor"]);
    let out = w.kdeck(&["roles", "grant", "shop*", "user:x", "auditor"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CLUSTER/NAMESPACE"),
        "a pattern needs its cluster part"
    );
}

#[test]
fn a_read_only_cluster_refuses_changes_and_production_is_said() {
    let w = World::new();
    let list = w.ok(&["clusters", "list"]);
    let line = |l: &str, c: &str| l.lines().find(|x| x.starts_with(c)).unwrap_or("").to_string();
    assert!(line(&list, "prod-eu1").contains(" prod (by name) "), "{list}");
    assert!(line(&list, "stage-eu1").ends_with('-'), "{list}");
    w.ok(&["clusters", "set", "prod-eu1", "--read-only", "--prod"]);
    assert!(line(&w.ok(&["clusters", "list"]), "prod-eu1").contains(" read-only, prod "));
    let out = w.kdeck(&["roles", "grant", "prod-eu1/shop-prod", "user:x", "auditor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused: cluster prod-eu1 is read-only in kdeck"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !w.kubectl(0, "admin", &["-n", "shop-prod", "get", "rolebinding", "kdeck-view-x"])
            .status
            .success()
    );
    // Its settings still change; other clusters are not affected.
    w.ok(&["roles", "grant", "stage-eu1/shop-prod", "user:x", "auditor"]);
    w.ok(&["clusters", "set", "prod-eu1", "--writable"]);
    w.ok(&["roles", "grant", "prod-eu1/shop-prod", "user:x", "auditor"]);
    let h = w.ok(&["history", "--failed", "--cluster", "prod-eu1"]);
    assert!(h.contains("roles grant") && h.contains("read-only"), "{h}");
    w.fails_usage(&["clusters", "set", "nowhere", "--prod"]);
    w.ok(&["clusters", "set", "prod-eu1", "--not-prod"]);
    assert!(line(&w.ok(&["clusters", "list"]), "prod-eu1").ends_with('-'));
}
