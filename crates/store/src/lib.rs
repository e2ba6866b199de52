//! The embedded store: sled trees, one per entity, with a schema version,
//! files private to the user, and one owner per data dir that every other
//! kdeck on it reaches over a Unix socket (the `owner` module).
//!
//! Layout of a data dir:
//! ```text
//! DATA_DIR/            0700, the user's own (another owner or group/other write is refused)
//!   kdeck.lock         0600, held by the kdeck that owns the store; holds its pid
//!   kdeck.sock         0600, where the owner serves the other kdecks
//!   store/             0700, the sled database (files 0600)
//!   backup.json        0600, the settings and the journal, for `kdeck store restore`
//! ```

mod backup;
mod db;
pub mod journal;
mod owner;
mod wire;

pub use backup::{Backup, CheckReport};

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use wire::{Bytes, Request, Response, WireOp};

use kdeck_model::{App, Binding, Canary, Catalog, Cluster, Domain, Revision, RoleGrant, Route, Solution, Space};

mod dir;
mod entity;
mod error;
pub use dir::*;
pub use entity::*;
pub use error::*;

/// The schema this build writes. Bump it and append a step to [`MIGRATIONS`]
/// when the stored shape changes.
pub const SCHEMA_VERSION: u32 = 1;

/// One migration step: `MIGRATIONS[v]` moves a store from version `v` to
/// `v + 1`. Steps must be safe to run again after a crash half-way.
pub type Migration = fn(&sled::Db) -> Result<(), StoreError>;

/// Version 0 is a store from before versioning: nothing to change.
pub const MIGRATIONS: &[Migration] = &[|_| Ok(())];

const META_TREE: &str = "meta";
const SCHEMA_KEY: &str = "schema_version";

pub use kdeck_model::plain_io;

/// The open store. Cheap to clone; all clones share one way to the database:
/// this process owns it, or asks the kdeck that does.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    socket: PathBuf,
    migrations: Vec<Migration>,
    mode: RwLock<Mode>,
}

#[derive(Debug)]
enum Mode {
    Owner(owner::Owner),
    Client(owner::Client),
}

impl Store {
    /// Opens the store in `data_dir` (creating it if needed): as its owner
    /// when no other kdeck has it, else through the kdeck that does.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_migrations(data_dir, MIGRATIONS)
    }

    /// As [`Store::open`], with a given list of migration steps; the schema
    /// version reached is `migrations.len()`. For tests of the hook.
    #[doc(hidden)]
    pub fn open_with_migrations(data_dir: &Path, migrations: &[Migration]) -> Result<Self, StoreError> {
        if data_dir.exists() && !data_dir.is_dir() {
            return Err(StoreError::DataDir {
                dir: data_dir.to_path_buf(),
                reason: "it is a file, not a directory".into(),
            });
        }
        make_private_dir(data_dir).map_err(|e| match e {
            StoreError::Io { source, .. } => StoreError::DataDir {
                dir: data_dir.to_path_buf(),
                reason: format!("cannot create it ({})", plain_io(&source)),
            },
            other => other,
        })?;
        check_private_dir(data_dir, data_dir)?;
        let socket = owner::socket_path(data_dir)?;
        let mode = match try_own(data_dir, &socket, migrations)? {
            Some(o) => Mode::Owner(o),
            None => Mode::Client(owner::Client::new(socket.clone())),
        };
        let store = Self {
            inner: Arc::new(Inner {
                dir: data_dir.to_path_buf(),
                socket,
                migrations: migrations.to_vec(),
                mode: RwLock::new(mode),
            }),
        };
        // A client checks that the owner answers, and runs the same schema.
        let found = store.schema_version()?;
        let target = u32::try_from(migrations.len()).unwrap_or(u32::MAX);
        if found > target {
            return Err(StoreError::NewerSchema {
                dir: data_dir.to_path_buf(),
                found,
                supported: target,
            });
        }
        Ok(store)
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Whether this process owns the database (others reach it through it).
    pub fn is_owner(&self) -> bool {
        matches!(
            *self.inner.mode.read().unwrap_or_else(|p| p.into_inner()),
            Mode::Owner(_)
        )
    }

    /// Carries a request out: on the database when this process owns it,
    /// else through the owner; an owner that went away is replaced by the
    /// next one, this process if it takes the lock first.
    fn call(&self, req: &Request) -> Result<Response, StoreError> {
        let deadline = Instant::now() + owner::REACH_LIMIT;
        loop {
            let unanswered = {
                let mode = self.inner.mode.read().unwrap_or_else(|p| p.into_inner());
                match &*mode {
                    Mode::Owner(o) => return o.db.exec(req),
                    Mode::Client(c) => match c.call(req) {
                        Ok(Response::Error { reason }) => return Err(StoreError::Owner { reason }),
                        Ok(r) => return Ok(r),
                        Err(u) => u,
                    },
                }
            };
            if let owner::Unanswered::Silent = unanswered {
                return Err(StoreError::Unanswered {
                    dir: self.inner.dir.clone(),
                    pid: owner::lock_holder(&self.inner.dir),
                    waited: true,
                });
            }
            {
                let mut mode = self.inner.mode.write().unwrap_or_else(|p| p.into_inner());
                if let Mode::Client(_) = &*mode
                    && let Some(o) = try_own(&self.inner.dir, &self.inner.socket, &self.inner.migrations)?
                {
                    *mode = Mode::Owner(o);
                    continue;
                }
            }
            if Instant::now() >= deadline {
                return Err(StoreError::Unanswered {
                    dir: self.inner.dir.clone(),
                    pid: owner::lock_holder(&self.inner.dir),
                    waited: false,
                });
            }
            // An owner is starting (it has the lock, not yet the socket).
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// The schema version recorded in the store (0 when none is).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        match self.call(&Request::SchemaVersion)? {
            Response::Number { n } => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
            other => Err(unexpected(&other)),
        }
    }

    /// Which change the store is at: it differs after any write by any kdeck.
    pub fn generation(&self) -> Result<(u64, u64), StoreError> {
        match self.call(&Request::Generation)? {
            Response::Generation { epoch, count } => Ok((epoch, count)),
            other => Err(unexpected(&other)),
        }
    }

    /// The pid of the kdeck that owns the store.
    pub fn owner_pid(&self) -> Result<u32, StoreError> {
        match self.call(&Request::Owner)? {
            Response::Number { n } => Ok(u32::try_from(n).unwrap_or(0)),
            other => Err(unexpected(&other)),
        }
    }

    /// One key's raw bytes in a tree (the team layer mirrors trees as they are).
    pub fn get_raw(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.call(&Request::Get {
            tree: tree.into(),
            key: Bytes(key.to_vec()),
        })? {
            Response::Value { value } => Ok(value.map(|b| b.0)),
            other => Err(unexpected(&other)),
        }
    }

    /// The raw pairs of a tree whose key starts with `prefix`, in key order.
    pub fn scan_raw(&self, tree: &str, prefix: &[u8]) -> Result<Vec<RawPair>, StoreError> {
        match self.call(&Request::Scan {
            tree: tree.into(),
            prefix: Bytes(prefix.to_vec()),
        })? {
            Response::Pairs { pairs } => Ok(pairs.into_iter().map(|(k, v)| (k.0, v.0)).collect()),
            other => Err(unexpected(&other)),
        }
    }

    /// The newest `n` entries of a tree, newest first.
    pub(crate) fn tail_raw(&self, tree: &str, n: usize) -> Result<Vec<RawPair>, StoreError> {
        match self.call(&Request::Tail { tree: tree.into(), n })? {
            Response::Pairs { pairs } => Ok(pairs.into_iter().map(|(k, v)| (k.0, v.0)).collect()),
            other => Err(unexpected(&other)),
        }
    }

    /// Stores a JSON object under the tree's next id (dense and ordered
    /// across every kdeck on the store), with `id` and `nonce` set in it, and
    /// `index` recording the id in `index` in the same transaction. Sent again
    /// with the same nonce, it lands once.
    pub(crate) fn append(&self, tree: &str, index: &str, nonce: &str, value: Vec<u8>) -> Result<u64, StoreError> {
        match self.call(&Request::Append {
            tree: tree.into(),
            index: index.into(),
            nonce: nonce.into(),
            value: Bytes(value),
        })? {
            Response::Id { id } => Ok(id),
            other => Err(unexpected(&other)),
        }
    }

    pub fn get<E: Entity>(&self, key: &str) -> Result<Option<E>, StoreError> {
        match self.get_raw(E::TREE, key.as_bytes())? {
            Some(bytes) => Ok(Some(decode(E::TREE, key.as_bytes(), &bytes)?)),
            None => Ok(None),
        }
    }

    /// Every entity of a kind, in key order.
    pub fn list<E: Entity>(&self) -> Result<Vec<E>, StoreError> {
        self.list_prefix("")
    }

    /// The entities whose key starts with `prefix`, in key order
    /// (e.g. the apps of one space: prefix `cluster/ns/`).
    pub fn list_prefix<E: Entity>(&self, prefix: &str) -> Result<Vec<E>, StoreError> {
        self.scan_raw(E::TREE, prefix.as_bytes())?
            .iter()
            .map(|(k, v)| decode(E::TREE, k, v))
            .collect()
    }

    pub fn put<E: Entity>(&self, e: &E) -> Result<(), StoreError> {
        let mut b = Batch::new();
        b.put(e)?;
        self.write(b)
    }

    /// Writes the batch only if `key` in `tree` still holds `expected` (the
    /// raw bytes read before; `None`: absent): true when it wrote.
    pub(crate) fn write_if(
        &self,
        tree: &str,
        key: &[u8],
        expected: Option<&[u8]>,
        batch: Batch,
    ) -> Result<bool, StoreError> {
        let ops = batch.into_wire();
        match self.call(&Request::WriteIf {
            tree: tree.into(),
            key: Bytes(key.to_vec()),
            expected: expected.map(|e| Bytes(e.to_vec())),
            ops,
        })? {
            Response::Wrote { wrote } => Ok(wrote),
            other => Err(unexpected(&other)),
        }
    }

    /// Removes one entity; true when it was there.
    pub fn delete<E: Entity>(&self, key: &str) -> Result<bool, StoreError> {
        match self.call(&Request::Remove {
            tree: E::TREE.into(),
            key: Bytes(key.as_bytes().to_vec()),
        })? {
            Response::Existed { existed } => Ok(existed),
            other => Err(unexpected(&other)),
        }
    }

    /// Applies a batch across trees in one transaction, then flushes.
    pub fn write(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let ops = batch.into_wire();
        match self.call(&Request::Write { ops })? {
            Response::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Every tree as it is now.
    pub fn dump(&self) -> Result<Backup, StoreError> {
        match self.call(&Request::Dump)? {
            Response::Dump { backup } => Ok(backup),
            other => Err(unexpected(&other)),
        }
    }

    /// Whether the store in `data_dir` reads, and what its backup holds
    /// against it: what a restore would lose.
    pub fn check(data_dir: &Path) -> Result<CheckReport, StoreError> {
        let backup = Backup::read(data_dir)?;
        let now = Self::open(data_dir).and_then(|s| s.dump());
        Ok(match now {
            Ok(b) => backup::compare(Ok(&b), backup.as_ref()),
            Err(
                e @ (StoreError::Damaged { .. }
                | StoreError::Sled { .. }
                | StoreError::Corrupt { .. }
                | StoreError::Db(_)),
            ) => backup::compare(Err(&e), backup.as_ref()),
            Err(e) => return Err(e),
        })
    }

    /// Moves the store aside and builds it again from the backup. No other
    /// kdeck may have the store open. Returns the backup used and where the
    /// old store went.
    pub fn restore(data_dir: &Path) -> Result<(Backup, PathBuf), StoreError> {
        check_private_dir(data_dir, data_dir)?;
        let backup = Backup::read(data_dir)?.ok_or_else(|| StoreError::DataDir {
            dir: data_dir.to_path_buf(),
            reason: format!(
                "there is no backup ({}) to restore from",
                data_dir.join(backup::FILE).display()
            ),
        })?;
        let Some(_lock) = owner::try_lock(data_dir)? else {
            return Err(StoreError::DataDir {
                dir: data_dir.to_path_buf(),
                reason: format!(
                    "another kdeck{} has the store open; end it, then restore",
                    owner::lock_holder(data_dir)
                        .map(|p| format!(" (pid {p})"))
                        .unwrap_or_default()
                ),
            });
        };
        let aside = backup::restore_into(data_dir, &backup)?;
        Ok((backup, aside))
    }

    /// The database itself, in the process that owns it: for tests that
    /// damage entries on purpose.
    #[cfg(test)]
    pub(crate) fn with_db<T>(&self, f: impl FnOnce(&sled::Db) -> T) -> Option<T> {
        match &*self.inner.mode.read().unwrap_or_else(|p| p.into_inner()) {
            Mode::Owner(o) => Some(f(&o.db.db)),
            Mode::Client(_) => None,
        }
    }
}

/// A key and its value, as stored.
/// A key and its value, as stored.
pub type RawPair = (Vec<u8>, Vec<u8>);

fn unexpected(r: &Response) -> StoreError {
    StoreError::Owner {
        reason: format!("an answer of the wrong kind ({r:?})"),
    }
}

#[cfg(test)]
mod tests;
