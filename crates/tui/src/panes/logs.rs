//! The logs pane: lines of an app, a pod or a build, followed live, with
//! search, wrap, timestamps and a container filter.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::component::{Component, Cx};
use crate::keymap::{Action, Context};
use crate::widgets::{block, cut, title_line};
use crate::widgets::{highlight, wrap_chars};
use kdeck_fleet::logs::{LineKind, LogBuffer, LogLine};

/// The logs pane: what is shown and how.
#[derive(Debug, Clone)]
pub struct LogsPane {
    pub title: String,
    pub buffer: LogBuffer,
    pub follow: bool,
    pub wrap: bool,
    pub timestamps: bool,
    pub search: String,
    /// Lines from the end when not following.
    pub scroll: usize,
    /// Only this container (`pod/container` sources); all when `None`.
    pub container: Option<String>,
    pub open: bool,
    /// What the last action has to say (a search that found nothing).
    pub notice: Option<String>,
}

impl LogsPane {
    pub fn new(cap: usize) -> Self {
        Self {
            title: String::new(),
            buffer: LogBuffer::new(cap),
            follow: true,
            wrap: false,
            timestamps: false,
            search: String::new(),
            scroll: 0,
            container: None,
            open: false,
            notice: None,
        }
    }

    /// The lines shown: the container filter applied.
    pub fn visible(&self) -> impl DoubleEndedIterator<Item = &LogLine> {
        let only = self.container.clone();
        self.buffer.iter().filter(move |l| match &only {
            Some(c) => l.kind != LineKind::Out || l.source.rsplit('/').next() == Some(c.as_str()),
            None => true,
        })
    }

    /// The containers seen so far, in first-seen order.
    pub fn containers(&self) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for l in self.buffer.iter() {
            if let Some((_, c)) = l.source.rsplit_once('/')
                && !seen.iter().any(|s| s == c)
            {
                seen.push(c.to_string());
            }
        }
        seen
    }

    /// The pane's own actions; a notice to show comes back.
    pub fn act(&mut self, a: Action, page: usize) -> Option<String> {
        match a {
            Action::Follow => {
                self.follow = !self.follow;
                self.scroll = 0;
            }
            Action::Wrap => self.wrap = !self.wrap,
            Action::Timestamps => self.timestamps = !self.timestamps,
            Action::NextMatch => return self.jump(true, page),
            Action::PrevMatch => return self.jump(false, page),
            Action::Container => {
                let cs = self.containers();
                self.container = match &self.container {
                    None => cs.first().cloned(),
                    Some(c) => cs.iter().skip_while(|x| *x != c).nth(1).cloned(),
                };
            }
            Action::Clear => self.buffer.clear(),
            other => self.scroll(other, page),
        }
        None
    }

    /// Starts showing a new source: an empty buffer, following.
    pub fn open(&mut self, title: String) {
        self.buffer = LogBuffer::new(self.buffer.capacity());
        self.title = title;
        self.open = true;
        self.follow = true;
        self.scroll = 0;
        self.container = None;
        self.search.clear();
    }

    /// A line arrived. Scrolled up, the view holds still.
    pub fn push(&mut self, l: LogLine) {
        if !self.follow && self.scroll > 0 {
            self.scroll += 1;
        }
        self.buffer.push(l);
    }

    fn scroll(&mut self, a: Action, page: usize) {
        let total = self.visible().count();
        // At most a pageful from the top: the oldest lines fill the pane.
        let max = total.saturating_sub(page.max(1));
        let s = &mut self.scroll;
        match a {
            Action::Up => *s = (*s + 1).min(max),
            Action::Down => *s = s.saturating_sub(1),
            Action::PageUp | Action::HalfPageUp => *s = (*s + page).min(max),
            Action::PageDown | Action::HalfPageDown => *s = s.saturating_sub(page),
            Action::Top => *s = max,
            Action::Bottom => *s = 0,
            _ => {}
        }
        // Scrolled up: hold still; back at the bottom: follow again.
        self.follow = self.scroll == 0;
    }

    /// Moves to the next (or previous) line matching the search; says so
    /// when none does.
    pub fn jump(&mut self, forward: bool, page: usize) -> Option<String> {
        if self.search.is_empty() {
            return None;
        }
        let lines: Vec<&LogLine> = self.visible().collect();
        let n = lines.len();
        if n == 0 {
            return None;
        }
        // Index from the top of the line at the bottom of the view now.
        let at = n - 1 - self.scroll.min(n - 1);
        let hit = |i: &usize| lines[*i].text.contains(self.search.as_str());
        let found = if forward {
            (at + 1..n).find(hit).or_else(|| (0..=at).find(hit))
        } else {
            (0..at).rev().find(hit).or_else(|| (at..n).rev().find(hit))
        };
        match found {
            Some(i) => {
                // The match at the bottom, unless that leaves the pane part empty.
                self.scroll = (n - 1 - i).min(n.saturating_sub(page.max(1)));
                self.follow = self.scroll == 0;
            }
            None => return Some(format!("no line matches {:?}", self.search)),
        }
        None
    }
}

impl Component for LogsPane {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let (c, t) = (cx.cockpit, cx.theme);
        let l = &c.logs;
        let mut detail = String::new();
        if l.open {
            detail.push_str(&l.title);
            detail.push_str(if l.follow { " · following" } else { " · paused" });
            detail.push_str(&format!(" · {} lines", l.buffer.len()));
            if l.buffer.dropped() > 0 {
                detail.push_str(&format!(" ({} dropped)", l.buffer.dropped()));
            }
            if let Some(cn) = &l.container {
                detail.push_str(&format!(" · container {cn}"));
            }
            if l.wrap {
                detail.push_str(" · wrap");
            }
        }
        let b = block(title_line("logs", detail, "", t), cx.focused, t);
        let inner = b.inner(area);
        f.render_widget(b, area);
        let h = usize::from(inner.height);
        let w = usize::from(inner.width);
        if !l.open {
            let hint = format!(
                "no logs open: select an app (or a pod, or a build) and press {}",
                c.keymap.hint(Context::List, Action::Logs)
            );
            f.render_widget(Paragraph::new(Line::styled(hint, t.dim)), inner);
            return;
        }
        let several = l
            .buffer
            .iter()
            .take(200)
            .any(|x| x.kind == LineKind::Out && !x.source.is_empty())
            && {
                let mut it = l.buffer.iter().filter(|x| x.kind == LineKind::Out).map(|x| &x.source);
                let first = it.next();
                it.any(|s| Some(s) != first)
            };
        // The lines that end at `scroll` from the bottom, wrapped if asked; a
        // scroll past the oldest pageful shows that pageful, never a part-empty pane.
        let total = l.visible().count();
        let scroll = if l.wrap {
            l.scroll
        } else {
            l.scroll.min(total.saturating_sub(h))
        };
        let mut rows: Vec<Line> = Vec::new();
        for line in l.visible().rev().skip(scroll) {
            if rows.len() >= h {
                break;
            }
            let base = match line.kind {
                LineKind::Out => t.text,
                LineKind::Notice => t.info,
                LineKind::Error => t.error,
            };
            let mut prefix = String::new();
            if l.timestamps
                && let Some(ts) = &line.time
            {
                prefix.push_str(ts);
                prefix.push(' ');
            }
            if (several || line.kind != LineKind::Out) && !line.source.is_empty() {
                prefix.push('[');
                prefix.push_str(&line.source);
                prefix.push_str("] ");
            }
            let text = if line.kind == LineKind::Out {
                line.text.clone()
            } else {
                format!("— {}", line.text)
            };
            let pieces = if l.wrap {
                wrap_chars(&format!("{prefix}{text}"), w)
            } else {
                vec![format!("{prefix}{text}")]
            };
            for (k, piece) in pieces.into_iter().enumerate().rev() {
                if rows.len() >= h {
                    break;
                }
                let shown = if l.wrap { piece } else { cut(&piece, w) };
                // The prefix in a quieter style; matches of the search highlighted.
                let pre_len = if k == 0 {
                    prefix.chars().count().min(shown.chars().count())
                } else {
                    0
                };
                let split = shown.char_indices().nth(pre_len).map_or(shown.len(), |(i, _)| i);
                let (p, body) = shown.split_at(split);
                let mut spans = vec![Span::styled(p.to_string(), t.dim)];
                spans.extend(
                    highlight(body, &l.search, base, t.match_)
                        .into_iter()
                        .map(|s| Span::styled(s.content.into_owned(), s.style)),
                );
                rows.push(Line::from(spans));
            }
        }
        rows.reverse();
        f.render_widget(Paragraph::new(rows), inner);
    }

    fn context(&self) -> Context {
        Context::Logs
    }

    /// Scrolling and the log's own actions (a notice, such as "no line
    /// matches", is kept for the shell to show).
    fn event(&mut self, action: Action, page: usize) -> bool {
        let own = matches!(
            action,
            Action::Follow
                | Action::Wrap
                | Action::Timestamps
                | Action::NextMatch
                | Action::PrevMatch
                | Action::Container
                | Action::Clear
        );
        if action.is_move() || own {
            self.notice = self.act(action, page);
        }
        action.is_move() || own
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Follow, "follow"),
            (Action::Wrap, "wrap"),
            (Action::Timestamps, "time"),
            (Action::Search, "search"),
            (Action::Container, "container"),
            (Action::Back, "back"),
            (Action::Help, "help"),
        ]
    }
}
