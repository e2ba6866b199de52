//! The real binary in a real terminal: `kdeck demo` in tmux, driven with
//! `send-keys` and read with `capture-pane`. It navigates the tree, filters,
//! opens logs, marks a row and quits; then the shell's terminal settings are
//! checked to be restored. SIGTERM and SIGHUP (a dropped SSH session) end it
//! cleanly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::tmux::{Child, Tmux, bin, sh_quote};

/// After kdeck leaves, the shell prints its exit code and the terminal modes.
fn wrapped(t: &Tmux, args: &str) -> String {
    format!(
        "KDECK_CONFIG_DIR={} {} {args}; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; sleep 60",
        sh_quote(t.config.path()),
        bin()
    )
}

fn pid_of(marker: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = Command::new("pgrep")
            .arg("-f")
            .arg(marker.display().to_string())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        // The shell that started it carries the marker too: take kdeck itself.
        let kdeck = text
            .lines()
            .filter_map(|l| l.trim().parse::<u32>().ok())
            .find(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "kdeck"));
        if let Some(p) = kdeck {
            return p;
        }
        assert!(Instant::now() < deadline, "no kdeck process with {}", marker.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A fleet file (the small fleet's size) whose path marks a demo process.
fn fleet_marker(t: &Tmux, name: &str) -> PathBuf {
    let p = t.config.path().join(format!("{name}.yaml"));
    std::fs::write(&p, "{spaces: 5, apps: 4}\n").unwrap();
    p
}

/// The shell has printed kdeck's exit code and, after it, the terminal
/// modes (the line `wrapped` prints with `icanon` and `echo` in it).
fn shell_again(s: &str) -> bool {
    s.contains("EXIT=")
        && s.lines()
            .skip_while(|l| !l.contains("EXIT="))
            .any(|l| l.contains("icanon"))
}

fn gone(pid: u32) -> bool {
    !PathBuf::from(format!("/proc/{pid}")).exists()
}

#[test]
fn a_user_finds_an_app_watches_its_logs_marks_it_and_leaves() {
    let t = Tmux::new("tour");
    t.start(&wrapped(&t, "demo --clusters 2"));
    t.wait_for("both clusters live", Duration::from_secs(30), |s| s.contains("2 live"));
    // The tree, filtered to the shop spaces; the second row down is prod's.
    t.keys(&["/"]);
    t.text("shop");
    t.keys(&["Enter"]);
    t.wait_for("the tree filtered to two spaces", Duration::from_secs(5), |s| {
        s.contains("spaces 2 /shop")
    });
    t.keys(&["j", "j", "Enter"]);
    t.wait_for("the space's apps", Duration::from_secs(5), |s| {
        s.contains("apps prod-eu1/shop-prod · 5")
    });
    // The apps pane has the keys now: filter to one app.
    t.keys(&["/"]);
    t.text("web");
    t.keys(&["Enter"]);
    let s = t.wait_for("one app", Duration::from_secs(5), |s| s.contains("1 of 5"));
    assert!(s.contains(" web "), "{s}");
    // Its logs, live.
    t.keys(&["l"]);
    let s = t.wait_for("log lines", Duration::from_secs(10), |s| {
        s.contains("logs app prod-eu1/shop-prod/web · following") && s.contains("level=")
    });
    assert!(s.contains("msg="), "{s}");
    // Pause, and back to the apps.
    t.keys(&["f"]);
    t.wait_for("paused", Duration::from_secs(5), |s| s.contains("· paused"));
    t.keys(&["Escape"]);
    t.wait_for("the apps again", Duration::from_secs(5), |s| {
        s.contains("apps prod-eu1/shop-prod")
    });
    // Mark the row: the header counts it.
    t.keys(&["Space"]);
    t.wait_for("a mark", Duration::from_secs(5), |s| s.contains("1 marked"));
    // Help is made from the keymap.
    t.keys(&["?"]);
    t.wait_for("help", Duration::from_secs(5), |s| s.contains("half_page_down"));
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    let s = t.wait_for("the shell again", Duration::from_secs(10), shell_again);
    assert!(s.contains("EXIT=0"), "{s}");
    // Raw mode is off: the shell's line editing and echo are back.
    assert!(s.contains("icanon echo"), "terminal modes not restored:\n{s}");
    assert!(!s.contains("apps prod-eu1"), "the alternate screen is gone:\n{s}");
}

#[test]
fn sigterm_restores_the_terminal() {
    let t = Tmux::new("term");
    let marker = fleet_marker(&t, "marker-term");
    t.start(&wrapped(
        &t,
        &format!("demo --clusters 1 --fleet {}", sh_quote(&marker)),
    ));
    t.wait_for("live", Duration::from_secs(30), |s| s.contains("1 live"));
    let pid = pid_of(&marker);
    Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap();
    let s = t.wait_for("the shell again", Duration::from_secs(10), shell_again);
    assert!(s.contains("EXIT=143"), "128 + SIGTERM: {s}");
    assert!(s.contains("icanon echo"), "terminal modes not restored:\n{s}");
    assert!(
        !PathBuf::from(format!("/tmp/kdeck-demo-{pid}")).exists(),
        "the demo store is removed"
    );
}

#[test]
fn a_dropped_session_ends_kdeck() {
    let t = Tmux::new("hup");
    let marker = fleet_marker(&t, "marker-hup");
    // kdeck is the pane's only process: closing the pane hangs up on it.
    t.start(&format!(
        "KDECK_CONFIG_DIR={} exec {} demo --clusters 1 --fleet {}",
        sh_quote(t.config.path()),
        bin(),
        sh_quote(&marker)
    ));
    t.wait_for("live", Duration::from_secs(30), |s| s.contains("1 live"));
    let pid = pid_of(&marker);
    t.run(&["kill-session", "-t", "main"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone(pid) {
        assert!(Instant::now() < deadline, "kdeck (pid {pid}) still runs after SIGHUP");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = PathBuf::from(format!("/tmp/kdeck-demo-{pid}"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while dir.exists() {
        assert!(
            Instant::now() < deadline,
            "the demo store {} is left behind",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn bare_kdeck_offers_the_kubeconfig_then_shows_live_changes_and_survives_a_resize() {
    let t = Tmux::new("bare");
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let _sim = sim_process(&kc);
    let data = dir.path().join("data");
    t.start(&format!(
        "export KUBECONFIG={}; {}",
        sh_quote(&kc),
        wrapped(&t, &format!("--data-dir {}", sh_quote(&data)))
    ));
    // An empty store: kdeck offers the kubeconfig's contexts first.
    t.wait_for("the offer", Duration::from_secs(10), |s| {
        s.contains("no clusters yet. Import the contexts of")
    });
    t.keys(&["y", "Enter"]);
    t.wait_for("live", Duration::from_secs(20), |s| s.contains("1 live"));
    t.keys(&["j", "j", "Enter"]);
    t.wait_for("the space", Duration::from_secs(5), |s| {
        s.contains("apps prod-eu1/catalog-prod")
    });
    // A change made with kubectl shows up by itself.
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kc)
        .args(["-n", "catalog-prod", "scale", "deployment/web", "--replicas", "4"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    t.wait_for("the new replica count", Duration::from_secs(15), |s| {
        s.lines().any(|l| l.contains(" web ") && l.contains("4/4"))
    });
    // Smaller: everything still there, re-laid out.
    t.run(&["resize-window", "-t", "main", "-x", "80", "-y", "24"]);
    // The key hints stay on the last line, help first.
    t.wait_for("80 columns, re-laid out", Duration::from_secs(5), |s| {
        s.lines().all(|l| l.chars().count() <= 80)
            && s.contains("apps prod-eu1/catalog-prod")
            && s.lines()
                .rfind(|l| !l.trim().is_empty())
                .is_some_and(|l| l.contains("? help"))
    });
    t.keys(&["q"]);
    let s = t.wait_for("the shell again", Duration::from_secs(10), shell_again);
    assert!(s.contains("EXIT=0"), "{s}");
    assert!(
        data.join("store").is_dir(),
        "the clusters went into the store asked for"
    );
}

/// `kdeck sim` with one small cluster in its own process, its kubeconfig
/// written to `kc`; it stops when the returned handle is dropped.
fn sim_process(kc: &Path) -> Child {
    let child = Child(
        Command::new(bin())
            .args(["sim", "--clusters", "1", "--fleet", "small", "--kubeconfig-out"])
            .arg(kc)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !kc.exists() {
        assert!(Instant::now() < deadline, "kdeck sim did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// The cockpit on a simulated cluster (`prod-eu1`, small fleet) with its own
/// store, and `hello` (nginx, one replica) created and deployed in
/// `shop-prod` through the CLI first.
struct SimCockpit {
    t: Tmux,
    dir: tempfile::TempDir,
    _sim: Child,
    data: PathBuf,
}

impl SimCockpit {
    fn new(tag: &str, hello: &[&str]) -> SimCockpit {
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("kubeconfig");
        let sim = sim_process(&kc);
        let data = dir.path().join("data");
        let c = SimCockpit {
            t: Tmux::new(tag),
            dir,
            _sim: sim,
            data,
        };
        c.cli(&["clusters", "import", kc.to_str().unwrap()]);
        let mut create = vec!["apps", "create", "prod-eu1/shop-prod/hello", "--image", "nginx:1.27"];
        create.extend(hello);
        c.cli(&create);
        c.cli(&[
            "apps",
            "deploy",
            "prod-eu1/shop-prod/hello",
            "--wait",
            "--timeout",
            "30",
        ]);
        c
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(bin())
            .arg("--data-dir")
            .arg(&self.data)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kdeck {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts the cockpit (after `env`, assignments for its environment) and
    /// brings `hello` into view, selected.
    fn open_hello(&self, env: &str) {
        self.t.start(&format!(
            "{env} {}",
            wrapped(&self.t, &format!("--data-dir {}", sh_quote(&self.data)))
        ));
        self.t
            .wait_for("live", Duration::from_secs(20), |s| s.contains("1 live"));
        self.t.keys(&["/"]);
        self.t.text("shop-prod");
        self.t.keys(&["Enter", "j", "j", "Enter", "/"]);
        self.t.text("hello");
        self.t.keys(&["Enter"]);
        self.t.wait_for("the app", Duration::from_secs(10), |s| {
            s.lines().any(|l| l.contains(" hello ") && l.contains("1/1"))
        });
    }

    fn quit(&self) {
        self.t.keys(&["q"]);
        self.t
            .wait_for("the shell again", Duration::from_secs(10), |s| s.contains("EXIT=0"));
    }

    fn journal(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.cli(&["history", "-o", "json"])).unwrap()
    }
}

#[test]
fn scaling_an_app_from_the_cockpit_goes_through_the_journal_to_the_cluster() {
    let c = SimCockpit::new("scale", &["--port", "80"]);
    let t = &c.t;
    c.open_hello("");
    // The form: replace 1 by 3, submit.
    t.keys(&["="]);
    t.wait_for("the scale form", Duration::from_secs(5), |s| {
        s.contains("scale prod-eu1/shop-prod/hello")
    });
    t.keys(&["BSpace"]);
    t.text("3");
    t.keys(&["Enter"]);
    // prod-eu1 is production (by its name): asked first.
    t.wait_for("the production question", Duration::from_secs(5), |s| {
        s.contains("On production (prod-eu1)")
    });
    t.keys(&["y"]);
    t.wait_for("three ready replicas", Duration::from_secs(20), |s| {
        s.lines().any(|l| l.contains(" hello ") && l.contains("3/3"))
    });
    c.quit();
    // The journal has it, like a CLI command.
    let entries = c.journal();
    let scale = entries
        .iter()
        .find(|e| e["command"]["type"] == "scale_app")
        .expect("a scale entry");
    assert_eq!(scale["command"]["replicas"], 3);
    assert_eq!(scale["status"], "applied", "{scale}");
}

#[test]
fn from_the_cockpit_a_new_app_with_a_route_and_a_binding_across_clusters_is_deployed_and_ready() {
    let t = Tmux::new("paas");
    t.start(&wrapped(&t, "demo --clusters 2"));
    t.wait_for("both live", Duration::from_secs(30), |s| s.contains("2 live"));
    t.keys(&["/"]);
    t.text("payments");
    t.keys(&["Enter", "j", "j", "Enter"]);
    t.wait_for("the space", Duration::from_secs(5), |s| {
        s.contains("apps prod-eu1/payments-prod")
    });
    // A new app: name and image; port 8080 and the default route are filled in.
    t.keys(&["n"]);
    t.wait_for("the form", Duration::from_secs(5), |s| {
        s.contains("new app in prod-eu1/payments-prod")
    });
    t.text("shop-ui");
    t.keys(&["Tab"]);
    t.text("nginx:1.27");
    t.keys(&["C-s"]);
    t.wait_for("the draft", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.contains(" shop-ui ") && l.contains("draft"))
    });
    t.keys(&["/"]);
    t.text("shop-ui");
    t.keys(&["Enter"]);
    t.wait_for("only the draft", Duration::from_secs(5), |s| s.contains("1 of"));
    // Bound to the database on the other cluster.
    t.keys(&["b"]);
    t.wait_for("the bind form", Duration::from_secs(5), |s| {
        s.contains("bind prod-eu1/payments-prod/shop-ui to")
    });
    t.text("stage-eu1/shop-prod/pg");
    t.keys(&["Tab"]);
    t.text("postgres");
    t.keys(&["Enter"]);
    t.wait_for("bound", Duration::from_secs(10), |s| s.contains("bind: "));
    // Deployed (on production: asked first), and ready.
    t.keys(&["A"]);
    t.wait_for("the production question", Duration::from_secs(5), |s| {
        s.contains("On production")
    });
    t.keys(&["y"]);
    t.wait_for("ready", Duration::from_secs(30), |s| {
        s.lines().any(|l| l.contains(" shop-ui ") && l.contains("1/1"))
    });
    // Its env comes from the binding, with the database's external host.
    t.keys(&["y"]);
    t.wait_for("the YAML", Duration::from_secs(10), |s| s.contains("yaml Deployment"));
    let mut seen = t.screen();
    for _ in 0..8 {
        if seen.contains("PG_HOST") {
            break;
        }
        t.keys(&["PageDown"]);
        seen = t.screen();
    }
    assert!(seen.contains("PG_HOST"), "{seen}");
    let around: String = seen
        .lines()
        .skip_while(|l| !l.contains("PG_HOST"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(around.contains("pg-shop-prod.apps.stage-eu1.example.com"), "{around}");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait_for("the shell again", Duration::from_secs(10), |s| s.contains("EXIT=0"));
}

#[test]
fn editing_an_apps_yaml_in_the_editor_reopens_a_refused_edit_then_applies_the_fix() {
    let c = SimCockpit::new("edit", &[]);
    let (t, dir) = (&c.t, c.dir.path());
    // A scripted editor: its first save is one the server refuses, its
    // second fixes the value. It keeps a copy of each file it was given.
    let editor = dir.join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nf=\"$1\"\nn=$(cat \"$D/count\" 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > \"$D/count\"\ncp \"$f\" \"$D/seen-$n.yaml\"\n\
         case $n in\n1) sed -i 's/^\\( *\\)replicas: 1$/\\1replicas: many/' \"$f\" ;;\n2) sed -i 's/^\\( *\\)replicas: many$/\\1replicas: 2/' \"$f\" ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    c.open_hello(&format!("EDITOR={} D={}", sh_quote(&editor), sh_quote(dir)));
    t.wait_for("synced", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.contains(" hello ") && l.contains("synced"))
    });
    t.keys(&["e"]);
    // The fix lands; the cockpit is back, drawn in full, and says what the edit did.
    let s = t.wait_for("two ready replicas", Duration::from_secs(20), |s| {
        s.lines().any(|l| l.contains(" hello ") && l.contains("2/2"))
    });
    assert!(s.contains("kdeck │"), "the header is drawn again:\n{s}");
    // Changed in the cluster behind kdeck's settings: drift.
    t.wait_for("drift", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.contains(" hello ") && l.contains("drift"))
    });
    let first = std::fs::read_to_string(dir.join("seen-1.yaml")).unwrap();
    assert!(
        first.starts_with("# Editing deployment prod-eu1/shop-prod/hello."),
        "{first}"
    );
    assert!(first.contains("kind: Deployment") && !first.contains("managedFields") && !first.contains("status:"));
    let second = std::fs::read_to_string(dir.join("seen-2.yaml")).unwrap();
    assert!(second.contains("# The edit was not applied:"), "{second}");
    assert!(
        second.contains("replicas: many"),
        "the text as the user left it:\n{second}"
    );
    c.quit();
    // Both tries are in the journal: the refusal with the server's reason.
    let entries = c.journal();
    let edits: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["command"]["type"] == "patch_object")
        .collect();
    assert_eq!(edits.len(), 2, "{edits:?}");
    let failed = edits.iter().find(|e| e["status"] != "applied").unwrap();
    let reason = failed.to_string();
    assert!(
        reason.contains("invalid type: string \\\"many\\\"") && reason.contains("400 BadRequest"),
        "{reason}"
    );
    assert!(
        edits
            .iter()
            .any(|e| e["status"] == "applied" && e["command"]["patch"]["spec"]["replicas"] == 2)
    );
}

#[test]
fn copying_an_app_from_the_cockpit_plans_then_runs_it_into_another_space() {
    let c = SimCockpit::new("copy", &["--port", "80"]);
    let t = &c.t;
    c.cli(&["domains", "add", "prod-eu1", "apps.prod-eu1.example.com"]);
    c.cli(&["routes", "add", "prod-eu1/shop-prod/hello"]);
    c.cli(&["apps", "deploy", "prod-eu1/shop-prod/hello"]);
    let target = kdeck_sim::fleet::space_names(5)
        .into_iter()
        .find(|n| n != "shop-prod")
        .unwrap();
    c.open_hello("");
    t.keys(&["c"]);
    t.wait_for("the target picker", Duration::from_secs(5), |s| {
        s.contains("copy 1 app(s)")
    });
    t.text(&target);
    t.keys(&["Enter"]);
    t.wait_for("the plan", Duration::from_secs(20), |s| {
        s.contains("1 create") && s.contains("enter copies")
    });
    t.keys(&["Enter"]);
    t.wait_for("the copy done", Duration::from_secs(30), |s| {
        s.contains("done: 1 item(s), 0 failed")
    });
    t.keys(&["Escape"]);
    c.quit();
    // A managed copy: stored, deployed in its space, with its own route host.
    let shown: serde_json::Value =
        serde_json::from_str(&c.cli(&["apps", "show", &format!("prod-eu1/{target}/hello"), "-o", "json"])).unwrap();
    assert_eq!(shown["sync"], "synced", "{shown}");
    assert_eq!(
        shown["routes"][0]["host"],
        format!("hello-{target}.apps.prod-eu1.example.com").as_str()
    );
    assert!(
        c.journal()
            .iter()
            .any(|e| e["command"]["type"] == "copy" && e["status"] == "applied")
    );
}

/// One store, many kdecks: the cockpit stays open (it owns the store) while
/// four scripts run 200 CLI commands on the same data dir; none is refused,
/// the journal has them all, and the last draft is on the cockpit's screen
/// within a second, with no key pressed.
#[test]
fn a_cockpit_stays_open_while_scripts_run_200_commands_on_its_store() {
    let c = SimCockpit::new("many", &[]);
    let t = &c.t;
    t.start(&wrapped(t, &format!("--data-dir {}", sh_quote(&c.data))));
    t.wait_for("live", Duration::from_secs(20), |s| s.contains("1 live"));
    t.keys(&["/"]);
    t.text("shop-prod");
    t.keys(&["Enter", "j", "j", "Enter"]);
    t.wait_for("the app", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.contains(" hello ") && l.contains("1/1"))
    });
    let before = c.journal().len();
    let data = c.data.clone();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let data = data.clone();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for i in 0..50 {
                    let name = format!("prod-eu1/shop-prod/d{w}-{i}");
                    let args: Vec<&str> = if i % 2 == 0 {
                        vec!["apps", "create", &name, "--image", "nginx:1.27"]
                    } else {
                        // A read of the space, through the store and the cluster.
                        vec!["apps", "list", "--space", "prod-eu1/shop-prod", "-o", "json"]
                    };
                    let out = Command::new(bin())
                        .arg("--data-dir")
                        .arg(&data)
                        .args(&args)
                        .output()
                        .unwrap();
                    if !out.status.success() {
                        failures.push(format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)));
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(failures.is_empty(), "refused or failed: {failures:?}");
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(&c.data)
        .args(["apps", "create", "prod-eu1/shop-prod/aaa-last", "--image", "nginx:1.27"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = Instant::now();
    t.wait_for("the new draft, without a key press", Duration::from_secs(5), |s| {
        s.lines().any(|l| l.contains("aaa-last") && l.contains("draft"))
    });
    let shown = written.elapsed();
    assert!(shown <= Duration::from_secs(1), "the draft took {shown:?} to show");
    // Every create is journalled; the cockpit still runs and quits cleanly.
    let journal = c.journal();
    let creates = journal[before..]
        .iter()
        .filter(|e| e["command"]["type"] == "create_app" && e["status"] == "applied")
        .count();
    assert_eq!(creates, 101, "{:?}", &journal[before..]);
    c.quit();
}

/// The cockpit details, in a real terminal: `g` in paused logs fills the
/// pane from the oldest line (it showed one line and blank rows), and
/// ctrl-u empties a form field.
#[test]
fn paused_logs_go_to_the_top_full_and_ctrl_u_clears_a_field() {
    let t = Tmux::new("details");
    t.start(&wrapped(&t, "demo --clusters 1"));
    t.wait_for("live", Duration::from_secs(30), |s| s.contains("1 live"));
    t.keys(&["/"]);
    t.text("shop-prod");
    t.keys(&["Enter", "j", "j", "Enter"]);
    t.wait_for("the space's apps", Duration::from_secs(5), |s| {
        s.contains("apps prod-eu1/shop-prod")
    });
    t.keys(&["/"]);
    t.text("web");
    t.keys(&["Enter", "l"]);
    // More lines than the pane holds.
    t.wait_for("a screenful of log lines", Duration::from_secs(40), |s| {
        s.split(" lines")
            .next()
            .and_then(|h| h.rsplit(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= 45)
    });
    t.keys(&["f", "g"]);
    let s = t.wait_for("paused at the top", Duration::from_secs(5), |s| s.contains("· paused"));
    let rows = s.lines().filter(|l| l.contains("level=")).count();
    assert!(rows >= 28, "the pane is full at the top ({rows} rows):\n{s}");
    // A form: ctrl-u empties the port field.
    t.keys(&["Escape", "Escape", "n"]);
    t.wait_for("the new-app form", Duration::from_secs(5), |s| s.contains("new app in"));
    t.keys(&["Tab", "Tab"]);
    t.wait_for("the port field", Duration::from_secs(5), |s| {
        s.lines().any(|l| l.contains("port") && l.contains("8080"))
    });
    t.keys(&["C-u"]);
    t.wait_for("the port field empty", Duration::from_secs(5), |s| {
        s.lines().any(|l| l.contains("┃port ") && !l.contains("8080"))
    });
    t.keys(&["Escape", "q"]);
    let s = t.wait_for("the shell again", Duration::from_secs(10), shell_again);
    assert!(s.contains("EXIT=0"), "{s}");
}

/// With the emacs keymap, its own quit key (ctrl-x) leaves kdeck from every
/// popup, form and the input line: no hard-coded ctrl-c shadows it.
#[test]
fn the_emacs_quit_key_leaves_from_every_popup_form_and_input() {
    // What to press on the apps of prod-eu1/shop-prod, and what then shows.
    let cases: &[(&str, &[&str], &str)] = &[
        ("help", &["?"], "keys of the keymap in use"),
        ("yaml", &["y"], "yaml Deployment prod-eu1/shop-prod/"),
        ("palette", &[":"], "palette"),
        ("filter", &["/"], "enter keep · ctrl-g clear"),
        ("confirm", &["R"], "pod by pod?"),
        ("scale-form", &["="], "0 to 1000; 0 stops the app"),
        (
            "new-app-form",
            &["n", "Tab", "Tab", "Tab", "Tab", "Tab", "Tab"],
            "NAME=VALUE",
        ),
        ("copy-targets", &["c"], "marks · enter plans"),
        ("log-search", &["l", "/"], "search: "),
    ];
    for (tag, keys, shown) in cases {
        let t = Tmux::new(&format!("emacs-{tag}"));
        std::fs::write(t.config.path().join("config.yaml"), "keymap: emacs\n").unwrap();
        t.start(&wrapped(&t, "demo --clusters 1"));
        t.wait_for("live", Duration::from_secs(30), |s| s.contains("1 live"));
        t.keys(&["C-s"]);
        t.text("shop-prod");
        t.keys(&["Enter", "C-n", "C-n", "Enter"]);
        t.wait_for("the space's apps", Duration::from_secs(5), |s| {
            s.contains("apps prod-eu1/shop-prod")
        });
        t.keys(keys);
        t.wait_for(&format!("{tag} open"), Duration::from_secs(10), |s| s.contains(shown));
        t.keys(&["C-x"]);
        let s = t.wait_for(
            &format!("the shell again, from {tag}"),
            Duration::from_secs(10),
            shell_again,
        );
        assert!(s.contains("EXIT=0"), "{tag}: {s}");
    }
}

/// A build from the cockpit, end to end in a real terminal: B on the app
/// opens the revision prompt, enter starts the build; in the builds pane
/// enter opens its task tree, live, and l follows a step's logs; when the
/// build succeeds, the cockpit deploys the built digest (asked for in the
/// prompt) through the journal.
#[test]
fn a_build_started_and_followed_from_the_cockpit_deploys_its_image() {
    let c = SimCockpit::new("build", &["--port", "80"]);
    let t = &c.t;
    c.cli(&["builds", "setup", "prod-eu1/shop-prod"]);
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(&c.data)
        .args([
            "builds",
            "settings",
            "prod-eu1/shop-prod/hello",
            "--git",
            "https://git.example.com/shop/hello.git",
            "--registry",
            "registry.example.com/shop",
            "--registry-username",
            "bot",
        ])
        .env("KDECK_REGISTRY_PASSWORD", "pw-for-the-test")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    c.open_hello("");
    t.keys(&["B"]);
    t.wait_for("the build prompt", Duration::from_secs(5), |s| {
        s.contains("build prod-eu1/shop-prod/hello") && s.contains("revision")
    });
    t.keys(&["Enter"]);
    t.wait_for("the production question", Duration::from_secs(5), |s| {
        s.contains("On production")
    });
    t.keys(&["y"]);
    t.wait_for("the build started", Duration::from_secs(10), |s| {
        s.contains("build of hello at main started")
    });
    // Its task tree, live: the steps run one by one to the end.
    t.keys(&["3", "/"]);
    t.text("hello-build");
    t.keys(&["Enter"]);
    t.wait_for("the run in the builds pane", Duration::from_secs(10), |s| {
        s.contains("hello-build-")
    });
    t.keys(&["Enter"]);
    t.wait_for("the task tree", Duration::from_secs(10), |s| {
        s.contains("build prod-eu1/hello-build-") && s.contains("clone")
    });
    t.wait_for("the build's steps done", Duration::from_secs(30), |s| {
        s.contains("build-and-push") && s.contains("report (finally)") && s.contains("image-url")
    });
    // The first step's logs.
    t.keys(&["l"]);
    t.wait_for("the clone step's logs", Duration::from_secs(10), |s| {
        s.contains("clone/clone") && s.contains("Cloning into")
    });
    // Succeeded, then deployed by the cockpit: the journal has it.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let deployed = c
            .journal()
            .iter()
            .any(|e| e["command"]["type"] == "deploy_build" && e["status"] == "applied");
        if deployed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no deploy of the build in the journal: {:?}",
            c.journal()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let shown = c.cli(&["apps", "show", "prod-eu1/shop-prod/hello", "-o", "json"]);
    assert!(shown.contains("registry.example.com/shop/hello@sha256:"), "{shown}");
    c.quit();
}
