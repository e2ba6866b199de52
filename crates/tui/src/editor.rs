//! Editing an object's YAML in the user's `$EDITOR`, as `kubectl edit` does:
//! the object (status and managedFields left out) in a temp file under a
//! comment header; on save, the difference becomes a merge patch. A file that
//! does not read, or an edit the server refuses, comes back in the editor
//! with the reason at the top and the user's text as they left it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::EditError;

use serde_json::Value;

use kdeck_model::merge::merge_patch_between;

/// The object as it is offered for editing: no status, no server bookkeeping
/// the user cannot change.
pub fn editable(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    v
}

/// The file's text: a header (with the last error, when there is one), then the body.
pub fn document(what: &str, error: Option<&str>, body: &str) -> String {
    let mut out = format!(
        "# Editing {what}. Lines starting with '#' are ignored.\n\
         # Save and quit to apply the change; quit without saving, or empty the file, to cancel.\n"
    );
    if let Some(e) = error {
        out.push_str("#\n# The edit was not applied:\n");
        for l in e.lines() {
            out.push_str(&format!("#   {l}\n"));
        }
        out.push_str("# Fix it and save again, or empty the file to give up.\n");
    }
    out.push_str("#\n");
    out.push_str(body);
    if !body.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The body of a saved file: without the comment lines kdeck wrote.
pub fn body(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the user's save asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// An empty file, or no change.
    Cancelled(&'static str),
    /// The patch from the original to the edited object.
    Patch(Value),
}

/// Reads the saved body against the original object. The patch carries the
/// original's resourceVersion, so a stale edit is refused by the server.
pub fn outcome(original: &Value, body: &str) -> Result<Outcome, EditError> {
    if body.trim().is_empty() {
        return Ok(Outcome::Cancelled("the file was emptied: nothing applied"));
    }
    let edited: Value = serde_saphyr::from_str(body).map_err(|e| EditError::NotYaml(e.to_string()))?;
    if !edited.is_object() {
        return Err(EditError::NotAnObject);
    }
    for (field, what) in [("kind", "kind"), ("apiVersion", "apiVersion")] {
        if edited.get(field) != original.get(field) {
            return Err(EditError::Fixed(what.to_string()));
        }
    }
    for field in ["name", "namespace"] {
        if edited["metadata"].get(field) != original["metadata"].get(field) {
            return Err(EditError::Fixed(format!("metadata.{field}")));
        }
    }
    let mut patch = merge_patch_between(original, &edited);
    if patch.as_object().is_some_and(serde_json::Map::is_empty) {
        return Ok(Outcome::Cancelled("no change: nothing applied"));
    }
    if let Some(rv) = original["metadata"].get("resourceVersion") {
        patch["metadata"]["resourceVersion"] = rv.clone();
    }
    Ok(Outcome::Patch(patch))
}

/// A private temp file for the edit (removed when dropped).
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn create(text: &str) -> std::io::Result<TempFile> {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = std::env::temp_dir();
        for n in 0..100u32 {
            let path = dir.join(format!("kdeck-edit-{}-{n}.yaml", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(text.as_bytes())?;
                    return Ok(TempFile(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("no free temp file name"))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, text: &str) -> std::io::Result<()> {
        std::fs::write(&self.0, text)
    }

    pub fn read(&self) -> std::io::Result<String> {
        std::fs::read_to_string(&self.0)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The user's editor: `$VISUAL`, `$EDITOR`, else `vi`. It may carry
/// arguments (`code --wait`), so it runs through the shell as git does.
pub fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

/// Runs the editor on the file, with the terminal as it is, and waits.
pub async fn run(editor: &str, file: &Path) -> Result<(), EditError> {
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(editor)
        .arg(file)
        .status()
        .await
        .map_err(|e| EditError::Start {
            editor: editor.to_string(),
            reason: e.to_string(),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(EditError::Failed {
            editor: editor.to_string(),
            status: status.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deploy() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "42", "managedFields": [{}]},
               "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "a:1"}]}}},
               "status": {"readyReplicas": 1}})
    }

    #[test]
    fn an_edit_becomes_a_merge_patch_with_the_version_it_started_from() {
        let original = editable(deploy());
        assert!(original.get("status").is_none() && original["metadata"].get("managedFields").is_none());
        let yaml = serde_saphyr::to_string(&original).unwrap();
        let doc = document("deployment prod/shop/web", None, &yaml);
        let edited = doc.replace("replicas: 1", "replicas: 3");
        let Outcome::Patch(p) = outcome(&original, &body(&edited)).unwrap() else {
            panic!("expected a patch");
        };
        assert_eq!(
            p,
            json!({"spec": {"replicas": 3}, "metadata": {"resourceVersion": "42"}})
        );
        assert_eq!(
            outcome(&original, &body(&doc)).unwrap(),
            Outcome::Cancelled("no change: nothing applied")
        );
        assert!(matches!(outcome(&original, "  \n"), Ok(Outcome::Cancelled(_))));
    }

    #[test]
    fn bad_edits_say_why_and_the_reopened_file_keeps_the_text() {
        let original = editable(deploy());
        let e = outcome(&original, "spec: [unclosed").unwrap_err().to_string();
        assert!(e.starts_with("the file is not YAML"), "{e}");
        let yaml = serde_saphyr::to_string(&original).unwrap();
        let renamed = yaml.replace("name: web\n  namespace", "name: web2\n  namespace");
        assert!(
            outcome(&original, &renamed)
                .unwrap_err()
                .to_string()
                .contains("metadata.name cannot be changed")
        );
        let doc = document(
            "deployment x",
            Some("Deployment.apps \"web\" is invalid\nsecond line"),
            "spec: {}\n",
        );
        assert!(doc.contains("#   Deployment.apps \"web\" is invalid\n#   second line\n"));
        assert_eq!(body(&doc), "spec: {}");
    }
}
