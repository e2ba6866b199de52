//! The roles of a space, or of the marked spaces: who holds manager,
//! developer and auditor there (every RoleBinding, kdeck's or not, the
//! others as custom with their role's name). Grant opens a form for all the
//! spaces shown; revoke asks first. The list is read again after each.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Reply;
use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::cut;
use kdeck_command::roles::Holder;
use kdeck_model::SpaceRef;

/// What one space answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpaceRoles {
    Holders(Vec<RoleLine>),
    /// The server's reason (a 403 for a user who may not read bindings).
    Failed(String),
}

/// One holder of a role in a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleLine {
    pub role: String,
    pub role_ref: String,
    pub subject: String,
    pub binding: String,
    pub kdeck: bool,
}

impl From<Holder> for RoleLine {
    fn from(h: Holder) -> Self {
        RoleLine {
            role: h.role,
            role_ref: h.role_ref,
            subject: h.subject,
            binding: h.binding,
            kdeck: h.kdeck,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolesView {
    /// The read this view waits for; an older answer is dropped.
    pub id: RequestId,
    pub spaces: Vec<SpaceRef>,
    /// `None` until the space answered.
    pub answers: Vec<(SpaceRef, Option<SpaceRoles>)>,
    /// Index into [`RolesView::holders`].
    pub cursor: usize,
}

/// What the roles view asks the shell for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolesAsk {
    /// A grant form for these spaces, offering these subjects.
    Grant(Vec<SpaceRef>, Vec<String>),
    /// Revoke this holder's role in this space (asked first).
    Revoke(SpaceRef, RoleLine),
}

impl RolesView {
    pub fn new(id: RequestId, spaces: Vec<SpaceRef>) -> Self {
        let answers = spaces.iter().map(|s| (s.clone(), None)).collect();
        RolesView {
            id,
            spaces,
            answers,
            cursor: 0,
        }
    }

    /// The answers of a read, in the order of the spaces.
    pub fn answered(&mut self, id: RequestId, answers: Vec<(SpaceRef, SpaceRoles)>) {
        if id != self.id {
            return;
        }
        for (space, a) in answers {
            if let Some(slot) = self.answers.iter_mut().find(|(s, _)| *s == space) {
                slot.1 = Some(a);
            }
        }
        let n = self.holders().count();
        self.cursor = self.cursor.min(n.saturating_sub(1));
    }

    /// Every holder shown, with its space, in order.
    pub fn holders(&self) -> impl Iterator<Item = (&SpaceRef, &RoleLine)> {
        self.answers.iter().flat_map(|(s, a)| match a {
            Some(SpaceRoles::Holders(h)) => h.iter().map(move |l| (s, l)).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    }

    /// The subjects seen in these spaces, for the grant form to offer.
    pub fn subjects(&self) -> Vec<String> {
        let mut s: Vec<String> = self.holders().map(|(_, l)| l.subject.clone()).collect();
        s.sort();
        s.dedup();
        s
    }

    pub fn key(&mut self, key: Key, keymap: &Keymap) -> Reply {
        let n = self.holders().count();
        match keymap.typed(Context::Roles, key) {
            Typed::Action(Action::Quit) => return Reply::Quit,
            Typed::Action(Action::Down) => self.cursor = (self.cursor + 1).min(n.saturating_sub(1)),
            Typed::Action(Action::Up) => self.cursor = self.cursor.saturating_sub(1),
            Typed::Action(Action::Top) => self.cursor = 0,
            Typed::Action(Action::Bottom) => self.cursor = n.saturating_sub(1),
            Typed::Action(Action::Grant) => {
                return Reply::Roles(Box::new(RolesAsk::Grant(self.spaces.clone(), self.subjects())));
            }
            Typed::Action(Action::Revoke) => {
                if let Some((s, l)) = self.holders().nth(self.cursor) {
                    return Reply::Roles(Box::new(RolesAsk::Revoke(s.clone(), l.clone())));
                }
            }
            Typed::Action(Action::Back) => return Reply::Close,
            _ => {}
        }
        Reply::Keep
    }
}

impl Component for RolesView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let what = match self.spaces.as_slice() {
            [one] => one.to_string(),
            many => format!("{} spaces", many.len()),
        };
        let inner = super::framed(
            f,
            area,
            (84, 80),
            &format!("roles {what}"),
            cx,
            self.context(),
            self.commands(),
        );
        let w = usize::from(inner.width);
        let mut out: Vec<Line> = Vec::new();
        let mut i = 0;
        let mut cursor_row = 0;
        for (space, answer) in &self.answers {
            if let Some(why) = cx.cockpit.denied_in(space, crate::cockpit::access::GRANT, "granting") {
                out.push(Line::from(vec![
                    Span::styled(format!("{space}  "), t.title),
                    Span::styled(cut(&why, w.saturating_sub(space.to_string().len() + 2)), t.warn),
                ]));
            } else {
                out.push(Line::styled(space.to_string(), t.title));
            }
            match answer {
                None => out.push(Line::styled("  reading…", t.dim)),
                Some(SpaceRoles::Failed(why)) => {
                    out.push(Line::styled(format!("  {}", cut(why, w.saturating_sub(2))), t.error))
                }
                Some(SpaceRoles::Holders(h)) if h.is_empty() => out.push(Line::styled("  no RoleBindings", t.dim)),
                Some(SpaceRoles::Holders(h)) => {
                    let mut last_role = "";
                    for l in h {
                        let selected = i == self.cursor;
                        if selected {
                            cursor_row = out.len();
                        }
                        i += 1;
                        let role = if l.role == last_role { "" } else { l.role.as_str() };
                        last_role = &l.role;
                        let base = if selected { t.selected } else { t.text };
                        let note = match (l.role.as_str(), l.kdeck) {
                            ("custom", _) => format!("{} · {}", l.role_ref, l.binding),
                            (_, true) => l.binding.clone(),
                            (_, false) => format!("{} · not kdeck's", l.binding),
                        };
                        out.push(Line::from(vec![
                            Span::styled(if selected { "▸ " } else { "  " }, base),
                            Span::styled(format!("{role:<10}"), t.key),
                            Span::styled(format!("{:<32}", cut(&l.subject, 32)), base),
                            Span::styled(cut(&note, w.saturating_sub(44)), t.dim),
                        ]));
                    }
                }
            }
        }
        let h = usize::from(inner.height);
        let top = cursor_row.saturating_sub(h.saturating_sub(1));
        let shown: Vec<Line> = out.into_iter().skip(top).take(h).collect();
        f.render_widget(Paragraph::new(shown), inner);
    }

    fn context(&self) -> Context {
        Context::Roles
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Grant, "grant"),
            (Action::Revoke, "revoke"),
            (Action::Back, "close"),
        ]
    }
}
