//! Keys to named actions, through data: `keymaps/default.yaml` is embedded;
//! a user file overlays it action by action. Components never match key
//! literals: they ask the keymap which action a key means in their context.
//! A bad user file yields warnings and the defaults, never a failure.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::error::ConfigError;

pub const DEFAULT_YAML: &str = include_str!("../../../keymaps/default.yaml");
/// Shipped keymaps, by name: the default and the overlays.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", DEFAULT_YAML),
    ("emacs", include_str!("../../../keymaps/emacs.yaml")),
];

/// Where a key is read. Each component reads its keys in its own context;
/// a context falls back along [`Context::chain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Context {
    /// Anywhere, unless the focused context binds the key itself.
    Global,
    /// Any list: the spaces tree and the apps, routes and builds tables.
    List,
    /// The spaces tree, on top of `List`.
    Tree,
    /// The logs pane.
    Logs,
    /// A text popup: help, YAML, describe, drift (scrolls as a list; any
    /// other key closes it).
    Overlay,
    /// A question that a change waits on.
    Confirm,
    /// The input line: a filter, the palette, a log search.
    Input,
    /// A form, on a one-line field.
    Form,
    /// A form, on a multi-line field (falls back to `form`).
    FormLines,
    /// The copy flow, picking target spaces (characters filter them).
    CopyTargets,
    /// The copy flow, reading the plan or watching it run.
    CopyPlan,
    /// The roles of a space (falls back to `overlay`, then `list`).
    Roles,
    /// The journal view (falls back to `overlay`, then `list`).
    Journal,
    /// An app's revisions (falls back to `overlay`, then `list`).
    Revisions,
    /// A space's quota, ConfigMaps and Secrets (falls back to `overlay`, then `list`).
    Space,
    /// The marketplace: characters filter it (falls back to `overlay`).
    Market,
    /// Helm releases across the fleet (falls back to `overlay`, then `list`).
    Releases,
}

impl Action {
    /// A move in a list, a log or a text: up, down, top, bottom, by pages.
    pub fn is_move(self) -> bool {
        matches!(
            self,
            Action::Up
                | Action::Down
                | Action::Top
                | Action::Bottom
                | Action::PageUp
                | Action::PageDown
                | Action::HalfPageUp
                | Action::HalfPageDown
        )
    }
}

impl Context {
    pub const ALL: [Context; 17] = [
        Context::Global,
        Context::List,
        Context::Tree,
        Context::Logs,
        Context::Overlay,
        Context::Confirm,
        Context::Input,
        Context::Form,
        Context::FormLines,
        Context::CopyTargets,
        Context::CopyPlan,
        Context::Roles,
        Context::Journal,
        Context::Revisions,
        Context::Space,
        Context::Market,
        Context::Releases,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Tree => "tree",
            Context::Logs => "logs",
            Context::Overlay => "overlay",
            Context::Confirm => "confirm",
            Context::Input => "input",
            Context::Form => "form",
            Context::FormLines => "form_lines",
            Context::CopyTargets => "copy_targets",
            Context::CopyPlan => "copy_plan",
            Context::Roles => "roles",
            Context::Journal => "journal",
            Context::Revisions => "revisions",
            Context::Space => "space",
            Context::Market => "market",
            Context::Releases => "releases",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
    /// Where a key is looked up, in order, when read in this context.
    pub fn chain(self) -> &'static [Context] {
        match self {
            Context::Global => &[Context::Global],
            Context::Tree => &[Context::Tree, Context::List, Context::Global],
            Context::List => &[Context::List, Context::Global],
            Context::Logs => &[Context::Logs, Context::Global],
            // Text popups scroll with the list keys.
            Context::Overlay => &[Context::Overlay, Context::List],
            Context::FormLines => &[Context::FormLines, Context::Form],
            Context::Confirm => &[Context::Confirm],
            Context::Input => &[Context::Input],
            Context::Form => &[Context::Form],
            Context::CopyTargets => &[Context::CopyTargets],
            Context::CopyPlan => &[Context::CopyPlan],
            Context::Roles => &[Context::Roles, Context::Overlay, Context::List],
            Context::Journal => &[Context::Journal, Context::Overlay, Context::List],
            Context::Revisions => &[Context::Revisions, Context::Overlay, Context::List],
            Context::Space => &[Context::Space, Context::Overlay, Context::List],
            Context::Market => &[Context::Market],
            Context::Releases => &[Context::Releases, Context::Overlay, Context::List],
        }
    }
    /// Whether characters typed here are text (keys bound in the context
    /// still act first).
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Context::Input | Context::Form | Context::FormLines | Context::CopyTargets | Context::Market
        )
    }
}

/// What a key means where characters may be text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    Action(Action),
    Text(char),
    Nothing,
}

macro_rules! actions {
    ($($variant:ident = $name:literal : $help:literal,)*) => {
        /// Everything a key can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Action { $($variant,)* }
        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }
            /// One line for the help screen.
            pub fn help(self) -> &'static str {
                match self { $(Action::$variant => $help,)* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    Quit = "quit": "quit kdeck (asks first while a command runs)",
    Help = "help": "this help, made from the keymap in use",
    Palette = "palette": "command palette: commands, spaces and apps, fuzzy",
    NextPane = "next_pane": "next pane (tree, apps, routes, builds, logs)",
    PrevPane = "prev_pane": "previous pane",
    AllSpaces = "all_spaces": "show every space on every cluster",
    AppsPane = "apps_pane": "the apps pane",
    RoutesPane = "routes_pane": "the routes pane",
    BuildsPane = "builds_pane": "the builds pane",
    LogsPane = "logs_pane": "the logs pane",
    Up = "up": "up one row",
    Down = "down": "down one row",
    Top = "top": "first row",
    Bottom = "bottom": "last row",
    PageUp = "page_up": "up one page",
    PageDown = "page_down": "down one page",
    HalfPageUp = "half_page_up": "up half a page",
    HalfPageDown = "half_page_down": "down half a page",
    Filter = "filter": "fuzzy filter the list (esc clears)",
    Back = "back": "clear the filter, close, or go back",
    Enter = "enter": "drill in: a space or cluster into view, an app's pods, a build's step logs",
    Mark = "mark": "mark or unmark the row (marks span spaces)",
    MarkAll = "mark_all": "mark every visible row",
    SortNext = "sort_next": "sort by the next column",
    SortReverse = "sort_reverse": "reverse the sort",
    Yaml = "yaml": "the object as YAML",
    Describe = "describe": "describe the object: status, pods, events",
    Logs = "logs": "logs of the app, pod or build",
    Expand = "expand": "open a cluster in the tree",
    Collapse = "collapse": "close a cluster in the tree",
    Follow = "follow": "follow new lines, or pause",
    Wrap = "wrap": "wrap long lines",
    Timestamps = "timestamps": "show when each line was written",
    Search = "search": "search the log (highlights matches)",
    NextMatch = "next_match": "next match",
    PrevMatch = "prev_match": "previous match",
    Container = "container": "next container (all, then each one)",
    Clear = "clear": "clear the log buffer",
    Scale = "scale": "scale the app (a form; kdeck-managed apps)",
    Restart = "restart": "restart the app, rolling (asks first)",
    NewApp = "new_app": "a new app in the space (a form; stored as a draft)",
    Deploy = "deploy": "deploy the app and wait for it to be ready (reconciles drift)",
    AddRoute = "add_route": "add a route to the app (a form)",
    Bind = "bind": "bind the app to another app's connector (a form)",
    EditApp = "edit_app": "edit the app's settings: image, env, connectors, YAML overrides (a form)",
    Edit = "edit": "edit the object's YAML in $EDITOR; the change is applied as a patch",
    Drift = "drift": "what differs between the cluster and kdeck's settings (deploy reconciles)",
    Adopt = "adopt": "take the cluster's version of the app into kdeck's settings (asks first)",
    Copy = "copy": "copy the marked apps (or this one) to other spaces: pick targets, read the plan, watch it run",
    Build = "build": "build the app (or the build's app) from its build settings: a revision prompt, then a run",
    CancelBuild = "cancel_build": "cancel the build (asks first; its finally tasks are skipped)",
    CancelBuildGraceful = "cancel_build_graceful": "cancel the build gracefully: its finally tasks still run (asks first)",
    Rerun = "rerun": "run the build again with the same params",
    BuildSettings = "build_settings": "the app's build settings: git, revision, registry and logins (a form)",
    Roles = "roles": "who holds which role in the space (or the marked spaces); grant and revoke there",
    Journal = "journal": "the journal: every command run here, who ran it, how each item went; filter it",
    Grant = "grant": "grant a role on the spaces shown: a subject, a role (a form)",
    Revoke = "revoke": "revoke the role under the cursor (asks first)",
    Details = "details": "the entry's details: each item's result",
    History = "history": "the app's revisions (one per deploy that changed it) and the cluster's rollout history",
    Rollback = "rollback": "deploy the selected revision again (asks first); recorded as the next revision",
    Autoscale = "autoscale": "autoscale the app between bounds on CPU or memory use, or turn it off (a form)",
    Canary = "canary": "run a new image beside the app (a form); with a canary running, promote it (asks first)",
    AbortCanary = "abort_canary": "abort the app's canary: its objects go, the app is unchanged (asks first)",
    SpaceSettings = "space_settings": "the space's quota (used against hard), ConfigMaps and Secrets",
    SetQuota = "set_quota": "set the space's quota and default requests (a form)",
    SetKey = "set_key": "set a key of a ConfigMap or Secret (a form); the apps reading it are marked for a restart",
    UnsetKey = "unset_key": "remove the key under the cursor (asks first)",
    Reveal = "reveal": "show the Secrets' values, or mask them again",
    Market = "market": "the marketplace: charts of the catalogs and saved solutions, searched as you type; install one",
    Releases = "releases": "Helm releases on every cluster with their workloads' status; upgrade, roll back, uninstall",
    Install = "install": "install the chart (on the clusters a selector chooses) or the solution (in a space): a form",
    AddCatalog = "add_catalog": "add a catalog: a Helm repository's URL or index file (a form)",
    Refresh = "refresh": "read every catalog again",
    Upgrade = "upgrade": "upgrade the release: a chart version, values (a form)",
    Uninstall = "uninstall": "uninstall the release: its objects and history go (asks first)",
    Yes = "yes": "yes: run the change asked about (any other key says no)",
    Submit = "submit": "submit the form (it is checked first; a failure reopens it with what was typed)",
    Preview = "preview": "a dry run of the form: what it would apply and delete, changing nothing",
    NextField = "next_field": "next field",
    PrevField = "prev_field": "previous field",
    ClearLine = "clear_line": "clear the line before the cursor (a one-line field: all of it)",
    DeleteBack = "delete_back": "delete the character before the cursor",
    DeleteForward = "delete_forward": "delete the character under the cursor",
    CursorLeft = "cursor_left": "cursor one character left",
    CursorRight = "cursor_right": "cursor one character right",
    LineStart = "line_start": "cursor to the start of the line",
    LineEnd = "line_end": "cursor to the end of the line",
    Newline = "newline": "a new line in a multi-line field",
    ConflictPolicy = "conflict_policy": "next policy for apps that exist in a target: skip, overwrite, rename",
    ToggleSecrets = "toggle_secrets": "copy the Secrets the apps reference too, or not",
}

/// One key with its modifiers, as written in keymap files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub code: KeyName,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyName {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Backspace,
    Delete,
    F(u8),
}

const NAMES: &[(&str, KeyName)] = &[
    ("enter", KeyName::Enter),
    ("esc", KeyName::Esc),
    ("tab", KeyName::Tab),
    ("backtab", KeyName::BackTab),
    ("space", KeyName::Char(' ')),
    ("up", KeyName::Up),
    ("down", KeyName::Down),
    ("left", KeyName::Left),
    ("right", KeyName::Right),
    ("home", KeyName::Home),
    ("end", KeyName::End),
    ("pageup", KeyName::PageUp),
    ("pagedown", KeyName::PageDown),
    ("backspace", KeyName::Backspace),
    ("delete", KeyName::Delete),
];

impl Key {
    /// The character this key types, when it types one (no ctrl or alt).
    pub fn text(&self) -> Option<char> {
        match self.code {
            KeyName::Char(c) if !self.ctrl && !self.alt => Some(c),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Result<Key, ConfigError> {
        let mut key = Key {
            code: KeyName::Esc,
            ctrl: false,
            alt: false,
            shift: false,
        };
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                key.ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                key.alt = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("shift-").filter(|r| !r.is_empty()) {
                key.shift = true;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        key.code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyName::Char(c),
            _ => {
                if let Some((_, k)) = NAMES.iter().find(|(n, _)| *n == rest) {
                    *k
                } else if let Some(n) = rest
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    KeyName::F(n)
                } else {
                    return Err(ConfigError(format!(
                        "unknown key {s:?}: use a character, or one of {}, f1..f12, with ctrl-/alt-/shift-",
                        NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        };
        // shift-tab is how terminals send backtab.
        if key.shift && key.code == KeyName::Tab {
            key.code = KeyName::BackTab;
            key.shift = false;
        }
        // A shifted letter is the capital letter.
        if key.shift
            && let KeyName::Char(c) = key.code
        {
            key.code = KeyName::Char(c.to_ascii_uppercase());
            key.shift = false;
        }
        Ok(key)
    }

    /// The key a terminal event stands for, normalised as [`Key::parse`] does.
    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        let code = match e.code {
            KeyCode::Char(c) => KeyName::Char(c),
            KeyCode::Enter => KeyName::Enter,
            KeyCode::Esc => KeyName::Esc,
            KeyCode::Tab => KeyName::Tab,
            KeyCode::BackTab => KeyName::BackTab,
            KeyCode::Up => KeyName::Up,
            KeyCode::Down => KeyName::Down,
            KeyCode::Left => KeyName::Left,
            KeyCode::Right => KeyName::Right,
            KeyCode::Home => KeyName::Home,
            KeyCode::End => KeyName::End,
            KeyCode::PageUp => KeyName::PageUp,
            KeyCode::PageDown => KeyName::PageDown,
            KeyCode::Backspace => KeyName::Backspace,
            KeyCode::Delete => KeyName::Delete,
            KeyCode::F(n) => KeyName::F(n),
            _ => return None,
        };
        let m = e.modifiers;
        let mut key = Key {
            code,
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.contains(KeyModifiers::ALT),
            shift: false,
        };
        match code {
            // The character already says whether shift was down.
            KeyName::Char(c) => {
                if key.ctrl && c.is_ascii_uppercase() {
                    key.code = KeyName::Char(c.to_ascii_lowercase());
                }
            }
            KeyName::BackTab => {}
            _ => key.shift = m.contains(KeyModifiers::SHIFT),
        }
        Some(key)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyName::Char(' ') => f.write_str("space"),
            KeyName::Char(c) => write!(f, "{c}"),
            KeyName::F(n) => write!(f, "f{n}"),
            other => {
                let name = NAMES.iter().find(|(_, k)| *k == other).map_or("?", |(n, _)| n);
                f.write_str(name)
            }
        }
    }
}

/// The keys of each action, per context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: BTreeMap<Context, BTreeMap<Action, Vec<Key>>>,
}

/// A keymap file: context → action → keys.
type File = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl Keymap {
    /// The embedded default.
    pub fn default_map() -> Keymap {
        let mut warnings = Vec::new();
        let mut k = Keymap {
            bindings: BTreeMap::new(),
        };
        k.overlay("keymaps/default.yaml", DEFAULT_YAML, &mut warnings);
        k
    }

    /// The default with a user file laid over it. Problems come back as
    /// warnings; whatever could not be read keeps its default.
    pub fn with_overlay(origin: &str, yaml: &str) -> (Keymap, Vec<String>) {
        let mut k = Self::default_map();
        let mut warnings = Vec::new();
        k.overlay(origin, yaml, &mut warnings);
        (k, warnings)
    }

    pub fn overlay(&mut self, origin: &str, yaml: &str, warnings: &mut Vec<String>) {
        let file: File = match serde_saphyr::from_str(yaml) {
            Ok(f) => f,
            Err(e) => {
                warnings.push(format!(
                    "{origin}: not a keymap ({}); expected `context: {{action: [keys]}}`; using the default keys",
                    kdeck_command::files::yaml_problem(&e)
                ));
                return;
            }
        };
        for (ctx_name, actions) in file {
            let Some(ctx) = Context::parse(&ctx_name) else {
                warnings.push(format!(
                    "{origin}: unknown context {ctx_name:?} (known: {}); ignored",
                    Context::ALL.map(Context::name).join(", ")
                ));
                continue;
            };
            for (action_name, keys) in actions {
                let Some(action) = Action::parse(&action_name) else {
                    warnings.push(format!(
                        "{origin}: {ctx_name}: unknown action {action_name:?}; ignored (`?` in kdeck lists the actions)"
                    ));
                    continue;
                };
                let mut parsed = Vec::new();
                for k in keys {
                    match Key::parse(&k) {
                        Ok(key) => parsed.push(key),
                        Err(e) => warnings.push(format!("{origin}: {ctx_name}.{action_name}: {e}; ignored")),
                    }
                }
                if parsed.is_empty() {
                    warnings.push(format!(
                        "{origin}: {ctx_name}.{action_name}: no usable key; the default keys stay"
                    ));
                    continue;
                }
                self.bindings.entry(ctx).or_default().insert(action, parsed);
            }
        }
        // Two actions on one key in one context: the first (by name) wins, said once.
        for (ctx, acts) in &self.bindings {
            let mut seen: BTreeMap<Key, Action> = BTreeMap::new();
            for (a, keys) in acts {
                for k in keys {
                    if let Some(prev) = seen.insert(*k, *a)
                        && prev != *a
                    {
                        warnings.push(format!(
                            "{origin}: {}: key {k} is bound to both {} and {}; {} wins",
                            ctx.name(),
                            prev.name(),
                            a.name(),
                            prev.name()
                        ));
                        seen.insert(*k, prev);
                    }
                }
            }
        }
    }

    /// The action of a key in `ctx`, looking at `ctx` first, then the list
    /// context for the tree, then global keys.
    pub fn action(&self, ctx: Context, key: Key) -> Option<Action> {
        ctx.chain().iter().find_map(|c| {
            self.bindings
                .get(c)?
                .iter()
                .find(|(_, keys)| keys.contains(&key))
                .map(|(a, _)| *a)
        })
    }

    /// Whether `key` quits from anywhere: a global quit key that cannot be
    /// typed (a ctrl- or alt- chord). It works in popups, forms and the
    /// input line, where a plain `q` is text or closes the popup.
    pub fn quits_anywhere(&self, key: Key) -> bool {
        key.text().is_none() && self.keys(Context::Global, Action::Quit).contains(&key)
    }

    /// What a key means in a popup or where characters are text: the
    /// context's own binding first, then the quit chord, then (where the
    /// context takes text) the character itself.
    pub fn typed(&self, ctx: Context, key: Key) -> Typed {
        if let Some(a) = self.action(ctx, key) {
            return Typed::Action(a);
        }
        if self.quits_anywhere(key) {
            return Typed::Action(Action::Quit);
        }
        match key.text() {
            Some(c) if ctx.takes_text() => Typed::Text(c),
            _ => Typed::Nothing,
        }
    }

    /// The keys of an action in a context (not its fallbacks), for hints.
    pub fn keys(&self, ctx: Context, action: Action) -> &[Key] {
        self.bindings
            .get(&ctx)
            .and_then(|m| m.get(&action))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// `key1/key2` of an action, looked up along the same chain as [`Self::action`].
    pub fn hint(&self, ctx: Context, action: Action) -> String {
        ctx.chain()
            .iter()
            .map(|c| self.keys(*c, action))
            .find(|k| !k.is_empty())
            .map(|ks| ks.iter().map(Key::to_string).collect::<Vec<_>>().join("/"))
            .unwrap_or_default()
    }

    /// The first key of an action along the context's chain (`enter` of
    /// `enter/y`), for the words on screen that name a key.
    pub fn first_key(&self, ctx: Context, action: Action) -> String {
        ctx.chain()
            .iter()
            .find_map(|c| self.keys(*c, action).first())
            .map(Key::to_string)
            .unwrap_or_default()
    }

    /// Every binding, for the help screen: context, action, keys.
    pub fn entries(&self) -> impl Iterator<Item = (Context, Action, &[Key])> {
        self.bindings
            .iter()
            .flat_map(|(c, m)| m.iter().map(move |(a, k)| (*c, *a, k.as_slice())))
    }
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
