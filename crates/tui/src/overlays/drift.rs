//! The drift popup: what differs between a stored app and its cluster, with
//! the keys that reconcile (deploy) or adopt from it.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::text::draw_text;
use super::{Reply, scroll};
use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::{Tone, Toned};
use kdeck_model::AppRef;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftView {
    /// The request whose answer this shows.
    pub id: RequestId,
    pub app: AppRef,
    pub lines: Vec<Toned>,
    pub scroll: usize,
    pub loading: bool,
}

impl DriftView {
    pub fn loading(id: RequestId, app: AppRef) -> DriftView {
        DriftView {
            id,
            app,
            lines: vec![(Tone::Text, "comparing with the cluster…".into())],
            scroll: 0,
            loading: true,
        }
    }

    /// The report came: its lines, or why there is none.
    pub fn answered(
        &mut self,
        report: Result<&[kdeck_command::apps::ObjectDrift], &kdeck_command::Failure>,
        keymap: &Keymap,
    ) {
        self.loading = false;
        self.lines = match report {
            Ok(d) => drift_lines(d, keymap),
            Err(e) => vec![(Tone::Error, format!("could not read it: {e}"))],
        };
    }

    /// Deploy and adopt act on the app; the list keys scroll; the quit
    /// chord quits; any other key closes.
    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        match keymap.typed(Context::Overlay, key) {
            Typed::Action(Action::Quit) => Reply::Quit,
            Typed::Action(a @ (Action::Deploy | Action::Adopt)) => Reply::Act(a),
            Typed::Action(a) if scroll(&mut self.scroll, a, page) => Reply::Keep,
            _ => Reply::Close,
        }
    }
}

/// A drift report for the popup, with the keys that act on it.
pub fn drift_lines(d: &[kdeck_command::apps::ObjectDrift], keymap: &Keymap) -> Vec<Toned> {
    let mut out = Vec::new();
    let mut differs = false;
    for o in d {
        let changed = o.action != "unchanged";
        out.push((
            if changed { Tone::Heading } else { Tone::Text },
            format!("{:<28} {}", o.object, o.action),
        ));
        differs |= changed;
        let w = o.changes.iter().map(|c| c.path.len()).max().unwrap_or(0).min(48);
        for ch in &o.changes {
            out.push((
                Tone::Warn,
                format!("  {:<w$}  kdeck: {}  cluster: {}", ch.path, ch.ours, ch.cluster),
            ));
        }
    }
    out.push((Tone::Text, String::new()));
    if differs {
        out.push((
            Tone::Text,
            format!(
                "{}  deploy kdeck's settings over the cluster (reconcile)",
                keymap.hint(Context::List, Action::Deploy)
            ),
        ));
        out.push((
            Tone::Text,
            format!(
                "{}  take the cluster's version into kdeck (adopt)",
                keymap.hint(Context::List, Action::Adopt)
            ),
        ));
    } else {
        out.push((Tone::Text, "the cluster runs kdeck's settings".to_string()));
    }
    out
}

impl Component for DriftView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let detail = if self.loading {
            "loading…".to_string()
        } else {
            format!("{} lines · esc closes", self.lines.len())
        };
        draw_text(
            f,
            area,
            cx,
            &format!("drift {}", self.app),
            detail,
            &self.lines,
            self.scroll,
        );
    }

    fn context(&self) -> Context {
        Context::Overlay
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Deploy, "reconcile"),
            (Action::Adopt, "adopt"),
            (Action::Back, "close"),
        ]
    }
}
