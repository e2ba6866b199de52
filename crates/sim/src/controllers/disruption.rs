//! The disruption controller: each PodDisruptionBudget's status from the
//! pods its selector takes (expected, healthy, desired healthy, the
//! disruptions allowed now).

use super::*;
use crate::ptr::At;

/// `minAvailable` or `maxUnavailable`, a count or a percentage of `of`.
fn scaled(v: &Value, of: usize, round_up: bool) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => {
            let pct: f64 = s.strip_suffix('%')?.parse().ok()?;
            let x = pct * of as f64 / 100.0;
            Some(if round_up { x.ceil() } else { x.floor() } as usize)
        }
        _ => None,
    }
}

pub(super) fn budgets(s: &mut State, ids: &Ids, ns: &str) {
    let pdbs: Vec<Arc<Value>> = s.iter_kind(ids.pdb, Some(ns)).map(|(_, p)| p.clone()).collect();
    for pdb in pdbs {
        let selector = pdb.at("/spec/selector").cloned().unwrap_or(json!({}));
        let take = |p: &Value| {
            let labels = labels_of(p);
            let ml = selector.get("matchLabels").and_then(Value::as_object);
            !ml.is_none_or(|m| m.is_empty())
                && ml.is_none_or(|m| m.iter().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str()))
        };
        let pods: Vec<&Arc<Value>> = s
            .iter_kind(ids.pod, Some(ns))
            .map(|(_, p)| p)
            .filter(|p| take(p) && !is_terminating(p))
            .collect();
        let expected = pods.len();
        let healthy = pods.iter().filter(|p| pod_ready(p)).count();
        let desired = if let Some(min) = pdb.at("/spec/minAvailable") {
            scaled(min, expected, true).unwrap_or(expected)
        } else if let Some(max) = pdb.at("/spec/maxUnavailable") {
            expected.saturating_sub(scaled(max, expected, false).unwrap_or(0))
        } else {
            expected
        };
        let allowed = healthy.saturating_sub(desired);
        let prev = pdb.at("/status/conditions/0");
        let cond = if allowed > 0 {
            condition("DisruptionAllowed", "True", "SufficientPods", "", prev)
        } else {
            condition("DisruptionAllowed", "False", "InsufficientPods", "", prev)
        };
        let status = json!({
            "observedGeneration": pdb.at("/metadata/generation").cloned().unwrap_or(json!(1)),
            "expectedPods": expected, "currentHealthy": healthy, "desiredHealthy": desired,
            "disruptionsAllowed": allowed, "conditions": [cond],
        });
        set_status(s, ids.pdb, &pdb, status);
    }
}
