//! Drawing: a pure function of the cockpit state and the theme, by region:
//! the header, the tree and the focused pane, the footer, then the popup
//! and the form on top. Components draw themselves from rows already built,
//! only the rows that fit, and never wait.

mod footer;
mod header;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

use crate::cockpit::{Cockpit, Focus};
use crate::component::{Component, Cx};
use crate::theme::Theme;

/// Draws the whole screen.
pub fn draw(f: &mut Frame, c: &Cockpit, t: &Theme) {
    let area = f.area();
    f.render_widget(Block::default().style(t.text), area);
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(area);
    header::draw(f, head, c, t);
    let tree_w = (area.width / 4).clamp(24, 36).min(area.width.saturating_sub(20));
    let [left, right] = Layout::horizontal([Constraint::Length(tree_w), Constraint::Min(10)]).areas(body);
    let cx = |focused| Cx {
        cockpit: c,
        theme: t,
        focused,
    };
    c.tree.draw(f, left, &cx(c.focus == Focus::Tree));
    c.focused_pane_of(c.pane).draw(f, right, &cx(c.focus == Focus::Pane));
    footer::draw(f, foot, c, t);
    if let Some(o) = &c.overlay {
        o.draw(f, area, &cx(true));
    }
    if let Some(form) = &c.form {
        form.draw(f, area, &cx(true));
    }
}

/// How many rows a list gets in a body of `height` rows: borders and header.
pub fn page_for(height: u16) -> usize {
    usize::from(height.saturating_sub(2 + 2 + 1))
}

/// Draws the cockpit into an off-screen buffer of `width` × `height`, as the
/// terminal would show it (snapshot tests, screenshots, benchmarks).
pub fn render(c: &Cockpit, t: &Theme, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let backend = ratatui::backend::TestBackend::new(width, height);
    match ratatui::Terminal::new(backend) {
        Ok(mut term) => {
            let _ = term.draw(|f| draw(f, c, t));
            term.backend().buffer().clone()
        }
        Err(_) => ratatui::buffer::Buffer::empty(Rect::new(0, 0, width, height)),
    }
}

/// The characters of a buffer, one line per row, trailing blanks cut.
pub fn buffer_text(b: &ratatui::buffer::Buffer) -> String {
    let area = b.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(b[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
