//! Faults that tests (through [`super::SimHandle`]) and people (through
//! `POST /sim/faults`) switch on at run time.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Close every watch after it has sent this many events.
    pub drop_watch_after_events: Option<u32>,
    /// Close every watch after this many milliseconds.
    pub drop_watch_after_ms: Option<u64>,
    /// Watches send headers, then nothing, and stay open.
    pub stall_watches: bool,
    /// The server goes silent, as behind a blackholed network or when it
    /// hangs: requests get no answer while this lasts, and watches open at
    /// the time never say anything again.
    pub silent: bool,
    /// Continue tokens are refused with 410 Expired.
    pub expire_continue: bool,
    /// Added before every answer.
    pub latency_ms: u64,
    /// No BOOKMARK events.
    pub disable_bookmarks: bool,
    /// Requests whose path contains `path` fail with `code`, `times` times.
    pub fail: Vec<FailRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailRule {
    pub path: String,
    pub code: u16,
    pub times: u32,
}

/// What `POST /sim/faults` accepts: the faults, plus one-off actions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultRequest {
    #[serde(flatten)]
    pub faults: Faults,
    /// Keep only this many events of history (older resourceVersions get 410).
    pub history: Option<usize>,
    /// Take the cluster down for this many milliseconds.
    pub down_for_ms: Option<u64>,
    /// Metadata updates per second on its Deployments, from now on.
    pub churn_per_sec: Option<u32>,
    /// The CPU demand of every workload that does not set its own, in
    /// percent of one pod's request (`300`: three pods' worth); 0 for idle.
    /// Autoscalers see it at their next look.
    pub cpu_demand_percent: Option<u32>,
}
