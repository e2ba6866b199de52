//! `clusters import` over kubeconfig fixtures, through the command layer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use common::{block_on, executor, fixture};
use kdeck_command::{Command, FailureKind, Status};
use kdeck_model::Cluster;

fn import(
    ex: &kdeck_command::Executor,
    files: &[&str],
    contexts: &[&str],
    update: bool,
) -> kdeck_command::JournalEntry {
    let cmd = Command::ImportClusters {
        files: files.iter().map(|f| fixture(f)).collect(),
        contexts: contexts.iter().map(|c| c.to_string()).collect(),
        update,
    };
    block_on(ex.run(cmd)).unwrap()
}

fn failure(e: &kdeck_command::JournalEntry) -> (FailureKind, String) {
    match &e.status {
        Status::Failed { kind, reason, .. } => (*kind, reason.clone()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn b64(s: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

#[test]
fn three_contexts_three_auth_kinds() {
    let (_d, ex) = executor();
    let e = import(&ex, &["three-contexts.yaml"], &[], false);
    assert_eq!(e.status, Status::Applied);
    assert_eq!(e.items.len(), 3);
    let clusters: Vec<Cluster> = ex.store().list().unwrap();
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["dev", "eu1-admin", "us1-admin"]);

    let eu1 = &clusters[1];
    assert_eq!(eu1.server, "https://eu1.k8s.example.com:6443");
    assert_eq!(eu1.namespace.as_deref(), Some("shop"));
    assert_eq!(eu1.auth.token.as_deref(), Some("eu1-secret-token"));
    assert_eq!(eu1.auth.method(), "token");
    assert!(b64(eu1.tls.ca_data.as_deref().unwrap()).contains("BEGIN CERTIFICATE"));
    assert_eq!(eu1.source.imported_at, "2026-11-22T10:00:00Z");
    assert!(eu1.source.file.ends_with("three-contexts.yaml"));

    let us1 = &clusters[2];
    assert_eq!(us1.auth.method(), "client-cert");
    assert!(b64(us1.auth.client_key_data.as_deref().unwrap()).contains("PRIVATE KEY"));
    assert_eq!(us1.tls.tls_server_name.as_deref(), Some("api.us1.internal"));

    let dev = &clusters[0];
    assert!(dev.tls.insecure_skip_tls_verify);
    let exec = dev.auth.exec.as_ref().unwrap();
    assert_eq!(exec.command, "kubelogin");
    assert_eq!(exec.args, ["get-token", "--server-id", "dev"]);
    assert_eq!(exec.env.get("KUBELOGIN_MODE").map(String::as_str), Some("devicecode"));
    assert_eq!(exec.interactive_mode.as_deref(), Some("Never"));
    assert!(exec.provide_cluster_info);
    assert_eq!(exec.api_version, "client.authentication.k8s.io/v1");
}

#[test]
fn referenced_files_are_read_in_relative_to_the_kubeconfig() {
    let (_d, ex) = executor();
    let e = import(&ex, &["files-relative.yaml"], &[], false);
    assert_eq!(e.status, Status::Applied, "{e:?}");
    let c: Cluster = ex.store().get("onprem").unwrap().unwrap();
    assert!(b64(c.tls.ca_data.as_deref().unwrap()).contains("ZmFrZSBjYSBmaWxl"));
    assert!(b64(c.auth.client_certificate_data.as_deref().unwrap()).contains("ZmFrZSBjbGllbnQgZmlsZQ=="));
    assert!(b64(c.auth.client_key_data.as_deref().unwrap()).contains("ZmFrZSBrZXkgZmlsZQ=="));
    // Token files rotate: kept as an absolute path, not read in.
    let robot: Cluster = ex.store().get("onprem-robot").unwrap().unwrap();
    let tf = robot.auth.token_file.unwrap();
    assert!(
        tf.starts_with('/') && tf.ends_with("tests/fixtures/certs/token"),
        "{tf}"
    );
    assert_eq!(robot.auth.token, None);
    assert_eq!(robot.namespace.as_deref(), Some("ci"));
    // A relative exec command with a '/' resolves against the file's directory.
    let exec: Cluster = ex.store().get("onprem-exec").unwrap().unwrap();
    let cmd = exec.auth.exec.unwrap().command;
    assert!(
        cmd.ends_with("tests/fixtures/./bin/get-token") && cmd.starts_with('/'),
        "{cmd}"
    );
}

#[test]
fn merge_rules_first_file_wins() {
    let (_d, ex) = executor();
    let e = import(&ex, &["merge-first.yaml", "merge-second.yaml"], &[], false);
    assert_eq!(e.status, Status::Applied);
    let staging: Cluster = ex.store().get("staging").unwrap().unwrap();
    // The context, its cluster and its user all come from the first file.
    assert_eq!(staging.server, "https://staging-first.example.com");
    assert_eq!(staging.auth.token.as_deref(), Some("first-token"));
    assert!(staging.source.file.ends_with("merge-first.yaml"));
    // prod's context is only in the second file, but its user "staging" is the first file's.
    let prod: Cluster = ex.store().get("prod").unwrap().unwrap();
    assert_eq!(prod.server, "https://prod.example.com");
    assert_eq!(prod.auth.token.as_deref(), Some("first-token"));

    // In the other order the second file's entries win.
    let (_d2, ex2) = executor();
    import(&ex2, &["merge-second.yaml", "merge-first.yaml"], &[], false);
    let staging: Cluster = ex2.store().get("staging").unwrap().unwrap();
    assert_eq!(staging.server, "https://staging-second.example.com");
    assert_eq!(staging.auth.token.as_deref(), Some("prod-token"));
}

#[test]
fn selected_contexts_only() {
    let (_d, ex) = executor();
    let e = import(&ex, &["three-contexts.yaml"], &["us1-admin", "dev", "dev"], false);
    assert_eq!(e.status, Status::Applied);
    let names: Vec<String> = ex
        .store()
        .list::<Cluster>()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["dev", "us1-admin"]);
}

#[test]
fn name_clashes_get_a_suffix() {
    let (_d, ex) = executor();
    let e = import(&ex, &["eks-clash.yaml"], &[], false);
    assert_eq!(e.status, Status::Applied);
    let clusters: Vec<Cluster> = ex.store().list().unwrap();
    assert_eq!(
        clusters.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["prod", "prod-2"]
    );
    assert!(clusters[0].server.contains("eu-west-1"));
    assert!(clusters[1].server.contains("us-east-1"));
    assert_eq!(clusters[0].auth.exec.as_ref().unwrap().command, "aws");
}

#[test]
fn duplicate_import_is_refused_whole_and_update_refreshes() {
    let (_d, ex) = executor();
    import(&ex, &["three-contexts.yaml"], &["eu1-admin"], false);
    let before: Vec<Cluster> = ex.store().list().unwrap();
    // eu1-admin again, with two new ones: nothing at all is written.
    let e = import(&ex, &["three-contexts.yaml"], &[], false);
    let (kind, reason) = failure(&e);
    assert_eq!(kind, FailureKind::Invalid);
    assert!(
        reason.contains("\"eu1-admin\" is already imported as cluster \"eu1-admin\""),
        "{reason}"
    );
    assert!(reason.contains("--update"), "{reason}");
    assert_eq!(ex.store().list::<Cluster>().unwrap(), before);
    // --update refreshes under the same name and adds the others.
    let e = import(&ex, &["three-contexts.yaml"], &[], true);
    assert_eq!(e.status, Status::Applied);
    assert!(
        e.items
            .iter()
            .any(|i| i.message == "credentials of cluster eu1-admin refreshed")
    );
    assert_eq!(ex.store().list::<Cluster>().unwrap().len(), 3);
}

#[test]
fn bad_input_names_the_file_and_writes_nothing() {
    let (_d, ex) = executor();
    type Case<'a> = (&'a [&'a str], &'a [&'a str], FailureKind, &'a [&'a str]);
    let cases: &[Case] = &[
        (
            &["bad-yaml.yaml"],
            &[],
            FailureKind::Unreadable,
            &["bad-yaml.yaml:7:", "not a valid kubeconfig"],
        ),
        (
            &["missing.yaml"],
            &[],
            FailureKind::Unreadable,
            &["missing.yaml", "no such file"],
        ),
        (
            &["three-contexts.yaml", "missing.yaml"],
            &[],
            FailureKind::Unreadable,
            &["missing.yaml"],
        ),
        (
            &["no-contexts.yaml"],
            &[],
            FailureKind::Unreadable,
            &["no-contexts.yaml", "no contexts"],
        ),
        (
            &["dangling.yaml"],
            &[],
            FailureKind::Usage,
            &["dangling.yaml", "\"orphan\"", "cluster \"nowhere\""],
        ),
        (
            &["three-contexts.yaml"],
            &["prod"],
            FailureKind::Usage,
            &["\"prod\" is not in", "eu1-admin, us1-admin, dev"],
        ),
    ];
    for (files, contexts, kind, needles) in cases {
        let e = import(&ex, files, contexts, false);
        let (k, reason) = failure(&e);
        assert_eq!(k, *kind, "{files:?}: {reason}");
        for n in *needles {
            assert!(reason.contains(n), "{files:?}: {reason:?} lacks {n:?}");
        }
        assert!(!reason.contains('\n'), "one line: {reason}");
    }
    assert!(ex.store().list::<Cluster>().unwrap().is_empty());
    // Every attempt is in the journal, with its reason.
    let journal = ex.journal().list().unwrap();
    assert_eq!(journal.len(), cases.len());
    assert!(
        journal
            .iter()
            .all(|e| e.status.is_failure() && e.actor == "tester@host")
    );
}

#[test]
fn a_broken_cluster_entry_fails_the_whole_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cfg.yaml");
    std::fs::write(
        &path,
        "contexts:\n- name: good\n  context: {cluster: good, user: u}\n- name: bad\n  context: {cluster: bad, user: u}\n\
         clusters:\n- name: good\n  cluster: {server: 'https://good.example.com'}\n\
         - name: bad\n  cluster: {server: 'good.example.com', certificate-authority: nowhere/ca.crt}\n\
         users:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let (_d, ex) = executor();
    let cmd = Command::ImportClusters {
        files: vec![path.display().to_string()],
        contexts: vec![],
        update: false,
    };
    let e = block_on(ex.run(cmd)).unwrap();
    let (kind, reason) = failure(&e);
    assert_eq!(kind, FailureKind::Unreadable);
    assert!(
        reason.contains("context \"bad\"") && reason.contains("https://"),
        "{reason}"
    );
    assert!(ex.store().list::<Cluster>().unwrap().is_empty());

    std::fs::write(
        &path,
        "contexts:\n- name: c\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: 'https://c.example.com', certificate-authority: nowhere/ca.crt}\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let e = block_on(ex.run(Command::ImportClusters {
        files: vec![path.display().to_string()],
        contexts: vec![],
        update: false,
    }))
    .unwrap();
    let (_, reason) = failure(&e);
    assert!(
        reason.contains("certificate-authority") && reason.contains("nowhere/ca.crt"),
        "{reason}"
    );
}

#[test]
fn remove_forgets_the_cluster_only() {
    let (_d, ex) = executor();
    import(&ex, &["three-contexts.yaml"], &[], false);
    let e = block_on(ex.run(Command::RemoveCluster {
        name: "dev".into(),
        yes: false,
    }))
    .unwrap();
    assert_eq!(e.status, Status::Applied);
    assert!(e.items[0].message.contains("nothing changed in the cluster"));
    let names: Vec<String> = ex
        .store()
        .list::<Cluster>()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["eu1-admin", "us1-admin"]);
    let e = block_on(ex.run(Command::RemoveCluster {
        name: "dev".into(),
        yes: false,
    }))
    .unwrap();
    let (kind, reason) = failure(&e);
    assert_eq!(kind, FailureKind::Usage);
    assert!(
        reason.contains("no cluster named \"dev\"") && reason.contains("eu1-admin, us1-admin"),
        "{reason}"
    );
}

#[test]
fn remove_with_stored_apps_needs_yes() {
    let (_d, ex) = executor();
    import(&ex, &["three-contexts.yaml"], &["dev"], false);
    let sp = kdeck_model::SpaceRef::new("dev", "shop");
    ex.store()
        .put(&kdeck_model::App::new(
            kdeck_model::AppRef::new(sp.clone(), "web"),
            "nginx",
        ))
        .unwrap();
    ex.store()
        .put(&kdeck_model::Space {
            space: sp,
            origin: kdeck_model::SpaceOrigin::Created,
            added_at: "t".into(),
        })
        .unwrap();
    let e = block_on(ex.run(Command::RemoveCluster {
        name: "dev".into(),
        yes: false,
    }))
    .unwrap();
    let (kind, reason) = failure(&e);
    assert_eq!(kind, FailureKind::Invalid);
    assert!(reason.contains("1 app(s)") && reason.contains("--yes"), "{reason}");
    assert_eq!(ex.store().list::<Cluster>().unwrap().len(), 1);
    let e = block_on(ex.run(Command::RemoveCluster {
        name: "dev".into(),
        yes: true,
    }))
    .unwrap();
    assert_eq!(e.status, Status::Applied);
    assert!(e.items[0].message.contains("1 space, 1 app"), "{}", e.items[0].message);
    assert!(ex.store().list::<kdeck_model::App>().unwrap().is_empty());
    assert!(ex.store().list::<kdeck_model::Space>().unwrap().is_empty());
}
