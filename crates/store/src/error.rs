//! The store layer's error.

use super::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the kdeck that owns the store in {dir}{} does not answer{}; if it is stopped (Ctrl-Z), bring it back with `fg`, or end it",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        if *.waited { " in time" } else { "" }
    )]
    Unanswered {
        dir: PathBuf,
        pid: Option<u32>,
        waited: bool,
    },
    #[error(
        "the store in {dir} is damaged ({reason}); `kdeck store check` says what {} holds, and `kdeck store restore` builds the store again from it",
        .backup_at.as_ref().map(|t| format!("the backup from {t}")).unwrap_or_else(|| "its backup".into())
    )]
    Damaged {
        dir: PathBuf,
        reason: String,
        backup_at: Option<String>,
    },
    #[error("the kdeck that owns the store said: {reason}")]
    Owner { reason: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot use {dir} as the data dir: {reason}; pass --data-dir DIR (or set KDECK_DATA_DIR) to use another")]
    DataDir { dir: PathBuf, reason: String },
    #[error("the store in {dir} cannot be opened: {source}")]
    Sled { dir: PathBuf, source: sled::Error },
    #[error("store error: {0}")]
    Db(#[from] sled::Error),
    #[error(
        "the store in {dir} was written by a newer kdeck (schema {found}, this kdeck knows up to {supported}); upgrade kdeck or pass --data-dir DIR"
    )]
    NewerSchema { dir: PathBuf, found: u32, supported: u32 },
    #[error("stored {tree} entry {key:?} cannot be read: {reason}")]
    Corrupt { tree: String, key: String, reason: String },
    #[error("cannot encode {tree} entry {key:?}: {reason}")]
    Encode { tree: String, key: String, reason: String },
    #[error("migrating the store from schema {from}: {reason}")]
    Migration { from: u32, reason: String },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}
