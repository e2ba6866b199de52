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
}
