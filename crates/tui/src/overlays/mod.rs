//! Popups over the panes, one module each: help, a fetched text (YAML or a
//! description), a drift report, a question, the palette and the copy flow.
//! Each reads its keys in its own keymap context and answers with a
//! [`Reply`] for the shell.

pub mod confirm;
pub mod copy;
pub mod drift;
pub mod help;
pub mod journal;
pub mod market;
pub mod palette;
pub mod releases;
pub mod revisions;
pub mod roles;
pub mod run;
pub mod space;
pub mod text;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::component::{Component, Cx};
use crate::keymap::{Action, Key, Keymap};

pub use confirm::{Confirm, ConfirmQuit};
pub use copy::CopyFlow;
pub use drift::DriftView;
pub use help::Help;
pub use journal::JournalView;
pub use palette::{Palette, PaletteItem};
pub use roles::RolesView;
pub use run::{RunView, StepLogs};
pub use text::TextView;

/// A popup over the panes.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help(Help),
    /// YAML or a description, fetched from the cluster.
    Text(TextView),
    /// What differs between a stored app and its cluster.
    Drift(DriftView),
    /// A command that changes something, waiting for a yes.
    Confirm(Confirm),
    ConfirmQuit(ConfirmQuit),
    /// Its text is typed in the input line.
    Palette(Palette),
    /// Copying apps: targets, plan, progress.
    Copy(Box<CopyFlow>),
    /// A build run's task tree, live.
    Run(Box<RunView>),
    /// Who holds which role in a space or the marked spaces.
    Roles(Box<RolesView>),
    /// The journal, filtered.
    Journal(Box<JournalView>),
    /// An app's revisions and the cluster's rollout history.
    Revisions(Box<revisions::RevisionsView>),
    /// A space's quota, ConfigMaps and Secrets.
    Space(Box<space::SpaceView>),
    /// Charts of the catalogs and saved solutions.
    Market(Box<market::MarketView>),
    /// Helm releases across the fleet.
    Releases(Box<releases::ReleasesView>),
}

/// What a key did in a popup, for the shell to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Keep,
    Close,
    Quit,
    /// Run this command (it was confirmed).
    Run(Box<kdeck_command::Command>),
    /// Close, then act on the selected app (deploy or adopt from a drift report).
    Act(Action),
    /// The copy flow asks for work.
    Copy(copy::Ask),
    /// Close, then follow a build step's logs.
    StepLogs(StepLogs),
    /// The roles view asks for a grant form or a revoke.
    Roles(Box<roles::RolesAsk>),
    /// The journal view asks for its filter or a rerun.
    Journal(journal::JournalAsk),
}

impl Overlay {
    /// A key for the popup; `page` is how many rows a page scrolls.
    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        match self {
            Overlay::Help(h) => h.key(key, keymap, page),
            Overlay::Text(v) => v.key(key, keymap, page),
            Overlay::Drift(d) => d.key(key, keymap, page),
            Overlay::Confirm(c) => c.key(key, keymap),
            Overlay::ConfirmQuit(q) => q.key(key, keymap),
            // The palette's keys go to the input line.
            Overlay::Palette(_) => Reply::Keep,
            Overlay::Copy(flow) => Reply::Copy(flow.key(key, keymap)),
            Overlay::Run(r) => r.key(key, keymap),
            Overlay::Roles(v) => v.key(key, keymap),
            Overlay::Journal(v) => v.key(key, keymap, page),
            Overlay::Revisions(v) => v.key(key, keymap, page),
            Overlay::Space(v) => v.key(key, keymap, page),
            Overlay::Market(v) => v.key(key, keymap, page),
            Overlay::Releases(v) => v.key(key, keymap, page),
        }
    }

    fn component(&self) -> &dyn Component {
        match self {
            Overlay::Help(h) => h,
            Overlay::Text(v) => v,
            Overlay::Drift(d) => d,
            Overlay::Confirm(c) => c,
            Overlay::ConfirmQuit(q) => q,
            Overlay::Palette(p) => p,
            Overlay::Copy(flow) => flow.as_ref(),
            Overlay::Run(r) => r.as_ref(),
            Overlay::Roles(v) => v.as_ref(),
            Overlay::Journal(v) => v.as_ref(),
            Overlay::Revisions(v) => v.as_ref(),
            Overlay::Space(v) => v.as_ref(),
            Overlay::Market(v) => v.as_ref(),
            Overlay::Releases(v) => v.as_ref(),
        }
    }

    pub fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        self.component().draw(f, area, cx);
    }

    pub fn context(&self) -> crate::keymap::Context {
        self.component().context()
    }

    pub fn commands(&self) -> &'static [(Action, &'static str)] {
        self.component().commands()
    }
}

/// Scrolls a text popup by a list action; false when the action is not a scroll.
pub(crate) fn scroll(at: &mut usize, a: Action, page: usize) -> bool {
    let page = page.max(1);
    *at = match a {
        Action::Down => *at + 1,
        Action::Up => at.saturating_sub(1),
        Action::PageDown | Action::HalfPageDown => *at + page,
        Action::PageUp | Action::HalfPageUp => at.saturating_sub(page),
        Action::Top => 0,
        Action::Bottom => usize::MAX / 2,
        _ => return false,
    };
    true
}

/// A popup's frame over `area` (`w_pct` by `h_pct`): cleared, bordered,
/// titled with its keys as its `commands()` name them in `ctx`. Returns the
/// area inside.
pub(crate) fn framed(
    f: &mut Frame,
    area: Rect,
    (w_pct, h_pct): (u16, u16),
    title: &str,
    cx: &Cx,
    ctx: crate::keymap::Context,
    commands: &[(Action, &str)],
) -> Rect {
    use crate::widgets::{block, popup, title_line};
    let r = popup(area, w_pct, h_pct);
    f.render_widget(ratatui::widgets::Clear, r);
    let hints: Vec<String> = commands
        .iter()
        .map(|(a, word)| format!("{} {word}", cx.cockpit.keymap.first_key(ctx, *a)))
        .collect();
    let b = block(title_line(title, hints.join(" · "), "", cx.theme), true, cx.theme);
    let inner = b.inner(r);
    f.render_widget(b, r);
    inner
}

/// Moves a list popup's cursor by a list action, within `0..=last`.
pub(crate) fn move_cursor(cursor: &mut usize, a: Action, page: usize, last: usize) {
    let mut at = *cursor;
    if scroll(&mut at, a, page) {
        *cursor = at.min(last);
    }
}

/// The keys of a scrolling popup: scroll actions scroll, the quit chord
/// quits, any other key closes it.
pub(crate) fn scroll_or_close(at: &mut usize, key: Key, keymap: &Keymap, page: usize) -> Reply {
    use crate::keymap::{Context, Typed};
    match keymap.typed(Context::Overlay, key) {
        Typed::Action(Action::Quit) => Reply::Quit,
        Typed::Action(a) if scroll(at, a, page) => Reply::Keep,
        _ => Reply::Close,
    }
}

/// The commands of a scrolling popup, for the key hints.
pub(crate) const SCROLLING: &[(Action, &str)] = &[(Action::Down, "scroll"), (Action::Back, "close")];
