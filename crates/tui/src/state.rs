//! The cockpit's state: plain data, changed only by [`Cockpit::key`],
//! [`Cockpit::set_fleet`] and the other inputs of the event loop. Anything
//! that needs the network comes back as an [`Effect`] for the loop to run.
//! Drawing reads this state and nothing else.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use time::OffsetDateTime;

use super::keymap::{Action, Context, Key, KeyName, Keymap};
use super::rows::{self, AppRow, BuildRow, Nav, PodRow, RouteRow, Table, TreeRow};
use kdeck_fleet::live::ClusterSnapshot;
use kdeck_fleet::logs::{LineKind, LogBuffer, LogLine, LogRequest, LogSource};
use kdeck_model::{AppRef, SpaceRef};

/// Above this many spaces in view, pods and builds are not watched (the
/// builds pane asks for a narrower view instead).
pub const FOCUS_LIMIT: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Apps,
    Routes,
    Builds,
    Logs,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Apps, Pane::Routes, Pane::Builds, Pane::Logs];
    pub fn title(self) -> &'static str {
        match self {
            Pane::Apps => "apps",
            Pane::Routes => "routes",
            Pane::Builds => "builds",
            Pane::Logs => "logs",
        }
    }
}

/// Which spaces the panes show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Cluster(String),
    Spaces(BTreeSet<SpaceRef>),
}

impl Scope {
    pub fn contains(&self, cluster: &str, ns: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Cluster(c) => c == cluster,
            Scope::Spaces(s) => s.iter().any(|r| r.cluster == cluster && r.namespace == ns),
        }
    }
    pub fn covers_cluster(&self, cluster: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Cluster(c) => c == cluster,
            Scope::Spaces(s) => s.iter().any(|r| r.cluster == cluster),
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "all spaces".into(),
            Scope::Cluster(c) => format!("{c} (all its spaces)"),
            Scope::Spaces(s) if s.len() == 1 => s.iter().next().map(ToString::to_string).unwrap_or_default(),
            Scope::Spaces(s) => format!("{} marked spaces", s.len()),
        }
    }
}

/// Where keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Tree,
    Pane,
}

/// Text being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// The filter of the focused list.
    Filter,
    Palette,
    LogSearch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteItem {
    Command(&'static str, &'static str),
    Theme(&'static str),
    Space(SpaceRef),
    App(AppRef, &'static str),
}

impl PaletteItem {
    pub fn label(&self) -> String {
        match self {
            PaletteItem::Command(c, _) => (*c).to_string(),
            PaletteItem::Theme(t) => format!("theme {t}"),
            PaletteItem::Space(s) => format!("space {s}"),
            PaletteItem::App(a, _) => format!("app {a}"),
        }
    }
    pub fn help(&self) -> String {
        match self {
            PaletteItem::Command(_, h) => (*h).to_string(),
            PaletteItem::Theme(_) => "switch the colours".into(),
            PaletteItem::Space(_) => "show this space".into(),
            PaletteItem::App(_, kind) => format!("{kind}: show it in its space"),
        }
    }
}

const COMMANDS: &[(&str, &str)] = &[
    ("apps", "the apps pane"),
    ("routes", "the routes pane"),
    ("builds", "the builds pane"),
    ("logs", "the logs pane"),
    ("all", "every space on every cluster"),
    ("marks clear", "unmark every row"),
    ("help", "keys and what they do"),
    ("quit", "leave kdeck"),
];

/// A popup over the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    /// YAML or a description, fetched from the cluster.
    Text {
        title: String,
        lines: Vec<String>,
        scroll: usize,
        loading: bool,
    },
    /// A command that changes something, waiting for `y`.
    Confirm {
        question: String,
        command: Box<kdeck_command::Command>,
    },
    Palette {
        items: Vec<PaletteItem>,
        /// The items' labels, made once when the palette opens.
        labels: Vec<String>,
        /// Every item that matched the text typed so far (typing on narrows it).
        matched: Vec<usize>,
        /// The text `matched` is for.
        query: String,
        /// The best of `matched`, ranked.
        shown: Vec<usize>,
        selected: usize,
    },
    ConfirmQuit,
    /// Copying apps: targets, plan, progress.
    Copy(Box<super::copyflow::CopyFlow>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: OffsetDateTime,
}

/// What the object under the cursor is, for YAML, describe and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub cluster: String,
    pub namespace: String,
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchKind {
    Yaml,
    Describe,
}

/// Work for the event loop: it owns the network.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    OpenLogs {
        cluster: String,
        req: LogRequest,
    },
    /// A command for the command layer (journalled, like the CLI's).
    Run(Box<kdeck_command::Command>),
    Fetch {
        what: FetchKind,
        object: ObjectRef,
    },
    /// Compare a stored app with its cluster; the answer fills the text overlay.
    Drift(AppRef),
    /// Open the object's YAML in `$EDITOR` and apply the edit as a patch.
    EditYaml(ObjectRef),
    /// Plan a copy; the plan comes back to the copy overlay.
    PlanCopy(kdeck_command::copy::CopySpec),
    /// Run a copy, reporting each item to the copy overlay.
    RunCopy(kdeck_command::copy::CopySpec),
    /// Ask the running copy to stop after the items in flight.
    CancelCopy,
}

/// The logs pane: what is shown and how.
#[derive(Debug, Clone)]
pub struct LogsPane {
    pub title: String,
    pub buffer: LogBuffer,
    pub follow: bool,
    pub wrap: bool,
    pub timestamps: bool,
    pub search: String,
    /// Lines from the end when not following.
    pub scroll: usize,
    /// Only this container (`pod/container` sources); all when `None`.
    pub container: Option<String>,
    pub open: bool,
}

impl LogsPane {
    fn new(cap: usize) -> Self {
        Self {
            title: String::new(),
            buffer: LogBuffer::new(cap),
            follow: true,
            wrap: false,
            timestamps: false,
            search: String::new(),
            scroll: 0,
            container: None,
            open: false,
        }
    }

    /// The lines shown: the container filter applied.
    pub fn visible(&self) -> impl DoubleEndedIterator<Item = &LogLine> {
        let only = self.container.clone();
        self.buffer.iter().filter(move |l| match &only {
            Some(c) => l.kind != LineKind::Out || l.source.rsplit('/').next() == Some(c.as_str()),
            None => true,
        })
    }

    /// The containers seen so far, in first-seen order.
    pub fn containers(&self) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for l in self.buffer.iter() {
            if let Some((_, c)) = l.source.rsplit_once('/')
                && !seen.iter().any(|s| s == c)
            {
                seen.push(c.to_string());
            }
        }
        seen
    }
}

/// Which lists must be made again from the snapshots.
#[derive(Debug, Clone, Copy, Default)]
struct Stale {
    tree: bool,
    apps: bool,
    routes: bool,
    builds: bool,
    pods: bool,
}

impl Stale {
    const ALL: Stale = Stale {
        tree: true,
        apps: true,
        routes: true,
        builds: true,
        pods: true,
    };
}

/// The whole cockpit.
#[derive(Debug, Clone)]
pub struct Cockpit {
    pub clusters: Vec<Arc<ClusterSnapshot>>,
    pub attached: BTreeSet<SpaceRef>,
    pub keymap: Keymap,
    pub focus: Focus,
    pub pane: Pane,
    pub scope: Scope,
    pub tree: Table<TreeRow>,
    pub collapsed: BTreeSet<String>,
    /// Spaces marked in the tree.
    pub marked_spaces: BTreeSet<SpaceRef>,
    pub apps: Table<AppRow>,
    /// The app whose pods the apps pane shows (drilled in with enter).
    pub pods_of: Option<(AppRef, &'static str)>,
    pub pods: Table<PodRow>,
    pub routes: Table<RouteRow>,
    pub builds: Table<BuildRow>,
    /// Marked app rows, across spaces, for bulk actions.
    pub marks: BTreeSet<AppRef>,
    pub logs: LogsPane,
    pub input: Option<Input>,
    pub overlay: Option<Overlay>,
    pub toasts: Vec<Toast>,
    /// Commands running now: quitting asks first while there are any.
    pub running: usize,
    pub read_only: bool,
    pub now: OffsetDateTime,
    pub quit: bool,
    /// Set when the theme should change (the loop owns the theme).
    pub theme_request: Option<String>,
    /// Which rows need rebuilding from the snapshots.
    stale: Stale,
    /// Rows visible in the focused list, set by the loop from the terminal size.
    pub page: usize,
    /// What was wrong with the user's keymap or theme files.
    pub warnings: Vec<String>,
    /// A form being filled in.
    pub form: Option<Form>,
    /// The apps kdeck stores (drafts show in the apps pane before their deploy).
    pub stored: Vec<kdeck_command::apps::Managed>,
    /// The last form submitted, kept until its command succeeds: a failure
    /// reopens it with what was typed and the reason.
    pub submitted: Option<Form>,
}

/// A form: fields typed into with ratatui-textarea, checked as you type.
#[derive(Debug, Clone)]
pub struct Form {
    pub title: String,
    pub kind: FormKind,
    pub fields: Vec<Field>,
    pub focused: usize,
    /// Why the last submit failed (the server's reason), when it did.
    pub failure: Option<String>,
}

/// What a form makes: each kind builds one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    Scale(AppRef),
    NewApp(SpaceRef),
    Route(AppRef),
    Bind(AppRef),
    /// The settings as they were when the form opened: the command carries
    /// only what changed.
    EditApp(Box<kdeck_model::App>),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub help: &'static str,
    pub input: ratatui_textarea::TextArea<'static>,
    pub error: Option<String>,
    /// Several lines (one entry per line).
    pub multiline: bool,
    /// Rows shown for a multi-line field.
    pub rows: u16,
}

impl Field {
    fn new(label: &'static str, help: &'static str, value: &str) -> Field {
        let mut input = ratatui_textarea::TextArea::new(vec![value.to_string()]);
        input.move_cursor(ratatui_textarea::CursorMove::End);
        Field {
            label,
            help,
            input,
            error: None,
            multiline: false,
            rows: 1,
        }
    }

    /// A multi-line field, `rows` high, holding `text`.
    fn lines(label: &'static str, help: &'static str, text: &str, rows: u16) -> Field {
        let mut f = Field::new(label, help, "");
        f.input = ratatui_textarea::TextArea::new(text.lines().map(str::to_string).collect());
        f.input.move_cursor(ratatui_textarea::CursorMove::Bottom);
        f.input.move_cursor(ratatui_textarea::CursorMove::End);
        f.multiline = true;
        f.rows = rows;
        f
    }

    pub fn text(&self) -> String {
        self.input.lines().join("\n")
    }

    pub fn value(&self) -> String {
        self.text().trim().to_string()
    }
}

fn check_number(v: &str, max: u32) -> Option<String> {
    match v.parse::<u32>() {
        Ok(n) if n <= max => None,
        Ok(n) => Some(format!("{n} is more than {max}")),
        Err(_) if v.is_empty() => Some("a number is needed".into()),
        Err(_) => Some(format!("{v:?} is not a whole number")),
    }
}

fn check(r: Result<(), kdeck_model::ValidationError>) -> Option<String> {
    // The fix first: a narrow form cuts the end of the line.
    r.err().map(|e| match e.suggestion {
        Some(s) => format!("try {s:?}: {}", e.problem),
        None => e.problem,
    })
}

impl Form {
    fn make(title: String, kind: FormKind, fields: Vec<Field>) -> Form {
        let mut f = Form {
            title,
            kind,
            fields,
            focused: 0,
            failure: None,
        };
        f.check();
        f
    }

    /// The scale form of an app, starting from its replica count.
    pub fn scale(app: AppRef, replicas: i32) -> Form {
        Form::make(
            format!("scale {app}"),
            FormKind::Scale(app),
            vec![Field::new(
                "replicas",
                "0 to 1000; 0 stops the app",
                &replicas.to_string(),
            )],
        )
    }

    /// A new app in a space: stored as a draft, deployed with `A`.
    pub fn new_app(space: SpaceRef) -> Form {
        let env = Field::lines(
            "env",
            "NAME=VALUE, one per line (enter adds a line; ctrl-s saves)",
            "",
            2,
        );
        Form::make(
            format!("new app in {space}"),
            FormKind::NewApp(space),
            vec![
                Field::new("name", "lower-case letters, digits and '-'", ""),
                Field::new("image", "e.g. ghcr.io/acme/web:1.0", ""),
                Field::new("port", "the port it listens on; empty for none", "8080"),
                Field::new("replicas", "0 to 1000", "1"),
                Field::new(
                    "kind",
                    "deployment, or stateful (a StatefulSet: a volume per pod)",
                    "deployment",
                ),
                Field::new(
                    "volumes",
                    "NAME:SIZE[:PATH][:ACCESS] each, e.g. data:10Gi; empty for none",
                    "",
                ),
                env,
                Field::new(
                    "route",
                    "a host, `default` for <app>-<space>.<domain>, or empty",
                    "default",
                ),
            ],
        )
    }

    pub fn route(app: AppRef) -> Form {
        Form::make(
            format!("add a route to {app}"),
            FormKind::Route(app),
            vec![
                Field::new("host", "empty for <app>-<space>.<domain>", ""),
                Field::new("shared", "yes: in the space's shared Ingress; no: its own", "no"),
            ],
        )
    }

    pub fn bind(app: AppRef) -> Form {
        Form::make(
            format!("bind {app} to"),
            FormKind::Bind(app),
            vec![
                Field::new("app", "CLUSTER/SPACE/APP that offers the connector", ""),
                Field::new("connector", "the connector's name, e.g. postgres", ""),
                Field::new("prefix", "env var prefix; empty for the app's name", ""),
            ],
        )
    }

    /// The stored settings of an app, to change: the command carries what changed.
    pub fn edit_app(app: &kdeck_model::App) -> Form {
        use kdeck_model::EnvSource;
        let env: Vec<String> = app
            .env
            .iter()
            .filter_map(|e| match &e.source {
                EnvSource::Value(v) => Some(format!("{}={v}", e.name)),
                _ => None,
            })
            .collect();
        let connectors: Vec<String> = app.connectors.iter().map(kdeck_command::apps::connector_spec).collect();
        let overrides = app
            .overrides
            .as_ref()
            .and_then(|o| serde_saphyr::to_string(o).ok())
            .unwrap_or_default();
        Form::make(
            format!("edit {}", app.app),
            FormKind::EditApp(Box::new(app.clone())),
            vec![
                Field::new("image", "e.g. ghcr.io/acme/web:1.1", &app.image),
                Field::lines(
                    "env",
                    "NAME=VALUE per line (env from secrets stays as it is); ctrl-s saves",
                    &env.join("\n"),
                    3,
                ),
                Field::lines(
                    "connectors",
                    "NAME:key=value,key=secret:SECRET/KEY per line",
                    &connectors.join("\n"),
                    2,
                ),
                Field::lines(
                    "overrides",
                    "YAML laid over the workload, e.g. spec: {template: {spec: {nodeSelector: {disk: ssd}}}}",
                    &overrides,
                    6,
                ),
            ],
        )
    }

    /// Checks every field; true when all are good.
    pub fn check(&mut self) -> bool {
        use kdeck_model::validate as v;
        let kind = self.kind.clone();
        for f in &mut self.fields {
            let val = f.value();
            f.error = match (&kind, f.label) {
                (FormKind::Scale(_), _) | (_, "replicas") => check_number(&val, 1000),
                (_, "name") => check(v::dns_label("name", &val)),
                (_, "image") => check(v::image("image", &val)),
                (_, "port") if val.is_empty() => None,
                (_, "port") => check_number(&val, 65_535).or_else(|| (val == "0").then(|| "0 is not a port".into())),
                (_, "env") => {
                    val.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .find_map(|l| match l.split_once('=') {
                            None => Some(format!("{l:?} is not NAME=VALUE")),
                            Some((k, _)) => check(v::env_name("env name", k)),
                        })
                }
                (FormKind::NewApp(_), "route") if val.is_empty() || val == "default" => None,
                (FormKind::Route(_), "host") if val.is_empty() => None,
                (_, "route" | "host") => check(v::host("host", &val)),
                (_, "shared") => (!matches!(val.as_str(), "yes" | "no" | "")).then(|| "yes or no".into()),
                (_, "kind") => (!matches!(val.as_str(), "deployment" | "stateful" | "statefulset" | ""))
                    .then(|| "deployment or stateful".into()),
                (_, "volumes") => val
                    .split_whitespace()
                    .find_map(|v| kdeck_command::apps::parse_volume(v).err().map(|e| e.reason)),
                (_, "app") => AppRef::parse("app", &val).err().map(|e| e.problem),
                (_, "connector") => check(v::dns_label("connector", &val)),
                (_, "prefix") if val.is_empty() => None,
                (_, "prefix") => check(v::env_name("prefix", &val)),
                (_, "connectors") => val
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .find_map(|l| kdeck_command::apps::parse_connector(l).err().map(|e| e.reason)),
                (_, "overrides") => kdeck_command::apps::parse_overrides(&f.text()).err().map(|e| e.reason),
                _ => None,
            };
        }
        self.fields.iter().all(|f| f.error.is_none())
    }

    /// What the edit form changed, against the settings it opened with.
    fn app_edit(&self, old: &kdeck_model::App) -> kdeck_command::apps::AppEdit {
        use kdeck_model::EnvSource;
        let lines = |label: &str| -> Vec<String> {
            self.get(label)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let env = lines("env");
        let was: Vec<(String, String)> = old
            .env
            .iter()
            .filter_map(|e| match &e.source {
                EnvSource::Value(v) => Some((e.name.clone(), v.clone())),
                _ => None,
            })
            .collect();
        let set_env = env
            .iter()
            .filter(|l| {
                l.split_once('=')
                    .is_none_or(|(k, v)| !was.iter().any(|(wk, wv)| wk == k && wv == v))
            })
            .cloned()
            .collect();
        let unset_env = was
            .iter()
            .filter(|(k, _)| !env.iter().any(|l| l.split_once('=').is_some_and(|(lk, _)| lk == k)))
            .map(|(k, _)| k.clone())
            .collect();
        let conns = lines("connectors");
        let old_specs: Vec<String> = old.connectors.iter().map(kdeck_command::apps::connector_spec).collect();
        let connectors = conns.iter().filter(|c| !old_specs.contains(c)).cloned().collect();
        let remove_connectors = old
            .connectors
            .iter()
            .filter(|c| {
                !conns
                    .iter()
                    .any(|l| l.split_once(':').is_some_and(|(n, _)| n == c.name))
            })
            .map(|c| c.name.clone())
            .collect();
        let overrides_text = self
            .fields
            .iter()
            .find(|f| f.label == "overrides")
            .map(Field::text)
            .unwrap_or_default();
        let new_overrides = kdeck_command::apps::parse_overrides(&overrides_text).ok().flatten();
        let image = self.get("image");
        kdeck_command::apps::AppEdit {
            app: old.app.to_string(),
            image: (image != old.image).then_some(image),
            set_env,
            unset_env,
            connectors,
            remove_connectors,
            overrides: (new_overrides != old.overrides).then_some(overrides_text),
        }
    }

    fn get(&self, label: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.label == label)
            .map(Field::value)
            .unwrap_or_default()
    }

    fn command(&self) -> Option<kdeck_command::Command> {
        use kdeck_command::Command;
        Some(match &self.kind {
            FormKind::Scale(app) => Command::ScaleApp {
                app: app.to_string(),
                replicas: self.get("replicas").parse().ok()?,
            },
            FormKind::NewApp(space) => {
                let port = self.get("port");
                let route = self.get("route");
                Command::CreateApp(kdeck_command::apps::NewApp {
                    app: format!("{space}/{}", self.get("name")),
                    image: self.get("image"),
                    stateful: match self.get("kind").as_str() {
                        "" | "deployment" => false,
                        "stateful" | "statefulset" => true,
                        _ => return None,
                    },
                    volumes: self.get("volumes").split_whitespace().map(str::to_string).collect(),
                    replicas: self.get("replicas").parse().ok()?,
                    ports: if port.is_empty() {
                        Vec::new()
                    } else {
                        vec![port.parse().ok()?]
                    },
                    env: self
                        .get("env")
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect(),
                    routes: match route.as_str() {
                        "" => Vec::new(),
                        "default" => vec![String::new()],
                        h => vec![h.to_string()],
                    },
                    connectors: Vec::new(),
                    template: None,
                })
            }
            FormKind::Route(app) => Command::AddRoute {
                app: app.to_string(),
                host: self.get("host"),
                shared: self.get("shared") == "yes",
            },
            FormKind::EditApp(old) => Command::EditApp(self.app_edit(old)),
            FormKind::Bind(app) => Command::Bind {
                consumer: app.to_string(),
                provider: self.get("app"),
                connector: self.get("connector"),
                prefix: Some(self.get("prefix")).filter(|p| !p.is_empty()),
            },
        })
    }
}

fn matcher() -> SkimMatcherV2 {
    SkimMatcherV2::default().smart_case()
}

impl Cockpit {
    pub fn new(keymap: Keymap, now: OffsetDateTime, log_lines: usize) -> Self {
        Self {
            clusters: Vec::new(),
            attached: BTreeSet::new(),
            keymap,
            focus: Focus::Tree,
            pane: Pane::Apps,
            scope: Scope::All,
            tree: Table::default(),
            collapsed: BTreeSet::new(),
            marked_spaces: BTreeSet::new(),
            apps: Table::default(),
            pods_of: None,
            pods: Table::default(),
            routes: Table::default(),
            builds: Table::default(),
            marks: BTreeSet::new(),
            logs: LogsPane::new(log_lines),
            input: None,
            overlay: None,
            toasts: Vec::new(),
            running: 0,
            read_only: false,
            now,
            quit: false,
            theme_request: None,
            stale: Stale::ALL,
            page: 20,
            warnings: Vec::new(),
            form: None,
            stored: Vec::new(),
            submitted: None,
        }
    }

    pub fn tree_filter(&self) -> &str {
        self.tree.filter()
    }

    /// The stored apps changed (a command ran).
    pub fn set_stored(&mut self, apps: Vec<kdeck_command::apps::Managed>) {
        self.stored = apps;
        self.stale = Stale::ALL;
    }

    /// New snapshots from the fleet. Only the rows whose maps changed are
    /// made again; false when nothing drawn changed.
    pub fn set_fleet(&mut self, clusters: Vec<Arc<ClusterSnapshot>>) -> bool {
        let old = std::mem::replace(&mut self.clusters, clusters);
        if old.len() != self.clusters.len() || old.iter().zip(&self.clusters).any(|(o, n)| o.cluster != n.cluster) {
            self.stale = Stale::ALL;
            return true;
        }
        let mut changed = false;
        for (o, n) in old.iter().zip(&self.clusters) {
            if Arc::ptr_eq(o, n) || o.same_as(n) {
                continue;
            }
            changed = true;
            let s = &mut self.stale;
            s.tree |=
                o.health != n.health || o.restricted != n.restricted || !Arc::ptr_eq(&o.namespaces, &n.namespaces);
            s.apps |= !Arc::ptr_eq(&o.apps, &n.apps);
            s.routes |= !Arc::ptr_eq(&o.routes, &n.routes);
            s.builds |= !Arc::ptr_eq(&o.builds, &n.builds) || !Arc::ptr_eq(&o.task_runs, &n.task_runs);
            s.pods |= !Arc::ptr_eq(&o.pods, &n.pods);
        }
        changed
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push(Toast {
            text: text.into(),
            error,
            until: self.now + time::Duration::seconds(if error { 8 } else { 4 }),
        });
    }

    /// Drops toasts whose time is up; true when one went.
    pub fn expire_toasts(&mut self) -> bool {
        let before = self.toasts.len();
        let now = self.now;
        self.toasts.retain(|t| t.until > now);
        self.toasts.len() != before
    }

    /// The spaces whose pods and builds should be watched.
    pub fn focus_spaces(&self) -> Vec<SpaceRef> {
        let mut out: BTreeSet<SpaceRef> = BTreeSet::new();
        match &self.scope {
            Scope::Spaces(s) => out.extend(s.iter().cloned()),
            scope => {
                let covered = || self.clusters.iter().filter(|c| scope.covers_cluster(&c.cluster));
                // Counted before any is made: a wide scope has thousands.
                if covered().map(|c| c.namespaces.len()).sum::<usize>() <= FOCUS_LIMIT {
                    out.extend(covered().flat_map(|c| c.namespaces.keys().map(|n| SpaceRef::new(&c.cluster, n))));
                }
            }
        }
        if let Some((a, _)) = &self.pods_of {
            out.insert(a.space.clone());
        }
        out.into_iter().collect()
    }

    /// True when the scope is too wide for pods and builds to be watched.
    pub fn focus_too_wide(&self) -> Option<usize> {
        if matches!(self.scope, Scope::Spaces(_)) {
            return None;
        }
        let n: usize = self
            .clusters
            .iter()
            .filter(|c| self.scope.covers_cluster(&c.cluster))
            .map(|c| c.namespaces.len())
            .sum();
        (n > FOCUS_LIMIT).then_some(n)
    }

    /// Rebuilds the rows that depend on the snapshots, scope or filters.
    pub fn refresh(&mut self) {
        let stale = std::mem::take(&mut self.stale);
        if stale.tree {
            let tree = rows::tree_rows(&self.clusters, &self.attached, &self.collapsed);
            self.tree.set_rows(tree);
        }
        if stale.apps {
            self.apps
                .set_rows(rows::app_rows(&self.clusters, &self.scope, &self.stored));
        }
        if stale.routes {
            self.routes.set_rows(rows::route_rows(&self.clusters, &self.scope));
        }
        if stale.builds {
            self.builds.set_rows(rows::build_rows(&self.clusters, &self.scope));
        }
        if stale.pods {
            let pods = match &self.pods_of {
                Some((a, kind)) => rows::pod_rows(&self.clusters, a, kind),
                None => Vec::new(),
            };
            self.pods.set_rows(pods);
        }
    }

    /// The keymap context of what has the keys now.
    pub fn context(&self) -> Context {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => Context::Tree,
            (Focus::Pane, Pane::Logs) => Context::Logs,
            (Focus::Pane, _) => Context::List,
        }
    }

    /// The focused list, when a list has the keys.
    fn list_mut(&mut self) -> Option<&mut dyn rows::Nav> {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => Some(&mut self.tree),
            (Focus::Pane, Pane::Apps) if self.pods_of.is_some() => Some(&mut self.pods),
            (Focus::Pane, Pane::Apps) => Some(&mut self.apps),
            (Focus::Pane, Pane::Routes) => Some(&mut self.routes),
            (Focus::Pane, Pane::Builds) => Some(&mut self.builds),
            (Focus::Pane, Pane::Logs) => None,
        }
    }

    /// A key pressed. Returns the work the loop must do for it.
    pub fn key(&mut self, key: Key) -> Vec<Effect> {
        if self.form.is_some() {
            return self.form_key(key);
        }
        if self.input.is_some() {
            return self.input_key(key);
        }
        if let Some(o) = &self.overlay {
            return self.overlay_key(key, o.clone());
        }
        match self.keymap.action(self.context(), key) {
            Some(a) => self.action(a),
            None => Vec::new(),
        }
    }

    fn form_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(form) = self.form.as_mut() else {
            return Vec::new();
        };
        let multiline = form.fields.get(form.focused).is_some_and(|f| f.multiline);
        let submit = (key.code == KeyName::Enter && !multiline) || (key.ctrl && key.code == KeyName::Char('s'));
        match key.code {
            KeyName::Esc => self.form = None,
            _ if submit => {
                if form.check()
                    && let Some(cmd) = form.command()
                {
                    self.submitted = self.form.take();
                    return vec![Effect::Run(Box::new(cmd))];
                }
            }
            KeyName::Tab => form.focused = (form.focused + 1) % form.fields.len().max(1),
            KeyName::Down if !multiline => form.focused = (form.focused + 1) % form.fields.len().max(1),
            KeyName::BackTab | KeyName::Up if !multiline || key.code == KeyName::BackTab => {
                form.focused = (form.focused + form.fields.len().max(1) - 1) % form.fields.len().max(1)
            }
            // As in a shell: the line before the cursor goes; a one-line field is emptied.
            KeyName::Char('u') if key.ctrl => {
                if let Some(field) = form.fields.get_mut(form.focused) {
                    if !field.multiline {
                        field.input.move_cursor(ratatui_textarea::CursorMove::End);
                    }
                    field.input.delete_line_by_head();
                }
                form.failure = None;
                form.check();
            }
            _ => {
                use ratatui_textarea::{Input, Key as TaKey};
                let k = match key.code {
                    KeyName::Enter => TaKey::Enter,
                    KeyName::Char(c) => TaKey::Char(c),
                    KeyName::Backspace => TaKey::Backspace,
                    KeyName::Delete => TaKey::Delete,
                    KeyName::Left => TaKey::Left,
                    KeyName::Up => TaKey::Up,
                    KeyName::Down => TaKey::Down,
                    KeyName::Right => TaKey::Right,
                    KeyName::Home => TaKey::Home,
                    KeyName::End => TaKey::End,
                    _ => return Vec::new(),
                };
                if let Some(field) = form.fields.get_mut(form.focused) {
                    field.input.input(Input {
                        key: k,
                        ctrl: key.ctrl,
                        alt: key.alt,
                        shift: key.shift,
                    });
                }
                form.failure = None;
                form.check();
            }
        }
        Vec::new()
    }

    /// A command the cockpit ran has ended: say so, and reopen a failed form.
    pub fn command_done(&mut self, verb: &str, ok: bool, message: String) {
        self.running = self.running.saturating_sub(1);
        if ok {
            self.submitted = None;
            self.toast(format!("{verb}: {message}"), false);
        } else {
            if let Some(mut f) = self.submitted.take() {
                f.failure = Some(message.clone());
                self.form = Some(f);
            }
            self.toast(format!("{verb} failed: {message}"), true);
        }
    }

    fn overlay_key(&mut self, key: Key, o: Overlay) -> Vec<Effect> {
        let action = self.keymap.action(Context::List, key);
        match o {
            Overlay::Confirm { command, .. } => {
                self.overlay = None;
                if matches!(key.code, KeyName::Char('y') | KeyName::Char('Y') | KeyName::Enter) {
                    return vec![Effect::Run(command)];
                }
            }
            Overlay::ConfirmQuit => {
                if matches!(key.code, KeyName::Char('y') | KeyName::Char('Y') | KeyName::Enter) {
                    self.quit = true;
                } else {
                    self.overlay = None;
                }
            }
            Overlay::Text { ref title, .. }
                if title.starts_with("drift ") && matches!(action, Some(Action::Deploy | Action::Adopt)) =>
            {
                // Reconcile or adopt straight from the drift report.
                self.overlay = None;
                if let Some(a) = action {
                    return self.action(a);
                }
            }
            Overlay::Help { scroll } | Overlay::Text { scroll, .. } => {
                let page = self.page.max(1);
                let next = match action {
                    Some(Action::Down) => Some(scroll + 1),
                    Some(Action::Up) => Some(scroll.saturating_sub(1)),
                    Some(Action::PageDown | Action::HalfPageDown) => Some(scroll + page),
                    Some(Action::PageUp | Action::HalfPageUp) => Some(scroll.saturating_sub(page)),
                    Some(Action::Top) => Some(0),
                    Some(Action::Bottom) => Some(usize::MAX / 2),
                    _ => None,
                };
                match (next, &mut self.overlay) {
                    (Some(n), Some(Overlay::Help { scroll } | Overlay::Text { scroll, .. })) => *scroll = n,
                    _ => {
                        let quit = self.keymap.action(Context::Global, key) == Some(Action::Quit);
                        if quit && key.code == KeyName::Char('c') && key.ctrl {
                            return self.action(Action::Quit);
                        }
                        // Any other key closes it.
                        self.overlay = None;
                    }
                }
            }
            Overlay::Palette { .. } => {}
            Overlay::Copy(mut flow) => {
                use super::copyflow::{Ask, Stage};
                // Ctrl-C quits from the picker and the plan, as everywhere; a
                // running copy takes it as cancel.
                if key.ctrl && key.code == KeyName::Char('c') && !matches!(flow.stage, Stage::Running { .. }) {
                    self.overlay = None;
                    return self.action(Action::Quit);
                }
                let ask = flow.key(key);
                self.overlay = Some(Overlay::Copy(flow));
                match ask {
                    Ask::Nothing => {}
                    Ask::Close => self.overlay = None,
                    Ask::Plan(spec) => return vec![Effect::PlanCopy(spec)],
                    Ask::Run(spec) => {
                        self.running += 1;
                        return vec![Effect::RunCopy(spec)];
                    }
                    Ask::Cancel => return vec![Effect::CancelCopy],
                }
            }
        }
        Vec::new()
    }

    /// The copy flow over the marked apps (or the selected one).
    fn open_copy(&mut self) {
        if self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
            return;
        }
        let sources: Vec<AppRef> = if self.marks.is_empty() {
            self.selected_app().map(|r| r.app_ref()).into_iter().collect()
        } else {
            self.marks.iter().cloned().collect()
        };
        if sources.is_empty() {
            self.toast("mark apps with space (or select one) in the apps pane, then copy", true);
            return;
        }
        let mut spaces: Vec<SpaceRef> = self
            .clusters
            .iter()
            .flat_map(|c| c.namespaces.keys().map(|ns| SpaceRef::new(&c.cluster, ns)))
            .collect();
        spaces.extend(self.attached.iter().cloned());
        self.overlay = Some(Overlay::Copy(Box::new(super::copyflow::CopyFlow::new(sources, spaces))));
    }

    fn copy_flow(&mut self) -> Option<&mut super::copyflow::CopyFlow> {
        match &mut self.overlay {
            Some(Overlay::Copy(f)) => Some(f),
            _ => None,
        }
    }

    /// The plan of the copy the overlay asked for.
    pub fn copy_planned(&mut self, plan: Result<kdeck_command::copy::CopyPlan, String>) {
        if let Some(f) = self.copy_flow() {
            f.planned(plan);
        }
    }

    pub fn copy_progress(&mut self, d: &kdeck_command::copy::Event) {
        if let Some(f) = self.copy_flow() {
            f.progress(d);
        }
    }

    pub fn copy_finished(&mut self, ok: bool, message: String) {
        if let Some(f) = self.copy_flow() {
            f.finished(ok, message);
        }
    }

    fn input_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(input) = self.input.as_mut() else {
            return Vec::new();
        };
        let kind = input.kind.clone();
        match key.code {
            KeyName::Esc => {
                self.input = None;
                match kind {
                    InputKind::Filter => self.set_filter(String::new()),
                    InputKind::Palette => self.overlay = None,
                    InputKind::LogSearch => self.logs.search.clear(),
                }
                return Vec::new();
            }
            KeyName::Enter => {
                self.input = None;
                if kind == InputKind::Palette {
                    return self.run_palette();
                }
                if kind == InputKind::LogSearch {
                    self.jump_match(true);
                }
                return Vec::new();
            }
            KeyName::Backspace => {
                input.text.pop();
            }
            KeyName::Up | KeyName::Down if kind == InputKind::Palette => {
                if let Some(Overlay::Palette { shown, selected, .. }) = &mut self.overlay {
                    if key.code == KeyName::Up {
                        *selected = selected.saturating_sub(1);
                    } else if *selected + 1 < shown.len() {
                        *selected += 1;
                    }
                }
                return Vec::new();
            }
            KeyName::Char(c) if !key.ctrl && !key.alt => input.text.push(c),
            KeyName::Char('u') if key.ctrl => input.text.clear(),
            KeyName::Char('c') if key.ctrl => {
                self.input = None;
                return self.action(Action::Quit);
            }
            _ => return Vec::new(),
        }
        let text = input.text.clone();
        match kind {
            InputKind::Filter => self.set_filter(text),
            InputKind::Palette => self.palette_filter(&text),
            InputKind::LogSearch => self.logs.search = text,
        }
        Vec::new()
    }

    fn set_filter(&mut self, text: String) {
        if let Some(l) = self.list_mut() {
            l.set_filter(text);
        }
    }

    /// The action behind a key, or one run from the palette or a test.
    pub fn action(&mut self, a: Action) -> Vec<Effect> {
        let ctx = self.context();
        match a {
            Action::Quit => {
                if self.running > 0 {
                    self.overlay = Some(Overlay::ConfirmQuit);
                } else {
                    self.quit = true;
                }
            }
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Palette => self.open_palette(),
            Action::NextPane | Action::PrevPane => {
                // The tree, then each pane, round.
                let stops = 1 + Pane::ALL.len();
                let at = match self.focus {
                    Focus::Tree => 0,
                    Focus::Pane => 1 + Pane::ALL.iter().position(|p| *p == self.pane).unwrap_or(0),
                };
                let next = if a == Action::NextPane {
                    (at + 1) % stops
                } else {
                    (at + stops - 1) % stops
                };
                if next == 0 {
                    self.focus = Focus::Tree;
                } else {
                    self.focus = Focus::Pane;
                    self.pane = Pane::ALL[next - 1];
                }
            }
            Action::AllSpaces => self.set_scope(Scope::All),
            Action::AppsPane => self.show(Pane::Apps),
            Action::RoutesPane => self.show(Pane::Routes),
            Action::BuildsPane => self.show(Pane::Builds),
            Action::LogsPane => self.show(Pane::Logs),
            Action::Up
            | Action::Down
            | Action::Top
            | Action::Bottom
            | Action::PageUp
            | Action::PageDown
            | Action::HalfPageUp
            | Action::HalfPageDown => {
                let page = self.page.max(1);
                if ctx == Context::Logs {
                    self.scroll_logs(a, page);
                } else if let Some(l) = self.list_mut() {
                    l.navigate(a, page);
                }
            }
            Action::Filter => {
                if ctx != Context::Logs {
                    let current = self.list_mut().map(|l| l.filter().to_string()).unwrap_or_default();
                    self.input = Some(Input {
                        kind: InputKind::Filter,
                        text: current,
                    });
                }
            }
            Action::Back => return self.back(),
            Action::Enter => return self.enter(),
            Action::Mark => self.mark(false),
            Action::MarkAll => self.mark(true),
            Action::SortNext | Action::SortReverse => {
                if let Some(l) = self.list_mut() {
                    l.sort(a == Action::SortReverse);
                }
            }
            Action::EditApp | Action::Drift | Action::Adopt => return self.managed_action(a),
            Action::Copy => self.open_copy(),
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
                    self.overlay = Some(Overlay::Text {
                        title: format!(
                            "{} {} {}/{}/{}",
                            if a == Action::Yaml { "yaml" } else { "describe" },
                            object.kind,
                            object.cluster,
                            object.namespace,
                            object.name
                        ),
                        lines: vec!["loading…".into()],
                        scroll: 0,
                        loading: true,
                    });
                    return vec![Effect::Fetch { what, object }];
                }
            }
            Action::Logs => return self.open_logs(),
            Action::Expand | Action::Collapse => {
                if let Some(TreeRow::Cluster { name, .. }) = self.tree.current().cloned() {
                    if a == Action::Collapse {
                        self.collapsed.insert(name);
                    } else {
                        self.collapsed.remove(&name);
                    }
                    self.stale = Stale::ALL;
                    self.refresh();
                }
            }
            Action::Follow => {
                self.logs.follow = !self.logs.follow;
                self.logs.scroll = 0;
            }
            Action::Wrap => self.logs.wrap = !self.logs.wrap,
            Action::Timestamps => self.logs.timestamps = !self.logs.timestamps,
            Action::Search => {
                self.input = Some(Input {
                    kind: InputKind::LogSearch,
                    text: self.logs.search.clone(),
                })
            }
            Action::NextMatch => self.jump_match(true),
            Action::PrevMatch => self.jump_match(false),
            Action::Container => {
                let cs = self.logs.containers();
                self.logs.container = match &self.logs.container {
                    None => cs.first().cloned(),
                    Some(c) => cs.iter().skip_while(|x| *x != c).nth(1).cloned(),
                };
            }
            Action::Clear => self.logs.buffer.clear(),
            Action::NewApp => {
                if self.read_only {
                    self.toast("read-only: this cockpit changes nothing", true);
                    return Vec::new();
                }
                // The space of the selected row, or the only space in view.
                let space = self
                    .apps
                    .current()
                    .map(|r| SpaceRef::new(&*r.cluster, &r.app.namespace))
                    .or_else(|| match &self.scope {
                        Scope::Spaces(s) if s.len() == 1 => s.iter().next().cloned(),
                        _ => None,
                    });
                match space {
                    Some(s) => self.form = Some(Form::new_app(s)),
                    None => self.toast("put a space in view first (enter on it in the tree)", true),
                }
            }
            // Popups, forms and the input line read these in their own contexts.
            Action::Yes
            | Action::Submit
            | Action::NextField
            | Action::PrevField
            | Action::ClearLine
            | Action::DeleteBack
            | Action::DeleteForward
            | Action::CursorLeft
            | Action::CursorRight
            | Action::LineStart
            | Action::LineEnd
            | Action::Newline
            | Action::ConflictPolicy
            | Action::ToggleSecrets => {}
            Action::Scale | Action::Restart | Action::Deploy | Action::AddRoute | Action::Bind => {
                let Some(r) = self.selected_app() else {
                    return Vec::new();
                };
                if self.read_only {
                    self.toast("read-only: this cockpit changes nothing", true);
                    return Vec::new();
                }
                let app = r.app_ref();
                if a == Action::Scale {
                    self.form = Some(Form::scale(app, r.app.desired));
                } else if a == Action::AddRoute {
                    self.form = Some(Form::route(app));
                } else if a == Action::Bind {
                    self.form = Some(Form::bind(app));
                } else if a == Action::Deploy {
                    return vec![Effect::Run(Box::new(kdeck_command::Command::DeployApp {
                        app: app.to_string(),
                        wait: Some(120),
                    }))];
                } else {
                    self.overlay = Some(Overlay::Confirm {
                        question: format!("Restart {app}, pod by pod?"),
                        command: Box::new(kdeck_command::Command::RestartApp { app: app.to_string() }),
                    });
                }
            }
        }
        Vec::new()
    }

    /// The selected app row, when the apps pane (not an app's pods) has focus.
    fn selected_app(&self) -> Option<AppRow> {
        (self.focus == Focus::Pane && self.pane == Pane::Apps && self.pods_of.is_none())
            .then(|| self.apps.current().cloned())
            .flatten()
    }

    /// Edit settings, show drift, adopt: what kdeck's stored settings of the
    /// selected app make possible.
    fn managed_action(&mut self, a: Action) -> Vec<Effect> {
        use kdeck_command::Command;
        use kdeck_command::apps::Sync;
        let Some(r) = self.selected_app() else {
            return Vec::new();
        };
        let app = r.app_ref();
        let stored = self.stored.iter().find(|m| m.settings.app == app);
        if a != Action::Drift && self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
            return Vec::new();
        }
        match (a, stored) {
            (Action::EditApp, Some(m)) => self.form = Some(Form::edit_app(&m.settings)),
            (Action::EditApp | Action::Drift, None) => self.toast(
                format!(
                    "{app} is not managed by kdeck: adopt it first ({})",
                    self.keymap.hint(Context::List, Action::Adopt)
                ),
                true,
            ),
            (Action::Drift, Some(_)) => {
                self.overlay = Some(Overlay::Text {
                    title: format!("drift {app}"),
                    lines: vec!["comparing with the cluster…".into()],
                    scroll: 0,
                    loading: true,
                });
                return vec![Effect::Drift(app)];
            }
            (Action::Adopt, None) => {
                return vec![Effect::Run(Box::new(Command::AdoptApp {
                    app: app.to_string(),
                    replace: false,
                }))];
            }
            (Action::Adopt, Some(_)) if r.sync == Some(Sync::Draft) => self.toast(
                format!("{app} is not in its cluster yet: there is nothing to adopt"),
                true,
            ),
            (Action::Adopt, Some(_)) => {
                self.overlay = Some(Overlay::Confirm {
                    question: format!("Take the cluster's version of {app} over kdeck's settings?"),
                    command: Box::new(Command::AdoptApp {
                        app: app.to_string(),
                        replace: true,
                    }),
                });
            }
            _ => {}
        }
        Vec::new()
    }

    fn show(&mut self, p: Pane) {
        self.pane = p;
        self.focus = Focus::Pane;
    }

    pub fn set_scope(&mut self, scope: Scope) {
        // Another scope's lists start at their top row (the row the cursor
        // was on stays selected only when it is in the new list too).
        if scope != self.scope {
            self.apps.cursor = 0;
            self.apps.offset = 0;
            self.routes.cursor = 0;
            self.routes.offset = 0;
            self.builds.cursor = 0;
            self.builds.offset = 0;
        }
        self.scope = scope;
        self.pods_of = None;
        self.stale = Stale::ALL;
        self.refresh();
        if self.focus == Focus::Tree {
            self.focus = Focus::Pane;
            if self.pane == Pane::Logs && !self.logs.open {
                self.pane = Pane::Apps;
            }
        }
    }

    fn back(&mut self) -> Vec<Effect> {
        if let Some(l) = self.list_mut()
            && !l.filter().is_empty()
        {
            l.set_filter(String::new());
            return Vec::new();
        }
        if self.focus == Focus::Pane && self.pane == Pane::Logs && !self.logs.search.is_empty() {
            self.logs.search.clear();
            return Vec::new();
        }
        if self.focus == Focus::Pane && self.pane == Pane::Apps && self.pods_of.is_some() {
            self.pods_of = None;
            self.stale = Stale::ALL;
            self.refresh();
            return Vec::new();
        }
        if self.focus == Focus::Pane && self.pane == Pane::Logs {
            self.pane = Pane::Apps;
            return Vec::new();
        }
        self.focus = Focus::Tree;
        Vec::new()
    }

    fn enter(&mut self) -> Vec<Effect> {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => {
                let scope = match self.tree.current() {
                    Some(TreeRow::All { .. }) => Scope::All,
                    Some(TreeRow::Cluster { name, .. }) => Scope::Cluster(name.clone()),
                    Some(TreeRow::Space { space, .. }) => {
                        if !self.marked_spaces.is_empty() && self.marked_spaces.contains(space) {
                            Scope::Spaces(self.marked_spaces.clone())
                        } else {
                            Scope::Spaces(BTreeSet::from([space.clone()]))
                        }
                    }
                    None => return Vec::new(),
                };
                self.set_scope(scope);
            }
            (Focus::Pane, Pane::Apps) if self.pods_of.is_none() => {
                if let Some(r) = self.apps.current() {
                    let a = AppRef::new(SpaceRef::new(&*r.cluster, &r.app.namespace), &r.app.name);
                    self.pods_of = Some((a, r.app.kind));
                    self.pods.reset();
                    self.stale = Stale::ALL;
                    self.refresh();
                }
            }
            (Focus::Pane, Pane::Apps) => return self.open_logs(),
            (Focus::Pane, Pane::Builds) => return self.open_logs(),
            _ => {}
        }
        Vec::new()
    }

    fn mark(&mut self, all: bool) {
        match (self.focus, self.pane) {
            (Focus::Tree, _) => {
                let rows: Vec<TreeRow> = if all {
                    self.tree.visible().cloned().collect()
                } else {
                    self.tree.current().cloned().into_iter().collect()
                };
                for r in rows {
                    if let TreeRow::Space { space, .. } = r
                        && !self.marked_spaces.remove(&space)
                    {
                        self.marked_spaces.insert(space);
                    }
                }
                if !all {
                    self.tree.navigate(Action::Down, self.page.max(1));
                }
            }
            (Focus::Pane, Pane::Apps) if self.pods_of.is_none() => {
                let rows: Vec<AppRef> = if all {
                    self.apps.visible().map(AppRow::app_ref).collect()
                } else {
                    self.apps.current().map(AppRow::app_ref).into_iter().collect()
                };
                if all && rows.iter().all(|r| self.marks.contains(r)) {
                    for r in &rows {
                        self.marks.remove(r);
                    }
                } else {
                    for r in rows {
                        if all || !self.marks.remove(&r) {
                            self.marks.insert(r);
                        }
                    }
                }
                if !all {
                    self.apps.navigate(Action::Down, self.page.max(1));
                }
            }
            _ => {}
        }
    }

    fn object_under_cursor(&self) -> Option<ObjectRef> {
        let obj = |cluster: &str, namespace: &str, kind: &'static str, name: &str| ObjectRef {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            kind,
            name: name.to_string(),
        };
        match (self.focus, self.pane) {
            (Focus::Tree, _) => match self.tree.current()? {
                TreeRow::Space { space, .. } => Some(obj(&space.cluster, "", "Namespace", &space.namespace)),
                _ => None,
            },
            (Focus::Pane, Pane::Apps) => match &self.pods_of {
                Some((a, _)) => self
                    .pods
                    .current()
                    .map(|p| obj(&a.space.cluster, &a.space.namespace, "Pod", &p.pod.name)),
                None => self
                    .apps
                    .current()
                    .map(|r| obj(&r.cluster, &r.app.namespace, r.app.kind, &r.app.name)),
            },
            (Focus::Pane, Pane::Routes) => self
                .routes
                .current()
                .map(|r| obj(&r.cluster, &r.namespace, "Ingress", &r.ingress)),
            (Focus::Pane, Pane::Builds) => self
                .builds
                .current()
                .map(|b| obj(&b.cluster, &b.build.namespace, "PipelineRun", &b.build.name)),
            (Focus::Pane, Pane::Logs) => None,
        }
    }

    fn open_logs(&mut self) -> Vec<Effect> {
        let (cluster, title, req) = match (self.focus, self.pane) {
            (Focus::Pane, Pane::Apps) => match &self.pods_of {
                Some((a, _)) => {
                    let Some(p) = self.pods.current() else {
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
                    let Some(r) = self.apps.current() else {
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
                let Some(b) = self.builds.current() else {
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
        self.logs.buffer = LogBuffer::new(self.logs.buffer.capacity());
        self.logs.title = title;
        self.logs.open = true;
        self.logs.follow = true;
        self.logs.scroll = 0;
        self.logs.container = None;
        self.logs.search.clear();
        self.pane = Pane::Logs;
        self.focus = Focus::Pane;
        vec![Effect::OpenLogs { cluster, req }]
    }

    fn scroll_logs(&mut self, a: Action, page: usize) {
        let total = self.logs.visible().count();
        // At most a pageful from the top: the oldest lines fill the pane.
        let max = total.saturating_sub(page.max(1));
        let s = &mut self.logs.scroll;
        match a {
            Action::Up => *s = (*s + 1).min(max),
            Action::Down => *s = s.saturating_sub(1),
            Action::PageUp | Action::HalfPageUp => *s = (*s + page).min(max),
            Action::PageDown | Action::HalfPageDown => *s = s.saturating_sub(page),
            Action::Top => *s = max,
            Action::Bottom => *s = 0,
            _ => {}
        }
        // Scrolled up: hold still; back at the bottom: follow again.
        self.logs.follow = self.logs.scroll == 0;
    }

    /// Moves to the next (or previous) line matching the search.
    fn jump_match(&mut self, forward: bool) {
        if self.logs.search.is_empty() {
            return;
        }
        let lines: Vec<&LogLine> = self.logs.visible().collect();
        let n = lines.len();
        if n == 0 {
            return;
        }
        // Index from the top of the line at the bottom of the view now.
        let at = n - 1 - self.logs.scroll.min(n - 1);
        let hit = |i: &usize| lines[*i].text.contains(self.logs.search.as_str());
        let found = if forward {
            (at + 1..n).find(hit).or_else(|| (0..=at).find(hit))
        } else {
            (0..at).rev().find(hit).or_else(|| (at..n).rev().find(hit))
        };
        match found {
            Some(i) => {
                // The match at the bottom, unless that leaves the pane part empty.
                self.logs.scroll = (n - 1 - i).min(n.saturating_sub(self.page.max(1)));
                self.logs.follow = self.logs.scroll == 0;
            }
            None => {
                let s = self.logs.search.clone();
                self.toast(format!("no line matches {s:?}"), false);
            }
        }
    }

    /// A line arrived for the logs pane. Scrolled up, the view holds still.
    pub fn log_line(&mut self, l: LogLine) {
        if !self.logs.follow && self.logs.scroll > 0 {
            self.logs.scroll += 1;
        }
        self.logs.buffer.push(l);
    }

    fn open_palette(&mut self) {
        let mut items: Vec<PaletteItem> = COMMANDS.iter().map(|(c, h)| PaletteItem::Command(c, h)).collect();
        items.extend(["dark", "light", "mono"].map(PaletteItem::Theme));
        for c in &self.clusters {
            for ns in c.namespaces.keys() {
                items.push(PaletteItem::Space(SpaceRef::new(&c.cluster, ns)));
            }
            for a in c.apps.values() {
                items.push(PaletteItem::App(
                    AppRef::new(SpaceRef::new(&c.cluster, &a.namespace), &a.name),
                    a.kind,
                ));
            }
        }
        for s in &self.attached {
            if !items.iter().any(|i| matches!(i, PaletteItem::Space(x) if x == s)) {
                items.push(PaletteItem::Space(s.clone()));
            }
        }
        let labels = items.iter().map(PaletteItem::label).collect();
        self.overlay = Some(Overlay::Palette {
            matched: (0..items.len()).collect(),
            items,
            labels,
            query: String::new(),
            shown: Vec::new(),
            selected: 0,
        });
        self.input = Some(Input {
            kind: InputKind::Palette,
            text: String::new(),
        });
        self.palette_filter("");
    }

    /// Ranks the palette's items by fuzzy score; the best 50 are shown. A
    /// cheap subsequence test picks the candidates (only those that matched
    /// the shorter text when typing on); fuzzy-matcher scores them.
    fn palette_filter(&mut self, text: &str) {
        let Some(Overlay::Palette {
            labels,
            matched,
            query,
            shown,
            selected,
            ..
        }) = &mut self.overlay
        else {
            return;
        };
        *selected = 0;
        if text.is_empty() {
            *matched = (0..labels.len()).collect();
            *query = String::new();
            *shown = (0..labels.len().min(COMMANDS.len() + 3)).collect();
            return;
        }
        let candidates: Vec<usize> = if !query.is_empty() && text.starts_with(query.as_str()) {
            std::mem::take(matched)
        } else {
            (0..labels.len()).collect()
        };
        let pat = rows::Pattern::new(text);
        *matched = candidates.into_iter().filter(|i| pat.matches(&[&labels[*i]])).collect();
        *query = text.to_string();
        let mut scored: Vec<(i64, usize)> = if text.chars().count() == 1 {
            // One letter says little: shortest labels first, no scoring.
            matched.iter().map(|i| (-(labels[*i].len() as i64), *i)).collect()
        } else {
            let m = matcher();
            matched
                .iter()
                .filter_map(|i| m.fuzzy_match(&labels[*i], text).map(|s| (s, *i)))
                .collect()
        };
        let n = scored.len().min(50);
        if n > 0 && scored.len() > n {
            scored.select_nth_unstable_by(n - 1, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            scored.truncate(n);
        }
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        *shown = scored.into_iter().map(|(_, i)| i).collect();
    }

    fn run_palette(&mut self) -> Vec<Effect> {
        let Some(Overlay::Palette {
            items, shown, selected, ..
        }) = self.overlay.take()
        else {
            return Vec::new();
        };
        let Some(item) = shown.get(selected).and_then(|i| items.get(*i)).cloned() else {
            return Vec::new();
        };
        match item {
            PaletteItem::Command(c, _) => match c {
                "apps" => self.show(Pane::Apps),
                "routes" => self.show(Pane::Routes),
                "builds" => self.show(Pane::Builds),
                "logs" => self.show(Pane::Logs),
                "all" => self.set_scope(Scope::All),
                "marks clear" => {
                    self.marks.clear();
                    self.marked_spaces.clear();
                }
                "help" => self.overlay = Some(Overlay::Help { scroll: 0 }),
                "quit" => return self.action(Action::Quit),
                _ => {}
            },
            PaletteItem::Theme(t) => self.theme_request = Some(t.to_string()),
            PaletteItem::Space(s) => self.set_scope(Scope::Spaces(BTreeSet::from([s]))),
            PaletteItem::App(a, kind) => {
                self.set_scope(Scope::Spaces(BTreeSet::from([a.space.clone()])));
                self.show(Pane::Apps);
                self.apps
                    .select_where(|r| *r.cluster == *a.space.cluster && r.app.name == a.name && r.app.kind == kind);
            }
        }
        Vec::new()
    }

    /// The text of a fetched object, or why it could not be had.
    pub fn fetched(&mut self, title_prefix: &str, result: Result<Vec<String>, String>) {
        if let Some(Overlay::Text {
            title, lines, loading, ..
        }) = &mut self.overlay
            && title.starts_with(title_prefix)
        {
            *loading = false;
            match result {
                Ok(l) => *lines = l,
                Err(e) => *lines = vec![format!("could not read it: {e}")],
            }
        }
    }

    /// A drift report for the text overlay, with the keys that act on it.
    pub fn drift_lines(&self, d: &[kdeck_command::apps::ObjectDrift]) -> Vec<String> {
        let mut out = Vec::new();
        let mut differs = false;
        for o in d {
            out.push(format!("{:<28} {}", o.object, o.action));
            differs |= o.action != "unchanged";
            let w = o.changes.iter().map(|c| c.path.len()).max().unwrap_or(0).min(48);
            for ch in &o.changes {
                out.push(format!(
                    "  {:<w$}  kdeck: {}  cluster: {}",
                    ch.path, ch.ours, ch.cluster
                ));
            }
        }
        out.push(String::new());
        if differs {
            out.push(format!(
                "{}  deploy kdeck's settings over the cluster (reconcile)",
                self.keymap.hint(Context::List, Action::Deploy)
            ));
            out.push(format!(
                "{}  take the cluster's version into kdeck (adopt)",
                self.keymap.hint(Context::List, Action::Adopt)
            ));
        } else {
            out.push("the cluster runs kdeck's settings".to_string());
        }
        out
    }

    /// A one-line summary of fleet health: `3 live · 1 unreachable`.
    pub fn health_summary(&self) -> Vec<(&'static str, usize)> {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for c in &self.clusters {
            *counts.entry(c.health.word()).or_default() += 1;
        }
        let order = ["live", "connecting", "stale", "forbidden", "unreachable"];
        order.iter().filter_map(|w| counts.get(w).map(|n| (*w, *n))).collect()
    }

    pub fn cluster(&self, name: &str) -> Option<&Arc<ClusterSnapshot>> {
        self.clusters.iter().find(|c| c.cluster == name)
    }

    /// Is a cluster in view prod? The header says so loudly.
    pub fn prod_in_view(&self) -> bool {
        self.clusters.iter().any(|c| {
            self.scope.covers_cluster(&c.cluster) && super::theme::cluster_tier(&c.cluster) == super::theme::Tier::Prod
        })
    }
}
