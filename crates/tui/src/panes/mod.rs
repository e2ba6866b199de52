//! The panes: one module each, each a [`crate::component::Component`] with
//! its own state; the rows of the list panes are built here from the fleet's
//! snapshots, and drawn with the shared table.

pub mod apps;
pub mod builds;
pub mod logs;
pub mod pods;
pub mod routes;
pub mod tree;

pub use apps::{AppRow, AppsPane};

use crate::keymap::Action;

/// The actions a list pane (apps, pods, routes, builds) offers, for its hints.
pub(crate) const LIST_COMMANDS: &[(Action, &str)] = &[
    (Action::Enter, "open"),
    (Action::Logs, "logs"),
    (Action::Yaml, "yaml"),
    (Action::Describe, "describe"),
    (Action::Mark, "mark"),
    (Action::Filter, "filter"),
    (Action::SortNext, "sort"),
    (Action::Back, "back"),
    (Action::Help, "help"),
];
/// The apps pane's: what changes an app first (struck through where the
/// user's role does not allow it), then the reads.
pub(crate) const APP_COMMANDS: &[(Action, &str)] = &[
    (Action::Enter, "pods"),
    (Action::Scale, "scale"),
    (Action::Restart, "restart"),
    (Action::Deploy, "deploy"),
    (Action::EditApp, "edit"),
    (Action::History, "history"),
    (Action::NewApp, "new"),
    (Action::Logs, "logs"),
    (Action::Yaml, "yaml"),
    (Action::Describe, "describe"),
    (Action::Mark, "mark"),
    (Action::Filter, "filter"),
    (Action::Back, "back"),
    (Action::Help, "help"),
];
pub use builds::{BuildRow, BuildsPane};
pub use logs::LogsPane;
pub use pods::{PodRow, PodsPane};
pub use routes::{RouteRow, RoutesPane};
pub use tree::{TreePane, TreeRow};
