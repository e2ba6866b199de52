//! Pod logs: deterministic, seeded lines at a steady rate from the moment a
//! container started, served with the options `kubectl logs` uses.

use crate::ptr::At;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use super::cluster::SimCluster;
use super::error::ApiError;
use super::resources;
use super::server::Body;

fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100000001b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Line `i` of a container's log: the same for the same seed, pod and container.
pub fn line(seed: u64, pod: &str, container: &str, i: u64) -> String {
    let h = fnv(&[
        &seed.to_le_bytes(),
        pod.as_bytes(),
        container.as_bytes(),
        &i.to_le_bytes(),
    ]);
    if let Some(step) = container.strip_prefix("step-") {
        return match h % 4 {
            0 => format!("[{step}] step {i}: fetching inputs"),
            1 => format!("[{step}] step {i}: compiling module {}", h % 97),
            2 => format!("[{step}] step {i}: {} files processed", 10 + h % 500),
            _ => format!("[{step}] step {i}: ok"),
        };
    }
    const PATHS: &[&str] = &[
        "/api/items",
        "/api/orders",
        "/healthz",
        "/api/cart",
        "/login",
        "/api/users/me",
        "/static/app.js",
    ];
    const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE"];
    let level = match h % 20 {
        0 => "error",
        1 | 2 => "warn",
        3 => "debug",
        _ => "info",
    };
    let status = match level {
        "error" => 500,
        "warn" => 404,
        _ => 200,
    };
    format!(
        "level={level} msg=\"{} {}\" status={status} duration={}ms request_id={:012x}",
        METHODS[(h >> 8) as usize % METHODS.len()],
        PATHS[(h >> 16) as usize % PATHS.len()],
        1 + (h >> 24) % 250,
        h >> 16
    )
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

fn stamp(t: OffsetDateTime) -> String {
    // RFC 3339 with nanoseconds, as the kubelet writes it.
    let base = crate::state::seconds_utc(t);
    format!("{}.{:09}Z", base.trim_end_matches('Z'), t.nanosecond())
}

struct Source {
    seed: u64,
    pod: String,
    container: String,
    start: OffsetDateTime,
    interval: Duration,
    limit: Option<u64>,
    /// What a Tekton step prints (its script's output), instead of made-up lines.
    lines: Option<Vec<String>>,
}

impl Source {
    fn at(&self, i: u64) -> OffsetDateTime {
        self.start + self.interval * u32::try_from(i).unwrap_or(u32::MAX)
    }
    /// How many lines exist at `now`.
    fn count(&self, now: OffsetDateTime) -> u64 {
        if now < self.start {
            return 0;
        }
        let elapsed = (now - self.start).whole_milliseconds().max(0) as u128;
        let n = (elapsed / self.interval.as_millis().max(1)) as u64 + 1;
        self.limit.map_or(n, |l| n.min(l))
    }
    fn render(&self, i: u64, timestamps: bool) -> String {
        let l = match &self.lines {
            Some(ls) => ls.get(i as usize).cloned().unwrap_or_default(),
            None => line(self.seed, &self.pod, &self.container, i),
        };
        if timestamps {
            format!("{} {l}\n", stamp(self.at(i)))
        } else {
            format!("{l}\n")
        }
    }
}

pub async fn serve(c: Arc<SimCluster>, ns: &str, name: &str, q: &[(String, String)]) -> hyper::Response<Body> {
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let flag = |k: &str| matches!(get(k), Some("true" | "1"));
    let pod_res = resources::ids::of("Pod");
    let pod = match c.read().get(pod_res, ns, name).cloned() {
        Some(p) => p,
        None => return super::server_error(&ApiError::not_found(resources::get(pod_res), name)),
    };
    let containers = crate::state::names_in(pod.at("/spec/containers"));
    let container = match get("container").filter(|c| !c.is_empty()) {
        Some(cn) if containers.iter().any(|x| x == cn) => cn.to_string(),
        Some(cn) => {
            return super::server_error(&ApiError::bad_request(format!(
                "container {cn} is not valid for pod {name}"
            )));
        }
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return super::server_error(&ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    let started = pod
        .at("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(container.as_str()))
        })
        .and_then(|s| {
            s.at("/state/running/startedAt")
                .or_else(|| s.at("/state/terminated/startedAt"))
        })
        .and_then(Value::as_str)
        .and_then(parse_time);
    let Some(start) = started else {
        let reason = pod
            .at("/status/containerStatuses/0/state/waiting/reason")
            .and_then(Value::as_str)
            .unwrap_or("ContainerCreating");
        return super::server_error(&ApiError::bad_request(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
        )));
    };
    // A Tekton step prints its script's lines from when its turn comes.
    let step = pod
        .at(&format!(
            "/metadata/annotations/{}",
            crate::controllers::STEPS_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|plan| {
            plan.get("steps")?
                .as_array()?
                .iter()
                .find(|s| s.get("container").and_then(Value::as_str) == Some(container.as_str()))
                .cloned()
        });
    let (start, limit, lines) = match &step {
        Some(st) => {
            let lines: Vec<String> = st
                .get("lines")
                .and_then(Value::as_array)
                .map(|ls| ls.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let offset = st.get("offsetMs").and_then(Value::as_u64).unwrap_or(0);
            (
                start + Duration::from_millis(offset),
                Some(lines.len() as u64),
                Some(lines),
            )
        }
        None => (start, None, None),
    };
    let src = Source {
        seed: c.config.seed,
        pod: name.to_string(),
        container,
        start,
        interval: c.config.log_interval,
        limit,
        lines,
    };
    let now = OffsetDateTime::now_utc();
    let total = src.count(now);
    let mut first = 0;
    // sinceSeconds wins when both are given, as in the real API.
    let from = match get("sinceSeconds").and_then(|s| s.parse::<i64>().ok()) {
        Some(since) => Some(now - time::Duration::seconds(since)),
        None => get("sinceTime").and_then(parse_time),
    };
    if let Some(from) = from {
        while first < total && src.at(first) < from {
            first += 1;
        }
    }
    if let Some(tail) = get("tailLines").and_then(|s| s.parse::<u64>().ok()) {
        first = first.max(total.saturating_sub(tail));
    }
    let timestamps = flag("timestamps");
    let limit_bytes = get("limitBytes").and_then(|s| s.parse::<usize>().ok());
    let follow = flag("follow");
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let ns = ns.to_string();
    let pod_name = name.to_string();
    tokio::spawn(async move {
        let mut sent_bytes = 0usize;
        let mut i = first;
        let send = |text: String, sent: &mut usize| {
            let mut b = text.into_bytes();
            if let Some(lim) = limit_bytes {
                if *sent >= lim {
                    return None;
                }
                b.truncate(lim - *sent);
            }
            *sent += b.len();
            Some(Bytes::from(b))
        };
        while i < total {
            let Some(b) = send(src.render(i, timestamps), &mut sent_bytes) else {
                return;
            };
            if tx.send(b).await.is_err() {
                return;
            }
            i += 1;
        }
        if !follow {
            return;
        }
        loop {
            if src.limit.is_some_and(|l| i >= l) {
                return;
            }
            let due = src.at(i);
            let wait = (due - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait.whole_milliseconds().max(0) as u64)) => {}
                _ = tx.closed() => return,
            }
            if c.read().get(pod_res, &ns, &pod_name).is_none() {
                return;
            }
            let Some(b) = send(src.render(i, timestamps), &mut sent_bytes) else {
                return;
            };
            if tx.send(b).await.is_err() {
                return;
            }
            i += 1;
        }
    });
    super::server_stream("text/plain", rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_deterministic_and_vary() {
        assert_eq!(line(1, "web-abc", "web", 7), line(1, "web-abc", "web", 7));
        assert_ne!(line(1, "web-abc", "web", 7), line(1, "web-abc", "web", 8));
        assert_ne!(line(1, "web-abc", "web", 7), line(2, "web-abc", "web", 7));
        assert!(line(1, "p", "web", 0).starts_with("level="));
        assert!(line(1, "p", "step-build", 3).starts_with("[build] step 3"));
    }

    #[test]
    fn line_counts_follow_the_clock() {
        let start = OffsetDateTime::now_utc();
        let s = Source {
            seed: 1,
            pod: "p".into(),
            container: "c".into(),
            start,
            interval: Duration::from_millis(100),
            limit: None,
            lines: None,
        };
        assert_eq!(s.count(start - time::Duration::seconds(1)), 0);
        assert_eq!(s.count(start), 1);
        assert_eq!(s.count(start + time::Duration::milliseconds(250)), 3);
        let finite = Source { limit: Some(2), ..s };
        assert_eq!(finite.count(start + time::Duration::seconds(10)), 2);
        assert!(finite.render(0, true).contains('Z'));
    }
}
