//! The cells of the kinds whose printers do the most: pods, Services,
//! Ingresses, Events, HorizontalPodAutoscalers and Jobs.

use crate::ptr::At;
use serde_json::{Value, json};

use super::cells::{age, arr, condition, labels, layout_containers, n, non_empty, or_none, s, selector};
use super::since;

pub(super) fn pod(v: &Value, now: i64) -> Vec<Value> {
    let total = arr(v, "/spec/containers").len();
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<i64> = None;
    let mut note_restart = |c: &Value, restarts: &mut i64| {
        *restarts += n(c, "/restartCount");
        if let Some(t) = c
            .at("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
            .and_then(super::unix_of)
        {
            last_restart = Some(last_restart.map_or(t, |l| l.max(t)));
        }
    };
    let mut reason = s(v, "/status/phase").to_string();
    if !s(v, "/status/reason").is_empty() {
        reason = s(v, "/status/reason").to_string();
    }
    let inits = arr(v, "/status/initContainerStatuses");
    let init_specs = arr(v, "/spec/initContainers");
    let mut initializing = false;
    for (i, c) in inits.iter().enumerate() {
        note_restart(c, &mut restarts);
        if c.at("/state/terminated").is_some() && n(c, "/state/terminated/exitCode") == 0 {
            continue;
        }
        let sidecar = init_specs
            .get(i)
            .is_some_and(|spec| s(spec, "/restartPolicy") == "Always");
        if sidecar && c.get("started").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        reason = if let Some(t) = c.at("/state/terminated") {
            match s(t, "/reason") {
                "" if n(t, "/signal") != 0 => format!("Init:Signal:{}", n(t, "/signal")),
                "" => format!("Init:ExitCode:{}", n(t, "/exitCode")),
                r => format!("Init:{r}"),
            }
        } else if !matches!(s(c, "/state/waiting/reason"), "" | "PodInitializing") {
            format!("Init:{}", s(c, "/state/waiting/reason"))
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in arr(v, "/status/containerStatuses").iter().rev() {
            note_restart(c, &mut restarts);
            if !s(c, "/state/waiting/reason").is_empty() {
                reason = s(c, "/state/waiting/reason").to_string();
            } else if let Some(t) = c.at("/state/terminated") {
                reason = match s(t, "/reason") {
                    "" if n(t, "/signal") != 0 => format!("Signal:{}", n(t, "/signal")),
                    "" => format!("ExitCode:{}", n(t, "/exitCode")),
                    r => r.to_string(),
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true) && c.at("/state/running").is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition(v, "Ready").is_some_and(|c| s(c, "/status") == "True") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    if v.at("/metadata/deletionTimestamp").is_some() {
        reason = if s(v, "/status/reason") == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    let restarts_text = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", super::human_duration(now - t)),
        _ => restarts.to_string(),
    };
    let gates = arr(v, "/spec/readinessGates");
    let gates_text = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let met = gates
            .iter()
            .filter(|g| condition(v, s(g, "/conditionType")).is_some_and(|c| s(c, "/status") == "True"))
            .count();
        format!("{met}/{}", gates.len())
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_text),
        age(v, now),
        json!(or_none(s(v, "/status/podIP").to_string())),
        json!(or_none(s(v, "/spec/nodeName").to_string())),
        json!(or_none(s(v, "/status/nominatedNodeName").to_string())),
        json!(gates_text),
    ]
}

pub(super) fn load_balancer(v: &Value) -> String {
    arr(v, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| non_empty(s(i, "/ip"), s(i, "/hostname")).to_string())
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn service(v: &Value, now: i64) -> Vec<Value> {
    let kind = non_empty(s(v, "/spec/type"), "ClusterIP");
    let external: Vec<&str> = arr(v, "/spec/externalIPs").iter().filter_map(Value::as_str).collect();
    let external_ip = match kind {
        "ClusterIP" | "NodePort" => or_none(external.join(",")),
        "LoadBalancer" => {
            let lb = load_balancer(v);
            match (lb.is_empty(), external.is_empty()) {
                (_, false) => [lb, external.join(",")]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(","),
                (false, true) => lb,
                (true, true) => "<pending>".into(),
            }
        }
        "ExternalName" => s(v, "/spec/externalName").to_string(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(v, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = non_empty(s(p, "/protocol"), "TCP");
            match n(p, "/nodePort") {
                0 => format!("{}/{proto}", n(p, "/port")),
                np => format!("{}:{np}/{proto}", n(p, "/port")),
            }
        })
        .collect();
    vec![
        json!(s(v, "/metadata/name")),
        json!(kind),
        json!(or_none(s(v, "/spec/clusterIP").to_string())),
        json!(external_ip),
        json!(or_none(ports.join(","))),
        age(v, now),
        json!(or_none(labels(v.at("/spec/selector")))),
    ]
}

pub(super) fn ingress(v: &Value, now: i64) -> Vec<Value> {
    let rules = arr(v, "/spec/rules");
    let hosts: Vec<String> = rules
        .iter()
        .map(|r| s(r, "/host"))
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    let hosts_text = if hosts.is_empty() {
        "*".to_string()
    } else if rules.len() > 3 {
        format!(
            "{} + {} more...",
            hosts.iter().take(3).cloned().collect::<Vec<_>>().join(","),
            rules.len() - 3
        )
    } else {
        hosts.join(",")
    };
    let ports = if arr(v, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(or_none(s(v, "/spec/ingressClassName").to_string())),
        json!(hosts_text),
        json!(load_balancer(v)),
        json!(ports),
        age(v, now),
    ]
}

pub(super) fn event(v: &Value, now: i64) -> Vec<Value> {
    let last = [
        s(v, "/lastTimestamp"),
        s(v, "/eventTime"),
        s(v, "/metadata/creationTimestamp"),
    ]
    .into_iter()
    .find(|t| !t.is_empty());
    let first = [
        s(v, "/firstTimestamp"),
        s(v, "/eventTime"),
        s(v, "/metadata/creationTimestamp"),
    ]
    .into_iter()
    .find(|t| !t.is_empty());
    let count = n(v, "/count");
    let last_seen = if count > 1 {
        format!("{} (x{count} over {})", since(last, now), since(first, now))
    } else {
        since(last, now)
    };
    let source = match (s(v, "/source/component"), s(v, "/source/host")) {
        (c, "") => c.to_string(),
        (c, h) => format!("{c}, {h}"),
    };
    vec![
        json!(last_seen),
        json!(s(v, "/type")),
        json!(s(v, "/reason")),
        json!(format!(
            "{}/{}",
            s(v, "/involvedObject/kind").to_lowercase(),
            s(v, "/involvedObject/name")
        )),
        json!(s(v, "/involvedObject/fieldPath")),
        json!(source),
        json!(s(v, "/message").trim()),
        json!(since(first, now)),
        json!(count.max(1).to_string()),
        json!(s(v, "/metadata/name")),
    ]
}

pub(super) fn hpa(v: &Value, now: i64) -> Vec<Value> {
    let specs = arr(v, "/spec/metrics");
    let current = arr(v, "/status/currentMetrics");
    let targets: Vec<String> = specs
        .iter()
        .map(|m| {
            let res = s(m, "/resource/name");
            let cur = current
                .iter()
                .find(|c| s(c, "/type") == "Resource" && s(c, "/resource/name") == res);
            match (s(m, "/type"), s(m, "/resource/target/type")) {
                ("Resource", "Utilization") => {
                    let now_pct = cur
                        .and_then(|c| c.at("/resource/current/averageUtilization"))
                        .and_then(Value::as_i64)
                        .map_or("<unknown>".to_string(), |p| format!("{p}%"));
                    format!("{res}: {now_pct}/{}%", n(m, "/resource/target/averageUtilization"))
                }
                ("Resource", _) => {
                    let now_v = cur
                        .and_then(|c| c.at("/resource/current/averageValue"))
                        .and_then(Value::as_str)
                        .unwrap_or("<unknown>");
                    format!("{res}: {now_v}/{}", s(m, "/resource/target/averageValue"))
                }
                (other, _) => format!("{other}: <unknown>"),
            }
        })
        .collect();
    let targets = if targets.is_empty() {
        "<none>".to_string()
    } else {
        let shown = targets.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        if targets.len() > 3 {
            format!("{shown} + {} more...", targets.len() - 3)
        } else {
            shown
        }
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(format!(
            "{}/{}",
            s(v, "/spec/scaleTargetRef/kind"),
            s(v, "/spec/scaleTargetRef/name")
        )),
        json!(targets),
        json!(v.at("/spec/minReplicas").and_then(Value::as_i64).unwrap_or(1)),
        json!(n(v, "/spec/maxReplicas")),
        json!(n(v, "/status/currentReplicas")),
        age(v, now),
    ]
}

pub(super) fn job(v: &Value, now: i64) -> Vec<Value> {
    let (c, i) = layout_containers(v, "/spec/template/spec");
    let succeeded = n(v, "/status/succeeded");
    let completions = match v.at("/spec/completions").and_then(Value::as_i64) {
        Some(total) => format!("{succeeded}/{total}"),
        None => match v.at("/spec/parallelism").and_then(Value::as_i64) {
            Some(p) if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = v
        .at("/status/startTime")
        .and_then(Value::as_str)
        .and_then(super::unix_of);
    let end = v
        .at("/status/completionTime")
        .and_then(Value::as_str)
        .and_then(super::unix_of);
    let duration = match (start, end) {
        (Some(s), Some(e)) => super::human_duration(e - s),
        (Some(s), None) => super::human_duration(now - s),
        _ => String::new(),
    };
    let has = |t: &str| condition(v, t).is_some_and(|c| s(c, "/status") == "True");
    let status = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if v.at("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else if has("Suspended") {
        "Suspended"
    } else {
        "Running"
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(status),
        json!(completions),
        json!(duration),
        age(v, now),
        c,
        i,
        json!(selector(v.at("/spec/selector"))),
    ]
}
