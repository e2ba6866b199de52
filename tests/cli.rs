//! The real `kdeck` binary: exit codes, messages on stderr, output formats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::fixture;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn kdeck(data: &Path, args: &[&str]) -> Run {
    kdeck_env(data, args, &[])
}

fn kdeck_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kdeck"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("KDECK_DATA_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output { status, stdout, stderr } = cmd.output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

#[test]
fn import_three_contexts_then_list_json() {
    let dir = tempfile::tempdir().unwrap();
    let r = kdeck(dir.path(), &["clusters", "import", &fixture("three-contexts.yaml")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("imported as cluster eu1-admin"), "{}", r.stdout);
    let r = kdeck(dir.path(), &["clusters", "list", "-o", "json"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[1]["name"], "eu1-admin");
    assert_eq!(list[1]["server"], "https://eu1.k8s.example.com:6443");
    assert_eq!(list[1]["auth"], "token");
    // Credentials stay in the store; listings never print them.
    assert!(!r.stdout.contains("eu1-secret-token"));
    let table = kdeck(dir.path(), &["clusters", "list"]);
    assert!(table.stdout.starts_with("NAME "), "{}", table.stdout);
    assert_eq!(table.stdout.lines().count(), 4);
    let yaml = kdeck(dir.path(), &["clusters", "list", "-o", "yaml"]);
    let v: serde_json::Value = serde_saphyr::from_str(&yaml.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
}

#[test]
fn broken_kubeconfig_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = fixture("bad-yaml.yaml");
    let r = kdeck(dir.path(), &["clusters", "import", &bad]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(&format!("{bad}:7:")), "{}", r.stderr);
    assert!(r.stderr.lines().count() <= 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let r = kdeck(dir.path(), &["clusters", "import", "/nonexistent/kubeconfig"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("/nonexistent/kubeconfig: cannot read: no such file"),
        "{}",
        r.stderr
    );
    let r = kdeck(
        dir.path(),
        &[
            "clusters",
            "import",
            &fixture("three-contexts.yaml"),
            "--context",
            "nope",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("context \"nope\" is not in"), "{}", r.stderr);
    // Nothing was stored; each attempt is in the journal.
    let r = kdeck(dir.path(), &["clusters", "list", "-o", "json"]);
    assert_eq!(r.stdout.trim(), "[]");
    let r = kdeck(dir.path(), &["history", "--failed", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["status"], "failed");
    assert_eq!(v[0]["kind"], "unreadable");
}

#[test]
fn duplicate_import_exits_1_and_update_refreshes() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture("three-contexts.yaml");
    assert_eq!(kdeck(dir.path(), &["clusters", "import", &f]).code, 0);
    let r = kdeck(dir.path(), &["clusters", "import", &f, "--context", "dev"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("already imported as cluster \"dev\"") && r.stderr.contains("--update"),
        "{}",
        r.stderr
    );
    let r = kdeck(dir.path(), &["clusters", "import", &f, "--context", "dev", "--update"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("credentials of cluster dev refreshed"));
}

#[test]
fn a_second_kdeck_works_beside_the_one_that_owns_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let held = kdeck_store::Store::open(dir.path()).unwrap();
    assert!(held.is_owner());
    let f = fixture("three-contexts.yaml");
    let r = kdeck(dir.path(), &["clusters", "import", &f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = kdeck(dir.path(), &["clusters", "list", "-o", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The owner sees what the other process wrote through it.
    assert_eq!(held.list::<kdeck_model::Cluster>().unwrap().len(), 3);
    let journal = kdeck_command::Journal::new(held.clone());
    assert_eq!(journal.list().unwrap().len(), 1);
}

#[test]
fn data_dir_from_the_environment_and_default_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("env-data");
    let kubeconfig = format!(
        "{}:/nonexistent/skipped:{}",
        fixture("merge-first.yaml"),
        fixture("merge-second.yaml")
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kdeck"));
    let out = cmd
        .args(["clusters", "import"])
        .env("KDECK_DATA_DIR", &data)
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.join("store").is_dir());
    let r = kdeck(&data, &["clusters", "list", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let servers: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["server"].as_str().unwrap())
        .collect();
    assert_eq!(
        servers,
        ["https://prod.example.com", "https://staging-first.example.com"]
    );
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let r = kdeck(dir.path(), &["clusters", "frobnicate"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("frobnicate"), "{}", r.stderr);
    let r = kdeck(dir.path(), &["clusters", "list", "-o", "xml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("xml"), "{}", r.stderr);
}

#[test]
fn remove_and_history() {
    let dir = tempfile::tempdir().unwrap();
    kdeck(dir.path(), &["clusters", "import", &fixture("eks-clash.yaml")]);
    let r = kdeck(dir.path(), &["clusters", "remove", "prod-2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = kdeck(dir.path(), &["clusters", "remove", "prod-2"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no cluster named \"prod-2\" (known: prod)"),
        "{}",
        r.stderr
    );
    let r = kdeck(dir.path(), &["history"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert!(lines[0].starts_with("ID "));
    assert!(lines[1].starts_with("1 ") && lines[1].contains("clusters import") && lines[1].contains("applied"));
    assert!(
        lines[2].contains("clusters remove") && lines[2].contains("cluster prod-2") && lines[2].contains("applied")
    );
    assert!(lines[3].contains("failed") && lines[3].contains("no cluster named"));
    let r = kdeck(dir.path(), &["history", "--failed"]);
    assert_eq!(r.stdout.lines().count(), 2);
    let r = kdeck(dir.path(), &["history", "--limit", "1", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], 3);
}

#[test]
fn default_data_dir_follows_xdg() {
    let home = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &std::ffi::OsStr)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kdeck"));
        cmd.args(["clusters", "import", &fixture("eks-clash.yaml")])
            .env_remove("KDECK_DATA_DIR")
            .env_remove("XDG_DATA_HOME");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&[("HOME", home.path().as_os_str())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(home.path().join(".local/share/kdeck/store").is_dir());
    let xdg = home.path().join("xdg");
    let out = run(&[("HOME", home.path().as_os_str()), ("XDG_DATA_HOME", xdg.as_os_str())]);
    assert!(out.status.success());
    assert!(xdg.join("kdeck/store").is_dir());
}

#[test]
fn unusable_data_dirs_and_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let r = kdeck(&file, &["clusters", "list"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("a-file as the data dir: it is a file, not a directory"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--data-dir DIR"), "{}", r.stderr);
    let r = kdeck(&file.join("below"), &["clusters", "list"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot create it (a part of the path is not a directory)"),
        "{}",
        r.stderr
    );
    let data = dir.path().join("data");
    let r = kdeck(&data, &["clusters", "import", &fixture("certs")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("certs: cannot read: is a directory; give a kubeconfig file"),
        "{}",
        r.stderr
    );
}

/// A kubeconfig whose names hold terminal escapes (retitle, bell, carriage
/// return): every table and message shows them escaped, never raw.
#[test]
fn names_with_control_characters_are_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("evil.yaml");
    let evil_ctx = "evil\u{1b}]0;pwned\u{7}\r";
    let evil_ns = "ns\u{1b}[2J";
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: \"c\\e[2J\"\n  cluster:\n    server: \"https://x\\a.example.com\"\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: {:?}\n  context:\n    cluster: \"c\\e[2J\"\n    user: u\n    namespace: {:?}\n",
            evil_ctx, evil_ns
        )
        .replace("\\u{1b}", "\\e")
        .replace("\\u{7}", "\\a"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let raw = |s: &str| s.chars().any(|c| c.is_control() && c != '\n');
    let mut seen = String::new();
    for args in [
        &["clusters", "import", kc.to_str().unwrap()][..],
        &["clusters", "import", kc.to_str().unwrap()][..],
        &["clusters", "list"][..],
        &["history"][..],
    ] {
        let r = kdeck(&data, args);
        assert!(
            !raw(&r.stdout) && !raw(&r.stderr),
            "{args:?} printed raw controls: {:?} {:?}",
            r.stdout,
            r.stderr
        );
        seen.push_str(&r.stdout);
        seen.push_str(&r.stderr);
    }
    assert!(seen.contains("\\x1b"), "the escape is shown as text: {seen}");
}

#[test]
fn sim_writes_its_kubeconfig_private_and_never_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    // Through a link: refused, the target untouched.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.path().join("link.yaml");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let r = kdeck(
        dir.path(),
        &["sim", "--clusters", "1", "--kubeconfig-out", link.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    // A file that was readable by others becomes private.
    let out = dir.path().join("kc.yaml");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdeck"))
        .args(["sim", "--clusters", "1", "--fleet", "empty", "--kubeconfig-out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(&out).unwrap_or_default().contains("clusters:") {
        assert!(std::time::Instant::now() < deadline, "the kubeconfig was not written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn demo_refuses_a_data_dir_it_would_not_use() {
    let dir = tempfile::tempdir().unwrap();
    let r = kdeck(dir.path(), &["demo", "--no-cockpit"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("throw-away store") && r.stderr.contains("--data-dir"),
        "{}",
        r.stderr
    );
}

/// A credential plugin that fails, with a secret in its env and a token on
/// stdout: the error names the command, its exit code and its last stderr
/// line, and the secret is in no output and nowhere in the journal.
#[test]
fn a_failing_credential_plugin_leaks_no_secret() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("fake-login");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho \"token-on-stdout-$AWS_SECRET_ACCESS_KEY\"\necho 'starting login' >&2\necho 'login refused: session expired' >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kc = dir.path().join("exec.yaml");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n      env:\n      - name: AWS_SECRET_ACCESS_KEY\n        value: PLANTED-SECRET-4711\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n",
            plugin.display()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    assert_eq!(kdeck(&data, &["clusters", "import", kc.to_str().unwrap()]).code, 0);
    let mut everything = String::new();
    let mut messages = Vec::new();
    for args in [
        &["apps", "list"][..],
        &["spaces", "list"][..],
        &["spaces", "create", "c/team"][..],
        &["history"][..],
        &["history", "-o", "json"][..],
    ] {
        let r = kdeck(&data, args);
        everything.push_str(&r.stdout);
        everything.push_str(&r.stderr);
        messages.push(r.stderr);
    }
    assert!(
        !everything.contains("PLANTED-SECRET-4711"),
        "the secret leaked: {everything}"
    );
    assert!(
        !everything.contains("token-on-stdout"),
        "the plugin's stdout leaked: {everything}"
    );
    let create = &messages[2];
    assert!(
        create.contains("fake-login")
            && create.contains("exit code 3")
            && create.contains("login refused: session expired"),
        "{create}"
    );
    assert_eq!(create.trim().lines().count(), 1, "{create}");
}

/// Errors are one or two lines that name the input (file and line:column)
/// and what to do; the journal keeps the message, never a file's content;
/// no file is read past a size limit, and FIFOs and devices are not read.
#[test]
fn errors_name_the_input_in_one_line_and_files_have_limits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert_eq!(
        kdeck(&data, &["clusters", "import", &fixture("three-contexts.yaml")]).code,
        0
    );
    assert_eq!(
        kdeck(&data, &["apps", "create", "dev/shop/a", "--image", "nginx:1.27"]).code,
        0
    );
    let one_line = |r: &Run| {
        assert!(r.stderr.trim().lines().count() <= 2, "{}", r.stderr);
        assert!(r.stderr.len() < 600, "{} characters: {}", r.stderr.len(), r.stderr);
        assert!(
            !r.stderr.contains("os error") && !r.stderr.contains("<input>"),
            "{}",
            r.stderr
        );
    };
    // Overrides that are not YAML: the file and the line, not the text.
    let o = dir.path().join("o.yaml");
    std::fs::write(
        &o,
        "spec:\n  template:\n    spec:\n      nodeSelector: [a\n  password: hunter2\n",
    )
    .unwrap();
    let r = kdeck(
        &data,
        &["apps", "edit", "dev/shop/a", "--overrides", o.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    one_line(&r);
    assert!(r.stderr.contains(&format!("{}:5:", o.display())), "{}", r.stderr);
    assert!(!r.stderr.contains("hunter2"));
    let journal = kdeck(&data, &["history", "-o", "json"]).stdout;
    assert!(!journal.contains("hunter2"), "the journal keeps no file content");
    // A saved app with a key twice.
    let dup = dir.path().join("dup.yaml");
    std::fs::write(&dup, "name: a\nname: b\n").unwrap();
    let r = kdeck(
        &data,
        &["apps", "create", "dev/shop/b", "--from", dup.to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    one_line(&r);
    assert!(
        r.stderr.contains(&format!("{}:2:1", dup.display())) && r.stderr.contains("appears twice"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("DuplicateKeyPolicy"));
    // A missing file, a device, a FIFO, a file far too large.
    let r = kdeck(
        &data,
        &["apps", "create", "dev/shop/b", "--from", "/nonexistent/app.yaml"],
    );
    one_line(&r);
    assert!(r.stderr.contains("no such file"), "{}", r.stderr);
    let started = std::time::Instant::now();
    let r = kdeck(&data, &["clusters", "import", "/dev/zero"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let r = kdeck(&data, &["clusters", "import", fifo.to_str().unwrap()]);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    let huge = dir.path().join("huge.yaml");
    std::fs::File::create(&huge).unwrap().set_len(55 << 20).unwrap();
    let r = kdeck(&data, &["clusters", "import", huge.to_str().unwrap()]);
    one_line(&r);
    assert!(
        r.stderr.contains("55 MiB") && r.stderr.contains("up to 32 MiB"),
        "{}",
        r.stderr
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "nothing was read for long"
    );
    // A theme or config that is a FIFO: a warning and the defaults.
    let cfg = dir.path().join("cfg");
    std::fs::create_dir(&cfg).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(cfg.join("config.yaml"))
            .status()
            .unwrap()
            .success()
    );
    let loaded = kdeck_tui::config::load(Some(&cfg), false);
    assert!(
        loaded.warnings.iter().any(|w| w.contains("not a regular file")),
        "{:?}",
        loaded.warnings
    );
    // The wrong number of parts names the whole input.
    let r = kdeck(&data, &["apps", "create", "dev/shop/a/b", "--image", "x"]);
    one_line(&r);
    assert!(
        r.stderr.contains("\"dev/shop/a/b\"") && r.stderr.contains("exactly two '/'"),
        "{}",
        r.stderr
    );
}

/// Importing 1,000 contexts again says so in one short line.
#[test]
fn a_thousand_duplicate_contexts_are_one_short_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut y = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for i in 0..1000 {
        y.push_str(&format!(
            "- name: c{i}\n  cluster:\n    server: https://c{i}.example.com\n"
        ));
    }
    y.push_str("users:\n- name: u\n  user:\n    token: t\ncontexts:\n");
    for i in 0..1000 {
        y.push_str(&format!(
            "- name: ctx-{i}\n  context:\n    cluster: c{i}\n    user: u\n"
        ));
    }
    let kc = dir.path().join("k.yaml");
    std::fs::write(&kc, y).unwrap();
    let data = dir.path().join("data");
    assert_eq!(kdeck(&data, &["clusters", "import", kc.to_str().unwrap()]).code, 0);
    let r = kdeck(&data, &["clusters", "import", kc.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.trim().lines().count(), 1);
    assert!(r.stderr.len() < 400, "{} characters", r.stderr.len());
    assert!(
        r.stderr.contains("and 997 more contexts") && r.stderr.contains("--update"),
        "{}",
        r.stderr
    );
}
