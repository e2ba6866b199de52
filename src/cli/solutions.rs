//! `kdeck solutions save|import|list|remove`, and installing one with
//! `kdeck market install SOLUTION --to CLUSTER/SPACE`.

use clap::Subcommand;
use serde::Serialize;

use super::CliError;
use super::journal::run_command;
use super::output::{Format, Table, print_data};
use kdeck_command::{Command, Executor};
use kdeck_model::{Solution, SolutionSource};

#[derive(Subcommand, Debug)]
pub enum SolutionsCmd {
    /// Save apps (CLUSTER/SPACE/APP…, or a whole CLUSTER/SPACE) with their routes, bindings, config and volumes
    Save {
        #[arg(required = true, value_name = "APP|SPACE")]
        what: Vec<String>,
        /// The solution's name in the marketplace
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Keep a solution file (`kdeck export --solution` writes one) in the marketplace
    Import { file: String },
    /// The saved solutions
    List,
    /// Forget a solution
    Remove { name: String },
}

#[derive(Serialize)]
struct SolutionRow {
    name: String,
    apps: Vec<String>,
    bindings: usize,
    config: usize,
    description: String,
}

pub fn solutions(ex: &Executor, cmd: SolutionsCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        SolutionsCmd::Save {
            what,
            name,
            description,
        } => {
            kdeck_model::validate::dns_label("--name", &name).map_err(|e| CliError::usage(e.to_string()))?;
            let (s, notes) =
                super::runtime()?.block_on(kdeck_command::solutions::save(ex, &what, &name, &description))?;
            for n in notes {
                eprintln!("solutions save: {n}");
            }
            run_command(ex, Command::SaveSolution(s), format)
        }
        SolutionsCmd::Import { file } => {
            let text = kdeck_command::files::read_text(std::path::Path::new(&file), kdeck_command::files::SMALL_LIMIT)
                .map_err(|why| CliError::usage(format!("{file}: cannot read it: {why}")))?;
            let s: Solution = serde_saphyr::from_str(&text).map_err(|e| {
                CliError::usage(format!(
                    "{}; not a solution (`kdeck export APP --solution` writes one)",
                    kdeck_command::files::yaml_problem_in(&file, &e)
                ))
            })?;
            run_command(ex, Command::SaveSolution(s), format)
        }
        SolutionsCmd::Remove { name } => run_command(ex, Command::RemoveSolution { name }, format),
        SolutionsCmd::List => {
            let rows: Vec<SolutionRow> = ex
                .store()
                .list::<Solution>()?
                .into_iter()
                .map(|s| {
                    let (apps, bindings, config) = match &s.source {
                        SolutionSource::Apps(b) => (
                            b.apps.iter().map(|a| a.app.name.clone()).collect(),
                            b.bindings.len(),
                            b.config.len(),
                        ),
                        SolutionSource::AppTemplate { app } => (vec![app.app.name.clone()], 0, 0),
                        SolutionSource::HelmChart { chart, .. } => (vec![format!("chart {chart}")], 0, 0),
                    };
                    SolutionRow {
                        name: s.name,
                        apps,
                        bindings,
                        config,
                        description: s.description,
                    }
                })
                .collect();
            print_data(format, &rows, || {
                let mut t = Table::new(&["NAME", "APPS", "BINDINGS", "CONFIG", "DESCRIPTION"]);
                for r in &rows {
                    let (apps, b, c) = (r.apps.join(","), r.bindings.to_string(), r.config.to_string());
                    t.row([
                        r.name.as_str(),
                        apps.as_str(),
                        b.as_str(),
                        c.as_str(),
                        r.description.as_str(),
                    ]);
                }
                t
            })
        }
    }
}

/// `market install SOLUTION --to CLUSTER/SPACE`, or on every cluster a
/// selector chooses, in `--namespace`.
pub fn install(
    ex: &Executor,
    name: &str,
    to: Option<&str>,
    selector: Option<&str>,
    namespace: Option<&str>,
    format: Format,
) -> Result<(), CliError> {
    let spaces = match (to, selector) {
        (Some(to), _) => {
            kdeck_model::SpaceRef::parse("--to", to).map_err(|e| CliError::usage(e.to_string()))?;
            vec![to.to_string()]
        }
        (None, Some(sel)) => {
            let ns = namespace
                .ok_or_else(|| CliError::usage("with --clusters, say the space's namespace with --namespace NS"))?;
            kdeck_model::validate::dns_label("--namespace", ns).map_err(|e| CliError::usage(e.to_string()))?;
            super::chosen_clusters(ex, Some(sel))?
                .into_iter()
                .map(|c| format!("{}/{ns}", c.name))
                .collect()
        }
        (None, None) => {
            return Err(CliError::usage(format!(
                "say where solution {name} goes: --to CLUSTER/SPACE, or --clusters SELECTOR --namespace NS"
            )));
        }
    };
    super::install::run_fleet(
        ex,
        Command::InstallSolution {
            solution: name.to_string(),
            spaces,
        },
        format,
    )
}
