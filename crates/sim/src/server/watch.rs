//! Watches: events from a resourceVersion on, as JSON lines.

use super::*;
use crate::ptr::At;

pub(super) fn event_line(etype: &str, object: &Value) -> Bytes {
    let mut s = serde_json::to_string(&json!({"type": etype, "object": object})).unwrap_or_default();
    s.push('\n');
    Bytes::from(s)
}

/// A watch line around an object already encoded.
pub(super) fn encoded_line(etype: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(etype.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(json);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// A watch's selectors and timeout from its query.
fn watch_params(res: &Resource, q: &Query) -> Result<(LabelSelector, FieldSelector, Option<Duration>), ApiError> {
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), res.kind)?;
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    Ok((labels, fields, timeout))
}

pub(super) fn watch(c: Arc<SimCluster>, t: Target, q: Query, shape: Shape) -> Response<Body> {
    let res = resources::get(t.res);
    let (labels, fields, timeout) = match watch_params(res, &q) {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    let bookmarks = q.flag("allowWatchBookmarks");
    let send_initial = q.flag("sendInitialEvents");
    let rv_param = q.get("resourceVersion").unwrap_or("").to_string();
    let ns = if res.namespaced { t.ns.clone() } else { None };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    // The line for an object: its stored JSON, its metadata for a
    // metadata-only watch, or a one-row Table.
    let line = move |etype: &str, v: &Value, json: &Bytes| match table::shaped(shape, res, v) {
        Some(shaped) => event_line(etype, &shaped),
        None => encoded_line(etype, json),
    };
    let matches = {
        let ns = ns.clone();
        move |ev_res: ResId, ev_ns: &str, v: &Value| {
            ev_res == t.res
                && ns.as_deref().is_none_or(|n| n == ev_ns)
                && crate::state::selects(&labels, v)
                && fields.matches(v)
        }
    };
    // Subscribe and take the starting point under one lock: nothing is missed.
    let (mut live, initial, mut last_rv, expired) = {
        let st = c.read();
        let live = c.events.subscribe();
        let current = st.rv;
        let start: Option<u64> = rv_param.parse().ok().filter(|r| *r > 0);
        match start {
            Some(rv) if rv < st.oldest_rv() => (
                live,
                Vec::new(),
                current,
                Some(format!("too old resource version: {rv} ({})", st.oldest_rv() + 1)),
            ),
            Some(rv) if !send_initial => {
                let replay: Vec<Bytes> = st
                    .history
                    .iter()
                    .filter(|e| e.rv > rv && matches(e.res, &e.ns, &e.object))
                    .map(|e| line(e.etype.as_str(), &e.object, &e.json))
                    .collect();
                (live, replay, current, None)
            }
            _ => {
                let all: Vec<Bytes> = st
                    .iter_encoded(t.res, ns.as_deref(), None)
                    .filter(|((r, n, _), v, _)| matches(*r, n, v))
                    .map(|(_, v, json)| line(EventType::Added.as_str(), v, &json))
                    .collect();
                (live, all, current, None)
            }
        }
    };
    let kind = res.kind;
    let api_version = res.api_version();
    let bookmark = move |rv: u64, initial_end: bool| {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        event_line(
            "BOOKMARK",
            &json!({"kind": kind, "apiVersion": api_version, "metadata": meta}),
        )
    };
    let bookmark_every = c.config.bookmark_interval;
    Stats::bump(&c.stats.watches);
    let open = crate::cluster::OpenWatch::new(c.clone(), format!("{}/{}", ns.as_deref().unwrap_or("*"), res.plural));
    tokio::spawn(async move {
        let _open = open;
        if let Some(msg) = expired {
            Stats::bump(&c.stats.watch_410);
            let status = ApiError::expired(msg).to_status();
            let _ = tx.send(event_line("ERROR", &status)).await;
            return;
        }
        let started = tokio::time::Instant::now();
        let deadline = timeout.map(|d| started + d);
        let mut sent: u32 = 0;
        let mut initial = initial.into_iter();
        let mut initial_done = false;
        let far = started + Duration::from_secs(86_400 * 365);
        let mut next_bookmark = started + bookmark_every;
        loop {
            // Faults are read as the watch goes, so switching one on reaches open watches too.
            let faults = c.faults();
            if faults.stall_watches || faults.silent {
                // Say nothing more and hold the connection until the client gives up.
                Stats::bump(&c.stats.stalled);
                tx.closed().await;
                return;
            }
            let drop_at = faults.drop_watch_after_ms.map(|ms| started + Duration::from_millis(ms));
            if faults.drop_watch_after_events.is_some_and(|n| sent >= n)
                || drop_at.is_some_and(|d| tokio::time::Instant::now() >= d)
            {
                Stats::bump(&c.stats.dropped);
                return;
            }
            if !initial_done {
                match initial.next() {
                    Some(l) => {
                        if tx.send(l).await.is_err() {
                            return;
                        }
                        sent += 1;
                        continue;
                    }
                    None => {
                        initial_done = true;
                        if send_initial && bookmarks && tx.send(bookmark(last_rv, true)).await.is_err() {
                            return;
                        }
                    }
                }
            }
            let wake = [
                deadline.unwrap_or(far),
                drop_at.unwrap_or(far),
                next_bookmark,
                tokio::time::Instant::now() + Duration::from_millis(250),
            ]
            .into_iter()
            .min()
            .unwrap_or(far);
            tokio::select! {
                // The client hung up.
                _ = tx.closed() => return,
                ev = live.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= last_rv || !matches(ev.res, &ev.ns, &ev.object) {
                            continue;
                        }
                        last_rv = ev.rv;
                        if tx.send(line(ev.etype.as_str(), &ev.object, &ev.json)).await.is_err() {
                            return;
                        }
                        sent += 1;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        Stats::bump(&c.stats.watch_410);
                        let status = ApiError::expired(format!("too old resource version: {last_rv}")).to_status();
                        let _ = tx.send(event_line("ERROR", &status)).await;
                        return;
                    }
                    Err(_) => return,
                },
                _ = tokio::time::sleep_until(wake) => {
                    let now = tokio::time::Instant::now();
                    if deadline.is_some_and(|d| now >= d) {
                        return;
                    }
                    if now >= next_bookmark {
                        next_bookmark = now + bookmark_every;
                        if bookmarks && !faults.disable_bookmarks {
                            // Events are broadcast under the state lock: holding it, drain what
                            // is queued for this watch, so the bookmark never jumps past one.
                            let (pending, rv) = {
                                let st = c.read();
                                let mut pending = Vec::new();
                                loop {
                                    match live.try_recv() {
                                        Ok(ev) => {
                                            if ev.rv > last_rv && matches(ev.res, &ev.ns, &ev.object) {
                                                pending.push(line(ev.etype.as_str(), &ev.object, &ev.json));
                                            }
                                        }
                                        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {
                                            Stats::bump(&c.stats.watch_410);
                                            let status = ApiError::expired(format!("too old resource version: {last_rv}")).to_status();
                                            pending.push(event_line("ERROR", &status));
                                            break;
                                        }
                                        Err(_) => break,
                                    }
                                }
                                (pending, st.rv)
                            };
                            for line in pending {
                                if tx.send(line).await.is_err() {
                                    return;
                                }
                                sent += 1;
                            }
                            last_rv = last_rv.max(rv);
                            if tx.send(bookmark(last_rv, false)).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });
    stream_response("application/json", rx)
}

/// A watch of a derived kind (Endpoints, EndpointSlices, events.k8s.io
/// Events): the objects as they are now, then, each time one of the kinds
/// they are computed from changes in a namespace, what changed in that
/// namespace's derived objects, as ADDED, MODIFIED or DELETED.
pub(super) fn derived_watch(c: Arc<SimCluster>, t: Target, q: Query, shape: Shape) -> Response<Body> {
    let res = resources::get(t.res);
    let (labels, fields, timeout) = match watch_params(res, &q) {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    let ns = if res.namespaced { t.ns.clone() } else { None };
    let sources = crate::state::State::derived_from(t.res);
    let keep = move |v: &Value| crate::state::selects(&labels, v) && fields.matches(v);
    let line =
        move |etype: &str, v: &Value| event_line(etype, &table::shaped(shape, res, v).unwrap_or_else(|| v.clone()));
    type Seen = std::collections::BTreeMap<(String, String), Arc<Value>>;
    let res_id = t.res;
    let snapshot = move |st: &crate::state::State, ns: Option<&str>| -> Seen {
        st.derived(res_id, ns)
            .into_iter()
            .filter(|v| keep(v))
            .map(|v| {
                let key = (
                    v.at("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    name_of(&v).to_string(),
                );
                (key, v)
            })
            .collect()
    };
    let (mut live, mut seen) = {
        let st = c.read();
        (c.events.subscribe(), snapshot(&st, ns.as_deref()))
    };
    let replay = !q.get("resourceVersion").is_some_and(|rv| !rv.is_empty() && rv != "0");
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        if replay {
            for v in seen.values() {
                if tx.send(line("ADDED", v)).await.is_err() {
                    return;
                }
            }
        }
        let deadline = timeout.map(|d| tokio::time::Instant::now() + d);
        loop {
            let wait = deadline.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(tokio::time::Instant::now())
            });
            let ev = tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep(wait) => return,
                ev = live.recv() => ev,
            };
            let changed_ns = match ev {
                Ok(ev) if sources.contains(&ev.res) && ns.as_deref().is_none_or(|n| n == ev.ns) => ev.ns.clone(),
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let status = ApiError::expired("too old resource version").to_status();
                    let _ = tx.send(event_line("ERROR", &status)).await;
                    return;
                }
                Err(_) => return,
            };
            let now = snapshot(&c.read(), Some(&changed_ns));
            let mut lines = Vec::new();
            for (k, v) in &now {
                match seen.get(k) {
                    None => lines.push(line("ADDED", v)),
                    Some(old) if old.at("/metadata/resourceVersion") != v.at("/metadata/resourceVersion") => {
                        lines.push(line("MODIFIED", v))
                    }
                    Some(_) => {}
                }
            }
            let gone: Vec<(String, String)> = seen
                .keys()
                .filter(|k| k.0 == changed_ns && !now.contains_key(*k))
                .cloned()
                .collect();
            for k in gone {
                if let Some(v) = seen.remove(&k) {
                    lines.push(line("DELETED", &v));
                }
            }
            seen.extend(now);
            for l in lines {
                if tx.send(l).await.is_err() {
                    return;
                }
            }
        }
    });
    stream_response("application/json", rx)
}
