//! The journal as the audit trail, in the cockpit: every command run on
//! this store (from any kdeck, the CLI's too), newest first, filtered as
//! `kdeck history` filters (`actor:ana space:eu1/shop command:roles
//! since:2h failed`), and an entry's details with each item's result. A
//! failed entry can be run again (asked first).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::Reply;
use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::{block, cut, popup, title_line};
use kdeck_command::{JournalEntry, Status};

/// How many matching entries are read (the newest).
pub const SHOWN: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct JournalView {
    /// The read this view waits for; an older answer is dropped.
    pub id: RequestId,
    /// The filter as typed.
    pub filter: String,
    /// Why the filter does not read, or why the journal could not be read.
    pub problem: Option<String>,
    /// Newest first.
    pub entries: Vec<JournalEntry>,
    pub loading: bool,
    pub cursor: usize,
    /// The selected entry's items are shown.
    pub details: bool,
}

/// What the journal view asks the shell for.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalAsk {
    /// The input line, to type the filter.
    Filter(String),
    /// Run this entry's command again (asked first).
    Rerun(Box<JournalEntry>),
}

impl JournalView {
    pub fn new(id: RequestId, filter: String) -> Self {
        JournalView {
            id,
            filter,
            problem: None,
            entries: Vec::new(),
            loading: true,
            cursor: 0,
            details: false,
        }
    }

    pub fn answered(&mut self, id: RequestId, r: Result<Vec<JournalEntry>, String>) {
        if id != self.id {
            return;
        }
        self.loading = false;
        match r {
            Ok(mut e) => {
                e.reverse();
                // The same entry stays under the cursor as new ones arrive on top.
                let at = self.entries.get(self.cursor).map(|x| x.id);
                self.entries = e;
                self.cursor = at
                    .and_then(|id| self.entries.iter().position(|x| x.id == id))
                    .unwrap_or(0);
                self.problem = None;
            }
            Err(why) => self.problem = Some(why),
        }
    }

    pub fn selected(&self) -> Option<&JournalEntry> {
        self.entries.get(self.cursor)
    }

    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        let n = self.entries.len();
        let last = n.saturating_sub(1);
        match keymap.typed(Context::Journal, key) {
            Typed::Action(Action::Quit) => return Reply::Quit,
            Typed::Action(Action::Back) if self.details => self.details = false,
            Typed::Action(Action::Back) => return Reply::Close,
            Typed::Action(Action::Details) => self.details = !self.details,
            Typed::Action(Action::Filter) => return Reply::Journal(JournalAsk::Filter(self.filter.clone())),
            Typed::Action(Action::Rerun) => {
                if let Some(e) = self.selected() {
                    return Reply::Journal(JournalAsk::Rerun(Box::new(e.clone())));
                }
            }
            Typed::Action(a) => super::move_cursor(&mut self.cursor, a, page, last),
            _ => {}
        }
        Reply::Keep
    }
}

fn status_style(s: &Status, t: &crate::theme::Theme) -> ratatui::style::Style {
    match s {
        Status::Applied => t.ok,
        Status::Pending => t.warn,
        _ => t.error,
    }
}

impl Component for JournalView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let r = popup(area, 94, 88);
        f.render_widget(Clear, r);
        let count = if self.loading {
            "reading…".to_string()
        } else {
            format!("{} entries", self.entries.len())
        };
        let b = block(title_line("journal", count, &self.filter, t), true, t);
        let inner = b.inner(r);
        f.render_widget(b, r);
        let w = usize::from(inner.width);
        let mut out: Vec<Line> = Vec::new();
        if let Some(p) = &self.problem {
            out.push(Line::styled(cut(p, w), t.error));
        }
        let detail_rows = if self.details {
            self.selected()
                .map_or(0, |e| e.items.len() + 4)
                .min(usize::from(inner.height) / 2)
        } else {
            0
        };
        let list_h = usize::from(inner.height).saturating_sub(detail_rows + out.len()).max(1);
        let top = self.cursor.saturating_sub(list_h.saturating_sub(1));
        for (i, e) in self.entries.iter().enumerate().skip(top).take(list_h) {
            let selected = i == self.cursor;
            let base = if selected { t.selected } else { t.text };
            let time = e.at.get(..19).unwrap_or(&e.at).replace('T', " ");
            out.push(Line::from(vec![
                Span::styled(if selected { "▸ " } else { "  " }, base),
                Span::styled(format!("{:>5} ", e.id), t.dim),
                Span::styled(format!("{time} "), t.dim),
                Span::styled(format!("{:<18}", cut(&e.actor, 17)), base),
                Span::styled(format!("{:<18}", cut(e.command.verb(), 17)), t.key),
                Span::styled(format!("{:<10}", e.status.word()), status_style(&e.status, t)),
                Span::styled(cut(&e.target, w.saturating_sub(84)), base),
            ]));
        }
        if self.entries.is_empty() && !self.loading {
            out.push(Line::styled("  no entries match", t.dim));
        }
        if let Some(e) = self.selected().filter(|_| self.details) {
            out.push(Line::styled("─".repeat(w), t.border));
            out.push(Line::from(vec![
                Span::styled(format!("entry {} · {} · ", e.id, e.command.verb()), t.title),
                Span::styled(e.status.word(), status_style(&e.status, t)),
                Span::styled(
                    format!(" · {}", cut(&kdeck_command::summary(e), w.saturating_sub(40))),
                    t.text,
                ),
            ]));
            out.push(Line::styled(
                format!(
                    "{} by {}{}",
                    e.at,
                    e.actor,
                    e.finished_at
                        .as_ref()
                        .map(|f| format!(", done {f}"))
                        .unwrap_or_default()
                ),
                t.dim,
            ));
            for item in &e.items {
                out.push(Line::from(vec![
                    Span::styled(
                        if item.ok { "  ✓ " } else { "  ✗ " },
                        if item.ok { t.ok } else { t.error },
                    ),
                    Span::styled(format!("{:<36}", cut(&item.item, 35)), t.text),
                    Span::styled(
                        cut(&item.message, w.saturating_sub(40)),
                        if item.ok { t.dim } else { t.error },
                    ),
                ]));
            }
        }
        f.render_widget(Paragraph::new(out), inner);
    }

    fn context(&self) -> Context {
        Context::Journal
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Details, "items"),
            (Action::Filter, "filter"),
            (Action::Rerun, "run again"),
            (Action::Back, "close"),
        ]
    }
}
