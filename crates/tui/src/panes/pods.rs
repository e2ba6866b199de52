//! The pods of one app, drilled into from the apps pane (enter; esc goes back).

use std::sync::Arc;

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::component::{Component, Cx};
use crate::keymap::{Action, Context};
use crate::widgets::table::{Nav, Row, Table, col, draw_table};
use crate::widgets::title_line;
use kdeck_fleet::live::{ClusterSnapshot, PodView};
use kdeck_model::AppRef;
use kdeck_model::clock::age;

/// The pods pane's state: whose pods, and their rows.
#[derive(Debug, Clone, Default)]
pub struct PodsPane {
    /// The app whose pods are shown, and its kind.
    pub of: Option<(AppRef, &'static str)>,
    pub table: Table<PodRow>,
}

#[derive(Debug, Clone)]
pub struct PodRow {
    pub pod: PodView,
}

impl Row for PodRow {
    const COLUMNS: &'static [&'static str] = &["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"];
    fn parts(&self) -> [&str; 4] {
        [&self.pod.name, " ", &self.pod.status, ""]
    }
    fn same(&self, o: &Self) -> bool {
        self.pod.name == o.pod.name
    }
    fn cmp_by(&self, o: &Self, column: usize) -> Ordering {
        let (a, b) = (&self.pod, &o.pod);
        match column {
            0 => a.name.cmp(&b.name),
            1 => (a.ready, a.total).cmp(&(b.ready, b.total)),
            2 => a.status.cmp(&b.status),
            3 => b.restarts.cmp(&a.restarts),
            4 => b.created.cmp(&a.created),
            _ => a.node.cmp(&b.node),
        }
    }
}

pub fn pod_rows(clusters: &[Arc<ClusterSnapshot>], app: &AppRef, kind: &str) -> Vec<PodRow> {
    clusters
        .iter()
        .filter(|c| c.cluster == app.space.cluster)
        .flat_map(|c| {
            c.pods_of(&app.space.namespace, kind, &app.name)
                .map(|p| PodRow { pod: p.clone() })
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Component for PodsPane {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let (c, t) = (cx.cockpit, cx.theme);
        let Some((app, kind)) = &c.pods.of else {
            return;
        };
        let cols = [
            col("NAME", 20, true, true),
            col("READY", 5, false, true),
            col("STATUS", 16, false, true),
            col("RESTARTS", 8, false, false),
            col("AGE", 4, false, true),
            col("NODE", 12, true, false),
        ];
        let standing = c
            .cluster(&app.space.cluster)
            .and_then(|s| s.focus.get(&app.space.namespace).map(|w| w.pods.clone()));
        let empty = match standing {
            Some(kdeck_fleet::live::Standing::Failed { why }) => why,
            Some(kdeck_fleet::live::Standing::Live) => "no pods".to_string(),
            _ => "loading…".to_string(),
        };
        let title = title_line(
            "pods",
            format!(
                "of {} {app} · {} · esc back",
                if *kind == "StatefulSet" { "sts" } else { "deploy" },
                c.pods.table.len()
            ),
            Nav::filter(&c.pods.table),
            t,
        );
        draw_table(
            f,
            area,
            &c.pods.table,
            &cols,
            cx.focused,
            t,
            title,
            &empty,
            |r: &PodRow| {
                let p = &r.pod;
                let status_style = match p.status.as_str() {
                    "Running" | "Completed" | "Succeeded" => t.ok,
                    "Pending" | "ContainerCreating" | "Terminating" => t.warn,
                    _ if p.status.starts_with("Init:") => t.warn,
                    _ => t.error,
                };
                (
                    vec![
                        (p.name.clone(), t.text),
                        (
                            format!("{}/{}", p.ready, p.total),
                            if p.ready == p.total { t.ok } else { t.warn },
                        ),
                        (p.status.clone(), status_style),
                        (p.restarts.to_string(), if p.restarts > 0 { t.warn } else { t.dim }),
                        (age(&p.created, c.now), t.dim),
                        (p.node.clone(), t.dim),
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
        super::LIST_COMMANDS
    }
}
