//! The data dir: private to the user, the schema version, opening sled.

use super::*;

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

pub(super) fn make_private_dir(path: &Path) -> Result<(), StoreError> {
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
pub(super) fn tighten(dir: &Path) -> Result<(), StoreError> {
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
pub(super) fn read_schema_version(db: &sled::Db) -> Result<u32, StoreError> {
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
pub(super) fn open_db(data_dir: &Path, migrations: &[Migration]) -> Result<db::Db, StoreError> {
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
pub(super) fn try_own(dir: &Path, socket: &Path, migrations: &[Migration]) -> Result<Option<owner::Owner>, StoreError> {
    let Some(lock) = owner::try_lock(dir)? else {
        return Ok(None);
    };
    let db = open_db(dir, migrations)?;
    Ok(Some(owner::Owner::new(lock, db, socket.to_path_buf())?))
}
