//! `kdeck roles grant|revoke|list|apply`: manager, developer and auditor on
//! spaces, across clusters. Grants and revokes are journalled commands,
//! reported per space; `list` reads every RoleBinding of each space.

use clap::Subcommand;
use serde::Serialize;

use super::output::{Format, Table, print_data};
use super::{CliError, run_command, runtime};
use kdeck_command::roles::Holder;
use kdeck_command::{Command, Executor};
use kdeck_model::SpaceRef;

#[derive(Subcommand, Debug)]
pub enum RolesCmd {
    /// Give SUBJECT (user:NAME, group:NAME, sa:NS/NAME) ROLE (manager, developer, auditor) on spaces
    Grant {
        /// SPACE... SUBJECT ROLE; a SPACE may be a pattern ('*/shop', 'eu1/team-*')
        #[arg(value_name = "SPACE... SUBJECT ROLE", num_args = 1.., required = true, action = clap::ArgAction::Append)]
        args: Vec<String>,
        /// Only namespaces with these labels (team=shop,tier!=dev); with no SPACE, on every cluster
        #[arg(short = 'l', long, value_name = "SELECTOR")]
        selector: Option<String>,
        /// Only on the clusters whose labels match (tier=prod,region in (eu,us)); with no SPACE, every namespace there
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
    },
    /// Take ROLE from SUBJECT on spaces
    Revoke {
        /// SPACE... SUBJECT ROLE; a SPACE may be a pattern ('*/shop', 'eu1/team-*')
        #[arg(value_name = "SPACE... SUBJECT ROLE", num_args = 1.., required = true, action = clap::ArgAction::Append)]
        args: Vec<String>,
        /// Only namespaces with these labels (team=shop,tier!=dev); with no SPACE, on every cluster
        #[arg(short = 'l', long, value_name = "SELECTOR")]
        selector: Option<String>,
        /// Only on the clusters whose labels match (tier=prod,region in (eu,us)); with no SPACE, every namespace there
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
        /// Revoke RoleBindings kdeck did not make too
        #[arg(long)]
        force: bool,
    },
    /// Who holds which role, per space, grouped by role (every RoleBinding, not only kdeck's)
    List {
        /// CLUSTER/SPACE... [default: every space kdeck stores]
        spaces: Vec<String>,
        /// Every space kdeck stores
        #[arg(long, conflicts_with = "spaces")]
        all: bool,
    },
    /// Apply the grants kdeck keeps for a space (a space made again, or copied)
    Apply {
        /// CLUSTER/SPACE
        space: String,
    },
}

/// SPACE... SUBJECT ROLE, the spaces resolved (patterns, a selector) and
/// said on stderr before anything is done.
fn split(
    executor: &Executor,
    args: Vec<String>,
    selector: Option<&str>,
    clusters: Option<&str>,
    doing: &str,
) -> Result<(Vec<String>, String, String), CliError> {
    if args.len() < 2 {
        return Err(CliError::usage(
            "give the spaces, then SUBJECT (user:NAME, group:NAME, sa:NS/NAME), then ROLE (manager, developer, auditor)",
        ));
    }
    let mut a = args;
    let role = a.pop().unwrap_or_default();
    let subject = a.pop().unwrap_or_default();
    if a.is_empty() && selector.is_none() && clusters.is_none() {
        return Err(CliError::usage(
            "name the spaces (CLUSTER/NAMESPACE, or a pattern such as '*/shop'), or give --selector or --clusters",
        ));
    }
    if selector.is_none() && clusters.is_none() && !a.iter().any(|s| kdeck_command::select::is_pattern(s)) {
        return Ok((a, subject, role));
    }
    let only: Option<Vec<String>> = match clusters {
        Some(sel) => Some(
            super::chosen_clusters(executor, Some(sel))?
                .into_iter()
                .map(|c| c.name)
                .collect(),
        ),
        None => None,
    };
    let ex = executor.clone();
    let names = a.clone();
    let sel = selector.map(str::to_string);
    let found = runtime()?
        .block_on(async move { kdeck_command::select::resolve(&ex, &names, sel.as_deref(), only.as_deref()).await })?;
    for u in &found.unread {
        eprintln!("kdeck: not read, so not {doing} there: {u}");
    }
    if found.spaces.is_empty() {
        return Err(CliError::usage(format!(
            "{} {}{}: no space matches",
            a.join(" "),
            selector.map(|s| format!("--selector {s}")).unwrap_or_default(),
            clusters.map(|s| format!(" --clusters {s}")).unwrap_or_default()
        )));
    }
    eprintln!(
        "kdeck: {doing} on {} spaces: {}",
        found.spaces.len(),
        found.spaces.join(", ")
    );
    Ok((found.spaces, subject, role))
}

#[derive(Serialize)]
struct SpaceRoles {
    space: String,
    holders: Vec<Holder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub(super) fn roles(executor: &Executor, cmd: RolesCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        RolesCmd::Grant {
            args,
            selector,
            clusters,
        } => {
            let (spaces, subject, role) = split(executor, args, selector.as_deref(), clusters.as_deref(), "granting")?;
            run_command(executor, Command::GrantRole { spaces, subject, role }, format)
        }
        RolesCmd::Revoke {
            args,
            selector,
            clusters,
            force,
        } => {
            let (spaces, subject, role) = split(executor, args, selector.as_deref(), clusters.as_deref(), "revoking")?;
            run_command(
                executor,
                Command::RevokeRole {
                    spaces,
                    subject,
                    role,
                    force,
                },
                format,
            )
        }
        RolesCmd::Apply { space } => run_command(executor, Command::ApplyRoles { space }, format),
        RolesCmd::List { spaces, all: _ } => {
            let spaces: Vec<SpaceRef> = if spaces.is_empty() {
                executor
                    .store()
                    .list::<kdeck_model::Space>()?
                    .into_iter()
                    .map(|s| s.space)
                    .collect()
            } else {
                spaces
                    .iter()
                    .map(|s| SpaceRef::parse("SPACE", s).map_err(|e| CliError::usage(e.to_string())))
                    .collect::<Result<_, _>>()?
            };
            let ex = executor.clone();
            let rows: Vec<SpaceRoles> = runtime()?.block_on(async move {
                let calls = spaces.iter().map(|s| {
                    let ex = ex.clone();
                    async move {
                        match kdeck_command::roles::list(&ex, s).await {
                            Ok(holders) => SpaceRoles {
                                space: s.to_string(),
                                holders,
                                error: None,
                            },
                            Err(f) => SpaceRoles {
                                space: s.to_string(),
                                holders: Vec::new(),
                                error: Some(f.reason),
                            },
                        }
                    }
                });
                futures::future::join_all(calls).await
            });
            let failed = rows.iter().filter(|r| r.error.is_some()).count();
            print_data(format, &rows, || {
                let mut t = Table::new(&["SPACE", "ROLE", "SUBJECT", "BINDING", "BY"]);
                for r in &rows {
                    if let Some(e) = &r.error {
                        t.row([r.space.as_str(), "-", "-", "-", e.as_str()]);
                    }
                    for h in &r.holders {
                        let role = if h.role == "custom" {
                            format!("custom ({})", h.role_ref)
                        } else {
                            h.role.clone()
                        };
                        t.row([
                            r.space.as_str(),
                            &role,
                            &h.subject,
                            &h.binding,
                            if h.kdeck { "kdeck" } else { "-" },
                        ]);
                    }
                }
                t
            })?;
            match failed {
                0 => Ok(()),
                n if n == rows.len() => Err(CliError::failed("no space could be read (see above)")),
                n => Err(CliError {
                    code: 3,
                    message: format!("the answer is partial: {n} of {} spaces could not be read", rows.len()),
                }),
            }
        }
    }
}
