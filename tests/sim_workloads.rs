//! Workload controllers a real cluster runs, through the real kubectl: a
//! DaemonSet puts a pod on the node and rolls it on a template change; a
//! CronJob makes a Job when its schedule comes round, the Job runs to
//! completion and the CronJob records it; `create job --from=cronjob/...`
//! runs one at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Setup, succeeds as ok};

const CTX: &str = "prod-eu1";
const NS: &str = "shop-prod";

#[test]
fn a_daemonset_runs_a_pod_on_the_node_and_rolls_it() {
    let s = Setup::new();
    let file = s.dir.path().join("ds.yaml");
    let ds = |image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: {NS}}}\nspec:\n  selector: {{matchLabels: {{app: agent}}}}\n  template:\n    metadata: {{labels: {{app: agent}}}}\n    spec: {{containers: [{{name: a, image: \"{image}\"}}]}}\n"
        )
    };
    std::fs::write(&file, ds("fluent-bit:3.0")).unwrap();
    ok(s.kubectl(CTX, &["apply", "-f", file.to_str().unwrap()]));
    ok(s.kubectl(
        CTX,
        &["-n", NS, "rollout", "status", "daemonset/agent", "--timeout=20s"],
    ));
    let row = ok(s.kubectl(CTX, &["-n", NS, "get", "daemonset", "agent", "--no-headers"]));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[1..6], ["1", "1", "1", "1", "1"], "{row}");
    std::fs::write(&file, ds("fluent-bit:3.1")).unwrap();
    ok(s.kubectl(CTX, &["apply", "-f", file.to_str().unwrap()]));
    ok(s.kubectl(
        CTX,
        &["-n", NS, "rollout", "status", "daemonset/agent", "--timeout=20s"],
    ));
    s.until("one pod, of the new template", Duration::from_secs(20), || {
        let out = s.kubectl(
            CTX,
            &[
                "-n",
                NS,
                "get",
                "pods",
                "-l",
                "app=agent",
                "-o",
                "jsonpath={.items[*].spec.containers[0].image}",
            ],
        );
        String::from_utf8_lossy(&out.stdout) == "fluent-bit:3.1"
    });
    let node = ok(s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "get",
            "pods",
            "-l",
            "app=agent",
            "-o",
            "jsonpath={.items[0].spec.nodeName}",
        ],
    ));
    assert_eq!(node, "sim-node-1");
}

#[test]
fn a_cronjob_makes_jobs_on_its_schedule_and_on_demand() {
    let s = Setup::new();
    ok(s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "create",
            "cronjob",
            "tick",
            "--image=busybox",
            "--schedule=* * * * *",
            "--",
            "date",
        ],
    ));
    ok(s.kubectl(CTX, &["-n", NS, "create", "job", "tick-now", "--from=cronjob/tick"]));
    ok(s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "wait",
            "--for=condition=complete",
            "job/tick-now",
            "--timeout=20s",
        ],
    ));
    // The next minute brings a scheduled Job.
    s.until("a scheduled job", Duration::from_secs(75), || {
        let out = s.kubectl(
            CTX,
            &[
                "-n",
                NS,
                "get",
                "cronjob",
                "tick",
                "-o",
                "jsonpath={.status.lastScheduleTime}",
            ],
        );
        !String::from_utf8_lossy(&out.stdout).is_empty()
    });
    let jobs = ok(s.kubectl(
        CTX,
        &["-n", NS, "get", "jobs", "-o", "jsonpath={.items[*].metadata.name}"],
    ));
    let scheduled: Vec<&str> = jobs
        .split(' ')
        .filter(|j| j.starts_with("tick-") && *j != "tick-now")
        .collect();
    assert_eq!(scheduled.len(), 1, "{jobs}");
    let minutes: i64 = scheduled[0].trim_start_matches("tick-").parse().unwrap();
    let stamp = ok(s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "get",
            "job",
            scheduled[0],
            "-o",
            r#"jsonpath={.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}"#,
        ],
    ));
    assert!(stamp.ends_with(":00Z"), "scheduled on a minute: {stamp} ({minutes})");
    ok(s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "wait",
            "--for=condition=complete",
            &format!("job/{}", scheduled[0]),
            "--timeout=20s",
        ],
    ));
    let owner = ok(s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "get",
            "job",
            scheduled[0],
            "-o",
            "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}",
        ],
    ));
    assert_eq!(owner, "CronJob/tick");
    let out = ok(s.kubectl(CTX, &["-n", NS, "get", "cronjob", "tick"]));
    assert!(
        out.lines()
            .nth(1)
            .is_some_and(|l| l.contains("* * * * *") && l.contains("False")),
        "{out}"
    );
}

#[test]
fn a_disruption_budget_counts_the_healthy_pods_it_covers() {
    let s = Setup::new();
    ok(s.kubectl(CTX, &["-n", NS, "scale", "deployment", "web", "--replicas=3"]));
    ok(s.kubectl(CTX, &["-n", NS, "rollout", "status", "deployment/web", "--timeout=20s"]));
    ok(s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "create",
            "pdb",
            "web",
            "--selector=app.kubernetes.io/name=web",
            "--min-available=2",
        ],
    ));
    s.until("the budget's status", Duration::from_secs(10), || {
        let out = s.kubectl(CTX, &["-n", NS, "get", "pdb", "web", "-o", "jsonpath={.status.expectedPods} {.status.currentHealthy} {.status.desiredHealthy} {.status.disruptionsAllowed}"]);
        String::from_utf8_lossy(&out.stdout) == "3 3 2 1"
    });
    let out = ok(s.kubectl(CTX, &["-n", NS, "get", "pdb", "web", "--no-headers"]));
    let cols: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(&cols[..4], ["web", "2", "N/A", "1"], "{out}");
    ok(s.kubectl(
        CTX,
        &[
            "-n",
            NS,
            "create",
            "pdb",
            "all",
            "--selector=app.kubernetes.io/name=web",
            "--max-unavailable=0",
        ],
    ));
    s.until("no disruption allowed", Duration::from_secs(10), || {
        let out = s.kubectl(
            CTX,
            &[
                "-n",
                NS,
                "get",
                "pdb",
                "all",
                "-o",
                "jsonpath={.status.disruptionsAllowed} {.status.conditions[0].reason}",
            ],
        );
        String::from_utf8_lossy(&out.stdout) == "0 InsufficientPods"
    });
}
