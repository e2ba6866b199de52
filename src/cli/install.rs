//! `kdeck market install`, `releases upgrade|rollback|uninstall` and
//! `placements list|apply|remove`: charts on many clusters at once, with a
//! line per cluster as each ends.

use std::io::IsTerminal;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::CliError;
use super::journal::report;
use super::output::{Format, Table, print_data};
use kdeck_command::copy::{Event, Progress};
use kdeck_command::market::{InstallSpec, UpgradeSpec};
use kdeck_command::{Command, Executor};
use kdeck_model::Placement;

#[derive(Args, Debug, Clone)]
pub struct InstallArgs {
    /// CHART or CHART@VERSION from a catalog (the newest without a version),
    /// or a saved solution with --to
    #[arg(value_name = "CHART[@VERSION]|SOLUTION")]
    pub what: String,
    /// The release's name [default: the chart's]
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// The clusters whose labels match (`tier=stage`, `region in (eu,us)`);
    /// saved as a placement, for `kdeck placements apply`
    #[arg(long = "clusters", value_name = "SELECTOR")]
    pub clusters: Option<String>,
    /// Only this catalog
    #[arg(long)]
    pub catalog: Option<String>,
    /// A YAML file of values (repeatable, later ones win)
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    pub values: Vec<String>,
    /// KEY=VALUE laid over the values, as helm --set (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// A solution's space: CLUSTER/SPACE (created when missing)
    #[arg(long, value_name = "CLUSTER/SPACE", conflicts_with_all = ["clusters", "name", "catalog", "values", "sets"])]
    pub to: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum PlacementsCmd {
    /// The saved placements: chart, version, selector and the clusters it chooses now
    List,
    /// Install placements [default: all] on the clusters their selectors choose now
    Apply { names: Vec<String> },
    /// Forget a placement (NAMESPACE/RELEASE); its releases stay
    Remove { name: String },
}

/// The values files, merged in order.
pub fn read_values(files: &[String]) -> Result<serde_json::Value, CliError> {
    let mut values = serde_json::json!({});
    for f in files {
        let text = kdeck_command::files::read_text(std::path::Path::new(f), kdeck_command::files::SMALL_LIMIT)
            .map_err(|why| CliError::usage(format!("--values {f}: cannot read it: {why}")))?;
        let v: serde_json::Value = serde_saphyr::from_str(&text)
            .map_err(|e| CliError::usage(format!("--values {}", kdeck_command::files::yaml_problem_in(f, &e))))?;
        match v {
            serde_json::Value::Object(_) => kdeck_model::merge::merge_patch(&mut values, &v),
            serde_json::Value::Null => {}
            _ => return Err(CliError::usage(format!("--values {f}: not a mapping of values"))),
        }
    }
    Ok(values)
}

fn check_sets(sets: &[String]) -> Result<(), CliError> {
    for s in sets {
        for part in s.split(',') {
            if !part.contains('=') || part.starts_with('=') {
                return Err(CliError::usage(format!("--set {s}: {part:?} is not KEY=VALUE")));
            }
        }
    }
    Ok(())
}

pub fn install(ex: &Executor, a: &InstallArgs, format: Format) -> Result<(), CliError> {
    if a.to.is_some() || (!a.what.contains('@') && ex.store().get::<kdeck_model::Solution>(&a.what)?.is_some()) {
        return super::solutions::install(
            ex,
            &a.what,
            a.to.as_deref(),
            a.clusters.as_deref(),
            a.namespace.as_deref(),
            format,
        );
    }
    let (chart, version) = match a.what.split_once('@') {
        Some((c, v)) if !v.is_empty() => (c.to_string(), Some(v.to_string())),
        Some((c, _)) => (c.to_string(), None),
        None => (a.what.clone(), None),
    };
    let Some(selector) = &a.clusters else {
        return Err(CliError::usage(
            "say where with --clusters SELECTOR (`kdeck clusters list` shows the labels; `--clusters tier=stage`), or --to CLUSTER/SPACE for a solution",
        ));
    };
    let namespace = a.namespace.clone().ok_or_else(|| {
        CliError::usage("say the namespace with --namespace NS (created on each cluster when missing)")
    })?;
    check_sets(&a.sets)?;
    let values = read_values(&a.values)?;
    let chosen = super::chosen_clusters(ex, Some(selector))?;
    let spec = InstallSpec {
        catalog: a.catalog.clone(),
        name: a.name.clone().unwrap_or_else(|| chart.clone()),
        chart,
        version,
        namespace,
        clusters: chosen.into_iter().map(|c| c.name).collect(),
        selector: Some(selector.clone()),
        values,
        sets: a.sets.clone(),
    };
    run_fleet(ex, Command::InstallChart(spec), format)
}

/// Runs a command over clusters with a line on stderr for each cluster as
/// it ends (`3/10`), then the per-cluster report.
pub fn run_fleet(ex: &Executor, command: Command, format: Format) -> Result<(), CliError> {
    let verb = command.verb();
    let rt = super::runtime()?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let progress = Progress {
        tx: Some(tx),
        ..Default::default()
    };
    let entry = rt.block_on(async {
        let tty = std::io::stderr().is_terminal();
        let printer = tokio::spawn(async move {
            let (mut planned, mut done) = (0, 0);
            while let Some(ev) = rx.recv().await {
                match ev {
                    Event::Planned { items, .. } => planned += items,
                    Event::Done(d) => {
                        done += 1;
                        let mark = if d.ok { "" } else { "failed: " };
                        eprintln!(
                            "{}{verb}: [{done}/{planned}] {} {mark}{}",
                            if tty { "\r\x1b[K" } else { "" },
                            d.cluster,
                            kdeck_model::printable(&d.message, false)
                        );
                    }
                }
            }
        });
        let r = ex.run_with(command, &progress).await;
        drop(progress);
        let _ = printer.await;
        r
    })?;
    report(&entry, format)
}

/// The clusters a release command aims at: the one a `CLUSTER/NS/NAME`
/// names, else those `--clusters` chooses (every cluster without it); and
/// the release as `NS/NAME`.
pub fn release_target(ex: &Executor, release: &str, selector: Option<&str>) -> Result<(String, Vec<String>), CliError> {
    let parts: Vec<&str> = release.split('/').collect();
    match parts.as_slice() {
        [cluster, ns, name] => {
            if selector.is_some() {
                return Err(CliError::usage(format!(
                    "{release} names its cluster; --clusters is for NAMESPACE/NAME"
                )));
            }
            kdeck_command::cluster_of(ex, cluster)?;
            Ok((format!("{ns}/{name}"), vec![cluster.to_string()]))
        }
        [_, _] => {
            let chosen = super::chosen_clusters(ex, selector)?;
            Ok((release.to_string(), chosen.into_iter().map(|c| c.name).collect()))
        }
        _ => Err(CliError::usage(format!(
            "release {release:?}: write it NAMESPACE/NAME (on every cluster that has it) or CLUSTER/NAMESPACE/NAME"
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn upgrade(
    ex: &Executor,
    release: &str,
    selector: Option<&str>,
    version: Option<String>,
    catalog: Option<String>,
    values: &[String],
    sets: Vec<String>,
    reuse_values: bool,
    format: Format,
) -> Result<(), CliError> {
    check_sets(&sets)?;
    let given = if values.is_empty() {
        None
    } else {
        Some(read_values(values)?)
    };
    let (release, clusters) = release_target(ex, release, selector)?;
    run_fleet(
        ex,
        Command::UpgradeRelease(UpgradeSpec {
            release,
            clusters,
            catalog,
            version,
            values: given,
            sets,
            reuse_values,
        }),
        format,
    )
}

#[derive(Serialize)]
struct PlacementRow {
    name: String,
    chart: String,
    version: String,
    catalog: String,
    selector: String,
    clusters: Vec<String>,
    updated: String,
}

pub fn placements(ex: &Executor, cmd: PlacementsCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        PlacementsCmd::Apply { names } => run_fleet(ex, Command::ApplyPlacements { names }, format),
        PlacementsCmd::Remove { name } => super::journal::run_command(ex, Command::RemovePlacement { name }, format),
        PlacementsCmd::List => {
            let mut rows = Vec::new();
            for p in ex.store().list::<Placement>()? {
                rows.push(PlacementRow {
                    name: p.key(),
                    clusters: kdeck_command::market::placed_on(ex, &p)?,
                    chart: p.chart,
                    version: p.version,
                    catalog: p.catalog,
                    selector: p.selector,
                    updated: p.updated_at,
                });
            }
            let now = time::OffsetDateTime::now_utc();
            print_data(format, &rows, || {
                let mut t = Table::new(&["NAME", "CHART", "VERSION", "CATALOG", "SELECTOR", "CLUSTERS NOW", "AGE"]);
                for r in &rows {
                    let on = r.clusters.join(",");
                    let age = super::output::age(&r.updated, now);
                    t.row([
                        r.name.as_str(),
                        r.chart.as_str(),
                        r.version.as_str(),
                        r.catalog.as_str(),
                        r.selector.as_str(),
                        on.as_str(),
                        age.as_str(),
                    ]);
                }
                t
            })
        }
    }
}
