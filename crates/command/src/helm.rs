//! Charts are rendered by Helm itself: `helm template` (the `helm` on PATH,
//! or `KDECK_HELM`), with the user's values on its standard input, never by
//! a template engine of kdeck's. What it prints is read back as objects.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{Failure, FailureKind, invalid};

/// How long one `helm template` may take.
const WITHIN: Duration = Duration::from_secs(60);

/// What a chart rendered to: its objects in Helm's order, and the manifest
/// as Helm printed it (what a release records).
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub objects: Vec<Value>,
    pub manifest: String,
}

/// A helm binary to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helm(pub PathBuf);

impl Helm {
    /// The helm of this machine: `KDECK_HELM`, else `helm` on PATH.
    pub fn find() -> Result<Helm, Failure> {
        binary().map(Helm)
    }
}

/// The helm to run: `KDECK_HELM`, else `helm` on PATH; or how to get one.
fn binary() -> Result<PathBuf, Failure> {
    if let Some(p) = std::env::var_os("KDECK_HELM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(Failure::new(
                FailureKind::Usage,
                format!(
                    "KDECK_HELM={}: no such file; point it at a helm binary, or unset it to use the one on PATH",
                    p.display()
                ),
            ));
        }
        return Ok(p);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|d| d.join("helm"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Failure::new(
                FailureKind::Usage,
                "kdeck renders charts with Helm itself, and there is no helm here: install it (https://helm.sh/docs/intro/install/) or set KDECK_HELM to its path",
            )
        })
}

impl Helm {
    /// `helm template NAME CHART --namespace NS -f -` with `values` (JSON is
    /// YAML) and `--set` pairs; Helm's own message when it refuses.
    pub async fn template(
        &self,
        name: &str,
        chart: &Path,
        namespace: &str,
        values: &Value,
        sets: &[String],
    ) -> Result<Rendered, Failure> {
        let helm = &self.0;
        let mut cmd = tokio::process::Command::new(helm);
        cmd.arg("template")
            .arg(name)
            .arg(chart)
            .args(["--namespace", namespace, "--values", "-"]);
        for s in sets {
            cmd.args(["--set", s]);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| invalid(format!("cannot run {}: {}", helm.display(), kdeck_model::plain_io(&e))))?;
        if let Some(mut stdin) = child.stdin.take() {
            let text = serde_json::to_string(values).unwrap_or_else(|_| "{}".into());
            stdin
                .write_all(text.as_bytes())
                .await
                .map_err(|e| invalid(format!("helm template: {}", kdeck_model::plain_io(&e))))?;
        }
        let out = tokio::time::timeout(WITHIN, child.wait_with_output())
            .await
            .map_err(|_| invalid(format!("helm template {name}: no answer within {} s", WITHIN.as_secs())))?
            .map_err(|e| invalid(format!("helm template {name}: {}", kdeck_model::plain_io(&e))))?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            // Helm's message, all of it (a schema's findings follow its first line).
            let lines: Vec<&str> = said
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| l.trim_start_matches("Error: "))
                .take(20)
                .collect();
            let text = if lines.is_empty() {
                "it failed and said nothing".to_string()
            } else {
                lines.join(" ")
            };
            return Err(invalid(format!("helm template {name}: {text}")));
        }
        let manifest =
            String::from_utf8(out.stdout).map_err(|_| invalid("helm template printed something that is not text"))?;
        Ok(Rendered {
            objects: parse_manifest(&manifest)?,
            manifest,
        })
    }
}

/// The objects of a multi-document manifest; empty documents (comments
/// only) are skipped.
pub fn parse_manifest(text: &str) -> Result<Vec<Value>, Failure> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| {
        invalid(format!(
            "helm's output does not read: {}",
            crate::files::yaml_problem(&e)
        ))
    })?;
    Ok(docs.into_iter().filter(|d| d.is_object()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_as_helm_prints_it() {
        let text = "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# Source: web/templates/empty.yaml\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n";
        let objs = parse_manifest(text).unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1]["kind"], "Service");
    }
}
