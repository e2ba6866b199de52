//! What every part of the cockpit is: a component that draws itself from its
//! own state (and what the shell shares with it), and names the actions it
//! offers. Keys reach a component as actions of its keymap context (see
//! [`crate::keymap::Context`]); no component matches a key itself.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::cockpit::Cockpit;
use crate::keymap::{Action, Context};
use crate::theme::Theme;

/// What a component may read while it draws: the cockpit's shared state and
/// the colours. Drawing never waits and holds no lock.
pub struct Cx<'a> {
    pub cockpit: &'a Cockpit,
    pub theme: &'a Theme,
    /// Whether the component has the keys.
    pub focused: bool,
}

pub trait Component {
    /// Draws into `area`, a pure function of the state.
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx);
    /// The keymap context its keys are read in.
    fn context(&self) -> Context;
    /// The actions it offers, each with a word, for the key hints.
    fn commands(&self) -> &'static [(Action, &'static str)];
    /// An action read in its context, for the component itself (moving in
    /// a list, scrolling a log): `true` when it took it. The shell carries
    /// out the rest, the actions that span components. Popups, forms and the
    /// input line read keys instead (they take text), each with its own
    /// `key(key, keymap)`.
    fn event(&mut self, action: Action, page: usize) -> bool {
        let _ = (action, page);
        false
    }
}

/// The list moves every table pane takes for itself.
pub(crate) fn list_event<R: crate::widgets::table::Row>(
    table: &mut crate::widgets::table::Table<R>,
    action: Action,
    page: usize,
) -> bool {
    use crate::widgets::table::Nav;
    match action {
        a if a.is_move() => {
            table.navigate(action, page.max(1));
            true
        }
        Action::SortNext | Action::SortReverse => {
            table.sort(action == Action::SortReverse);
            true
        }
        _ => false,
    }
}
