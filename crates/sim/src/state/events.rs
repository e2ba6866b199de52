//! events.k8s.io/v1 Events: the same objects as core Events, converted
//! field by field as the API server converts them between the two versions.

use super::*;
use crate::ptr::At;

/// A core Event as events.k8s.io/v1 shows it.
pub fn to_events_v1(e: &Value) -> Value {
    let mut out = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": e.get("metadata").cloned().unwrap_or(json!({}))});
    let moves = [
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
    for (from, to) in moves {
        if let Some(v) = e.get(from).filter(|v| !v.is_null() && v.as_str() != Some("")) {
            out[to] = v.clone();
        }
    }
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
    let mut out =
        json!({"apiVersion": "v1", "kind": "Event", "metadata": e.get("metadata").cloned().unwrap_or(json!({}))});
    let moves = [
        ("note", "message"),
        ("regarding", "involvedObject"),
        ("related", "related"),
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
        ("reportingController", "reportingComponent"),
        ("reportingInstance", "reportingInstance"),
        ("eventTime", "eventTime"),
        ("action", "action"),
        ("reason", "reason"),
        ("type", "type"),
        ("series", "series"),
    ];
    for (from, to) in moves {
        if let Some(v) = e.get(from).filter(|v| !v.is_null()) {
            out[to] = v.clone();
        }
    }
    out
}
