//! kdeck: a terminal cockpit for running applications on many Kubernetes
//! clusters at once.
//!
//! Layers (see DESIGN.md): `model` (plain data) <- `store` (sled) <-
//! `command` (journal, validate, apply) <- `cli`.

pub mod cli;
pub mod clock;
pub mod command;
pub mod files;
pub mod fleet;
pub mod model;
pub mod sim;
pub mod store;
pub mod ui;
