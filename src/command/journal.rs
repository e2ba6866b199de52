//! The command journal: every command is written (and flushed) before it
//! runs, and its outcome after. It is the audit trail, and what a retry of
//! the failed items of a bulk command reads.

use serde::{Deserialize, Serialize};

use super::Command;
use crate::store::{Batch, Store, StoreError};

const TREE: &str = "journal";

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
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Applied => "applied",
            Status::Failed { .. } => "failed",
            Status::PartiallyApplied => "partial",
        }
    }
    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Failed { .. } | Status::PartiallyApplied)
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
pub struct JournalEntry {
    /// Increasing: a later command has a larger id, across restarts.
    pub id: u64,
    /// When it was written, RFC 3339.
    pub at: String,
    /// Who ran it: `user@host`.
    pub actor: String,
    /// What it acts on, in words: `cluster eu1`, `space eu1/shop`.
    pub target: String,
    pub command: Command,
    #[serde(flatten)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// Read and write access to the journal tree of a store.
#[derive(Clone, Debug)]
pub struct Journal {
    store: Store,
}

impl Journal {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Records a command as pending and flushes it to disk before returning.
    pub fn begin(&self, command: Command, actor: &str, at: String) -> Result<JournalEntry, StoreError> {
        // Ids are dense and increasing: one more than the last entry. The data
        // dir lock keeps other processes out; this mutex keeps other threads out.
        let _seq = self.store.journal_seq().lock().unwrap_or_else(|p| p.into_inner());
        let last = self.store.tree(TREE)?.last()?;
        let id = last
            .and_then(|(k, _)| k.as_ref().try_into().ok().map(u64::from_be_bytes))
            .map_or(1, |l| l + 1);
        let entry = JournalEntry {
            id,
            at,
            actor: actor.to_string(),
            target: command.target(),
            command,
            status: Status::Pending,
            items: Vec::new(),
            finished_at: None,
        };
        let mut b = Batch::new();
        self.stage(&mut b, &entry)?;
        self.store.write(b)?;
        Ok(entry)
    }

    /// Adds the entry's final state to `batch`, so that the command's own
    /// writes and its outcome land in one transaction, then writes it.
    pub fn finish(&self, entry: &JournalEntry, mut batch: Batch) -> Result<(), StoreError> {
        self.stage(&mut batch, entry)?;
        self.store.write(batch)
    }

    fn stage(&self, b: &mut Batch, entry: &JournalEntry) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(entry).map_err(|e| StoreError::Encode {
            tree: TREE.into(),
            key: entry.id.to_string(),
            reason: e.to_string(),
        })?;
        b.raw(TREE, entry.id.to_be_bytes().to_vec(), Some(bytes));
        Ok(())
    }

    pub fn get(&self, id: u64) -> Result<Option<JournalEntry>, StoreError> {
        let tree = self.store.tree(TREE)?;
        match tree.get(id.to_be_bytes())? {
            Some(v) => Ok(Some(decode(&v, id)?)),
            None => Ok(None),
        }
    }

    /// All entries, oldest first.
    pub fn list(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let tree = self.store.tree(TREE)?;
        tree.iter()
            .map(|r| {
                let (k, v) = r?;
                let id = k.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
                decode(&v, id)
            })
            .collect()
    }
}

fn decode(bytes: &[u8], id: u64) -> Result<JournalEntry, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree: TREE.into(),
        key: id.to_string(),
        reason: e.to_string(),
    })
}
