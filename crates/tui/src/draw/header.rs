//! The header line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::cockpit::Cockpit;
use crate::theme::Theme;

/// The top line: the scope, production in view, cluster health, marks,
/// running commands, read-only.
pub fn draw(f: &mut Frame, area: Rect, c: &Cockpit, t: &Theme) {
    let mut spans = vec![
        Span::styled(" kdeck ", t.header.add_modifier(Modifier::BOLD)),
        Span::styled("│ ", t.header),
        Span::styled(c.scope.describe(), t.header.add_modifier(Modifier::BOLD)),
        Span::styled(" ", t.header),
    ];
    if c.prod_in_view() {
        spans.push(Span::styled(" PROD ", t.prod.add_modifier(Modifier::REVERSED)));
        spans.push(Span::styled(" ", t.header));
    }
    // The team's hub first: a down hub matters more than the counts.
    match &c.team {
        Some(kdeck_team::HubState::Live { hub, view_only: false }) => {
            spans.push(Span::styled(format!("│ team {hub} "), t.header));
        }
        Some(kdeck_team::HubState::Live { hub, view_only: true }) => {
            spans.push(Span::styled(format!("│ team {hub} "), t.header));
            spans.push(Span::styled(
                " TEAM VIEW-ONLY ",
                t.warn.add_modifier(Modifier::REVERSED),
            ));
        }
        Some(kdeck_team::HubState::Unreachable { hub, since, .. }) => {
            let since = since.get(11..19).unwrap_or(since);
            spans.push(Span::styled("│ ", t.header));
            spans.push(Span::styled(
                format!(" HUB {hub} DOWN SINCE {since} · TEAM READ-ONLY "),
                t.warn.add_modifier(Modifier::REVERSED),
            ));
        }
        None => {}
    }
    spans.push(Span::styled("│ ", t.header));
    let summary = c.health_summary();
    if summary.is_empty() {
        spans.push(Span::styled("no clusters ", t.header));
    }
    for (i, (word, n)) in summary.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.header));
        }
        spans.push(Span::styled(format!("{n} {word}"), t.header));
    }
    spans.push(Span::styled(" ", t.header));
    if !c.apps.marks.is_empty() {
        spans.push(Span::styled(format!("│ {} marked ", c.apps.marks.len()), t.header));
    }
    if c.running > 0 {
        spans.push(Span::styled(format!("│ {} running ", c.running), t.header));
    }
    if c.read_only {
        spans.push(Span::styled(" READ-ONLY ", t.warn.add_modifier(Modifier::REVERSED)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.header), area);
}
