//! events.k8s.io/v1 Events: the same objects as core Events, converted
//! field by field as the API server converts them between the two versions.

use super::*;
use crate::ptr::At;

/// Core Event fields and their events.k8s.io/v1 names.
const FIELDS: &[(&str, &str)] = &[
    ("message", "note"),
    ("involvedObject", "regarding"),
    ("related", "related"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
    ("eventTime", "eventTime"),
    ("action", "action"),
    ("reason", "reason"),
    ("type", "type"),
    ("series", "series"),
];

/// An Event with its fields renamed one way or the other.
fn convert(e: &Value, api_version: &str, to_v1: bool) -> Value {
    let mut out = json!({"apiVersion": api_version, "kind": "Event", "metadata": e.get("metadata").cloned().unwrap_or(json!({}))});
    for (core, v1) in FIELDS {
        let (from, to) = if to_v1 { (core, v1) } else { (v1, core) };
        if let Some(v) = e.get(*from).filter(|v| !v.is_null() && v.as_str() != Some("")) {
            out[*to] = v.clone();
        }
    }
    out
}

/// A core Event as events.k8s.io/v1 shows it.
pub fn to_events_v1(e: &Value) -> Value {
    let mut out = convert(e, "events.k8s.io/v1", true);
    if out.get("eventTime").is_none() {
        // eventTime is required in events.k8s.io: the server fills it from the older timestamps.
        let t = ["lastTimestamp", "firstTimestamp"]
            .iter()
            .find_map(|k| e.get(*k).and_then(Value::as_str))
            .or_else(|| e.at("/metadata/creationTimestamp").and_then(Value::as_str))
            .unwrap_or("");
        out["eventTime"] = json!(t.replace('Z', ".000000Z"));
    }
    out
}

/// An events.k8s.io/v1 Event as the core Event it is stored as.
pub fn from_events_v1(e: &Value) -> Value {
    convert(e, "v1", false)
}
