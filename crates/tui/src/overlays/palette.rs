//! The command palette: commands, themes, spaces and apps, fuzzy-matched as
//! the input line is typed into.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use crate::component::{Component, Cx};
use crate::keymap::{Action, Context};
use crate::widgets::table::Pattern;
use crate::widgets::{block, cut, pad, popup, title_line};
use kdeck_model::{AppRef, SpaceRef};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteItem {
    Command(&'static str, &'static str),
    Theme(&'static str),
    Space(SpaceRef),
    App(AppRef, &'static str),
}

impl PaletteItem {
    pub fn label(&self) -> String {
        match self {
            PaletteItem::Command(c, _) => (*c).to_string(),
            PaletteItem::Theme(t) => format!("theme {t}"),
            PaletteItem::Space(s) => format!("space {s}"),
            PaletteItem::App(a, _) => format!("app {a}"),
        }
    }
    pub fn help(&self) -> String {
        match self {
            PaletteItem::Command(_, h) => (*h).to_string(),
            PaletteItem::Theme(_) => "switch the colours".into(),
            PaletteItem::Space(_) => "show this space".into(),
            PaletteItem::App(_, kind) => format!("{kind}: show it in its space"),
        }
    }
}

pub const COMMANDS: &[(&str, &str)] = &[
    ("apps", "the apps pane"),
    ("routes", "the routes pane"),
    ("builds", "the builds pane"),
    ("logs", "the logs pane"),
    ("all", "every space on every cluster"),
    ("marks clear", "unmark every row"),
    (
        "builds setup",
        "put kdeck's build Pipeline and Tasks in the space in view (Tekton must run there)",
    ),
    (
        "roles",
        "who holds which role in the space under the cursor or the marked spaces; grant, revoke",
    ),
    (
        "journal",
        "every command run on this store: who, what, each item's result; filtered",
    ),
    ("help", "keys and what they do"),
    ("quit", "leave kdeck"),
];

/// The palette's state: every item, and what the typed text matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    pub items: Vec<PaletteItem>,
    /// The items' labels, made once when the palette opens.
    pub labels: Vec<String>,
    /// Every item that matched the text typed so far (typing on narrows it).
    pub matched: Vec<usize>,
    /// The text `matched` is for.
    pub query: String,
    /// The best of `matched`, ranked.
    pub shown: Vec<usize>,
    pub selected: usize,
}

fn matcher() -> SkimMatcherV2 {
    SkimMatcherV2::default().smart_case()
}

impl Palette {
    pub fn new(items: Vec<PaletteItem>) -> Palette {
        let labels = items.iter().map(PaletteItem::label).collect();
        let mut p = Palette {
            matched: (0..items.len()).collect(),
            items,
            labels,
            query: String::new(),
            shown: Vec::new(),
            selected: 0,
        };
        p.filter("");
        p
    }

    /// Ranks the palette's items by fuzzy score; the best 50 are shown. A
    /// cheap subsequence test picks the candidates (only those that matched
    /// the shorter text when typing on); fuzzy-matcher scores them.
    pub fn filter(&mut self, text: &str) {
        let Palette {
            labels,
            matched,
            query,
            shown,
            selected,
            ..
        } = self;
        *selected = 0;
        if text.is_empty() {
            *matched = (0..labels.len()).collect();
            *query = String::new();
            *shown = (0..labels.len().min(COMMANDS.len() + 3)).collect();
            return;
        }
        let candidates: Vec<usize> = if !query.is_empty() && text.starts_with(query.as_str()) {
            std::mem::take(matched)
        } else {
            (0..labels.len()).collect()
        };
        let pat = Pattern::new(text);
        *matched = candidates.into_iter().filter(|i| pat.matches(&[&labels[*i]])).collect();
        *query = text.to_string();
        let mut scored: Vec<(i64, usize)> = if text.chars().count() == 1 {
            // One letter says little: shortest labels first, no scoring.
            matched.iter().map(|i| (-(labels[*i].len() as i64), *i)).collect()
        } else {
            let m = matcher();
            matched
                .iter()
                .filter_map(|i| m.fuzzy_match(&labels[*i], text).map(|s| (s, *i)))
                .collect()
        };
        let n = scored.len().min(50);
        if n > 0 && scored.len() > n {
            scored.select_nth_unstable_by(n - 1, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            scored.truncate(n);
        }
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        *shown = scored.into_iter().map(|(_, i)| i).collect();
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn down(&mut self) {
        if self.selected + 1 < self.shown.len() {
            self.selected += 1;
        }
    }

    /// The item the selection is on.
    pub fn chosen(&self) -> Option<&PaletteItem> {
        self.shown.get(self.selected).and_then(|i| self.items.get(*i))
    }
}

impl Component for Palette {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let (c, t) = (cx.cockpit, cx.theme);
        let r = popup(area, 70, 60);
        let r = Rect {
            y: area.y + 2.min(area.height),
            ..r
        };
        f.render_widget(Clear, r);
        let typed = c.input.as_ref().map(|i| i.text.as_str()).unwrap_or("");
        let b = block(title_line("palette", format!(": {typed}█"), "", t), true, t);
        let inner = b.inner(r);
        f.render_widget(b, r);
        let w = usize::from(inner.width);
        let lines: Vec<Line> = self
            .shown
            .iter()
            .take(usize::from(inner.height))
            .enumerate()
            .filter_map(|(n, i)| self.items.get(*i).map(|it| (n, it)))
            .map(|(n, it)| {
                let label = it.label();
                let help = it.help();
                let text = format!("{} {}", pad(&label, w.saturating_sub(2) * 3 / 5), cut(&help, w * 2 / 5));
                let style = if n == self.selected { t.selected } else { t.text };
                Line::styled(pad(&text, w), style)
            })
            .collect();
        let lines = if lines.is_empty() {
            vec![Line::styled("nothing matches", t.dim)]
        } else {
            lines
        };
        f.render_widget(Paragraph::new(lines), inner);
    }

    fn context(&self) -> Context {
        Context::Input
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[(Action::Enter, "run"), (Action::Back, "close")]
    }
}
