//! The journal as an audit trail: which entries a filter keeps, by actor,
//! cluster, space, command and time, for `kdeck history` and the cockpit.

use crate::JournalEntry;

/// What to keep; every field left empty keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `user@host`, or `user` (any host).
    pub actor: Option<String>,
    pub cluster: Option<String>,
    /// `CLUSTER/NAMESPACE`.
    pub space: Option<String>,
    /// The command as the CLI spells it, or its first words: `builds`,
    /// `apps deploy`.
    pub command: Option<String>,
    /// RFC 3339 bounds, inclusive.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Only failed, partly failed or interrupted entries.
    pub failed: bool,
}

/// `since` and `until` as RFC 3339: one as given, or a span back from `now`
/// (`30m`, `2h`, `7d`).
pub fn time_bound(text: &str, now: time::OffsetDateTime) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(kdeck_model::clock::rfc3339(t));
    }
    let (n, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{text:?}: give a time (2026-12-01T10:00:00Z) or a span back from now (30m, 2h, 7d)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?}: a span ends in s, m, h or d (30m, 2h, 7d)")),
    };
    Ok(kdeck_model::clock::rfc3339(now - time::Duration::seconds(secs)))
}

/// Whether `text` names `path` (`eu1/shop`) as a whole path or its start.
fn names(text: &str, path: &str) -> bool {
    text.match_indices(path).any(|(i, _)| {
        let before = text[..i].chars().last();
        let after = text[i + path.len()..].chars().next();
        before.is_none_or(|c| c == ' ' || c == ',' || c == '(')
            && after.is_none_or(|c| c == '/' || c == ' ' || c == ',' || c == ')')
    })
}

/// The filter keys as typed in the cockpit's journal view.
pub const KEYS: &[&str] = &["actor", "cluster", "space", "command", "since", "until"];

impl Filter {
    /// A filter as typed: `actor:ana space:eu1/shop command:apps deploy
    /// since:2h failed`. A value runs on to the next `key:` word, so that
    /// `command:apps deploy` is one command; `failed` alone keeps failures.
    pub fn parse(text: &str, now: time::OffsetDateTime) -> Result<Filter, String> {
        let mut f = Filter::default();
        let mut fields: Vec<(&str, String)> = Vec::new();
        for word in text.split_whitespace() {
            match word.split_once(':') {
                Some((k, v)) if KEYS.contains(&k) => fields.push((k, v.to_string())),
                Some((k, _)) => {
                    return Err(format!(
                        "{k:?} is not a filter: use {}, or failed",
                        KEYS.join(":, ") + ":"
                    ));
                }
                _ if word == "failed" => f.failed = true,
                _ => match fields.last_mut() {
                    Some((_, v)) => {
                        v.push(' ');
                        v.push_str(word);
                    }
                    None => {
                        return Err(format!(
                            "{word:?}: start with a filter ({}), or failed",
                            KEYS.join(":, ") + ":"
                        ));
                    }
                },
            }
        }
        for (k, v) in fields {
            if v.is_empty() {
                return Err(format!("{k}: needs a value ({k}:VALUE)"));
            }
            let v = Some(v);
            match k {
                "actor" => f.actor = v,
                "cluster" => f.cluster = v,
                "space" => f.space = v,
                "command" => f.command = v,
                "since" => {
                    f.since = v
                        .map(|t| time_bound(&t, now))
                        .transpose()
                        .map_err(|e| format!("since: {e}"))?
                }
                _ => {
                    f.until = v
                        .map(|t| time_bound(&t, now))
                        .transpose()
                        .map_err(|e| format!("until: {e}"))?
                }
            }
        }
        Ok(f)
    }

    pub fn keeps(&self, e: &JournalEntry) -> bool {
        let places = || std::iter::once(e.target.as_str()).chain(e.items.iter().map(|i| i.item.as_str()));
        if self.failed && !e.status.is_failure() {
            return false;
        }
        if let Some(a) = &self.actor
            && !(e.actor == *a || e.actor.split('@').next() == Some(a.as_str()))
        {
            return false;
        }
        if let Some(c) = &self.cluster {
            let on = format!("on {c}");
            let word = format!("cluster {c}");
            if !places().any(|p| names(p, c) || p.ends_with(&on) || p == word) {
                return false;
            }
        }
        if let Some(s) = &self.space
            && !places().any(|p| names(p, s))
        {
            return false;
        }
        if let Some(cmd) = &self.command {
            let verb = e.command.verb();
            if !(verb == cmd || verb.starts_with(&format!("{cmd} "))) {
                return false;
            }
        }
        if self.since.as_ref().is_some_and(|s| e.at < *s) || self.until.as_ref().is_some_and(|u| e.at > *u) {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Command, ItemOutcome, Status};

    fn entry(at: &str, actor: &str, command: Command, items: &[&str]) -> JournalEntry {
        JournalEntry {
            id: 1,
            at: at.into(),
            actor: actor.into(),
            target: command.target(),
            command,
            status: Status::Applied,
            items: items.iter().map(|i| ItemOutcome::ok(*i, "done")).collect(),
            finished_at: None,
            runner: None,
            nonce: String::new(),
        }
    }

    #[test]
    fn filters_by_actor_place_command_and_time() {
        let deploy = entry(
            "2026-12-01T10:00:00Z",
            "ana@bastion",
            Command::DeployApp {
                app: "eu1/shop/web".into(),
                wait: None,
            },
            &["deployment web"],
        );
        let grant = entry(
            "2026-12-01T12:00:00Z",
            "bo@laptop",
            Command::GrantRole {
                spaces: vec!["eu1/shop".into(), "us1/shop".into()],
                subject: "user:x".into(),
                role: "auditor".into(),
            },
            &["eu1/shop", "us1/shop"],
        );
        let f = |f: Filter| [&deploy, &grant].iter().filter(|e| f.keeps(e)).count();
        assert_eq!(f(Filter::default()), 2);
        assert_eq!(
            f(Filter {
                actor: Some("ana".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(Filter {
                cluster: Some("us1".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(Filter {
                cluster: Some("eu".into()),
                ..Default::default()
            }),
            0
        );
        assert_eq!(
            f(Filter {
                space: Some("eu1/shop".into()),
                ..Default::default()
            }),
            2
        );
        assert_eq!(
            f(Filter {
                command: Some("roles".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(Filter {
                command: Some("apps deploy".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(Filter {
                since: Some("2026-12-01T11:00:00Z".into()),
                ..Default::default()
            }),
            1
        );
        let now = time::macros::datetime!(2026-12-01 13:00:00 UTC);
        assert_eq!(time_bound("2h", now).unwrap(), "2026-12-01T11:00:00Z");
        assert!(time_bound("yesterday", now).unwrap_err().contains("30m, 2h, 7d"));
        let typed = Filter::parse("actor:ana command:apps deploy since:2h failed", now).unwrap();
        assert_eq!(typed.actor.as_deref(), Some("ana"));
        assert_eq!(typed.command.as_deref(), Some("apps deploy"));
        assert_eq!(typed.since.as_deref(), Some("2026-12-01T11:00:00Z"));
        assert!(typed.failed);
        assert_eq!(Filter::parse("", now).unwrap(), Filter::default());
        assert!(Filter::parse("who:ana", now).unwrap_err().contains("actor:"));
        assert!(Filter::parse("ana", now).unwrap_err().contains("start with a filter"));
        assert!(Filter::parse("since:yesterday", now).unwrap_err().starts_with("since:"));
        assert!(Filter::parse("space:", now).unwrap_err().contains("needs a value"));
    }
}
