//! The vocabulary of kdeck as plain data: serde types and their validation.
//! No I/O, no Kubernetes client, no terminal.

pub mod app;
pub mod canary;
pub mod clock;
pub mod cluster;
pub mod merge;
pub mod paas;
pub mod revision;
pub mod selector;
pub mod space;
pub mod validate;

pub use app::{
    AccessMode, App, AppPort, Autoscale, EnvEntry, EnvSource, Mount, MountSource, Probe, ProbeCheck, Probes, Protocol,
    Resources, WorkloadKind,
};
pub use canary::Canary;
pub use cluster::{Cluster, ClusterAuth, ExecPlugin, ImportSource, TlsSettings};
pub use paas::{
    Binding, BuildSettings, Bundle, Catalog, ChartVersion, Connector, ConnectorValue, Domain, IngressMode, Placement,
    Role, RoleGrant, Route, SavedBinding, SavedConfig, SavedRoute, Solution, SolutionSource, SubjectKind,
};
pub use revision::Revision;
pub use space::{AppRef, Space, SpaceOrigin, SpaceRef};
pub use validate::{ValidationError, ValidationErrors};

/// Text from a kubeconfig or a cluster, safe to print to a terminal:
/// control characters (ESC, BEL, CR, ...) are shown as `\x1b` escapes, so
/// that a name cannot retitle, clear or rewrite the user's terminal. Line
/// breaks are kept only when `keep_newlines`.
pub fn printable(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            let n = u32::from(c);
            if n <= 0xff {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
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

#[cfg(any(test, feature = "sample"))]
pub mod sample;

#[cfg(test)]
mod tests;
