//! The command layer: the one way anything changes. A [`Command`] is plain
//! serializable data; the [`Executor`] writes it to the journal (flushed)
//! before it runs, runs it, and records how it ended, with the store writes
//! and the outcome landing in one transaction.

pub mod apps;
mod bindings;
pub mod builds;
pub mod catalogs;
pub mod clusters;
pub mod config;
pub mod copy;
pub mod derive;
mod domains;
pub mod export;
pub mod files;
pub mod helm;
pub mod history;
pub mod kubeconfig;
pub mod market;
pub mod objects;
pub mod plan;
pub mod quota;
pub mod releases;
pub mod roles;
mod routes;
pub mod select;
pub mod solutions;
pub mod spaces;
mod summary;
pub mod team;

use serde::{Deserialize, Serialize};

use kdeck_model::clock::{SharedClock, rfc3339};
pub use kdeck_store::journal::{FailureKind, ItemOutcome, Runner, Status};
use kdeck_store::{Batch, Store, StoreError};

pub use summary::summary;

mod command;
pub use command::Command;

/// The journal of kdeck's commands.
pub type Journal = kdeck_store::journal::Journal<Command>;
/// One command in the journal, with how it ended.
pub type JournalEntry = kdeck_store::journal::JournalEntry<Command>;

impl kdeck_store::journal::Recorded for Command {
    fn target(&self) -> String {
        Command::target(self)
    }
}

/// A refusal of what was asked, in words.
pub(crate) fn invalid(msg: impl Into<String>) -> Failure {
    Failure::new(FailureKind::Invalid, msg)
}

/// A cluster's answer (or silence) as a command failure.
pub(crate) fn cluster_failure(p: kdeck_fleet::Problem) -> Failure {
    Failure {
        kind: FailureKind::Cluster,
        reason: p.message,
        code: p.code,
    }
}

/// A stored cluster by name, or a usage failure that says how to list them.
pub fn cluster_of(ex: &Executor, name: &str) -> Result<kdeck_model::Cluster, Failure> {
    ex.store().get::<kdeck_model::Cluster>(name)?.ok_or_else(|| {
        Failure::new(
            FailureKind::Usage,
            format!("no cluster named {name:?}; `kdeck clusters list` shows the stored ones"),
        )
    })
}

/// The command layer's error: why a command did not apply, in words; the
/// kind decides the exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Failure {
    pub kind: FailureKind,
    pub reason: String,
    pub code: Option<u16>,
}

impl Failure {
    pub fn new(kind: FailureKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            code: None,
        }
    }
}

impl From<kdeck_fleet::Problem> for Failure {
    fn from(p: kdeck_fleet::Problem) -> Self {
        cluster_failure(p)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::new(FailureKind::Store, e.to_string())
    }
}

/// What a command did: per-item outcomes and the store writes to commit
/// together with its journal entry.
pub struct Applied {
    pub items: Vec<ItemOutcome>,
    pub batch: Batch,
}

/// How a command that ran ended, from its items: all ok is Applied, some
/// ok is PartiallyApplied, none ok is Failed with every item's reason.
pub fn status_of(items: &[ItemOutcome]) -> Status {
    let failed: Vec<&ItemOutcome> = items.iter().filter(|i| !i.ok).collect();
    if failed.is_empty() {
        Status::Applied
    } else if failed.len() < items.len() {
        Status::PartiallyApplied
    } else {
        Status::Failed {
            reason: failed
                .iter()
                .map(|i| format!("{}: {}", i.item, i.message))
                .collect::<Vec<_>>()
                .join("; "),
            kind: FailureKind::Cluster,
            code: failed.iter().find_map(|i| i.code),
        }
    }
}

/// How often a long command's items done so far are written to its entry.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs commands: journal first, then the work, then the outcome.
#[derive(Clone, Debug)]
pub struct Executor {
    store: Store,
    journal: Journal,
    actor: String,
    clock: SharedClock,
    /// Refuses every command (journalled as refused).
    read_only: bool,
    /// The way to the clusters, shared with the fleet in the cockpit.
    gateway: kdeck_fleet::Gateway,
}

/// `user@host` of whoever runs kdeck.
pub fn local_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(user_from_passwd)
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// The login name of this process's uid, from /etc/passwd.
fn user_from_passwd() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

impl Executor {
    pub fn new(store: Store, actor: String, clock: SharedClock) -> Self {
        Self {
            journal: Journal::new(store.clone()),
            store,
            actor,
            clock,
            read_only: false,
            gateway: kdeck_fleet::Gateway::new(),
        }
    }

    /// An executor that reaches clusters through `gateway` (the cockpit's,
    /// shared with its live fleet).
    pub fn with_gateway(mut self, gateway: kdeck_fleet::Gateway) -> Self {
        self.gateway = gateway;
        self
    }

    pub fn gateway(&self) -> &kdeck_fleet::Gateway {
        &self.gateway
    }

    /// An executor that refuses every command, recording the refusal.
    pub fn read_only(mut self, on: bool) -> Self {
        self.read_only = on;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    pub fn now(&self) -> String {
        rfc3339(self.clock.now())
    }

    /// Who runs the commands: `user@host`.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// A progress that also writes the items done so far into the pending
    /// entry (at most every [`PROGRESS_EVERY`]), so that a command killed
    /// half-way leaves what it had applied known. Events go on to `outer`.
    /// The task ends once the returned progress and its clones are dropped.
    fn record_items(
        &self,
        entry: &JournalEntry,
        outer: &copy::Progress,
    ) -> (copy::Progress, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<copy::Event>();
        let forward = outer.tx.clone();
        let journal = self.journal.clone();
        let mut shadow = entry.clone();
        let task = tokio::spawn(async move {
            let mut last = tokio::time::Instant::now();
            let mut unsaved = false;
            while let Some(ev) = rx.recv().await {
                if let Some(f) = &forward {
                    let _ = f.send(ev.clone());
                }
                if let copy::Event::Done(d) = ev {
                    shadow.items.push(ItemOutcome {
                        item: d.item,
                        ok: d.ok,
                        message: d.message,
                        code: None,
                    });
                    unsaved = true;
                }
                if unsaved && last.elapsed() >= PROGRESS_EVERY {
                    let _ = journal.progress(&shadow);
                    last = tokio::time::Instant::now();
                    unsaved = false;
                }
            }
        });
        (
            copy::Progress {
                tx: Some(tx),
                cancel: outer.cancel.clone(),
            },
            task,
        )
    }

    /// Journals the command, runs it, journals the outcome. An `Err` means
    /// the journal itself could not be written; a command that failed is an
    /// `Ok` entry whose status says so.
    pub async fn run(&self, command: Command) -> Result<JournalEntry, StoreError> {
        self.run_with(command, &copy::Progress::default()).await
    }

    /// [`Self::run`], with a way to follow a long command item by item and
    /// to cancel it (a copy).
    pub async fn run_with(&self, command: Command, progress: &copy::Progress) -> Result<JournalEntry, StoreError> {
        let mut entry = self.journal.begin(command, &self.actor, self.now())?;
        // A cluster set read-only in kdeck refuses every command aimed at it.
        let touched = if entry.command.changes_cluster() {
            entry.command.clusters()
        } else {
            Vec::new()
        };
        // In a team, the local copy is brought up to the hub first; a hub
        // that does not answer makes the team's settings read-only.
        let team_refused = team::before(self, &entry.command).await;
        let refused = match clusters::read_only_among(self, &touched) {
            Err(f) => Some(f),
            Ok(Some(name)) => Some(invalid(format!(
                "refused: cluster {name} is read-only in kdeck; `kdeck clusters set {name} --writable` lets kdeck change it"
            ))),
            Ok(None) => None,
        };
        let result = match &entry.command {
            _ if self.read_only => Err(invalid(
                "refused: kdeck runs read-only (--read-only); run it without --read-only to change anything",
            )),
            _ if team_refused.is_some() => Err(team_refused.clone().unwrap_or_else(|| invalid("refused"))),
            _ if refused.is_some() => Err(refused.clone().unwrap_or_else(|| invalid("refused"))),
            Command::SetCluster { name, read_only, prod } => clusters::set(self, name, *read_only, *prod),
            Command::LabelCluster { name, changes } => clusters::label(self, name, changes),
            Command::AddCatalog { name, url } => catalogs::add(self, name, url).await,
            Command::RefreshCatalogs { names } => catalogs::refresh(self, names).await,
            Command::RemoveCatalog { name } => catalogs::remove(self, name),
            Command::ImportClusters {
                files,
                contexts,
                update,
            } => clusters::import(self, files, contexts, *update),
            Command::RemoveCluster { name, yes } => clusters::remove(self, name, *yes),
            Command::CreateSpace { space } => spaces::create(self, space).await,
            Command::AttachSpace { space } => spaces::attach(self, space).await,
            Command::DetachSpace { space } => spaces::detach(self, space),
            Command::DeleteSpace { space, yes } => spaces::delete(self, space, *yes).await,
            Command::CreateApp(n) => apps::create(self, n),
            Command::EditApp(e) => apps::edit(self, e),
            Command::DeployApp { app, wait } => apps::deploy(self, app, *wait).await,
            Command::RollbackApp { app, to, wait } => apps::rollback(self, app, *to, *wait).await,
            Command::AdoptApp { app, replace } => apps::adopt(self, app, *replace).await,
            Command::ScaleApp { app, replicas } => apps::scale(self, app, *replicas).await,
            Command::AutoscaleApp(s) => apps::autoscale(self, s).await,
            Command::ChangeConfig(c) => config::change(self, c).await,
            Command::StartCanary(s) => apps::start_canary(self, s).await,
            Command::PromoteCanary { app, wait } => apps::promote_canary(self, app, *wait).await,
            Command::AbortCanary { app } => apps::abort_canary(self, app).await,
            Command::SetQuota(q) => quota::set(self, q).await,
            Command::RestartApp { app } => apps::restart(self, app).await,
            Command::StopApp { app } => apps::stop(self, app).await,
            Command::StartApp { app } => apps::start(self, app).await,
            Command::DeleteApp { app, purge, yes } => apps::delete(self, app, *purge, *yes).await,
            Command::AddDomain {
                cluster,
                suffix,
                tls_secret,
                ingress_class,
            } => domains::add_domain(self, cluster, suffix, tls_secret.clone(), ingress_class.clone()),
            Command::AddRoute { app, host, shared } => routes::add_route(self, app, host, *shared),
            Command::RemoveDomain { cluster, suffix } => domains::remove_domain(self, cluster, suffix),
            Command::RemoveRoute { app, host } => routes::remove_route(self, app, host),
            Command::Bind {
                consumer,
                provider,
                connector,
                prefix,
            } => bindings::bind(self, consumer, provider, connector, prefix.clone()),
            Command::PatchObject {
                cluster,
                namespace,
                kind,
                name,
                patch,
            } => objects::patch(self, cluster, namespace, kind, name, patch).await,
            Command::SetBuild(b) => builds::set(self, b).await,
            Command::SetupBuilds { space } => builds::setup(self, space).await,
            Command::StartBuild {
                app,
                run,
                revision,
                deploy,
            } => builds::start(self, app, run, revision.as_deref(), *deploy).await,
            Command::CancelBuild { run, graceful } => builds::cancel(self, run, *graceful).await,
            Command::RerunBuild { run, new_run } => builds::rerun(self, run, new_run).await,
            Command::PruneBuilds { app, keep } => builds::prune(self, app, *keep).await,
            Command::DeployBuild { run } => builds::deploy_run(self, run).await,
            Command::SetWebhook(w) => builds::set_webhook(self, w).await,
            Command::RemoveWebhook { app } => builds::remove_webhook(self, app).await,
            Command::GrantRole { spaces, subject, role } => roles::grant(self, spaces, subject, role).await,
            Command::RevokeRole {
                spaces,
                subject,
                role,
                force,
            } => roles::revoke(self, spaces, subject, role, *force).await,
            Command::ApplyRoles { space } => roles::apply(self, space).await,
            Command::InstallChart(s) => {
                let (recorded, recorder) = self.record_items(&entry, progress);
                let r = market::install(self, s, &recorded).await;
                drop(recorded);
                let _ = recorder.await;
                r
            }
            Command::UpgradeRelease(s) => market::upgrade(self, s, progress).await,
            Command::RollbackRelease { release, clusters, to } => {
                market::rollback(self, release, clusters, *to, progress).await
            }
            Command::UninstallRelease {
                release,
                clusters,
                keep_history,
                yes,
            } => market::uninstall(self, release, clusters, *keep_history, *yes, progress).await,
            Command::ApplyPlacements { names } => market::apply_placements(self, names, progress).await,
            Command::RemovePlacement { name } => market::remove_placement(self, name),
            Command::SaveSolution(s) => solutions::store(self, s),
            Command::TeamInit { cluster, namespace } => team::init(self, cluster, namespace).await,
            Command::TeamJoin {
                cluster,
                namespace,
                discard_local,
            } => team::join(self, cluster, namespace, *discard_local).await,
            Command::TeamLeave => team::leave(self),
            Command::TeamShareCluster { name, stop } => team::share(self, name, *stop).await,
            Command::RemoveSolution { name } => solutions::remove(self, name),
            Command::InstallSolution { solution, spaces } => solutions::install(self, solution, spaces).await,
            Command::Copy(spec) => {
                let (recorded, recorder) = self.record_items(&entry, progress);
                let r = copy::copy(self, spec, &recorded).await;
                drop(recorded);
                let _ = recorder.await;
                r
            }
        };
        // The team's settings go to the hub before they land here.
        let result = match result {
            Ok(applied) => team::after(self, applied, entry.command.changes_cluster()).await,
            Err(f) => Err(f),
        };
        entry.finished_at = Some(self.now());
        let batch = match result {
            Ok(applied) => {
                entry.status = status_of(&applied.items);
                entry.items = applied.items;
                applied.batch
            }
            Err(f) => {
                entry.status = Status::Failed {
                    reason: f.reason,
                    kind: f.kind,
                    code: f.code,
                };
                Batch::new()
            }
        };
        match self.journal.finish(&entry, batch) {
            Ok(()) => {
                team::record(self, &entry).await;
                Ok(entry)
            }
            Err(e) => {
                // The writes did not land; record that much if the store still takes it.
                entry.status = Status::Failed {
                    reason: e.to_string(),
                    kind: FailureKind::Store,
                    code: None,
                };
                entry.items.clear();
                self.journal.finish(&entry, Batch::new())?;
                Ok(entry)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_items() {
        assert_eq!(status_of(&[]), Status::Applied);
        assert_eq!(status_of(&[ItemOutcome::ok("a", "done")]), Status::Applied);
        let mixed = [
            ItemOutcome::ok("a", "done"),
            ItemOutcome::failed("b", "forbidden", Some(403)),
        ];
        assert_eq!(status_of(&mixed), Status::PartiallyApplied);
        assert!(status_of(&mixed).is_failure());
        let none = [
            ItemOutcome::failed("a", "conflict", None),
            ItemOutcome::failed("b", "forbidden", Some(403)),
        ];
        assert_eq!(
            status_of(&none),
            Status::Failed {
                reason: "a: conflict; b: forbidden".into(),
                kind: FailureKind::Cluster,
                code: Some(403)
            }
        );
    }

    #[test]
    fn commands_serialize_with_a_type_tag() {
        let c = Command::ImportClusters {
            files: vec!["/k".into()],
            contexts: vec![],
            update: false,
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"type":"import_clusters","files":["/k"],"update":false}"#);
        assert_eq!(serde_json::from_str::<Command>(&json).unwrap(), c);
        assert_eq!(c.target(), "all contexts of /k");
        let r = Command::RemoveCluster {
            name: "eu1".into(),
            yes: false,
        };
        assert_eq!(r.target(), "cluster eu1");
        assert!(r.is_destructive() && !c.is_destructive());
    }
}
