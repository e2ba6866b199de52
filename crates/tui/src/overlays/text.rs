//! A text popup: an object's YAML or description, fetched from its cluster.
//! It carries the id of its request, so that only that request's answer
//! fills it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use super::{Reply, scroll_or_close};
use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap};
use crate::widgets::{Tone, Toned, block, popup, title_line};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextView {
    /// The request whose answer this shows.
    pub id: RequestId,
    pub title: String,
    pub lines: Vec<Toned>,
    pub scroll: usize,
    pub loading: bool,
}

impl TextView {
    /// A popup waiting for the answer to request `id`.
    pub fn loading(id: RequestId, title: String, what: &str) -> TextView {
        TextView {
            id,
            title,
            lines: vec![(Tone::Text, what.to_string())],
            scroll: 0,
            loading: true,
        }
    }

    /// The answer came: its lines, or why there are none.
    pub fn answered(&mut self, result: Result<Vec<Toned>, kdeck_command::Failure>) {
        self.loading = false;
        self.lines = match result {
            Ok(l) => l,
            Err(e) => vec![(Tone::Error, format!("could not read it: {e}"))],
        };
    }

    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        scroll_or_close(&mut self.scroll, key, keymap, page)
    }
}

/// Draws a titled text popup scrolled to `scroll`.
pub(crate) fn draw_text(
    f: &mut Frame,
    area: Rect,
    cx: &Cx,
    title: &str,
    detail: String,
    lines: &[Toned],
    scroll: usize,
) {
    let t = cx.theme;
    let r = popup(area, 90, 90);
    f.render_widget(Clear, r);
    let b = block(title_line(title, detail, "", t), true, t);
    let inner = b.inner(r);
    f.render_widget(b, r);
    let h = usize::from(inner.height);
    let start = scroll.min(lines.len().saturating_sub(h));
    let shown: Vec<Line> = lines
        .iter()
        .skip(start)
        .take(h)
        .map(|(tone, l)| Line::styled(l.clone(), tone.style(t)))
        .collect();
    f.render_widget(Paragraph::new(shown), inner);
}

impl Component for TextView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let detail = if self.loading {
            "loading…".to_string()
        } else {
            format!("{} lines · esc closes", self.lines.len())
        };
        draw_text(f, area, cx, &self.title, detail, &self.lines, self.scroll);
    }

    fn context(&self) -> Context {
        Context::Overlay
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        super::SCROLLING
    }
}
