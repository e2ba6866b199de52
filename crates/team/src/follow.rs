//! Following the hub live: a list, then a watch of the team's objects,
//! each change applied to the local copy as it comes (an older version
//! never over a newer one), and the hub's state told to whoever shows it.
//! Errors are a state, never the end: the loop relists after a pause that
//! grows to 10 s while the hub does not answer.

use std::time::Duration;

use futures::StreamExt;
use kube::api::{WatchEvent, WatchParams};
use tokio::sync::watch;

use super::hub::{TEAM_LABEL, read_object};
use super::{Hub, HubVersion, Membership};
use kdeck_store::{Batch, Store};

/// The hub, as a cockpit shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubState {
    /// Following it; `view_only` when the hub's RBAC lets this user read
    /// the team's settings and not change them.
    Live { hub: String, view_only: bool },
    /// It does not answer: the team's settings are read-only here.
    Unreachable { hub: String, since: String, reason: String },
}

/// Whether `new` is a later resourceVersion than `old` (as numbers when
/// both are; a version that is not a number is taken as new).
fn later(new: &str, old: &str) -> bool {
    match (new.parse::<u64>(), old.parse::<u64>()) {
        (Ok(n), Ok(o)) => n > o,
        _ => true,
    }
}

/// Applies one watched change to the local copy.
fn apply(store: &Store, ev: WatchEvent<k8s_openapi::api::core::v1::ConfigMap>) -> Result<(), String> {
    let (cm, deleted) = match ev {
        WatchEvent::Added(cm) | WatchEvent::Modified(cm) => (cm, false),
        WatchEvent::Deleted(cm) => (cm, true),
        WatchEvent::Bookmark(_) => return Ok(()),
        WatchEvent::Error(e) => return Err(format!("{} ({})", e.message, e.code)),
    };
    if cm
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(TEAM_LABEL))
        .map(String::as_str)
        == Some("journal")
    {
        let mut batch = Batch::new();
        if !deleted {
            crate::journal::keep(&mut batch, &cm);
        }
        return store.write(batch).map_err(|e| e.to_string());
    }
    let Ok(e) = read_object(&cm) else {
        // Passed over; `kdeck team sync` names it.
        return Ok(());
    };
    let vkey = HubVersion::key_of(e.tree, &e.key);
    let seen = store.get::<HubVersion>(&vkey).map_err(|e| e.to_string())?;
    let mut batch = Batch::new();
    if deleted {
        if seen.is_some() {
            batch.raw(e.tree, e.key.as_bytes().to_vec(), None);
            batch.delete::<HubVersion>(&vkey);
        }
    } else if seen
        .as_ref()
        .is_none_or(|s| later(&e.resource_version, &s.resource_version))
    {
        batch.raw(e.tree, e.key.as_bytes().to_vec(), Some(e.value.clone()));
        batch
            .put(&HubVersion {
                tree: e.tree.to_string(),
                key: e.key.clone(),
                name: e.name.clone(),
                resource_version: e.resource_version.clone(),
            })
            .map_err(|e| e.to_string())?;
    }
    store.write(batch).map_err(|e| e.to_string())
}

/// Follows the hub of this data dir's team until `state`'s receivers are
/// all gone; does nothing for a data dir in no team.
pub async fn follow(
    store: Store,
    gateway: kdeck_fleet::Gateway,
    now: impl Fn() -> String,
    state: watch::Sender<Option<HubState>>,
) {
    let mut pause = Duration::from_millis(500);
    while !state.is_closed() {
        let (hub, m) = match Hub::of(&store, &gateway).await {
            Ok(Some(h)) => h,
            Ok(None) => return,
            Err(e) => {
                let name = store
                    .get::<Membership>("team")
                    .ok()
                    .flatten()
                    .map(|m| m.hub)
                    .unwrap_or_default();
                let _ = state.send(Some(HubState::Unreachable {
                    hub: name,
                    since: now(),
                    reason: e.to_string(),
                }));
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        let rv = match hub.pull(&store, &now()).await {
            Ok(p) => p.resource_version,
            Err(e) => {
                let since = store
                    .get::<Membership>("team")
                    .ok()
                    .flatten()
                    .and_then(|m| m.unreachable_since)
                    .unwrap_or_else(&now);
                let _ = state.send(Some(HubState::Unreachable {
                    hub: m.hub.clone(),
                    since,
                    reason: e.to_string(),
                }));
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        if hub.pull_journal(&store).await.is_err() {
            tokio::time::sleep(pause).await;
            continue;
        }
        pause = Duration::from_millis(500);
        let view_only = gateway
            .can(&hub.cluster, &hub.namespace, "update", "", "configmaps")
            .await
            .is_ok_and(|may| !may);
        let _ = state.send(Some(HubState::Live {
            hub: m.hub.clone(),
            view_only,
        }));
        // Watch from the list until the server ends it (or it fails): then list again.
        let wp = WatchParams::default()
            .labels(&format!("{TEAM_LABEL} in (settings,journal)"))
            .timeout(290);
        let Ok(stream) = hub.api.watch(&wp, &rv).await else {
            tokio::time::sleep(pause).await;
            continue;
        };
        let mut stream = std::pin::pin!(stream);
        loop {
            let next = tokio::select! {
                n = stream.next() => n,
                _ = state.closed() => return,
            };
            match next {
                Some(Ok(ev)) => {
                    if apply(&store, ev).is_err() {
                        break;
                    }
                }
                Some(Err(_)) | None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_later_version_is_a_bigger_number() {
        assert!(super::later("11", "9"));
        assert!(!super::later("9", "11"));
        assert!(!super::later("9", "9"));
        assert!(super::later("abc", "9"));
    }
}
