//! The routes pane: the hosts of the Ingresses in view and where they lead.

use std::sync::Arc;

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::cockpit::Scope;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context};
use crate::widgets::table::{Nav, Row, Table, col, draw_table};
use crate::widgets::{count, title_line};
use kdeck_fleet::live::ClusterSnapshot;

#[derive(Debug, Clone, Default)]
pub struct RoutesPane {
    pub table: Table<RouteRow>,
}

#[derive(Debug, Clone)]
pub struct RouteRow {
    pub cluster: Arc<str>,
    pub namespace: String,
    pub ingress: String,
    pub host: String,
    pub service: String,
}

impl Row for RouteRow {
    const COLUMNS: &'static [&'static str] = &["HOST", "SPACE", "INGRESS", "SERVICE"];
    fn parts(&self) -> [&str; 4] {
        [&self.host, &self.cluster, "/", &self.namespace]
    }
    fn same(&self, o: &Self) -> bool {
        self.cluster == o.cluster && self.namespace == o.namespace && self.ingress == o.ingress && self.host == o.host
    }
    fn cmp_by(&self, o: &Self, column: usize) -> Ordering {
        match column {
            0 => self.host.cmp(&o.host),
            1 => (&*self.cluster, &self.namespace).cmp(&(&*o.cluster, &o.namespace)),
            2 => self.ingress.cmp(&o.ingress),
            _ => self.service.cmp(&o.service),
        }
    }
}

pub fn route_rows(clusters: &[Arc<ClusterSnapshot>], scope: &Scope) -> Vec<RouteRow> {
    let mut out = Vec::new();
    for c in clusters.iter().filter(|c| scope.covers_cluster(&c.cluster)) {
        let name: Arc<str> = Arc::from(c.cluster.as_str());
        for r in c.routes.values().filter(|r| scope.contains(&c.cluster, &r.namespace)) {
            for (host, svc) in &r.rules {
                out.push(RouteRow {
                    cluster: name.clone(),
                    namespace: r.namespace.clone(),
                    ingress: r.ingress.clone(),
                    host: host.clone(),
                    service: svc.clone(),
                });
            }
        }
    }
    out
}

impl Component for RoutesPane {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let (c, t) = (cx.cockpit, cx.theme);
        let cols = [
            col("HOST", 24, true, true),
            col("SPACE", 18, true, true),
            col("INGRESS", 12, true, false),
            col("SERVICE", 12, true, false),
        ];
        let title = title_line(
            "routes",
            format!(
                "{} · {}",
                c.scope.describe(),
                count(c.routes.table.len(), c.routes.table.total())
            ),
            Nav::filter(&c.routes.table),
            t,
        );
        draw_table(
            f,
            area,
            &c.routes.table,
            &cols,
            cx.focused,
            t,
            title,
            "no routes here",
            |r: &RouteRow| {
                (
                    vec![
                        (r.host.clone(), t.info),
                        (format!("{}/{}", r.cluster, r.namespace), t.cluster(&r.cluster)),
                        (r.ingress.clone(), t.text),
                        (r.service.clone(), t.dim),
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
