//! Tekton's variable substitution (`$(params.x)`, `$(tasks.t.results.r)`…),
//! `when` expressions, and Go durations as Tekton writes its timeouts.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

/// Values by reference key: `params.revision`, `tasks.build.results.IMAGE_DIGEST`…
pub type Vars = BTreeMap<String, String>;

/// Adds `params.NAME` and its bracket spellings for each parameter.
pub fn add_params(vars: &mut Vars, params: &BTreeMap<String, String>) {
    for (k, v) in params {
        vars.insert(format!("params.{k}"), v.clone());
        vars.insert(format!("params['{k}']"), v.clone());
        vars.insert(format!("params[\"{k}\"]"), v.clone());
    }
}

/// Replaces every `$(key)` whose key is known; unknown references stay as
/// written (Tekton leaves what it cannot resolve to the script's shell).
pub fn substitute(text: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("$(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find(')') {
            Some(end) if vars.contains_key(after[..end].trim()) => {
                out.push_str(&vars[after[..end].trim()]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("$(");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// [`substitute`] on every string inside a JSON value.
pub fn substitute_value(v: &Value, vars: &Vars) -> Value {
    match v {
        Value::String(s) => Value::String(substitute(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute_value(x, vars)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), substitute_value(x, vars))).collect()),
        other => other.clone(),
    }
}

/// The tasks whose results a value refers to (`$(tasks.T.results.R)`).
pub fn result_refs(v: &Value) -> Vec<String> {
    let text = v.to_string();
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("$(tasks.") {
        let after = &rest[at + 8..];
        if let Some(dot) = after.find(".results.") {
            let task = &after[..dot];
            if !task.contains([')', ' ', '"']) && !out.iter().any(|t| t == task) {
                out.push(task.to_string());
            }
        }
        rest = after;
    }
    out
}

/// Parameters as `name -> value` from a `params` list (strings; arrays joined
/// by spaces).
pub fn param_list(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    let name = p.get("name")?.as_str()?.to_string();
                    let value = match p.get("value").or_else(|| p.get("default"))? {
                        Value::String(s) => s.clone(),
                        Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
                        other => other.to_string(),
                    };
                    Some((name, value))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a task's `when` expressions all hold (after substitution).
pub fn when_holds(when: Option<&Value>, vars: &Vars) -> bool {
    let Some(list) = when.and_then(Value::as_array) else {
        return true;
    };
    list.iter().all(|w| {
        let input = substitute(w.get("input").and_then(Value::as_str).unwrap_or(""), vars);
        let values: Vec<String> = w
            .get("values")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .filter_map(Value::as_str)
                    .map(|x| substitute(x, vars))
                    .collect()
            })
            .unwrap_or_default();
        let found = values.contains(&input);
        match w.get("operator").and_then(Value::as_str) {
            Some("notin") => !found,
            _ => found,
        }
    })
}

/// A Go duration (`1h0m0s`, `90s`, `1m30s`, `500ms`, `0`).
pub fn go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push('s');
            chars.next();
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        any = true;
    }
    (any && num.is_empty()).then(|| Duration::from_secs_f64(total))
}

/// A duration as Go prints it: `1h0m0s`, `30s`, `1m5s`.
pub fn go_duration_string(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else if d.subsec_millis() > 0 && secs == 0 {
        format!("{}ms", d.subsec_millis())
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_replaced_when_known() {
        let mut v = Vars::new();
        add_params(&mut v, &BTreeMap::from([("revision".to_string(), "main".to_string())]));
        v.insert("tasks.build.results.IMAGE_DIGEST".into(), "sha256:ab".into());
        assert_eq!(
            substitute("git checkout $(params.revision) $(params['revision']) $(HOME)", &v),
            "git checkout main main $(HOME)"
        );
        assert_eq!(
            substitute("img@$(tasks.build.results.IMAGE_DIGEST)", &v),
            "img@sha256:ab"
        );
        assert_eq!(
            result_refs(&json!({"value": "$(tasks.build.results.IMAGE_DIGEST) $(tasks.clone.results.commit)"})),
            ["build", "clone"]
        );
    }

    #[test]
    fn when_expressions_and_durations() {
        let mut v = Vars::new();
        v.insert("params.deploy".into(), "true".into());
        let w = json!([{"input": "$(params.deploy)", "operator": "in", "values": ["true"]}]);
        assert!(when_holds(Some(&w), &v));
        let w = json!([{"input": "$(params.deploy)", "operator": "notin", "values": ["true"]}]);
        assert!(!when_holds(Some(&w), &v));
        assert_eq!(go_duration("1h0m0s"), Some(Duration::from_secs(3600)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(go_duration("soon"), None);
        assert_eq!(go_duration_string(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration_string(Duration::from_secs(2)), "2s");
    }
}
