//! `kdeck store check|restore`.

use super::*;

pub(super) fn store_cmd(cmd: &StoreCmd, global: &Global) -> Result<(), CliError> {
    let dir = data_dir(global)?;
    match cmd {
        StoreCmd::Check => {
            let report = Store::check(&dir)?;
            print_data(global.output, &report, || {
                let mut t = Table::new(&["TREE", "IN STORE", "IN BACKUP", "LOST ON RESTORE"]);
                for tr in &report.trees {
                    let opt = |n: Option<usize>| n.map_or("?".to_string(), |n| n.to_string());
                    t.row([
                        tr.tree.as_str(),
                        &opt(tr.in_store),
                        &tr.in_backup.to_string(),
                        &opt(tr.lost_on_restore),
                    ]);
                }
                t
            })?;
            let backup = match &report.backup_at {
                Some(t) => format!("a backup from {t}"),
                None => "no backup".to_string(),
            };
            match &report.damage {
                None => {
                    eprintln!("kdeck: the store reads; {backup}");
                    Ok(())
                }
                Some(d) => Err(CliError::failed(format!(
                    "the store is damaged: {d}; {backup}{}",
                    if report.backup_at.is_some() {
                        "; `kdeck store restore` builds the store again from it"
                    } else {
                        ""
                    }
                ))),
            }
        }
        StoreCmd::Restore { yes } => {
            if !yes {
                let report = Store::check(&dir)?;
                if report.readable {
                    let lost: usize = report.trees.iter().filter_map(|t| t.lost_on_restore).sum();
                    return Err(CliError::usage(format!(
                        "the store reads; restoring the backup{} would lose {lost} entries changed since; pass --yes to restore anyway",
                        report.backup_at.map(|t| format!(" from {t}")).unwrap_or_default()
                    )));
                }
            }
            let (backup, aside) = Store::restore(&dir)?;
            eprintln!(
                "kdeck: the store is built again from the backup of {} ({} clusters, {} apps, journal up to entry {}); the old one is in {}; changes made after the backup are not in it",
                backup.written_at,
                backup.count("clusters"),
                backup.count("apps"),
                backup.last_journal_id().unwrap_or(0),
                aside.display()
            );
            Ok(())
        }
    }
}
