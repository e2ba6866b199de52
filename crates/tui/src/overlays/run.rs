//! A build run's task tree: its tasks in the pipeline's order (then the
//! finally tasks), each with its state and duration, its steps with their
//! states and exit codes, skipped tasks with Tekton's reason. Live: the
//! shell refreshes it from the fleet's snapshots as the run moves. The
//! cursor is on a step; its logs are a key away.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::Reply;
use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::{block, cut, popup, title_line};
use kdeck_fleet::live::{BuildState, BuildView, ClusterSnapshot};
use kdeck_model::clock::span;

/// One line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLine {
    Task {
        task: String,
        state: String,
        started: String,
        finished: String,
        note: String,
        finally: bool,
        failed: bool,
    },
    Step {
        task: String,
        step: String,
        state: BuildState,
        exit: Option<i32>,
        reason: String,
        started: String,
        finished: String,
        pod: String,
        container: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunView {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    pub build: Option<BuildView>,
    pub lines: Vec<RunLine>,
    /// Index into the step lines.
    pub cursor: usize,
}

/// What the run view asks the shell for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLogs {
    pub cluster: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub title: String,
}

impl RunView {
    pub fn new(cluster: &str, namespace: &str, name: &str, clusters: &[std::sync::Arc<ClusterSnapshot>]) -> Self {
        let mut v = RunView {
            cluster: cluster.into(),
            namespace: namespace.into(),
            name: name.into(),
            build: None,
            lines: Vec::new(),
            cursor: 0,
        };
        v.update(clusters);
        v
    }

    /// The run and its TaskRuns as the fleet has them now.
    pub fn update(&mut self, clusters: &[std::sync::Arc<ClusterSnapshot>]) {
        let Some(snap) = clusters.iter().find(|c| c.cluster == self.cluster) else {
            return;
        };
        self.build = snap
            .builds
            .values()
            .find(|b| b.namespace == self.namespace && b.name == self.name)
            .cloned();
        let Some(b) = &self.build else { return };
        let runs = snap.task_runs_of(&self.namespace, &self.name);
        let mut order: Vec<(String, bool)> = b.tasks.iter().map(|t| (t.clone(), false)).collect();
        order.extend(b.finally.iter().map(|t| (t.clone(), true)));
        for tr in &runs {
            if !order.iter().any(|(t, _)| *t == tr.task) {
                order.push((tr.task.clone(), false));
            }
        }
        let mut lines = Vec::new();
        for (task, finally) in order {
            match runs.iter().find(|tr| tr.task == task) {
                Some(tr) => {
                    lines.push(RunLine::Task {
                        task: task.clone(),
                        state: tr.state.word().to_string(),
                        started: tr.started.clone(),
                        finished: tr.finished.clone(),
                        note: if tr.state == BuildState::Failed {
                            tr.message.clone()
                        } else {
                            String::new()
                        },
                        finally,
                        failed: tr.state == BuildState::Failed,
                    });
                    for s in &tr.steps {
                        lines.push(RunLine::Step {
                            task: task.clone(),
                            step: s.name.clone(),
                            state: s.state,
                            exit: s.exit_code,
                            reason: s.reason.clone(),
                            started: s.started.clone(),
                            finished: s.finished.clone(),
                            pod: tr.pod.clone(),
                            container: s.container.clone(),
                        });
                    }
                }
                None => {
                    let skipped = b.skipped.iter().find(|(t, _)| *t == task);
                    lines.push(RunLine::Task {
                        task,
                        state: match (skipped, b.state.finished()) {
                            (Some(_), _) => "skipped",
                            (None, true) => "not run",
                            (None, false) => "waiting",
                        }
                        .into(),
                        started: String::new(),
                        finished: String::new(),
                        note: skipped.map(|(_, r)| r.clone()).unwrap_or_default(),
                        finally,
                        failed: false,
                    });
                }
            }
        }
        self.lines = lines;
        let steps = self.steps().count();
        self.cursor = self.cursor.min(steps.saturating_sub(1));
    }

    fn steps(&self) -> impl Iterator<Item = &RunLine> {
        self.lines.iter().filter(|l| matches!(l, RunLine::Step { .. }))
    }

    /// The step under the cursor, for its logs.
    pub fn selected(&self) -> Option<StepLogs> {
        match self.steps().nth(self.cursor)? {
            RunLine::Step {
                task,
                step,
                pod,
                container,
                ..
            } if !pod.is_empty() => Some(StepLogs {
                cluster: self.cluster.clone(),
                namespace: self.namespace.clone(),
                pod: pod.clone(),
                container: container.clone(),
                title: format!("build {}/{}/{} {task}/{step}", self.cluster, self.namespace, self.name),
            }),
            _ => None,
        }
    }

    /// Moves go from step to step; enter or the logs key opens the step's
    /// logs; build, cancel and rerun act on the run; anything else closes.
    pub fn key(&mut self, key: Key, keymap: &Keymap) -> Reply {
        let n = self.steps().count();
        match keymap.typed(Context::Overlay, key) {
            Typed::Action(Action::Quit) => Reply::Quit,
            Typed::Action(Action::Down) => {
                self.cursor = (self.cursor + 1).min(n.saturating_sub(1));
                Reply::Keep
            }
            Typed::Action(Action::Up) => {
                self.cursor = self.cursor.saturating_sub(1);
                Reply::Keep
            }
            Typed::Action(Action::Top) => {
                self.cursor = 0;
                Reply::Keep
            }
            Typed::Action(Action::Bottom) => {
                self.cursor = n.saturating_sub(1);
                Reply::Keep
            }
            Typed::Action(Action::Enter | Action::Logs) => match self.selected() {
                Some(s) => Reply::StepLogs(s),
                None => Reply::Keep,
            },
            Typed::Action(a @ (Action::CancelBuild | Action::CancelBuildGraceful | Action::Rerun | Action::Build)) => {
                Reply::Act(a)
            }
            _ => Reply::Close,
        }
    }
}

impl Component for RunView {
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let now = cx.cockpit.now;
        let r = popup(area, 90, 85);
        f.render_widget(Clear, r);
        let detail = match &self.build {
            Some(b) => {
                let mut d = format!("{} · {}", b.state.word(), span(&b.started, &b.finished, now));
                if !b.revision.is_empty() {
                    d.push_str(&format!(" · {}", cut(&b.revision, 14)));
                }
                if !b.trigger.is_empty() {
                    d.push_str(&format!(" · {}", b.trigger));
                }
                d
            }
            None => "gone".to_string(),
        };
        let b = block(
            title_line(&format!("build {}/{}", self.cluster, self.name), detail, "", t),
            true,
            t,
        );
        let inner = b.inner(r);
        f.render_widget(b, r);
        let w = usize::from(inner.width);
        let state_style = |s: &str| match s {
            "succeeded" => t.ok,
            "failed" => t.error,
            "running" | "pending" => t.warn,
            _ => t.dim,
        };
        let mut out: Vec<Line> = Vec::new();
        let mut step_i = 0;
        let mut cursor_row = 0;
        for l in &self.lines {
            match l {
                RunLine::Task {
                    task,
                    state,
                    started,
                    finished,
                    note,
                    finally,
                    failed,
                } => {
                    let name = if *finally {
                        format!("{task} (finally)")
                    } else {
                        task.clone()
                    };
                    let dur = if started.is_empty() {
                        String::new()
                    } else {
                        span(started, finished, now)
                    };
                    out.push(Line::from(vec![
                        Span::styled(format!("{:<24}", cut(&name, 24)), t.title),
                        Span::styled(format!("{state:<10}"), state_style(state)),
                        Span::styled(format!("{dur:>7}  "), t.dim),
                        Span::styled(cut(note, w.saturating_sub(44)), if *failed { t.error } else { t.dim }),
                    ]));
                }
                RunLine::Step {
                    step,
                    state,
                    exit,
                    reason,
                    started,
                    finished,
                    ..
                } => {
                    let selected = step_i == self.cursor;
                    if selected {
                        cursor_row = out.len();
                    }
                    step_i += 1;
                    let code = exit.map(|c| format!("exit {c}")).unwrap_or_default();
                    let dur = if started.is_empty() {
                        String::new()
                    } else {
                        span(started, finished, now)
                    };
                    let word = if reason == "Skipped" { "skipped" } else { state.word() };
                    let base = if selected { t.selected } else { t.text };
                    out.push(Line::from(vec![
                        Span::styled(if selected { "▸ " } else { "  " }, base),
                        Span::styled(format!("{:<22}", cut(step, 22)), base),
                        Span::styled(format!("{word:<10}"), state_style(word)),
                        Span::styled(format!("{dur:>7}  "), t.dim),
                        Span::styled(code, if exit.is_some_and(|c| c != 0) { t.error } else { t.dim }),
                    ]));
                }
            }
        }
        if self.lines.is_empty() {
            out.push(Line::styled("no tasks yet", t.dim));
        }
        let h = usize::from(inner.height);
        let top = cursor_row.saturating_sub(h.saturating_sub(1));
        let shown: Vec<Line> = out.into_iter().skip(top).take(h).collect();
        f.render_widget(Paragraph::new(shown), inner);
    }

    fn context(&self) -> Context {
        Context::Overlay
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        &[
            (Action::Logs, "step logs"),
            (Action::CancelBuild, "cancel"),
            (Action::Rerun, "rerun"),
            (Action::Back, "close"),
        ]
    }
}
