//! Helm releases read across the fleet from the Secrets Helm keeps them in:
//! the newest revision of each, its chart and app version, and how many of
//! its workloads' pods are ready; uninstalled ones with `--all`; clusters
//! chosen by label; a Secret that does not decode is passed over.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use base64::Engine;
use common::Setup;
use common::charts::{helm, write_chart};
use kdeck_command::releases::{ChartMeta, ChartRecord, HelmRelease, Info, encode};

fn release(name: &str, ns: &str, version: u32, status: &str, manifest: &str) -> HelmRelease {
    HelmRelease {
        name: name.into(),
        namespace: ns.into(),
        version,
        info: Info {
            status: status.into(),
            last_deployed: Some("2026-12-01T10:00:00Z".into()),
            ..Default::default()
        },
        chart: Some(ChartRecord {
            metadata: ChartMeta {
                name: "web".into(),
                version: "1.0.0".into(),
                app_version: Some("1.27".into()),
            },
            values: None,
        }),
        config: Some(serde_json::json!({"replicas": 2})),
        manifest: manifest.into(),
    }
}

/// The Secret Helm writes for a release revision.
fn secret(r: &HelmRelease) -> serde_json::Value {
    let record = encode(r).unwrap();
    serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": format!("sh.helm.release.v1.{}.v{}", r.name, r.version), "namespace": r.namespace,
                     "labels": {"name": r.name, "owner": "helm", "status": r.info.status, "version": r.version.to_string()}},
        "data": {"release": base64::engine::general_purpose::STANDARD.encode(record)}})
}

fn apply(s: &Setup, ctx: &str, objects: &[serde_json::Value]) {
    let path = s.dir.path().join(format!("apply-{ctx}-{}.json", objects.len()));
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
    std::fs::write(&path, list.to_string()).unwrap();
    let out = s.kubectl(ctx, &["apply", "-f", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn releases_are_read_from_helms_secrets_with_their_workloads_status() {
    let s = Setup::new();
    s.ok(&["clusters", "label", "stage-eu1", "tier=stage"]);
    // A chart rendered by Helm; its objects applied in stage-eu1/shop-prod, as helm would.
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(dir.path());
    let r =
        s.rt.block_on(helm().template("shop", &chart, "shop-prod", &serde_json::json!({"replicas": 2}), &[]))
            .unwrap();
    let mut objects: Vec<serde_json::Value> = r
        .objects
        .iter()
        .cloned()
        .map(|mut o| {
            o["metadata"]["namespace"] = serde_json::json!("shop-prod");
            o
        })
        .collect();
    objects.push(secret(&release("shop", "shop-prod", 1, "superseded", &r.manifest)));
    objects.push(secret(&release("shop", "shop-prod", 2, "deployed", &r.manifest)));
    objects.push(secret(&release("old", "shop-prod", 3, "uninstalled", "")));
    // A Secret labelled as Helm's that is not a release record.
    objects.push(
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.junk.v1", "namespace": "shop-prod", "labels": {"owner": "helm"}},
        "data": {"release": base64::engine::general_purpose::STANDARD.encode("not a release")}}),
    );
    apply(&s, "stage-eu1", &objects);
    {
        let rows = |args: &[&str]| -> serde_json::Value {
            let mut a = vec!["releases", "list", "-o", "json"];
            a.extend_from_slice(args);
            serde_json::from_str(&s.ok(&a)).unwrap()
        };
        s.until("shop's pods ready", Duration::from_secs(15), || {
            let v = rows(&[]);
            v.as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "shop" && r["ready"] == "2/2")
        });
        let v = rows(&[]);
        let all = v.as_array().unwrap();
        assert_eq!(all.len(), 1, "the newest revision only, no uninstalled, no junk: {v}");
        let shop = &all[0];
        assert_eq!(
            (
                shop["cluster"].as_str(),
                shop["namespace"].as_str(),
                shop["chart"].as_str(),
                shop["version"].as_str()
            ),
            (Some("stage-eu1"), Some("shop-prod"), Some("web"), Some("1.0.0"))
        );
        assert_eq!(
            (
                shop["app_version"].as_str(),
                shop["revision"].as_u64(),
                shop["status"].as_str()
            ),
            (Some("1.27"), Some(2), Some("deployed"))
        );
        let v = rows(&["--all"]);
        assert!(
            v.as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == "old" && r["status"] == "uninstalled"),
            "{v}"
        );
        // Chosen by label: prod-eu1 has none.
        assert!(rows(&["--clusters", "tier!=stage"]).as_array().unwrap().is_empty());
        let table = s.ok(&["releases", "list"]);
        assert!(
            table.contains("shop") && table.contains("deployed") && table.contains("2/2"),
            "{table}"
        );
    }
}
