//! Actions on the object under the cursor: YAML, describe, edit, logs.

use super::{Cockpit, Effect, FetchKind, Focus, ObjectRef, Pane};
use crate::keymap::Action;
use crate::overlays::{Overlay, TextView};
use crate::panes::TreeRow;
use kdeck_fleet::logs::{LogRequest, LogSource};

impl Cockpit {
    /// What the object under the cursor is asked for: its YAML or
    /// description (a popup waiting for the answer), an edit in `$EDITOR`,
    /// its logs.
    pub(super) fn object_action(&mut self, a: Action) -> Vec<Effect> {
        match a {
            Action::Edit => {
                if self.read_only {
                    self.toast("read-only: this cockpit changes nothing", true);
                } else if let Some(object) = self.object_under_cursor() {
                    return vec![Effect::EditYaml(object)];
                }
            }
            Action::Yaml | Action::Describe => {
                if let Some(object) = self.object_under_cursor() {
                    let what = if a == Action::Yaml {
                        FetchKind::Yaml
                    } else {
                        FetchKind::Describe
                    };
                    let id = self.next_id();
                    let title = format!(
                        "{} {} {}/{}/{}",
                        if a == Action::Yaml { "yaml" } else { "describe" },
                        object.kind,
                        object.cluster,
                        object.namespace,
                        object.name
                    );
                    self.overlay = Some(Overlay::Text(TextView::loading(id, title, "loading…")));
                    return vec![Effect::Fetch { id, what, object }];
                }
            }
            Action::Logs => return self.open_logs(),
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn object_under_cursor(&self) -> Option<ObjectRef> {
        let obj = |cluster: &str, namespace: &str, kind: &'static str, name: &str| ObjectRef {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            kind,
            name: name.to_string(),
        };
        match (self.focus, self.pane) {
            (Focus::Tree, _) => match self.tree.table.current()? {
                TreeRow::Space { space, .. } => Some(obj(&space.cluster, "", "Namespace", &space.namespace)),
                _ => None,
            },
            (Focus::Pane, Pane::Apps) => match &self.pods.of {
                Some((a, _)) => self
                    .pods
                    .table
                    .current()
                    .map(|p| obj(&a.space.cluster, &a.space.namespace, "Pod", &p.pod.name)),
                None => self
                    .apps
                    .table
                    .current()
                    .map(|r| obj(&r.cluster, &r.app.namespace, r.app.kind, &r.app.name)),
            },
            (Focus::Pane, Pane::Routes) => self
                .routes
                .table
                .current()
                .map(|r| obj(&r.cluster, &r.namespace, "Ingress", &r.ingress)),
            (Focus::Pane, Pane::Builds) => self
                .builds
                .table
                .current()
                .map(|b| obj(&b.cluster, &b.build.namespace, "PipelineRun", &b.build.name)),
            (Focus::Pane, Pane::Logs) => None,
        }
    }

    pub(super) fn open_logs(&mut self) -> Vec<Effect> {
        let (cluster, title, req) = match (self.focus, self.pane) {
            (Focus::Pane, Pane::Apps) => match &self.pods.of {
                Some((a, _)) => {
                    let Some(p) = self.pods.table.current() else {
                        return Vec::new();
                    };
                    (
                        a.space.cluster.clone(),
                        format!("pod {}/{}", a.space, p.pod.name),
                        LogRequest {
                            namespace: a.space.namespace.clone(),
                            source: LogSource::Pods(vec![p.pod.name.clone()]),
                            container: None,
                            follow: true,
                            tail: Some(500),
                            previous: false,
                        },
                    )
                }
                None => {
                    let Some(r) = self.apps.table.current() else {
                        return Vec::new();
                    };
                    (
                        r.cluster.to_string(),
                        format!("app {}/{}/{}", r.cluster, r.app.namespace, r.app.name),
                        LogRequest {
                            namespace: r.app.namespace.clone(),
                            source: LogSource::App(r.app.name.clone()),
                            container: None,
                            follow: true,
                            tail: Some(200),
                            previous: false,
                        },
                    )
                }
            },
            (Focus::Pane, Pane::Builds) => {
                let Some(b) = self.builds.table.current() else {
                    return Vec::new();
                };
                let snap = self.clusters.iter().find(|c| *c.cluster == *b.cluster);
                let pods: Vec<String> = snap
                    .map(|s| {
                        s.task_runs_of(&b.build.namespace, &b.build.name)
                            .iter()
                            .filter(|t| !t.pod.is_empty())
                            .map(|t| t.pod.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                if pods.is_empty() {
                    self.toast(format!("build {} has no step pods yet", b.build.name), false);
                    return Vec::new();
                }
                (
                    b.cluster.to_string(),
                    format!("build {}/{}/{}", b.cluster, b.build.namespace, b.build.name),
                    LogRequest {
                        namespace: b.build.namespace.clone(),
                        source: LogSource::Pods(pods),
                        container: None,
                        follow: true,
                        tail: None,
                        previous: false,
                    },
                )
            }
            _ => return Vec::new(),
        };
        self.logs.open(title);
        self.pane = Pane::Logs;
        self.focus = Focus::Pane;
        vec![Effect::OpenLogs { cluster, req }]
    }
}
