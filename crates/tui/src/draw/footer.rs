//! The footer line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::cockpit::{Cockpit, Focus};
use crate::component::{Component, Cx};
use crate::keymap::Action;
use crate::panes::TreeRow;
use crate::theme::Theme;
use crate::widgets::health_mark;
use kdeck_fleet::live::Health;

/// The bottom line: the input line while typing; else why the cluster
/// under the cursor is not live; else the latest notice; else the keys of
/// the focused pane, from its commands and the keymap.
pub fn draw(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    if let Some(input) = &c.input {
        let cx = Cx {
            cockpit: c,
            theme: t,
            focused: true,
        };
        input.draw(f, area, &cx);
        return;
    }
    // On a cluster that is not live, the footer says why, in words.
    if c.focus == Focus::Tree
        && let Some(TreeRow::Cluster { name, health, .. }) = c.tree.table.current()
    {
        let said = match health {
            Health::Stale { since, why } => Some((format!("stale since {since}: {why}"), t.warn)),
            Health::Unreachable { since, why } => Some((format!("unreachable since {since}: {why}"), t.error)),
            Health::Forbidden { verb, why } => Some((format!("forbidden to {verb}: {why}"), t.warn)),
            Health::Connecting | Health::Live => None,
        };
        if let Some((text, style)) = said {
            let line = Line::from(vec![
                health_mark(health, t),
                Span::styled(format!(" {name} {text}"), style),
            ]);
            f.render_widget(Paragraph::new(line), area);
            return;
        }
    }
    if let Some(toast) = c.toasts.last() {
        let style = if toast.error { t.toast_error } else { t.toast };
        f.render_widget(Paragraph::new(Line::styled(format!(" {} ", toast.text), style)), area);
        return;
    }
    let pane = c.focused_pane();
    let ctx = pane.context();
    let actions = pane.commands();
    // Help first: on a narrow terminal the line is cut from the right.
    // What the user may not do here is struck through, after their role.
    let mut spans = Vec::new();
    let here = c.overlay.is_none().then(|| c.space_under_cursor()).flatten();
    let denied = |a: Action| c.denied_at(a, here.as_ref()).is_some();
    if let Some(space) = &here
        && let Some(role) = c.role_at(space)
        && actions.iter().any(|(a, _)| denied(*a))
    {
        spans.push(Span::styled(format!(" {role} in {space} "), t.warn));
    }
    for (a, label) in std::iter::once(&(Action::Help, "help")).chain(actions.iter().filter(|(a, _)| *a != Action::Help))
    {
        let k = c.keymap.hint(ctx, *a);
        if k.is_empty() {
            continue;
        }
        if denied(*a) {
            let off = t.dim.add_modifier(ratatui::style::Modifier::CROSSED_OUT);
            spans.push(Span::styled(format!(" {k}"), off));
            spans.push(Span::styled(format!(" {label} "), off));
            continue;
        }
        spans.push(Span::styled(format!(" {k}"), t.key));
        spans.push(Span::styled(format!(" {label} "), t.footer));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
