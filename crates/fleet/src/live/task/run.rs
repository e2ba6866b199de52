//! The task's loop: a client from the gateway, then watch events, control
//! messages and probes until the fleet stops it.

use super::*;

pub(super) type Probe =
    BoxFuture<'static, Result<Result<k8s_openapi::apimachinery::pkg::version::Info, kube::Error>, ()>>;

pub(in crate::live) async fn run(
    gateway: crate::Gateway,
    c: Cluster,
    attached: BTreeSet<String>,
    mut links: Links,
    opts: FleetOptions,
) {
    let mut snap = ClusterSnapshot::new(&c.name);
    let publish = |snap: &mut ClusterSnapshot, links: &Links| {
        snap.version += 1;
        links.snapshot.send_replace(Arc::new(snap.clone()));
        let _ = links.changed.try_send(Changed {
            cluster: snap.cluster.clone(),
            version: snap.version,
        });
    };
    let mut attached = attached;
    let mut focus = BTreeSet::new();
    // A client, retried with backoff until the stored settings make one.
    let client = loop {
        match gateway.client(&c).await {
            Ok(cl) => break cl,
            Err(p) => {
                snap.health = Health::Unreachable {
                    since: now(),
                    why: p.message,
                };
                publish(&mut snap, &links);
                let retry = tokio::time::sleep(Duration::from_secs(30));
                tokio::pin!(retry);
                loop {
                    tokio::select! {
                        _ = &mut retry => break,
                        ctl = links.control.recv() => match ctl {
                            Some(Control::Focus(f)) => focus = f,
                            Some(Control::Attached(a)) => attached = a,
                            None => return,
                        },
                    }
                }
            }
        }
    };
    links.client.send_replace(Some(client.clone()));
    let mut t = Task {
        c,
        client,
        // Lists in pages of 100: a page is held whole while it is decoded,
        // and 30 clusters listing at once is what sets the peak memory
        // (pages of 250 were no faster and took 300 MiB).
        cfg: watcher::Config::default()
            .timeout(opts.watch_timeout_secs)
            .page_size(100),
        opts,
        next_id: 0,
        slots: BTreeMap::new(),
        streams: SelectAll::new(),
        restricted: false,
        forbidden_wide: None,
        attached,
        focus: BTreeSet::new(),
        quiet: None,
        stalled: None,
        namespaces: Group::new(),
        apps: Group::new(),
        services: Group::new(),
        routes: Group::new(),
        pods: Group::new(),
        builds: Group::new(),
        task_runs: Group::new(),
    };
    t.start(Kind::Namespace, None);
    t.sync(&MAIN, &[None]);
    t.set_focus(focus);

    // Probed every `probe_every`, and every second while unwell, so that
    // the end of an outage is seen within a second or two.
    let mut tick = tokio::time::interval(Duration::from_secs(1).min(opts.probe_every));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_probe = Instant::now();
    let mut probe: Option<Probe> = None;
    let mut beat: Option<BoxFuture<'static, Beat>> = None;
    loop {
        if beat.is_none() {
            beat = Some(heartbeat(t.client.clone(), t.opts.heartbeat_secs, t.opts.probe_timeout).boxed());
        }
        let mut changed = false;
        tokio::select! {
            u = t.streams.next(), if !t.streams.is_empty() => {
                if let Some(u) = u {
                    // Drain what else is ready, then publish once.
                    t.apply(u);
                    let mut n = 1;
                    while n < 10_000 {
                        match t.streams.next().now_or_never() {
                            Some(Some(u)) => t.apply(u),
                            _ => break,
                        }
                        n += 1;
                    }
                    changed = true;
                }
            }
            ctl = links.control.recv() => {
                changed = match ctl {
                    Some(Control::Focus(f)) => t.set_focus(f),
                    Some(Control::Attached(a)) => t.set_attached(a),
                    // The fleet is gone.
                    None => return,
                };
            }
            _ = tick.tick(), if probe.is_none() => {
                if !t.unwell() && last_probe.elapsed() < t.opts.probe_every {
                    continue;
                }
                last_probe = Instant::now();
                let client = t.client.clone();
                let limit = t.opts.probe_timeout;
                probe = Some(async move {
                    tokio::time::timeout(limit, client.apiserver_version()).await.map_err(|_| ())
                }.boxed());
                // A quiet spell grows from stale to unreachable with time.
                changed = t.quiet.is_some();
            }
            Some(r) = OptionFuture::from(probe.as_mut()) => {
                probe = None;
                // Only a change of standing is news: an answer like the last one is not.
                let was_quiet = t.quiet.is_some();
                match r {
                    Err(()) => {
                        if t.quiet.is_none() {
                            t.quiet = Some(Quiet { since: now(), at: Instant::now() });
                        }
                    }
                    Ok(answer) => {
                        // Refused or similar: the watches say so themselves.
                        let down = answer.as_ref().err().is_some_and(|e| unreachable(&describe(&t.c, "get version", e).kind));
                        if let Some(q) = t.quiet.take()
                            && !down
                        {
                            t.revive(q.at);
                        }
                        if !down && t.reconnect() {
                            changed = true;
                        }
                    }
                }
                changed |= was_quiet != t.quiet.is_some();
            }
            Some(b) = OptionFuture::from(beat.as_mut()) => {
                beat = None;
                match b {
                    Beat::Stalled if t.quiet.is_none() => {
                        if t.stalled.is_none() {
                            t.stalled = Some(Quiet { since: now(), at: Instant::now() });
                        }
                        // What the stalled watches missed, read again.
                        t.restart_all();
                        changed = true;
                    }
                    Beat::Ended if t.stalled.is_some() => {
                        t.stalled = None;
                        // The watches opened during the stall may be dead: anew.
                        t.restart_all();
                        changed = true;
                    }
                    _ => {}
                }
            }
        }
        // Only news is published: pages of a list still being read, or an
        // answer like the last, change nothing anyone draws.
        if changed {
            let before = snap.clone();
            t.fill(&mut snap);
            if !snap.same_as(&before) {
                publish(&mut snap, &links);
            }
        }
    }
}
