//! The embedded store: sled trees, one per entity, with a schema version,
//! files private to the user, and one owner per data dir that every other
//! kdeck on it reaches over a Unix socket ([`owner`]).
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

use kdeck_model::{App, Binding, Catalog, Cluster, Domain, RoleGrant, Route, Solution, Space};

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

pub use kdeck_model::plain_io;

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
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

    /// The writes as the owner takes them.
    fn into_wire(self) -> Vec<WireOp> {
        self.ops
            .into_iter()
            .map(|op| WireOp {
                tree: op.tree.into(),
                key: Bytes(op.key),
                value: op.value.map(Bytes),
            })
            .collect()
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

/// A data dir (or the store dir in it) must be the user's own and closed to
/// others: someone else's, or one that group or others may write, is refused
/// with what to do. One that others may only read is closed to them.
pub fn check_private_dir(data_dir: &Path, dir: &Path) -> Result<(), StoreError> {
    let refuse = |reason: String| StoreError::DataDir {
        dir: data_dir.to_path_buf(),
        reason,
    };
    let meta = fs::metadata(dir).map_err(io_err(dir))?;
    if !meta.is_dir() {
        return Err(refuse(format!("{} is not a directory", dir.display())));
    }
    let me = rustix::process::getuid().as_raw();
    if meta.uid() != me {
        return Err(refuse(format!(
            "{} belongs to uid {}, not to you (uid {me}); `chown {me} {}` if it is yours",
            dir.display(),
            meta.uid(),
            dir.display()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(refuse(format!(
            "{} may be written by {} (mode {mode:03o}); `chmod 700 {}`",
            dir.display(),
            if mode & 0o002 != 0 { "anyone" } else { "its group" },
            dir.display()
        )));
    }
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    Ok(())
}

/// Makes every file under `dir` readable by the user only.
fn tighten(dir: &Path) -> Result<(), StoreError> {
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(io_err(&path))?;
        if ft.is_symlink() {
            continue;
        }
        let mode = if ft.is_dir() { 0o700 } else { 0o600 };
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io_err(&path))?;
        if ft.is_dir() {
            tighten(&path)?;
        }
    }
    Ok(())
}

/// The schema version recorded in a database (0 when none is).
fn read_schema_version(db: &sled::Db) -> Result<u32, StoreError> {
    let meta = db.open_tree(META_TREE)?;
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

/// Opens sled in `data_dir/store` and brings its schema up to date: what the
/// kdeck that takes the lock does.
fn open_db(data_dir: &Path, migrations: &[Migration]) -> Result<db::Db, StoreError> {
    let dir = data_dir.join("store");
    make_private_dir(&dir)?;
    check_private_dir(data_dir, &dir)?;
    // Files sled makes later (blobs, new segments) are private from the start.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let db = sled::Config::new()
        .path(&dir)
        .mode(sled::Mode::HighThroughput)
        .open()
        .map_err(|source| match source {
            sled::Error::Corruption { .. } => StoreError::Damaged {
                dir: data_dir.to_path_buf(),
                reason: source.to_string(),
                backup_at: Backup::read(data_dir).ok().flatten().map(|b| b.written_at),
            },
            source => StoreError::Sled {
                dir: dir.clone(),
                source,
            },
        })?;
    tighten(&dir)?;
    let target = u32::try_from(migrations.len()).unwrap_or(u32::MAX);
    let mut v = read_schema_version(&db)?;
    if v > target {
        return Err(StoreError::NewerSchema {
            dir: data_dir.to_path_buf(),
            found: v,
            supported: target,
        });
    }
    while v < target {
        let step = migrations[v as usize];
        step(&db).map_err(|e| StoreError::Migration {
            from: v,
            reason: e.to_string(),
        })?;
        v += 1;
        db.open_tree(META_TREE)?.insert(SCHEMA_KEY, &v.to_be_bytes())?;
        db.flush()?;
    }
    Ok(db::Db::new(db, data_dir.join(backup::FILE)))
}

/// Takes the store over if no kdeck owns it: `None` when one does.
fn try_own(dir: &Path, socket: &Path, migrations: &[Migration]) -> Result<Option<owner::Owner>, StoreError> {
    let Some(lock) = owner::try_lock(dir)? else {
        return Ok(None);
    };
    let db = open_db(dir, migrations)?;
    Ok(Some(owner::Owner::new(lock, db, socket.to_path_buf())?))
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

    pub(crate) fn get_raw(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.call(&Request::Get {
            tree: tree.into(),
            key: Bytes(key.to_vec()),
        })? {
            Response::Value { value } => Ok(value.map(|b| b.0)),
            other => Err(unexpected(&other)),
        }
    }

    pub(crate) fn scan_raw(&self, tree: &str, prefix: &[u8]) -> Result<Vec<RawPair>, StoreError> {
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
            ) => backup::compare(Err(e.to_string()), backup.as_ref()),
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
pub(crate) type RawPair = (Vec<u8>, Vec<u8>);

fn unexpected(r: &Response) -> StoreError {
    StoreError::Owner {
        reason: format!("an answer of the wrong kind ({r:?})"),
    }
}

#[cfg(test)]
mod tests;
