//! The marketplace: every chart of the catalogs and every saved solution,
//! filtered fuzzily as you type (name, description, keywords). Enter
//! installs the one under the cursor (a form); catalogs are added and read
//! again from here.

use fuzzy_matcher::FuzzyMatcher;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Reply;
use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::cut;
use kdeck_command::catalogs::Offer;

#[derive(Debug, Clone, PartialEq)]
pub struct MarketView {
    /// The read this view waits for; an older answer is dropped.
    pub id: RequestId,
    /// Every offer, as read; `None` until then.
    pub offers: Option<Result<Vec<Offer>, String>>,
    /// What is typed: the fuzzy filter.
    pub query: String,
    /// Indexes into the offers that match, best first.
    pub shown: Vec<usize>,
    pub cursor: usize,
}

impl MarketView {
    pub fn new(id: RequestId) -> Self {
        MarketView {
            id,
            offers: None,
            query: String::new(),
            shown: Vec::new(),
            cursor: 0,
        }
    }

    pub fn answered(&mut self, id: RequestId, r: Result<Vec<Offer>, String>) {
        if id != self.id {
            return;
        }
        self.offers = Some(r);
        self.refilter();
    }

    fn refilter(&mut self) {
        let Some(Ok(offers)) = &self.offers else {
            self.shown.clear();
            return;
        };
        let m = fuzzy_matcher::skim::SkimMatcherV2::default();
        let mut scored: Vec<(i64, usize)> = offers
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                if self.query.is_empty() {
                    return Some((0, i));
                }
                let text = format!("{} {} {}", o.chart, o.description, o.keywords.join(" "));
                let name = m.fuzzy_match(&o.chart, &self.query).map(|s| s * 2);
                name.max(m.fuzzy_match(&text, &self.query)).map(|s| (s, i))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.shown = scored.into_iter().map(|(_, i)| i).collect();
        self.cursor = self.cursor.min(self.shown.len().saturating_sub(1));
    }

    /// The offer under the cursor.
    pub fn selected(&self) -> Option<&Offer> {
        let Some(Ok(offers)) = &self.offers else { return None };
        offers.get(*self.shown.get(self.cursor)?)
    }

    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        let last = self.shown.len().saturating_sub(1);
        match keymap.typed(Context::Market, key) {
            Typed::Action(Action::Quit) => return Reply::Quit,
            Typed::Action(Action::Back) => return Reply::Close,
            Typed::Action(a @ (Action::Install | Action::AddCatalog | Action::Refresh)) => return Reply::Act(a),
            Typed::Action(Action::DeleteBack) => {
                self.query.pop();
                self.refilter();
            }
            Typed::Action(a) => super::move_cursor(&mut self.cursor, a, page, last),
            Typed::Text(c) => {
                self.query.push(c);
                self.cursor = 0;
                self.refilter();
            }
            Typed::Nothing => {}
        }
        Reply::Keep
    }
}

impl Component for MarketView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let inner = super::framed(f, area, (90, 80), "marketplace", cx, self.context(), self.commands());
        let w = usize::from(inner.width);
        let mut out: Vec<Line> = vec![Line::from(vec![
            Span::styled("search: ", t.dim),
            Span::styled(format!("{}▏", self.query), t.text),
        ])];
        match &self.offers {
            None => out.push(Line::styled("reading the catalogs…", t.dim)),
            Some(Err(why)) => out.push(Line::styled(cut(why, w), t.error)),
            Some(Ok(offers)) if offers.is_empty() => out.push(Line::styled(
                "no catalogs yet and no saved solutions: add a catalog (a Helm repository's URL)",
                t.dim,
            )),
            Some(Ok(offers)) => {
                out.push(Line::styled(
                    format!(
                        "  {:<18} {:<11} {:<9} {:<8} DESCRIPTION",
                        "NAME", "CATALOG", "VERSION", "APP"
                    ),
                    t.dim,
                ));
                let h = usize::from(inner.height).saturating_sub(2);
                let top = self.cursor.saturating_sub(h.saturating_sub(1));
                for (row, i) in self.shown.iter().enumerate().skip(top).take(h) {
                    let Some(o) = offers.get(*i) else { continue };
                    let selected = row == self.cursor;
                    let base = if selected { t.selected } else { t.text };
                    let description = if o.deprecated {
                        format!("(deprecated) {}", o.description)
                    } else if o.solution {
                        format!("{} · apps {}", o.description, o.keywords.join(", "))
                    } else {
                        o.description.clone()
                    };
                    out.push(Line::from(vec![
                        Span::styled(if selected { "▸ " } else { "  " }, base),
                        Span::styled(format!("{:<18} ", cut(&o.chart, 18)), base),
                        Span::styled(format!("{:<11} ", cut(&o.catalog, 11)), t.key),
                        Span::styled(format!("{:<9} ", cut(&o.version, 9)), base),
                        Span::styled(format!("{:<8} ", cut(&o.app_version, 8)), t.dim),
                        Span::styled(cut(&description, w.saturating_sub(51)), t.dim),
                    ]));
                }
                if self.shown.is_empty() {
                    out.push(Line::styled(format!("nothing matches {:?}", self.query), t.dim));
                }
            }
        }
        f.render_widget(Paragraph::new(out), inner);
    }

    fn context(&self) -> Context {
        Context::Market
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Install, "install"),
            (Action::AddCatalog, "add catalog"),
            (Action::Refresh, "refresh"),
            (Action::Back, "close"),
        ]
    }
}
