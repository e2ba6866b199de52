//! The command line: parses arguments, builds commands, prints results.
//! Exit codes: 0 success, 1 the command failed (validation or a cluster said
//! no, or the store is busy), 2 bad usage or unreadable input.

mod copy;
mod logs;
mod output;
mod paas;

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

#[derive(Parser, Debug)]
#[command(
    name = "kdeck",
    version,
    about = "A terminal cockpit for applications on many Kubernetes clusters"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// Without a command: the cockpit, on the stored clusters
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Where the store lives [default: $XDG_DATA_HOME/kdeck or ~/.local/share/kdeck]
    #[arg(long, env = "KDECK_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Output format
    #[arg(short = 'o', long = "output", global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Change nothing: every changing command is refused (exit 1) and the
    /// refusal journalled; the cockpit shows it in its header
    #[arg(long, global = true)]
    pub read_only: bool,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Clusters kdeck knows: import them from kubeconfig files, list, remove
    #[command(subcommand)]
    Clusters(ClustersCmd),
    /// The command journal: every change kdeck made or tried, newest last
    History(HistoryArgs),
    /// Spaces: every namespace on every cluster, and the ones kdeck knows
    #[command(subcommand)]
    Spaces(SpacesCmd),
    /// Apps: Deployments and StatefulSets, with their routes
    #[command(subcommand)]
    Apps(AppsCmd),
    /// Logs of an app's pods (merged, with a prefix) or of named pods
    Logs(logs::LogsArgs),
    /// DNS suffixes per cluster, for route hosts and their TLS
    #[command(subcommand)]
    Domains(paas::DomainsCmd),
    /// Routes: host[/path] to an app, as Ingresses
    #[command(subcommand)]
    Routes(paas::RoutesCmd),
    /// Bind an app to a connector another app offers: env vars from it
    Bind(paas::BindArgs),
    /// Copy apps to other spaces, often on other clusters (planned, per item, rerunnable)
    Copy(copy::CopyArgs),
    /// Multi-document YAML of a space or an app that `kubectl apply -f` takes
    /// (server fields stripped); `--solution` saves an app to create again
    Export(copy::ExportArgs),
    /// The store itself: check it against its backup, or restore that backup
    #[command(subcommand)]
    Store(StoreCmd),
    /// Run simulated Kubernetes clusters on loopback until Ctrl-C
    Sim(SimArgs),
    /// Try kdeck on simulated clusters, with a separate throw-away store
    Demo(DemoArgs),
}

#[derive(Args, Debug, Clone)]
pub struct SimFleetArgs {
    /// How many clusters
    #[arg(long, default_value_t = 3)]
    clusters: usize,
    /// Seed data: empty, small (5 spaces x 4 apps per cluster), medium (20 x 10),
    /// large (100 x 20), or a YAML file `{spaces: N, apps: M}`
    #[arg(long, default_value = "small")]
    fleet: String,
    /// Port of the first cluster; the others follow [default: random ports]
    #[arg(long, value_name = "PORT")]
    port_base: Option<u16>,
    /// Updates per second per cluster, to watch things move
    #[arg(long, default_value_t = 0, value_name = "N")]
    churn: u32,
}

#[derive(Args, Debug)]
pub struct SimArgs {
    #[command(flatten)]
    fleet: SimFleetArgs,
    /// Where to write a kubeconfig with one context per cluster
    #[arg(long, value_name = "FILE")]
    kubeconfig_out: PathBuf,
    /// Who the kubeconfig logs in as: admin, developer (edit) or auditor (view)
    #[arg(long, default_value = "admin")]
    user: String,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    fleet: SimFleetArgs,
    /// Print the clusters and wait for Ctrl-C instead of opening the cockpit
    /// (also what happens when stdout is not a terminal)
    #[arg(long)]
    no_cockpit: bool,
    /// Write images of the main screens (SVG, 160x48) into DIR and exit
    #[arg(long, value_name = "DIR", conflicts_with = "no_cockpit")]
    screenshots: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ClustersCmd {
    /// Store the contexts of kubeconfig files as clusters (no network needed)
    Import {
        /// Kubeconfig files, merged in order as KUBECONFIG does; each may be a
        /// ':'-separated list [default: $KUBECONFIG, else ~/.kube/config]
        #[arg(value_name = "FILE")]
        files: Vec<String>,
        /// Import only this context (repeatable) [default: all]
        #[arg(long = "context", value_name = "C")]
        contexts: Vec<String>,
        /// Refresh the credentials of contexts imported before
        #[arg(long)]
        update: bool,
    },
    /// List the stored clusters
    List,
    /// Forget a cluster and what is stored for it; changes nothing in the cluster
    Remove {
        name: String,
        /// Also when apps are stored for it
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SpacesCmd {
    /// Every namespace on every cluster, marked when kdeck created or attached it
    List,
    /// Create namespace NS on CLUSTER, labelled managed-by kdeck
    Create {
        #[arg(value_name = "CLUSTER/NS")]
        space: String,
    },
    /// Adopt an existing namespace as a space, changing nothing in it
    Attach {
        #[arg(value_name = "CLUSTER/NS")]
        space: String,
    },
    /// Forget a space; the namespace stays as it is
    Detach {
        #[arg(value_name = "SPACE")]
        space: String,
    },
    /// Delete the namespace with everything in it
    Delete {
        #[arg(value_name = "SPACE")]
        space: String,
        /// Yes, delete it
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AppsCmd {
    /// The apps of every cluster (default) or of some spaces, from one pass over the clusters
    List {
        /// Only this space, CLUSTER/NAMESPACE (repeatable)
        #[arg(long = "space", value_name = "SPACE", conflicts_with = "all")]
        spaces: Vec<String>,
        /// Every space on every cluster (the default)
        #[arg(long)]
        all: bool,
    },
    /// Store an app's settings as a draft (nothing in the cluster yet)
    Create(paas::CreateArgs),
    /// Change an app's stored settings (the next deploy applies them)
    Edit(paas::EditArgs),
    /// Apply the app's objects: workload, Service, Ingresses (server-side apply)
    Deploy {
        /// CLUSTER/SPACE/APP
        app: String,
        /// Print the objects that would be applied, and apply nothing
        #[arg(long)]
        dry_run: bool,
        /// Wait for the rollout to be ready (fails early when a pod cannot start)
        #[arg(long)]
        wait: bool,
        /// How long --wait waits, in seconds
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        timeout: u64,
    },
    /// Set the replica count (and apply it when deployed)
    Scale { app: String, replicas: u32 },
    /// Roll the pods one by one
    Restart { app: String },
    /// 0 replicas in the cluster; the settings keep the count
    Stop { app: String },
    /// Back to the stored replica count
    Start { app: String },
    /// Delete the app's objects in the cluster (--purge forgets its settings too)
    Delete {
        app: String,
        #[arg(long)]
        purge: bool,
        #[arg(long)]
        yes: bool,
    },
    /// The stored settings and the objects deploy applies, as YAML
    Show { app: String },
    /// Each of the app's objects against the cluster: in step, or what differs (drift)
    Status { app: String },
    /// Store an app kdeck did not create (its workload and routes), to manage it
    Adopt {
        app: String,
        /// For an app kdeck stores already: take the cluster's image,
        /// replicas, ports, env, command and labels over the stored ones
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum StoreCmd {
    /// Whether the store reads, and what a restore from its backup would lose
    Check,
    /// Move the store aside and build it again from its backup (kdeck keeps
    /// one beside the store, updated a few seconds after each change)
    Restore {
        /// Also when the store still reads (what changed since the backup is lost)
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Only commands that failed, partly failed or were interrupted
    #[arg(long)]
    failed: bool,
    /// Run the command of journal entry ID again (a new entry records it)
    #[arg(long, value_name = "ID", conflicts_with_all = ["failed", "limit"])]
    rerun: Option<u64>,
    /// Only the last N entries
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

/// A CLI failure: the message for stderr and the exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
    fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
    /// Ends kdeck with no message: stdout was closed (`| head`).
    fn quiet() -> Self {
        Self {
            code: 0,
            message: String::new(),
        }
    }
    /// Ended by a signal: 128 + its number, as shells report it.
    fn signal(n: i32) -> Self {
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

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the async runtime: {e}")))
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

fn store_cmd(cmd: &StoreCmd, global: &Global) -> Result<(), CliError> {
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
        Cmd::Clusters(ClustersCmd::List) => {
            let clusters: Vec<ClusterRow> = store.list::<Cluster>()?.iter().map(ClusterRow::from).collect();
            print_data(format, &clusters, || {
                let mut t = Table::new(&["NAME", "CONTEXT", "SERVER", "AUTH", "NAMESPACE"]);
                for c in &clusters {
                    t.row([
                        &c.name,
                        &c.context,
                        &c.server,
                        &c.auth,
                        c.namespace.as_deref().unwrap_or("-"),
                    ]);
                }
                t
            })
        }
        Cmd::Clusters(ClustersCmd::Remove { name, yes }) => {
            run_command(&executor, Command::RemoveCluster { name, yes }, format)
        }
        Cmd::History(args) => history(&executor, &args, format),
        Cmd::Spaces(SpacesCmd::List) => spaces_list(&store, format),
        Cmd::Spaces(SpacesCmd::Create { space }) => run_command(&executor, Command::CreateSpace { space }, format),
        Cmd::Spaces(SpacesCmd::Attach { space }) => run_command(&executor, Command::AttachSpace { space }, format),
        Cmd::Spaces(SpacesCmd::Detach { space }) => run_command(&executor, Command::DetachSpace { space }, format),
        Cmd::Spaces(SpacesCmd::Delete { space, yes: false }) => Err(CliError::usage(format!(
            "spaces delete {space}: this deletes the namespace and everything in it; pass --yes to do it"
        ))),
        Cmd::Spaces(SpacesCmd::Delete { space, yes }) => {
            run_command(&executor, Command::DeleteSpace { space, yes }, format)
        }
        Cmd::Apps(AppsCmd::List { spaces, all: _ }) => apps_list(&store, &spaces, format),
        Cmd::Logs(args) => logs::logs(&store, &args, format),
        Cmd::Apps(AppsCmd::Create(args)) => run_command(&executor, args.command()?, format),
        Cmd::Apps(AppsCmd::Edit(args)) => match args.command() {
            Ok(cmd) => run_command(&executor, cmd, format),
            Err(e) => Err(CliError::usage(e)),
        },
        Cmd::Apps(AppsCmd::Deploy { app, dry_run: true, .. }) => paas::status(&executor, &app, format, true),
        Cmd::Apps(AppsCmd::Deploy {
            app,
            dry_run: false,
            wait,
            timeout,
        }) => run_command(
            &executor,
            Command::DeployApp {
                app,
                wait: wait.then_some(timeout),
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
        Cmd::Copy(args) => copy::copy(&executor, &args, format),
        Cmd::Export(args) => copy::export(&executor, &args),
        Cmd::Sim(_) | Cmd::Demo(_) | Cmd::Store(_) => Ok(()),
    }
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

fn apps_list(store: &Store, spaces: &[String], format: Format) -> Result<(), CliError> {
    let only = spaces
        .iter()
        .map(|s| kdeck_model::SpaceRef::parse("--space", s).map_err(|e| CliError::usage(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let clusters = store.list::<Cluster>()?;
    for s in &only {
        if !clusters.iter().any(|c| c.name == s.cluster) {
            return Err(CliError::usage(format!(
                "--space {s}: no cluster named {:?}; `kdeck clusters list` shows them",
                s.cluster
            )));
        }
    }
    let attached: Vec<kdeck_model::SpaceRef> = store
        .list::<kdeck_model::Space>()?
        .into_iter()
        .map(|s| s.space)
        .collect();
    let gateway = kdeck_fleet::Gateway::new();
    let pass = runtime()?.block_on(kdeck_fleet::apps::list_apps(
        &gateway,
        &clusters,
        if only.is_empty() { None } else { Some(&only) },
        &attached,
        PASS_LIMIT,
    ));
    let now = time::OffsetDateTime::now_utc();
    print_data(format, &pass.rows, || {
        let mut t = Table::new(&["NAME", "SPACE", "KIND", "READY", "IMAGE", "ROUTES", "AGE"]);
        for r in &pass.rows {
            let ready = format!("{}/{}", r.ready, r.desired);
            let routes = if r.routes.is_empty() {
                "-".to_string()
            } else {
                r.routes.join(",")
            };
            t.row([
                r.name.as_str(),
                &r.space,
                &r.kind,
                &ready,
                &r.image,
                &routes,
                &output::age(&r.created, now),
            ]);
        }
        t
    })?;
    let asked = if only.is_empty() {
        clusters.len()
    } else {
        only.iter()
            .map(|s| s.cluster.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    partial(&pass.problems, asked)
}

/// A space as `spaces list` shows it: live state joined with what kdeck stored.
#[derive(Debug, Serialize)]
struct SpaceRow {
    space: String,
    /// Active, Terminating, missing (stored but gone), unknown (the cluster did not say).
    status: String,
    /// created / attached, when kdeck knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    kdeck: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
}

fn spaces_list(store: &Store, format: Format) -> Result<(), CliError> {
    let clusters = store.list::<Cluster>()?;
    let stored = store.list::<kdeck_model::Space>()?;
    let pass = runtime()?.block_on(kdeck_fleet::apps::list_namespaces(
        &kdeck_fleet::Gateway::new(),
        &clusters,
        PASS_LIMIT,
    ));
    let failed: Vec<&str> = clusters
        .iter()
        .filter(|c| pass.problems.iter().any(|p| p.cluster == c.name))
        .map(|c| c.name.as_str())
        .collect();
    let origin = |space: &str| {
        stored
            .iter()
            .find(|s| s.space.to_string() == space)
            .map(|s| match s.origin {
                kdeck_model::SpaceOrigin::Created => "created".to_string(),
                kdeck_model::SpaceOrigin::Attached => "attached".to_string(),
            })
    };
    let mut rows: Vec<SpaceRow> = pass
        .rows
        .iter()
        .map(|n| SpaceRow {
            space: n.space.clone(),
            status: n.phase.clone(),
            kdeck: origin(&n.space),
            created: Some(n.created.clone()),
        })
        .collect();
    for s in &stored {
        let name = s.space.to_string();
        if !rows.iter().any(|r| r.space == name) {
            let status = if failed.contains(&s.space.cluster.as_str()) {
                "unknown"
            } else {
                "missing"
            };
            rows.push(SpaceRow {
                space: name.clone(),
                status: status.into(),
                kdeck: origin(&name),
                created: None,
            });
        }
    }
    rows.sort_by(|a, b| a.space.cmp(&b.space));
    let now = time::OffsetDateTime::now_utc();
    print_data(format, &rows, || {
        let mut t = Table::new(&["SPACE", "STATUS", "KDECK", "AGE"]);
        for r in &rows {
            let age = r
                .created
                .as_deref()
                .map(|c| output::age(c, now))
                .unwrap_or_else(|| "-".into());
            t.row([r.space.as_str(), &r.status, r.kdeck.as_deref().unwrap_or("-"), &age]);
        }
        t
    })?;
    partial(&pass.problems, clusters.len())
}

fn sim_options(a: &SimFleetArgs) -> Result<kdeck_sim::SimOptions, CliError> {
    if a.clusters == 0 || a.clusters > 200 {
        return Err(CliError::usage(format!("--clusters {}: give 1 to 200", a.clusters)));
    }
    let fleet = kdeck_sim::FleetSize::parse(&a.fleet).map_err(CliError::usage)?;
    Ok(kdeck_sim::SimOptions {
        clusters: a.clusters,
        fleet,
        port_base: a.port_base,
        churn_per_sec: a.churn,
        config: kdeck_sim::SimConfig::default(),
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

fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::fs::PermissionsExt;
    // Never through a link: it could point at any file of the user's.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| {
            let why = if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                "it is a symbolic link; give the path of a file".to_string()
            } else {
                kdeck_model::plain_io(&e)
            };
            CliError::usage(format!("{}: cannot write: {why}", path.display()))
        })?;
    // A file that was there keeps its mode through a truncate: make it private first.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| f.set_len(0))
        .map_err(|e| CliError::failed(format!("{}: {}", path.display(), kdeck_model::plain_io(&e))))?;
    f.write_all(text.as_bytes())
        .map_err(|e| CliError::failed(format!("{}: {}", path.display(), kdeck_model::plain_io(&e))))
}

fn sim_cmd(args: SimArgs) -> Result<(), CliError> {
    let opts = sim_options(&args.fleet)?;
    if !opts.config.users.iter().any(|u| u.name == args.user) {
        return Err(CliError::usage(format!(
            "--user {:?}: use admin, developer or auditor",
            args.user
        )));
    }
    runtime()?.block_on(async {
        let handles = start_sim(opts).await?;
        write_private(&args.kubeconfig_out, &kdeck_sim::kubeconfig(&handles, &args.user))?;
        eprintln!(
            "kdeck sim: {} cluster(s) running; kubeconfig in {}",
            handles.len(),
            args.kubeconfig_out.display()
        );
        for h in &handles {
            eprintln!("  {:<12} {}", h.name, h.url());
        }
        eprintln!(
            "try: kubectl --kubeconfig {} get ns    (Ctrl-C stops)",
            args.kubeconfig_out.display()
        );
        let _ = tokio::signal::ctrl_c().await;
        Ok(())
    })
}

/// Runs the cockpit on a store's clusters until the user leaves it.
fn run_cockpit(store: &Store, global: &Global) -> Result<(), CliError> {
    let executor = Executor::new(store.clone(), local_actor(), Arc::new(SystemClock));
    let clusters = store.list::<Cluster>()?;
    let attached: Vec<kdeck_model::SpaceRef> = store
        .list::<kdeck_model::Space>()?
        .into_iter()
        .map(|s| s.space)
        .collect();
    let ended = runtime()?
        .block_on(kdeck_tui::app::run(cockpit_options(
            clusters, attached, global, executor,
        )))
        .map_err(CliError::failed)?;
    match ended {
        Some(signal) => Err(CliError::signal(signal)),
        None => Ok(()),
    }
}

/// The cockpit's start: the clusters, and the user's config dir read.
fn cockpit_options(
    clusters: Vec<Cluster>,
    attached: Vec<kdeck_model::SpaceRef>,
    global: &Global,
    executor: Executor,
) -> kdeck_tui::app::Options {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    kdeck_tui::app::Options {
        clusters,
        attached,
        loaded: kdeck_tui::config::load(kdeck_tui::config::config_dir().as_deref(), no_color),
        read_only: global.read_only,
        clock: Arc::new(SystemClock),
        executor: Some(executor.read_only(global.read_only)),
    }
}

fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

/// `kdeck` alone: the cockpit. With no clusters stored yet, offers to import
/// the kubeconfig contexts first.
fn cockpit_cmd(global: &Global) -> Result<(), CliError> {
    if !interactive() {
        return Err(CliError::usage(
            "the cockpit needs a terminal; for scripts use the subcommands (`kdeck --help`)",
        ));
    }
    let store = open_store(global)?;
    if store.list::<Cluster>()?.is_empty() {
        let files = default_files();
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let existing: Vec<&String> = names.iter().filter(|f| Path::new(f).exists()).collect();
        if existing.is_empty() {
            return Err(CliError::usage(
                "no clusters yet and no kubeconfig found ($KUBECONFIG, ~/.kube/config): import one with `kdeck clusters import FILE`, or try `kdeck demo`",
            ));
        }
        eprint!(
            "kdeck: no clusters yet. Import the contexts of {}? [Y/n] ",
            existing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        );
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if matches!(answer.trim(), "n" | "N" | "no") {
            return Err(CliError::usage(
                "nothing imported; `kdeck clusters import [FILE]` stores clusters, `kdeck demo` tries simulated ones",
            ));
        }
        let executor = Executor::new(store.clone(), local_actor(), Arc::new(SystemClock));
        run_command(
            &executor,
            Command::ImportClusters {
                files: existing.iter().map(|s| s.to_string()).collect(),
                contexts: vec![],
                update: false,
            },
            Format::Table,
        )?;
    }
    run_cockpit(&store, global)
}

fn demo_cmd(args: DemoArgs, global: &Global) -> Result<(), CliError> {
    // The demo's store is thrown away with it: it never takes the user's.
    let flag = std::env::args_os().any(|a| a.to_string_lossy().starts_with("--data-dir"));
    if flag {
        return Err(CliError::usage(
            "demo keeps its simulated clusters in a throw-away store of its own and does not take --data-dir; leave it out",
        ));
    }
    if global.data_dir.is_some() {
        eprintln!("kdeck demo: KDECK_DATA_DIR is not used; the demo has a throw-away store of its own");
    }
    let format = global.output;
    let cockpit = args.screenshots.is_some() || (!args.no_cockpit && interactive());
    let mut opts = sim_options(&args.fleet)?;
    if args.screenshots.is_some() {
        // Enough log lines to fill a screen within the few seconds it takes.
        opts.config.log_interval = std::time::Duration::from_millis(20);
    }
    let dir = tempfile_dir()?;
    // Removed however the demo ends, a panic included.
    let _cleanup = RemoveOnDrop(dir.clone());
    let kubeconfig = dir.join("kubeconfig");
    let rt = runtime()?;
    let started = rt.block_on(async {
        let handles = start_sim(opts).await?;
        write_private(&kubeconfig, &kdeck_sim::kubeconfig(&handles, "admin"))?;
        let store = Store::open(&dir.join("data")).map_err(|e| CliError::failed(e.to_string()))?;
        let executor = Executor::new(store, local_actor(), Arc::new(SystemClock));
        let entry = executor
            .run(Command::ImportClusters {
                files: vec![kubeconfig.display().to_string()],
                contexts: vec![],
                update: false,
            })
            .await?;
        if entry.status != Status::Applied {
            return Err(CliError::failed(format!(
                "demo: importing the simulated clusters failed: {:?}",
                entry.status
            )));
        }
        // The PaaS side of the demo: a domain per cluster (the simulated
        // ingresses live under it), and a database on the second cluster that
        // offers a connector to bind to.
        let names: Vec<String> = executor
            .store()
            .list::<Cluster>()?
            .into_iter()
            .map(|c| c.name)
            .collect();
        for n in &names {
            executor
                .run(Command::AddDomain {
                    cluster: n.clone(),
                    suffix: format!("apps.{n}.example.com"),
                    tls_secret: Some("wildcard-tls".into()),
                    ingress_class: Some("nginx".into()),
                })
                .await?;
        }
        if let Some(second) = names.iter().find(|n| n.starts_with("stage")) {
            let db = format!("{second}/shop-prod/pg");
            executor
                .run(Command::CreateApp(kdeck_command::apps::NewApp {
                    app: db.clone(),
                    image: "postgres:16".into(),
                    stateful: true,
                    replicas: 1,
                    ports: vec![5432],
                    env: Vec::new(),
                    routes: vec![String::new()],
                    connectors: vec!["postgres:user=app,password=secret:postgres-credentials/password".into()],
                    volumes: vec!["data:1Gi:/var/lib/postgresql/data".into()],
                    template: None,
                }))
                .await?;
            executor.run(Command::DeployApp { app: db, wait: None }).await?;
        }
        if cockpit {
            return Ok(Some((executor.store().clone(), handles)));
        }
        let clusters: Vec<ClusterRow> = executor
            .store()
            .list::<Cluster>()?
            .iter()
            .map(ClusterRow::from)
            .collect();
        print_data(format, &clusters, || {
            let mut t = Table::new(&["NAME", "SERVER"]);
            for c in &clusters {
                t.row([c.name.as_str(), c.server.as_str()]);
            }
            t
        })?;
        eprintln!(
            "kdeck demo: {} simulated cluster(s) imported into a throw-away store in {}",
            handles.len(),
            dir.display()
        );
        eprintln!(
            "look at them with: kubectl --kubeconfig {} get deploy -A",
            kubeconfig.display()
        );
        eprintln!("Ctrl-C stops the demo and removes its store");
        let _ = tokio::signal::ctrl_c().await;
        Ok(None)
    });
    let result = match started {
        Ok(Some((store, handles))) if args.screenshots.is_some() => {
            let out = args.screenshots.clone().unwrap_or_default();
            let r = rt.block_on(async {
                let clusters = store.list::<Cluster>()?;
                crate::shots::write(&clusters, &out).await.map_err(CliError::failed)
            });
            drop(handles);
            for f in r? {
                output::out(&format!("{}\n", f.display()))?;
            }
            Ok(())
        }
        // The simulated clusters keep running on this runtime while the cockpit shows them.
        Ok(Some((store, handles))) => {
            let r = rt.block_on(async {
                let clusters = store.list::<Cluster>()?;
                let executor = Executor::new(store.clone(), local_actor(), Arc::new(SystemClock));
                kdeck_tui::app::run(cockpit_options(clusters, Vec::new(), global, executor))
                    .await
                    .map_err(CliError::failed)
            });
            drop(handles);
            r.and_then(|ended| ended.map_or(Ok(()), |s| Err(CliError::signal(s))))
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A private directory for the demo's store and kubeconfig.
/// Removes a directory when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<PathBuf, CliError> {
    let base = std::env::temp_dir().join(format!("kdeck-demo-{}", std::process::id()));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&base)
        .map_err(|e| CliError::failed(format!("{}: {}", base.display(), kdeck_model::plain_io(&e))))?;
    Ok(base)
}

fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// Runs one command and prints its outcome; the exit code follows it.
fn run_command(executor: &Executor, command: Command, format: Format) -> Result<(), CliError> {
    let entry = runtime()?.block_on(executor.run(command))?;
    report(&entry, format)
}

/// Prints a journal entry's outcome; the exit code follows its status.
fn report(entry: &JournalEntry, format: Format) -> Result<(), CliError> {
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
    match &entry.status {
        Status::Applied => Ok(()),
        Status::Pending => Err(CliError::failed("the command did not finish")),
        Status::Interrupted { reason } => Err(CliError::failed(format!("{}: {reason}", entry.command.verb()))),
        Status::PartiallyApplied => {
            let n = entry.items.iter().filter(|i| !i.ok).count();
            Err(CliError::failed(format!(
                "{n} of {} items failed (journal entry {}); run it again to finish, `kdeck history --failed` lists them",
                entry.items.len(),
                entry.id
            )))
        }
        Status::Failed { reason, kind, code } => {
            let code_text = code.map(|c| format!(" (HTTP {c})")).unwrap_or_default();
            let message = format!("{}: {reason}{code_text}", entry.command.verb());
            Err(match kind {
                FailureKind::Unreadable | FailureKind::Usage => CliError::usage(message),
                FailureKind::Invalid | FailureKind::Cluster | FailureKind::Store => CliError::failed(message),
            })
        }
    }
}

fn history(executor: &Executor, args: &HistoryArgs, format: Format) -> Result<(), CliError> {
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
    let mut entries: Vec<JournalEntry> = executor.journal().list()?;
    if args.failed {
        entries.retain(|e| e.status.is_failure());
    }
    if let Some(n) = args.limit {
        let skip = entries.len().saturating_sub(n);
        entries.drain(..skip);
    }
    print_data(format, &entries, || {
        let mut t = Table::new(&["ID", "TIME", "ACTOR", "COMMAND", "TARGET", "STATUS", "REASON"]);
        for e in &entries {
            let reason = match &e.status {
                Status::Failed { reason, code, .. } => {
                    format!("{}{reason}", code.map(|c| format!("HTTP {c}: ")).unwrap_or_default())
                }
                Status::PartiallyApplied => e
                    .items
                    .iter()
                    .filter(|i| !i.ok)
                    .map(|i| format!("{}: {}", i.item, i.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                Status::Pending => "running".into(),
                Status::Interrupted { reason } => reason.clone(),
                Status::Applied => String::new(),
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

/// What `clusters list` shows: no credentials, only how they work.
#[derive(Debug, Serialize)]
struct ClusterRow {
    name: String,
    context: String,
    server: String,
    auth: String,
    user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    insecure_skip_tls_verify: bool,
    source: String,
    imported_at: String,
}

impl From<&Cluster> for ClusterRow {
    fn from(c: &Cluster) -> Self {
        Self {
            name: c.name.clone(),
            context: c.context.clone(),
            server: c.server.clone(),
            auth: c.auth.method().to_string(),
            user: c.auth.user.clone(),
            namespace: c.namespace.clone(),
            insecure_skip_tls_verify: c.tls.insecure_skip_tls_verify,
            source: c.source.file.clone(),
            imported_at: c.source.imported_at.clone(),
        }
    }
}
