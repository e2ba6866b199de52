//! Files a user gives kdeck (kubeconfigs, saved apps, overrides, themes,
//! keymaps): read whole only when they are regular files within a size
//! limit, and their YAML errors said in one line that names the file and
//! the line:column, never the file's content.

use std::io::Read;
use std::path::Path;

/// Kubeconfigs and themes are small; 32 MiB is far past any real one.
pub const KUBECONFIG_LIMIT: u64 = 32 << 20;
/// Saved apps, overrides, config, themes and keymaps.
pub const SMALL_LIMIT: u64 = 4 << 20;

fn mib(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{} KiB", (n >> 10).max(1))
    }
}

/// Why a file a user gave cannot be read, in words that end in what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("no such file; check the path")]
    Missing,
    #[error("is a directory; give a file")]
    Directory,
    #[error("is not a regular file (a FIFO, a socket or a device); give a file")]
    NotAFile,
    #[error("is {}; kdeck reads files of this kind up to {}", mib(*.size), mib(*.limit))]
    TooLarge { size: u64, limit: u64 },
    /// It grew past the limit while it was read.
    #[error("is larger than {}, the most kdeck reads of this kind", mib(*.limit))]
    Grew { limit: u64 },
    #[error("is not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Io(String),
}

/// The text of a file, or why it cannot be read: a missing file, a
/// directory, a FIFO or a device (never read, so `/dev/zero` cannot fill
/// the memory), a file over `limit`, or one that is not UTF-8.
pub fn read_text(path: &Path, limit: u64) -> Result<String, FileError> {
    String::from_utf8(read_bytes(path, limit)?).map_err(|_| FileError::NotText)
}

/// [`read_text`] for files that need not be text (certificates).
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let io = |e: std::io::Error| FileError::Io(kdeck_model::plain_io(&e));
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FileError::Missing,
        _ => io(e),
    })?;
    if meta.is_dir() {
        return Err(FileError::Directory);
    }
    if !meta.is_file() {
        return Err(FileError::NotAFile);
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(FileError::Grew { limit });
    }
    Ok(bytes)
}

/// A YAML error in one line: `line L, column C: what` (the position when
/// known), without the snippet of the file the parser renders (it may hold
/// secrets) and in words a user can act on.
pub fn yaml_problem(e: &serde_saphyr::Error) -> String {
    let message = yaml_message(e);
    match e.location().map(|l| (l.line(), l.column())).filter(|(l, _)| *l > 0) {
        Some((l, c)) => format!("line {l}, column {c}: {message}"),
        None => message,
    }
}

/// What a YAML error says, without its position or snippet.
pub fn yaml_message(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    let first = full
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unreadable YAML")
        .trim_start_matches("error: ");
    let message = match first.split_once(": ") {
        Some((pos, rest)) if pos.starts_with("line ") && pos.contains(" column ") => rest,
        _ => first,
    };
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
        format!("the key {key:?} appears twice in one mapping; keep one")
    } else if message.starts_with("duplicate mapping key") {
        "a key appears twice in one mapping; keep one".to_string()
    } else if message.starts_with("budget breached") {
        "too many YAML nodes, aliases or levels for kdeck to read; is it the right file?".to_string()
    } else {
        message.to_string()
    }
}

/// `FILE:LINE:COL: what` for a YAML error in a file.
pub fn yaml_problem_in(file: &str, e: &serde_saphyr::Error) -> String {
    let what = yaml_message(e);
    match e.location().map(|l| (l.line(), l.column())).filter(|(l, _)| *l > 0) {
        Some((l, c)) => format!("{file}:{l}:{c}: {what}"),
        None => format!("{file}: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_devices_and_large_files_are_not_read() {
        let e = read_text(Path::new("/dev/zero"), SMALL_LIMIT).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 5000]).unwrap();
        let e = read_text(&big, 4096).unwrap_err().to_string();
        assert!(e.contains("up to 4 KiB"), "{e}");
        assert!(
            read_text(&dir.path().join("nope"), 10)
                .unwrap_err()
                .to_string()
                .contains("no such file")
        );
        assert!(read_text(dir.path(), 10).unwrap_err().to_string().contains("directory"));
    }

    #[test]
    fn yaml_errors_are_one_line_without_the_text() {
        let e = serde_saphyr::from_str::<serde_json::Value>("a: 1\npassword: hunter2 : x\n").unwrap_err();
        let s = yaml_problem_in("o.yaml", &e);
        assert!(s.starts_with("o.yaml:2:"), "{s}");
        assert!(!s.contains('\n') && !s.contains("hunter2"), "{s}");
        let e = serde_saphyr::from_str::<serde_json::Value>("name: a\nname: b\n").unwrap_err();
        let s = yaml_problem_in("d.yaml", &e);
        assert!(s.contains("appears twice") && !s.contains("DuplicateKeyPolicy"), "{s}");
    }
}
