//! JSON pointers (`/metadata/namespace`) read without an allocation per
//! step: the simulator reads them on every write and event, and
//! `serde_json::Value::pointer` unescapes each token into a new String.

use serde_json::Value;

/// `Value::pointer`, the same answers (RFC 6901), allocating only for a
/// token with an escape (`~0`, `~1`).
pub trait At {
    fn at(&self, path: &str) -> Option<&Value>;
}

impl At for Value {
    fn at(&self, path: &str) -> Option<&Value> {
        if path.is_empty() {
            return Some(self);
        }
        let rest = path.strip_prefix('/')?;
        let mut v = self;
        for token in rest.split('/') {
            v = if token.contains('~') {
                step(v, &token.replace("~1", "/").replace("~0", "~"))?
            } else {
                step(v, token)?
            };
        }
        Some(v)
    }
}

fn step<'a>(v: &'a Value, token: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(token),
        Value::Array(list) => {
            // As RFC 6901 reads an index: digits, no sign, no leading zero.
            let ok = !token.is_empty()
                && token.bytes().all(|b| b.is_ascii_digit())
                && (token == "0" || !token.starts_with('0'));
            if ok {
                list.get(token.parse::<usize>().ok()?)
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_as_value_pointer_does() {
        let v = json!({"a": {"b/c": [10, {"d~e": 1}], "": 2}, "x": null});
        for p in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/",
            "/x",
            "/nope",
            "a",
            "/a/b~1c/9",
        ] {
            assert_eq!(v.at(p), v.pointer(p), "{p}");
        }
    }
}
