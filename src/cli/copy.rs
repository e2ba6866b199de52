//! `kdeck copy` and `kdeck export`.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;

use clap::Args;

use super::output::{Format, Table, print_data};
use super::{CliError, report, runtime};
use kdeck_command::copy::{CopySpec, Event, HOST_TEMPLATE, OnConflict, Progress};
use kdeck_command::{Command, Executor};

#[derive(Args, Debug, Clone)]
pub struct CopyArgs {
    /// The space to copy from, CLUSTER/NAMESPACE
    #[arg(long, value_name = "SPACE")]
    pub from: Option<String>,
    /// An app in --from to copy (repeatable); all apps when neither --app nor --selector
    #[arg(long = "app", value_name = "NAME")]
    pub apps: Vec<String>,
    /// Copy the apps in --from whose labels match, as `k=v,k2=v2`
    #[arg(long, value_name = "LABELS")]
    pub selector: Option<String>,
    /// Apps to copy by full name, CLUSTER/NAMESPACE/APP (any spaces)
    #[arg(value_name = "APP")]
    pub refs: Vec<String>,
    /// A target space, CLUSTER/NAMESPACE (repeatable); made when missing
    #[arg(long = "to", value_name = "SPACE", required = true)]
    pub to: Vec<String>,
    /// When a target has an app of that name that is not a copy of the same source
    #[arg(long, default_value = "skip", value_parser = on_conflict_parser())]
    pub on_conflict: OnConflict,
    /// Route hosts in the target
    #[arg(long, default_value = HOST_TEMPLATE)]
    pub host_template: String,
    /// Replace the registry of every image
    #[arg(long, value_name = "REGISTRY")]
    pub registry: Option<String>,
    /// Replicas of every copy
    #[arg(long)]
    pub replicas: Option<u32>,
    /// Copy the Secrets the apps reference too (their data is never printed)
    #[arg(long)]
    pub with_secrets: bool,
    /// Print what would be done, per app and target, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

impl CopyArgs {
    pub fn spec(&self) -> CopySpec {
        CopySpec {
            apps: self.refs.clone(),
            from: self.from.clone(),
            names: self.apps.clone(),
            selector: self.selector.clone(),
            to: self.to.clone(),
            on_conflict: self.on_conflict,
            host_template: self.host_template.clone(),
            registry: self.registry.clone(),
            replicas: self.replicas,
            with_secrets: self.with_secrets,
        }
    }
}

/// Progress on stderr: one line per cluster, rewritten in place on a
/// terminal; every failure on a line of its own.
/// cluster → (planned, ok, failed)
fn progress_line(counts: &std::collections::BTreeMap<String, (usize, usize, usize)>) -> String {
    counts
        .iter()
        .map(|(c, (planned, ok, failed))| {
            format!(
                "{c} {}/{planned} done, {failed} failed, {} to go",
                ok + failed,
                planned.saturating_sub(ok + failed)
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

pub fn copy(ex: &Executor, args: &CopyArgs, format: Format) -> Result<(), CliError> {
    let spec = args.spec();
    let rt = runtime()?;
    if args.dry_run {
        let plan = rt
            .block_on(kdeck_command::copy::plan(ex, &spec))
            .map_err(|f| CliError::failed(f.reason))?;
        return print_data(format, &plan, || {
            eprintln!(
                "copy: on conflict: {} (--on-conflict skip|overwrite|rename)",
                plan.on_conflict.word()
            );
            let mut t = Table::new(&["APP", "TARGET", "WOULD", "OBJECTS", "NOTES"]);
            for s in &plan.new_spaces {
                t.row(["", s.as_str(), "create space", "", ""]);
            }
            for i in &plan.items {
                t.row([
                    i.source.as_str(),
                    &format!("{}/{}", i.target, i.name),
                    i.action,
                    &i.objects.join(", "),
                    &i.notes
                        .iter()
                        .map(String::as_str)
                        .chain(i.remedies.iter().map(|r| r.flag()))
                        .collect::<Vec<_>>()
                        .join("; "),
                ]);
            }
            t
        });
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let progress = Progress {
        tx: Some(tx),
        ..Default::default()
    };
    let cancel = progress.cancel.clone();
    let entry = rt.block_on(async {
        let tty = std::io::stderr().is_terminal();
        let printer = tokio::spawn(async move {
            let mut counts = std::collections::BTreeMap::new();
            while let Some(ev) = rx.recv().await {
                let d = match ev {
                    Event::Planned { cluster, items } => {
                        counts.entry(cluster).or_insert((0, 0, 0)).0 = items;
                        continue;
                    }
                    Event::Done(d) => d,
                };
                let c: &mut (usize, usize, usize) = counts.entry(d.cluster.clone()).or_default();
                if d.ok {
                    c.1 += 1;
                } else {
                    c.2 += 1;
                    eprintln!(
                        "{}copy: {} failed: {}",
                        if tty { "\r\x1b[K" } else { "" },
                        d.item,
                        d.message
                    );
                }
                if tty {
                    eprint!("\r\x1b[Kcopy: {}", progress_line(&counts));
                } else if (c.1 + c.2).is_multiple_of(10) {
                    eprintln!("copy: {}", progress_line(&counts));
                }
            }
            if !counts.is_empty() {
                eprintln!("{}copy: {}", if tty { "\r\x1b[K" } else { "" }, progress_line(&counts));
            }
        });
        let ctrl_c = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::SeqCst);
                eprintln!("\ncopy: cancelling; items already running finish, the rest are recorded as not started");
            }
        });
        let r = ex.run_with(Command::Copy(spec), &progress).await;
        drop(progress);
        ctrl_c.abort();
        let _ = printer.await;
        r
    })?;
    report(&entry, format)
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// CLUSTER/NAMESPACE, or CLUSTER/NAMESPACE/APP
    pub what: String,
    /// Include the Secrets (their data is written to the output)
    #[arg(long)]
    pub with_secrets: bool,
    /// Save a kdeck app (or every app of a space) as a solution with its routes, bindings, config and volumes, for `kdeck solutions import FILE` (one app: `kdeck apps create APP --from FILE`)
    #[arg(long, conflicts_with_all = ["with_secrets", "namespace"])]
    pub solution: bool,
    /// Write the objects into this namespace instead (to apply them as another space)
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
}

pub fn export(ex: &Executor, args: &ExportArgs) -> Result<(), CliError> {
    if args.solution {
        let name = args.what.rsplit('/').next().unwrap_or_default().to_string();
        let (s, notes) = runtime()?
            .block_on(kdeck_command::solutions::save(
                ex,
                std::slice::from_ref(&args.what),
                &name,
                "",
            ))
            .map_err(|f| CliError::failed(f.reason))?;
        for n in notes {
            eprintln!("export: {n}");
        }
        return super::output::out(&serde_saphyr::to_string(&s).map_err(|e| CliError::failed(e.to_string()))?);
    }
    let mut objs = runtime()?
        .block_on(kdeck_command::export::export(ex, &args.what, args.with_secrets))
        .map_err(|f| CliError::failed(f.reason))?;
    if let Some(ns) = &args.namespace {
        kdeck_model::validate::dns_label("--namespace", ns).map_err(|e| CliError::usage(e.to_string()))?;
        for o in &mut objs {
            if o["kind"] == "Namespace" {
                o["metadata"]["name"] = serde_json::json!(ns);
            } else {
                o["metadata"]["namespace"] = serde_json::json!(ns);
            }
        }
    }
    for o in &objs {
        let yaml = serde_saphyr::to_string(o).map_err(|e| CliError::failed(e.to_string()))?;
        super::output::out(&format!("---\n{yaml}"))?;
    }
    Ok(())
}

/// `--on-conflict`'s values, each with its help, as the command layer names them.
fn on_conflict_parser() -> impl clap::builder::TypedValueParser<Value = OnConflict> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = OnConflict::ALL.map(|c| PossibleValue::new(c.word()).help(c.help()));
    PossibleValuesParser::new(values).map(|w| OnConflict::ALL.into_iter().find(|c| c.word() == w).unwrap_or_default())
}
