//! The edit form of a stored app: image, env, connectors and YAML overrides;
//! the command carries only what changed.

use super::{Field, Form, FormKind};

impl Form {
    /// The stored settings of an app, to change: the command carries what changed.
    pub fn edit_app(app: &kdeck_model::App) -> Form {
        use kdeck_model::EnvSource;
        let env: Vec<String> = app
            .env
            .iter()
            .filter_map(|e| match &e.source {
                EnvSource::Value(v) => Some(format!("{}={v}", e.name)),
                _ => None,
            })
            .collect();
        let env_from = env_from_lines(app);
        let connectors: Vec<String> = app.connectors.iter().map(kdeck_command::apps::connector_spec).collect();
        let overrides = app
            .overrides
            .as_ref()
            .and_then(|o| serde_saphyr::to_string(o).ok())
            .unwrap_or_default();
        Form::make(
            format!("edit {}", app.app),
            FormKind::EditApp(Box::new(app.clone())),
            vec![
                Field::new("image", "e.g. ghcr.io/acme/web:1.1", &app.image),
                Field::lines("env", "NAME=VALUE per line; ctrl-s saves", &env.join("\n"), 3),
                Field::lines(
                    "env from",
                    "NAME=configmap:CONFIGMAP/KEY or NAME=secret:SECRET/KEY per line",
                    &env_from.join("\n"),
                    2,
                ),
                Field::lines(
                    "connectors",
                    "NAME:key=value,key=secret:SECRET/KEY per line",
                    &connectors.join("\n"),
                    2,
                ),
                Field::lines(
                    "overrides",
                    "YAML laid over the workload, e.g. spec: {template: {spec: {nodeSelector: {disk: ssd}}}}",
                    &overrides,
                    6,
                ),
            ],
        )
    }

    /// What the edit form changed, against the settings it opened with.
    pub(super) fn app_edit(&self, old: &kdeck_model::App) -> kdeck_command::apps::AppEdit {
        use kdeck_model::EnvSource;
        let lines = |label: &str| -> Vec<String> {
            self.get(label)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let env = lines("env");
        let was: Vec<(String, String)> = old
            .env
            .iter()
            .filter_map(|e| match &e.source {
                EnvSource::Value(v) => Some((e.name.clone(), v.clone())),
                _ => None,
            })
            .collect();
        let set_env = env
            .iter()
            .filter(|l| {
                l.split_once('=')
                    .is_none_or(|(k, v)| !was.iter().any(|(wk, wv)| wk == k && wv == v))
            })
            .cloned()
            .collect();
        let from = lines("env from");
        let was_from = env_from_lines(old);
        let named = |ls: &[String], k: &str| ls.iter().any(|l| l.split_once('=').is_some_and(|(lk, _)| lk == k));
        let mut unset_env: Vec<String> = was
            .iter()
            .filter(|(k, _)| !named(&env, k) && !named(&from, k))
            .map(|(k, _)| k.clone())
            .collect();
        // A reference taken out (and not set as a value instead) goes too.
        for l in &was_from {
            if let Some((k, _)) = l.split_once('=')
                && !named(&env, k)
                && !named(&from, k)
            {
                unset_env.push(k.to_string());
            }
        }
        let env_from = from.iter().filter(|l| !was_from.contains(l)).cloned().collect();
        let conns = lines("connectors");
        let old_specs: Vec<String> = old.connectors.iter().map(kdeck_command::apps::connector_spec).collect();
        let connectors = conns.iter().filter(|c| !old_specs.contains(c)).cloned().collect();
        let remove_connectors = old
            .connectors
            .iter()
            .filter(|c| {
                !conns
                    .iter()
                    .any(|l| l.split_once(':').is_some_and(|(n, _)| n == c.name))
            })
            .map(|c| c.name.clone())
            .collect();
        let overrides_text = self
            .fields
            .iter()
            .find(|f| f.label == "overrides")
            .map(Field::text)
            .unwrap_or_default();
        let new_overrides = kdeck_command::apps::parse_overrides(&overrides_text).ok().flatten();
        let image = self.get("image");
        kdeck_command::apps::AppEdit {
            app: old.app.to_string(),
            image: (image != old.image).then_some(image),
            set_env,
            unset_env,
            connectors,
            remove_connectors,
            overrides: (new_overrides != old.overrides).then_some(overrides_text),
            env_from,
            ..Default::default()
        }
    }
}

/// An app's env read from ConfigMap and Secret keys, as `apps edit --env-from` spells it.
fn env_from_lines(app: &kdeck_model::App) -> Vec<String> {
    use kdeck_model::EnvSource;
    app.env
        .iter()
        .filter_map(|e| match &e.source {
            EnvSource::ConfigMapKey { name, key, .. } => Some(format!("{}=configmap:{name}/{key}", e.name)),
            EnvSource::SecretKey { name, key, .. } => Some(format!("{}=secret:{name}/{key}", e.name)),
            EnvSource::Value(_) => None,
        })
        .collect()
}
