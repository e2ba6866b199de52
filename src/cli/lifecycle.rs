//! The CLI of an app's lifecycle beyond deploy: autoscaling, canaries,
//! space quotas, and ConfigMaps and Secrets. Each change has `--dry-run`,
//! which prints the plan (objects to apply and delete) and changes nothing.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::journal::run_command;
use super::output::{Format, Table, out, print_data};
use super::{CliError, runtime};
use kdeck_command::apps::{AutoscaleSpec, CanarySpec};
use kdeck_command::config::{self, ConfigChange, Hidden, Store};
use kdeck_command::quota::{self, QuotaSpec};
use kdeck_command::{Command, Executor};
use kdeck_model::SpaceRef;

#[derive(Args, Debug, Clone)]
pub struct AutoscaleArgs {
    /// CLUSTER/SPACE/APP
    pub app: String,
    /// Fewest replicas [default: 1, or what it has]
    #[arg(long)]
    pub min: Option<u32>,
    /// Most replicas
    #[arg(long)]
    pub max: Option<u32>,
    /// Target average CPU use, in percent of the pods' request [default: 80 when no target is given]
    #[arg(long, value_name = "PCT")]
    pub cpu: Option<u32>,
    /// Target average memory use, in percent of the pods' request
    #[arg(long, value_name = "PCT")]
    pub memory: Option<u32>,
    /// Seconds of lower load before scaling down [the API's default: 300]
    #[arg(long, value_name = "SECS")]
    pub scale_down_after: Option<u32>,
    /// Stop autoscaling: the autoscaler goes, the stored replica count is back
    #[arg(long, conflicts_with_all = ["min", "max", "cpu", "memory", "scale_down_after"])]
    pub off: bool,
    /// Print what would be applied and deleted, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CanaryArgs {
    #[command(subcommand)]
    pub action: Option<CanaryCmd>,
    /// CLUSTER/SPACE/APP
    #[arg(required = true)]
    pub app: Option<String>,
    /// The new version's image
    #[arg(long, required = true)]
    pub image: Option<String>,
    /// The share of requests it gets, where the route's ingress class is
    /// ingress-nginx (elsewhere: as close as replicas get)
    #[arg(long, value_name = "PCT", conflicts_with = "replicas")]
    pub weight: Option<u32>,
    /// Canary pods beside the app's (traffic split by replicas) [default: 1]
    #[arg(long)]
    pub replicas: Option<u32>,
    /// Print what would be applied, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Subcommand, Debug, Clone)]
pub enum CanaryCmd {
    /// The app takes the canary's image (a deploy, recorded as a revision); the canary goes
    Promote {
        app: String,
        #[command(flatten)]
        wait: super::args::WaitArgs,
        #[arg(long)]
        dry_run: bool,
    },
    /// The canary goes; the app is unchanged
    Abort {
        app: String,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct QuotaArgs {
    /// CLUSTER/SPACE
    pub space: String,
    /// CPU the space's pods may request in all (cores or millicores)
    #[arg(long)]
    pub cpu: Option<String>,
    /// Memory the space's pods may request in all (512Mi, 4Gi)
    #[arg(long)]
    pub memory: Option<String>,
    /// Pods the space may run
    #[arg(long)]
    pub pods: Option<u32>,
    /// Storage its claims may request in all
    #[arg(long)]
    pub storage: Option<String>,
    /// CPU request of containers that set none
    #[arg(long, value_name = "CPU")]
    pub default_cpu: Option<String>,
    /// Memory request of containers that set none
    #[arg(long, value_name = "SIZE")]
    pub default_memory: Option<String>,
    /// CPU limit of containers that set none
    #[arg(long, value_name = "CPU")]
    pub default_cpu_limit: Option<String>,
    /// Memory limit of containers that set none
    #[arg(long, value_name = "SIZE")]
    pub default_memory_limit: Option<String>,
    /// Remove kdeck's quota and defaults from the space
    #[arg(long)]
    pub off: bool,
    /// Print what would be applied, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Subcommand, Debug, Clone)]
pub enum ConfigCmd {
    /// The space's objects, their key counts and the stored apps that read them
    List {
        #[arg(value_name = "CLUSTER/SPACE")]
        space: String,
    },
    /// One object's keys and values (a Secret's masked unless --reveal)
    Show {
        #[arg(value_name = "CLUSTER/SPACE/NAME")]
        target: String,
        /// Print a Secret's values
        #[arg(long)]
        reveal: bool,
    },
    /// Set keys (made when missing); the apps that read it are marked for a restart
    Set {
        #[arg(value_name = "CLUSTER/SPACE/NAME")]
        target: String,
        /// KEY=VALUE, or KEY=@FILE to read the value from a file
        #[arg(value_name = "KEY=VALUE", required = true)]
        pairs: Vec<String>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove keys
    Unset {
        #[arg(value_name = "CLUSTER/SPACE/NAME")]
        target: String,
        #[arg(value_name = "KEY", required = true)]
        keys: Vec<String>,
        #[arg(long)]
        dry_run: bool,
    },
}

/// What the command would change, printed; nothing is changed.
fn dry_run(ex: &Executor, command: &Command) -> Result<(), CliError> {
    out(&runtime()?.block_on(kdeck_command::plan::dry_run(ex, command))?)
}

pub(super) fn autoscale(ex: &Executor, a: &AutoscaleArgs, format: Format) -> Result<(), CliError> {
    let spec = AutoscaleSpec {
        app: a.app.clone(),
        min: a.min,
        max: a.max,
        cpu: a.cpu,
        memory: a.memory,
        scale_down_after: a.scale_down_after,
        off: a.off,
    };
    let command = Command::AutoscaleApp(spec);
    if a.dry_run {
        return dry_run(ex, &command);
    }
    run_command(ex, command, format)
}

pub(super) fn canary(ex: &Executor, a: &CanaryArgs, format: Format) -> Result<(), CliError> {
    match &a.action {
        Some(CanaryCmd::Promote { app, dry_run: true, .. }) => dry_run(
            ex,
            &Command::PromoteCanary {
                app: app.clone(),
                wait: None,
            },
        ),
        Some(CanaryCmd::Promote { app, wait, .. }) => run_command(
            ex,
            Command::PromoteCanary {
                app: app.clone(),
                wait: wait.seconds(),
            },
            format,
        ),
        Some(CanaryCmd::Abort { app, dry_run: true }) => dry_run(ex, &Command::AbortCanary { app: app.clone() }),
        Some(CanaryCmd::Abort { app, .. }) => run_command(ex, Command::AbortCanary { app: app.clone() }, format),
        None => {
            let spec = CanarySpec {
                app: a.app.clone().unwrap_or_default(),
                image: a.image.clone().unwrap_or_default(),
                weight: a.weight,
                replicas: a.replicas,
            };
            let command = Command::StartCanary(spec);
            if a.dry_run {
                return dry_run(ex, &command);
            }
            run_command(ex, command, format)
        }
    }
}

#[derive(Serialize)]
struct QuotaView {
    quota: Vec<quota::QuotaLine>,
    defaults: std::collections::BTreeMap<String, String>,
}

pub(super) fn quota(ex: &Executor, a: &QuotaArgs, format: Format) -> Result<(), CliError> {
    let spec = QuotaSpec {
        space: a.space.clone(),
        cpu: a.cpu.clone(),
        memory: a.memory.clone(),
        pods: a.pods,
        storage: a.storage.clone(),
        default_cpu: a.default_cpu.clone(),
        default_memory: a.default_memory.clone(),
        default_cpu_limit: a.default_cpu_limit.clone(),
        default_memory_limit: a.default_memory_limit.clone(),
        off: a.off,
    };
    let asks = a.off
        || [
            &a.cpu,
            &a.memory,
            &a.storage,
            &a.default_cpu,
            &a.default_memory,
            &a.default_cpu_limit,
            &a.default_memory_limit,
        ]
        .iter()
        .any(|v| v.is_some())
        || a.pods.is_some();
    if !asks {
        // Nothing to change: show what bounds the space now.
        let space = SpaceRef::parse("space", &a.space).map_err(|e| CliError::usage(e.to_string()))?;
        let (lines, defaults) = runtime()?.block_on(async {
            Ok::<_, kdeck_command::Failure>((
                quota::lines(ex, &space).await?,
                quota::limit_defaults(ex, &space).await?,
            ))
        })?;
        let view = QuotaView { quota: lines, defaults };
        return print_data(format, &view, || {
            let mut t = Table::new(&["QUOTA", "RESOURCE", "USED", "HARD"]);
            for l in &view.quota {
                t.row([l.quota.as_str(), l.resource.as_str(), l.used.as_str(), l.hard.as_str()]);
            }
            for (k, v) in &view.defaults {
                t.row(["(default)", k.as_str(), "", v.as_str()]);
            }
            if view.quota.is_empty() && view.defaults.is_empty() {
                t.row(["(none)", "", "", ""]);
            }
            t
        });
    }
    let command = Command::SetQuota(spec);
    if a.dry_run {
        return dry_run(ex, &command);
    }
    run_command(ex, command, format)
}

pub(super) fn config(ex: &Executor, store: Store, cmd: &ConfigCmd, format: Format) -> Result<(), CliError> {
    let word = store.word();
    match cmd {
        ConfigCmd::List { space } => {
            let space = SpaceRef::parse("space", space).map_err(|e| CliError::usage(e.to_string()))?;
            let rows = runtime()?.block_on(config::list(ex, &space, store))?;
            print_data(format, &rows, || {
                let mut t = Table::new(&["NAME", "KEYS", "USED BY", "CREATED"]);
                for r in &rows {
                    let keys = r.keys.to_string();
                    let used = if r.used_by.is_empty() {
                        "-".to_string()
                    } else {
                        r.used_by.join(",")
                    };
                    t.row([r.name.as_str(), keys.as_str(), used.as_str(), r.created.as_str()]);
                }
                t
            })
        }
        ConfigCmd::Show { target, reveal } => {
            if *reveal && store == Store::Config {
                return Err(CliError::usage(
                    "config show: --reveal is for secrets; ConfigMap values are shown as they are",
                ));
            }
            let entries = runtime()?.block_on(config::show(ex, target, store, *reveal))?;
            print_data(format, &entries, || {
                let mut t = Table::new(&["KEY", "VALUE"]);
                for e in &entries {
                    t.row([e.key.as_str(), e.value.as_str()]);
                }
                t
            })
        }
        ConfigCmd::Set { target, pairs, dry_run } => {
            let values = config::parse_pairs(pairs, word)?;
            let change = match store {
                Store::Config => ConfigChange {
                    target: target.clone(),
                    store,
                    set: values,
                    set_secret: Default::default(),
                    unset: Vec::new(),
                },
                Store::Secret => ConfigChange {
                    target: target.clone(),
                    store,
                    set: Default::default(),
                    set_secret: values.into_iter().map(|(k, v)| (k, Hidden(Some(v)))).collect(),
                    unset: Vec::new(),
                },
            };
            change_or_plan(ex, change, *dry_run, format)
        }
        ConfigCmd::Unset { target, keys, dry_run } => {
            let change = ConfigChange {
                target: target.clone(),
                store,
                set: Default::default(),
                set_secret: Default::default(),
                unset: keys.clone(),
            };
            change_or_plan(ex, change, *dry_run, format)
        }
    }
}

fn change_or_plan(ex: &Executor, change: ConfigChange, plan_only: bool, format: Format) -> Result<(), CliError> {
    let command = Command::ChangeConfig(change);
    if plan_only {
        return dry_run(ex, &command);
    }
    run_command(ex, command, format)
}

pub(super) fn volumes(ex: &Executor, app: &str, format: Format) -> Result<(), CliError> {
    let a = kdeck_model::AppRef::parse("APP", app).map_err(|e| CliError::usage(e.to_string()))?;
    let rows = runtime()?.block_on(kdeck_command::apps::volumes(ex, &a))?;
    print_data(format, &rows, || {
        let mut t = Table::new(&["NAME", "PATH", "SOURCE", "STATUS", "SIZE", "ACCESS", "CLASS"]);
        for r in &rows {
            t.row([
                r.name.as_str(),
                r.path.as_str(),
                r.source.as_str(),
                r.status.as_str(),
                r.size.as_str(),
                r.access.as_str(),
                r.class.as_str(),
            ]);
        }
        t
    })
}
