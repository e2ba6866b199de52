//! The one place where a failure becomes the user's one-line message
//! and an exit code: 0 done, 1 failed, 2 bad usage or unreadable input,
//! 3 a partial answer, 128+N ended by signal N.

use super::*;

/// A CLI failure: the message for stderr and the exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
    /// Ends kdeck with no message: stdout was closed (`| head`).
    pub(crate) fn quiet() -> Self {
        Self {
            code: 0,
            message: String::new(),
        }
    }
    /// Ended by a signal: 128 + its number, as shells report it.
    pub(crate) fn signal(n: i32) -> Self {
        Self {
            code: u8::try_from(128 + n).unwrap_or(255),
            message: String::new(),
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::failed(e.to_string())
    }
}

impl From<kdeck_tui::error::TuiError> for CliError {
    fn from(e: kdeck_tui::error::TuiError) -> Self {
        CliError::failed(e.to_string())
    }
}

/// A command's failure: bad input is a usage error (2), a refusal or a
/// cluster's no is a failure (1).
impl From<kdeck_command::Failure> for CliError {
    fn from(f: kdeck_command::Failure) -> Self {
        use kdeck_command::FailureKind as K;
        match f.kind {
            K::Unreadable | K::Usage => CliError::usage(f.to_string()),
            K::Invalid | K::Cluster | K::Store => CliError::failed(f.to_string()),
        }
    }
}

impl From<kdeck_fleet::Problem> for CliError {
    fn from(p: kdeck_fleet::Problem) -> Self {
        CliError::failed(p.to_string())
    }
}
