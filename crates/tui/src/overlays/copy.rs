//! The cockpit's copy flow: the marked apps, target spaces picked with a
//! fuzzy filter, the plan to read (with the conflict policy to change), then
//! progress per target cluster with `esc` to cancel. Plain data: the event
//! loop plans and runs the copy and feeds the answers back.

use std::collections::{BTreeMap, BTreeSet};

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use crate::cockpit::RequestId;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::{Tone, Toned, block, cut, pad, popup, title_line};
use kdeck_command::copy::{CopyPlan, CopySpec, Event, OnConflict};
use kdeck_model::{AppRef, SpaceRef};

/// How many target candidates are listed at once.
const SHOWN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Targets {
        query: String,
        /// Indexes into `spaces`, best match first.
        shown: Vec<usize>,
        cursor: usize,
    },
    Planning,
    Preview {
        lines: Vec<Toned>,
        scroll: usize,
        items: usize,
    },
    Running {
        total: usize,
        /// cluster → (planned, ok, failed)
        counts: BTreeMap<String, (usize, usize, usize)>,
        failures: Vec<String>,
        cancelling: bool,
    },
    Finished {
        ok: bool,
        summary: String,
        failures: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFlow {
    pub sources: Vec<AppRef>,
    /// Every space a copy can go to.
    pub spaces: Vec<SpaceRef>,
    pub picked: BTreeSet<SpaceRef>,
    pub policy: OnConflict,
    /// Copy the Secrets the apps reference too.
    pub with_secrets: bool,
    pub stage: Stage,
    /// The plan asked for last: only its answer is read.
    pub request: RequestId,
    /// The keys of this flow's actions, as the keymap in use binds them.
    pub keys: Keys,
}

/// The first key of each action the flow's lines mention.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub mark: String,
    pub plan: String,
    pub run: String,
    pub back: String,
    pub policy: String,
    pub secrets: String,
}

impl Keys {
    pub fn of(keymap: &Keymap) -> Keys {
        let first = |ctx, a| keymap.first_key(ctx, a);
        Keys {
            mark: first(Context::CopyTargets, Action::Mark),
            plan: first(Context::CopyTargets, Action::Enter),
            run: first(Context::CopyPlan, Action::Enter),
            back: first(Context::CopyPlan, Action::Back),
            policy: first(Context::CopyPlan, Action::ConflictPolicy),
            secrets: first(Context::CopyPlan, Action::ToggleSecrets),
        }
    }
}

/// What a key asks of the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    Nothing,
    Close,
    Plan(CopySpec),
    Run(CopySpec),
    Cancel,
    /// The quit chord: leave kdeck.
    Quit,
}

impl CopyFlow {
    pub fn new(sources: Vec<AppRef>, mut spaces: Vec<SpaceRef>, keymap: &Keymap) -> CopyFlow {
        spaces.sort();
        spaces.dedup();
        let mut f = CopyFlow {
            sources,
            spaces,
            picked: BTreeSet::new(),
            policy: OnConflict::Skip,
            with_secrets: false,
            stage: Stage::Targets {
                query: String::new(),
                shown: Vec::new(),
                cursor: 0,
            },
            request: 0,
            keys: Keys::of(keymap),
        };
        f.filter(String::new());
        f
    }

    fn filter(&mut self, query: String) {
        let m = SkimMatcherV2::default().smart_case();
        let mut scored: Vec<(i64, usize)> = self
            .spaces
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                if query.is_empty() {
                    Some((0, i))
                } else {
                    m.fuzzy_match(&s.to_string(), &query).map(|sc| (sc, i))
                }
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let shown = scored.into_iter().take(SHOWN).map(|(_, i)| i).collect();
        self.stage = Stage::Targets {
            query,
            shown,
            cursor: 0,
        };
    }

    pub fn spec(&self) -> CopySpec {
        CopySpec {
            apps: self.sources.iter().map(ToString::to_string).collect(),
            to: self.picked.iter().map(ToString::to_string).collect(),
            on_conflict: self.policy,
            with_secrets: self.with_secrets,
            host_template: kdeck_command::copy::HOST_TEMPLATE.to_string(),
            ..Default::default()
        }
    }

    /// The keymap context of the stage: picking targets takes text.
    pub fn stage_context(&self) -> Context {
        match self.stage {
            Stage::Targets { .. } => Context::CopyTargets,
            _ => Context::CopyPlan,
        }
    }

    /// A key, read through the keymap in the stage's context.
    pub fn key(&mut self, key: Key, keymap: &Keymap) -> Ask {
        let typed = keymap.typed(self.stage_context(), key);
        match &mut self.stage {
            Stage::Targets { query, shown, cursor } => match typed {
                Typed::Action(Action::Quit) => Ask::Quit,
                Typed::Action(Action::Back) => Ask::Close,
                Typed::Action(Action::Up) => {
                    *cursor = cursor.saturating_sub(1);
                    Ask::Nothing
                }
                Typed::Action(Action::Down) => {
                    *cursor = (*cursor + 1).min(shown.len().saturating_sub(1));
                    Ask::Nothing
                }
                Typed::Action(Action::Mark) => {
                    if let Some(s) = shown.get(*cursor).and_then(|i| self.spaces.get(*i)).cloned()
                        && !self.picked.remove(&s)
                    {
                        self.picked.insert(s);
                    }
                    Ask::Nothing
                }
                Typed::Action(Action::Enter) => {
                    if self.picked.is_empty()
                        && let Some(s) = shown.get(*cursor).and_then(|i| self.spaces.get(*i)).cloned()
                    {
                        self.picked.insert(s);
                    }
                    if self.picked.is_empty() {
                        return Ask::Nothing;
                    }
                    self.stage = Stage::Planning;
                    Ask::Plan(self.spec())
                }
                Typed::Action(Action::DeleteBack) => {
                    let mut q = query.clone();
                    q.pop();
                    self.filter(q);
                    Ask::Nothing
                }
                Typed::Text(c) => {
                    let q = format!("{query}{c}");
                    self.filter(q);
                    Ask::Nothing
                }
                _ => Ask::Nothing,
            },
            Stage::Planning => match typed {
                Typed::Action(Action::Quit) => Ask::Quit,
                Typed::Action(Action::Back) => Ask::Close,
                _ => Ask::Nothing,
            },
            Stage::Preview { scroll, items, .. } => match typed {
                Typed::Action(Action::Quit) => Ask::Quit,
                Typed::Action(Action::Back) => Ask::Close,
                Typed::Action(Action::Enter) => {
                    self.stage = Stage::Running {
                        total: *items,
                        counts: BTreeMap::new(),
                        failures: Vec::new(),
                        cancelling: false,
                    };
                    Ask::Run(self.spec())
                }
                Typed::Action(Action::ConflictPolicy) => {
                    self.policy = match self.policy {
                        OnConflict::Skip => OnConflict::Overwrite,
                        OnConflict::Overwrite => OnConflict::Rename,
                        OnConflict::Rename => OnConflict::Skip,
                    };
                    self.stage = Stage::Planning;
                    Ask::Plan(self.spec())
                }
                Typed::Action(Action::ToggleSecrets) => {
                    self.with_secrets = !self.with_secrets;
                    self.stage = Stage::Planning;
                    Ask::Plan(self.spec())
                }
                Typed::Action(Action::Down) => {
                    *scroll += 1;
                    Ask::Nothing
                }
                Typed::Action(Action::Up) => {
                    *scroll = scroll.saturating_sub(1);
                    Ask::Nothing
                }
                _ => Ask::Nothing,
            },
            // A running copy takes back and the quit chord as cancel.
            Stage::Running { cancelling, .. } => match typed {
                Typed::Action(Action::Back | Action::Quit) => {
                    *cancelling = true;
                    Ask::Cancel
                }
                _ => Ask::Nothing,
            },
            Stage::Finished { .. } => match typed {
                Typed::Action(Action::Quit) => Ask::Quit,
                _ => Ask::Close,
            },
        }
    }

    /// The plan came back: the preview to read, or why there is none.
    pub fn planned(&mut self, plan: Result<CopyPlan, kdeck_command::Failure>) {
        let plan = match plan {
            Ok(p) => p,
            Err(e) => {
                self.stage = Stage::Preview {
                    lines: vec![
                        (Tone::Error, format!("no plan: {e}")),
                        (Tone::Text, String::new()),
                        (Tone::Text, format!("{} goes back", self.keys.back)),
                    ],
                    scroll: 0,
                    items: 0,
                };
                return;
            }
        };
        let k = &self.keys;
        let mut lines: Vec<Toned> = vec![(
            Tone::Heading,
            format!(
                "{} app(s) → {} · on conflict: {} ({} changes it) · secrets: {} ({} changes it)",
                self.sources.len(),
                self.picked
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                plan.on_conflict.word(),
                k.policy,
                if self.with_secrets { "copied" } else { "not copied" },
                k.secrets
            ),
        )];
        lines.push((Tone::Text, String::new()));
        for s in &plan.new_spaces {
            lines.push((Tone::Text, format!("space {s}: create")));
        }
        let mut by_action: BTreeMap<&str, usize> = BTreeMap::new();
        for i in &plan.items {
            *by_action.entry(i.action).or_default() += 1;
            let mut l = format!("{:<9} {} → {}/{}", i.action, i.source, i.target, i.name);
            if !i.objects.is_empty() {
                l.push_str(&format!(" ({} objects)", i.objects.len()));
            }
            let tone = match i.action {
                a if a.starts_with("fail") => Tone::Error,
                a if a.starts_with("skip") => Tone::Warn,
                _ => Tone::Text,
            };
            lines.push((tone, l));
            for n in &i.notes {
                lines.push((Tone::Warn, format!("          {n}")));
            }
            // What would change it, as keys of this view.
            for r in &i.remedies {
                lines.push((
                    Tone::Warn,
                    match r {
                        kdeck_command::copy::Remedy::WithSecrets => {
                            format!("          {} copies the secrets too", k.secrets)
                        }
                        kdeck_command::copy::Remedy::OnConflict => format!(
                            "          {} changes the conflict policy: overwrite or rename copies it",
                            k.policy
                        ),
                    },
                ));
            }
        }
        lines.insert(
            1,
            (
                Tone::Text,
                by_action
                    .iter()
                    .map(|(a, n)| format!("{n} {a}"))
                    .collect::<Vec<_>>()
                    .join(" · "),
            ),
        );
        lines.push((Tone::Text, String::new()));
        lines.push((
            Tone::Text,
            format!(
                "{} copies · {} changes the conflict policy · {} cancels",
                k.run, k.policy, k.back
            ),
        ));
        self.stage = Stage::Preview {
            lines,
            scroll: 0,
            items: plan.items.len(),
        };
    }

    pub fn progress(&mut self, ev: &Event) {
        if let Stage::Running { counts, failures, .. } = &mut self.stage {
            match ev {
                Event::Planned { cluster, items } => counts.entry(cluster.clone()).or_default().0 = *items,
                Event::Done(d) => {
                    let c = counts.entry(d.cluster.clone()).or_default();
                    if d.ok {
                        c.1 += 1;
                    } else {
                        c.2 += 1;
                        failures.push(format!("{}: {}", d.item, d.message));
                    }
                }
            }
        }
    }

    pub fn finished(&mut self, ok: bool, message: String) {
        let failures = match &self.stage {
            Stage::Running { failures, .. } => failures.clone(),
            _ => Vec::new(),
        };
        self.stage = Stage::Finished {
            ok,
            summary: message,
            failures,
        };
    }

    /// Title and lines for drawing: each line's tone, and whether the
    /// cursor is on it.
    pub fn view(&self) -> (String, Vec<(Toned, bool)>) {
        let title = format!("copy {} app(s)", self.sources.len());
        let k = &self.keys;
        let text = |s: String| ((Tone::Text, s), false);
        let failed = |f: &String| ((Tone::Error, format!("✖ {f}")), false);
        match &self.stage {
            Stage::Targets { query, shown, cursor } => {
                let mut out = vec![text(format!(
                    "to: {query}█   {} marks · {} plans · {} picked",
                    k.mark,
                    k.plan,
                    self.picked.len()
                ))];
                for (n, i) in shown.iter().enumerate() {
                    if let Some(s) = self.spaces.get(*i) {
                        let mark = if self.picked.contains(s) { "◆" } else { " " };
                        out.push(((Tone::Text, format!("{mark} {s}")), n == *cursor));
                    }
                }
                if shown.is_empty() {
                    out.push(text("no space matches".into()));
                }
                (title, out)
            }
            Stage::Planning => (
                title,
                vec![text("planning: reading the sources and the targets…".into())],
            ),
            Stage::Preview { lines, scroll, .. } => {
                (title, lines.iter().skip(*scroll).map(|l| (l.clone(), false)).collect())
            }
            Stage::Running {
                total,
                counts,
                failures,
                cancelling,
            } => {
                let done: usize = counts.values().map(|(_, a, b)| a + b).sum();
                let mut out = vec![text(format!(
                    "{done} of {total} done{}",
                    if *cancelling {
                        " · cancelling: running items finish".to_string()
                    } else {
                        format!(" · {} cancels", k.back)
                    }
                ))];
                for (c, (planned, ok, failed)) in counts {
                    out.push(text(format!(
                        "{c}: {}/{planned} done, {failed} failed, {} to go",
                        ok + failed,
                        planned.saturating_sub(ok + failed)
                    )));
                }
                out.extend(failures.iter().take(10).map(failed));
                (title, out)
            }
            Stage::Finished { ok, summary, failures } => {
                let mut out = vec![text(format!(
                    "{} {summary}",
                    if *ok { "done:" } else { "not all done:" }
                ))];
                out.extend(failures.iter().take(10).map(failed));
                if !*ok {
                    out.push(text(
                        "the same copy again finishes the job (`kdeck history --failed`)".into(),
                    ));
                }
                out.push(text("any key closes".into()));
                (title, out)
            }
        }
    }
}

impl Component for CopyFlow {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let r = popup(area, 85, 75);
        f.render_widget(Clear, r);
        let (title, lines) = self.view();
        let b = block(title_line(&title, String::new(), "", t), true, t);
        let inner = b.inner(r);
        f.render_widget(b, r);
        let w = usize::from(inner.width);
        let shown: Vec<Line> = lines
            .into_iter()
            .take(usize::from(inner.height))
            .enumerate()
            .map(|(n, ((tone, l), selected))| {
                // The first line shown is the flow's heading.
                let style = if selected {
                    t.selected
                } else if n == 0 {
                    t.title
                } else {
                    tone.style(t)
                };
                Line::styled(pad(&cut(&l, w), w), style)
            })
            .collect();
        f.render_widget(Paragraph::new(shown), inner);
    }

    fn context(&self) -> Context {
        self.stage_context()
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        match self.stage {
            Stage::Targets { .. } => &[(Action::Mark, "pick"), (Action::Enter, "plan"), (Action::Back, "close")],
            _ => &[
                (Action::Enter, "copy"),
                (Action::ConflictPolicy, "on conflict"),
                (Action::ToggleSecrets, "secrets"),
                (Action::Back, "cancel"),
            ],
        }
    }
}
