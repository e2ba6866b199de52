//! The help popup: every binding of the keymap in use, by context, with the
//! warnings about the user's keymap or theme files on top.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{Reply, scroll_or_close};
use crate::cockpit::Cockpit;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap};
use crate::widgets::{block, pad, popup, title_line};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Help {
    pub scroll: usize,
}

impl Help {
    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        scroll_or_close(&mut self.scroll, key, keymap, page)
    }
}

/// A line of the help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    /// What was wrong with the user's keymap or theme files.
    Warning(String),
    /// A context's heading: `[list]`.
    Context(&'static str),
    /// Keys, and the action they run with its help.
    Binding { keys: String, what: String },
}

/// The help text: every binding of the keymap in use, by context.
pub fn help_lines(c: &Cockpit) -> Vec<HelpLine> {
    let mut out: Vec<HelpLine> = c.warnings.iter().cloned().map(HelpLine::Warning).collect();
    for ctx in Context::ALL {
        let mut first = true;
        for (cx, a, keys) in c.keymap.entries() {
            if cx != ctx {
                continue;
            }
            if first {
                out.push(HelpLine::Context(ctx.name()));
                first = false;
            }
            out.push(HelpLine::Binding {
                keys: keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
                what: format!("{} — {}", a.name(), a.help()),
            });
        }
    }
    out
}

impl Component for Help {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let r = popup(area, 80, 85);
        f.render_widget(Clear, r);
        let b = block(
            title_line("help", "keys of the keymap in use · esc closes".into(), "", t),
            true,
            t,
        );
        let inner = b.inner(r);
        f.render_widget(b, r);
        let lines: Vec<Line> = help_lines(cx.cockpit)
            .into_iter()
            .skip(self.scroll)
            .take(usize::from(inner.height))
            .map(|l| match l {
                HelpLine::Warning(w) => Line::from(vec![Span::styled("warning ", t.warn), Span::styled(w, t.text)]),
                HelpLine::Context(name) => Line::styled(format!("[{name}]"), t.title),
                HelpLine::Binding { keys, what } => {
                    Line::from(vec![Span::styled(pad(&keys, 18), t.key), Span::styled(what, t.text)])
                }
            })
            .collect();
        f.render_widget(Paragraph::new(lines), inner);
    }

    fn context(&self) -> Context {
        Context::Overlay
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        super::SCROLLING
    }
}
