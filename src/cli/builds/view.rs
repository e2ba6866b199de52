//! `kdeck builds list` and `builds show`: what runs there are, and one
//! run's task tree. They only read.

use serde::Serialize;

use super::super::output::{Format, Table, age, print_data};
use super::super::{CliError, PASS_LIMIT, partial};
use super::{Rt, colon, resolve};
use kdeck_command::Executor;
use kdeck_fleet::builds::RunDetail;
use kdeck_fleet::live::views::BuildView;
use kdeck_model::clock::span;
use kdeck_model::{AppRef, Cluster, SpaceRef};

#[derive(Serialize)]
struct RunRow {
    run: String,
    cluster: String,
    #[serde(flatten)]
    build: BuildView,
}

pub(super) fn list(rt: &Rt, executor: &Executor, target: Option<&str>, format: Format) -> Result<(), CliError> {
    // Every cluster's runs in every namespace, or one space's (an app's).
    let (clusters, ns, app) = match target {
        None => (executor.store().list::<Cluster>()?, String::new(), None),
        Some(t) => {
            let (space, app) = if t.matches('/').count() == 2 {
                let a = AppRef::parse("TARGET", t).map_err(|e| CliError::usage(e.to_string()))?;
                (a.space, Some(a.name))
            } else {
                (
                    SpaceRef::parse("TARGET", t).map_err(|e| CliError::usage(e.to_string()))?,
                    None,
                )
            };
            (
                vec![kdeck_command::cluster_of(executor, &space.cluster)?],
                space.namespace,
                app,
            )
        }
    };
    let gw = executor.gateway().clone();
    let asked = clusters.len();
    let pass = rt.block_on(kdeck_fleet::apps::each_cluster(&gw, &clusters, PASS_LIMIT, |c, _| {
        let (gw, ns, app) = (&gw, &ns, &app);
        async move {
            let list = kdeck_fleet::builds::list(gw, &c, ns, app.as_deref()).await?;
            Ok(list
                .into_iter()
                .map(|b| RunRow {
                    run: format!("{}/{}/{}", c.name, b.namespace, b.name),
                    cluster: c.name.clone(),
                    build: b,
                })
                .collect::<Vec<_>>())
        }
    }));
    let (rows, problems) = (pass.rows, pass.problems);
    let now = time::OffsetDateTime::now_utc();
    print_data(format, &rows, || {
        let mut t = Table::new(&[
            "RUN", "APP", "STATE", "TRIGGER", "REVISION", "COMMIT", "AGE", "DURATION", "REASON",
        ]);
        for r in &rows {
            let b = &r.build;
            let commit: String = b.commit.chars().take(7).collect();
            t.row([
                r.run.as_str(),
                b.app.as_deref().unwrap_or("-"),
                b.state.word(),
                if b.trigger.is_empty() { "-" } else { &b.trigger },
                if b.revision.is_empty() { "-" } else { &b.revision },
                if commit.is_empty() { "-" } else { &commit },
                &age(&b.created, now),
                &span(&b.started, &b.finished, now),
                &b.reason,
            ]);
        }
        t
    })?;
    partial(&problems, asked)
}

pub(super) fn show(rt: &Rt, executor: &Executor, run: &str, format: Format) -> Result<(), CliError> {
    let (cluster, space, name) = resolve(executor, run)?;
    let gw = executor.gateway().clone();
    let d: RunDetail = rt
        .block_on(async move { kdeck_fleet::builds::detail(&gw, &cluster, &space.namespace, &name).await })
        .map_err(|p| CliError::failed(p.message))?
        .ok_or_else(|| CliError::failed(format!("no build run {run}; `kdeck builds list` lists them")))?;
    if format != Format::Table {
        return print_data(format, &d, || Table::new(&[]));
    }
    let now = time::OffsetDateTime::now_utc();
    let b = &d.run;
    let mut text = format!(
        "run:       {run}\napp:       {}\nstate:     {} ({}){}\ntrigger:   {}\nrevision:  {}\nstarted:   {} ago, ran {}\n",
        b.app.as_deref().unwrap_or("-"),
        b.state.word(),
        b.reason,
        colon(&b.message),
        if b.trigger.is_empty() { "-" } else { &b.trigger },
        if b.revision.is_empty() { "-" } else { &b.revision },
        age(&b.started, now),
        span(&b.started, &b.finished, now),
    );
    text.push_str("\ntasks:\n");
    for t in &d.tasks {
        let fin = if t.finally { " (finally)" } else { "" };
        match &t.task_run {
            Some(tr) => {
                text.push_str(&format!(
                    "  {}{fin}  {}  {}  {}\n",
                    t.task,
                    tr.state.word(),
                    span(&tr.started, &tr.finished, now),
                    if tr.message.is_empty() {
                        String::new()
                    } else {
                        tr.message.clone()
                    }
                ));
                for s in &tr.steps {
                    let code = s.exit_code.map(|c| format!("exit {c}")).unwrap_or_else(|| "-".into());
                    text.push_str(&format!(
                        "    · {}  {}  {}  {}{}\n",
                        s.name,
                        s.state.word(),
                        code,
                        span(&s.started, &s.finished, now),
                        if s.reason.is_empty() || s.reason == "Completed" {
                            String::new()
                        } else {
                            format!("  ({})", s.reason)
                        }
                    ));
                }
                for (k, v) in &t.results {
                    text.push_str(&format!("    result {k} = {v}\n"));
                }
            }
            None => match d.skipped.iter().find(|(n, _)| *n == t.task) {
                Some((_, why)) => text.push_str(&format!("  {}{fin}  skipped: {why}\n", t.task)),
                None => text.push_str(&format!("  {}{fin}  not started\n", t.task)),
            },
        }
    }
    if !d.results.is_empty() {
        text.push_str("\nresults:\n");
        for (k, v) in &d.results {
            text.push_str(&format!("  {k} = {v}\n"));
        }
    }
    super::super::output::out(&text)
}
