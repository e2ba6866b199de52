//! Questions: a change that waits for a yes, and quitting while commands run.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use super::Reply;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::{block, popup, title_line};

/// A command that changes something, waiting for a yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub question: String,
    pub command: Box<kdeck_command::Command>,
}

impl Confirm {
    /// Yes runs the command; the quit chord quits; any other key says no.
    pub fn key(&self, key: Key, keymap: &Keymap) -> Reply {
        match keymap.typed(Context::Confirm, key) {
            Typed::Action(Action::Yes) => Reply::Run(self.command.clone()),
            Typed::Action(Action::Quit) => Reply::Quit,
            _ => Reply::Close,
        }
    }
}

fn question(f: &mut Frame, area: Rect, cx: &Cx, title: &str, lines: Vec<Line>) {
    let t = cx.theme;
    let r = popup(area, 50, 20);
    f.render_widget(Clear, r);
    let b = block(title_line(title, String::new(), "", t), true, t);
    let inner = b.inner(r);
    f.render_widget(b, r);
    f.render_widget(Paragraph::new(lines), inner);
}

fn yes_no(cx: &Cx) -> String {
    format!("{} / n", cx.cockpit.keymap.first_key(Context::Confirm, Action::Yes))
}

impl Component for Confirm {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let text = vec![
            Line::styled(self.question.clone(), t.warn),
            Line::styled(yes_no(cx), t.text),
        ];
        question(f, area, cx, "confirm", text);
    }

    fn context(&self) -> Context {
        Context::Confirm
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[(Action::Yes, "yes")]
    }
}

/// Quitting while commands run: asks first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfirmQuit;

impl ConfirmQuit {
    /// Yes (or the quit chord again) quits; any other key stays.
    pub fn key(&self, key: Key, keymap: &Keymap) -> Reply {
        match keymap.typed(Context::Confirm, key) {
            Typed::Action(Action::Yes | Action::Quit) => Reply::Quit,
            _ => Reply::Close,
        }
    }
}

impl Component for ConfirmQuit {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let text = vec![
            Line::styled(format!("{} command(s) still running.", cx.cockpit.running), t.warn),
            Line::styled(format!("Quit anyway? {}", yes_no(cx)), t.text),
        ];
        question(f, area, cx, "quit?", text);
    }

    fn context(&self) -> Context {
        Context::Confirm
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[(Action::Yes, "quit")]
    }
}
