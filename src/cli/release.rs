//! `kdeck apps history` and `apps rollback --dry-run`: an app's revisions
//! as kdeck recorded them, with the cluster's rollout history beside them.

use serde::Serialize;

use super::output::{Format, Table, out, print_data};
use super::{CliError, runtime};
use kdeck_command::Executor;
use kdeck_command::apps::{ClusterRevision, revisions, rollback_plan};
use kdeck_model::{AppRef, Revision};

#[derive(Serialize)]
struct History {
    revisions: Vec<Row>,
    /// The cluster's ReplicaSets or ControllerRevisions; absent when the
    /// cluster could not be read (`cluster_error` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<Vec<ClusterRevision>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_error: Option<String>,
}

#[derive(Serialize)]
struct Row {
    revision: u32,
    at: String,
    actor: String,
    image: String,
    replicas: u32,
    change: String,
    /// The one the app's stored settings are now.
    current: bool,
}

fn app_ref(app: &str) -> Result<AppRef, CliError> {
    AppRef::parse("APP", app).map_err(|e| CliError::usage(e.to_string()))
}

pub(super) fn history(ex: &Executor, app: &str, format: Format) -> Result<(), CliError> {
    let a = app_ref(app)?;
    let settings = ex
        .store()
        .get::<kdeck_model::App>(&a.to_string())?
        .ok_or_else(|| CliError::usage(format!("{a} is not an app kdeck stores; `kdeck apps list` shows them")))?;
    let revs: Vec<Revision> = revisions(ex, &a)?;
    let last = revs.last().map(|r| r.number);
    let rows: Vec<Row> = revs
        .iter()
        .map(|r| Row {
            revision: r.number,
            at: r.at.clone(),
            actor: r.actor.clone(),
            image: r.settings.image.clone(),
            replicas: r.settings.replicas,
            change: r.change.clone(),
            current: Some(r.number) == last,
        })
        .collect();
    let ex2 = ex.clone();
    let a2 = a.clone();
    let read = runtime()?.block_on(async move {
        tokio::time::timeout(
            std::time::Duration::from_secs(15),
            kdeck_command::apps::cluster_history(&ex2, &a2, settings.kind),
        )
        .await
    });
    let (cluster, cluster_error) = match read {
        Ok(Ok(c)) => (Some(c), None),
        Ok(Err(f)) => (None, Some(f.reason)),
        Err(_) => (None, Some("no answer within 15 s".to_string())),
    };
    let h = History {
        revisions: rows,
        cluster,
        cluster_error,
    };
    if format != Format::Table {
        return print_data(format, &h, || Table::new(&[]));
    }
    let mut t = Table::new(&["REVISION", "TIME", "ACTOR", "IMAGE", "REPLICAS", "CHANGE"]);
    for r in &h.revisions {
        let n = if r.current {
            format!("{}*", r.revision)
        } else {
            r.revision.to_string()
        };
        t.row([
            n.as_str(),
            &r.at,
            &r.actor,
            &r.image,
            &r.replicas.to_string(),
            &r.change,
        ]);
    }
    if h.revisions.is_empty() {
        out(&format!("{a}: no revisions yet (a deploy records one)\n"))?;
    } else {
        out(&t.render())?;
    }
    out(&format!("\nin the cluster ({}):\n", a.space))?;
    match (&h.cluster, &h.cluster_error) {
        (Some(c), _) => {
            let mut t = Table::new(&["REVISION", "OBJECT", "IMAGES", "PODS", "CREATED"]);
            for r in c {
                let n = if r.current {
                    format!("{}*", r.revision)
                } else {
                    r.revision.to_string()
                };
                t.row([n.as_str(), &r.name, &r.images.join(","), &r.pods, &r.created]);
            }
            out(&t.render())?;
        }
        (None, Some(e)) => out(&format!("  not read: {e}\n"))?,
        (None, None) => {}
    }
    Ok(())
}

/// What `apps rollback` would deploy, against what kdeck has now.
pub(super) fn rollback_plan_print(ex: &Executor, app: &str, to: Option<u32>, format: Format) -> Result<(), CliError> {
    let a = app_ref(app)?;
    let kdeck_command::apps::RollbackPlan {
        target,
        settings,
        routes,
        derived,
        ..
    } = rollback_plan(ex, &a, to)?;
    let now = revisions(ex, &a)?.pop();
    let change = kdeck_model::revision::change(now.as_ref(), &settings, &routes);
    #[derive(Serialize)]
    struct Plan<'a> {
        revision: u32,
        change: &'a str,
        objects: Vec<&'a serde_json::Value>,
    }
    let plan = Plan {
        revision: target.number,
        change: &change,
        objects: derived.objects(),
    };
    print_data(format, &plan, || {
        let mut t = Table::new(&["ROLLBACK TO", "CHANGE FROM NOW", "OBJECTS"]);
        t.row([
            target.number.to_string().as_str(),
            &change,
            &plan
                .objects
                .iter()
                .map(|o| {
                    format!(
                        "{}/{}",
                        o["kind"].as_str().unwrap_or(""),
                        o["metadata"]["name"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
        ]);
        t
    })
}
