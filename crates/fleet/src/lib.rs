//! The fleet: one kube client per stored cluster, and what the clusters say.
//! Nothing here knows about the terminal; the CLI and the cockpit read it.

pub mod access;
pub mod apps;
pub mod builds;
pub mod client;
pub mod gateway;
pub mod kinds;
pub mod live;
pub mod logs;
pub mod web;

pub use client::{Problem, ProblemKind, describe};
pub use gateway::Gateway;
