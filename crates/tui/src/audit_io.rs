//! The reads behind the roles and journal views, run off the event loop.

use std::time::Duration;

use crate::overlays::roles::SpaceRoles;
use kdeck_command::history::Filter;
use kdeck_command::{Executor, JournalEntry};
use kdeck_model::SpaceRef;

/// Spaces read at once for the roles view.
const AT_ONCE: usize = 8;

/// Who holds which role in each space; each space answers for itself.
pub async fn list_roles(ex: Executor, spaces: Vec<SpaceRef>) -> Vec<(SpaceRef, SpaceRoles)> {
    use futures::StreamExt;
    futures::stream::iter(spaces)
        .map(|s| {
            let ex = ex.clone();
            async move {
                let read = kdeck_command::roles::list(&ex, &s);
                let answer = match tokio::time::timeout(Duration::from_secs(15), read).await {
                    Ok(Ok(h)) => SpaceRoles::Holders(h.into_iter().map(Into::into).collect()),
                    Ok(Err(e)) => SpaceRoles::Failed(e.reason),
                    Err(_) => SpaceRoles::Failed("no answer within 15 s".into()),
                };
                (s, answer)
            }
        })
        .buffered(AT_ONCE)
        .collect()
        .await
}

/// An app's revisions from the store, and the cluster's rollout history.
pub async fn load_revisions(
    ex: Executor,
    app: kdeck_model::AppRef,
    kind: kdeck_model::WorkloadKind,
) -> Result<crate::overlays::revisions::Revisions, String> {
    let kdeck = kdeck_command::apps::revisions(&ex, &app).map_err(|f| f.reason)?;
    let read = kdeck_command::apps::cluster_history(&ex, &app, kind);
    let cluster = match tokio::time::timeout(Duration::from_secs(15), read).await {
        Ok(r) => r.map_err(|f| f.reason),
        Err(_) => Err("no answer within 15 s".into()),
    };
    Ok(crate::overlays::revisions::Revisions { kdeck, cluster })
}

/// The newest entries the filter keeps, oldest first.
pub async fn load_journal(ex: Executor, filter: Filter) -> Result<Vec<JournalEntry>, String> {
    let read = tokio::task::spawn_blocking(move || {
        let own = ex
            .journal()
            .list()
            .map_err(|e| format!("cannot read the journal: {e}"))?;
        // In a team, the others' commands are in it too.
        let mut all = kdeck_command::team::with_team(&ex, own);
        all.retain(|e| filter.keeps(e));
        let skip = all.len().saturating_sub(crate::overlays::journal::SHOWN);
        all.drain(..skip);
        Ok(all)
    });
    read.await
        .unwrap_or_else(|e| Err(format!("the journal read stopped: {e}")))
}

/// A space's quota and defaults, and its ConfigMaps and Secrets, each part
/// read on its own (one that is refused does not hide the others).
pub async fn load_space(ex: Executor, space: SpaceRef) -> crate::overlays::space::SpaceSettings {
    use crate::overlays::space::{Object, SpaceSettings};
    use kdeck_command::config::{Store, objects};
    let limit = Duration::from_secs(15);
    let late = || "no answer within 15 s".to_string();
    let (quota, defaults, configs, secrets) = futures::join!(
        tokio::time::timeout(limit, kdeck_command::quota::lines(&ex, &space)),
        tokio::time::timeout(limit, kdeck_command::quota::limit_defaults(&ex, &space)),
        tokio::time::timeout(limit, objects(&ex, &space, Store::Config)),
        tokio::time::timeout(limit, objects(&ex, &space, Store::Secret)),
    );
    let mut settings = SpaceSettings {
        quota: quota.map_err(|_| late()).and_then(|r| r.map_err(|f| f.reason)),
        defaults: defaults.ok().and_then(Result::ok).unwrap_or_default(),
        objects: Vec::new(),
        unread: Vec::new(),
    };
    for (store, read) in [(Store::Config, configs), (Store::Secret, secrets)] {
        match read.map_err(|_| late()).and_then(|r| r.map_err(|f| f.reason)) {
            Ok(list) => settings.objects.extend(list.into_iter().map(|(s, entries)| Object {
                store,
                name: s.name,
                entries,
                used_by: s.used_by,
            })),
            Err(why) => settings.unread.push(format!("{}s not read: {why}", store.kind())),
        }
    }
    settings
}

/// Every cluster's Helm releases, with the clusters that did not answer,
/// and each chart's versions in the catalogs (for the upgrade form).
pub async fn load_releases(ex: Executor) -> crate::overlays::releases::Releases {
    let clusters = ex.store().list::<kdeck_model::Cluster>().unwrap_or_default();
    let pass = kdeck_command::releases::list(&ex, &clusters, false).await;
    let versions = kdeck_command::catalogs::search(&ex, "", None)
        .unwrap_or_default()
        .into_iter()
        .filter(|o| !o.solution)
        .map(|o| (o.chart, o.versions))
        .collect();
    crate::overlays::releases::Releases {
        rows: pass.rows,
        problems: pass.problems.iter().map(ToString::to_string).collect(),
        versions,
    }
}

/// A release's revisions as `helm history` lists them, newest last.
pub fn release_history_lines(revs: &[kdeck_command::releases::HelmRelease]) -> Vec<crate::widgets::Toned> {
    use crate::widgets::Tone;
    let mut out = vec![(
        Tone::Heading,
        format!(
            "{:<9} {:<22} {:<12} {:<16} DESCRIPTION",
            "REVISION", "UPDATED", "STATUS", "CHART"
        ),
    )];
    for r in revs {
        let chart = r.chart_label();
        let tone = if r.info.status == "failed" {
            Tone::Error
        } else {
            Tone::Text
        };
        out.push((
            tone,
            format!(
                "{:<9} {:<22} {:<12} {:<16} {}",
                r.version,
                r.info.last_deployed.clone().unwrap_or_default(),
                r.info.status,
                chart,
                r.info.description
            ),
        ));
    }
    out
}
