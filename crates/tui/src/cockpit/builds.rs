//! Actions on builds: start one (a revision prompt), cancel (asks first),
//! rerun, the build settings form, a run's task tree and a step's logs;
//! and the builds this cockpit started, followed to their end (a notice,
//! and a deploy of the built image when it was asked for).

use kdeck_command::Command;
use kdeck_fleet::live::BuildState;
use kdeck_fleet::logs::{LogRequest, LogSource};
use kdeck_model::{AppRef, SpaceRef};

use super::{Cockpit, Effect, Focus, Pane, RequestId};
use crate::forms::Form;
use crate::keymap::{Action, Context};
use crate::overlays::{Confirm, Overlay, RunView, StepLogs};

/// A build this cockpit started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub cluster: String,
    pub namespace: String,
    pub run: String,
    /// Deploy the built image when it succeeds.
    pub deploy: bool,
}

impl Watched {
    fn full(&self) -> String {
        format!("{}/{}/{}", self.cluster, self.namespace, self.run)
    }
}

impl Cockpit {
    /// The app a build key means: the selected app, or the selected build's.
    fn build_app(&self) -> Option<AppRef> {
        match (self.focus, self.pane) {
            (Focus::Pane, Pane::Apps) => self.selected_app().map(|r| r.app_ref()),
            (Focus::Pane, Pane::Builds) => self.builds.table.current().and_then(|b| {
                let app = b.build.app.as_ref()?;
                Some(AppRef::new(SpaceRef::new(&*b.cluster, &b.build.namespace), app))
            }),
            _ => None,
        }
    }

    /// The selected run, in the builds pane: `cluster/namespace/name`, its state.
    fn selected_run(&self) -> Option<(String, BuildState)> {
        if (self.focus, self.pane) != (Focus::Pane, Pane::Builds) {
            return None;
        }
        let b = self.builds.table.current()?;
        Some((
            format!("{}/{}/{}", b.cluster, b.build.namespace, b.build.name),
            b.build.state,
        ))
    }

    pub(super) fn build_action(&mut self, a: Action) -> Vec<Effect> {
        if self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
            return Vec::new();
        }
        match a {
            Action::Build | Action::BuildSettings => {
                let Some(app) = self.build_app() else {
                    self.toast("select an app (apps pane) or a build (builds pane) first", true);
                    return Vec::new();
                };
                let Some(m) = self.stored.iter().find(|m| m.settings.app == app) else {
                    self.toast(
                        format!(
                            "{app} is not managed by kdeck: adopt it first ({})",
                            self.keymap.hint(Context::List, Action::Adopt)
                        ),
                        true,
                    );
                    return Vec::new();
                };
                match (a, &m.settings.build) {
                    (Action::BuildSettings, _) => self.form = Some(Form::build_settings(&m.settings)),
                    (_, Some(b)) => self.form = Some(Form::build(app, &b.revision)),
                    (_, None) => self.toast(
                        format!(
                            "{app} has no build settings: {} sets them",
                            self.keymap.hint(Context::List, Action::BuildSettings)
                        ),
                        true,
                    ),
                }
            }
            Action::CancelBuild | Action::CancelBuildGraceful => {
                let Some((run, state)) = self.selected_run() else {
                    self.toast("select a build in the builds pane first", true);
                    return Vec::new();
                };
                if state.finished() {
                    self.toast(format!("build {run} already ended ({})", state.word()), true);
                    return Vec::new();
                }
                let graceful = a == Action::CancelBuildGraceful;
                self.overlay = Some(Overlay::Confirm(Confirm {
                    question: if graceful {
                        format!("Cancel build {run}? Its finally tasks still run.")
                    } else {
                        format!("Cancel build {run}? Its finally tasks are skipped.")
                    },
                    command: Box::new(Command::CancelBuild { run, graceful }),
                }));
            }
            Action::Rerun => {
                let Some((run, _)) = self.selected_run() else {
                    self.toast("select a build in the builds pane first", true);
                    return Vec::new();
                };
                let Some((space, name)) = run.rsplit_once('/') else {
                    return Vec::new();
                };
                let app = self
                    .builds
                    .table
                    .current()
                    .and_then(|b| b.build.app.clone())
                    .unwrap_or_else(|| name.split("-build-").next().unwrap_or(name).to_string());
                let new_run = kdeck_command::builds::new_run_name(&app);
                let (cluster, namespace) = space.split_once('/').unwrap_or((space, ""));
                return self.start_watched(
                    Command::RerunBuild {
                        run: run.clone(),
                        new_run: new_run.clone(),
                    },
                    Watched {
                        cluster: cluster.into(),
                        namespace: namespace.into(),
                        run: new_run,
                        deploy: false,
                    },
                );
            }
            _ => {}
        }
        Vec::new()
    }

    /// Runs a command that starts a build, and follows the build.
    fn start_watched(&mut self, command: Command, w: Watched) -> Vec<Effect> {
        let effects = self.run(command);
        if let Some(Effect::Run { id, .. }) = effects.first() {
            self.starting.insert(*id, w);
        }
        effects
    }

    /// A form's command is about to run: a build it starts is followed.
    pub(super) fn submitted_build(&mut self, id: RequestId, command: &Command) {
        if let Command::StartBuild { app, run, deploy, .. } = command
            && let Ok(a) = AppRef::parse("app", app)
        {
            self.starting.insert(
                id,
                Watched {
                    cluster: a.space.cluster,
                    namespace: a.space.namespace,
                    run: run.clone(),
                    deploy: *deploy,
                },
            );
        }
    }

    /// A command is done: a build it started is followed from now on.
    pub(super) fn build_command_done(&mut self, id: RequestId, ok: bool) {
        if let Some(w) = self.starting.remove(&id)
            && ok
        {
            self.watched.push(w);
        }
    }

    /// The builds this cockpit started that ended since the last look: a
    /// notice each, and a deploy of the image when it was asked for.
    pub fn watch_builds(&mut self) -> Vec<Effect> {
        if self.watched.is_empty() {
            return Vec::new();
        }
        let mut ended = Vec::new();
        self.watched.retain(|w| {
            let b = self.clusters.iter().find(|c| c.cluster == w.cluster).and_then(|c| {
                c.builds
                    .values()
                    .find(|b| b.namespace == w.namespace && b.name == w.run)
            });
            match b {
                Some(b) if b.state.finished() => {
                    ended.push((w.clone(), b.clone()));
                    false
                }
                _ => true,
            }
        });
        let mut effects = Vec::new();
        for (w, b) in ended {
            let failing = self
                .clusters
                .iter()
                .find(|c| c.cluster == w.cluster)
                .and_then(|c| c.failing_step(&w.namespace, &w.run))
                .map(|(t, s)| format!(" at {}/{} (exit {})", t.task, s.name, s.exit_code.unwrap_or_default()));
            let text = match b.state {
                BuildState::Succeeded => format!("build {} succeeded", w.full()),
                s => format!("build {} {}{}", w.full(), s.word(), failing.unwrap_or_default()),
            };
            let ok = b.state == BuildState::Succeeded;
            self.toast(text.clone(), !ok);
            effects.push(Effect::Notify {
                title: "kdeck build".into(),
                body: text,
            });
            if ok && w.deploy {
                // Asked for (and confirmed, on production) when it started.
                effects.extend(self.run_now(Command::DeployBuild { run: w.full() }));
            }
        }
        effects
    }

    /// Enter on a build: its task tree, live.
    pub(super) fn open_run(&mut self) {
        if let Some(b) = self.builds.table.current() {
            let v = RunView::new(&b.cluster, &b.build.namespace, &b.build.name, &self.clusters);
            self.overlay = Some(Overlay::Run(Box::new(v)));
        }
    }

    /// One step's logs in the logs pane, followed.
    pub(super) fn open_step_logs(&mut self, s: StepLogs) -> Vec<Effect> {
        self.logs.open(s.title);
        self.pane = Pane::Logs;
        self.focus = Focus::Pane;
        vec![Effect::OpenLogs {
            cluster: s.cluster,
            req: LogRequest {
                namespace: s.namespace,
                source: LogSource::Pods(vec![s.pod]),
                container: Some(s.container),
                follow: true,
                tail: None,
                previous: false,
            },
        }]
    }
}
