//! Forms of a space: its quota and default requests, and one key of a
//! ConfigMap or Secret.
use std::collections::BTreeMap;

use kdeck_command::config::{ConfigChange, Hidden, Store};
use kdeck_command::quota::QuotaSpec;
use kdeck_model::SpaceRef;

use super::{Field, Form, FormKind};

/// The quota form's fields: (label, the quota or default it sets, help).
const QUOTA_FIELDS: &[(&str, &str, &str)] = &[
    ("cpu", "requests.cpu", "CPU all pods may request (2, 1500m)"),
    ("memory", "requests.memory", "memory all pods may request (4Gi)"),
    ("pods", "pods", "pods the space may run"),
    ("storage", "requests.storage", "storage all claims may request (100Gi)"),
    ("default cpu", "cpu", "CPU request of containers that set none"),
    ("default memory", "memory", "memory request of containers that set none"),
];

impl Form {
    /// The quota of a space, starting from what bounds it now (`hard` by
    /// quota resource, `defaults` by resource).
    pub fn quota(space: SpaceRef, hard: &BTreeMap<String, String>, defaults: &BTreeMap<String, String>) -> Form {
        let fields = QUOTA_FIELDS
            .iter()
            .map(|(label, key, help)| {
                let now = if label.starts_with("default") {
                    defaults.get(*key)
                } else {
                    hard.get(*key)
                };
                Field::new(label, help, now.map(String::as_str).unwrap_or(""))
            })
            .collect();
        Form::make(format!("quota of {space}"), FormKind::Quota(space), fields)
    }

    /// Set a key of a ConfigMap or Secret in a space.
    pub fn config_key(space: SpaceRef, store: Store, object: &str, key: &str) -> Form {
        let mut kind = Field::new("store", "config (a ConfigMap) or secret", store_word(store));
        kind.choices = vec!["config".into(), "secret".into()];
        let value = if store == Store::Secret {
            Field::secret("value", "the value (typed hidden)")
        } else {
            Field::new("value", "the value", "")
        };
        Form::make(
            format!("set a key in {space}"),
            FormKind::ConfigKey(space),
            vec![
                kind,
                Field::new("object", "the ConfigMap's or Secret's name (made when missing)", object),
                Field::new("key", "letters, digits, '-', '_' or '.'", key),
                value,
            ],
        )
    }

    pub(super) fn quota_spec(&self, space: &SpaceRef) -> QuotaSpec {
        let v = |l: &str| Some(self.get(l)).filter(|s| !s.is_empty());
        QuotaSpec {
            space: space.to_string(),
            cpu: v("cpu"),
            memory: v("memory"),
            pods: v("pods").and_then(|p| p.parse().ok()),
            storage: v("storage"),
            default_cpu: v("default cpu"),
            default_memory: v("default memory"),
            ..Default::default()
        }
    }

    pub(super) fn config_change(&self, space: &SpaceRef) -> ConfigChange {
        let store = if self.get("store") == "secret" {
            Store::Secret
        } else {
            Store::Config
        };
        let (key, value) = (
            self.get("key"),
            self.fields
                .iter()
                .find(|f| f.label == "value")
                .map(|f| f.text())
                .unwrap_or_default(),
        );
        let mut c = ConfigChange {
            target: format!("{space}/{}", self.get("object")),
            store,
            set: BTreeMap::new(),
            set_secret: BTreeMap::new(),
            unset: Vec::new(),
        };
        match store {
            Store::Config => {
                c.set.insert(key, value);
            }
            Store::Secret => {
                c.set_secret.insert(key, Hidden(Some(value)));
            }
        }
        c
    }

    /// What the quota and config fields say is wrong with them.
    pub(super) fn space_check(&self, label: &str, val: &str) -> Option<String> {
        use kdeck_model::validate::{QuantityKind, quantity};
        let q = |k: QuantityKind| {
            if val.is_empty() {
                None
            } else {
                quantity(label, val, k).err().map(|e| e.problem)
            }
        };
        match (&self.kind, label) {
            (FormKind::Quota(_), "cpu" | "default cpu") => q(QuantityKind::Cpu),
            (FormKind::Quota(_), "memory" | "default memory") => q(QuantityKind::Memory),
            (FormKind::Quota(_), "storage") => q(QuantityKind::Storage),
            (FormKind::Quota(_), "pods") if val.is_empty() => None,
            (FormKind::Quota(_), "pods") => val
                .parse::<u32>()
                .err()
                .map(|_| format!("{val:?} is not a whole number")),
            (FormKind::ConfigKey(_), "store") => {
                (!matches!(val, "config" | "secret")).then(|| "config or secret".into())
            }
            (FormKind::ConfigKey(_), "object") => super::check(kdeck_model::validate::dns_subdomain("object", val)),
            (FormKind::ConfigKey(_), "key") => super::check(kdeck_model::app::config_key("key", val)),
            _ => None,
        }
    }
}

fn store_word(s: Store) -> &'static str {
    match s {
        Store::Config => "config",
        Store::Secret => "secret",
    }
}
