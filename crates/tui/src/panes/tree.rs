//! The spaces tree: every space of every cluster, one flat list under its
//! cluster, with health marks; marks select several spaces at once.

use std::collections::BTreeSet;
use std::sync::Arc;

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::component::{Component, Cx};
use crate::keymap::{Action, Context};
use crate::widgets::table::{Row, Table};
use crate::widgets::{block, cut, health_mark, title_line};
use kdeck_fleet::live::{ClusterSnapshot, Health};
use kdeck_model::SpaceRef;

/// The tree's state: its rows, the clusters folded away and the marked spaces.
#[derive(Debug, Clone, Default)]
pub struct TreePane {
    pub table: Table<TreeRow>,
    pub collapsed: BTreeSet<String>,
    /// Spaces marked in the tree.
    pub marked: BTreeSet<SpaceRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeRow {
    All {
        spaces: usize,
        clusters: usize,
    },
    Cluster {
        name: String,
        health: Health,
        spaces: usize,
        collapsed: bool,
        restricted: bool,
    },
    Space {
        space: SpaceRef,
        terminating: bool,
        attached: bool,
    },
}

impl Row for TreeRow {
    const COLUMNS: &'static [&'static str] = &["SPACE"];
    fn parts(&self) -> [&str; 4] {
        match self {
            TreeRow::Space { space, .. } => [&space.cluster, "/", &space.namespace, ""],
            _ => [""; 4],
        }
    }
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (TreeRow::All { .. }, TreeRow::All { .. }) => true,
            (TreeRow::Cluster { name: a, .. }, TreeRow::Cluster { name: b, .. }) => a == b,
            (TreeRow::Space { space: a, .. }, TreeRow::Space { space: b, .. }) => a == b,
            _ => false,
        }
    }
    fn cmp_by(&self, _: &Self, _: usize) -> Ordering {
        // The tree keeps its order: clusters, then their spaces.
        Ordering::Equal
    }
    fn always_shown(&self) -> bool {
        !matches!(self, TreeRow::Space { .. })
    }
}

pub fn tree_rows(
    clusters: &[Arc<ClusterSnapshot>],
    attached: &BTreeSet<SpaceRef>,
    collapsed: &BTreeSet<String>,
) -> Vec<TreeRow> {
    let mut out = Vec::new();
    let total: usize = clusters.iter().map(|c| c.namespaces.len()).sum();
    out.push(TreeRow::All {
        spaces: total,
        clusters: clusters.len(),
    });
    for c in clusters {
        // Namespaces the cluster lists, and attached spaces it may not list.
        let mut names: BTreeSet<&str> = c.namespaces.keys().map(String::as_str).collect();
        for s in attached.iter().filter(|s| s.cluster == c.cluster) {
            names.insert(&s.namespace);
        }
        let is_collapsed = collapsed.contains(&c.cluster);
        out.push(TreeRow::Cluster {
            name: c.cluster.clone(),
            health: c.health.clone(),
            spaces: names.len(),
            collapsed: is_collapsed,
            restricted: c.restricted,
        });
        if is_collapsed {
            continue;
        }
        for n in names {
            let space = SpaceRef::new(&c.cluster, n);
            out.push(TreeRow::Space {
                terminating: c.namespaces.get(n).is_some_and(|v| v.terminating),
                attached: attached.contains(&space),
                space,
            });
        }
    }
    out
}

impl Component for TreePane {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let (c, t) = (cx.cockpit, cx.theme);
        let focused = cx.focused;
        let filter = c.tree_filter();
        let b = block(
            title_line(
                "spaces",
                format!("{}", c.tree.table.len().saturating_sub(1 + c.clusters.len())),
                filter,
                t,
            ),
            focused,
            t,
        );
        let inner = b.inner(area);
        f.render_widget(b, area);
        let w = usize::from(inner.width);
        let (_, rows) = c.tree.table.window(usize::from(inner.height));
        let mut lines = Vec::new();
        for (pos, r) in rows {
            let selected = pos == c.tree.table.cursor;
            let mut spans: Vec<Span> = Vec::new();
            let mut used = 0usize;
            match r {
                TreeRow::All { spaces, clusters } => {
                    let s = format!("◆ all spaces ({spaces} on {clusters})");
                    used += s.chars().count();
                    spans.push(Span::styled(s, t.title));
                }
                TreeRow::Cluster {
                    name,
                    health,
                    spaces,
                    collapsed,
                    restricted,
                } => {
                    spans.push(Span::raw(if *collapsed { "▸ " } else { "▾ " }));
                    spans.push(health_mark(health, t));
                    spans.push(Span::raw(" "));
                    let label = cut(name, w.saturating_sub(8));
                    used += 4 + label.chars().count();
                    spans.push(Span::styled(label, t.cluster(name).add_modifier(Modifier::BOLD)));
                    let tail = format!(" {spaces}{}", if *restricted { " ⚿" } else { "" });
                    used += tail.chars().count();
                    spans.push(Span::styled(tail, t.dim));
                }
                TreeRow::Space {
                    space,
                    terminating,
                    attached,
                } => {
                    let marked = c.tree.marked.contains(space);
                    let mark = if marked { "✓ " } else { "  " };
                    spans.push(Span::styled(format!("  {mark}"), t.marked));
                    let mut style = if marked { t.marked } else { t.text };
                    if *terminating {
                        style = t.dim;
                    }
                    let in_scope =
                        c.scope.contains(&space.cluster, &space.namespace) && c.scope != crate::cockpit::Scope::All;
                    if in_scope {
                        style = style.add_modifier(Modifier::BOLD);
                    }
                    let suffix = match (terminating, attached) {
                        (true, _) => " (terminating)",
                        (false, true) => " @",
                        _ => "",
                    };
                    let label = cut(&space.namespace, w.saturating_sub(4 + suffix.chars().count()));
                    used += 4 + label.chars().count() + suffix.chars().count();
                    spans.push(Span::styled(label, style));
                    spans.push(Span::styled(suffix, t.dim));
                }
            }
            if selected {
                let sel = if focused { t.selected } else { t.selected_unfocused };
                spans = spans.into_iter().map(|s| s.patch_style(sel)).collect();
                spans.push(Span::styled(" ".repeat(w.saturating_sub(used)), sel));
            }
            lines.push(Line::from(spans));
        }
        if c.tree.table.total() <= 1 {
            lines.push(Line::styled("no clusters yet", t.dim));
        }
        f.render_widget(Paragraph::new(lines), inner);
    }

    fn context(&self) -> Context {
        Context::Tree
    }

    fn event(&mut self, action: Action, page: usize) -> bool {
        crate::component::list_event(&mut self.table, action, page)
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Enter, "view"),
            (Action::Mark, "mark"),
            (Action::Roles, "roles"),
            (Action::Journal, "journal"),
            (Action::Filter, "filter"),
            (Action::NextPane, "panes"),
            (Action::Palette, "palette"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ]
    }
}
