//! The cockpit's errors. Anything the user typed or a cluster said is shown
//! in the cockpit itself; these end it, or say why a piece could not be had.

/// Why the cockpit could not run.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("cannot take over the terminal: {0}")]
    Terminal(std::io::Error),
    #[error("cannot watch for signals: {0}")]
    Signals(std::io::Error),
    #[error("cannot draw: {0}")]
    Draw(String),
}

/// Why an edit of an object's YAML was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the file is not YAML: {0}")]
    NotYaml(String),
    #[error("the file must hold one object (a mapping)")]
    NotAnObject,
    #[error("{0} cannot be changed by an edit; put it back")]
    Fixed(String),
    #[error("cannot start the editor {editor:?}: {reason}")]
    Start { editor: String, reason: String },
    #[error("the editor {editor:?} ended with {status}; nothing applied (set $EDITOR to change it)")]
    Failed { editor: String, status: String },
}

/// A key, colour or style a user's file names that kdeck cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
