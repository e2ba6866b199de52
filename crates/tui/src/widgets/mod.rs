//! Drawing pieces shared by the components: bordered blocks with titles,
//! text cut or padded to a width, popups, search highlights.

pub mod table;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::theme::Theme;
use kdeck_fleet::live::Health;

pub fn block<'a>(title: Line<'a>, focused: bool, t: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(if focused { t.border_focus } else { t.border })
        .title(title)
}

pub fn title_line<'a>(name: &str, detail: String, filter: &str, t: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(format!(" {name} "), t.title)];
    if !detail.is_empty() {
        spans.push(Span::styled(format!("{detail} "), t.text));
    }
    if !filter.is_empty() {
        spans.push(Span::styled(format!("/{filter} "), t.key));
    }
    Line::from(spans)
}

pub fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    out.push('…');
    out
}

pub fn pad(s: &str, w: usize) -> String {
    let s = cut(s, w);
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

pub fn popup(area: Rect, w_pct: u16, h_pct: u16) -> Rect {
    let w = (area.width * w_pct / 100).max(40).min(area.width);
    let h = (area.height * h_pct / 100).max(8).min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Splits `s` at every match of `needle`, for highlighting.
pub fn highlight<'a>(s: &'a str, needle: &str, base: Style, hit: Style) -> Vec<Span<'a>> {
    if needle.is_empty() {
        return vec![Span::styled(s, base)];
    }
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(needle) {
        if i > 0 {
            out.push(Span::styled(&rest[..i], base));
        }
        out.push(Span::styled(&rest[i..i + needle.len()], hit));
        rest = &rest[i + needle.len()..];
    }
    if !rest.is_empty() {
        out.push(Span::styled(rest, base));
    }
    out
}

pub fn wrap_chars(s: &str, w: usize) -> Vec<String> {
    if w == 0 {
        return vec![String::new()];
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(w).map(|c| c.iter().collect()).collect()
}

pub fn count(table_len: usize, total: usize) -> String {
    if table_len == total {
        format!("{total}")
    } else {
        format!("{table_len} of {total}")
    }
}

pub fn ready_style(ready: i32, desired: i32, t: &Theme) -> Style {
    if ready >= desired {
        t.ok
    } else if ready == 0 && desired > 0 {
        t.error
    } else {
        t.warn
    }
}

pub fn health_mark(h: &Health, t: &Theme) -> Span<'static> {
    match h {
        Health::Live => Span::styled("●", t.ok),
        Health::Connecting => Span::styled("◌", t.dim),
        Health::Stale { .. } => Span::styled("◐", t.warn),
        Health::Unreachable { .. } => Span::styled("✖", t.error),
        Health::Forbidden { .. } => Span::styled("⊘", t.warn),
    }
}

/// How a line of a popup is drawn, decided where the line is made (never by
/// reading its text again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Heading,
    Text,
    Warn,
    Error,
}

impl Tone {
    pub fn style(self, t: &Theme) -> Style {
        match self {
            Tone::Heading => t.title,
            Tone::Text => t.text,
            Tone::Warn => t.warn,
            Tone::Error => t.error,
        }
    }
}

/// A line of a popup with its tone.
pub type Toned = (Tone, String);

/// A dry run's text as a text view shows it: its comments (`# note: …`,
/// `# delete …`) stand out, notes as warnings.
pub fn plan_lines(text: &str) -> Vec<Toned> {
    text.lines()
        .map(|l| {
            let tone = if l.starts_with("# note:") {
                Tone::Warn
            } else if l.starts_with('#') || l == "---" {
                Tone::Heading
            } else {
                Tone::Text
            };
            (tone, l.to_string())
        })
        .collect()
}
