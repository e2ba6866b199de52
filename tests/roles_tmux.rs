//! Roles end to end, in real terminals: a manager's cockpit marks three
//! spaces on two clusters and grants developer to dana from the roles view;
//! dana, in a kdeck of her own, scales an app in a granted space and is
//! refused, with the reason, in a space where she only reads; an auditor's
//! cockpit changes nothing anywhere. `kubectl auth can-i` as each user
//! agrees with `kdeck can` and with what the cockpits allowed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use common::tmux::{Tmux, bin, sh_quote};
use kdeck_sim::{FleetSize, SimHandle, SimOptions};

/// dana may read everything (a ClusterRoleBinding to view), and nothing more.
const DANA_VIEWS: &str = r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
 "metadata": {"name": "dana-view"},
 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
 "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "dana"}]}"#;

struct World {
    _rt: tokio::runtime::Runtime,
    handles: Vec<SimHandle>,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let (rt, handles) = common::sim_on_runtime(SimOptions {
            clusters: 2,
            fleet: FleetSize::Small,
            ..Default::default()
        });
        let w = World {
            _rt: rt,
            handles,
            dir: tempfile::tempdir().unwrap(),
        };
        for user in ["admin", "dana", "auditor"] {
            let kc = w.kc(user);
            std::fs::write(&kc, kdeck_sim::kubeconfig(&w.handles, user)).unwrap();
            w.kdeck(user, &["clusters", "import", kc.to_str().unwrap()]);
        }
        let crb = w.dir.path().join("dana-view.json");
        std::fs::write(&crb, DANA_VIEWS).unwrap();
        for ctx in w.contexts() {
            let out = w.kubectl("admin", &["--context", &ctx, "apply", "-f", crb.to_str().unwrap()]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        w
    }

    fn contexts(&self) -> Vec<String> {
        self.handles.iter().map(|h| h.cluster.name.clone()).collect()
    }

    fn kc(&self, user: &str) -> PathBuf {
        self.dir.path().join(format!("{user}.kc"))
    }

    fn data(&self, user: &str) -> PathBuf {
        self.dir.path().join(format!("data-{user}"))
    }

    /// kdeck with `user`'s store; must succeed.
    fn kdeck(&self, user: &str, args: &[&str]) -> String {
        let out = self.kdeck_out(user, args);
        assert!(
            out.status.success(),
            "kdeck {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn kdeck_out(&self, user: &str, args: &[&str]) -> Output {
        Command::new(bin())
            .arg("--data-dir")
            .arg(self.data(user))
            .args(args)
            .output()
            .unwrap()
    }

    fn kubectl(&self, user: &str, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.kc(user))
            .args(args)
            .output()
            .unwrap()
    }

    /// `kubectl auth can-i VERB RESOURCE -n NS` on a cluster, as `user`,
    /// checked against `kdeck can` in the user's own store.
    fn can(&self, user: &str, space: &str, verb: &str, resource: &str) -> bool {
        let (ctx, ns) = space.split_once('/').unwrap();
        let k = self.kubectl(user, &["--context", ctx, "auth", "can-i", verb, resource, "-n", ns]);
        let said = String::from_utf8_lossy(&k.stdout).trim().to_string();
        let kubectl = said == "yes";
        assert!(kubectl || said == "no", "kubectl auth can-i said {said:?}");
        let d = self.kdeck_out(user, &["can", space, verb, resource]);
        assert_eq!(
            d.status.success(),
            kubectl,
            "kdeck can {space} {verb} {resource} as {user} disagrees with kubectl"
        );
        kubectl
    }

    /// A cockpit on `user`'s store, in its own terminal.
    fn cockpit(&self, user: &str) -> Tmux {
        let t = Tmux::new(&format!("roles-{user}"));
        t.start(&format!(
            "KDECK_CONFIG_DIR={} {} --data-dir {}; sleep 30",
            sh_quote(t.config.path()),
            bin(),
            sh_quote(&self.data(user))
        ));
        t.wait_for("both clusters live", Duration::from_secs(30), |s| s.contains("2 live"));
        t
    }
}

/// An app into view and selected, through the palette.
fn into_view(t: &Tmux, space: &str, app: &str) {
    t.keys(&[":"]);
    t.text(&format!("{space}/{app}"));
    t.keys(&["Enter"]);
    t.wait_for(app, Duration::from_secs(10), |s| {
        s.contains(&format!("apps {space}")) && s.lines().any(|l| l.contains(&format!(" {app} ")))
    });
}

fn replicas(w: &World, space: &str, app: &str) -> String {
    let (ctx, ns) = space.split_once('/').unwrap();
    let out = w.kubectl(
        "admin",
        &[
            "--context",
            ctx,
            "-n",
            ns,
            "get",
            "deployment",
            app,
            "-o",
            "jsonpath={.spec.replicas}",
        ],
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn quit(t: &Tmux) {
    t.keys(&["q"]);
}

#[test]
fn a_manager_grants_from_the_cockpit_a_developer_deploys_there_and_an_auditor_changes_nothing() {
    let w = World::new();
    let granted = [
        "prod-eu1/catalog-prod",
        "stage-eu1/catalog-prod",
        "prod-eu1/payments-prod",
    ];
    let elsewhere = "prod-eu1/shop-prod";
    for s in granted.iter().chain([&elsewhere]) {
        assert!(!w.can("dana", s, "patch", "deployments"), "dana may not change {s} yet");
        assert!(w.can("dana", s, "list", "deployments"), "dana reads {s}");
    }

    // The manager marks three spaces on two clusters and grants from the roles view.
    let m = w.cockpit("admin");
    m.keys(&["/"]);
    m.text("catalog");
    m.keys(&["Enter", "C-a", "/", "C-u"]);
    m.text("prod-eu1/pay");
    m.keys(&["Enter", "C-a", "Escape", "U"]);
    m.wait_for("the roles of 3 spaces", Duration::from_secs(10), |s| {
        s.contains("roles 3 spaces") && !s.contains("reading…")
    });
    m.keys(&["n"]);
    m.wait_for("the grant form", Duration::from_secs(5), |s| {
        s.contains("grant a role in 3 spaces")
    });
    m.text("user:dana");
    m.keys(&["Enter"]);
    m.wait_for("the production question", Duration::from_secs(5), |s| {
        s.contains("On production (prod-eu1)")
    });
    m.keys(&["y"]);
    let s = m.wait_for("dana in each space", Duration::from_secs(20), |s| {
        s.contains("roles 3 spaces") && s.matches("user:dana").count() >= 3
    });
    assert!(s.contains("kdeck-edit-dana"), "{s}");
    for space in granted {
        assert!(
            w.can("dana", space, "patch", "deployments"),
            "dana may change {space} now"
        );
        assert!(!w.can("dana", space, "create", "rolebindings"), "but not grant there");
    }
    assert!(!w.can("dana", elsewhere, "patch", "deployments"), "nothing more");
    // The journal view has the grant, each space's result.
    m.keys(&["Escape", "H"]);
    m.wait_for("the journal", Duration::from_secs(5), |s| s.contains("roles grant"));
    m.keys(&["Enter"]);
    let s = m.wait_for("the grant's items", Duration::from_secs(5), |s| {
        s.contains("✓ prod-eu1/payments-prod")
    });
    assert!(s.contains("✓ stage-eu1/catalog-prod"), "{s}");
    quit(&m);

    // dana, in a kdeck of her own, scales in a granted space...
    let d = w.cockpit("dana");
    into_view(&d, "stage-eu1/catalog-prod", "web");
    d.keys(&["="]);
    d.wait_for("the scale form", Duration::from_secs(5), |s| {
        s.contains("scale stage-eu1/catalog-prod/web")
    });
    d.keys(&["BSpace"]);
    d.text("3");
    d.keys(&["Enter"]);
    d.wait_for("three ready", Duration::from_secs(20), |s| {
        s.lines().any(|l| l.contains(" web ") && l.contains("3/3"))
    });
    assert_eq!(replicas(&w, "stage-eu1/catalog-prod", "web"), "3");
    // ...and elsewhere only reads: the keys say so, and a press is refused.
    into_view(&d, elsewhere, "web");
    d.wait_for("dana's role here", Duration::from_secs(10), |s| {
        s.lines()
            .last()
            .is_some_and(|l| l.contains("auditor in prod-eu1/shop-prod"))
    });
    d.keys(&["="]);
    d.wait_for("the refusal", Duration::from_secs(5), |s| {
        s.contains("you are auditor in prod-eu1/shop-prod: scale needs patch deployments.apps")
    });
    assert_ne!(replicas(&w, elsewhere, "web"), "3");
    quit(&d);

    // The auditor reads everything and changes nothing, the granted spaces too.
    let a = w.cockpit("auditor");
    into_view(&a, "prod-eu1/catalog-prod", "web");
    a.wait_for("the auditor's role", Duration::from_secs(10), |s| {
        s.lines()
            .last()
            .is_some_and(|l| l.contains("auditor in prod-eu1/catalog-prod"))
    });
    for key in ["=", "R", "A"] {
        a.keys(&[key]);
        a.wait_for("a refusal", Duration::from_secs(5), |s| {
            s.contains("you are auditor in prod-eu1/catalog-prod:")
        });
    }
    assert!(!w.can("auditor", "prod-eu1/catalog-prod", "patch", "deployments"));
    assert!(w.can("auditor", "prod-eu1/catalog-prod", "get", "deployments"));
    quit(&a);
    // Nothing the auditor or dana was refused reached the journal of their stores.
    for user in ["auditor", "dana"] {
        let h = w.kdeck(user, &["history", "-o", "json"]);
        let entries: Vec<serde_json::Value> = serde_json::from_str(&h).unwrap();
        assert!(
            entries
                .iter()
                .all(|e| e["target"].as_str() != Some("app prod-eu1/shop-prod/web")),
            "{user}: {h}"
        );
    }
}
