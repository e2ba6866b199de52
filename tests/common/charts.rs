//! A chart of the tests' own, and the tests' helm (`tests/helm/helm`:
//! Helm's Go SDK from the PyPI package helm-python-sdk).

use std::path::{Path, PathBuf};

use kdeck_command::helm::Helm;

/// The tests' helm, as KDECK_HELM would name it.
pub fn helm() -> Helm {
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
    std::fs::write(
        c.join("values.schema.json"),
        r#"{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 0}}}"#,
    )
    .unwrap();
    c
}

/// A chart directory packaged as Helm packages it (`NAME-VERSION.tgz`, the
/// directory at the archive's top), with its sha256 as an index lists it.
pub fn package(chart: &Path, name: &str, version: &str) -> (Vec<u8>, String) {
    let out = chart.parent().unwrap().join(format!("{name}-{version}.tgz"));
    let status = std::process::Command::new("tar")
        .arg("czf")
        .arg(&out)
        .arg("-C")
        .arg(chart.parent().unwrap())
        .arg(chart.file_name().unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "tar czf {}", out.display());
    let bytes = std::fs::read(&out).unwrap();
    let sum = std::process::Command::new("sha256sum").arg(&out).output().unwrap();
    let digest = String::from_utf8(sum.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    (bytes, digest)
}

/// The tests' chart at another version: `web` 1.1.0 drops its ConfigMap
/// and labels its Deployment with the version.
pub fn write_chart_v2(dir: &Path) -> PathBuf {
    let c = write_chart(dir);
    std::fs::write(
        c.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 1.1.0\nappVersion: \"1.28\"\n",
    )
    .unwrap();
    let t = std::fs::read_to_string(c.join("templates/all.yaml")).unwrap();
    let without_cm = t
        .split("---\napiVersion: v1\nkind: ConfigMap")
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        c.join("templates/all.yaml"),
        without_cm.replace(
            "metadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas",
            "metadata:\n  name: {{ .Release.Name }}\n  labels: {chart-version: \"1.1.0\"}\nspec:\n  replicas",
        ),
    )
    .unwrap();
    c
}
