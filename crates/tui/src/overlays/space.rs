//! A space's settings: its quotas (used against hard) and default
//! requests, and its ConfigMaps and Secrets key by key, with the stored
//! apps that read each. Secret values are masked until revealed. From here:
//! the quota form, a key set (a form) or unset (after a question).

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Reply;
use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::cut;
use kdeck_command::config::{Store, masked};
use kdeck_command::quota::QuotaLine;
use kdeck_model::SpaceRef;

/// One ConfigMap or Secret with its keys and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub store: Store,
    pub name: String,
    pub entries: BTreeMap<String, String>,
    pub used_by: Vec<String>,
}

/// What the cluster answered for the space; each part on its own, so that
/// a user who may not read Secrets still sees the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceSettings {
    pub quota: Result<Vec<QuotaLine>, String>,
    pub defaults: BTreeMap<String, String>,
    pub objects: Vec<Object>,
    /// Why ConfigMaps or Secrets could not be read, each.
    pub unread: Vec<String>,
}

/// The key under the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub store: Store,
    pub object: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpaceView {
    pub id: RequestId,
    pub space: SpaceRef,
    pub answer: Option<Result<SpaceSettings, String>>,
    /// Index into the keys, in the order drawn.
    pub cursor: usize,
    pub reveal: bool,
}

impl SpaceView {
    pub fn new(id: RequestId, space: SpaceRef) -> Self {
        SpaceView {
            id,
            space,
            answer: None,
            cursor: 0,
            reveal: false,
        }
    }

    pub fn answered(&mut self, id: RequestId, r: Result<SpaceSettings, String>) {
        if id == self.id {
            self.answer = Some(r);
            self.cursor = self.cursor.min(self.keys().len().saturating_sub(1));
        }
    }

    /// Every key of every object, in the order drawn.
    fn keys(&self) -> Vec<Selected> {
        let Some(Ok(s)) = &self.answer else { return Vec::new() };
        s.objects
            .iter()
            .flat_map(|o| {
                o.entries.keys().map(|k| Selected {
                    store: o.store,
                    object: o.name.clone(),
                    key: k.clone(),
                })
            })
            .collect()
    }

    pub fn selected(&self) -> Option<Selected> {
        self.keys().get(self.cursor).cloned()
    }

    /// Hard limits and defaults as they are now, for the quota form.
    pub fn bounds(&self) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        match &self.answer {
            Some(Ok(s)) => (
                s.quota
                    .as_ref()
                    .map(|q| {
                        q.iter()
                            .filter(|l| l.quota == kdeck_command::quota::NAME)
                            .map(|l| (l.resource.clone(), l.hard.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
                s.defaults.clone(),
            ),
            _ => Default::default(),
        }
    }

    pub fn key(&mut self, key: Key, keymap: &Keymap, page: usize) -> Reply {
        let last = self.keys().len().saturating_sub(1);
        match keymap.typed(Context::Space, key) {
            Typed::Action(Action::Quit) => return Reply::Quit,
            Typed::Action(Action::Back) => return Reply::Close,
            Typed::Action(Action::Reveal) => self.reveal = !self.reveal,
            Typed::Action(a @ (Action::SetQuota | Action::SetKey | Action::UnsetKey)) => return Reply::Act(a),
            Typed::Action(a) => super::move_cursor(&mut self.cursor, a, page, last),
            _ => {}
        }
        Reply::Keep
    }
}

impl Component for SpaceView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let title = format!("space {}", self.space);
        let inner = super::framed(f, area, (92, 84), &title, cx, self.context(), self.commands());
        let w = usize::from(inner.width);
        let mut out: Vec<Line> = Vec::new();
        match &self.answer {
            None => out.push(Line::styled("reading…", t.dim)),
            Some(Err(why)) => out.push(Line::styled(cut(why, w), t.error)),
            Some(Ok(s)) => {
                out.push(Line::styled("quota", t.title));
                match &s.quota {
                    Err(why) => out.push(Line::styled(cut(&format!("  not read: {why}"), w), t.warn)),
                    Ok(lines) if lines.is_empty() => {
                        out.push(Line::styled("  none: the space is bounded only by its cluster", t.dim))
                    }
                    Ok(lines) => {
                        for l in lines {
                            let full = quota_full(l);
                            out.push(Line::from(vec![
                                Span::styled(format!("  {:<20}", cut(&l.resource, 19)), t.text),
                                Span::styled(
                                    format!("{:>10} / {:<10}", l.used, l.hard),
                                    if full { t.warn } else { t.text },
                                ),
                                Span::styled(cut(&format!(" {}", l.quota), w.saturating_sub(46)), t.dim),
                            ]));
                        }
                    }
                }
                if !s.defaults.is_empty() {
                    let d: Vec<String> = s.defaults.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    out.push(Line::styled(
                        cut(&format!("  defaults for containers that set none: {}", d.join(", ")), w),
                        t.dim,
                    ));
                }
                out.push(Line::styled("─".repeat(w), t.border));
                out.push(Line::styled(
                    if self.reveal {
                        "config and secrets (secrets revealed)"
                    } else {
                        "config and secrets"
                    },
                    t.title,
                ));
                for why in &s.unread {
                    out.push(Line::styled(cut(&format!("  {why}"), w), t.warn));
                }
                if s.objects.is_empty() && s.unread.is_empty() {
                    out.push(Line::styled("  none yet: set a key to make one", t.dim));
                }
                let mut i = 0;
                for o in &s.objects {
                    let kind = if o.store == Store::Secret { "secret" } else { "config" };
                    let users = if o.used_by.is_empty() {
                        String::new()
                    } else {
                        format!("  read by {}", o.used_by.join(", "))
                    };
                    out.push(Line::from(vec![
                        Span::styled(format!("  {kind:<7}"), t.dim),
                        Span::styled(o.name.clone(), t.key),
                        Span::styled(cut(&users, w.saturating_sub(o.name.len() + 9)), t.info),
                    ]));
                    for (k, v) in &o.entries {
                        let selected = i == self.cursor;
                        let base = if selected { t.selected } else { t.text };
                        let value = if o.store == Store::Secret && !self.reveal {
                            masked(v)
                        } else {
                            v.replace('\n', "⏎")
                        };
                        out.push(Line::from(vec![
                            Span::styled(if selected { "  ▸ " } else { "    " }, base),
                            Span::styled(format!("{:<24} ", cut(k, 23)), base),
                            Span::styled(cut(&value, w.saturating_sub(29)), t.dim),
                        ]));
                        i += 1;
                    }
                }
            }
        }
        f.render_widget(Paragraph::new(out), inner);
    }

    fn context(&self) -> Context {
        Context::Space
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::SetQuota, "quota"),
            (Action::SetKey, "set key"),
            (Action::UnsetKey, "unset"),
            (Action::Reveal, "reveal"),
            (Action::Back, "close"),
        ]
    }
}

/// Whether a quota resource is used up (used at or above hard).
fn quota_full(l: &QuotaLine) -> bool {
    let (u, h) = (
        kdeck_command::quota::amount(&l.resource, &l.used),
        kdeck_command::quota::amount(&l.resource, &l.hard),
    );
    matches!((u, h), (Some(u), Some(h)) if u >= h)
}
