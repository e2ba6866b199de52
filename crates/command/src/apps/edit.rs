//! Editing an app's stored settings (applied by the next deploy).

use super::*;

/// Changes to an app's settings; each field left `None` (or empty) stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppEdit {
    pub app: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `NAME=VALUE` to set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_env: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset_env: Vec<String>,
    /// Connectors to add or replace (by name), as in `apps create`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connectors: Vec<String>,
    /// Connectors to remove, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_connectors: Vec<String>,
    /// YAML laid over the workload; an empty text drops the overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<String>,
    /// `NAME=configmap:CM/KEY` or `NAME=secret:SECRET/KEY`: env read from a key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<String>,
    /// `PATH=configmap:NAME` or `PATH=secret:NAME`: mounted as files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<String>,
    /// Claimed volumes to add, as in `apps create --volume`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Mount paths to take out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmount: Vec<String>,
    /// Requests and limits; an empty text clears one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
}

/// `NAME=configmap:CM/KEY` or `NAME=secret:SECRET/KEY`.
pub fn parse_env_from(spec: &str) -> Result<EnvEntry, Failure> {
    let bad = || {
        invalid(format!(
            "--env-from {spec:?}: give NAME=configmap:CONFIGMAP/KEY or NAME=secret:SECRET/KEY"
        ))
    };
    let (name, src) = spec.split_once('=').ok_or_else(bad)?;
    let (kind, rest) = src.split_once(':').ok_or_else(bad)?;
    let (obj, key) = rest.split_once('/').ok_or_else(bad)?;
    let (name, obj, key) = (name.to_string(), obj.to_string(), key.to_string());
    let source = match kind {
        "configmap" | "cm" => EnvSource::ConfigMapKey {
            name: obj,
            key,
            optional: false,
        },
        "secret" => EnvSource::SecretKey {
            name: obj,
            key,
            optional: false,
        },
        _ => return Err(bad()),
    };
    Ok(EnvEntry { name, source })
}

/// `PATH=configmap:NAME` or `PATH=secret:NAME`, as a read-only mount.
pub fn parse_mount(spec: &str) -> Result<Mount, Failure> {
    let bad = || {
        invalid(format!(
            "--mount {spec:?}: give PATH=configmap:NAME or PATH=secret:NAME"
        ))
    };
    let (path, src) = spec.split_once('=').ok_or_else(bad)?;
    let (kind, name) = src.split_once(':').ok_or_else(bad)?;
    let source = match kind {
        "configmap" | "cm" => MountSource::ConfigMap { name: name.to_string() },
        "secret" => MountSource::Secret { name: name.to_string() },
        _ => return Err(bad()),
    };
    // The volume's name: the object's, with a prefix saying which kind.
    let vol = format!("{}-{name}", if kind == "secret" { "secret" } else { "config" });
    Ok(Mount {
        name: vol
            .chars()
            .take(63)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string(),
        path: path.to_string(),
        read_only: true,
        source,
    })
}

/// Reads overrides as the user wrote them: YAML (or JSON), a mapping.
pub fn parse_overrides(text: &str) -> Result<Option<Value>, Failure> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let v: Value = serde_saphyr::from_str(text)
        .map_err(|e| invalid(format!("not YAML kdeck can read: {}", crate::files::yaml_problem(&e))))?;
    if v.is_null() {
        return Ok(None);
    }
    kdeck_model::app::check_overrides(&v).map_err(|e| invalid(e.to_string()))?;
    Ok(Some(v))
}

/// Edits the stored settings. When a connector changes, the apps bound to it
/// are marked as needing a restart, and the outcome names them.
pub(crate) fn edit(ex: &Executor, e: &AppEdit) -> Result<Applied, Failure> {
    let a = parse_app(&e.app)?;
    let mut settings = stored_app(ex, &a)?;
    if let Some(img) = &e.image {
        settings.image = img.clone();
    }
    for kv in &e.set_env {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(invalid(format!("--env {kv:?}: must be NAME=VALUE")));
        };
        settings.env.retain(|x| x.name != k);
        settings.env.push(EnvEntry {
            name: k.to_string(),
            source: EnvSource::Value(v.to_string()),
        });
    }
    for k in &e.unset_env {
        if !settings.env.iter().any(|x| x.name == *k) {
            return Err(invalid(format!("--unset-env {k}: {a} has no env var {k}")));
        }
        settings.env.retain(|x| x.name != *k);
    }
    let mut changed_connectors = Vec::new();
    for spec in &e.connectors {
        let c = parse_connector(spec)?;
        match settings.connectors.iter_mut().find(|x| x.name == c.name) {
            Some(old) if *old == c => {}
            Some(old) => {
                changed_connectors.push(c.name.clone());
                *old = c;
            }
            None => settings.connectors.push(c),
        }
    }
    for name in &e.remove_connectors {
        if !settings.connectors.iter().any(|c| c.name == *name) {
            return Err(invalid(format!(
                "--remove-connector {name}: {a} offers no connector {name}"
            )));
        }
        settings.connectors.retain(|c| c.name != *name);
        changed_connectors.push(name.clone());
    }
    if let Some(text) = &e.overrides {
        settings.overrides = parse_overrides(text)?;
    }
    for spec in &e.env_from {
        let entry = parse_env_from(spec)?;
        settings.env.retain(|x| x.name != entry.name);
        settings.env.push(entry);
    }
    for p in &e.unmount {
        if !settings.mounts.iter().any(|m| m.path == *p) {
            return Err(invalid(format!("--unmount {p}: {a} mounts nothing at {p}")));
        }
        settings.mounts.retain(|m| m.path != *p);
    }
    for spec in &e.mounts {
        settings.mounts.push(parse_mount(spec)?);
    }
    for spec in &e.volumes {
        settings.mounts.push(super::parse_volume(spec)?);
    }
    for (field, v) in [
        (&mut settings.resources.cpu_request, &e.cpu_request),
        (&mut settings.resources.memory_request, &e.memory_request),
        (&mut settings.resources.cpu_limit, &e.cpu_limit),
        (&mut settings.resources.memory_limit, &e.memory_limit),
    ] {
        if let Some(v) = v {
            *field = (!v.is_empty()).then(|| v.clone());
        }
    }
    settings.validate().map_err(|er| invalid(er.to_string()))?;
    derive::check_workload(&settings).map_err(|e| invalid(e.to_string()))?;
    let mut batch = Batch::new();
    batch.put(&settings)?;
    let mut items = vec![ItemOutcome::ok(
        a.to_string(),
        "settings changed; `kdeck apps deploy` applies them",
    )];
    for b in ex.store().list::<Binding>()? {
        if b.provider == a && changed_connectors.contains(&b.connector) {
            let mut st = state_of(ex, &b.consumer)?;
            st.needs_restart = true;
            batch.put(&st)?;
            items.push(ItemOutcome::ok(
                b.consumer.to_string(),
                format!(
                    "needs a restart: connector {} changed (`kdeck apps deploy {}` then `kdeck apps restart {}`)",
                    b.connector, b.consumer, b.consumer
                ),
            ));
        }
    }
    Ok(Applied { items, batch })
}
