//! `kdeck team init|join|status|sync|leave`: the team's settings shared
//! through a hub cluster's API.

use clap::Subcommand;
use serde::Serialize;

use super::CliError;
use super::journal::run_command;
use super::output::{Format, Table, print_data};
use kdeck_command::{Command, Executor};
use kdeck_team::{Hub, Membership};

const DEFAULT_NAMESPACE: &str = "kdeck-team";

#[derive(Subcommand, Debug)]
pub enum TeamCmd {
    /// Make a team on a hub cluster: its namespace, and this data dir's shared settings pushed there
    Init {
        /// A stored cluster the team already runs
        cluster: String,
        #[arg(long, default_value = DEFAULT_NAMESPACE)]
        namespace: String,
    },
    /// Join the team on a hub cluster (another machine, another data dir): its settings pulled here
    Join {
        cluster: String,
        #[arg(long, default_value = DEFAULT_NAMESPACE)]
        namespace: String,
        /// Drop this data dir's shared settings that the team does not have
        #[arg(long)]
        discard_local: bool,
    },
    /// The hub, the last sync, whether you may change the team's settings; syncs first
    Status,
    /// Pull the hub's settings now
    Sync,
    /// Leave the team: the settings stay here as local ones, the hub is untouched
    Leave,
    /// Share a cluster with the team, credentials included (in a Secret of the hub's namespace)
    Share {
        cluster: String,
        /// Yes: everyone who may read Secrets there gets its credentials
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Stop sharing a cluster (members who have it keep it)
    Unshare { cluster: String },
}

#[derive(Serialize)]
struct Status {
    hub: String,
    namespace: String,
    joined_at: String,
    last_sync: String,
    reachable: bool,
    unreachable_since: Option<String>,
    /// Shared settings here.
    settings: usize,
    /// May change the team's settings (the hub's RBAC says).
    can_write: Option<bool>,
    /// Changes waiting for the hub: kdeck queues none.
    pending: usize,
    skipped: Vec<String>,
    problem: Option<String>,
}

pub fn team(ex: &Executor, cmd: TeamCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        TeamCmd::Init { cluster, namespace } => run_command(ex, Command::TeamInit { cluster, namespace }, format),
        TeamCmd::Join {
            cluster,
            namespace,
            discard_local,
        } => run_command(
            ex,
            Command::TeamJoin {
                cluster,
                namespace,
                discard_local,
            },
            format,
        ),
        TeamCmd::Leave => run_command(ex, Command::TeamLeave, format),
        TeamCmd::Share { cluster, yes } => {
            if !yes {
                return Err(CliError::usage(format!(
                    "sharing {cluster} gives its credentials to everyone who may read Secrets in the team's namespace; confirm with --yes"
                )));
            }
            run_command(
                ex,
                Command::TeamShareCluster {
                    name: cluster,
                    stop: false,
                },
                format,
            )
        }
        TeamCmd::Unshare { cluster } => run_command(
            ex,
            Command::TeamShareCluster {
                name: cluster,
                stop: true,
            },
            format,
        ),
        TeamCmd::Sync | TeamCmd::Status => {
            let sync_only = matches!(cmd, TeamCmd::Sync);
            let rt = super::runtime()?;
            let store = ex.store();
            let Some((hub, m)) = rt.block_on(Hub::of(store, ex.gateway())).map_err(team_error)? else {
                return Err(CliError::usage(
                    "this data dir is in no team: `kdeck team init CLUSTER` makes one, `kdeck team join CLUSTER` joins one",
                ));
            };
            let pulled = rt.block_on(hub.pull(store, &ex.now()));
            if sync_only {
                let p = pulled.map_err(team_error)?;
                super::output::out(&format!(
                    "synced with {}/{}: {} shared setting(s), {} changed here, {} removed\n",
                    m.hub, m.namespace, p.entities, p.changed, p.removed
                ))?;
                if p.skipped.is_empty() {
                    return Ok(());
                }
                for s in &p.skipped {
                    eprintln!("team sync: passed over {s}");
                }
                return Err(CliError::failed(format!(
                    "{} hub object(s) passed over: fix or delete them on the hub; the rest is in sync",
                    p.skipped.len()
                )));
            }
            let can_write = rt
                .block_on(
                    ex.gateway()
                        .can(&hub.cluster, &hub.namespace, "update", "", "configmaps"),
                )
                .ok();
            let now: Membership = store.get::<Membership>("team")?.unwrap_or(m);
            let settings: usize = kdeck_team::SHARED
                .iter()
                .map(|t| store.scan_raw(t, b"").map(|v| v.len()).unwrap_or(0))
                .sum();
            let (reachable, skipped, problem) = match pulled {
                Ok(p) => (true, p.skipped, None),
                Err(e) => (false, Vec::new(), Some(e.to_string())),
            };
            let s = Status {
                hub: now.hub.clone(),
                namespace: now.namespace.clone(),
                joined_at: now.joined_at.clone(),
                last_sync: now.last_sync.clone().unwrap_or_default(),
                reachable,
                unreachable_since: now.unreachable_since.clone(),
                settings,
                can_write,
                pending: 0,
                skipped,
                problem,
            };
            print_data(format, &s, || {
                let mut t = Table::new(&["", ""]);
                t.row(["hub", &format!("{}/{}", s.hub, s.namespace)]);
                t.row(["joined", &s.joined_at]);
                t.row(["last sync", &s.last_sync]);
                let state = match (&s.problem, &s.unreachable_since) {
                    (None, _) => "answers".to_string(),
                    (Some(p), _) => p.clone(),
                };
                t.row(["hub", &state]);
                t.row(["shared settings", &s.settings.to_string()]);
                let may = match s.can_write {
                    Some(true) => "yes",
                    Some(false) => "no: the hub's RBAC lets you read the team's settings, not change them",
                    None => "unknown (the hub did not say)",
                };
                t.row(["you may change them", may]);
                t.row(["pending", "none: a change is on the hub or it is not made"]);
                for k in &s.skipped {
                    t.row(["passed over", k]);
                }
                t
            })
        }
    }
}

fn team_error(e: kdeck_team::TeamError) -> CliError {
    match e {
        kdeck_team::TeamError::Usage(m) => CliError::usage(m),
        other => CliError::failed(other.to_string()),
    }
}
