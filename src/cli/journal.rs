//! Running a command from the CLI and reporting its journal entry;
//! `kdeck history`.

use super::*;

/// Runs one command and prints its outcome; the exit code follows it.
pub(super) fn run_command(executor: &Executor, command: Command, format: Format) -> Result<(), CliError> {
    let entry = runtime()?.block_on(executor.run(command))?;
    report(&entry, format)
}

/// Prints a journal entry's outcome; the exit code follows its status.
pub(super) fn report(entry: &JournalEntry, format: Format) -> Result<(), CliError> {
    // A failure with nothing per item says it all on stderr; scripts asking
    // for JSON or YAML always get the journal entry.
    if format != Format::Table || !entry.items.is_empty() {
        print_data(format, &entry, || {
            let mut t = Table::new(&["ITEM", "RESULT"]);
            for i in &entry.items {
                t.row([i.item.as_str(), i.message.as_str()]);
            }
            t
        })?;
    }
    let said = || format!("{}: {}", entry.command.verb(), kdeck_command::summary(entry));
    match &entry.status {
        Status::Applied => Ok(()),
        Status::Pending => Err(CliError::failed("the command did not finish")),
        Status::Interrupted { .. } => Err(CliError::failed(said())),
        Status::PartiallyApplied => Err(CliError::failed(format!(
            "{} (journal entry {}); run it again to finish, `kdeck history --failed` lists them",
            said(),
            entry.id
        ))),
        Status::Failed { kind, .. } => Err(match kind {
            FailureKind::Unreadable | FailureKind::Usage => CliError::usage(said()),
            FailureKind::Invalid | FailureKind::Cluster | FailureKind::Store => CliError::failed(said()),
        }),
    }
}

pub(super) fn history(executor: &Executor, args: &HistoryArgs, format: Format) -> Result<(), CliError> {
    if let Some(id) = args.rerun {
        let entry = executor.journal().get(id)?.ok_or_else(|| {
            CliError::usage(format!(
                "--rerun {id}: no journal entry {id}; `kdeck history` lists them"
            ))
        })?;
        eprintln!(
            "kdeck: running entry {id} again: {} {}",
            entry.command.verb(),
            entry.target
        );
        return run_command(executor, entry.command, format);
    }
    let now = time::OffsetDateTime::now_utc();
    let bound = |flag: &str, v: &Option<String>| -> Result<Option<String>, CliError> {
        v.as_deref()
            .map(|t| kdeck_command::history::time_bound(t, now).map_err(|e| CliError::usage(format!("--{flag} {e}"))))
            .transpose()
    };
    let filter = kdeck_command::history::Filter {
        actor: args.actor.clone(),
        cluster: args.cluster.clone(),
        space: args.space.clone(),
        command: args.command.clone(),
        since: bound("since", &args.since)?,
        until: bound("until", &args.until)?,
        failed: args.failed,
    };
    // In a team, the others' entries (read from the hub now) are among them.
    super::runtime()?.block_on(kdeck_command::team::pull_journal(executor));
    let mut entries: Vec<JournalEntry> = kdeck_command::team::with_team(executor, executor.journal().list()?);
    entries.retain(|e| filter.keeps(e));
    if let Some(n) = args.limit {
        let skip = entries.len().saturating_sub(n);
        entries.drain(..skip);
    }
    print_data(format, &entries, || {
        let mut t = Table::new(&["ID", "TIME", "ACTOR", "COMMAND", "TARGET", "STATUS", "REASON"]);
        for e in &entries {
            let reason = if e.status == Status::Applied {
                String::new()
            } else {
                kdeck_command::summary(e)
            };
            t.row([
                e.id.to_string().as_str(),
                &e.at,
                &e.actor,
                e.command.verb(),
                &e.target,
                e.status.word(),
                &reason,
            ]);
        }
        t
    })
}
