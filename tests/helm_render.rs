//! Charts rendered by Helm itself: kdeck runs `helm template` with the
//! values on its standard input and reads the objects back. The tests' helm
//! (`tests/helm/helm`) is Helm's own Go SDK from the PyPI package
//! helm-python-sdk, which `.ci/run` installs; a real helm binary takes its
//! place through KDECK_HELM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use kdeck_command::helm::Helm;

fn helm() -> Helm {
    Helm(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/helm/helm"))
}

/// A chart of the tests' own: a Deployment, a Service and a ConfigMap from values.
pub fn write_chart(dir: &Path) -> PathBuf {
    let c = dir.join("web");
    std::fs::create_dir_all(c.join("templates")).unwrap();
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: \"1.27\"\n",
    )
    .unwrap();
    std::fs::write(
        c.join("values.yaml"),
        "replicas: 1\nimage: nginx:1.27\ngreeting: hello\n",
    )
    .unwrap();
    std::fs::write(
        c.join("templates/all.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: {{ .Release.Name }}}}\n  template:\n    metadata: {labels: {app: {{ .Release.Name }}}}\n    spec:\n      containers:\n      - name: web\n        image: {{ required \"image is required\" .Values.image }}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  selector: {app: {{ .Release.Name }}}\n  ports: [{port: 80}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n  namespace: {{ .Release.Namespace }}\ndata:\n  GREETING: {{ .Values.greeting | quote }}\n",
    )
    .unwrap();
    std::fs::write(c.join("templates/NOTES.txt"), "{{ .Release.Name }} is installed.\n").unwrap();
    c
}

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
