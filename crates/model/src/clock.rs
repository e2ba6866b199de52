//! Time, injectable: the journal and the screens read it through [`Clock`],
//! so tests and snapshots can fix it.

use std::sync::Arc;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

/// The wall clock, in UTC.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that always says the same time.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// RFC 3339 in UTC, to the second: `2026-11-22T02:41:17Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// How long something ran, from `started` to `finished` (RFC 3339; `now`
/// while it runs): `42s`, `3m07s`; `-` when it has not started.
pub fn span(started: &str, finished: &str, now: OffsetDateTime) -> String {
    let Ok(s) = OffsetDateTime::parse(started, &Rfc3339) else {
        return "-".into();
    };
    let end = OffsetDateTime::parse(finished, &Rfc3339).unwrap_or(now);
    let secs = (end - s).whole_seconds().max(0);
    if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

/// How old a thing created at `created` (RFC 3339) is, as kubectl says it:
/// `45s`, `12m`, `5h`, `3d`; `-` when the time cannot be read.
pub fn age(created: &str, now: time::OffsetDateTime) -> String {
    let Ok(t) = time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339) else {
        return "-".into();
    };
    let secs = (now - t).whole_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
