//! How a journal entry ended, in one line for a person: the same words in
//! the CLI's history and exit messages and in the cockpit's notices.

use crate::{Command, JournalEntry, Status};

/// Above this many items, a summary counts them instead of listing them.
const LISTED: usize = 3;

/// One line: what the command did, or why it did not (with the server's
/// HTTP code when a server said no).
pub fn summary(entry: &JournalEntry) -> String {
    let failed: Vec<_> = entry.items.iter().filter(|i| !i.ok).collect();
    let listed = |items: &mut dyn Iterator<Item = &kdeck_store::journal::ItemOutcome>| {
        items
            .map(|i| format!("{}: {}", i.item, i.message))
            .collect::<Vec<_>>()
            .join("; ")
    };
    // A bulk command is counted: its items are in the journal entry.
    let bulk = matches!(entry.command, Command::Copy(_));
    match &entry.status {
        Status::Pending => "running".into(),
        Status::Failed { reason, code, .. } if entry.items.is_empty() => {
            format!("{reason}{}", code.map(|c| format!(" (HTTP {c})")).unwrap_or_default())
        }
        _ if bulk => format!(
            "{} item(s), {} failed (journal entry {})",
            entry.items.len(),
            failed.len(),
            entry.id
        ),
        Status::Interrupted { reason } => reason.clone(),
        Status::Failed { reason, code, .. } if entry.items.len() <= LISTED || failed.is_empty() => {
            format!("{reason}{}", code.map(|c| format!(" (HTTP {c})")).unwrap_or_default())
        }
        Status::Applied if entry.items.is_empty() => "done".into(),
        Status::Applied if entry.items.len() <= LISTED => entry
            .items
            .iter()
            .map(|i| i.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        Status::PartiallyApplied if failed.len() <= LISTED => format!(
            "{} of {} items failed: {}",
            failed.len(),
            entry.items.len(),
            listed(&mut failed.iter().copied())
        ),
        _ => format!(
            "{} item(s), {} failed (journal entry {})",
            entry.items.len(),
            failed.len(),
            entry.id
        ),
    }
}
