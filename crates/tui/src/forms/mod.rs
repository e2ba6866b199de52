//! Forms: each field's text and cursor are plain data, checked as they are
//! typed; a form's keys come through the keymap (`form`, and `form_lines` on
//! a multi-line field); submitting builds one command. One module per form
//! builds its fields and its command's parts.

mod bind;
mod build;
mod edit_app;
pub mod field;
mod grant;
pub mod market;
mod new_app;
mod release;
mod route;
mod scale;
mod space;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::component::{Component, Cx};
use crate::keymap::{Action, Context, Key, Keymap, Typed};
use crate::widgets::{block, cut, title_line};
use field::FieldText;
use kdeck_model::{AppRef, SpaceRef};

/// What a key did to a form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormReply {
    Keep,
    Cancel,
    /// The form checked out: run this command (the shell keeps the form
    /// until the command succeeds).
    Submit(Box<kdeck_command::Command>),
    /// The form checked out: show what its command would change (a dry run).
    Preview(Box<kdeck_command::Command>),
    Quit,
}

/// A form: fields typed into, checked as you type.
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
    /// Start a build of the app.
    Build(AppRef),
    BuildSettings(AppRef),
    /// Grant a role on these spaces.
    Grant(Vec<SpaceRef>),
    /// An app's autoscaling; whether it autoscales now.
    Autoscale(AppRef, bool),
    /// A canary of the app.
    Canary(AppRef),
    /// A space's quota and default requests.
    Quota(SpaceRef),
    /// One key of a ConfigMap or Secret in the space.
    ConfigKey(SpaceRef),
    /// A chart of a catalog, on the clusters a selector chooses.
    InstallChart {
        catalog: String,
        chart: String,
    },
    /// A saved solution, in a space.
    InstallSolution(String),
    AddCatalog,
    /// A release (`NAMESPACE/NAME`): here, or on every cluster that has it.
    UpgradeRelease {
        release: String,
        here: String,
        everywhere: Vec<String>,
    },
    RollbackRelease {
        release: String,
        here: String,
        everywhere: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    pub help: &'static str,
    /// What was typed, and where the cursor is.
    pub text: FieldText,
    pub error: Option<String>,
    /// Several lines (one entry per line).
    pub multiline: bool,
    /// Rows shown for a multi-line field.
    pub rows: u16,
    /// Typed hidden (a password): drawn as dots.
    pub secret: bool,
    /// What left and right pick from (anything else can still be typed).
    pub choices: Vec<String>,
}

impl Field {
    fn new(label: &'static str, help: &'static str, value: &str) -> Field {
        Field {
            label,
            help,
            text: FieldText::new(value),
            error: None,
            multiline: false,
            rows: 1,
            secret: false,
            choices: Vec::new(),
        }
    }

    /// A hidden field: what is typed is drawn as dots.
    fn secret(label: &'static str, help: &'static str) -> Field {
        Field {
            secret: true,
            ..Field::new(label, help, "")
        }
    }

    /// A multi-line field, `rows` high, holding `text`.
    fn lines(label: &'static str, help: &'static str, text: &str, rows: u16) -> Field {
        Field {
            multiline: true,
            rows,
            ..Field::new(label, help, text)
        }
    }

    pub fn text(&self) -> String {
        self.text.text()
    }

    pub fn value(&self) -> String {
        self.text().trim().to_string()
    }

    /// The next (or previous) choice after what is typed, round.
    fn pick(&mut self, forward: bool) {
        let n = self.choices.len();
        if n == 0 {
            return;
        }
        let now = self.value();
        let at = self.choices.iter().position(|c| *c == now);
        let next = match (at, forward) {
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
            (None, true) => 0,
            (None, false) => n - 1,
        };
        self.text = FieldText::new(&self.choices[next]);
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

    /// Checks every field; true when all are good.
    pub fn check(&mut self) -> bool {
        use kdeck_model::validate as v;
        let kind = self.kind.clone();
        // Forms of their own modules check their own fields.
        if matches!(
            kind,
            FormKind::Autoscale(..)
                | FormKind::Canary(_)
                | FormKind::Quota(_)
                | FormKind::ConfigKey(_)
                | FormKind::InstallChart { .. }
                | FormKind::InstallSolution(_)
                | FormKind::AddCatalog
                | FormKind::UpgradeRelease { .. }
                | FormKind::RollbackRelease { .. }
        ) {
            let errors: Vec<Option<String>> = self
                .fields
                .iter()
                .map(|f| {
                    let val = f.value();
                    match (&kind, f.label) {
                        (FormKind::Canary(_), "image") => check(v::image("image", &val)),
                        (FormKind::Autoscale(..) | FormKind::Canary(_), l) => self.release_check(l, &val),
                        (FormKind::Quota(_) | FormKind::ConfigKey(_), l) => self.space_check(l, &val),
                        (_, l) => self.market_check(l, &val),
                    }
                })
                .collect();
            for (f, e) in self.fields.iter_mut().zip(errors) {
                f.error = e;
            }
            // A Secret's value is typed hidden, whichever store was picked first.
            if matches!(kind, FormKind::ConfigKey(_)) {
                let secret = self.get("store") == "secret";
                for f in self.fields.iter_mut().filter(|f| f.label == "value") {
                    f.secret = secret;
                }
            }
            return self.fields.iter().all(|f| f.error.is_none());
        }
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
                (_, "env from") => val
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .find_map(|l| kdeck_command::apps::parse_env_from(l).err().map(|e| e.reason)),
                (_, "overrides") => kdeck_command::apps::parse_overrides(&f.text()).err().map(|e| e.reason),
                (_, "git url") => check(v::git_url("git url", &val)),
                (FormKind::Build(_), "revision") if val.is_empty() => Some("a revision is needed".into()),
                (_, "revision") if val.contains(char::is_whitespace) => Some("no spaces".into()),
                (_, "registry") if val.is_empty() => Some("a registry is needed".into()),
                (_, "registry") => check(v::image("registry", &format!("{}/x", val.trim_end_matches('/')))),
                (_, "image name") if val.is_empty() => None,
                (_, "image name") => check(v::image("image name", &val)),
                (_, "deploy") => (!matches!(val.as_str(), "yes" | "no")).then(|| "yes or no".into()),
                (FormKind::Grant(_), "subject") => kdeck_command::roles::parse_subject(&val).err().map(|e| e.reason),
                (FormKind::Grant(_), "role") => kdeck_command::roles::parse_role(&val).err().map(|e| e.reason),
                _ => None,
            };
        }
        self.fields.iter().all(|f| f.error.is_none())
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
            FormKind::Build(app) => Command::StartBuild {
                app: app.to_string(),
                run: kdeck_command::builds::new_run_name(&app.name),
                revision: Some(self.get("revision")),
                deploy: self.get("deploy") == "yes",
            },
            FormKind::BuildSettings(app) => Command::SetBuild(self.build_set(app)),
            FormKind::Grant(spaces) => Command::GrantRole {
                spaces: spaces.iter().map(ToString::to_string).collect(),
                subject: self.get("subject"),
                role: self.get("role"),
            },
            FormKind::Autoscale(app, had) => Command::AutoscaleApp(self.autoscale_spec(app, *had)?),
            FormKind::Canary(app) => {
                let n = |l: &str| self.get(l).parse::<u32>().ok();
                Command::StartCanary(kdeck_command::apps::CanarySpec {
                    app: app.to_string(),
                    image: self.get("image"),
                    weight: n("weight %"),
                    replicas: n("canary replicas"),
                })
            }
            FormKind::Quota(space) => Command::SetQuota(self.quota_spec(space)),
            FormKind::ConfigKey(space) => Command::ChangeConfig(self.config_change(space)),
            FormKind::InstallChart { .. }
            | FormKind::InstallSolution(_)
            | FormKind::AddCatalog
            | FormKind::UpgradeRelease { .. }
            | FormKind::RollbackRelease { .. } => return self.market_command(),
            FormKind::Bind(app) => Command::Bind {
                consumer: app.to_string(),
                provider: self.get("app"),
                connector: self.get("connector"),
                prefix: Some(self.get("prefix")).filter(|p| !p.is_empty()),
            },
        })
    }
}

impl Form {
    /// Whether the form's command has a dry run to show (`kdeck_command::plan::dry_run`).
    pub fn previews(&self) -> bool {
        matches!(
            self.kind,
            FormKind::Autoscale(..) | FormKind::Canary(_) | FormKind::Quota(_) | FormKind::ConfigKey(_)
        )
    }

    fn field(&mut self) -> Option<&mut Field> {
        self.fields.get_mut(self.focused)
    }

    fn multiline(&self) -> bool {
        self.fields.get(self.focused).is_some_and(|f| f.multiline)
    }

    /// A key, read through the keymap in the form's context.
    pub fn key(&mut self, key: Key, keymap: &Keymap) -> FormReply {
        let n = self.fields.len().max(1);
        match keymap.typed(self.context(), key) {
            Typed::Action(Action::Back) => return FormReply::Cancel,
            Typed::Action(Action::Quit) => return FormReply::Quit,
            Typed::Action(Action::Preview) if self.previews() => {
                if self.check()
                    && let Some(cmd) = self.command()
                {
                    return FormReply::Preview(Box::new(cmd));
                }
                return FormReply::Keep;
            }
            Typed::Action(Action::Submit) => {
                if self.check()
                    && let Some(cmd) = self.command()
                {
                    return FormReply::Submit(Box::new(cmd));
                }
                return FormReply::Keep;
            }
            Typed::Action(Action::NextField) => self.focused = (self.focused + 1) % n,
            Typed::Action(Action::PrevField) => self.focused = (self.focused + n - 1) % n,
            // A field with choices picks with left and right.
            Typed::Action(a @ (Action::CursorLeft | Action::CursorRight))
                if self.fields.get(self.focused).is_some_and(|f| !f.choices.is_empty()) =>
            {
                if let Some(field) = self.field() {
                    field.pick(a == Action::CursorRight);
                }
                self.edited();
            }
            Typed::Action(a) => {
                let one_line = !self.multiline();
                let Some(field) = self.field() else {
                    return FormReply::Keep;
                };
                let t = &mut field.text;
                match a {
                    // As in a shell: the line before the cursor goes; a
                    // one-line field is emptied.
                    Action::ClearLine => {
                        if one_line {
                            t.line_end();
                        }
                        t.clear_before_cursor();
                    }
                    Action::DeleteBack => t.delete_back(),
                    Action::DeleteForward => t.delete_forward(),
                    Action::CursorLeft => t.left(),
                    Action::CursorRight => t.right(),
                    Action::LineStart => t.line_start(),
                    Action::LineEnd => t.line_end(),
                    Action::Newline => t.newline(),
                    Action::Up => t.up(),
                    Action::Down => t.down(),
                    _ => return FormReply::Keep,
                }
                self.edited();
            }
            Typed::Text(c) => {
                if let Some(field) = self.field() {
                    field.text.insert(c);
                }
                self.edited();
            }
            Typed::Nothing => {}
        }
        FormReply::Keep
    }

    /// Typing clears the last failure and checks again.
    fn edited(&mut self) {
        self.failure = None;
        self.check();
    }
}

impl Component for Form {
    /// Each field as `label  [text]` with its error (or help) below; a
    /// multi-line field gets its rows of text.
    fn draw(&self, f: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let form = self;
        let rows: u16 = form
            .fields
            .iter()
            .map(|x| if x.multiline { x.rows + 2 } else { 2 })
            .sum();
        let h = (rows + 2 + u16::from(form.failure.is_some()) * 2).min(area.height);
        let w = 72.min(area.width);
        let r = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + area.height.saturating_sub(h) / 2,
            width: w,
            height: h,
        };
        f.render_widget(Clear, r);
        // A form with a multi-line field says the key that applies from any field.
        let ctx = if form.fields.iter().any(|f| f.multiline) {
            Context::FormLines
        } else {
            Context::Form
        };
        let keys = |a: Action| cx.cockpit.keymap.first_key(ctx, a);
        let b = block(
            title_line(
                &form.title,
                format!(
                    "{} apply{} · {} next · {} cancel",
                    keys(Action::Submit),
                    if form.previews() {
                        format!(" · {} dry run", keys(Action::Preview))
                    } else {
                        String::new()
                    },
                    keys(Action::NextField),
                    keys(Action::Back)
                ),
                "",
                t,
            ),
            true,
            t,
        );
        let inner = b.inner(r);
        f.render_widget(b, r);
        let bottom = inner.y + inner.height;
        let mut y = inner.y;
        let line = |f: &mut Frame, y: u16, text: String, style: Style| {
            if y < bottom {
                f.render_widget(
                    Paragraph::new(Line::styled(text, style)),
                    Rect { y, height: 1, ..inner },
                );
            }
        };
        if let Some(why) = &form.failure {
            line(f, y, cut(why, usize::from(inner.width)), t.error);
            y += 2;
        }
        // The longest one-line label and a space (at least 11 columns).
        let label_w = form
            .fields
            .iter()
            .filter(|f| !f.multiline)
            .map(|f| f.label.chars().count() + 1)
            .max()
            .unwrap_or(11)
            .max(11) as u16;
        for (i, field) in form.fields.iter().enumerate() {
            let focused = i == form.focused;
            let label_style = if focused { t.title } else { t.text };
            line(f, y, field.label.to_string(), label_style);
            let (tx, ty, th) = if field.multiline {
                (inner.x + 2, y + 1, field.rows)
            } else {
                (inner.x + label_w, y, 1)
            };
            let tw = inner.width.saturating_sub(tx - inner.x);
            if ty + th <= bottom {
                let style = if field.error.is_some() {
                    t.error
                } else if focused {
                    t.selected_unfocused
                } else {
                    t.dim
                };
                let hidden = field
                    .secret
                    .then(|| FieldText::new(&"•".repeat(field.text().chars().count())));
                draw_text(
                    f,
                    Rect {
                        x: tx,
                        y: ty,
                        width: tw,
                        height: th,
                    },
                    hidden.as_ref().unwrap_or(&field.text),
                    style.add_modifier(Modifier::UNDERLINED),
                    focused,
                );
            }
            let below = ty + th;
            let (msg, style) = match &field.error {
                Some(e) => (format!("  {e}"), t.error),
                None if !field.choices.is_empty() => (
                    format!("  ‹ › {} · {}", cut(&field.choices.join(" "), 40), field.help),
                    t.dim,
                ),
                None => (format!("  {}", field.help), t.dim),
            };
            line(f, below, cut(&msg, usize::from(inner.width)), style);
            y = below + 1;
        }
    }

    fn context(&self) -> Context {
        if self.multiline() {
            Context::FormLines
        } else {
            Context::Form
        }
    }

    fn commands(&self) -> &'static [(Action, &'static str)] {
        if self.previews() {
            return &[
                (Action::Submit, "apply"),
                (Action::Preview, "dry run"),
                (Action::NextField, "next"),
                (Action::Back, "cancel"),
            ];
        }
        &[
            (Action::Submit, "apply"),
            (Action::NextField, "next"),
            (Action::Back, "cancel"),
        ]
    }
}

/// A field's text in its box: the rows and columns around the cursor, the
/// cursor shown (reversed) when the field has the keys.
fn draw_text(f: &mut Frame, area: Rect, text: &FieldText, style: Style, focused: bool) {
    let (rows, cols) = (usize::from(area.height), usize::from(area.width));
    let (top, left) = text.viewport(rows, cols);
    let (crow, ccol) = text.cursor();
    let lines: Vec<Line> = (top..top + rows)
        .map(|r| {
            let Some(l) = text.lines().get(r) else {
                return Line::styled("", style);
            };
            let chars: Vec<char> = l.chars().skip(left).take(cols).collect();
            if !focused || r != crow {
                return Line::styled(chars.iter().collect::<String>(), style);
            }
            let at = ccol.saturating_sub(left);
            let before: String = chars.iter().take(at).collect();
            let under: String = chars.get(at).map_or(" ".to_string(), char::to_string);
            let after: String = chars.iter().skip(at + 1).collect();
            Line::from(vec![
                Span::styled(before, style),
                Span::styled(under, style.add_modifier(Modifier::REVERSED)),
                Span::styled(after, style),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines).style(style), area);
}
