//! Commands in team mode: before one runs, the local copy is brought up to
//! the hub (a hub that does not answer refuses every command but kdeck's
//! own cluster settings); after it ran, its writes to shared settings go
//! to the hub, each against the version read, before they land here. A
//! conflict fails the command with both versions and leaves the local copy
//! at the hub's.

use super::{Applied, Batch, Command, Executor, Failure, FailureKind, ItemOutcome};
use kdeck_team::{Hub, TeamError};

/// Commands that change only this machine's own settings of clusters.
fn local_only(c: &Command) -> bool {
    matches!(
        c,
        Command::ImportClusters { .. }
            | Command::RemoveCluster { .. }
            | Command::SetCluster { .. }
            | Command::LabelCluster { .. }
            | Command::TeamInit { .. }
            | Command::TeamJoin { .. }
            | Command::TeamLeave
            | Command::TeamShareCluster { .. }
    )
}

/// A team error as a command failure.
pub fn failure(e: TeamError) -> Failure {
    let kind = match e {
        TeamError::Usage(_) => FailureKind::Usage,
        TeamError::Newer { .. } => FailureKind::Invalid,
        _ => FailureKind::Cluster,
    };
    Failure {
        kind,
        code: e.code(),
        reason: e.to_string(),
    }
}

/// Pulls the hub before a command; why the command may not run, if so.
pub(crate) async fn before(ex: &Executor, c: &Command) -> Option<Failure> {
    if local_only(c) {
        return None;
    }
    let (hub, _) = match Hub::of(ex.store(), ex.gateway()).await {
        Ok(Some(h)) => h,
        Ok(None) => return None,
        Err(e) => return Some(failure(e)),
    };
    match hub.pull(ex.store(), &ex.now()).await {
        Ok(_) => None,
        Err(e) => Some(failure(e)),
    }
}

/// The team's journal read into the local copy, when in a team (best
/// effort: what was read before stays).
pub async fn pull_journal(ex: &Executor) {
    if let Ok(Some((hub, _))) = Hub::of(ex.store(), ex.gateway()).await {
        let _ = hub.pull_journal(ex.store()).await;
    }
}

/// Pushes a command's shared writes to the hub; the local writes then
/// carry the hub's new versions. On a conflict the local copy is pulled
/// again, so that it holds theirs.
pub(crate) async fn after(ex: &Executor, mut applied: Applied, in_clusters: bool) -> Result<Applied, Failure> {
    // Joining and leaving write the local copy as the hub has it.
    if applied
        .batch
        .ops()
        .all(|(tree, ..)| kdeck_team::shared_tree(tree).is_none())
    {
        return Ok(applied);
    }
    let (hub, m) = match Hub::of(ex.store(), ex.gateway()).await {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(applied),
        Err(e) => return Err(failure(e)),
    };
    match hub.push(ex.store(), &applied.batch, ex.actor(), &ex.now()).await {
        Ok(versions) => {
            applied.batch.extend(versions);
            Ok(applied)
        }
        Err(e) => {
            if matches!(e, TeamError::Conflict(_)) {
                let _ = hub.pull(ex.store(), &ex.now()).await;
            }
            let what_applied: Vec<String> = applied
                .items
                .iter()
                .filter(|i| i.ok)
                .map(|i| format!("{}: {}", i.item, i.message))
                .collect();
            let mut f = failure(hub.since(e, Some(&m)));
            if in_clusters && !what_applied.is_empty() {
                f.reason = format!(
                    "{} (what it did in the clusters stays: {})",
                    f.reason,
                    what_applied.join("; ")
                );
            }
            Err(f)
        }
    }
}

fn said(p: kdeck_team::Pulled, what: String) -> Vec<ItemOutcome> {
    let mut items = vec![ItemOutcome::ok(what, format!("{} shared setting(s)", p.entities))];
    for s in p.skipped {
        items.push(ItemOutcome::failed(
            "hub object passed over",
            format!("{s}: fix or delete it on the hub; the rest is in sync"),
            None,
        ));
    }
    items
}

pub(crate) async fn init(ex: &Executor, cluster: &str, namespace: &str) -> Result<Applied, Failure> {
    kdeck_model::validate::dns_label("--namespace", namespace).map_err(|e| super::invalid(e.to_string()))?;
    let p = kdeck_team::init(ex.store(), ex.gateway(), cluster, namespace, ex.actor(), &ex.now())
        .await
        .map_err(failure)?;
    Ok(Applied {
        items: said(p, format!("team on {cluster}/{namespace}: made, pushed")),
        batch: Batch::new(),
    })
}

pub(crate) async fn join(ex: &Executor, cluster: &str, namespace: &str, discard: bool) -> Result<Applied, Failure> {
    kdeck_model::validate::dns_label("--namespace", namespace).map_err(|e| super::invalid(e.to_string()))?;
    let p = kdeck_team::join(ex.store(), ex.gateway(), cluster, namespace, discard, &ex.now())
        .await
        .map_err(failure)?;
    Ok(Applied {
        items: said(p, format!("team on {cluster}/{namespace}: joined, pulled")),
        batch: Batch::new(),
    })
}

pub(crate) fn leave(ex: &Executor) -> Result<Applied, Failure> {
    let m = kdeck_team::leave(ex.store()).map_err(failure)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            format!("team on {}/{}", m.hub, m.namespace),
            "left: the settings stay here as local ones; the hub is unchanged",
        )],
        batch: Batch::new(),
    })
}

/// Appends a finished entry to the team's journal on the hub (best
/// effort: the command is done; a hub that does not take it is said by the
/// next command, which it refuses).
pub(crate) async fn record(ex: &Executor, entry: &super::JournalEntry) {
    if matches!(entry.command, Command::TeamLeave) {
        return;
    }
    let Ok(Some((hub, _))) = Hub::of(ex.store(), ex.gateway()).await else {
        return;
    };
    if let Ok(v) = serde_json::to_value(entry) {
        let _ = hub.record(&v).await;
    }
}

/// The entries of the team's other members kept here (pulled from the
/// hub's journal), with this data dir's own, in time order.
pub fn with_team(ex: &Executor, mut own: Vec<super::JournalEntry>) -> Vec<super::JournalEntry> {
    let Ok(Some(_)) = ex.store().get::<kdeck_team::Membership>("team") else {
        return own;
    };
    let theirs = kdeck_team::journal::entries(ex.store()).unwrap_or_default();
    // This data dir's own entries are on the hub too: each once.
    let mine: std::collections::BTreeSet<(String, u64, String)> =
        own.iter().map(|e| (e.actor.clone(), e.id, e.at.clone())).collect();
    own.extend(
        theirs
            .into_iter()
            .filter_map(|v| serde_json::from_value::<super::JournalEntry>(v).ok())
            .filter(|e| !mine.contains(&(e.actor.clone(), e.id, e.at.clone()))),
    );
    own.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
    own
}

pub(crate) async fn share(ex: &Executor, name: &str, stop: bool) -> Result<Applied, Failure> {
    let (hub, _) = Hub::of(ex.store(), ex.gateway())
        .await
        .map_err(failure)?
        .ok_or_else(|| {
            Failure::new(
                FailureKind::Usage,
                "this data dir is in no team: `kdeck team init` or `team join` first",
            )
        })?;
    let item = format!("cluster {name}");
    if stop {
        let was = hub.unshare_cluster(name).await.map_err(failure)?;
        return Ok(Applied {
            items: vec![ItemOutcome::ok(
                item,
                if was {
                    "no longer shared; members who have it keep it"
                } else {
                    "was not shared"
                },
            )],
            batch: Batch::new(),
        });
    }
    let c = super::cluster_of(ex, name)?;
    hub.share_cluster(&c, ex.actor(), &ex.now()).await.map_err(failure)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            item,
            format!(
                "shared, credentials included, in a Secret of {}/{}: members who do not have it get it at their next sync",
                hub.cluster.name, hub.namespace
            ),
        )],
        batch: Batch::new(),
    })
}
