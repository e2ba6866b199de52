//! The command line: parses arguments, builds commands, prints results.
//! Exit codes: 0 success, 1 the command failed (validation or a cluster said
//! no, or the store is busy), 2 bad usage or unreadable input.

mod access;
mod builds;
mod copy;
mod install;
mod lifecycle;
mod logs;
mod market;
mod output;
mod paas;
mod release;
mod roles;
mod solutions;
mod team;

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use kdeck_command::kubeconfig::{default_files, split_paths};
use kdeck_command::{Command, Executor, FailureKind, JournalEntry, Status, local_actor};
use kdeck_model::Cluster;
use kdeck_model::clock::SystemClock;
use kdeck_store::{Store, StoreError, default_data_dir};
use output::{Format, Table, print_data};

mod args;
mod demo;
mod demo_catalog;
mod error;
mod journal;
mod lists;
mod store;
use args::*;
use demo::*;
pub(crate) use error::*;
use journal::*;
use lists::*;
use store::*;

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not eprintln!: stderr may be a terminal that hung up.
            use std::io::Write;
            if !e.message.is_empty() {
                let _ = writeln!(std::io::stderr(), "kdeck: {}", kdeck_model::printable(&e.message, true));
            }
            ExitCode::from(e.code)
        }
    }
}

/// The process's one async runtime. Kube clients are cached per cluster
/// by the gateway and keep workers on the runtime that made them, so every
/// step of a command (resolving spaces, then running) must share it.
fn runtime() -> Result<&'static tokio::runtime::Runtime, CliError> {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    if let Some(rt) = RT.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the async runtime: {e}")))?;
    Ok(RT.get_or_init(|| rt))
}

fn data_dir(global: &Global) -> Result<PathBuf, CliError> {
    match &global.data_dir {
        Some(d) if d.as_os_str().is_empty() => Err(CliError::usage("--data-dir is empty; give a directory")),
        Some(d) => Ok(d.clone()),
        None => default_data_dir()
            .ok_or_else(|| CliError::usage("cannot find a data dir: HOME is not set; pass --data-dir DIR")),
    }
}

fn open_store(global: &Global) -> Result<Store, CliError> {
    let dir = data_dir(global)?;
    let store = Store::open(&dir).map_err(|e| match e {
        StoreError::Io { .. } | StoreError::DataDir { .. } => CliError::usage(e.to_string()),
        _ => CliError::failed(e.to_string()),
    })?;
    // Commands a killed kdeck left pending are marked interrupted.
    kdeck_command::Journal::new(store.clone())
        .recover(&kdeck_model::clock::rfc3339(time::OffsetDateTime::now_utc()))?;
    Ok(store)
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    let command = match cli.command {
        None => return cockpit_cmd(&cli.global),
        Some(Cmd::Sim(args)) => return sim_cmd(args),
        Some(Cmd::Demo(args)) => return demo_cmd(args, &cli.global),
        Some(Cmd::Store(cmd)) => return store_cmd(&cmd, &cli.global),
        Some(c) => c,
    };
    let store = open_store(&cli.global)?;
    let format = cli.global.output;
    let executor = Executor::new(store.clone(), local_actor(), Arc::new(SystemClock)).read_only(cli.global.read_only);
    match command {
        Cmd::Clusters(ClustersCmd::Import {
            files,
            contexts,
            update,
        }) => {
            let files = if files.is_empty() {
                default_files()
            } else {
                files.iter().flat_map(|f| split_paths(f)).collect()
            };
            let files = files.iter().map(|f| absolute(f)).collect();
            run_command(
                &executor,
                Command::ImportClusters {
                    files,
                    contexts,
                    update,
                },
                format,
            )
        }
        Cmd::Clusters(ClustersCmd::List { clusters }) => {
            let clusters: Vec<ClusterRow> = chosen_clusters(&executor, clusters.as_deref())?
                .iter()
                .map(ClusterRow::from)
                .collect();
            print_data(format, &clusters, || {
                let mut t = Table::new(&["NAME", "CONTEXT", "SERVER", "AUTH", "NAMESPACE", "SETTINGS", "LABELS"]);
                for c in &clusters {
                    let labels = if c.labels.is_empty() {
                        "-".to_string()
                    } else {
                        kdeck_command::clusters::labels_text(&c.labels)
                    };
                    t.row([
                        &c.name,
                        &c.context,
                        &c.server,
                        &c.auth,
                        c.namespace.as_deref().unwrap_or("-"),
                        &c.settings,
                        &labels,
                    ]);
                }
                t
            })
        }
        Cmd::Clusters(ClustersCmd::Label { name, changes }) => {
            run_command(&executor, Command::LabelCluster { name, changes }, format)
        }
        Cmd::Clusters(ClustersCmd::Set {
            name,
            writable,
            prod,
            not_prod,
            prod_by_name,
        }) => {
            // Here `--read-only` is the cluster's setting, not this run's.
            let read_only = if cli.global.read_only {
                Some(true)
            } else {
                writable.then_some(false)
            };
            let prod = if prod {
                Some(Some(true))
            } else if not_prod {
                Some(Some(false))
            } else {
                prod_by_name.then_some(None)
            };
            let executor = executor.clone().read_only(false);
            run_command(&executor, Command::SetCluster { name, read_only, prod }, format)
        }
        Cmd::Clusters(ClustersCmd::Remove { name, yes }) => {
            run_command(&executor, Command::RemoveCluster { name, yes }, format)
        }
        Cmd::History(args) => history(&executor, &args, format),
        Cmd::Spaces(SpacesCmd::List { clusters }) => {
            spaces_list(&store, chosen_clusters(&executor, clusters.as_deref())?, format)
        }
        Cmd::Spaces(SpacesCmd::Quota(args)) => lifecycle::quota(&executor, &args, format),
        Cmd::Config(cmd) => lifecycle::config(&executor, kdeck_command::config::Store::Config, &cmd, format),
        Cmd::Secrets(cmd) => lifecycle::config(&executor, kdeck_command::config::Store::Secret, &cmd, format),
        Cmd::Apps(AppsCmd::Volumes { app }) => lifecycle::volumes(&executor, &app, format),
        Cmd::Apps(AppsCmd::Autoscale(args)) => lifecycle::autoscale(&executor, &args, format),
        Cmd::Apps(AppsCmd::Canary(args)) => lifecycle::canary(&executor, &args, format),
        Cmd::Spaces(SpacesCmd::Create { space }) => run_command(&executor, Command::CreateSpace { space }, format),
        Cmd::Spaces(SpacesCmd::Attach { space }) => run_command(&executor, Command::AttachSpace { space }, format),
        Cmd::Spaces(SpacesCmd::Detach { space }) => run_command(&executor, Command::DetachSpace { space }, format),
        Cmd::Spaces(SpacesCmd::Delete { space, yes: false }) => Err(CliError::usage(format!(
            "spaces delete {space}: this deletes the namespace and everything in it; pass --yes to do it"
        ))),
        Cmd::Spaces(SpacesCmd::Delete { space, yes }) => {
            run_command(&executor, Command::DeleteSpace { space, yes }, format)
        }
        Cmd::Apps(AppsCmd::List {
            spaces,
            all: _,
            clusters,
        }) => apps_list(
            &store,
            &spaces,
            chosen_clusters(&executor, clusters.as_deref())?,
            format,
        ),
        Cmd::Logs(args) => logs::logs(&store, &args, format),
        Cmd::Apps(AppsCmd::Create(args)) => run_command(&executor, args.command()?, format),
        Cmd::Apps(AppsCmd::Edit(args)) => run_command(&executor, args.command()?, format),
        Cmd::Apps(AppsCmd::Deploy { app, dry_run: true, .. }) => paas::status(&executor, &app, format, true),
        Cmd::Apps(AppsCmd::Deploy {
            app,
            dry_run: false,
            wait,
        }) => run_command(
            &executor,
            Command::DeployApp {
                app,
                wait: wait.seconds(),
            },
            format,
        ),
        Cmd::Apps(AppsCmd::History { app }) => release::history(&executor, &app, format),
        Cmd::Apps(AppsCmd::Rollback {
            app, to, dry_run: true, ..
        }) => release::rollback_plan_print(&executor, &app, to, format),
        Cmd::Apps(AppsCmd::Rollback {
            app,
            to,
            dry_run: false,
            wait,
        }) => run_command(
            &executor,
            Command::RollbackApp {
                app,
                to,
                wait: wait.seconds(),
            },
            format,
        ),
        Cmd::Apps(AppsCmd::Scale { app, replicas }) => {
            run_command(&executor, Command::ScaleApp { app, replicas }, format)
        }
        Cmd::Apps(AppsCmd::Restart { app }) => run_command(&executor, Command::RestartApp { app }, format),
        Cmd::Apps(AppsCmd::Stop { app }) => run_command(&executor, Command::StopApp { app }, format),
        Cmd::Apps(AppsCmd::Start { app }) => run_command(&executor, Command::StartApp { app }, format),
        Cmd::Apps(AppsCmd::Delete { app, yes: false, .. }) => Err(CliError::usage(format!(
            "apps delete {app}: this deletes its objects in the cluster; pass --yes to do it"
        ))),
        Cmd::Apps(AppsCmd::Delete { app, purge, yes }) => {
            run_command(&executor, Command::DeleteApp { app, purge, yes }, format)
        }
        Cmd::Apps(AppsCmd::Show { app }) => paas::show(&executor, &app, format),
        Cmd::Apps(AppsCmd::Status { app }) => paas::status(&executor, &app, format, false),
        Cmd::Apps(AppsCmd::Adopt { app, replace }) => {
            run_command(&executor, Command::AdoptApp { app, replace }, format)
        }
        Cmd::Domains(cmd) => paas::domains(&executor, cmd, format),
        Cmd::Routes(cmd) => paas::routes(&executor, cmd, format),
        Cmd::Bind(args) => run_command(&executor, args.command()?, format),
        Cmd::Builds(cmd) => builds::builds(&executor, cmd, format),
        Cmd::Roles(cmd) => roles::roles(&executor, cmd, format),
        Cmd::Catalogs(cmd) => market::catalogs(&executor, cmd, format),
        Cmd::Market(cmd) => market::market(&executor, cmd, format),
        Cmd::Releases(cmd) => market::releases(&executor, cmd, format),
        Cmd::Placements(cmd) => install::placements(&executor, cmd, format),
        Cmd::Solutions(cmd) => solutions::solutions(&executor, cmd, format),
        Cmd::Team(cmd) => team::team(&executor, cmd, format),
        Cmd::Whoami {
            cluster: Some(name), ..
        } => access::whoami(&executor, vec![kdeck_command::cluster_of(&executor, &name)?], format),
        Cmd::Whoami {
            cluster: None,
            clusters,
        } => access::whoami(&executor, chosen_clusters(&executor, clusters.as_deref())?, format),
        Cmd::Can { space, verb, resource } => access::can(&executor, &space, &verb, &resource, format),
        Cmd::Copy(args) => copy::copy(&executor, &args, format),
        Cmd::Export(args) => copy::export(&executor, &args),
        Cmd::Sim(_) | Cmd::Demo(_) | Cmd::Store(_) => Ok(()),
    }
}

/// The stored clusters a `--clusters` selector picks (all without one),
/// said on stderr before anything is done.
pub(super) fn chosen_clusters(executor: &Executor, selector: Option<&str>) -> Result<Vec<Cluster>, CliError> {
    let Some(sel) = selector else {
        return Ok(executor.store().list::<Cluster>()?);
    };
    let picked = kdeck_command::clusters::select(executor, sel)?;
    let names: Vec<&str> = picked.iter().map(|c| c.name.as_str()).collect();
    eprintln!("kdeck: {} cluster(s) match {sel:?}: {}", picked.len(), names.join(", "));
    Ok(picked)
}

/// How long one cluster may take to answer a CLI pass.
const PASS_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reports the clusters that did not answer: exit 3 says the answer is
/// partial; when none of the `asked` clusters answered it is no answer, 1.
fn partial(problems: &[kdeck_fleet::Problem], asked: usize) -> Result<(), CliError> {
    if problems.is_empty() {
        return Ok(());
    }
    for p in problems {
        eprintln!("kdeck: {}", kdeck_model::printable(&p.to_string(), false));
    }
    use kdeck_fleet::ProblemKind as K;
    let failed: std::collections::BTreeSet<&str> = problems.iter().map(|p| p.cluster.as_str()).collect();
    // A cluster that refused the credentials or could not be reached said
    // nothing; one that forbade a list answered in part.
    let silent: std::collections::BTreeSet<&str> = problems
        .iter()
        .filter(|p| {
            matches!(
                p.kind,
                K::Unauthorized | K::Refused | K::Dns | K::Tls | K::Timeout | K::Config
            )
        })
        .map(|p| p.cluster.as_str())
        .collect();
    if asked > 0 && silent.len() >= asked {
        return Err(CliError::failed(format!(
            "no cluster answered ({asked} asked; see above)"
        )));
    }
    Err(CliError {
        code: 3,
        message: format!(
            "the answer is partial: {} of {asked} cluster(s) did not answer fully (see above)",
            failed.len()
        ),
    })
}

async fn start_sim(opts: kdeck_sim::SimOptions) -> Result<Vec<kdeck_sim::SimHandle>, CliError> {
    let port = opts.port_base;
    kdeck_sim::start(opts).await.map_err(|e| {
        CliError::failed(match port {
            Some(p) => format!("cannot start the simulated clusters on ports from {p}: {e}; pick another --port-base"),
            None => format!("cannot start the simulated clusters: {e}"),
        })
    })
}
