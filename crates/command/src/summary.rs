//! How a journal entry ended, in one line for a person: the same words in
//! the CLI's history and exit messages and in the cockpit's notices.

use crate::{Command, JournalEntry, Status};

/// Above this many items, a summary counts them instead of listing them.
const LISTED: usize = 3;

/// One line: what the command did, or why it did not (with the server's
/// HTTP code when a server said no).
pub fn summary(entry: &JournalEntry) -> String {
    let failed: Vec<_> = entry.items.iter().filter(|i| !i.ok).collect();
    let refused = |reason: &str, code: &Option<u16>| {
        format!("{reason}{}", code.map(|c| format!(" (HTTP {c})")).unwrap_or_default())
    };
    let counted = || {
        format!(
            "{} item(s), {} failed (journal entry {})",
            entry.items.len(),
            failed.len(),
            entry.id
        )
    };
    // A bulk command is counted: its items are in the journal entry.
    let bulk = matches!(entry.command, Command::Copy(_));
    let few = entry.items.len() <= LISTED;
    match &entry.status {
        Status::Pending => "running".into(),
        Status::Failed { reason, code, .. } if entry.items.is_empty() || (!bulk && (few || failed.is_empty())) => {
            refused(reason, code)
        }
        _ if bulk => counted(),
        Status::Interrupted { reason } => reason.clone(),
        Status::Applied if entry.items.is_empty() => "done".into(),
        Status::Applied if few => entry
            .items
            .iter()
            .map(|i| i.message.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        Status::PartiallyApplied if failed.len() <= LISTED => format!(
            "{} of {} items failed: {}",
            failed.len(),
            entry.items.len(),
            failed
                .iter()
                .map(|i| format!("{}: {}", i.item, i.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        _ => counted(),
    }
}
