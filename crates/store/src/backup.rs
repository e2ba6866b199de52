//! A copy of the settings and the journal beside the store, for when sled's
//! own files are damaged: written atomically (a private temporary file, then
//! a rename) by the owner a few seconds after changes and when it exits.
//! `kdeck store check` compares it with the store; `kdeck store restore`
//! moves the damaged store aside and builds a new one from it.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::wire::Bytes;
use super::{StoreError, io_err};

pub const FILE: &str = "backup.json";
/// A backup larger than this is refused rather than read.
const MAX_BACKUP: u64 = 1 << 30;
/// sled's own tree, not a kdeck one.
const SLED_DEFAULT_TREE: &[u8] = b"__sled__default";

/// Every tree of the store, as it was when the copy was made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Backup {
    /// When it was taken, RFC 3339.
    pub written_at: String,
    pub trees: BTreeMap<String, Vec<(Bytes, Bytes)>>,
}

impl Backup {
    /// Every tree of a database.
    pub fn of(db: &sled::Db) -> Result<Self, StoreError> {
        let mut trees = BTreeMap::new();
        for name in db.tree_names() {
            if name.as_ref() == SLED_DEFAULT_TREE {
                continue;
            }
            let tree = db.open_tree(&name)?;
            let pairs = tree
                .iter()
                .map(|r| r.map(|(k, v)| (Bytes(k.to_vec()), Bytes(v.to_vec()))))
                .collect::<Result<Vec<_>, _>>()?;
            trees.insert(String::from_utf8_lossy(&name).into_owned(), pairs);
        }
        Ok(Self {
            written_at: kdeck_model::clock::rfc3339(time::OffsetDateTime::now_utc()),
            trees,
        })
    }

    /// How many entries a tree holds.
    pub fn count(&self, tree: &str) -> usize {
        self.trees.get(tree).map_or(0, Vec::len)
    }

    /// The largest journal id it holds.
    pub fn last_journal_id(&self) -> Option<u64> {
        self.trees
            .get("journal")?
            .iter()
            .filter_map(|(k, _)| k.0.as_slice().try_into().ok().map(u64::from_be_bytes))
            .max()
    }

    /// Writes it to `path` so that a reader sees the old copy or the new one,
    /// never half of one.
    pub fn write(&self, path: &Path) -> Result<(), StoreError> {
        let tmp = path.with_extension("json.tmp");
        let _ = fs::remove_file(&tmp);
        let body = serde_json::to_vec(self).map_err(|e| StoreError::Encode {
            tree: "backup".into(),
            key: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        f.write_all(&body).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, path).map_err(io_err(path))?;
        Ok(())
    }

    /// The backup in a data dir, if there is one.
    pub fn read(data_dir: &Path) -> Result<Option<Self>, StoreError> {
        let path = data_dir.join(FILE);
        let f = match OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mut body = Vec::new();
        f.take(MAX_BACKUP + 1).read_to_end(&mut body).map_err(io_err(&path))?;
        if body.len() as u64 > MAX_BACKUP {
            return Err(StoreError::Corrupt {
                tree: "backup".into(),
                key: path.display().to_string(),
                reason: format!("larger than {} MiB", MAX_BACKUP >> 20),
            });
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                tree: "backup".into(),
                key: path.display().to_string(),
                reason: e.to_string(),
            })
    }
}

/// What `kdeck store check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Whether the store opened and every entry read.
    pub readable: bool,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
    /// When the backup was taken, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_at: Option<String>,
    /// Per tree: entries in the store, entries in the backup, and how many
    /// of the store's a restore would lose (new or changed since the backup).
    pub trees: Vec<TreeCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TreeCheck {
    pub tree: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_store: Option<usize>,
    pub in_backup: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_on_restore: Option<usize>,
}

/// Compares the store (when it reads) with the backup.
pub fn compare(store: Result<&Backup, &crate::StoreError>, backup: Option<&Backup>) -> CheckReport {
    let mut names: Vec<String> = backup.map(|b| b.trees.keys().cloned().collect()).unwrap_or_default();
    if let Ok(s) = store {
        names.extend(s.trees.keys().cloned());
    }
    names.sort();
    names.dedup();
    let trees = names
        .into_iter()
        .filter(|n| n != "meta")
        .map(|tree| {
            let in_backup = backup.map_or(0, |b| b.count(&tree));
            let (in_store, lost) = match store {
                Ok(s) => {
                    let theirs: BTreeMap<&[u8], &[u8]> = backup
                        .and_then(|b| b.trees.get(&tree))
                        .map(|p| p.iter().map(|(k, v)| (k.0.as_slice(), v.0.as_slice())).collect())
                        .unwrap_or_default();
                    let mine = s.trees.get(&tree).map(Vec::as_slice).unwrap_or_default();
                    let lost = mine
                        .iter()
                        .filter(|(k, v)| theirs.get(k.0.as_slice()) != Some(&v.0.as_slice()))
                        .count();
                    (Some(mine.len()), Some(lost))
                }
                Err(_) => (None, None),
            };
            TreeCheck {
                tree,
                in_store,
                in_backup,
                lost_on_restore: lost,
            }
        })
        .collect();
    CheckReport {
        readable: store.is_ok(),
        damage: store.err().map(ToString::to_string),
        backup_at: backup.map(|b| b.written_at.clone()),
        trees,
    }
}

/// Builds a new store in `data_dir/store` from the backup, after moving the
/// old one to `store.damaged-TIME`; the caller holds the data dir's lock.
/// Returns where the old store went.
pub fn restore_into(data_dir: &Path, backup: &Backup) -> Result<PathBuf, StoreError> {
    let dir = data_dir.join("store");
    let stamp = backup_stamp();
    let aside = data_dir.join(format!("store.damaged-{stamp}"));
    if dir.exists() {
        fs::rename(&dir, &aside).map_err(io_err(&dir))?;
    }
    fs::DirBuilder::new().mode(0o700).create(&dir).map_err(io_err(&dir))?;
    let db = sled::Config::new()
        .path(&dir)
        .open()
        .map_err(|source| StoreError::Sled {
            dir: dir.clone(),
            source,
        })?;
    for (name, pairs) in &backup.trees {
        let tree = db.open_tree(name.as_bytes())?;
        for (k, v) in pairs {
            tree.insert(k.0.as_slice(), v.0.as_slice())?;
        }
    }
    db.flush()?;
    Ok(aside)
}

fn backup_stamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
