//! Helm releases across the fleet (helm's own too), with the status
//! gathered from their workloads: upgrade, roll back and uninstall from
//! here (forms and a question); enter shows a release's history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Reply;
use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::cut;
use kdeck_command::releases::ReleaseRow;

/// What a read of the fleet's releases answered: rows, and the clusters that did not answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Releases {
    pub rows: Vec<ReleaseRow>,
    pub problems: Vec<String>,
    /// Each chart's versions in the catalogs, newest first, for the upgrade form.
    pub versions: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReleasesView {
    pub id: RequestId,
    pub answer: Option<Releases>,
    pub cursor: usize,
}

impl ReleasesView {
    pub fn new(id: RequestId) -> Self {
        ReleasesView {
            id,
            answer: None,
            cursor: 0,
        }
    }

    pub fn answered(&mut self, id: RequestId, r: Releases) {
        if id != self.id {
            return;
        }
        self.cursor = self.cursor.min(r.rows.len().saturating_sub(1));
        self.answer = Some(r);
    }

    pub fn selected(&self) -> Option<&ReleaseRow> {
        self.answer.as_ref()?.rows.get(self.cursor)
    }

    /// A chart's versions in the catalogs, newest first (its own when none has it).
    pub fn versions_of(&self, r: &ReleaseRow) -> Vec<String> {
        self.answer
            .as_ref()
            .and_then(|a| a.versions.get(&r.chart).cloned())
            .unwrap_or_else(|| vec![r.version.clone()])
    }

    /// The clusters that have the release under the cursor.
    pub fn clusters_of(&self, r: &ReleaseRow) -> Vec<String> {
        self.answer
            .iter()
            .flat_map(|a| a.rows.iter())
            .filter(|x| x.namespace == r.namespace && x.name == r.name)
            .map(|x| x.cluster.clone())
            .collect()
    }

    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        let last = self.answer.as_ref().map_or(0, |a| a.rows.len().saturating_sub(1));
        match keymap.typed(Context::Releases, key) {
            Typed::Action(Action::Quit) => return Reply::Quit,
            Typed::Action(Action::Back) => return Reply::Close,
            Typed::Action(a @ (Action::Upgrade | Action::Rollback | Action::Uninstall | Action::Details)) => {
                return Reply::Act(a);
            }
            Typed::Action(a) => super::move_cursor(&mut self.cursor, a, page, last),
            _ => {}
        }
        Reply::Keep
    }
}

impl Component for ReleasesView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let inner = super::framed(f, area, (94, 80), "releases", cx, self.context(), self.commands());
        let w = usize::from(inner.width);
        let mut out: Vec<Line> = Vec::new();
        match &self.answer {
            None => out.push(Line::styled("reading the releases of every cluster…", t.dim)),
            Some(a) => {
                for p in &a.problems {
                    out.push(Line::styled(cut(p, w), t.error));
                }
                if a.rows.is_empty() {
                    out.push(Line::styled("no Helm releases on any cluster", t.dim));
                } else {
                    out.push(Line::styled(
                        format!(
                            "  {:<14} {:<12} {:<11} {:<4} {:<10} {:<6} CHART",
                            "NAME", "NAMESPACE", "CLUSTER", "REV", "STATUS", "READY"
                        ),
                        t.dim,
                    ));
                }
                let h = usize::from(inner.height).saturating_sub(out.len());
                let top = self.cursor.saturating_sub(h.saturating_sub(1));
                for (i, r) in a.rows.iter().enumerate().skip(top).take(h) {
                    let selected = i == self.cursor;
                    let base = if selected { t.selected } else { t.text };
                    let ready_ok = r.ready.split_once('/').is_some_and(|(a, b)| a == b);
                    let status = if r.status == "deployed" { t.text } else { t.warn };
                    out.push(Line::from(vec![
                        Span::styled(if selected { "▸ " } else { "  " }, base),
                        Span::styled(format!("{:<14} ", cut(&r.name, 14)), base),
                        Span::styled(format!("{:<12} ", cut(&r.namespace, 12)), base),
                        Span::styled(format!("{:<11} ", cut(&r.cluster, 11)), t.key),
                        Span::styled(format!("{:<4} ", r.revision), base),
                        Span::styled(format!("{:<10} ", cut(&r.status, 10)), status),
                        Span::styled(
                            format!("{:<6} ", cut(&r.ready, 6)),
                            if ready_ok { t.text } else { t.warn },
                        ),
                        Span::styled(cut(&format!("{}-{}", r.chart, r.version), w.saturating_sub(64)), base),
                    ]));
                }
            }
        }
        f.render_widget(Paragraph::new(out), inner);
    }

    fn context(&self) -> Context {
        Context::Releases
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Details, "history"),
            (Action::Upgrade, "upgrade"),
            (Action::Rollback, "rollback"),
            (Action::Uninstall, "uninstall"),
            (Action::Back, "close"),
        ]
    }
}
