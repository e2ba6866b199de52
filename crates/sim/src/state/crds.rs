//! CustomResourceDefinitions: a definition created on a cluster makes its
//! kind served there (discovery, the REST verbs, watches, printer columns),
//! answers with the Established and NamesAccepted conditions, and when
//! deleted takes its custom resources with it.

use super::*;
use crate::ptr::At;
use crate::resources::{PrinterColumn, Resource, leak};

fn crd_res() -> ResId {
    resources::ids::of("CustomResourceDefinition")
}

/// A version a definition serves.
fn served_version<'a>(d: &'a Value, version: &str) -> Option<&'a Value> {
    d.at("/spec/versions")?.as_array()?.iter().find(|v| {
        v.get("name").and_then(Value::as_str) == Some(version)
            && v.get("served").and_then(Value::as_bool) != Some(false)
    })
}

/// A definition's kind at one of its versions, registered on first sight.
fn kind_of(d: &Value, version: &str) -> Option<ResId> {
    let spec = d.get("spec")?;
    let group = spec.get("group")?.as_str()?;
    let names = spec.get("names")?;
    let plural = names.get("plural")?.as_str()?;
    let kind = names.get("kind")?.as_str()?;
    let v = served_version(d, version)?;
    let singular = names
        .get("singular")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_lowercase());
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let short: Vec<String> = names
        .get("shortNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    let subs: Vec<&str> = v
        .get("subresources")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter(|k| *k == "status" || *k == "scale")
                .map(String::as_str)
                .collect()
        })
        .unwrap_or_default();
    let columns = v.get("additionalPrinterColumns").cloned().unwrap_or(json!([]));
    let key = json!([group, version, plural, singular, kind, namespaced, short, subs, columns]).to_string();
    Some(resources::register(&key, || {
        let printer: Vec<PrinterColumn> = columns
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| PrinterColumn {
                name: leak(c.get("name").and_then(Value::as_str).unwrap_or("")),
                kind: leak(c.get("type").and_then(Value::as_str).unwrap_or("string")),
                priority: c.get("priority").and_then(Value::as_u64).unwrap_or(0).min(255) as u8,
                description: leak(c.get("description").and_then(Value::as_str).unwrap_or("")),
                json_path: leak(c.get("jsonPath").and_then(Value::as_str).unwrap_or("")),
            })
            .collect();
        Resource {
            group: leak(group),
            version: leak(version),
            plural: leak(plural),
            singular: leak(&singular),
            kind: leak(kind),
            namespaced,
            short_names: Box::leak(short.iter().map(|s| leak(s)).collect::<Vec<_>>().into_boxed_slice()),
            subresources: Box::leak(subs.iter().map(|s| leak(s)).collect::<Vec<_>>().into_boxed_slice()),
            printer: Box::leak(printer.into_boxed_slice()),
        }
    }))
}

fn established(d: &Value) -> bool {
    d.at("/metadata/deletionTimestamp").is_none()
}

impl State {
    /// The kind this cluster's definitions serve at `group/version/plural`.
    pub fn custom_resource(&self, group: &str, version: &str, plural: &str) -> Option<ResId> {
        kind_of(self.definition(group, plural)?, version)
    }

    /// The established definition of `plural.group` on this cluster.
    fn definition(&self, group: &str, plural: &str) -> Option<&Arc<Value>> {
        self.iter_kind(crd_res(), None).map(|(_, d)| d).find(|d| {
            established(d)
                && d.at("/spec/group").and_then(Value::as_str) == Some(group)
                && d.at("/spec/names/plural").and_then(Value::as_str) == Some(plural)
        })
    }

    /// The schema of a custom resource's kind at its version, from this cluster's definition.
    pub fn custom_schema(&self, res: &Resource) -> Option<Value> {
        if !resources::is_defined(res) {
            return None;
        }
        let d = self.definition(res.group, res.plural)?;
        served_version(d, res.version)?.at("/schema/openAPIV3Schema").cloned()
    }

    /// Every kind this cluster's definitions serve, for discovery.
    pub fn custom_resources(&self) -> Vec<ResId> {
        let mut out = Vec::new();
        for (_, d) in self.iter_kind(crd_res(), None).filter(|(_, d)| established(d)) {
            for v in d.at("/spec/versions").and_then(Value::as_array).into_iter().flatten() {
                if let Some(id) = v.get("name").and_then(Value::as_str).and_then(|name| kind_of(d, name)) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// The kinds a definition serves, to take their objects when it goes.
    pub(super) fn kinds_of_definition(&self, d: &Value) -> Vec<ResId> {
        d.at("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("name").and_then(Value::as_str).and_then(|name| kind_of(d, name)))
            .collect()
    }
}

/// A definition's status as the apiextensions server sets it at once:
/// names accepted, established, the storage version stored.
pub(super) fn definition_status(d: &mut Value) {
    let now = now_rfc3339();
    let mut accepted = d.at("/spec/names").cloned().unwrap_or(json!({}));
    let kind = accepted.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
    if accepted.get("singular").is_none() {
        accepted["singular"] = json!(kind.to_lowercase());
    }
    if accepted.get("listKind").is_none() {
        accepted["listKind"] = json!(format!("{kind}List"));
    }
    let stored: Vec<Value> = d
        .at("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").cloned())
        .collect();
    d["status"] = json!({
        "acceptedNames": accepted,
        "storedVersions": stored,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
        ],
    });
}

/// What the apiextensions server checks of a definition.
pub(super) fn check_definition(name: &str, d: &Value) -> Vec<(String, String)> {
    let mut causes = Vec::new();
    let group = d.at("/spec/group").and_then(Value::as_str).unwrap_or("");
    let plural = d.at("/spec/names/plural").and_then(Value::as_str).unwrap_or("");
    if group.is_empty() {
        causes.push(("spec.group".into(), "Required value".into()));
    } else if !group.contains('.') {
        causes.push((
            "spec.group".into(),
            format!("Invalid value: \"{group}\": should be a domain with at least one dot"),
        ));
    }
    if plural.is_empty() {
        causes.push(("spec.names.plural".into(), "Required value".into()));
    }
    if d.at("/spec/names/kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        causes.push(("spec.names.kind".into(), "Required value".into()));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        causes.push((
            "metadata.name".into(),
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    match d.at("/spec/scope").and_then(Value::as_str) {
        Some("Namespaced" | "Cluster") => {}
        Some(other) => causes.push((
            "spec.scope".into(),
            format!("Unsupported value: \"{other}\": supported values: \"Cluster\", \"Namespaced\""),
        )),
        None => causes.push(("spec.scope".into(), "Required value".into())),
    }
    let versions = d
        .at("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        causes.push((
            "spec.versions".into(),
            "Invalid value: null: must have exactly one version marked as storage version".into(),
        ));
    } else if versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count()
        != 1
    {
        causes.push((
            "spec.versions".into(),
            "Invalid value: []apiextensions.CustomResourceDefinitionVersion: must have exactly one version marked as storage version".into(),
        ));
    }
    causes
}
