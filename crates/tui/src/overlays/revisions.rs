//! An app's revisions: each deploy that changed it (number, when, who, the
//! image, what changed), the cluster's own rollout history beside them
//! (ReplicaSets or ControllerRevisions), and a rollback to the selected
//! revision after a question.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Reply;
use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::cut;
use kdeck_command::apps::ClusterRevision;
use kdeck_model::{AppRef, Revision};

/// What the store and the cluster answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Revisions {
    /// Oldest first.
    pub kdeck: Vec<Revision>,
    /// The cluster's, or why it could not be read.
    pub cluster: Result<Vec<ClusterRevision>, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RevisionsView {
    pub id: RequestId,
    pub app: AppRef,
    /// `None` while reading; the reason when the store could not be read.
    pub answer: Option<Result<Revisions, String>>,
    /// Index into the revisions, newest first.
    pub cursor: usize,
}

impl RevisionsView {
    pub fn new(id: RequestId, app: AppRef) -> Self {
        RevisionsView {
            id,
            app,
            answer: None,
            cursor: 0,
        }
    }

    pub fn answered(&mut self, id: RequestId, r: Result<Revisions, String>) {
        if id == self.id {
            self.answer = Some(r);
            let n = self.newest_first().len();
            self.cursor = self.cursor.min(n.saturating_sub(1));
        }
    }

    fn newest_first(&self) -> Vec<&Revision> {
        match &self.answer {
            Some(Ok(r)) => r.kdeck.iter().rev().collect(),
            _ => Vec::new(),
        }
    }

    /// The revision under the cursor.
    pub fn selected(&self) -> Option<&Revision> {
        self.newest_first().get(self.cursor).copied()
    }

    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        let last = self.newest_first().len().saturating_sub(1);
        match keymap.typed(Context::Revisions, key) {
            Typed::Action(Action::Quit) => return Reply::Quit,
            Typed::Action(Action::Back) => return Reply::Close,
            Typed::Action(Action::Rollback) => return Reply::Act(Action::Rollback),
            Typed::Action(a) => super::move_cursor(&mut self.cursor, a, page, last),
            _ => {}
        }
        Reply::Keep
    }
}

impl Component for RevisionsView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let title = format!("revisions {}", self.app);
        let inner = super::framed(f, area, (92, 84), &title, cx, self.context(), self.commands());
        let w = usize::from(inner.width);
        let mut out: Vec<Line> = Vec::new();
        match &self.answer {
            None => out.push(Line::styled("reading…", t.dim)),
            Some(Err(why)) => out.push(Line::styled(cut(why, w), t.error)),
            Some(Ok(revs)) => {
                let newest = self.newest_first();
                if newest.is_empty() {
                    out.push(Line::styled("no revisions yet: a deploy records one", t.dim));
                }
                for (i, rev) in newest.iter().enumerate() {
                    let selected = i == self.cursor;
                    let base = if selected { t.selected } else { t.text };
                    let time = rev.at.get(..16).unwrap_or(&rev.at).replace('T', " ");
                    let mark = if i == 0 { "*" } else { " " };
                    out.push(Line::from(vec![
                        Span::styled(if selected { "▸ " } else { "  " }, base),
                        Span::styled(format!("{:>3}{mark} ", rev.number), t.key),
                        Span::styled(format!("{time} "), t.dim),
                        Span::styled(format!("{:<16}", cut(&rev.actor, 15)), base),
                        Span::styled(format!("{:<28}", cut(&rev.settings.image, 27)), base),
                        Span::styled(cut(&rev.change, w.saturating_sub(68)), t.dim),
                    ]));
                }
                out.push(Line::styled("─".repeat(w), t.border));
                out.push(Line::styled(format!("in the cluster ({})", self.app.space), t.title));
                match &revs.cluster {
                    Err(why) => out.push(Line::styled(cut(&format!("not read: {why}"), w), t.warn)),
                    Ok(c) => {
                        for cr in c.iter().rev() {
                            let mark = if cr.current { "*" } else { " " };
                            out.push(Line::from(vec![
                                Span::styled(format!("  {:>3}{mark} ", cr.revision), t.key),
                                Span::styled(format!("{:<34}", cut(&cr.name, 33)), t.text),
                                Span::styled(format!("{:<6}", cr.pods), t.dim),
                                Span::styled(cut(&cr.images.join(","), w.saturating_sub(48)), t.dim),
                            ]));
                        }
                    }
                }
            }
        }
        f.render_widget(Paragraph::new(out), inner);
    }

    fn context(&self) -> Context {
        Context::Revisions
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[(Action::Rollback, "roll back to it"), (Action::Back, "close")]
    }
}
