//! The JSONPath subset of custom resources' printer columns.

use serde_json::Value;
#[cfg(test)]
use serde_json::json;

/// The first value a printer column's JSONPath finds: `.spec.replicas`,
/// `.spec.containers[0].image`, `.status.conditions[?(@.type=="Ready")].status`.
pub fn json_path(v: &Value, path: &str) -> Option<Value> {
    let path = path
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim_start_matches('$');
    // Segments split on dots outside brackets.
    let mut segs = Vec::new();
    let (mut depth, mut cur) = (0, String::new());
    for ch in path.chars() {
        match ch {
            '[' => {
                depth += 1;
                cur.push(ch);
            }
            ']' => {
                depth -= 1;
                cur.push(ch);
            }
            '.' if depth == 0 => {
                if !cur.is_empty() {
                    segs.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(ch),
        }
    }
    if !cur.is_empty() {
        segs.push(cur);
    }
    let mut here = vec![v];
    for seg in &segs {
        let (name, rest) = seg.split_at(seg.find('[').unwrap_or(seg.len()));
        if !name.is_empty() {
            here = here.into_iter().filter_map(|x| x.get(name)).collect();
        }
        for sel in rest.split_inclusive(']').filter(|x| !x.is_empty()) {
            let inner = sel.trim_start_matches('[').trim_end_matches(']');
            let items = here.into_iter().filter_map(Value::as_array).flatten();
            here = if inner == "*" {
                items.collect()
            } else if let Ok(i) = inner.parse::<usize>() {
                here_index(items, i)
            } else if let Some(filter) = inner.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')')) {
                let (key, want) = filter.split_once("==")?;
                let want = want.trim().trim_matches(|c| c == '"' || c == '\'');
                items
                    .filter(|it| match it.get(key.trim()) {
                        Some(Value::String(x)) => x == want,
                        Some(Value::Bool(b)) => want == if *b { "true" } else { "false" },
                        Some(Value::Number(n)) => want.parse::<f64>().ok() == n.as_f64(),
                        _ => false,
                    })
                    .collect()
            } else {
                return None;
            };
        }
    }
    here.first().map(|x| (*x).clone())
}

fn here_index<'a>(mut items: impl Iterator<Item = &'a Value>, i: usize) -> Vec<&'a Value> {
    items.nth(i).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_column_paths_find_what_kubectl_would() {
        let v = json!({"spec": {"replicas": 2, "containers": [{"image": "a"}, {"image": "b"}]},
                       "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}});
        assert_eq!(json_path(&v, ".spec.replicas"), Some(json!(2)));
        assert_eq!(json_path(&v, ".spec.containers[1].image"), Some(json!("b")));
        assert_eq!(
            json_path(&v, ".status.conditions[?(@.type==\"Ready\")].status"),
            Some(json!("True"))
        );
        assert_eq!(
            json_path(&v, ".status.conditions[?(@.type=='Synced')].status"),
            Some(json!("False"))
        );
        assert_eq!(json_path(&v, ".spec.missing"), None);
    }
}
