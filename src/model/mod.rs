//! The vocabulary of kdeck as plain data: serde types and their validation.
//! No I/O, no Kubernetes client, no terminal.

pub mod app;
pub mod cluster;
pub mod merge;
pub mod paas;
pub mod space;
pub mod validate;

pub use app::{
    AccessMode, App, AppPort, EnvEntry, EnvSource, Mount, MountSource, Probe, ProbeCheck, Probes, Protocol, Resources,
    WorkloadKind,
};
pub use cluster::{Cluster, ClusterAuth, ExecPlugin, ImportSource, TlsSettings};
pub use paas::{
    Binding, BuildSettings, Catalog, Connector, ConnectorValue, Domain, IngressMode, Role, RoleGrant, Route, Solution,
    SolutionSource, SubjectKind,
};
pub use space::{AppRef, Space, SpaceOrigin, SpaceRef};
pub use validate::{ValidationError, ValidationErrors};

#[cfg(test)]
pub(crate) mod tests;
