//! The command line, as clap reads it.

use super::*;

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
    /// ConfigMaps of a space: list, show, set, unset (apps that read one are marked for a restart)
    #[command(subcommand)]
    Config(super::lifecycle::ConfigCmd),
    /// Secrets of a space: list, show (masked unless --reveal), set, unset; values never reach the journal
    #[command(subcommand)]
    Secrets(super::lifecycle::ConfigCmd),
    /// Catalogs: Helm repositories' indexes, kept in the store (add, refresh, remove, list)
    #[command(subcommand)]
    Catalogs(super::market::CatalogsCmd),
    /// Helm releases across the fleet, read from the Secrets Helm keeps them in
    #[command(subcommand)]
    Releases(super::market::ReleasesCmd),
    /// The marketplace: search the catalogs' charts and the saved solutions, install one
    #[command(subcommand)]
    Market(super::market::MarketCmd),
    /// Charts placed on the clusters a label selector chooses (saved by market install)
    #[command(subcommand)]
    Placements(super::install::PlacementsCmd),
    /// Team mode: settings shared through a hub cluster's API (init, join, status, sync, leave)
    #[command(subcommand)]
    Team(super::team::TeamCmd),
    /// Saved solutions: apps with their routes, bindings, config and volumes, to install elsewhere
    #[command(subcommand)]
    Solutions(super::solutions::SolutionsCmd),
    /// Roles on spaces: manager, developer, auditor (RoleBindings to admin, edit, view)
    #[command(subcommand)]
    Roles(roles::RolesCmd),
    /// Who each cluster says you are (SelfSubjectReview), as `kubectl auth whoami`
    Whoami {
        /// One cluster [default: every stored one]
        #[arg(conflicts_with = "clusters")]
        cluster: Option<String>,
        /// The clusters whose labels match: tier=prod,region in (eu,us)
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
    },
    /// Whether you may VERB RESOURCE in a space (yes, exit 0; no, exit 1), as `kubectl auth can-i`
    Can {
        /// CLUSTER/SPACE
        space: String,
        /// get, list, create, patch, delete…
        verb: String,
        /// deployments, deployments/scale, pods/log, or PLURAL.GROUP
        resource: String,
    },
    /// Builds on Tekton: settings, setup, start, follow, list, show, logs, cancel, rerun, prune, deploy, webhooks
    #[command(subcommand)]
    Builds(builds::BuildsCmd),
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
    pub(crate) clusters: usize,
    /// Seed data: empty, small (5 spaces x 4 apps per cluster), medium (20 x 10),
    /// large (100 x 20), or a YAML file `{spaces: N, apps: M}`
    #[arg(long, default_value = "small")]
    pub(crate) fleet: String,
    /// Port of the first cluster; the others follow [default: random ports]
    #[arg(long, value_name = "PORT")]
    pub(crate) port_base: Option<u16>,
    /// Updates per second per cluster, to watch things move
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub(crate) churn: u32,
    /// Run without Tekton (Pipelines and Triggers): these clusters, or all
    /// when none is named
    #[arg(long, num_args = 0.., value_delimiter = ',', value_name = "CLUSTER")]
    pub(crate) no_tekton: Option<Vec<String>>,
}

#[derive(Args, Debug)]
pub struct SimArgs {
    #[command(flatten)]
    pub(crate) fleet: SimFleetArgs,
    /// Where to write a kubeconfig with one context per cluster
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig_out: PathBuf,
    /// Who the kubeconfig logs in as: admin, developer (edit) or auditor (view)
    #[arg(long, default_value = "admin")]
    pub(crate) user: String,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    pub(crate) fleet: SimFleetArgs,
    /// Print the clusters and wait for Ctrl-C instead of opening the cockpit
    /// (also what happens when stdout is not a terminal)
    #[arg(long)]
    pub(crate) no_cockpit: bool,
    /// Write images of the main screens (SVG, 160x48) into DIR and exit
    #[arg(long, value_name = "DIR", conflicts_with = "no_cockpit")]
    pub(crate) screenshots: Option<PathBuf>,
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
    /// List the stored clusters, with their labels
    List {
        /// Only the clusters whose labels match: tier=prod,region in (eu,us),!gpu
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
    },
    /// A cluster's labels in kdeck: KEY=VALUE sets one, KEY- removes it
    /// (region, tier, cloud…); `--clusters SELECTOR` picks clusters by them
    Label {
        name: String,
        #[arg(value_name = "KEY=VALUE|KEY-", required = true)]
        changes: Vec<String>,
    },
    /// A cluster's settings in kdeck: `--read-only` (kdeck changes nothing in
    /// it) or `--writable`; `--prod` (its accent, a confirm before every change
    /// in the cockpit), `--not-prod`, or `--prod-by-name` (guessed from the name)
    Set {
        name: String,
        /// kdeck may change it again
        #[arg(long, conflicts_with = "read_only")]
        writable: bool,
        /// Production
        #[arg(long)]
        prod: bool,
        /// Not production, whatever its name says
        #[arg(long, conflicts_with_all = ["prod", "prod_by_name"])]
        not_prod: bool,
        /// Production or not as its name says (the default)
        #[arg(long, conflicts_with = "prod")]
        prod_by_name: bool,
    },
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
    List {
        /// Only the clusters whose labels match: tier=prod,region in (eu,us)
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
    },
    /// A space's quota (used against hard) and default requests; with
    /// flags, set them (a ResourceQuota and a LimitRange named kdeck)
    Quota(super::lifecycle::QuotaArgs),
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
        /// Only the clusters whose labels match: tier=prod,region in (eu,us)
        #[arg(long = "clusters", value_name = "SELECTOR", conflicts_with = "spaces")]
        clusters: Option<String>,
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
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// The app's revisions (one per deploy that changed it) and the cluster's rollout history
    History {
        /// CLUSTER/SPACE/APP
        app: String,
    },
    /// Deploy an earlier revision's settings and routes (recorded as the next revision)
    Rollback {
        /// CLUSTER/SPACE/APP
        app: String,
        /// The revision [default: the one before the last]
        #[arg(long, value_name = "N")]
        to: Option<u32>,
        /// Print what would be deployed and what changes, and deploy nothing
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Set the replica count (and apply it when deployed)
    Scale { app: String, replicas: u32 },
    /// Scale between bounds on CPU or memory use (a HorizontalPodAutoscaler), or --off
    Autoscale(super::lifecycle::AutoscaleArgs),
    /// The app's volumes: each claim Bound or Pending, its size, access mode and storage class
    Volumes { app: String },
    /// Run a new image beside the app (`canary APP --image IMG [--weight PCT | --replicas N]`), then promote or abort it
    Canary(super::lifecycle::CanaryArgs),
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
    pub(crate) failed: bool,
    /// Run the command of journal entry ID again (a new entry records it)
    #[arg(long, value_name = "ID", conflicts_with_all = ["failed", "limit"])]
    pub(crate) rerun: Option<u64>,
    /// Only the last N entries
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    /// Only commands run by this actor (user@host, or user on any host)
    #[arg(long, value_name = "ACTOR")]
    pub(crate) actor: Option<String>,
    /// Only commands on this cluster
    #[arg(long, value_name = "CLUSTER")]
    pub(crate) cluster: Option<String>,
    /// Only commands on this space (CLUSTER/NAMESPACE)
    #[arg(long, value_name = "SPACE")]
    pub(crate) space: Option<String>,
    /// Only this command, or these: `apps deploy`, `builds`
    #[arg(long, value_name = "COMMAND")]
    pub(crate) command: Option<String>,
    /// Only since this time (RFC 3339) or span back from now (30m, 2h, 7d)
    #[arg(long, value_name = "WHEN")]
    pub(crate) since: Option<String>,
    /// Only until this time (RFC 3339) or span back from now
    #[arg(long, value_name = "WHEN")]
    pub(crate) until: Option<String>,
}

/// `--wait [--timeout S]` of a deploy or a rollback.
#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// Wait for the rollout to be ready (fails early when a pod cannot start)
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
}

impl WaitArgs {
    /// The seconds to wait, when waiting.
    pub fn seconds(&self) -> Option<u64> {
        self.wait.then_some(self.timeout)
    }
}
