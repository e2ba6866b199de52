//! Team mode with two data dirs on one simulated hub: settings made in one
//! are pulled by the other; an edit of the same app by both at once is a
//! conflict for one of them, with both versions, and nothing is lost; a
//! hub outage makes the team's settings read-only (nothing queued), and
//! its return resyncs; a user whom the hub's RBAC lets only view cannot
//! change them; bad input is refused with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Setup;

const HUB: &str = "prod-eu1";

/// Each data dir is another person: ana, bob, vic.
fn user_of(data: &Path) -> &'static str {
    match data.file_name().and_then(|n| n.to_str()) {
        Some("data") => "ana",
        Some("data-b") => "bob",
        _ => "vic",
    }
}

fn kdeck(data: &Path, args: &[&str]) -> Output {
    common::kdeck_as(data, Some(user_of(data)), args)
}

fn ok(data: &Path, args: &[&str]) -> String {
    common::ok_as(data, Some(user_of(data)), args)
}

fn fails(data: &Path, args: &[&str]) -> String {
    let out = kdeck(data, args);
    assert!(!out.status.success(), "kdeck {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A second data dir with the same clusters imported (another machine).
fn another(s: &Setup, name: &str, user: &str) -> PathBuf {
    let kc = s.dir.path().join(format!("kubeconfig-{name}"));
    let text = std::fs::read_to_string(s.dir.path().join("kubeconfig"))
        .unwrap()
        .replace("kdeck-sim-admin", &format!("kdeck-sim-{user}"));
    std::fs::write(&kc, text).unwrap();
    let data = s.dir.path().join(name);
    ok(&data, &["clusters", "import", kc.to_str().unwrap()]);
    data
}

fn env_of(data: &Path, app: &str) -> String {
    ok(data, &["apps", "show", app])
}

#[test]
fn two_data_dirs_share_a_team_through_the_hub() {
    let s = Setup::new();
    let a = s.dir.path().join("data");
    ok(&a, &["domains", "add", HUB, "apps.prod-eu1.example.com"]);
    ok(
        &a,
        &[
            "apps",
            "create",
            "stage-eu1/shop-stage/draft",
            "--image",
            "nginx:1.27",
            "--port",
            "80",
        ],
    );
    let said = ok(&a, &["team", "init", HUB]);
    assert!(said.contains("team on prod-eu1/kdeck-team: made, pushed"), "{said}");
    // The hub holds one ConfigMap per shared entity.
    let names = s.jsonpath(
        HUB,
        "kdeck-team",
        "configmaps",
        "{.items[*].metadata.labels.kdeck\\.dev/tree}",
    );
    assert!(names.contains("apps") && names.contains("domains"), "{names}");

    // Another machine joins: it has the draft and the domain.
    let b = another(&s, "data-b", "admin");
    let said = ok(&b, &["team", "join", HUB]);
    assert!(said.contains("joined, pulled"), "{said}");
    assert!(ok(&b, &["apps", "show", "stage-eu1/shop-stage/draft"]).contains("nginx:1.27"));
    assert!(ok(&b, &["domains", "list"]).contains("apps.prod-eu1.example.com"));
    // A change made there reaches the first at its next command.
    ok(&b, &["domains", "add", "stage-eu1", "apps.stage-eu1.example.com"]);
    ok(&a, &["team", "sync"]);
    assert!(ok(&a, &["domains", "list"]).contains("apps.stage-eu1.example.com"));
    // And the journal has bob's command, beside ana's own.
    let journal = ok(&a, &["history", "-o", "json"]);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&journal).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["actor"].as_str().unwrap_or("").starts_with("bob@") && e["command"]["type"] == "add_domain"),
        "{journal}"
    );
    assert_eq!(
        entries.iter().filter(|e| e["command"]["type"] == "team_init").count(),
        1,
        "ana's own entries once: {journal}"
    );
    let status = ok(&a, &["team", "status", "-o", "json"]);
    let st: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        (st["reachable"].as_bool(), st["can_write"].as_bool()),
        (Some(true), Some(true)),
        "{status}"
    );

    // Both edit the same app at once, many times: each edit is either on the
    // hub or refused as a conflict with both versions; none is lost silently.
    for round in 0..4 {
        let (ka, kb) = (format!("A{round}"), format!("B{round}"));
        let app = "stage-eu1/shop-stage/draft";
        let ea = format!("{ka}=1");
        let eb = format!("{kb}=1");
        let (ra, rb) = std::thread::scope(|sc| {
            let ta = sc.spawn(|| kdeck(&a, &["apps", "edit", app, "--env", &ea]));
            let tb = sc.spawn(|| kdeck(&b, &["apps", "edit", app, "--env", &eb]));
            (ta.join().unwrap(), tb.join().unwrap())
        });
        ok(&a, &["team", "sync"]);
        let now = env_of(&a, app);
        for (r, k) in [(&ra, &ka), (&rb, &kb)] {
            if r.status.success() {
                assert!(now.contains(k.as_str()), "round {round}: {k} applied but lost: {now}");
            } else {
                let err = String::from_utf8_lossy(&r.stderr);
                assert!(
                    err.contains("conflict: apps stage-eu1/shop-stage/draft was changed on the hub by")
                        && err.contains("Theirs: ")
                        && err.contains("yours: "),
                    "round {round}: {err}"
                );
            }
        }
    }

    // The same race, held still: B has read the app, A changes it, B's write
    // of what it read is refused with both versions, and B then has A's.
    let app = "stage-eu1/shop-stage/draft";
    s.rt.block_on(async {
        let store = kdeck_store::Store::open(&b).unwrap();
        let gw = kdeck_fleet::Gateway::new();
        let (hub, _) = kdeck_team::Hub::of(&store, &gw).await.unwrap().unwrap();
        hub.pull(&store, "2026-12-02T00:00:00Z").await.unwrap();
        let mut mine: kdeck_model::App = store.get(app).unwrap().unwrap();
        ok(&a, &["apps", "edit", app, "--image", "nginx:1.29"]);
        mine.image = "nginx:1.30".into();
        let mut batch = kdeck_store::Batch::new();
        batch.put(&mine).unwrap();
        let e = hub
            .push(&store, &batch, "b@test", "2026-12-02T00:00:01Z")
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, kdeck_team::TeamError::Conflict(_)), "{text}");
        assert!(
            text.contains("nginx:1.29") && text.contains("nginx:1.30"),
            "both versions: {text}"
        );
        hub.pull(&store, "2026-12-02T00:00:02Z").await.unwrap();
        let now: kdeck_model::App = store.get(app).unwrap().unwrap();
        assert_eq!(now.image, "nginx:1.29");
    });

    // The hub goes down: reads work from the copy, changes are refused, nothing is queued.
    s.handles[0].set_up(false);
    let e = fails(&b, &["domains", "add", "stage-eu1", "apps.dev.example.com"]);
    assert!(
        e.contains("team hub prod-eu1 does not answer")
            && e.contains("read-only")
            && e.contains("nothing was changed or queued"),
        "{e}"
    );
    assert!(ok(&b, &["domains", "list"]).contains("apps.prod-eu1.example.com"));
    let st: serde_json::Value = serde_json::from_str(&ok(&b, &["team", "status", "-o", "json"])).unwrap();
    assert_eq!(st["reachable"], false);
    assert!(st["unreachable_since"].as_str().unwrap().starts_with("20"), "{st}");
    // It answers again: the next command resyncs and goes through.
    s.handles[0].set_up(true);
    ok(&b, &["domains", "add", "stage-eu1", "apps.dev.example.com"]);
    ok(&a, &["team", "sync"]);
    assert!(ok(&a, &["domains", "list"]).contains("apps.dev.example.com"));

    // A viewer of the hub's namespace reads the team's settings and cannot change them.
    let rb = s.dir.path().join("viewer.json");
    std::fs::write(
        &rb,
        r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "viewer", "namespace": "kdeck-team"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "viewer"}]}"#,
    )
    .unwrap();
    let out = s.kubectl(HUB, &["apply", "-f", rb.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = another(&s, "data-v", "viewer");
    ok(&v, &["team", "join", HUB]);
    assert!(ok(&v, &["domains", "list"]).contains("apps.dev.example.com"));
    let st: serde_json::Value = serde_json::from_str(&ok(&v, &["team", "status", "-o", "json"])).unwrap();
    assert_eq!(st["can_write"], false, "{st}");
    let e = fails(&v, &["domains", "add", "stage-eu1", "apps.other.example.com"]);
    assert!(e.contains("the hub's RBAC does not let you"), "{e}");
    assert!(!ok(&v, &["domains", "list"]).contains("apps.other.example.com"));

    // A cluster shared on purpose reaches a member who did not have it;
    // nothing else of anyone's credentials does.
    let d = s.dir.path().join("data-d");
    ok(
        &d,
        &[
            "clusters",
            "import",
            s.dir.path().join("kubeconfig").to_str().unwrap(),
            "--context",
            HUB,
        ],
    );
    assert!(fails(&a, &["team", "share", "stage-eu1"]).contains("confirm with --yes"));
    ok(&a, &["team", "share", "stage-eu1", "--yes"]);
    let said = ok(&d, &["team", "join", HUB]);
    assert!(said.contains("joined, pulled"), "{said}");
    assert!(ok(&d, &["clusters", "list"]).contains("stage-eu1"));
    assert!(ok(&d, &["domains", "list"]).contains("apps.dev.example.com"));
    // The viewer may not read Secrets there: no shared cluster for them, and no error.
    ok(&v, &["team", "sync"]);
    assert!(
        !ok(&v, &["clusters", "list"]).contains("kdeck-sim"),
        "the viewer's own clusters only"
    );

    // Leaving keeps the settings here.
    ok(&b, &["team", "leave"]);
    assert!(ok(&b, &["domains", "list"]).contains("apps.dev.example.com"));
}

#[test]
fn bad_hubs_and_bad_objects_are_refused_or_passed_over_with_the_reason() {
    let s = Setup::new();
    let a = s.dir.path().join("data");
    let e = fails(&a, &["team", "init", "nowhere"]);
    assert!(e.contains("no cluster named \"nowhere\" is imported here"), "{e}");
    // A namespace that holds something else.
    let out = s.kubectl(
        HUB,
        &["-n", "shop-prod", "create", "configmap", "theirs", "--from-literal=a=b"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e = fails(&a, &["team", "init", HUB, "--namespace", "shop-prod"]);
    assert!(
        e.contains("holds objects that are not a kdeck team's") && e.contains("theirs"),
        "{e}"
    );
    let e = fails(&a, &["team", "join", HUB]);
    assert!(e.contains("no team in namespace kdeck-team on prod-eu1"), "{e}");
    // A user the hub's RBAC lets do nothing there.
    let v = another(&s, "data-v", "nobody");
    let e = fails(&v, &["team", "init", HUB]);
    assert!(e.contains("the hub's RBAC does not let you"), "{e}");
    ok(&a, &["domains", "add", HUB, "apps.prod-eu1.example.com"]);
    ok(&a, &["team", "init", HUB]);
    // A joiner with settings of its own is asked first.
    let b = another(&s, "data-b", "admin");
    ok(&b, &["domains", "add", "stage-eu1", "apps.mine.example.com"]);
    let e = fails(&b, &["team", "join", HUB]);
    assert!(
        e.contains("has 1 setting(s) the team does not (domains stage-eu1/apps.mine.example.com)"),
        "{e}"
    );
    // A hand-edited object that does not read is passed over and named; the rest syncs.
    let name = kdeck_team::object_name("domains", "prod-eu1/apps.prod-eu1.example.com");
    let out = s.kubectl(
        HUB,
        &[
            "-n",
            "kdeck-team",
            "patch",
            "configmap",
            &name,
            "--type=merge",
            "-p",
            r#"{"data":{"value":"{not json"}}"#,
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The join goes through, and says what it passed over (exit 1: not all of it synced).
    let out = kdeck(&b, &["team", "join", HUB, "--discard-local"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("joined, pulled") && said.contains(&format!("{name}: it does not read")),
        "{said}"
    );
    let e = fails(&b, &["team", "sync"]);
    assert!(e.contains(&format!("passed over {name}: it does not read")), "{e}");
    assert!(
        !ok(&b, &["domains", "list"]).contains("apps.mine.example.com"),
        "discarded"
    );
    // An object written by a newer kdeck stops the sync, naming the versions.
    let out = s.kubectl(
        HUB,
        &[
            "-n",
            "kdeck-team",
            "annotate",
            "--overwrite",
            "configmap",
            &name,
            "kdeck.dev/format=2",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e = fails(&b, &["team", "sync"]);
    assert!(
        e.contains("is format 2, written by a newer kdeck; this kdeck reads format 1"),
        "{e}"
    );
}

/// Kill -9 in the middle of syncs and of commands loses no acknowledged
/// change: every command that exited 0 is on the hub and, after the next
/// sync, in every member's copy; a killed command is either there or not,
/// never half in a store.
#[test]
fn kill_9_during_syncs_and_commands_loses_no_acknowledged_change() {
    let s = Setup::new();
    let a = s.dir.path().join("data");
    ok(&a, &["team", "init", HUB]);
    let b = another(&s, "data-b", "admin");
    ok(&b, &["team", "join", HUB]);
    // Every answer takes a while, so that kills land inside requests.
    s.handles[0].set_faults(kdeck_sim::Faults {
        latency_ms: 15,
        ..Default::default()
    });
    let mut acknowledged = Vec::new();
    let mut rng = common::Lcg(7);
    for i in 0..24 {
        let suffix = format!("apps-{i}.example.com");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kdeck"));
        cmd.env("USER", "bob")
            .arg("--data-dir")
            .arg(&b)
            .args(["domains", "add", "stage-eu1", &suffix]);
        // A sync of the other member, killed part-way.
        let mut sync = Command::new(env!("CARGO_BIN_EXE_kdeck"))
            .arg("--data-dir")
            .arg(&a)
            .args(["team", "sync"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if i % 3 == 0 {
            // This command is killed too: not acknowledged.
            let mut child = cmd
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(rng.below(120)));
            let _ = child.kill();
            let _ = child.wait();
        } else if cmd.output().unwrap().status.success() {
            acknowledged.push(format!("stage-eu1/{suffix}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(rng.below(60)));
        let _ = sync.kill();
        let _ = sync.wait();
    }
    s.handles[0].set_faults(kdeck_sim::Faults::default());
    assert!(acknowledged.len() >= 14, "{acknowledged:?}");
    ok(&a, &["team", "sync"]);
    ok(&b, &["team", "sync"]);
    let in_a = ok(&a, &["domains", "list", "-o", "json"]);
    let in_b = ok(&b, &["domains", "list", "-o", "json"]);
    for d in &acknowledged {
        let suffix = d.trim_start_matches("stage-eu1/");
        assert!(in_a.contains(suffix), "{d} acknowledged, missing in ana's copy: {in_a}");
        assert!(in_b.contains(suffix), "{d} acknowledged, missing in bob's copy: {in_b}");
    }
    // Both copies are the hub's: the same domains.
    let names = |text: &str| -> Vec<String> {
        let v: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
        let mut n: Vec<String> = v
            .iter()
            .map(|d| d["suffix"].as_str().unwrap_or("").to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&in_a), names(&in_b));
    // And both stores still take commands.
    ok(&a, &["domains", "add", "stage-eu1", "after.example.com"]);
    ok(&b, &["team", "sync"]);
    assert!(ok(&b, &["domains", "list"]).contains("after.example.com"));
}
