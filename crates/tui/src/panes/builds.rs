//! The builds pane: Tekton PipelineRuns in the spaces in view, with the
//! step that failed.

use std::sync::Arc;

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::cockpit::Scope;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context};
use crate::widgets::table::{Nav, Row, Table, col, draw_table};
use crate::widgets::{count, title_line};
use kdeck_fleet::live::{BuildState, BuildView, ClusterSnapshot};
use kdeck_model::clock::age;

#[derive(Debug, Clone, Default)]
pub struct BuildsPane {
    pub table: Table<BuildRow>,
}

#[derive(Debug, Clone)]
pub struct BuildRow {
    pub cluster: Arc<str>,
    pub build: BuildView,
    /// `task/step (exit N)` of the step that failed it.
    pub failing: Option<String>,
}

impl Row for BuildRow {
    const COLUMNS: &'static [&'static str] = &[
        "NAME",
        "STATE",
        "DURATION",
        "FAILED STEP",
        "AGE",
        "TRIGGER",
        "COMMIT",
        "SPACE",
        "APP",
    ];
    fn parts(&self) -> [&str; 4] {
        [
            &self.build.name,
            &self.cluster,
            &self.build.namespace,
            self.build.state.word(),
        ]
    }
    fn same(&self, o: &Self) -> bool {
        self.cluster == o.cluster && self.build.namespace == o.build.namespace && self.build.name == o.build.name
    }
    fn cmp_by(&self, o: &Self, column: usize) -> Ordering {
        let (a, b) = (&self.build, &o.build);
        match column {
            0 => a.name.cmp(&b.name),
            1 => a.state.cmp(&b.state),
            2 => a.started.cmp(&b.started),
            3 => self.failing.cmp(&o.failing),
            4 => b.created.cmp(&a.created),
            5 => a.trigger.cmp(&b.trigger),
            6 => (&a.commit, &a.revision).cmp(&(&b.commit, &b.revision)),
            7 => (&*self.cluster, &a.namespace).cmp(&(&*o.cluster, &b.namespace)),
            _ => a.app.cmp(&b.app),
        }
    }
}

pub fn build_rows(clusters: &[Arc<ClusterSnapshot>], scope: &Scope) -> Vec<BuildRow> {
    let mut out = Vec::new();
    for c in clusters.iter().filter(|c| scope.covers_cluster(&c.cluster)) {
        let name: Arc<str> = Arc::from(c.cluster.as_str());
        let mut rows: Vec<BuildRow> = c
            .builds
            .values()
            .filter(|b| scope.contains(&c.cluster, &b.namespace))
            .map(|b| BuildRow {
                cluster: name.clone(),
                failing: c
                    .failing_step(&b.namespace, &b.name)
                    .map(|(t, s)| format!("{}/{} (exit {})", t.task, s.name, s.exit_code.unwrap_or_default())),
                build: b.clone(),
            })
            .collect();
        // Newest first within a cluster.
        rows.sort_by(|a, b| {
            b.build
                .created
                .cmp(&a.build.created)
                .then_with(|| a.build.name.cmp(&b.build.name))
        });
        out.extend(rows);
    }
    out
}

use kdeck_model::clock::span as duration;

impl Component for BuildsPane {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let (c, t) = (cx.cockpit, cx.theme);
        let cols = [
            col("NAME", 12, true, true),
            col("STATE", 9, false, true),
            col("DURATION", 8, false, true),
            col("FAILED STEP", 14, true, true),
            col("AGE", 4, false, true),
            col("TRIGGER", 7, false, false),
            col("COMMIT", 8, false, false),
            col("SPACE", 18, true, false),
            col("APP", 10, true, false),
        ];
        let title = title_line(
            "builds",
            format!(
                "{} · {}",
                c.scope.describe(),
                count(c.builds.table.len(), c.builds.table.total())
            ),
            Nav::filter(&c.builds.table),
            t,
        );
        let empty = match c.focus_too_wide() {
            Some(n) => {
                format!(
                    "{n} spaces in view: pick spaces in the tree (enter, or space to mark several) to see their builds"
                )
            }
            None => {
                let failed: Vec<String> = c
                    .clusters
                    .iter()
                    .flat_map(|s| s.focus.values())
                    .filter_map(|w| match &w.builds {
                        kdeck_fleet::live::Standing::Failed { why } => Some(why.clone()),
                        _ => None,
                    })
                    .collect();
                failed.first().cloned().unwrap_or_else(|| "no builds here".to_string())
            }
        };
        draw_table(
            f,
            area,
            &c.builds.table,
            &cols,
            cx.focused,
            t,
            title,
            &empty,
            |r: &BuildRow| {
                let b = &r.build;
                let style = match b.state {
                    BuildState::Succeeded => t.ok,
                    BuildState::Failed => t.error,
                    BuildState::Cancelled => t.dim,
                    BuildState::Running | BuildState::Pending => t.warn,
                };
                (
                    vec![
                        (b.name.clone(), t.text),
                        (b.state.word().to_string(), style),
                        (duration(&b.started, &b.finished, c.now), t.dim),
                        (r.failing.clone().unwrap_or_default(), t.error),
                        (age(&b.created, c.now), t.dim),
                        (
                            if b.trigger.is_empty() {
                                "-".into()
                            } else {
                                b.trigger.clone()
                            },
                            t.dim,
                        ),
                        (
                            match (b.commit.get(..7), b.revision.as_str()) {
                                (Some(c), _) => c.to_string(),
                                (None, "") => "-".into(),
                                (None, r) => r.chars().take(8).collect(),
                            },
                            t.dim,
                        ),
                        (format!("{}/{}", r.cluster, b.namespace), t.cluster(&r.cluster)),
                        (b.app.clone().unwrap_or_else(|| "-".into()), t.text),
                    ],
                    false,
                )
            },
        );
    }

    fn context(&self) -> Context {
        Context::List
    }

    fn event(&mut self, action: Action, page: usize) -> bool {
        crate::component::list_event(&mut self.table, action, page)
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Enter, "tasks"),
            (Action::Logs, "logs"),
            (Action::Build, "build"),
            (Action::CancelBuild, "cancel"),
            (Action::Rerun, "rerun"),
            (Action::Filter, "filter"),
            (Action::Back, "back"),
            (Action::Help, "help"),
        ]
    }
}
