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
