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
    pub fn event(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        scroll_or_close(&mut self.scroll, key, keymap, page)
    }
}

/// The help text: every binding of the keymap in use, by context.
pub fn help_lines(c: &Cockpit) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for w in &c.warnings {
        out.push(("warning".to_string(), w.clone()));
    }
    for ctx in Context::ALL {
        let mut first = true;
        for (cx, a, keys) in c.keymap.entries() {
            if cx != ctx {
                continue;
            }
            if first {
                out.push((format!("[{}]", ctx.name()), String::new()));
                first = false;
            }
            let ks = keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
            out.push((ks, format!("{} — {}", a.name(), a.help())));
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
            .map(|(k, h)| {
                if k == "warning" {
                    Line::from(vec![Span::styled("warning ", t.warn), Span::styled(h, t.text)])
                } else if h.is_empty() {
                    Line::styled(k, t.title)
                } else {
                    Line::from(vec![Span::styled(pad(&k, 18), t.key), Span::styled(h, t.text)])
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
