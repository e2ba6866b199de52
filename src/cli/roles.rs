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
        /// SPACE... SUBJECT ROLE
        #[arg(value_name = "SPACE... SUBJECT ROLE", num_args = 3.., required = true)]
        args: Vec<String>,
    },
    /// Take ROLE from SUBJECT on spaces
    Revoke {
        /// SPACE... SUBJECT ROLE
        #[arg(value_name = "SPACE... SUBJECT ROLE", num_args = 3.., required = true)]
        args: Vec<String>,
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

fn split(args: Vec<String>) -> (Vec<String>, String, String) {
    let mut a = args;
    let role = a.pop().unwrap_or_default();
    let subject = a.pop().unwrap_or_default();
    (a, subject, role)
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
        RolesCmd::Grant { args } => {
            let (spaces, subject, role) = split(args);
            run_command(executor, Command::GrantRole { spaces, subject, role }, format)
        }
        RolesCmd::Revoke { args, force } => {
            let (spaces, subject, role) = split(args);
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
