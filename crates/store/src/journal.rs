//! The command journal: every command is written (and flushed) before it
//! runs, and its outcome after. It is the audit trail, and what a retry of
//! the failed items of a bulk command reads.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Batch, Store, StoreError};

/// What the journal records: the command layer's command, as plain data.
/// The store knows it only as something serializable with a target.
pub trait Recorded: Serialize + DeserializeOwned + Clone + std::fmt::Debug {
    /// What the command acts on, in words: `cluster eu1`, `space eu1/shop`.
    fn target(&self) -> String;
}

const TREE: &str = "journal";
/// The ids of the entries still pending: what a crash may have left.
const PENDING: &str = "journal_pending";

/// How a command ended, or that it has not (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Written before running; still so after a crash means it never finished.
    Pending,
    Applied,
    Failed {
        reason: String,
        /// What kind of failure: decides the exit code of the CLI.
        kind: FailureKind,
        /// The HTTP status code the server answered with, if a server said no.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
    },
    /// Some items applied, some did not: see the items.
    PartiallyApplied,
    /// The process running it ended before it finished (killed, or the
    /// machine went down): the items say what is known to have applied.
    Interrupted {
        reason: String,
    },
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Applied => "applied",
            Status::Failed { .. } => "failed",
            Status::PartiallyApplied => "partial",
            Status::Interrupted { .. } => "interrupted",
        }
    }
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Status::Failed { .. } | Status::PartiallyApplied | Status::Interrupted { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Input that could not be read (a missing file, bad YAML).
    Unreadable,
    /// A name the input does not have (an unknown context, app, space).
    Usage,
    /// The input broke a rule (an invalid name, a duplicate).
    Invalid,
    /// A cluster said no, or could not be reached.
    Cluster,
    /// The store could not be written.
    Store,
}

/// The outcome for one item of a command (one cluster, one app, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemOutcome {
    pub item: String,
    pub ok: bool,
    /// What happened, in words: "imported as eu1", "skipped: exists".
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

impl ItemOutcome {
    pub fn ok(item: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            item: item.into(),
            ok: true,
            message: message.into(),
            code: None,
        }
    }
    pub fn failed(item: impl Into<String>, message: impl Into<String>, code: Option<u16>) -> Self {
        Self {
            item: item.into(),
            ok: false,
            message: message.into(),
            code,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry<C> {
    /// Increasing: a later command has a larger id, across restarts.
    pub id: u64,
    /// When it was written, RFC 3339.
    pub at: String,
    /// Who ran it: `user@host`.
    pub actor: String,
    /// What it acts on, in words: `cluster eu1`, `space eu1/shop`.
    pub target: String,
    pub command: C,
    #[serde(flatten)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The process that runs it, while it is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<Runner>,
    /// Unique per `begin`: a begin sent again after its owner died lands once.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nonce: String,
}

/// A process, told apart from a later one with the same pid by its start time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runner {
    pub pid: u32,
    /// Clock ticks after boot when it started (`/proc/PID/stat`, field 22).
    pub started: u64,
}

impl Runner {
    pub fn this() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            started: process_start(pid).unwrap_or(0),
        }
    }
    /// Whether the process still runs (the same one, not a later process
    /// given its pid). Without `/proc`, whether any process has the pid.
    pub fn alive(&self) -> bool {
        match process_start(self.pid) {
            Some(started) if self.started != 0 => started == self.started,
            _ => rustix::process::Pid::from_raw(i32::try_from(self.pid).unwrap_or(0))
                .is_some_and(|p| rustix::process::test_kill_process(p).is_ok()),
        }
    }
}

/// When a process started, in clock ticks after boot; `None` when there is no such process.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Read and write access to the journal tree of a store.
#[derive(Clone, Debug)]
pub struct Journal<C> {
    store: Store,
    command: std::marker::PhantomData<fn() -> C>,
}

impl<C: Recorded> Journal<C> {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            command: std::marker::PhantomData,
        }
    }

    /// Records a command as pending and flushes it to disk before returning.
    /// Ids are dense and increasing across every kdeck on the store: the
    /// store's owner gives them out.
    pub fn begin(&self, command: C, actor: &str, at: String) -> Result<JournalEntry<C>, StoreError> {
        let mut entry = JournalEntry {
            id: 0,
            at,
            actor: actor.to_string(),
            target: command.target(),
            command,
            status: Status::Pending,
            items: Vec::new(),
            finished_at: None,
            runner: Some(Runner::this()),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
        };
        let bytes = encode(&entry)?;
        entry.id = self.store.append(TREE, PENDING, &entry.nonce, bytes)?;
        Ok(entry)
    }

    /// Adds the entry's final state to `batch`, so that the command's own
    /// writes and its outcome land in one transaction, then writes it.
    pub fn finish(&self, entry: &JournalEntry<C>, mut batch: Batch) -> Result<(), StoreError> {
        if entry.status != Status::Pending {
            batch.raw(PENDING, entry.id.to_be_bytes().to_vec(), None);
        }
        self.stage(&mut batch, entry)?;
        self.store.write(batch)
    }

    /// Records what a running command has done so far, so that a kill leaves
    /// its applied items known.
    pub fn progress(&self, entry: &JournalEntry<C>) -> Result<(), StoreError> {
        let mut b = Batch::new();
        self.stage(&mut b, entry)?;
        self.store.write(b)
    }

    /// Entries left pending by a process that is gone become interrupted,
    /// keeping the items they had recorded. Returns how many.
    pub fn recover(&self, at: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for (k, _) in self.store.scan_raw(PENDING, b"")? {
            let Ok(id) = k.as_slice().try_into().map(u64::from_be_bytes) else {
                continue;
            };
            let Some(raw) = self.store.get_raw(TREE, &id.to_be_bytes())? else {
                let mut b = Batch::new();
                b.raw(PENDING, k, None);
                self.store.write(b)?;
                continue;
            };
            let mut e = decode(&raw, id)?;
            if e.status != Status::Pending {
                let mut b = Batch::new();
                b.raw(PENDING, k, None);
                self.store.write(b)?;
                continue;
            }
            if e.runner.as_ref().is_some_and(Runner::alive) {
                continue;
            }
            let applied = e.items.iter().filter(|i| i.ok).count();
            let who = e
                .runner
                .as_ref()
                .map(|r| format!(" (pid {})", r.pid))
                .unwrap_or_default();
            e.status = Status::Interrupted {
                reason: format!(
                    "the kdeck running it{who} ended before it finished; {}; `kdeck history --rerun {id}` runs it again",
                    if e.items.is_empty() {
                        "what it did in the clusters is not known".to_string()
                    } else {
                        format!("{applied} of its items had applied, as listed")
                    }
                ),
            };
            e.finished_at = Some(at.to_string());
            // Only over the pending entry read above: a runner that finished
            // meanwhile (and then exited) keeps its outcome.
            let mut b = Batch::new();
            b.raw(PENDING, k, None);
            self.stage(&mut b, &e)?;
            if self.store.write_if(TREE, &id.to_be_bytes(), Some(&raw), b)? {
                n += 1;
            }
        }
        Ok(n)
    }

    fn stage(&self, b: &mut Batch, entry: &JournalEntry<C>) -> Result<(), StoreError> {
        let bytes = encode(entry)?;
        b.raw(TREE, entry.id.to_be_bytes().to_vec(), Some(bytes));
        Ok(())
    }

    pub fn get(&self, id: u64) -> Result<Option<JournalEntry<C>>, StoreError> {
        match self.store.get_raw(TREE, &id.to_be_bytes())? {
            Some(v) => Ok(Some(decode(&v, id)?)),
            None => Ok(None),
        }
    }

    /// All entries, oldest first.
    pub fn list(&self) -> Result<Vec<JournalEntry<C>>, StoreError> {
        self.store
            .scan_raw(TREE, b"")?
            .iter()
            .map(|(k, v)| {
                let id = k.as_slice().try_into().map(u64::from_be_bytes).unwrap_or(0);
                decode(v, id)
            })
            .collect()
    }

    /// The newest `n` entries, oldest first.
    pub fn tail(&self, n: usize) -> Result<Vec<JournalEntry<C>>, StoreError> {
        let mut out = self
            .store
            .tail_raw(TREE, n)?
            .iter()
            .map(|(k, v)| {
                let id = k.as_slice().try_into().map(u64::from_be_bytes).unwrap_or(0);
                decode(v, id)
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.reverse();
        Ok(out)
    }
}

fn encode<C: Serialize>(entry: &JournalEntry<C>) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(entry).map_err(|e| StoreError::Encode {
        tree: TREE.into(),
        key: entry.id.to_string(),
        reason: e.to_string(),
    })
}

fn decode<C: DeserializeOwned>(bytes: &[u8], id: u64) -> Result<JournalEntry<C>, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree: TREE.into(),
        key: id.to_string(),
        reason: e.to_string(),
    })
}
