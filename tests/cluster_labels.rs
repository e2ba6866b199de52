//! Clusters chosen by label: `clusters label` sets and removes them,
//! `clusters list` shows them, and `--clusters SELECTOR` (Kubernetes' own
//! selector syntax) picks the clusters of `clusters list`, `apps list`,
//! `spaces list`, `whoami` and `roles grant`, said on stderr before
//! anything is done. A selector that does not read, or matches nothing,
//! stops with one line and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Setup;
use kdeck_sim::{FleetSize, SimOptions};

fn setup() -> Setup {
    let s = Setup::with(SimOptions {
        clusters: 3,
        fleet: FleetSize::Small,
        ..Default::default()
    });
    s.ok(&["clusters", "label", "prod-eu1", "tier=prod", "region=eu"]);
    s.ok(&["clusters", "label", "stage-eu1", "tier=stage", "region=eu"]);
    s.ok(&["clusters", "label", "dev-eu1", "tier=dev", "region=us", "gpu=yes"]);
    s
}

fn names(json: &str, field: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn clusters_are_labelled_and_chosen_by_selector() {
    let s = setup();
    let listed: serde_json::Value = serde_json::from_str(&s.ok(&["clusters", "list", "-o", "json"])).unwrap();
    let prod = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "prod-eu1")
        .unwrap();
    assert_eq!(prod["labels"], serde_json::json!({"tier": "prod", "region": "eu"}));
    assert!(s.ok(&["clusters", "list"]).contains("region=eu,tier=prod"));
    // Set-based requirements, as kubectl writes them; the choice is said first.
    let out = s.kdeck(&[
        "clusters",
        "list",
        "--clusters",
        "tier in (prod,stage),!gpu",
        "-o",
        "json",
    ]);
    assert!(out.status.success());
    assert_eq!(
        names(&String::from_utf8_lossy(&out.stdout), "name"),
        ["prod-eu1", "stage-eu1"]
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("2 cluster(s) match \"tier in (prod,stage),!gpu\": prod-eu1, stage-eu1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The live lists of the chosen clusters only.
    let apps = s.ok(&["apps", "list", "--clusters", "tier=stage", "-o", "json"]);
    let spaces: Vec<String> = names(&apps, "space")
        .iter()
        .map(|sp| sp.split('/').next().unwrap().to_string())
        .collect();
    assert!(
        !spaces.is_empty() && spaces.iter().all(|c| c == "stage-eu1"),
        "{spaces:?}"
    );
    let ns = s.ok(&["spaces", "list", "--clusters", "region=us", "-o", "json"]);
    assert!(names(&ns, "space").iter().all(|sp| sp.starts_with("dev-eu1/")), "{ns}");
    let who = s.ok(&["whoami", "--clusters", "region notin (us)", "-o", "json"]);
    assert_eq!(names(&who, "cluster"), ["prod-eu1", "stage-eu1"]);
    // A role on every shop space of the eu clusters, by pattern and cluster selector.
    let out = s.kdeck(&[
        "roles",
        "grant",
        "*/shop-prod",
        "user:dana",
        "developer",
        "--clusters",
        "region=eu,tier!=prod",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("granting on 1 spaces: stage-eu1/shop-prod"), "{err}");
    // A label removed; refreshing credentials keeps the rest.
    s.ok(&["clusters", "label", "dev-eu1", "gpu-"]);
    let kc = s.dir.path().join("kubeconfig");
    s.ok(&["clusters", "import", kc.to_str().unwrap(), "--update"]);
    let listed: serde_json::Value = serde_json::from_str(&s.ok(&["clusters", "list", "-o", "json"])).unwrap();
    let dev = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "dev-eu1")
        .unwrap();
    assert_eq!(dev["labels"], serde_json::json!({"tier": "dev", "region": "us"}));
    let history = s.ok(&["history", "--command", "clusters label"]);
    assert!(history.contains("cluster dev-eu1"), "{history}");
}

#[test]
fn a_selector_that_does_not_read_or_matches_nothing_changes_nothing() {
    let s = setup();
    s.fails(
        &["apps", "list", "--clusters", "tier in prod"],
        2,
        "expected a list in parentheses",
    );
    s.fails(
        &["clusters", "list", "--clusters", "tier=prod,,x=y"],
        2,
        "an empty requirement",
    );
    s.fails(
        &["roles", "grant", "*/shop-prod", "user:dana", "developer", "--clusters", "tier=qa"],
        2,
        "no cluster matches --clusters \"tier=qa\" (labels in use: gpu=yes, region=eu, region=us, tier=dev, tier=prod, tier=stage)",
    );
    let history = s.ok(&["history", "--command", "roles grant"]);
    assert!(!history.contains("dana"), "nothing was granted: {history}");
    s.fails(
        &["clusters", "label", "prod-eu1", "nothere-"],
        1,
        "cluster prod-eu1 has no label nothere (its labels: region=eu,tier=prod)",
    );
    s.fails(&["clusters", "label", "prod-eu1", "tier=pr od"], 1, "label value");
    s.fails(
        &["clusters", "label", "prod-eu1", "justakey"],
        2,
        "is neither KEY=VALUE nor KEY-",
    );
}
