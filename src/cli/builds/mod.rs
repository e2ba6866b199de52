//! `kdeck builds`: build settings, space setup, runs (start, follow, list,
//! show, logs, cancel, rerun, prune, deploy) and webhooks. Changes are
//! journalled commands; lists, `show` and `logs` only read.

use std::io::{BufRead, Write};

mod view;
use view::{list, show};

use clap::{Args, Subcommand, ValueEnum};

use super::output::Format;
use super::{CliError, report, runtime};
use kdeck_command::builds::{self, BuildSet, Login, Provider, WebhookSpec};
use kdeck_command::{Command, Executor, Status};
use kdeck_fleet::builds::{BuildLog, StepFilter};
use kdeck_fleet::live::views::{BuildState, BuildView};
use kdeck_model::{AppRef, Cluster, SpaceRef};

#[derive(Subcommand, Debug)]
pub enum BuildsCmd {
    /// An app's build settings; logins are kept as Secrets in its space
    Settings(SettingsArgs),
    /// Put kdeck's Pipeline, Tasks and ServiceAccount in a space (Tekton must be installed)
    Setup {
        /// CLUSTER/SPACE
        space: String,
        /// Print the objects instead of applying them
        #[arg(long)]
        dry_run: bool,
    },
    /// Start a build of an app
    Start {
        /// CLUSTER/SPACE/APP
        app: String,
        /// Branch, tag or commit [default: the settings' revision]
        #[arg(long)]
        revision: Option<String>,
        /// Print every step's logs as they come; exit with the build's result
        #[arg(short = 'f', long)]
        follow: bool,
        /// When it succeeds, set the app's image to the built digest and deploy it
        #[arg(long)]
        deploy: bool,
    },
    /// List runs: of an app, of a space, or of every stored cluster
    List {
        /// CLUSTER/SPACE/APP or CLUSTER/SPACE [default: every space of every cluster]
        target: Option<String>,
        /// Every namespace of every stored cluster (the default without TARGET)
        #[arg(long, conflicts_with = "target")]
        all: bool,
    },
    /// A run's task tree: tasks, skipped tasks, steps with exit codes and durations, results
    Show {
        /// CLUSTER/SPACE/RUN
        run: String,
    },
    /// A run's step logs, in order, prefixed `[task : step]`
    Logs {
        /// CLUSTER/SPACE/RUN
        run: String,
        #[arg(short = 'f', long)]
        follow: bool,
        /// Only this task
        #[arg(long, value_name = "TASK")]
        task: Option<String>,
        /// Only this step
        #[arg(long, value_name = "STEP")]
        step: Option<String>,
    },
    /// Cancel a run
    Cancel {
        /// CLUSTER/SPACE/RUN
        run: String,
        /// Let its finally tasks run (CancelledRunFinally)
        #[arg(long)]
        graceful: bool,
    },
    /// Start a new run with the same params
    Rerun {
        /// CLUSTER/SPACE/RUN
        run: String,
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Delete an app's ended runs but the newest N
    Prune {
        /// CLUSTER/SPACE/APP
        app: String,
        #[arg(long, value_name = "N")]
        keep: usize,
    },
    /// Set the app's image to the digest a run built, and deploy it
    Deploy {
        /// CLUSTER/SPACE/RUN
        run: String,
    },
    /// A webhook that builds the app on a push (`webhook remove APP` removes it)
    Webhook(WebhookArgs),
}

#[derive(Args, Debug)]
pub struct SettingsArgs {
    /// CLUSTER/SPACE/APP
    app: String,
    /// The repository: https://… or git@host:org/repo.git
    #[arg(long = "git", value_name = "URL")]
    git_url: String,
    /// Branch, tag or commit built by default [default: main]
    #[arg(long)]
    revision: Option<String>,
    /// The directory of the repository holding the source
    #[arg(long, value_name = "DIR")]
    context_dir: Option<String>,
    /// The Dockerfile, relative to the context dir [default: Dockerfile]
    #[arg(long, value_name = "PATH")]
    dockerfile: Option<String>,
    /// Where to push, e.g. registry.example.com/team
    #[arg(long)]
    registry: String,
    /// The image name under the registry [default: the app's name]
    #[arg(long)]
    image: Option<String>,
    /// The git login's user (a private repository); the password from
    /// --git-password-stdin or $KDECK_GIT_PASSWORD
    #[arg(long, value_name = "USER")]
    git_username: Option<String>,
    #[arg(long)]
    git_password_stdin: bool,
    /// The registry login's user; the password from
    /// --registry-password-stdin or $KDECK_REGISTRY_PASSWORD
    #[arg(long, value_name = "USER")]
    registry_username: Option<String>,
    #[arg(long)]
    registry_password_stdin: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ProviderArg {
    Github,
    Gitlab,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WebhookArgs {
    #[command(subcommand)]
    action: Option<WebhookAction>,
    /// CLUSTER/SPACE/APP
    app: Option<String>,
    /// Who sends the pushes (and signs them)
    #[arg(long, value_enum)]
    provider: Option<ProviderArg>,
    /// Build pushes to this branch [default: the settings' revision]
    #[arg(long, conflicts_with = "tags")]
    branch: Option<String>,
    /// Build pushed tags instead of a branch
    #[arg(long)]
    tags: bool,
    /// Deploy the built image when the build succeeds
    #[arg(long)]
    deploy: bool,
}

#[derive(Subcommand, Debug)]
pub enum WebhookAction {
    /// Remove an app's webhook (trigger, listener, route, secret)
    Remove {
        /// CLUSTER/SPACE/APP
        app: String,
    },
}

fn password(what: &str, from_stdin: bool, env: &str) -> Result<String, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::usage(format!("--{what}-password-stdin: cannot read stdin: {e}")))?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_string());
    }
    std::env::var(env).map_err(|_| {
        CliError::usage(format!(
            "--{what}-username needs a password: pipe it to --{what}-password-stdin or set ${env}"
        ))
    })
}

impl SettingsArgs {
    fn command(&self) -> Result<Command, CliError> {
        if self.git_password_stdin && self.registry_password_stdin {
            return Err(CliError::usage(
                "only one password can come from stdin; give the other in $KDECK_GIT_PASSWORD or $KDECK_REGISTRY_PASSWORD",
            ));
        }
        let login = |user: &Option<String>, what: &str, stdin: bool, env: &str| -> Result<Option<Login>, CliError> {
            match user {
                None if stdin => Err(CliError::usage(format!(
                    "--{what}-password-stdin needs --{what}-username"
                ))),
                None => Ok(None),
                Some(u) => Ok(Some(Login {
                    username: u.clone(),
                    password: password(what, stdin, env)?,
                })),
            }
        };
        let git_login = login(&self.git_username, "git", self.git_password_stdin, "KDECK_GIT_PASSWORD")?;
        let registry_login = login(
            &self.registry_username,
            "registry",
            self.registry_password_stdin,
            "KDECK_REGISTRY_PASSWORD",
        )?;
        let mut logins_given = Vec::new();
        if git_login.is_some() {
            logins_given.push("git".into());
        }
        if registry_login.is_some() {
            logins_given.push("registry".into());
        }
        Ok(Command::SetBuild(BuildSet {
            app: self.app.clone(),
            git_url: self.git_url.clone(),
            revision: self.revision.clone(),
            context_dir: self.context_dir.clone(),
            dockerfile: self.dockerfile.clone(),
            registry: self.registry.clone(),
            image: self.image.clone(),
            git_login,
            registry_login,
            logins_given,
        }))
    }
}

/// A webhook secret: 32 random bytes, hex.
fn new_secret() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    format!("{}{}", a.simple(), b.simple())
}

// The process's one runtime (see `cli::runtime`), passed along.
fn run_entry(rt: &Rt, executor: &Executor, command: Command) -> Result<kdeck_command::JournalEntry, CliError> {
    Ok(rt.block_on(executor.run(command))?)
}

pub(super) type Rt = tokio::runtime::Runtime;

fn run_command(rt: &Rt, executor: &Executor, command: Command, format: Format) -> Result<(), CliError> {
    report(&run_entry(rt, executor, command)?, format)
}

pub(super) fn builds(executor: &Executor, cmd: BuildsCmd, format: Format) -> Result<(), CliError> {
    let rt = runtime()?;
    match cmd {
        BuildsCmd::Settings(args) => run_command(rt, executor, args.command()?, format),
        BuildsCmd::Setup { space, dry_run: true } => {
            let s = SpaceRef::parse("space", &space).map_err(|e| CliError::usage(e.to_string()))?;
            let objects = builds::setup_objects(executor, &s).map_err(|f| CliError::failed(f.reason))?;
            let mut text = String::new();
            for o in &objects {
                text.push_str("---\n");
                text.push_str(&serde_saphyr::to_string(o).map_err(|e| CliError::failed(e.to_string()))?);
            }
            super::output::out(&text)
        }
        BuildsCmd::Setup { space, dry_run: false } => run_command(rt, executor, Command::SetupBuilds { space }, format),
        BuildsCmd::Start {
            app,
            revision,
            follow,
            deploy,
        } => {
            let a = AppRef::parse("APP", &app).map_err(|e| CliError::usage(e.to_string()))?;
            let run = builds::new_run_name(&a.name);
            let entry = run_entry(
                rt,
                executor,
                Command::StartBuild {
                    app,
                    run: run.clone(),
                    revision,
                    deploy,
                },
            )?;
            report(&entry, format)?;
            let full = format!("{}/{run}", a.space);
            if follow || deploy {
                finish_run(rt, executor, &full, follow, deploy, format)
            } else {
                Ok(())
            }
        }
        BuildsCmd::Rerun { run, follow } => {
            let (space, name) = builds::parse_run(&run).map_err(|f| CliError::usage(f.reason))?;
            let app = name.split("-build-").next().unwrap_or(&name).to_string();
            let new_run = builds::new_run_name(&app);
            let entry = run_entry(
                rt,
                executor,
                Command::RerunBuild {
                    run,
                    new_run: new_run.clone(),
                },
            )?;
            report(&entry, format)?;
            if follow {
                finish_run(rt, executor, &format!("{space}/{new_run}"), true, false, format)
            } else {
                Ok(())
            }
        }
        BuildsCmd::List { target, all: _ } => list(rt, executor, target.as_deref(), format),
        BuildsCmd::Show { run } => show(rt, executor, &run, format),
        BuildsCmd::Logs {
            run,
            follow,
            task,
            step,
        } => {
            let end = logs(rt, executor, &run, StepFilter { task, step }, follow)?;
            match end {
                Some(b) if follow => outcome(rt, executor, &run, &b),
                _ => Ok(()),
            }
        }
        BuildsCmd::Cancel { run, graceful } => {
            run_command(rt, executor, Command::CancelBuild { run, graceful }, format)
        }
        BuildsCmd::Prune { app, keep } => run_command(rt, executor, Command::PruneBuilds { app, keep }, format),
        BuildsCmd::Deploy { run } => run_command(rt, executor, Command::DeployBuild { run }, format),
        BuildsCmd::Webhook(w) => webhook(rt, executor, w, format),
    }
}

fn webhook(rt: &Rt, executor: &Executor, w: WebhookArgs, format: Format) -> Result<(), CliError> {
    if let Some(WebhookAction::Remove { app }) = w.action {
        return run_command(rt, executor, Command::RemoveWebhook { app }, format);
    }
    let Some(app) = w.app else {
        return Err(CliError::usage(
            "builds webhook: name the app (CLUSTER/SPACE/APP) and --provider github|gitlab, or `builds webhook remove APP`",
        ));
    };
    let Some(provider) = w.provider else {
        return Err(CliError::usage(format!(
            "builds webhook {app}: --provider github|gitlab says who signs the pushes"
        )));
    };
    let secret = new_secret();
    let spec = WebhookSpec {
        app,
        provider: match provider {
            ProviderArg::Github => Provider::Github,
            ProviderArg::Gitlab => Provider::Gitlab,
        },
        branch: w.branch,
        tags: w.tags,
        deploy: w.deploy,
        secret: secret.clone(),
    };
    let entry = run_entry(rt, executor, Command::SetWebhook(spec))?;
    report(&entry, format)?;
    if entry.status == Status::Applied {
        // Shown once: it is kept only in the Secret in the cluster.
        let how = match provider {
            ProviderArg::Github => {
                "GitHub: Settings → Webhooks → Add webhook; content type application/json; paste the secret"
            }
            ProviderArg::Gitlab => "GitLab: Settings → Webhooks; paste the secret as the Secret token",
        };
        eprintln!("webhook secret (shown once; {how}):");
        super::output::out(&format!("{secret}\n"))?;
    }
    Ok(())
}

/// Follows a run to its end (printing its logs when `follow`), deploys its
/// image when `deploy` and it succeeded; the exit code is the build's result.
fn finish_run(
    rt: &Rt,
    executor: &Executor,
    run: &str,
    follow: bool,
    deploy: bool,
    format: Format,
) -> Result<(), CliError> {
    let end = if follow {
        logs(rt, executor, run, StepFilter::default(), true)?
    } else {
        wait(rt, executor, run)?
    };
    let Some(b) = end else {
        return Err(CliError::failed(format!(
            "build {run}: lost track of it; `kdeck builds show {run}`"
        )));
    };
    let result = outcome(rt, executor, run, &b);
    // Asked to deploy, the deploy is journalled even when the build failed:
    // the journal then says why nothing was deployed.
    if deploy {
        let entry = run_entry(rt, executor, Command::DeployBuild { run: run.to_string() })?;
        if result.is_ok() {
            report(&entry, format)?;
        }
    }
    result
}

/// Waits for a run to end, quietly, printing its state as it changes.
fn wait(rt: &Rt, executor: &Executor, run: &str) -> Result<Option<BuildView>, CliError> {
    let (cluster, space, name) = resolve(executor, run)?;
    let gw = executor.gateway().clone();
    rt.block_on(async move {
        let mut last = String::new();
        loop {
            match kdeck_fleet::builds::detail(&gw, &cluster, &space.namespace, &name).await {
                Ok(Some(d)) => {
                    let now = d.run.state.word().to_string();
                    if now != last {
                        eprintln!("build {run}: {now}");
                        last = now;
                    }
                    if d.run.state.finished() {
                        return Ok(Some(d.run));
                    }
                }
                Ok(None) => return Err(CliError::failed(format!("no build run {run}"))),
                Err(p) => eprintln!("kdeck: {}", p.message),
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    })
}

/// `: text`, or nothing for no text.
pub(super) fn colon(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The exit status of a finished run: 0 when it succeeded; else the failing
/// step and its exit code.
fn outcome(rt: &Rt, executor: &Executor, run: &str, b: &BuildView) -> Result<(), CliError> {
    if b.state == BuildState::Failed
        && let Ok((cluster, space, name)) = resolve(executor, run)
        && let Ok(Some(d)) = rt.block_on(kdeck_fleet::builds::detail(
            executor.gateway(),
            &cluster,
            &space.namespace,
            &name,
        ))
        && let Some(why) = rt.block_on(kdeck_fleet::builds::failure(executor.gateway(), &cluster, &d))
    {
        return Err(CliError::failed(format!(
            "build {run} {why}; `kdeck builds show {run}` has its task tree"
        )));
    }
    match b.state {
        BuildState::Succeeded => {
            eprintln!(
                "build {run} succeeded{}",
                if b.image.is_empty() {
                    String::new()
                } else {
                    format!(": {}", b.image)
                }
            );
            Ok(())
        }
        BuildState::Pending | BuildState::Running => Ok(()),
        _ => Err(CliError::failed(format!(
            "build {run} {}: {}{}",
            b.state.word(),
            b.reason,
            colon(&b.message)
        ))),
    }
}

pub(super) fn resolve(executor: &Executor, run: &str) -> Result<(Cluster, SpaceRef, String), CliError> {
    let (space, name) = builds::parse_run(run).map_err(|f| CliError::usage(f.reason))?;
    let cluster = kdeck_command::cluster_of(executor, &space.cluster)?;
    Ok((cluster, space, name))
}

/// Prints a run's step logs; returns the run as it was when they ended.
fn logs(
    rt: &Rt,
    executor: &Executor,
    run: &str,
    filter: StepFilter,
    follow: bool,
) -> Result<Option<BuildView>, CliError> {
    let (cluster, space, name) = resolve(executor, run)?;
    let gw = executor.gateway().clone();
    rt.block_on(async move {
        let mut rx = kdeck_fleet::builds::logs(gw, cluster, space.namespace.clone(), name, filter, follow);
        let mut out = std::io::stdout().lock();
        while let Some(l) = rx.recv().await {
            match l {
                BuildLog::Line { task, step, text } => {
                    let line = format!("[{task} : {step}] {}\n", kdeck_model::printable(&text, false));
                    if let Err(e) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
                        if e.kind() == std::io::ErrorKind::BrokenPipe {
                            return Err(CliError::quiet());
                        }
                        return Err(CliError::failed(format!("cannot write to stdout: {e}")));
                    }
                }
                BuildLog::Notice(n) => eprintln!("kdeck: {}", kdeck_model::printable(&n, false)),
                BuildLog::Ended(b) => return Ok(Some(*b)),
                BuildLog::Failed(why) => return Err(CliError::failed(why)),
            }
        }
        Ok(None)
    })
}
