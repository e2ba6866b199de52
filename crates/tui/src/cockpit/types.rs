//! The shell's vocabulary: which pane, which spaces are in view, where the
//! keys go, and the work (effects) the event loop runs for the cockpit.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use kdeck_fleet::logs::LogRequest;
use kdeck_model::{AppRef, SpaceRef};

/// Above this many spaces in view, pods and builds are not watched (the
/// builds pane asks for a narrower view instead).
pub const FOCUS_LIMIT: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Apps,
    Routes,
    Builds,
    Logs,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Apps, Pane::Routes, Pane::Builds, Pane::Logs];
    pub fn title(self) -> &'static str {
        match self {
            Pane::Apps => "apps",
            Pane::Routes => "routes",
            Pane::Builds => "builds",
            Pane::Logs => "logs",
        }
    }
}

/// Which spaces the panes show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Cluster(String),
    Spaces(BTreeSet<SpaceRef>),
}

impl Scope {
    pub fn contains(&self, cluster: &str, ns: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Cluster(c) => c == cluster,
            Scope::Spaces(s) => s.iter().any(|r| r.cluster == cluster && r.namespace == ns),
        }
    }
    pub fn covers_cluster(&self, cluster: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Cluster(c) => c == cluster,
            Scope::Spaces(s) => s.iter().any(|r| r.cluster == cluster),
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "all spaces".into(),
            Scope::Cluster(c) => format!("{c} (all its spaces)"),
            Scope::Spaces(s) if s.len() == 1 => s.iter().next().map(ToString::to_string).unwrap_or_default(),
            Scope::Spaces(s) => format!("{} marked spaces", s.len()),
        }
    }
}

/// Where keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Tree,
    Pane,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: OffsetDateTime,
}

/// What the object under the cursor is, for YAML, describe and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub cluster: String,
    pub namespace: String,
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchKind {
    Yaml,
    Describe,
}

/// The id of a request the cockpit made (a fetch, a drift report, a
/// command, a copy plan): its answer carries it back, so that an answer to
/// an earlier request (the user moved on) is told apart by id, not by a title.
pub type RequestId = u64;

/// Work for the event loop: it owns the network. Every effect that expects
/// an answer carries the id the answer must bring back.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    OpenLogs {
        cluster: String,
        req: LogRequest,
    },
    /// A command for the command layer (journalled, like the CLI's).
    Run {
        id: RequestId,
        command: Box<kdeck_command::Command>,
    },
    Fetch {
        id: RequestId,
        what: FetchKind,
        object: ObjectRef,
    },
    /// Compare a stored app with its cluster; the answer fills the drift overlay.
    Drift {
        id: RequestId,
        app: AppRef,
    },
    /// Open the object's YAML in `$EDITOR` and apply the edit as a patch.
    EditYaml(ObjectRef),
    /// Plan a copy; the plan comes back to the copy overlay.
    PlanCopy {
        id: RequestId,
        spec: kdeck_command::copy::CopySpec,
    },
    /// Run a copy, reporting each item to the copy overlay.
    RunCopy {
        id: RequestId,
        spec: kdeck_command::copy::CopySpec,
    },
    /// Ask the running copy to stop after the items in flight.
    CancelCopy,
    /// Read who holds which role in these spaces; the answer fills the roles view.
    ListRoles {
        id: RequestId,
        spaces: Vec<SpaceRef>,
    },
    /// Read the journal through this filter; the answer fills the journal view.
    LoadJournal {
        id: RequestId,
        filter: kdeck_command::history::Filter,
    },
    /// Read an app's revisions and its cluster's rollout history.
    LoadRevisions {
        id: RequestId,
        app: AppRef,
        kind: kdeck_model::WorkloadKind,
    },
    /// What a command would change (a dry run); the answer fills a text view.
    DryRun {
        id: RequestId,
        command: Box<kdeck_command::Command>,
    },
    /// Read a space's quota, ConfigMaps and Secrets; the answer fills the space view.
    LoadSpace {
        id: RequestId,
        space: SpaceRef,
    },
    /// Read the catalogs' charts and the saved solutions; the answer fills the marketplace.
    LoadMarket {
        id: RequestId,
    },
    /// Read every cluster's Helm releases; the answer fills the releases view.
    LoadReleases {
        id: RequestId,
    },
    /// A release's revisions (`CLUSTER/NAMESPACE/NAME`), as text.
    ReleaseHistory {
        id: RequestId,
        release: String,
    },
    /// Ask the clusters again what the user may do in these spaces.
    Recheck(Vec<SpaceRef>),
    /// Tell the user, who may be looking elsewhere (a desktop notice).
    Notify {
        title: String,
        body: String,
    },
}

/// Which lists must be made again from the snapshots.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stale {
    pub tree: bool,
    pub apps: bool,
    pub routes: bool,
    pub builds: bool,
    pub pods: bool,
}

impl Stale {
    pub const ALL: Stale = Stale {
        tree: true,
        apps: true,
        routes: true,
        builds: true,
        pods: true,
    };
}
