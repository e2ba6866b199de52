//! `kdeck whoami [CLUSTER]` and `kdeck can SPACE VERB RESOURCE`: who each
//! cluster says kdeck's login is (SelfSubjectReview), and whether it may
//! do something in a space (SelfSubjectAccessReview), as `kubectl auth
//! whoami` and `kubectl auth can-i` ask.

use serde::Serialize;

use super::output::{Format, Table, print_data};
use super::{CliError, PASS_LIMIT, partial, runtime};
use kdeck_command::Executor;
use kdeck_model::{Cluster, SpaceRef};

/// The API group of the resources people ask about by their plural alone.
const GROUPS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "pods",
            "pods/log",
            "pods/exec",
            "services",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "persistentvolumeclaims",
            "events",
            "endpoints",
            "namespaces",
            "resourcequotas",
            "limitranges",
        ],
    ),
    (
        "apps",
        &[
            "deployments",
            "deployments/scale",
            "statefulsets",
            "statefulsets/scale",
            "replicasets",
            "daemonsets",
        ],
    ),
    ("batch", &["jobs", "cronjobs"]),
    ("autoscaling", &["horizontalpodautoscalers"]),
    ("networking.k8s.io", &["ingresses", "networkpolicies"]),
    (
        "rbac.authorization.k8s.io",
        &["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
    ),
    ("tekton.dev", &["pipelines", "pipelineruns", "tasks", "taskruns"]),
    (
        "triggers.tekton.dev",
        &["eventlisteners", "triggerbindings", "triggertemplates", "triggers"],
    ),
];

/// `deployments`, `deployments/scale`, `deployments.apps`,
/// `certificates.cert-manager.io/status`: (group, resource with its subresource).
pub(super) fn resource_of(text: &str) -> Result<(String, String), CliError> {
    let (head, sub) = match text.split_once('/') {
        Some((h, s)) => (h, Some(s)),
        None => (text, None),
    };
    let with_sub = |r: &str| match sub {
        Some(s) => format!("{r}/{s}"),
        None => r.to_string(),
    };
    if let Some((plural, group)) = head.split_once('.') {
        return Ok((group.to_string(), with_sub(plural)));
    }
    let full = with_sub(head);
    GROUPS
        .iter()
        .find(|(_, rs)| rs.contains(&full.as_str()) || rs.contains(&head))
        .map(|(g, _)| ((*g).to_string(), full.clone()))
        .ok_or_else(|| {
            CliError::usage(format!(
                "{text}: kdeck does not know its API group; name it with the group, as in {head}.example.com"
            ))
        })
}

#[derive(Serialize)]
struct Who {
    cluster: String,
    username: String,
    groups: Vec<String>,
}

pub(super) fn whoami(executor: &Executor, clusters: Vec<Cluster>, format: Format) -> Result<(), CliError> {
    let gw = executor.gateway().clone();
    let asked = clusters.len();
    let pass = runtime()?.block_on(kdeck_fleet::apps::each_cluster(&gw, &clusters, PASS_LIMIT, |c, _| {
        let gw = &gw;
        async move {
            let (username, groups) = gw.whoami(&c).await?;
            Ok(vec![Who {
                cluster: c.name.clone(),
                username,
                groups,
            }])
        }
    }));
    let (rows, problems) = (pass.rows, pass.problems);
    print_data(format, &rows, || {
        let mut t = Table::new(&["CLUSTER", "USERNAME", "GROUPS"]);
        for r in &rows {
            t.row([r.cluster.as_str(), r.username.as_str(), &r.groups.join(",")]);
        }
        t
    })?;
    partial(&problems, asked)
}

#[derive(Serialize)]
struct Answer {
    space: String,
    verb: String,
    group: String,
    resource: String,
    allowed: bool,
}

/// `yes` (exit 0) or `no` (exit 1), as `kubectl auth can-i`.
pub(super) fn can(
    executor: &Executor,
    space: &str,
    verb: &str,
    resource: &str,
    format: Format,
) -> Result<(), CliError> {
    let s = SpaceRef::parse("SPACE", space).map_err(|e| CliError::usage(e.to_string()))?;
    let c = kdeck_command::cluster_of(executor, &s.cluster)?;
    let (group, res) = resource_of(resource)?;
    let gw = executor.gateway().clone();
    let allowed = runtime()?
        .block_on(async { gw.can(&c, &s.namespace, verb, &group, &res).await })
        .map_err(|p| CliError::failed(p.message))?;
    let a = Answer {
        space: s.to_string(),
        verb: verb.to_string(),
        group,
        resource: res,
        allowed,
    };
    if format == Format::Table {
        super::output::out(if allowed { "yes\n" } else { "no\n" })?;
    } else {
        print_data(format, &a, || Table::new(&[]))?;
    }
    if allowed {
        Ok(())
    } else {
        // `no` said it: exit 1 with no more words, as kubectl does.
        Err(CliError {
            code: 1,
            message: String::new(),
        })
    }
}
