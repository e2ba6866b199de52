//! The input line at the foot of the screen: the filter of a list, the
//! palette's text, or a search of the log. Its keys come through the
//! keymap's `input` context; any other character is typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};

/// What the text is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// The filter of the focused list.
    Filter,
    Palette,
    LogSearch,
    /// The journal view's filter (`actor:ana since:2h`), applied on enter.
    JournalFilter,
}

/// Text being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
}

/// What a key did to the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputReply {
    Nothing,
    /// The text changed.
    Changed,
    Accept,
    Cancel,
    Up,
    Down,
    Quit,
}

impl Input {
    pub fn new(kind: InputKind, text: String) -> Input {
        Input { kind, text }
    }

    pub fn key(&mut self, key: Key, keymap: &Keymap) -> InputReply {
        match keymap.typed(Context::Input, key) {
            Typed::Action(Action::Enter) => InputReply::Accept,
            Typed::Action(Action::Back) => InputReply::Cancel,
            Typed::Action(Action::Quit) => InputReply::Quit,
            Typed::Action(Action::Up) => InputReply::Up,
            Typed::Action(Action::Down) => InputReply::Down,
            Typed::Action(Action::DeleteBack) => {
                self.text.pop();
                InputReply::Changed
            }
            Typed::Action(Action::ClearLine) => {
                self.text.clear();
                InputReply::Changed
            }
            Typed::Text(c) => {
                self.text.push(c);
                InputReply::Changed
            }
            Typed::Action(_) | Typed::Nothing => InputReply::Nothing,
        }
    }
}

impl Component for Input {
    /// The line: what it is for, the text and a cursor, and its keys.
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let label = match self.kind {
            InputKind::Filter => "/",
            InputKind::Palette => ":",
            InputKind::LogSearch => "search: ",
            InputKind::JournalFilter => "journal (actor: cluster: space: command: since: until: failed) ",
        };
        let keys = |a| cx.cockpit.keymap.first_key(Context::Input, a);
        let line = Line::from(vec![
            Span::styled(label.to_string(), t.key),
            Span::styled(self.text.clone(), t.text),
            Span::styled("█", t.key),
            Span::styled(
                format!("   {} keep · {} clear", keys(Action::Enter), keys(Action::Back)),
                t.dim,
            ),
        ]);
        f.render_widget(Paragraph::new(line), area);
    }

    fn context(&self) -> Context {
        Context::Input
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[(Action::Enter, "keep"), (Action::Back, "clear")]
    }
}
