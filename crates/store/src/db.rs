//! The sled database as its owner uses it: every request of [`super::wire`]
//! carried out on the local trees.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sled::Transactional;

use super::StoreError;
use super::wire::{Bytes, Request, Response, WireOp};

/// How many of the newest entries an append looks through for its nonce.
const NONCE_WINDOW: usize = 64;

/// A key that must hold a value (or be absent) for a write to land.
type Check<'a> = (&'a str, &'a [u8], Option<&'a [u8]>);

#[derive(Debug)]
pub struct Db {
    pub(crate) db: sled::Db,
    /// Serialises appends, so that ids are dense and ordered.
    append: Mutex<()>,
    /// Chosen at open: a new owner is a new epoch.
    epoch: u64,
    writes: AtomicU64,
    /// Where the settings and the journal are copied, and when they last were.
    backup: std::path::PathBuf,
    /// The write count the backup file holds (`None`: not written yet).
    backed_up: Mutex<Option<u64>>,
}

impl Db {
    pub fn new(db: sled::Db, backup: std::path::PathBuf) -> Self {
        Self {
            db,
            backup,
            backed_up: Mutex::new(None),
            append: Mutex::new(()),
            epoch: uuid::Uuid::new_v4().as_u64_pair().0,
            writes: AtomicU64::new(0),
        }
    }

    /// Copies every tree to the backup file, if anything changed since the
    /// last copy (or none was made by this owner).
    pub fn backup_if_changed(&self) -> Result<(), StoreError> {
        let mut done = self.backed_up.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.writes.load(Ordering::SeqCst);
        if *done == Some(now) {
            return Ok(());
        }
        super::Backup::of(&self.db)?.write(&self.backup)?;
        *done = Some(now);
        Ok(())
    }

    fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    fn changed(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    pub fn exec(&self, req: &Request) -> Result<Response, StoreError> {
        Ok(match req {
            Request::Get { tree, key } => Response::Value {
                value: self.tree(tree)?.get(&key.0)?.map(|v| Bytes(v.to_vec())),
            },
            Request::Scan { tree, prefix } => Response::Pairs {
                pairs: self
                    .tree(tree)?
                    .scan_prefix(&prefix.0)
                    .map(|r| r.map(|(k, v)| (Bytes(k.to_vec()), Bytes(v.to_vec()))))
                    .collect::<Result<_, _>>()?,
            },
            Request::Tail { tree, n } => Response::Pairs {
                pairs: self
                    .tree(tree)?
                    .iter()
                    .rev()
                    .take(*n)
                    .map(|r| r.map(|(k, v)| (Bytes(k.to_vec()), Bytes(v.to_vec()))))
                    .collect::<Result<_, _>>()?,
            },
            Request::Write { ops } => {
                self.write(ops)?;
                Response::Done
            }
            Request::WriteIf {
                tree,
                key,
                expected,
                ops,
            } => Response::Wrote {
                wrote: self.write_if(tree, &key.0, expected.as_ref().map(|b| b.0.as_slice()), ops)?,
            },
            Request::Remove { tree, key } => {
                let existed = self.tree(tree)?.remove(&key.0)?.is_some();
                self.db.flush()?;
                self.changed();
                Response::Existed { existed }
            }
            Request::Append {
                tree,
                index,
                nonce,
                value,
            } => Response::Id {
                id: self.append(tree, index, nonce, &value.0)?,
            },
            Request::Generation => Response::Generation {
                epoch: self.epoch,
                count: self.writes.load(Ordering::SeqCst),
            },
            Request::SchemaVersion => Response::Number {
                n: u64::from(super::read_schema_version(&self.db)?),
            },
            Request::Owner => Response::Number {
                n: u64::from(std::process::id()),
            },
            Request::Dump => Response::Dump {
                backup: super::Backup::of(&self.db)?,
            },
        })
    }

    /// Applies the writes across trees in one transaction, then flushes.
    fn write(&self, ops: &[WireOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.write_if_inner(None, ops).map(|_| ())
    }

    /// [`Self::write`], only if `key` in `tree` holds `expected` when the
    /// transaction runs: a check and its write that nothing comes between.
    fn write_if(&self, tree: &str, key: &[u8], expected: Option<&[u8]>, ops: &[WireOp]) -> Result<bool, StoreError> {
        self.write_if_inner(Some((tree, key, expected)), ops)
    }

    fn write_if_inner(&self, check: Option<Check<'_>>, ops: &[WireOp]) -> Result<bool, StoreError> {
        let mut names: Vec<&str> = ops
            .iter()
            .map(|op| op.tree.as_str())
            .chain(check.map(|c| c.0))
            .collect();
        names.sort_unstable();
        names.dedup();
        let trees = names.iter().map(|n| self.tree(n)).collect::<Result<Vec<_>, _>>()?;
        let index = |t: &str| names.iter().position(|n| *n == t).unwrap_or(0);
        let wrote = trees
            .as_slice()
            .transaction(|tx| {
                if let Some((tree, key, expected)) = check {
                    let now = tx[index(tree)].get(key)?;
                    if now.as_deref() != expected {
                        return Ok(false);
                    }
                }
                for op in ops {
                    let tree = &tx[index(&op.tree)];
                    match &op.value {
                        Some(v) => {
                            tree.insert(op.key.0.as_slice(), v.0.as_slice())?;
                        }
                        None => {
                            tree.remove(op.key.0.as_slice())?;
                        }
                    }
                }
                Ok(true)
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Storage(s) => StoreError::Db(s),
                sled::transaction::TransactionError::Abort(()) => {
                    StoreError::Db(sled::Error::Unsupported("transaction aborted".into()))
                }
            })?;
        if wrote {
            self.db.flush()?;
            self.changed();
        }
        Ok(wrote)
    }

    /// Stores `value` (a JSON object) under one more than the last id, with
    /// its `id` and `nonce` fields set; a value with this nonce among the
    /// newest entries means a retry: its id is the answer.
    fn append(&self, tree: &str, index: &str, nonce: &str, value: &[u8]) -> Result<u64, StoreError> {
        let _one = self.append.lock().unwrap_or_else(|p| p.into_inner());
        let t = self.tree(tree)?;
        let mut last = None;
        for r in t.iter().rev().take(NONCE_WINDOW) {
            let (k, v) = r?;
            let id = k.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
            last = last.or(Some(id));
            if !nonce.is_empty()
                && let Ok(old) = serde_json::from_slice::<serde_json::Value>(&v)
                && old.get("nonce").and_then(|n| n.as_str()) == Some(nonce)
            {
                return Ok(id);
            }
        }
        let id = last.map_or(1, |l| l + 1);
        let mut obj: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(value).map_err(|e| StoreError::Encode {
                tree: tree.into(),
                key: id.to_string(),
                reason: e.to_string(),
            })?;
        obj.insert("id".into(), id.into());
        if !nonce.is_empty() {
            obj.insert("nonce".into(), nonce.into());
        }
        let bytes = serde_json::to_vec(&obj).map_err(|e| StoreError::Encode {
            tree: tree.into(),
            key: id.to_string(),
            reason: e.to_string(),
        })?;
        self.write(&[
            WireOp {
                tree: tree.into(),
                key: Bytes(id.to_be_bytes().to_vec()),
                value: Some(Bytes(bytes)),
            },
            WireOp {
                tree: index.into(),
                key: Bytes(id.to_be_bytes().to_vec()),
                value: Some(Bytes(Vec::new())),
            },
        ])?;
        Ok(id)
    }
}
