//! The embedded store: sled trees, one per entity, with a schema version, a
//! lock that keeps one kdeck per data dir, and files private to the user.
//!
//! Layout of a data dir:
//! ```text
//! DATA_DIR/            0700 when kdeck creates it
//!   kdeck.lock         0600, holds the pid of the kdeck that has the store open
//!   store/             0700, the sled database (files 0600)
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;

use crate::model::{App, Binding, Catalog, Cluster, Domain, RoleGrant, Route, Solution, Space};

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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data dir {dir} is in use by another kdeck{}; close that one, or pass --data-dir DIR (or set KDECK_DATA_DIR) to use another store",
        .pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    Locked { dir: PathBuf, pid: Option<u32> },
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

/// An I/O error in words, without the "(os error N)" tail.
pub fn plain_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::IsADirectory => "is a directory".into(),
        K::NotADirectory => "a part of the path is not a directory".into(),
        K::ReadOnlyFilesystem => "the file system is read-only".into(),
        K::StorageFull => "no space left on the device".into(),
        K::InvalidData => "not UTF-8 text".into(),
        _ => e.to_string(),
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Something kept in its own tree under a string key.
pub trait Entity: Serialize + DeserializeOwned {
    const TREE: &'static str;
    fn key(&self) -> String;
}

impl Entity for Cluster {
    const TREE: &'static str = "clusters";
    fn key(&self) -> String {
        self.name.clone()
    }
}
impl Entity for Space {
    const TREE: &'static str = "spaces";
    fn key(&self) -> String {
        self.space.to_string()
    }
}
impl Entity for App {
    const TREE: &'static str = "apps";
    fn key(&self) -> String {
        self.app.to_string()
    }
}
impl Entity for Route {
    const TREE: &'static str = "routes";
    fn key(&self) -> String {
        Route::key(self)
    }
}
impl Entity for Domain {
    const TREE: &'static str = "domains";
    fn key(&self) -> String {
        Domain::key(self)
    }
}
impl Entity for Binding {
    const TREE: &'static str = "bindings";
    fn key(&self) -> String {
        Binding::key(self)
    }
}
impl Entity for Solution {
    const TREE: &'static str = "solutions";
    fn key(&self) -> String {
        self.name.clone()
    }
}
impl Entity for Catalog {
    const TREE: &'static str = "catalogs";
    fn key(&self) -> String {
        self.name.clone()
    }
}
impl Entity for RoleGrant {
    const TREE: &'static str = "roles";
    fn key(&self) -> String {
        RoleGrant::key(self)
    }
}

/// Writes to several trees that land together or not at all.
#[derive(Debug, Default)]
pub struct Batch {
    ops: Vec<Op>,
}

/// One write: a value to put, or `None` to delete the key.
#[derive(Debug)]
struct Op {
    tree: &'static str,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn put<E: Entity>(&mut self, e: &E) -> Result<&mut Self, StoreError> {
        let key = e.key();
        let bytes = encode(E::TREE, &key, e)?;
        self.ops.push(Op {
            tree: E::TREE,
            key: key.into_bytes(),
            value: Some(bytes),
        });
        Ok(self)
    }
    pub fn delete<E: Entity>(&mut self, key: &str) -> &mut Self {
        self.ops.push(Op {
            tree: E::TREE,
            key: key.as_bytes().to_vec(),
            value: None,
        });
        self
    }
    pub(crate) fn raw(&mut self, tree: &'static str, key: Vec<u8>, value: Option<Vec<u8>>) -> &mut Self {
        self.ops.push(Op { tree, key, value });
        self
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

fn encode<T: Serialize>(tree: &str, key: &str, v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Encode {
        tree: tree.into(),
        key: key.into(),
        reason: e.to_string(),
    })
}

fn decode<T: DeserializeOwned>(tree: &str, key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree: tree.into(),
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

/// Holds the data dir's lock for as long as any clone of the store lives.
#[derive(Debug)]
struct DirLock {
    _file: File,
}

/// The open store. Cheap to clone; all clones share one database and lock.
#[derive(Clone, Debug)]
pub struct Store {
    db: sled::Db,
    dir: PathBuf,
    _lock: Arc<DirLock>,
    journal_seq: Arc<std::sync::Mutex<()>>,
}

/// Where the store lives when neither `--data-dir` nor `KDECK_DATA_DIR` says:
/// `$XDG_DATA_HOME/kdeck`, else `~/.local/share/kdeck`.
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            return Some(p.join("kdeck"));
        }
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/kdeck"))
}

fn make_private_dir(path: &Path) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io_err(path))
}

fn lock_dir(dir: &Path) -> Result<DirLock, StoreError> {
    let path = dir.join("kdeck.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_err(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut s = String::new();
            let _ = file.read_to_string(&mut s);
            return Err(StoreError::Locked {
                dir: dir.to_path_buf(),
                pid: s.trim().parse().ok(),
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
    }
    // Record who holds it, for the message the next kdeck prints.
    let write_pid = |f: &mut File| -> std::io::Result<()> {
        f.set_len(0)?;
        f.seek(SeekFrom::Start(0))?;
        write!(f, "{}", std::process::id())?;
        f.flush()
    };
    write_pid(&mut file).map_err(io_err(&path))?;
    Ok(DirLock { _file: file })
}

/// Makes every file under `dir` readable by the user only.
fn tighten(dir: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(io_err(&path))?;
        let mode = if ft.is_dir() { 0o700 } else { 0o600 };
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io_err(&path))?;
        if ft.is_dir() {
            tighten(&path)?;
        }
    }
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, takes its lock and
    /// brings its schema up to date.
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
        let lock = lock_dir(data_dir)?;
        let dir = data_dir.join("store");
        make_private_dir(&dir)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io_err(&dir))?;
        let db = sled::Config::new()
            .path(&dir)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|source| StoreError::Sled {
                dir: dir.clone(),
                source,
            })?;
        tighten(&dir)?;
        let store = Self {
            db,
            dir: data_dir.to_path_buf(),
            _lock: Arc::new(lock),
            journal_seq: Arc::default(),
        };
        store.migrate(migrations)?;
        Ok(store)
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The schema version recorded in the store (0 when none is).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let meta = self.db.open_tree(META_TREE)?;
        Ok(match meta.get(SCHEMA_KEY)? {
            Some(v) => {
                let arr: [u8; 4] = v.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                    tree: META_TREE.into(),
                    key: SCHEMA_KEY.into(),
                    reason: format!("{} bytes where 4 were expected", v.len()),
                })?;
                u32::from_be_bytes(arr)
            }
            None => 0,
        })
    }

    fn set_schema_version(&self, v: u32) -> Result<(), StoreError> {
        self.db.open_tree(META_TREE)?.insert(SCHEMA_KEY, &v.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    fn migrate(&self, migrations: &[Migration]) -> Result<(), StoreError> {
        let target = u32::try_from(migrations.len()).unwrap_or(u32::MAX);
        let mut v = self.schema_version()?;
        if v > target {
            return Err(StoreError::NewerSchema {
                dir: self.dir.clone(),
                found: v,
                supported: target,
            });
        }
        while v < target {
            let step = migrations[v as usize];
            step(&self.db).map_err(|e| StoreError::Migration {
                from: v,
                reason: e.to_string(),
            })?;
            v += 1;
            self.set_schema_version(v)?;
        }
        Ok(())
    }

    pub(crate) fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    /// Serialises the choice of journal ids within this process.
    pub(crate) fn journal_seq(&self) -> &std::sync::Mutex<()> {
        &self.journal_seq
    }

    pub fn get<E: Entity>(&self, key: &str) -> Result<Option<E>, StoreError> {
        match self.tree(E::TREE)?.get(key)? {
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
        self.tree(E::TREE)?
            .scan_prefix(prefix)
            .map(|r| {
                let (k, v) = r?;
                decode(E::TREE, &k, &v)
            })
            .collect()
    }

    pub fn put<E: Entity>(&self, e: &E) -> Result<(), StoreError> {
        let mut b = Batch::new();
        b.put(e)?;
        self.write(b)
    }

    /// Removes one entity; true when it was there.
    pub fn delete<E: Entity>(&self, key: &str) -> Result<bool, StoreError> {
        let existed = self.tree(E::TREE)?.remove(key)?.is_some();
        self.db.flush()?;
        Ok(existed)
    }

    /// Applies a batch across trees in one transaction, then flushes.
    pub fn write(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut names: Vec<&'static str> = batch.ops.iter().map(|op| op.tree).collect();
        names.sort_unstable();
        names.dedup();
        let trees = names.iter().map(|n| self.tree(n)).collect::<Result<Vec<_>, _>>()?;
        let index = |t: &str| names.iter().position(|n| *n == t).unwrap_or(0);
        trees
            .as_slice()
            .transaction(|tx| {
                for op in &batch.ops {
                    let tree = &tx[index(op.tree)];
                    match &op.value {
                        Some(v) => {
                            tree.insert(op.key.as_slice(), v.as_slice())?;
                        }
                        None => {
                            tree.remove(op.key.as_slice())?;
                        }
                    }
                }
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Storage(s) => StoreError::Db(s),
                sled::transaction::TransactionError::Abort(()) => {
                    StoreError::Db(sled::Error::Unsupported("transaction aborted".into()))
                }
            })?;
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
