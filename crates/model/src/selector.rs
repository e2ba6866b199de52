//! Label selectors in Kubernetes' own syntax, for choosing clusters by
//! their labels: `tier=prod`, `tier==prod`, `tier!=dev`,
//! `region in (eu,us)`, `region notin (ap)`, `gpu` (has the key), `!gpu`
//! (has not), joined by commas (all must hold).

use std::collections::BTreeMap;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed selector: every requirement must hold. Empty selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub requirements: Vec<Requirement>,
    /// As it was written, for messages.
    pub text: String,
}

/// Why a selector does not read: the selector, where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError {
    pub text: String,
    pub at: usize,
    pub problem: String,
}

impl std::fmt::Display for SelectorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "selector {:?}: {} (at character {}); write it as kubectl does: tier=prod,region in (eu,us),!gpu",
            self.text, self.problem, self.at
        )
    }
}

impl std::error::Error for SelectorError {}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let err = |at: usize, problem: &str| SelectorError {
            text: text.to_string(),
            at: at + 1,
            problem: problem.to_string(),
        };
        let mut requirements = Vec::new();
        for (start, part) in split_top(text) {
            let p = part.trim();
            let lead = start + part.len() - part.trim_start().len();
            if p.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(err(lead, "an empty requirement (two commas, or one at an end)"));
            }
            let key_ok = |k: &str, at: usize| -> Result<String, SelectorError> {
                let k = k.trim();
                crate::validate::label_key("key", k).map_err(|e| err(at, &format!("key {k:?} {}", e.problem)))?;
                Ok(k.to_string())
            };
            let value_ok = |v: &str, at: usize| -> Result<String, SelectorError> {
                let v = v.trim();
                crate::validate::label_value("value", v).map_err(|e| err(at, &format!("value {v:?} {}", e.problem)))?;
                Ok(v.to_string())
            };
            if let Some(k) = p.strip_prefix('!') {
                requirements.push(Requirement::NotExists(key_ok(k, lead + 1)?));
                continue;
            }
            if let Some(i) = p.find("!=") {
                requirements.push(Requirement::NotEquals(
                    key_ok(&p[..i], lead)?,
                    value_ok(&p[i + 2..], lead + i + 2)?,
                ));
                continue;
            }
            if let Some(i) = p.find("==") {
                requirements.push(Requirement::Equals(
                    key_ok(&p[..i], lead)?,
                    value_ok(&p[i + 2..], lead + i + 2)?,
                ));
                continue;
            }
            if let Some(i) = p.find('=') {
                requirements.push(Requirement::Equals(
                    key_ok(&p[..i], lead)?,
                    value_ok(&p[i + 1..], lead + i + 1)?,
                ));
                continue;
            }
            // `key in (a,b)` / `key notin (a,b)`, or a bare key.
            let words: Vec<&str> = p.splitn(2, char::is_whitespace).collect();
            match words.as_slice() {
                [k] => requirements.push(Requirement::Exists(key_ok(k, lead)?)),
                [k, rest] => {
                    let rest = rest.trim_start();
                    let (op, list) = if let Some(l) = rest.strip_prefix("notin") {
                        ("notin", l)
                    } else if let Some(l) = rest.strip_prefix("in") {
                        ("in", l)
                    } else {
                        return Err(err(lead + k.len(), "expected =, ==, !=, in or notin after the key"));
                    };
                    let list = list.trim();
                    let at = lead + p.len() - list.len();
                    let Some(inner) = list.strip_prefix('(').and_then(|l| l.strip_suffix(')')) else {
                        return Err(err(at, "expected a list in parentheses: (a,b)"));
                    };
                    let values = inner
                        .split(',')
                        .map(|v| value_ok(v, at + 1))
                        .collect::<Result<Vec<_>, _>>()?;
                    if values.iter().any(String::is_empty) {
                        return Err(err(at, "an empty value in the list"));
                    }
                    let key = key_ok(k, lead)?;
                    requirements.push(if op == "in" {
                        Requirement::In(key, values)
                    } else {
                        Requirement::NotIn(key, values)
                    });
                }
                _ => return Err(err(lead, "expected a requirement")),
            }
        }
        Ok(Selector {
            requirements,
            text: text.trim().to_string(),
        })
    }

    /// Whether labels satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|x| vs.contains(x)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|x| !vs.contains(x)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// The comma-separated parts outside parentheses, with where each starts.
fn split_top(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push((start, &text[start..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selectors_read_and_match_as_kubernetes_does() {
        let eu_prod = labels(&[("tier", "prod"), ("region", "eu")]);
        let us_stage = labels(&[("tier", "stage"), ("region", "us"), ("gpu", "yes")]);
        let s = Selector::parse("tier=prod,region in (eu,us)").unwrap();
        assert!(s.matches(&eu_prod) && !s.matches(&us_stage));
        let s = Selector::parse("tier!=prod, region notin (ap), gpu").unwrap();
        assert!(!s.matches(&eu_prod) && s.matches(&us_stage));
        let s = Selector::parse("!gpu,tier==prod").unwrap();
        assert!(s.matches(&eu_prod));
        assert!(Selector::parse("").unwrap().matches(&eu_prod));
        assert_eq!(
            Selector::parse("region in (eu, us)").unwrap().requirements,
            vec![Requirement::In("region".into(), vec!["eu".into(), "us".into()])]
        );
    }

    #[test]
    fn a_selector_that_does_not_read_says_where() {
        let e = Selector::parse("tier=prod,,region=eu").unwrap_err();
        assert_eq!(e.at, 11, "{e}");
        let e = Selector::parse("region in eu,us").unwrap_err();
        assert!(e.problem.contains("parentheses"), "{e}");
        let e = Selector::parse("region within (eu)").unwrap_err();
        assert!(e.problem.contains("expected =, ==, !=, in or notin"), "{e}");
        let e = Selector::parse("tier=pr od").unwrap_err();
        assert!(e.problem.contains("value"), "{e}");
        assert!(e.to_string().starts_with("selector \"tier=pr od\": "), "{e}");
    }
}
