//! Team mode: the settings a team shares (spaces, apps, routes, domains,
//! bindings, grants, catalogs, placements, solutions, revisions, canaries)
//! kept as ConfigMaps in a namespace of a cluster the team already runs,
//! the hub, whose etcd is the shared store and whose RBAC decides who may
//! change what. Nothing but namespaced objects is made there.
//!
//! Each kdeck keeps its local store as a copy: it pulls the hub's objects
//! into it, and a command's writes to shared trees go to the hub first,
//! each carrying the resourceVersion it last saw, so that two people
//! changing one entity get a conflict with both versions, never a silent
//! overwrite. Only then does the command land locally. Cluster credentials
//! stay each user's own.

mod clusters;
mod follow;
mod hub;
pub mod journal;
mod membership;
mod sync;

pub use follow::{HubState, follow};
pub use hub::{FORMAT, Hub, object_name};
pub use membership::{HubVersion, Membership};
pub use sync::{Pulled, init, join, leave};

/// The store trees the team shares; the rest (clusters with their
/// credentials, the journal, kdeck's own bookkeeping) stay local.
pub const SHARED: &[&str] = &[
    "spaces",
    "apps",
    "routes",
    "domains",
    "bindings",
    "solutions",
    "catalogs",
    "revisions",
    "canaries",
    "roles",
    "placements",
];

/// The tree as the `&'static str` the store's batches carry, when shared.
pub fn shared_tree(tree: &str) -> Option<&'static str> {
    SHARED.iter().copied().find(|t| *t == tree)
}

/// Why the team's hub did not take or give something, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamError {
    /// The hub did not answer: shared settings are read-only meanwhile.
    #[error(
        "team hub {hub} does not answer ({reason}){since}: the team's settings are read-only until it does; nothing was changed or queued"
    )]
    Unreachable { hub: String, reason: String, since: String },
    /// The hub's RBAC refused.
    #[error("the hub's RBAC does not let you {what} in {hub}/{namespace}: {reason}")]
    Forbidden {
        hub: String,
        namespace: String,
        what: String,
        reason: String,
    },
    /// Somebody else changed the entity since it was read here.
    #[error("{0}")]
    Conflict(Box<Conflict>),
    /// Objects written by a newer kdeck.
    #[error(
        "the hub's {object} is format {found}, written by a newer kdeck; this kdeck reads format {supported}: upgrade kdeck"
    )]
    Newer { object: String, found: u32, supported: u32 },
    /// Bad input: a hub that is not imported, a namespace that holds something else.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
}

/// Two changes of one entity: the hub's now, and the one refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "conflict: {tree} {key} was changed on the hub by {by} at {at} since you read it; nothing was changed. Theirs: {theirs}; yours: {yours}. kdeck now has theirs: run your change again on top of it"
)]
pub struct Conflict {
    pub tree: String,
    pub key: String,
    pub by: String,
    pub at: String,
    pub theirs: String,
    pub yours: String,
}

impl From<kdeck_store::StoreError> for TeamError {
    fn from(e: kdeck_store::StoreError) -> Self {
        TeamError::Other(e.to_string())
    }
}

impl TeamError {
    /// The HTTP status the hub answered with, when it said no.
    pub fn code(&self) -> Option<u16> {
        match self {
            TeamError::Forbidden { .. } => Some(403),
            TeamError::Conflict(_) => Some(409),
            _ => None,
        }
    }
}
