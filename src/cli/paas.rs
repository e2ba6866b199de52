//! `kdeck apps create|deploy|scale|restart|stop|start|delete|show`,
//! `kdeck domains`, `kdeck routes`, `kdeck bind`: each a journalled command,
//! except `show` and the lists, which only read.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{Format, Table, print_data};
use super::{CliError, run_command};
use kdeck_command::apps::{self, NewApp};
use kdeck_command::{Command, Executor};
use kdeck_model::{AppRef, Domain, Route};

#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    /// CLUSTER/SPACE/APP
    pub app: String,
    #[arg(long, required_unless_present = "from")]
    pub image: Option<String>,
    /// Start from a saved app (`kdeck export --solution`); the other flags add to it
    #[arg(long, value_name = "FILE")]
    pub from: Option<String>,
    /// A StatefulSet (stable names, a volume per pod) instead of a Deployment
    #[arg(long)]
    pub stateful: bool,
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// A port the app listens on (repeatable); the first gets the routes
    #[arg(long = "port", value_name = "PORT")]
    pub ports: Vec<u16>,
    /// NAME=VALUE (repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// A route host (repeatable); `--route default` is `<app>-<space>.<domain>`
    #[arg(long = "route", value_name = "HOST")]
    pub routes: Vec<String>,
    /// What the app offers to apps bound to it (repeatable), as
    /// `NAME:key=value,key=secret:SECRET/KEY`, e.g.
    /// `postgres:user=app,password=secret:db-credentials/password`
    #[arg(long = "connector", value_name = "SPEC")]
    pub connectors: Vec<String>,
    /// A volume kdeck claims for the app (repeatable): one claim for a
    /// Deployment, one per pod for a StatefulSet; PATH defaults to
    /// /data/NAME, ACCESS to RWO (ROX, RWX, RWOP)
    #[arg(long = "volume", value_name = "NAME:SIZE[:PATH][:ACCESS]")]
    pub volumes: Vec<String>,
}

impl CreateArgs {
    pub fn command(&self) -> Result<Command, CliError> {
        let template = match &self.from {
            None => None,
            Some(path) => {
                let text =
                    kdeck_command::files::read_text(std::path::Path::new(path), kdeck_command::files::SMALL_LIMIT)
                        .map_err(|why| CliError::usage(format!("--from {path}: cannot read it: {why}")))?;
                let s: kdeck_model::Solution = serde_saphyr::from_str(&text).map_err(|e| {
                    CliError::usage(format!(
                        "--from {}; not a saved app (`kdeck export APP --solution` writes one)",
                        kdeck_command::files::yaml_problem_in(path, &e)
                    ))
                })?;
                match s.source {
                    kdeck_model::SolutionSource::AppTemplate { app } => Some(app),
                    kdeck_model::SolutionSource::Apps(b) if b.apps.len() == 1 => {
                        b.apps.into_iter().next().map(Box::new)
                    }
                    kdeck_model::SolutionSource::Apps(b) => {
                        return Err(CliError::usage(format!(
                            "--from {path}: a solution of {} apps; `kdeck solutions import {path}` then `kdeck market install NAME --to CLUSTER/SPACE` installs them all",
                            b.apps.len()
                        )));
                    }
                    kdeck_model::SolutionSource::HelmChart { .. } => {
                        return Err(CliError::usage(format!(
                            "--from {path}: a Helm chart solution, not a saved app"
                        )));
                    }
                }
            }
        };
        Ok(Command::CreateApp(NewApp {
            app: self.app.clone(),
            image: self.image.clone().unwrap_or_default(),
            stateful: self.stateful,
            replicas: self.replicas,
            ports: self.ports.clone(),
            env: self.env.clone(),
            connectors: self.connectors.clone(),
            volumes: self.volumes.clone(),
            routes: self
                .routes
                .iter()
                .map(|r| if r == "default" { String::new() } else { r.clone() })
                .collect(),
            template,
        }))
    }
}

#[derive(Args, Debug, Clone)]
pub struct EditArgs {
    /// CLUSTER/SPACE/APP
    pub app: String,
    #[arg(long)]
    pub image: Option<String>,
    /// NAME=VALUE to set (repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// An env var to remove (repeatable)
    #[arg(long = "unset-env", value_name = "NAME")]
    pub unset_env: Vec<String>,
    /// A connector to add or replace, as in `apps create` (repeatable)
    #[arg(long = "connector", value_name = "SPEC")]
    pub connectors: Vec<String>,
    /// A connector to remove, by name (repeatable)
    #[arg(long = "remove-connector", value_name = "NAME")]
    pub remove_connectors: Vec<String>,
    /// A YAML file laid over the derived Deployment or StatefulSet by
    /// strategic merge (`-` reads stdin), for what kdeck's settings do not
    /// cover: node selectors, tolerations, sidecars, security contexts
    #[arg(long, value_name = "FILE", conflicts_with = "clear_overrides")]
    pub overrides: Option<String>,
    /// Drop the app's overrides
    #[arg(long)]
    pub clear_overrides: bool,
    /// Env read from a ConfigMap or Secret key: NAME=configmap:CM/KEY or
    /// NAME=secret:SECRET/KEY (repeatable; replaces a NAME set before)
    #[arg(long = "env-from", value_name = "NAME=SOURCE")]
    pub env_from: Vec<String>,
    /// A ConfigMap or Secret mounted as files: PATH=configmap:NAME or
    /// PATH=secret:NAME (repeatable)
    #[arg(long = "mount", value_name = "PATH=SOURCE")]
    pub mounts: Vec<String>,
    /// A volume kdeck claims, as in `apps create` (repeatable)
    #[arg(long = "volume", value_name = "NAME:SIZE[:PATH][:ACCESS]")]
    pub volumes: Vec<String>,
    /// A mount path to take out (repeatable)
    #[arg(long = "unmount", value_name = "PATH")]
    pub unmount: Vec<String>,
    /// CPU request (500m, 1); "" clears it
    #[arg(long = "cpu-request", value_name = "CPU")]
    pub cpu_request: Option<String>,
    /// Memory request (256Mi); "" clears it
    #[arg(long = "memory-request", value_name = "SIZE")]
    pub memory_request: Option<String>,
    /// CPU limit; "" clears it
    #[arg(long = "cpu-limit", value_name = "CPU")]
    pub cpu_limit: Option<String>,
    /// Memory limit; "" clears it
    #[arg(long = "memory-limit", value_name = "SIZE")]
    pub memory_limit: Option<String>,
}

impl EditArgs {
    /// The command, with the overrides file read in: the journal keeps what
    /// was applied, not a path that may change.
    pub fn command(&self) -> Result<Command, CliError> {
        let overrides = match self.overrides.as_deref() {
            None if self.clear_overrides => Some(String::new()),
            None => None,
            Some("-") => {
                let mut s = String::new();
                std::io::Read::read_to_string(
                    &mut std::io::Read::take(std::io::stdin(), kdeck_command::files::SMALL_LIMIT),
                    &mut s,
                )
                .map_err(|e| {
                    CliError::usage(format!(
                        "--overrides -: cannot read stdin: {}",
                        kdeck_model::plain_io(&e)
                    ))
                })?;
                Some(s)
            }
            Some(path) => Some(
                kdeck_command::files::read_text(std::path::Path::new(path), kdeck_command::files::SMALL_LIMIT)
                    .map_err(|why| CliError::usage(format!("--overrides {path}: cannot read it: {why}")))?,
            ),
        };
        // Checked here, so that a file that is not good YAML never reaches
        // the journal (it may hold secrets): one line naming it.
        if let (Some(text), Some(path)) = (&overrides, self.overrides.as_deref())
            && let Err(e) = serde_saphyr::from_str::<serde_json::Value>(text)
        {
            let name = if path == "-" { "stdin" } else { path };
            return Err(CliError::usage(format!(
                "--overrides {}; give a YAML mapping laid over the workload",
                kdeck_command::files::yaml_problem_in(name, &e)
            )));
        }
        Ok(Command::EditApp(kdeck_command::apps::AppEdit {
            app: self.app.clone(),
            image: self.image.clone(),
            set_env: self.env.clone(),
            unset_env: self.unset_env.clone(),
            connectors: self.connectors.clone(),
            remove_connectors: self.remove_connectors.clone(),
            overrides,
            env_from: self.env_from.clone(),
            mounts: self.mounts.clone(),
            volumes: self.volumes.clone(),
            unmount: self.unmount.clone(),
            cpu_request: self.cpu_request.clone(),
            memory_request: self.memory_request.clone(),
            cpu_limit: self.cpu_limit.clone(),
            memory_limit: self.memory_limit.clone(),
        }))
    }
}

#[derive(Subcommand, Debug)]
pub enum DomainsCmd {
    /// The domains of every cluster
    List,
    /// A DNS suffix on a cluster; routes default to `<app>-<space>.<suffix>`
    Add {
        cluster: String,
        suffix: String,
        /// The wildcard certificate's Secret, for TLS on every route under it
        #[arg(long, value_name = "SECRET")]
        tls_secret: Option<String>,
        #[arg(long, value_name = "CLASS")]
        ingress_class: Option<String>,
    },
    /// Forget a domain (routes made under it keep their hosts)
    Remove { cluster: String, suffix: String },
}

#[derive(Subcommand, Debug)]
pub enum RoutesCmd {
    /// The stored routes
    List,
    /// A route to an app (applied by the next `apps deploy`)
    Add {
        /// CLUSTER/SPACE/APP
        app: String,
        /// The host; `<app>-<space>.<domain>` when left out
        #[arg(long)]
        host: Option<String>,
        /// In the space's one shared Ingress instead of the app's own
        #[arg(long)]
        shared: bool,
    },
    /// Remove a route of an app (the next `apps deploy` drops its Ingress rule)
    Remove {
        /// CLUSTER/SPACE/APP
        app: String,
        host: String,
    },
}

#[derive(Args, Debug)]
pub struct BindArgs {
    /// The app that gets the env vars, CLUSTER/SPACE/APP
    pub consumer: String,
    /// PROVIDER:CONNECTOR, the app and the connector it offers
    #[arg(long = "to", value_name = "APP:CONNECTOR")]
    pub to: String,
    /// Env var prefix [default: the provider's name in upper case]
    #[arg(long)]
    pub prefix: Option<String>,
}

impl BindArgs {
    pub fn command(&self) -> Result<Command, CliError> {
        let Some((provider, connector)) = self.to.rsplit_once(':') else {
            return Err(CliError::usage(format!(
                "--to {}: must be CLUSTER/SPACE/APP:CONNECTOR",
                self.to
            )));
        };
        Ok(Command::Bind {
            consumer: self.consumer.clone(),
            provider: provider.to_string(),
            connector: connector.to_string(),
            prefix: self.prefix.clone(),
        })
    }
}

#[derive(Serialize)]
struct Shown {
    settings: kdeck_model::App,
    state: Option<apps::AppState>,
    /// How the cluster stands against the settings (None: its cluster did not answer).
    sync: Option<apps::Sync>,
    routes: Vec<Route>,
    /// The objects `apps deploy` applies.
    plan: Vec<serde_json::Value>,
}

/// What a sync state means, for people.
fn sync_words(s: apps::Sync) -> &'static str {
    match s {
        apps::Sync::Draft => "draft: not in its cluster yet (`kdeck apps deploy` puts it there)",
        apps::Sync::Synced => "synced: the cluster runs kdeck's settings",
        apps::Sync::Drift => {
            "drift: its spec was changed in the cluster since kdeck's deploy (`apps status` shows how; `apps deploy` reconciles, `apps adopt --replace` takes the cluster's version)"
        }
        apps::Sync::Pending => "pending: its settings changed since the last deploy (`kdeck apps deploy` applies them)",
        apps::Sync::NeedsRestart => "restart: a connector it binds to changed (`kdeck apps restart`)",
    }
}

/// `apps show APP`: the stored settings, routes, whether the cluster is in
/// sync, and the plan of objects.
pub fn show(ex: &Executor, app: &str, format: Format) -> Result<(), CliError> {
    let a = AppRef::parse("APP", app).map_err(|e| CliError::usage(e.to_string()))?;
    let (settings, derived, shared) = apps::plan(ex, &a).map_err(|f| CliError::failed(f.reason))?;
    let routes: Vec<Route> = ex.store().list::<Route>()?.into_iter().filter(|r| r.app == a).collect();
    let state = ex.store().get::<apps::AppState>(&a.to_string())?;
    let mut plan: Vec<serde_json::Value> = derived.objects().into_iter().cloned().collect();
    plan.extend(shared);
    // Where it stands needs its cluster; without an answer, the rest still shows.
    let sync = match super::runtime()?.block_on(apps::sync_of(ex, &a)) {
        Ok(s) => Some(s),
        Err(f) => {
            eprintln!("kdeck: cannot tell whether {a} is in sync: {}", f.reason);
            None
        }
    };
    let shown = Shown {
        settings,
        state,
        sync,
        routes,
        plan,
    };
    match format {
        Format::Table => {
            if let Some(s) = shown.sync {
                super::output::out(&format!("# {a}: {}\n", sync_words(s)))?;
            }
            // The plan as YAML documents, the way kubectl would take it.
            for o in &shown.plan {
                super::output::out(&format!("---\n{}", serde_saphyr::to_string(o).unwrap_or_default()))?;
            }
            Ok(())
        }
        _ => print_data(format, &shown, || Table::new(&[])),
    }
}

pub fn domains(ex: &Executor, cmd: DomainsCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        DomainsCmd::List => {
            let ds = ex.store().list::<Domain>()?;
            print_data(format, &ds, || {
                let mut t = Table::new(&["CLUSTER", "SUFFIX", "TLS SECRET", "INGRESS CLASS"]);
                for d in &ds {
                    t.row([
                        d.cluster.as_str(),
                        &d.suffix,
                        d.tls_secret.as_deref().unwrap_or("-"),
                        d.ingress_class.as_deref().unwrap_or("-"),
                    ]);
                }
                t
            })
        }
        DomainsCmd::Add {
            cluster,
            suffix,
            tls_secret,
            ingress_class,
        } => run_command(
            ex,
            Command::AddDomain {
                cluster,
                suffix,
                tls_secret,
                ingress_class,
            },
            format,
        ),
        DomainsCmd::Remove { cluster, suffix } => run_command(ex, Command::RemoveDomain { cluster, suffix }, format),
    }
}

pub fn routes(ex: &Executor, cmd: RoutesCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        RoutesCmd::List => {
            let rs = ex.store().list::<Route>()?;
            print_data(format, &rs, || {
                let mut t = Table::new(&["HOST", "APP", "INGRESS"]);
                for r in &rs {
                    let host = format!("{}{}", r.host, if r.path == "/" { "" } else { &r.path });
                    let mode = match r.ingress {
                        kdeck_model::IngressMode::Own => "own",
                        kdeck_model::IngressMode::Shared => "shared",
                    };
                    t.row([host.as_str(), &r.app.to_string(), mode]);
                }
                t
            })
        }
        RoutesCmd::Remove { app, host } => run_command(ex, Command::RemoveRoute { app, host }, format),
        RoutesCmd::Add { app, host, shared } => run_command(
            ex,
            Command::AddRoute {
                app,
                host: host.unwrap_or_default(),
                shared,
            },
            format,
        ),
    }
}

/// `apps status APP` and `apps deploy --dry-run`: each object against the
/// cluster. With `plan`, the objects follow as YAML.
pub fn status(ex: &Executor, app: &str, format: Format, plan: bool) -> Result<(), CliError> {
    let a = AppRef::parse("APP", app).map_err(|e| CliError::usage(e.to_string()))?;
    let drift = super::runtime()?
        .block_on(apps::drift(ex, &a))
        .map_err(|f| CliError::failed(f.reason))?;
    print_data(format, &drift, || {
        let mut t = Table::new(&["OBJECT", "DEPLOY WOULD", "FIELD", "KDECK", "CLUSTER"]);
        for d in &drift {
            if d.changes.is_empty() {
                t.row([d.object.as_str(), d.action, "", "", ""]);
            }
            for c in &d.changes {
                t.row([d.object.as_str(), d.action, &c.path, &c.ours, &c.cluster]);
            }
        }
        t
    })?;
    if plan && format == Format::Table {
        super::output::out("\n")?;
        show(ex, app, Format::Table)?;
    }
    // Pods that run older config than the cluster has: said on stderr, so that the data stays as it is.
    if !plan && super::runtime()?.block_on(apps::sync_of(ex, &a)).ok() == Some(apps::Sync::NeedsRestart) {
        eprintln!(
            "kdeck: {a} needs a restart: its pods run older values of a connector, ConfigMap or Secret it reads (`kdeck apps restart {a}`)"
        );
    }
    Ok(())
}
