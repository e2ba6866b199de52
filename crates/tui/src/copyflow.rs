//! The cockpit's copy flow: the marked apps, target spaces picked with a
//! fuzzy filter, the plan to read (with the conflict policy to change), then
//! progress per target cluster with `esc` to cancel. Plain data: the event
//! loop plans and runs the copy and feeds the answers back.

use std::collections::{BTreeMap, BTreeSet};

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::keymap::{Key, KeyName};
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
        lines: Vec<String>,
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
}

/// What a key asks of the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    Nothing,
    Close,
    Plan(CopySpec),
    Run(CopySpec),
    Cancel,
}

impl CopyFlow {
    pub fn new(sources: Vec<AppRef>, mut spaces: Vec<SpaceRef>) -> CopyFlow {
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

    pub fn key(&mut self, key: Key) -> Ask {
        match &mut self.stage {
            Stage::Targets { query, shown, cursor } => match key.code {
                KeyName::Esc => Ask::Close,
                KeyName::Up => {
                    *cursor = cursor.saturating_sub(1);
                    Ask::Nothing
                }
                KeyName::Down => {
                    *cursor = (*cursor + 1).min(shown.len().saturating_sub(1));
                    Ask::Nothing
                }
                KeyName::Char(' ') => {
                    if let Some(s) = shown.get(*cursor).and_then(|i| self.spaces.get(*i)).cloned()
                        && !self.picked.remove(&s)
                    {
                        self.picked.insert(s);
                    }
                    Ask::Nothing
                }
                KeyName::Enter => {
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
                KeyName::Backspace => {
                    let mut q = query.clone();
                    q.pop();
                    self.filter(q);
                    Ask::Nothing
                }
                KeyName::Char(c) if !key.ctrl && !key.alt => {
                    let q = format!("{query}{c}");
                    self.filter(q);
                    Ask::Nothing
                }
                _ => Ask::Nothing,
            },
            Stage::Planning => match key.code {
                KeyName::Esc => Ask::Close,
                _ => Ask::Nothing,
            },
            Stage::Preview { scroll, items, .. } => match key.code {
                KeyName::Esc | KeyName::Char('n') => Ask::Close,
                KeyName::Enter | KeyName::Char('y') => {
                    self.stage = Stage::Running {
                        total: *items,
                        counts: BTreeMap::new(),
                        failures: Vec::new(),
                        cancelling: false,
                    };
                    Ask::Run(self.spec())
                }
                KeyName::Char('o') => {
                    self.policy = match self.policy {
                        OnConflict::Skip => OnConflict::Overwrite,
                        OnConflict::Overwrite => OnConflict::Rename,
                        OnConflict::Rename => OnConflict::Skip,
                    };
                    self.stage = Stage::Planning;
                    Ask::Plan(self.spec())
                }
                KeyName::Char('s') => {
                    self.with_secrets = !self.with_secrets;
                    self.stage = Stage::Planning;
                    Ask::Plan(self.spec())
                }
                KeyName::Down | KeyName::Char('j') => {
                    *scroll += 1;
                    Ask::Nothing
                }
                KeyName::Up | KeyName::Char('k') => {
                    *scroll = scroll.saturating_sub(1);
                    Ask::Nothing
                }
                _ => Ask::Nothing,
            },
            Stage::Running { cancelling, .. } => match key.code {
                KeyName::Esc => {
                    *cancelling = true;
                    Ask::Cancel
                }
                KeyName::Char('c') if key.ctrl => {
                    *cancelling = true;
                    Ask::Cancel
                }
                _ => Ask::Nothing,
            },
            Stage::Finished { .. } => Ask::Close,
        }
    }

    /// The plan came back: the preview to read, or why there is none.
    pub fn planned(&mut self, plan: Result<CopyPlan, String>) {
        let plan = match plan {
            Ok(p) => p,
            Err(e) => {
                self.stage = Stage::Preview {
                    lines: vec![format!("no plan: {e}"), String::new(), "esc goes back".into()],
                    scroll: 0,
                    items: 0,
                };
                return;
            }
        };
        let mut lines = vec![
            format!(
                "{} app(s) → {} · on conflict: {} (o changes it) · secrets: {} (s changes it)",
                self.sources.len(),
                self.picked
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                plan.on_conflict.word(),
                if self.with_secrets { "copied" } else { "not copied" }
            ),
            String::new(),
        ];
        for s in &plan.new_spaces {
            lines.push(format!("space {s}: create"));
        }
        let mut by_action: BTreeMap<&str, usize> = BTreeMap::new();
        for i in &plan.items {
            *by_action.entry(i.action).or_default() += 1;
            let mut l = format!("{:<9} {} → {}/{}", i.action, i.source, i.target, i.name);
            if !i.objects.is_empty() {
                l.push_str(&format!(" ({} objects)", i.objects.len()));
            }
            lines.push(l);
            for n in &i.notes {
                lines.push(format!("          {n}"));
            }
            // What would change it, as keys of this view.
            for r in &i.remedies {
                lines.push(format!(
                    "          {}",
                    match r {
                        kdeck_command::copy::Remedy::WithSecrets => "s copies the secrets too",
                        kdeck_command::copy::Remedy::OnConflict =>
                            "o changes the conflict policy: overwrite or rename copies it",
                    }
                ));
            }
        }
        lines.insert(
            1,
            by_action
                .iter()
                .map(|(a, n)| format!("{n} {a}"))
                .collect::<Vec<_>>()
                .join(" · "),
        );
        lines.push(String::new());
        lines.push("enter copies · o changes the conflict policy · esc cancels".into());
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

    /// Title and lines for drawing.
    pub fn view(&self) -> (String, Vec<(String, bool)>) {
        let title = format!("copy {} app(s)", self.sources.len());
        match &self.stage {
            Stage::Targets { query, shown, cursor } => {
                let mut out = vec![(
                    format!(
                        "to: {query}█   space marks · enter plans · {} picked",
                        self.picked.len()
                    ),
                    false,
                )];
                for (n, i) in shown.iter().enumerate() {
                    if let Some(s) = self.spaces.get(*i) {
                        let mark = if self.picked.contains(s) { "◆" } else { " " };
                        out.push((format!("{mark} {s}"), n == *cursor));
                    }
                }
                if shown.is_empty() {
                    out.push(("no space matches".into(), false));
                }
                (title, out)
            }
            Stage::Planning => (
                title,
                vec![("planning: reading the sources and the targets…".into(), false)],
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
                let mut out = vec![(
                    format!(
                        "{done} of {total} done{}",
                        if *cancelling {
                            " · cancelling: running items finish"
                        } else {
                            " · esc cancels"
                        }
                    ),
                    false,
                )];
                for (c, (planned, ok, failed)) in counts {
                    out.push((
                        format!(
                            "{c}: {}/{planned} done, {failed} failed, {} to go",
                            ok + failed,
                            planned.saturating_sub(ok + failed)
                        ),
                        false,
                    ));
                }
                for f in failures.iter().take(10) {
                    out.push((format!("✖ {f}"), false));
                }
                (title, out)
            }
            Stage::Finished { ok, summary, failures } => {
                let mut out = vec![(
                    format!("{} {summary}", if *ok { "done:" } else { "not all done:" }),
                    false,
                )];
                for f in failures.iter().take(10) {
                    out.push((format!("✖ {f}"), false));
                }
                if !*ok {
                    out.push((
                        "the same copy again finishes the job (`kdeck history --failed`)".into(),
                        false,
                    ));
                }
                out.push(("any key closes".into(), false));
                (title, out)
            }
        }
    }
}
