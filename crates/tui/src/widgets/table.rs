//! The reusable table: rows that filter (fuzzy), sort and keep the selection
//! on the same row while rows move, drawn window-only with columns that fit
//! the width. The rows themselves are built by each pane.

use std::cmp::Ordering;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, pad};
use crate::keymap::Action;
use crate::theme::Theme;

/// What a table needs of its rows.
pub trait Row: Clone {
    const COLUMNS: &'static [&'static str];
    /// The texts the filter matches against, in order (empty ones ignored).
    fn parts(&self) -> [&str; 4];
    /// The same object (for keeping the selection), whatever changed in it.
    fn same(&self, other: &Self) -> bool;
    fn cmp_by(&self, other: &Self, column: usize) -> Ordering;
    /// Shown whatever the filter says (group headers).
    fn always_shown(&self) -> bool {
        false
    }
}

/// A compiled fuzzy pattern: smart-case subsequence matching (every
/// character of the pattern in order; upper case in the pattern makes it
/// case-sensitive). This is the fuzzy filter's acceptance test, made cheap
/// enough for 100,000 rows per keystroke: no allocation per row, bytes
/// compared directly when the pattern is ASCII.
#[derive(Debug, Clone)]
pub struct Pattern {
    chars: Vec<char>,
    bytes: Vec<u8>,
    ascii: bool,
    sensitive: bool,
}

impl Pattern {
    pub fn new(pattern: &str) -> Pattern {
        let sensitive = pattern.chars().any(char::is_uppercase);
        let chars: Vec<char> = if sensitive {
            pattern.chars().collect()
        } else {
            pattern.chars().flat_map(char::to_lowercase).collect()
        };
        let ascii = chars.iter().all(char::is_ascii);
        let bytes = if ascii {
            chars.iter().map(|c| *c as u8).collect()
        } else {
            Vec::new()
        };
        Pattern {
            chars,
            bytes,
            ascii,
            sensitive,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Whether a text's bytes contain the pattern, for an ASCII pattern.
    fn matches_bytes(&self, hay: &[u8]) -> bool {
        // One loop per case, so that the byte loop has no branch on it.
        fn find(want: &[u8], hay: &[u8], fold: impl Fn(u8) -> u8) -> bool {
            let mut want = want.iter();
            let Some(mut next) = want.next() else {
                return true;
            };
            for &b in hay {
                if fold(b) == *next {
                    match want.next() {
                        Some(w) => next = w,
                        None => return true,
                    }
                }
            }
            false
        }
        if self.sensitive {
            find(&self.bytes, hay, |b| b)
        } else {
            find(&self.bytes, hay, |b| b.to_ascii_lowercase())
        }
    }

    /// Whether the parts, read one after the other, contain the pattern.
    pub fn matches(&self, parts: &[&str]) -> bool {
        if self.chars.is_empty() {
            return true;
        }
        let mut i = 0;
        if self.ascii {
            let want = &self.bytes;
            for p in parts {
                for b in p.bytes() {
                    let b = if self.sensitive { b } else { b.to_ascii_lowercase() };
                    if b == want[i] {
                        i += 1;
                        if i == want.len() {
                            return true;
                        }
                    }
                }
            }
            return false;
        }
        for p in parts {
            for h in p.chars() {
                let hit = if self.sensitive {
                    h == self.chars[i]
                } else {
                    h.to_lowercase().eq(std::iter::once(self.chars[i]))
                };
                if hit {
                    i += 1;
                    if i == self.chars.len() {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// [`Pattern::matches`] on one text.
pub fn fuzzy_contains(hay: &str, pattern: &str) -> bool {
    Pattern::new(pattern).matches(&[hay])
}

/// A filtered, sorted list with a cursor and a scroll offset.
#[derive(Debug, Clone)]
pub struct Table<R> {
    all: Vec<R>,
    /// Every row's filter text, back to back (`hay_at[i]..hay_at[i + 1]`),
    /// made when a filter first needs it: one linear scan per keystroke.
    hay: Vec<u8>,
    hay_at: Vec<usize>,
    /// Indexes into `all`: what passes the filter, in sort order.
    shown: Vec<usize>,
    pub cursor: usize,
    pub offset: usize,
    filter: String,
    /// Column and reversed; `None` is the natural order.
    pub sort: Option<(usize, bool)>,
}

impl<R> Default for Table<R> {
    fn default() -> Self {
        Self {
            all: Vec::new(),
            hay: Vec::new(),
            hay_at: Vec::new(),
            shown: Vec::new(),
            cursor: 0,
            offset: 0,
            filter: String::new(),
            sort: None,
        }
    }
}

impl<R: Row> Table<R> {
    /// New rows; the cursor stays on the row it was on when that row is still there.
    pub fn set_rows(&mut self, rows: Vec<R>) {
        let selected = self.current().cloned();
        self.all = rows;
        self.hay.clear();
        self.hay_at.clear();
        self.reshape();
        if let Some(s) = selected
            && let Some(i) = self.shown.iter().position(|&i| self.all[i].same(&s))
        {
            self.cursor = i;
        }
        self.clamp();
    }

    fn reshape(&mut self) {
        self.filter_from((0..self.all.len()).collect());
    }

    /// Filters `candidates` (indexes into `all`, in order) and sorts.
    fn filter_from(&mut self, candidates: Vec<usize>) {
        let pat = Pattern::new(&self.filter);
        if !pat.is_empty() && pat.ascii && self.hay_at.is_empty() {
            self.hay_at.reserve(self.all.len() + 1);
            self.hay.reserve(self.all.len() * 48);
            for r in &self.all {
                self.hay_at.push(self.hay.len());
                for p in r.parts() {
                    self.hay.extend_from_slice(p.as_bytes());
                }
            }
            self.hay_at.push(self.hay.len());
        }
        let all = &self.all;
        let (hay, at) = (&self.hay, &self.hay_at);
        // In place: the candidates' own buffer keeps the rows that match.
        let mut shown = candidates;
        if pat.ascii && !pat.is_empty() {
            shown.retain(|&i| all[i].always_shown() || pat.matches_bytes(&hay[at[i]..at[i + 1]]));
        } else if !pat.is_empty() {
            shown.retain(|&i| all[i].always_shown() || pat.matches(&all[i].parts()));
        }
        self.shown = shown;
        if let Some((col, rev)) = self.sort {
            self.shown.sort_by(|a, b| {
                let o = all[*a].cmp_by(&all[*b], col);
                if rev { o.reverse() } else { o }
            });
        }
    }

    fn clamp(&mut self) {
        if self.cursor >= self.shown.len() {
            self.cursor = self.shown.len().saturating_sub(1);
        }
    }

    pub fn reset(&mut self) {
        self.cursor = 0;
        self.offset = 0;
        self.filter.clear();
    }

    pub fn current(&self) -> Option<&R> {
        self.shown.get(self.cursor).map(|i| &self.all[*i])
    }

    pub fn visible(&self) -> impl Iterator<Item = &R> {
        self.shown.iter().map(|i| &self.all[*i])
    }

    pub fn len(&self) -> usize {
        self.shown.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    pub fn total(&self) -> usize {
        self.all.len()
    }

    /// Rows `offset..offset+height`, the scroll window drawn.
    pub fn window(&self, height: usize) -> (usize, impl Iterator<Item = (usize, &R)>) {
        // Keep the cursor in view even if the height changed since the last key.
        let mut offset = self.offset.min(self.cursor);
        if height > 0 && self.cursor >= offset + height {
            offset = self.cursor + 1 - height;
        }
        (
            offset,
            self.shown
                .iter()
                .enumerate()
                .skip(offset)
                .take(height)
                .map(|(pos, i)| (pos, &self.all[*i])),
        )
    }

    pub fn select_where(&mut self, f: impl Fn(&R) -> bool) {
        if let Some(i) = self.shown.iter().position(|&i| f(&self.all[i])) {
            self.cursor = i;
        }
    }
}

/// Navigation, filter and sort, the same for every list (object-safe so the
/// state can hand out whichever list has the keys).
pub trait Nav {
    fn navigate(&mut self, a: Action, page: usize);
    fn set_filter(&mut self, text: String);
    fn filter(&self) -> &str;
    fn sort(&mut self, reverse: bool);
}

impl<R: Row> Nav for Table<R> {
    fn navigate(&mut self, a: Action, page: usize) {
        let n = self.shown.len();
        if n == 0 {
            return;
        }
        let last = n - 1;
        let c = self.cursor;
        self.cursor = match a {
            Action::Up => c.saturating_sub(1),
            Action::Down => (c + 1).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            Action::PageUp => c.saturating_sub(page),
            Action::PageDown => (c + page).min(last),
            Action::HalfPageUp => c.saturating_sub(page / 2),
            Action::HalfPageDown => (c + page / 2).min(last),
            _ => c,
        };
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + page {
            self.offset = self.cursor + 1 - page;
        }
    }

    fn set_filter(&mut self, text: String) {
        if text == self.filter {
            return;
        }
        let selected = self.current().cloned();
        // Typing on: only the rows shown now can still match (sorted already).
        let narrowing = !self.filter.is_empty() && text.starts_with(self.filter.as_str());
        self.filter = text;
        if narrowing {
            let shown = std::mem::take(&mut self.shown);
            let sort = self.sort.take();
            self.filter_from(shown);
            self.sort = sort;
        } else {
            self.reshape();
        }
        self.cursor = selected
            .and_then(|s| self.shown.iter().position(|&i| self.all[i].same(&s)))
            .unwrap_or(0);
        self.offset = 0;
        self.clamp();
    }

    fn filter(&self) -> &str {
        &self.filter
    }

    /// `sort_next` walks the columns (then back to the natural order);
    /// `sort_reverse` flips the direction.
    fn sort(&mut self, reverse: bool) {
        self.sort = match (self.sort, reverse) {
            (None, false) => Some((0, false)),
            (Some((c, r)), false) if c + 1 < R::COLUMNS.len() => Some((c + 1, r)),
            (Some(_), false) => None,
            (None, true) => Some((0, true)),
            (Some((c, r)), true) => Some((c, !r)),
        };
        let selected = self.current().cloned();
        self.reshape();
        if let Some(s) = selected
            && let Some(i) = self.shown.iter().position(|&i| self.all[i].same(&s))
        {
            self.cursor = i;
        }
    }
}

/// A column: header, width, whether it grows into spare room, and whether
/// it stays when the pane is narrow (the others go, rightmost first).
pub struct Col {
    pub head: &'static str,
    pub width: usize,
    pub flex: bool,
    pub essential: bool,
}

pub const fn col(head: &'static str, width: usize, flex: bool, essential: bool) -> Col {
    Col {
        head,
        width,
        flex,
        essential,
    }
}

fn fit(cols: &[Col], total: usize) -> Vec<(usize, usize)> {
    let mut keep: Vec<usize> = (0..cols.len()).collect();
    let need = |keep: &[usize]| keep.iter().map(|i| cols[*i].width + 1).sum::<usize>();
    while need(&keep) > total {
        match keep.iter().rposition(|i| !cols[*i].essential) {
            Some(p) => {
                keep.remove(p);
            }
            None => break,
        }
    }
    // Spare room goes to the growing columns, in proportion to their width.
    let spare = total.saturating_sub(need(&keep));
    let flex_total: usize = keep
        .iter()
        .filter(|i| cols[**i].flex)
        .map(|i| cols[*i].width)
        .sum::<usize>()
        .max(1);
    keep.into_iter()
        .map(|i| {
            let c = &cols[i];
            let w = if c.flex {
                c.width + spare * c.width / flex_total
            } else {
                c.width
            };
            (i, w)
        })
        .collect()
}

/// Draws a table's window: header, rows with selection and marks.
#[allow(clippy::too_many_arguments)]
pub fn draw_table<R: Row>(
    f: &mut Frame,
    area: Rect,
    table: &Table<R>,
    cols: &[Col],
    focused: bool,
    t: &Theme,
    title: Line,
    empty: &str,
    cells: impl Fn(&R) -> (Vec<(String, Style)>, bool),
) {
    let b = block(title, focused, t);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let w = usize::from(inner.width);
    let layout = fit(cols, w.saturating_sub(2));
    let mut lines = Vec::new();
    let mut head = vec![Span::raw("  ")];
    for (i, cw) in &layout {
        let mut h = cols[*i].head.to_string();
        if let Some((sc, rev)) = table.sort
            && sc == *i
        {
            h.push(if rev { '▼' } else { '▲' });
        }
        head.push(Span::styled(pad(&h, *cw), t.column));
        head.push(Span::raw(" "));
    }
    lines.push(Line::from(head));
    let (_, rows) = table.window(usize::from(inner.height.saturating_sub(1)));
    for (pos, r) in rows {
        let (cells, marked) = cells(r);
        let selected = pos == table.cursor;
        let mut spans = vec![Span::styled(if marked { "✓ " } else { "  " }, t.marked)];
        for (i, cw) in &layout {
            let (text, style) = cells.get(*i).cloned().unwrap_or_default();
            let style = if marked && *i == 0 { t.marked } else { style };
            spans.push(Span::styled(pad(&text, *cw), style));
            spans.push(Span::raw(" "));
        }
        let used: usize = 2 + layout.iter().map(|(_, cw)| cw + 1).sum::<usize>();
        if selected {
            let sel = if focused { t.selected } else { t.selected_unfocused };
            spans = spans.into_iter().map(|s| s.patch_style(sel)).collect();
            spans.push(Span::styled(" ".repeat(w.saturating_sub(used)), sel));
        }
        lines.push(Line::from(spans));
    }
    if table.is_empty() {
        lines.push(Line::styled(format!("  {empty}"), t.dim));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_contains_is_smart_case_subsequence() {
        assert!(fuzzy_contains("prod-eu1/shop-prod web", "shpweb"));
        assert!(fuzzy_contains("Web", "web"));
        assert!(!fuzzy_contains("web", "Web"), "upper case in the pattern is exact");
        assert!(!fuzzy_contains("web", "wbe"));
        assert!(fuzzy_contains("anything", ""));
    }
}
