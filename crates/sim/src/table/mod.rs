//! Server-side printing: the `meta.k8s.io/v1` Table a real API server
//! answers when a client asks `Accept: application/json;as=Table;...`, as
//! kubectl's `get` does. Each kind has the columns of the API server's
//! printers (`pkg/printers/internalversion`), custom resources the columns
//! of their definitions; anything else the default Name and Created At.
//!
//! Tables are only built when asked for: a plain JSON list or watch never
//! passes through here.

mod cells;
mod objects;
mod path;

use serde_json::{Map, Value, json};

use crate::resources::Resource;

/// What the client asked each object to become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The stored object.
    Full,
    /// `PartialObjectMetadata`.
    Metadata,
    /// A Table, rows carrying the object as `includeObject` asks.
    Table(Include),
}

/// `includeObject`: what each row carries besides its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    None,
    Metadata,
    Object,
}

impl Shape {
    /// The shape an `Accept` header and an `includeObject` parameter ask for.
    /// The first acceptable media type wins, as content negotiation does.
    pub fn from_accept(accept: &str, include_object: Option<&str>) -> Shape {
        for media in accept.split(',') {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            let has = |p: &str| params.iter().any(|x| x.eq_ignore_ascii_case(p));
            if !params[0].eq_ignore_ascii_case("application/json") && params[0] != "*/*" {
                continue;
            }
            if has("as=Table") {
                if !has("g=meta.k8s.io") {
                    continue;
                }
                let include = match include_object {
                    Some("None") => Include::None,
                    Some("Object") => Include::Object,
                    _ => Include::Metadata,
                };
                return Shape::Table(include);
            }
            if params.iter().any(|p| p.starts_with("as=PartialObjectMetadata")) {
                return Shape::Metadata;
            }
            if !params.iter().any(|p| p.starts_with("as=")) {
                return Shape::Full;
            }
        }
        Shape::Full
    }
}

/// One column of a Table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: &'static str,
    pub priority: u8,
    pub description: &'static str,
}

const fn col(name: &'static str, kind: &'static str, priority: u8, description: &'static str) -> Column {
    Column {
        name,
        kind,
        priority,
        description,
    }
}

/// The `columnDefinitions` of a kind's Table.
pub fn column_definitions(res: &Resource) -> Value {
    let cols = cells::columns(res);
    Value::Array(
        cols.iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("name".into(), json!(c.name));
                m.insert("type".into(), json!(c.kind));
                m.insert("format".into(), json!(if c.name == "Name" { "name" } else { "" }));
                m.insert("description".into(), json!(c.description));
                m.insert("priority".into(), json!(c.priority));
                Value::Object(m)
            })
            .collect(),
    )
}

/// One row: the object's cells, and the object as `include` asks.
pub fn row(res: &Resource, obj: &Value, include: Include, now: i64) -> Value {
    let cells = cells::cells(res, obj, now);
    let object = match include {
        Include::None => Value::Null,
        Include::Metadata => metadata_of(obj),
        Include::Object => obj.clone(),
    };
    let mut m = Map::new();
    m.insert("cells".into(), Value::Array(cells));
    if !object.is_null() {
        m.insert("object".into(), object);
    }
    Value::Object(m)
}

/// A whole Table around rows already built.
pub fn table(res: &Resource, meta: Value, rows: Vec<Value>) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": column_definitions(res),
        "rows": rows,
    })
}

/// One object as a single get or a watch event sends it in `shape`: its
/// metadata, or a Table of one row; None when it is sent as it is stored.
pub fn shaped(shape: Shape, res: &Resource, v: &Value) -> Option<Value> {
    match shape {
        Shape::Full => None,
        Shape::Metadata => Some(metadata_of(v)),
        Shape::Table(include) => {
            let rv = v.get("metadata").and_then(|m| m.get("resourceVersion")).cloned();
            let meta = json!({"resourceVersion": rv.unwrap_or(json!(""))});
            Some(table(res, meta, vec![row(res, v, include, now_unix())]))
        }
    }
}

/// The object as `PartialObjectMetadata`, without managedFields.
pub fn metadata_of(v: &Value) -> Value {
    let mut m = v.get("metadata").cloned().unwrap_or(json!({}));
    if let Value::Object(map) = &mut m {
        map.remove("managedFields");
    }
    json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": m})
}

/// Seconds since the epoch, now.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Seconds since the epoch of an RFC 3339 timestamp.
pub fn unix_of(ts: &str) -> Option<i64> {
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A duration as the API server prints ages (`duration.HumanDuration`):
/// `45s`, `3m20s`, `12m`, `5h7m`, `20h`, `3d4h`, `40d`, `2y30d`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// Time since a timestamp, `<unknown>` when there is none.
pub fn since(ts: Option<&str>, now: i64) -> String {
    match ts.and_then(unix_of) {
        Some(t) => human_duration(now - t),
        None => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_as_the_api_server_prints_them() {
        for (s, want) in [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (5 * 3600 + 7 * 60, "5h7m"),
            (20 * 3600, "20h"),
            (48 * 3600, "2d"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (40 * 86400, "40d"),
            (2 * 365 * 86400 + 30 * 86400, "2y30d"),
            (9 * 365 * 86400, "9y"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn accept_headers_choose_the_shape() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(Shape::from_accept(kubectl, None), Shape::Table(Include::Metadata));
        assert_eq!(
            Shape::from_accept(kubectl, Some("Object")),
            Shape::Table(Include::Object)
        );
        assert_eq!(
            Shape::from_accept("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1", None),
            Shape::Metadata
        );
        assert_eq!(Shape::from_accept("application/json", None), Shape::Full);
        assert_eq!(Shape::from_accept("", None), Shape::Full);
        // A protobuf Table is not served: the JSON one after it is.
        assert_eq!(
            Shape::from_accept(
                "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json",
                None
            ),
            Shape::Full
        );
    }
}
