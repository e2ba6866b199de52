//! Charts rendered by Helm itself: kdeck runs `helm template` with the
//! values on its standard input and reads the objects back. The tests' helm
//! (`tests/helm/helm`) is Helm's own Go SDK from the PyPI package
//! helm-python-sdk, which `.ci/run` installs; a real helm binary takes its
//! place through KDECK_HELM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::charts::{helm, write_chart};

#[tokio::test]
async fn helm_renders_a_chart_with_the_users_values_in_its_own_order() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(dir.path());
    let r = helm()
        .template(
            "shop",
            &chart,
            "shop-prod",
            &serde_json::json!({"replicas": 3, "greeting": "hi"}),
            &["image=nginx:1.28".to_string()],
        )
        .await
        .unwrap();
    let kinds: Vec<&str> = r.objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    // Helm's install order, not the file's.
    assert_eq!(kinds, ["ConfigMap", "Service", "Deployment"]);
    assert_eq!(r.objects[2]["spec"]["replicas"], 3);
    assert_eq!(
        r.objects[2]["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
    assert_eq!(r.objects[0]["data"]["GREETING"], "hi");
    assert_eq!(r.objects[0]["metadata"]["namespace"], "shop-prod");
    assert!(
        r.manifest.contains("# Source: web/templates/all.yaml"),
        "{}",
        r.manifest
    );
    assert!(!r.manifest.contains("is installed"), "NOTES are not objects");
}

#[tokio::test]
async fn helms_own_message_says_why_a_chart_does_not_render() {
    let dir = tempfile::tempdir().unwrap();
    let chart = write_chart(dir.path());
    let e = helm()
        .template("shop", &chart, "default", &serde_json::json!({"image": null}), &[])
        .await
        .unwrap_err();
    assert!(e.reason.starts_with("helm template shop: "), "{}", e.reason);
    assert!(e.reason.contains("image is required"), "{}", e.reason);
    let e = helm()
        .template(
            "shop",
            &dir.path().join("nothing"),
            "default",
            &serde_json::json!({}),
            &[],
        )
        .await
        .unwrap_err();
    assert!(e.reason.contains("nothing"), "{}", e.reason);
}
