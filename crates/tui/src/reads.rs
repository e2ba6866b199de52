//! The reads behind the cockpit's views (a copy's plan, roles, the journal,
//! revisions, a space's settings, a dry run, drift): each effect that asks
//! for one is started here, off the event loop, and its answer comes back
//! on a channel with the request's id, for [`answered`] to hand over.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::cockpit::{Cockpit, Effect, RequestId};
use crate::widgets::Toned;
use kdeck_command::{Executor, Failure, FailureKind};
use kdeck_model::SpaceRef;

/// An answer to a request of the cockpit, with the request's id.
pub(crate) enum Fetched {
    Text(RequestId, Result<Vec<Toned>, Failure>),
    Drift(RequestId, Result<Vec<kdeck_command::apps::ObjectDrift>, Failure>),
    CopyPlan(RequestId, Result<kdeck_command::copy::CopyPlan, Failure>),
    Roles(RequestId, Vec<(SpaceRef, crate::overlays::roles::SpaceRoles)>),
    Journal(RequestId, Result<Vec<kdeck_command::JournalEntry>, String>),
    Revisions(RequestId, Result<crate::overlays::revisions::Revisions, String>),
    Space(RequestId, Result<crate::overlays::space::SpaceSettings, String>),
    Market(RequestId, Result<Vec<kdeck_command::catalogs::Offer>, String>),
    Releases(RequestId, crate::overlays::releases::Releases),
    /// Nothing to read with: said as a toast.
    Said(String),
}

/// This cockpit has no store (a read of the live fleet only).
pub(crate) fn no_store(what: &str) -> Failure {
    Failure::new(FailureKind::Usage, format!("no store: this cockpit {what}"))
}

/// The answer of `work` within `secs`, or a failure that says `late`.
pub(crate) async fn answer<T>(
    secs: u64,
    late: &str,
    work: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    tokio::time::timeout(Duration::from_secs(secs), work)
        .await
        .unwrap_or_else(|_| Err(Failure::new(FailureKind::Cluster, late)))
}

/// Starts the read an effect asks for; the effect back when it is not one.
pub(crate) fn start(effect: Effect, ex: Option<&Executor>, tx: &UnboundedSender<Fetched>) -> Option<Effect> {
    let reads = matches!(
        effect,
        Effect::PlanCopy { .. }
            | Effect::ListRoles { .. }
            | Effect::LoadRevisions { .. }
            | Effect::LoadJournal { .. }
            | Effect::LoadSpace { .. }
            | Effect::DryRun { .. }
            | Effect::Drift { .. }
            | Effect::LoadMarket { .. }
            | Effect::LoadReleases { .. }
            | Effect::ReleaseHistory { .. }
    );
    if !reads {
        return Some(effect);
    }
    let Some(ex) = ex.cloned() else {
        let _ = tx.send(without_store(effect));
        return None;
    };
    let tx = tx.clone();
    tokio::spawn(async move {
        let answer = match effect {
            Effect::PlanCopy { id, spec } => Fetched::CopyPlan(
                id,
                answer(60, "no plan within 60 s", kdeck_command::copy::plan(&ex, &spec)).await,
            ),
            Effect::ListRoles { id, spaces } => Fetched::Roles(id, crate::audit_io::list_roles(ex, spaces).await),
            Effect::LoadRevisions { id, app, kind } => {
                Fetched::Revisions(id, crate::audit_io::load_revisions(ex, app, kind).await)
            }
            Effect::LoadJournal { id, filter } => Fetched::Journal(id, crate::audit_io::load_journal(ex, filter).await),
            Effect::LoadSpace { id, space } => Fetched::Space(id, Ok(crate::audit_io::load_space(ex, space).await)),
            Effect::DryRun { id, command } => Fetched::Text(
                id,
                answer(20, "no plan within 20 s", kdeck_command::plan::dry_run(&ex, &command))
                    .await
                    .map(|text| crate::widgets::plan_lines(&text)),
            ),
            Effect::Drift { id, app } => Fetched::Drift(
                id,
                answer(15, "no answer within 15 s", kdeck_command::apps::drift(&ex, &app)).await,
            ),
            Effect::LoadMarket { id } => {
                Fetched::Market(id, kdeck_command::catalogs::search(&ex, "", None).map_err(|f| f.reason))
            }
            Effect::LoadReleases { id } => Fetched::Releases(id, crate::audit_io::load_releases(ex).await),
            Effect::ReleaseHistory { id, release } => Fetched::Text(
                id,
                answer(
                    20,
                    "no answer within 20 s",
                    kdeck_command::releases::history(&ex, &release),
                )
                .await
                .map(|revs| crate::audit_io::release_history_lines(&revs)),
            ),
            _ => return,
        };
        let _ = tx.send(answer);
    });
    None
}

/// The answer to a read asked of a cockpit that has no store.
fn without_store(effect: Effect) -> Fetched {
    match effect {
        Effect::PlanCopy { id, .. } => Fetched::CopyPlan(id, Err(no_store("cannot copy"))),
        Effect::LoadRevisions { id, .. } => {
            Fetched::Revisions(id, Err("no store: this cockpit has no revisions".into()))
        }
        Effect::LoadJournal { id, .. } => Fetched::Journal(id, Err("no store: this cockpit has no journal".into())),
        Effect::LoadSpace { id, .. } => {
            Fetched::Space(id, Err("no store: this cockpit cannot read a space's settings".into()))
        }
        Effect::DryRun { id, .. } => Fetched::Text(id, Err(no_store("cannot plan a command"))),
        Effect::Drift { id, .. } => Fetched::Drift(id, Err(no_store("has no settings to compare"))),
        Effect::LoadMarket { id } => Fetched::Market(id, Err("no store: this cockpit has no catalogs".into())),
        Effect::ReleaseHistory { id, .. } => Fetched::Text(id, Err(no_store("cannot read releases"))),
        _ => Fetched::Said("no store: this cockpit cannot read roles".into()),
    }
}

/// Hands an answer to the cockpit.
pub(crate) fn answered(c: &mut Cockpit, f: Fetched) {
    match f {
        Fetched::Text(id, result) => c.fetched(id, result),
        Fetched::CopyPlan(id, result) => c.copy_planned(id, result),
        Fetched::Drift(id, result) => c.drift_fetched(id, result),
        Fetched::Roles(id, answers) => c.roles_fetched(id, answers),
        Fetched::Journal(id, result) => c.journal_fetched(id, result),
        Fetched::Revisions(id, result) => c.revisions_fetched(id, result),
        Fetched::Space(id, result) => c.space_fetched(id, result),
        Fetched::Market(id, result) => c.market_fetched(id, result),
        Fetched::Releases(id, result) => c.releases_fetched(id, result),
        Fetched::Said(text) => c.toast(text, true),
    }
}
