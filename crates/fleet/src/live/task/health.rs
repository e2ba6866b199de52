//! A cluster's health from its watches: live, stale (a heartbeat that
//! stops, a watch quiet too long), unreachable or forbidden; and the
//! reconnects and restarts that follow.

use super::*;

/// What a heartbeat watch found.
pub(super) enum Beat {
    /// The watch ended at its timeout, as a server that is well ends it.
    Ended,
    /// The watch opened, then neither said anything nor ended: watches stall.
    Stalled,
    /// It could not be tried (the server did not answer): the probe says why.
    Unknown,
}

/// How long past its timeout a heartbeat watch may stay open before the
/// cluster's watches count as stalled.
pub(super) const HEARTBEAT_GRACE: Duration = Duration::from_secs(10);

/// A watch of namespaces' metadata from now, with a server-side timeout: a
/// server that is well ends it then; one whose watches stall holds it open
/// saying nothing. One list of one item and one watch per round.
pub(super) async fn heartbeat(client: kube::Client, secs: u32, limit: Duration) -> Beat {
    use kube::api::{ListParams, WatchParams};
    let api: Api<Namespace> = Api::all(client);
    let pause = || tokio::time::sleep(Duration::from_secs(5));
    let rv = match tokio::time::timeout(limit, api.list_metadata(&ListParams::default().limit(1))).await {
        Ok(Ok(l)) => l.metadata.resource_version.unwrap_or_default(),
        _ => {
            pause().await;
            return Beat::Unknown;
        }
    };
    let wp = WatchParams::default().timeout(secs);
    let stream = match tokio::time::timeout(limit, api.watch_metadata(&wp, &rv)).await {
        Ok(Ok(s)) => s,
        _ => {
            pause().await;
            return Beat::Unknown;
        }
    };
    let drained = tokio::time::timeout(Duration::from_secs(u64::from(secs)) + HEARTBEAT_GRACE, async move {
        futures::pin_mut!(stream);
        while let Some(ev) = stream.next().await {
            if ev.is_err() {
                return false;
            }
        }
        true
    })
    .await;
    match drained {
        Ok(true) => Beat::Ended,
        Ok(false) => {
            pause().await;
            Beat::Unknown
        }
        Err(_) => Beat::Stalled,
    }
}

/// Since when the server has not answered the liveness probe.
pub(super) struct Quiet {
    pub(super) since: String,
    pub(super) at: Instant,
}

pub(super) fn kube_error(e: &watcher::Error) -> Option<&kube::Error> {
    match e {
        watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => {
            Some(e)
        }
        _ => None,
    }
}

/// Problems that mean the cluster cannot be reached at all.
pub(super) fn unreachable(kind: &ProblemKind) -> bool {
    matches!(
        kind,
        ProblemKind::Refused
            | ProblemKind::Dns
            | ProblemKind::Tls
            | ProblemKind::Timeout
            | ProblemKind::Unauthorized
            | ProblemKind::Config
    )
}

impl Task {
    /// The cluster's health: a quiet server first, then the watches of the
    /// apps and routes views: unreachable beats forbidden beats stale; live
    /// once every one of them has listed and none has a problem.
    pub(super) fn health(&self, prev: &Health) -> Health {
        if let Some(q) = &self.quiet {
            let secs = q.at.elapsed().as_secs();
            let why = format!(
                "cluster {}: {} has not answered for {secs} s; showing what it said before",
                self.c.name, self.c.server
            );
            return if q.at.elapsed() >= self.opts.stale_to_unreachable {
                Health::Unreachable {
                    since: q.since.clone(),
                    why,
                }
            } else {
                Health::Stale {
                    since: q.since.clone(),
                    why,
                }
            };
        }
        if let Some(st) = &self.stalled {
            return Health::Stale {
                since: st.since.clone(),
                why: format!(
                    "cluster {}: its watches have said nothing for {} s though it answers; reading everything again every {} s",
                    self.c.name,
                    st.at.elapsed().as_secs() + self.stall_bound().as_secs(),
                    self.stall_bound().as_secs()
                ),
            };
        }
        let main: Vec<&Slot> = self.slots.values().filter(|s| !FOCUSED.contains(&s.kind)).collect();
        let problems: Vec<(Kind, &(Problem, String))> = main
            .iter()
            .filter_map(|s| s.problem.as_ref().map(|p| (s.kind, p)))
            .collect();
        if let Some((_, (p, since))) = problems.iter().find(|(_, (p, _))| unreachable(&p.kind)) {
            return Health::Unreachable {
                since: since.clone(),
                why: p.message.clone(),
            };
        }
        if self.restricted
            && self.attached.is_empty()
            && let Some((verb, why)) = &self.forbidden_wide
        {
            return Health::Forbidden {
                verb: verb.to_string(),
                why: format!(
                    "{why}; attach the spaces you may use by name: kdeck spaces attach {}/NAMESPACE",
                    self.c.name
                ),
            };
        }
        if let Some((kind, (p, _))) = problems.iter().find(|(_, (p, _))| p.kind == ProblemKind::Forbidden) {
            return Health::Forbidden {
                verb: kind.verb().to_string(),
                why: p.message.clone(),
            };
        }
        if let Some((_, (p, since))) = problems.first() {
            return Health::Stale {
                since: since.clone(),
                why: p.message.clone(),
            };
        }
        if !main.is_empty() && main.iter().all(|s| s.synced) {
            return Health::Live;
        }
        match prev {
            Health::Unreachable { .. } | Health::Stale { .. } | Health::Forbidden { .. } => prev.clone(),
            _ => Health::Connecting,
        }
    }

    pub(super) fn standing(&self, kinds: &[Kind], namespace: &str) -> Standing {
        let slots: Vec<&Slot> = self
            .slots
            .values()
            .filter(|s| kinds.contains(&s.kind) && s.scope.as_deref().is_none_or(|n| n == namespace))
            .collect();
        if let Some((p, _)) = slots.iter().find_map(|s| s.problem.as_ref()) {
            return Standing::Failed { why: p.message.clone() };
        }
        if !slots.is_empty() && slots.iter().all(|s| s.synced) {
            Standing::Live
        } else {
            Standing::Syncing
        }
    }

    /// How long a heartbeat watch may say nothing before the watches count as stalled.
    pub(super) fn stall_bound(&self) -> Duration {
        Duration::from_secs(u64::from(self.opts.heartbeat_secs)) + HEARTBEAT_GRACE
    }

    /// Whether the cluster has a problem that a quick probe may end.
    pub(super) fn unwell(&self) -> bool {
        self.quiet.is_some()
            || self.stalled.is_some()
            || self
                .slots
                .values()
                .any(|s| s.problem.as_ref().is_some_and(|(p, _)| unreachable(&p.kind)))
    }

    /// The server answered: every watch that could not reach it gets a fresh
    /// connection and a relist now, rather than after its backoff (a watch
    /// that resumed says nothing until something changes, so waiting for it
    /// left the cluster shown unreachable for minutes).
    pub(super) fn reconnect(&mut self) -> bool {
        let cut: Vec<u64> = self
            .slots
            .iter()
            .filter(|(_, s)| s.problem.as_ref().is_some_and(|(p, _)| unreachable(&p.kind)))
            .map(|(id, _)| *id)
            .collect();
        for id in &cut {
            self.restart(*id);
        }
        !cut.is_empty()
    }

    /// Every watch anew, with a relist: after a stall, or when it ends.
    pub(super) fn restart_all(&mut self) {
        let ids: Vec<u64> = self.slots.keys().copied().collect();
        for id in ids {
            self.restart(id);
        }
    }

    /// After a quiet spell: a fresh connection for every watch that has said
    /// nothing since the server went quiet (its connection may be dead).
    pub(super) fn revive(&mut self, quiet_at: Instant) {
        let silent: Vec<u64> = self
            .slots
            .iter()
            .filter(|(_, s)| s.last_seen <= quiet_at)
            .map(|(id, _)| *id)
            .collect();
        for id in silent {
            self.restart(id);
        }
    }
}
