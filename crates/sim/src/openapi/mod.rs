//! The OpenAPI v3 documents a real API server serves (`/openapi/v3` and
//! one document per group version), which `kubectl explain` reads: every
//! kind the simulator serves, with its fields' types from the protobuf
//! field table and the API's own descriptions (`docs.txt`, written by
//! `tools/openapi_docs.py`). Built once per process, on first use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::proto;
use crate::resources::{RESOURCES, Resource};

type Docs = HashMap<&'static str, (&'static str, HashMap<&'static str, &'static str>)>;

fn docs() -> &'static Docs {
    static DOCS: OnceLock<Docs> = OnceLock::new();
    DOCS.get_or_init(|| {
        let mut out: Docs = HashMap::new();
        let mut current: Option<&'static str> = None;
        for line in include_str!("docs.txt").lines() {
            if line.starts_with('#') {
                continue;
            }
            let (key, text) = line.split_once('\t').unwrap_or((line, ""));
            match key.strip_prefix(' ') {
                Some(field) => {
                    if let Some(m) = current.and_then(|c| out.get_mut(c)) {
                        m.1.insert(field, text);
                    }
                }
                None => {
                    current = Some(key);
                    out.insert(key, (text, HashMap::new()));
                }
            }
        }
        out
    })
}

/// `apps.v1.DeploymentSpec` as OpenAPI names it.
fn long_name(m: &str) -> String {
    for (short, long) in [
        ("meta.", "io.k8s.apimachinery.pkg.apis.meta.v1."),
        ("resource.", "io.k8s.apimachinery.pkg.api.resource."),
        ("intstr.", "io.k8s.apimachinery.pkg.util.intstr."),
        ("runtime.", "io.k8s.apimachinery.pkg.runtime."),
    ] {
        if let Some(rest) = m.strip_prefix(short) {
            return format!("{long}{rest}");
        }
    }
    format!("io.k8s.api.{m}")
}

/// Types whose JSON is a scalar, as the real documents give them.
fn special(m: &str) -> Option<Value> {
    Some(match m {
        "meta.Time" | "meta.MicroTime" => json!({"type": "string", "format": "date-time"}),
        "resource.Quantity" => json!({"oneOf": [{"type": "string"}, {"type": "number"}]}),
        "intstr.IntOrString" => json!({"type": "string", "format": "int-or-string"}),
        "runtime.RawExtension" | "meta.FieldsV1" => json!({"type": "object"}),
        "authentication.v1.ExtraValue" => json!({"type": "array", "items": {"type": "string", "default": ""}}),
        _ => return None,
    })
}

fn scalar(ty: &str) -> Option<Value> {
    Some(match ty {
        "string" => json!({"type": "string", "default": ""}),
        "bytes" => json!({"type": "string", "format": "byte"}),
        "bool" => json!({"type": "boolean", "default": false}),
        "int32" => json!({"type": "integer", "format": "int32", "default": 0}),
        "int64" => json!({"type": "integer", "format": "int64", "default": 0}),
        _ => return None,
    })
}

fn reference(m: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{}", long_name(m))})
}

/// A message's properties, embedded messages' fields folded in; the
/// messages it refers to are added to `todo`.
fn properties(m: &str, described_as: &str, todo: &mut Vec<String>, props: &mut Map<String, Value>) {
    let field_docs = docs().get(described_as).map(|d| &d.1);
    for proto::FieldInfo {
        name,
        ty,
        repeated,
        map,
        inline,
    } in proto::fields_of(m).unwrap_or_default()
    {
        if inline {
            properties(ty, described_as, todo, props);
            continue;
        }
        let item = match scalar(ty) {
            Some(s) => s,
            None => {
                todo.push(ty.to_string());
                reference(ty)
            }
        };
        let mut p = if map {
            json!({"type": "object", "additionalProperties": item})
        } else if repeated {
            json!({"type": "array", "items": item})
        } else if item.get("$ref").is_some() {
            json!({"allOf": [item], "default": {}})
        } else {
            item
        };
        if let Some(d) = field_docs.and_then(|f| f.get(name)) {
            p["description"] = json!(d);
        }
        props.insert(name.to_string(), p);
    }
}

fn schema_of(m: &str, kinds: &BTreeMap<String, &Resource>, todo: &mut Vec<String>) -> Value {
    let description = docs().get(m).map(|d| d.0).unwrap_or("");
    if let Some(mut s) = special(m) {
        s["description"] = json!(description);
        return s;
    }
    let mut props = Map::new();
    if kinds.contains_key(m) {
        type_fields(&mut props);
    }
    properties(m, m, todo, &mut props);
    let mut s = json!({"type": "object", "description": description, "properties": props});
    if let Some(r) = kinds.get(m) {
        s["x-kubernetes-group-version-kind"] = gvk(r);
    }
    s
}

/// The apiVersion and kind every top-level kind has.
fn type_fields(props: &mut Map<String, Value>) {
    props.insert("apiVersion".into(), json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"}));
    props.insert("kind".into(), json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}));
}

/// A kind's `x-kubernetes-group-version-kind`.
fn gvk(r: &Resource) -> Value {
    json!([{"group": r.group, "version": r.version, "kind": r.kind}])
}

/// The schemas of the messages in `todo` and every message they refer to.
fn schemas_from(mut todo: Vec<String>, kinds: &BTreeMap<String, &Resource>) -> Map<String, Value> {
    let mut schemas = Map::new();
    while let Some(m) = todo.pop() {
        let name = long_name(&m);
        if !schemas.contains_key(&name) {
            let s = schema_of(&m, kinds, &mut todo);
            schemas.insert(name, s);
        }
    }
    schemas
}

// Each kind's collection path, its GET naming the kind: how clients
// (kubectl explain) find a resource's schema.
/// A kind's collection and item paths, each operation naming the kind:
/// how clients (kubectl explain, its field validation check) find it.
fn kind_paths(r: &Resource) -> Map<String, Value> {
    let mut paths = Map::new();
    let base = format!("/{}", path_of(r.group, r.version));
    let path = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("{base}/{}", r.plural)
    };
    let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let writes = json!([
        {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true},
         "description": "When present, indicates that modifications should not be persisted."},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true},
         "description": "fieldManager is a name associated with the actor or entity that is making these changes."},
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true},
         "description": "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields: Ignore, Warn or Strict."},
    ]);
    let op = |action: &str, verb: &str, params: bool| {
        let mut o = json!({
            "description": format!("{action} {} objects of kind {}", verb, r.kind),
            "operationId": format!("{action}{}", r.kind),
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        });
        if params {
            o["parameters"] = writes.clone();
        }
        o
    };
    paths.insert(
        path.clone(),
        json!({"get": op("list", "or watch", false), "post": op("post", "create", true)}),
    );
    paths.insert(
        format!("{path}/{{name}}"),
        json!({"get": op("get", "read", false), "put": op("put", "replace", true),
                   "patch": op("patch", "partially update", true), "delete": op("delete", "delete", true)}),
    );
    paths
}

/// The group versions served, as `/openapi/v3` names their documents.
fn group_versions() -> BTreeSet<(&'static str, &'static str)> {
    RESOURCES
        .iter()
        .filter(|r| proto::message_for(&r.api_version(), r.kind).is_some())
        .map(|r| (r.group, r.version))
        .collect()
}

fn path_of(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The `/openapi/v3` index, with the group versions of a cluster's own
/// CustomResourceDefinitions (`custom`).
pub fn index(custom: &[(&str, &str)]) -> Value {
    let paths: Map<String, Value> = group_versions()
        .into_iter()
        .chain(custom.iter().copied())
        .map(|(g, v)| {
            let p = path_of(g, v);
            (
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", hash(g, v))}),
            )
        })
        .collect();
    json!({"paths": paths})
}

/// A stable tag for a document: it changes only with the simulator.
fn hash(group: &str, version: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in format!("{}{group}/{version}", env!("CARGO_PKG_VERSION")).bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("{h:016X}")
}

/// The document of one group version (`api/v1`, `apis/apps/v1`), or None.
pub fn document(path: &str) -> Option<Value> {
    static CACHE: OnceLock<HashMap<String, Value>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            group_versions()
                .into_iter()
                .map(|(g, v)| (path_of(g, v), build(g, v)))
                .collect()
        })
        .get(path.trim_matches('/'))
        .cloned()
}

fn build(group: &str, version: &str) -> Value {
    let kinds: BTreeMap<String, &Resource> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .filter_map(|r| proto::message_for(&r.api_version(), r.kind).map(|m| (m, r)))
        .collect();
    let schemas = schemas_from(kinds.keys().cloned().collect(), &kinds);
    let mut paths = Map::new();
    for r in kinds.values() {
        paths.extend(kind_paths(r));
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// A CustomResourceDefinition's kinds as OpenAPI names them: the group
/// reversed, `com.example.stable.v1.CronTab`.
fn custom_name(r: &Resource) -> String {
    let group: Vec<&str> = r.group.split('.').rev().collect();
    format!("{}.{}.{}", group.join("."), r.version, r.kind)
}

/// The document of a group version served by a cluster's definitions:
/// each kind's schema from its definition, with the type fields and the
/// ObjectMeta of every object.
pub fn custom_document(kinds: &[(&Resource, Value)]) -> Value {
    let mut schemas = schemas_from(vec!["meta.ObjectMeta".to_string()], &BTreeMap::new());
    let mut paths = Map::new();
    for (r, schema) in kinds {
        let mut sch = if schema.is_object() {
            schema.clone()
        } else {
            json!({"type": "object"})
        };
        let props = sch
            .as_object_mut()
            .map(|o| o.entry("properties").or_insert_with(|| json!({})));
        if let Some(Value::Object(p)) = props {
            type_fields(p);
            p.insert(
                "metadata".into(),
                json!({"allOf": [reference("meta.ObjectMeta")], "description": "Standard object's metadata."}),
            );
        }
        sch["x-kubernetes-group-version-kind"] = gvk(r);
        schemas.insert(custom_name(r), sch);
        paths.extend(kind_paths(r));
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes CRD Swagger", "version": "v0.1.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_describe_each_kind_and_its_fields() {
        let idx = index(&[]);
        assert!(idx["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().is_some());
        let doc = document("apis/apps/v1").unwrap();
        let d = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(d["x-kubernetes-group-version-kind"][0]["kind"], "Deployment");
        assert_eq!(
            d["properties"]["spec"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
        );
        let spec = &doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"];
        assert!(
            spec["properties"]["replicas"]["description"]
                .as_str()
                .unwrap()
                .contains("Number of desired pods")
        );
        // Embedded messages' fields are the parent's, as in JSON.
        let vol = &doc["components"]["schemas"]["io.k8s.api.core.v1.Volume"];
        assert!(vol["properties"]["emptyDir"].is_object(), "{vol}");
        assert!(vol["properties"].get("volumeSource").is_none());
        let q = &doc["components"]["schemas"]["io.k8s.apimachinery.pkg.api.resource.Quantity"];
        assert_eq!(q["oneOf"][0]["type"], "string");
        // Each kind's collection names it, as clients look it up.
        let list = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"];
        assert_eq!(list["x-kubernetes-group-version-kind"]["kind"], "Deployment");
    }
}
