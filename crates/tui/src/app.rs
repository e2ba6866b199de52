//! The event loop: one `select!` over terminal input, fleet notices, log
//! lines, fetched objects, a slow tick and signals. After each wake it
//! drains whatever else is pending, then draws once, and only if something
//! changed: a relist of thousands of objects is one frame, and an idle
//! cockpit draws nothing.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crossterm::event::{Event, KeyEventKind};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use super::config::Loaded;
use super::draw::{draw, page_for};
use super::keymap::Key;
use super::term;
use super::theme::Theme;
use crate::cockpit::{Cockpit, Effect, RequestId};
use crate::error::TuiError;
use crate::reads::answer;
use kdeck_command::{Failure, FailureKind};
use kdeck_fleet::live::{Changed, Fleet};
use kdeck_fleet::logs::LogStream;
use kdeck_model::clock::SharedClock;
use kdeck_model::{Cluster, SpaceRef};

pub struct Options {
    pub clusters: Vec<Cluster>,
    pub attached: Vec<SpaceRef>,
    pub loaded: Loaded,
    pub read_only: bool,
    pub clock: SharedClock,
    /// Runs the commands the cockpit asks for (journalled like the CLI's).
    pub executor: Option<kdeck_command::Executor>,
}

/// How a command the cockpit ran ended.
struct Done {
    /// The request it answers.
    id: RequestId,
    /// A copy (its overlay shows how it ended).
    copy: bool,
    verb: &'static str,
    target: String,
    ok: bool,
    message: String,
}

/// Runs the cockpit until the user quits or a signal ends it. The terminal
/// is restored on every way out.
/// `Ok(Some(n))`: signal `n` (SIGTERM, SIGHUP) ended it.
pub async fn run(opts: Options) -> Result<Option<i32>, TuiError> {
    term::install_panic_hook();
    let _guard = term::Guard::enter().map_err(TuiError::Terminal)?;
    let backend = CrosstermBackend::new(std::io::stdout());
    let mut terminal = Terminal::new(backend).map_err(TuiError::Terminal)?;
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let reader = term::Reader::spawn(ev_tx);
    let result = event_loop(&mut terminal, opts, ev_rx, Some(&reader), None).await;
    drop(reader);
    term::restore();
    // The terminal may be gone (a hung-up SSH session): ratatui's drop would
    // complain on stderr, which is gone too, and a failed print panics.
    // `restore` has shown the cursor already.
    std::mem::forget(terminal);
    result
}

/// Called after every frame with what it drew; `true` ends the loop.
pub type FrameHook<'a> = &'a mut (dyn FnMut(&ratatui::buffer::Buffer, &Cockpit) -> bool + Send);

/// The least time between two frames drawn for fleet changes (60 a second).
const MIN_FRAME_GAP: Duration = Duration::from_millis(16);
/// The most, however slow drawing is.
const MAX_FRAME_GAP: Duration = Duration::from_millis(100);

/// The cockpit's loop on any backend, with terminal events from `ev_rx`:
/// the real terminal (events from the reader thread), or a headless one for
/// benchmarks (a counting writer or a test buffer, events injected).
pub async fn event_loop<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    opts: Options,
    mut ev_rx: mpsc::UnboundedReceiver<Event>,
    reader: Option<&term::Reader>,
    mut on_frame: Option<FrameHook<'_>>,
) -> Result<Option<i32>, TuiError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigterm = signal(SignalKind::terminate()).map_err(TuiError::Signals)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(TuiError::Signals)?;
    let (changed_tx, mut changed_rx) = mpsc::channel::<Changed>(1024);
    // One gateway: the live fleet, the commands and the reads share each
    // cluster's client.
    let gateway = opts
        .executor
        .as_ref()
        .map(|ex| ex.gateway().clone())
        .unwrap_or_default();
    // What the user may do per space: asked for the spaces looked at.
    let (access_tx, mut access_rx) = mpsc::channel::<()>(1);
    let access = kdeck_fleet::access::Tracker::start(gateway.clone(), &opts.clusters, access_tx);
    let mut access_wanted = std::collections::BTreeSet::new();
    let fleet = Fleet::start_on(
        gateway,
        &opts.clusters,
        &opts.attached,
        changed_tx,
        kdeck_fleet::live::FleetOptions::default(),
    );
    let (fetch_tx, mut fetch_rx) = mpsc::unbounded_channel::<crate::reads::Fetched>();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();

    let Loaded {
        keymap,
        theme,
        log_lines,
        warnings,
    } = opts.loaded;
    let mut theme: Theme = theme;
    let mut c = Cockpit::new(keymap, opts.clock.now(), log_lines);
    c.read_only = opts.read_only;
    c.attached = opts.attached.iter().cloned().collect();
    c.prod = opts
        .clusters
        .iter()
        .filter(|k| k.is_prod())
        .map(|k| k.name.clone())
        .collect();
    c.read_only_clusters = opts
        .clusters
        .iter()
        .filter(|k| k.read_only)
        .map(|k| k.name.clone())
        .collect();
    for w in &warnings {
        c.toast(w.clone(), true);
    }
    c.warnings = warnings;
    c.set_fleet(fleet.snapshot());
    let load_stored = |c: &mut Cockpit| {
        if let Some(ex) = &opts.executor
            && let Ok(apps) = kdeck_command::apps::managed(ex)
        {
            c.set_stored(apps);
        }
    };
    load_stored(&mut c);
    // Changes other kdecks make to the store (a draft from the CLI, a
    // domain) reach this cockpit without a key press.
    let (stored_tx, mut stored_rx) = mpsc::channel::<Vec<kdeck_command::apps::Managed>>(2);
    let _watch = opts.executor.clone().map(|ex| StoreWatch::start(ex, stored_tx));
    // In a team, the hub is followed: others' changes land in the store
    // (and so here), and a hub that stops answering is said in the header.
    let (team_tx, mut team_rx) = tokio::sync::watch::channel::<Option<kdeck_team::HubState>>(None);
    let _team = opts.executor.clone().map(|ex| {
        let clock = opts.clock.clone();
        tokio::spawn(kdeck_team::follow(
            ex.store().clone(),
            ex.gateway().clone(),
            move || kdeck_model::clock::rfc3339(clock.now()),
            team_tx,
        ))
    });
    let mut logs: Option<LogStream> = None;
    let mut last_focus: Vec<SpaceRef> = Vec::new();
    let mut ended_by = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    let mut dirty = true;
    // Fleet changes are drawn at a pace: a relist or a storm of events is a
    // frame every `gap`, not a frame per change; keys still draw at once.
    let mut fleet_dirty = false;
    let mut last_frame = tokio::time::Instant::now();
    let mut gap = MIN_FRAME_GAP;
    let (copy_tx, mut copy_rx) = mpsc::unbounded_channel::<kdeck_command::copy::Event>();
    let mut copy_cancel: Option<Arc<AtomicBool>> = None;

    loop {
        let mut effects = Vec::new();
        let due = last_frame + gap;
        if dirty || (fleet_dirty && tokio::time::Instant::now() >= due) {
            let started = tokio::time::Instant::now();
            // Follows a resized terminal; a fixed viewport (headless) stays as it is.
            terminal.autoresize().map_err(|e| TuiError::Draw(e.to_string()))?;
            c.page = page_for(terminal.get_frame().area().height);
            c.refresh();
            let frame = terminal
                .draw(|f| draw(f, &c, &theme))
                .map_err(|e| TuiError::Draw(e.to_string()))?;
            if let Some(hook) = on_frame.as_mut()
                && hook(frame.buffer, &c)
            {
                break;
            }
            dirty = false;
            fleet_dirty = false;
            last_frame = tokio::time::Instant::now();
            // Drawing may take at most a quarter of the time while the fleet changes.
            gap = ((last_frame - started) * 4).clamp(MIN_FRAME_GAP, MAX_FRAME_GAP);
        }
        if c.quit {
            break;
        }
        tokio::select! {
            ev = ev_rx.recv() => {
                let Some(ev) = ev else { break };
                effects.extend(on_event(&mut c, ev, &mut dirty));
                // Keys typed ahead are handled before the next frame.
                while let Ok(ev) = ev_rx.try_recv() {
                    effects.extend(on_event(&mut c, ev, &mut dirty));
                }
            }
            Some(_) = changed_rx.recv() => {
                while changed_rx.try_recv().is_ok() {}
                fleet_dirty |= c.set_fleet(fleet.snapshot());
                effects.extend(c.watch_builds());
            }
            Some(line) = async { match logs.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } } => {
                c.log_line(line);
                if let Some(s) = logs.as_mut() {
                    while let Some(l) = s.try_next() {
                        c.log_line(l);
                    }
                }
                dirty = true;
            }
            Some(d) = copy_rx.recv() => {
                c.copy_progress(&d);
                while let Ok(d) = copy_rx.try_recv() {
                    c.copy_progress(&d);
                }
                dirty = true;
            }
            Some(d) = done_rx.recv() => {
                if d.copy {
                    // Items reported before the end are drawn before the summary.
                    while let Ok(p) = copy_rx.try_recv() {
                        c.copy_progress(&p);
                    }
                    c.copy_finished(d.id, d.ok, d.message.clone());
                    copy_cancel = None;
                }
                c.command_done(d.id, d.verb, d.ok, d.message.clone());
                effects.extend(c.after_command());
                load_stored(&mut c);
                // The user may be looking elsewhere: tell them.
                super::notify::send(
                    format!("kdeck {}", d.verb),
                    format!("{}: {}", d.target, if d.ok { "done".to_string() } else { format!("failed: {}", d.message) }),
                );
                dirty = true;
            }
            Ok(()) = team_rx.changed() => {
                c.team = team_rx.borrow_and_update().clone();
                dirty = true;
            }
            Some(()) = access_rx.recv() => {
                c.set_access(access.snapshot());
                dirty = true;
            }
            Some(apps) = stored_rx.recv() => {
                c.set_stored(apps);
                // Another kdeck (or a team member, through the hub) changed
                // the store: the open views read again.
                effects.extend(c.after_command());
                dirty = true;
            }
            Some(f) = fetch_rx.recv() => {
                crate::reads::answered(&mut c, f);
                dirty = true;
            }
            _ = tick.tick() => {
                ticks += 1;
                c.now = opts.clock.now();
                // Toasts go on time; ages move on, so redraw now and then.
                if c.expire_toasts() || ticks.is_multiple_of(10) {
                    dirty = true;
                }
            }
            _ = tokio::time::sleep_until(due), if fleet_dirty => {}
            _ = sigterm.recv() => {
                ended_by = Some(15);
                break;
            }
            _ = sighup.recv() => {
                ended_by = Some(1);
                break;
            }
        }
        for e in effects {
            // Reads of the store and clusters for views run off the loop.
            let Some(e) = crate::reads::start(e, opts.executor.as_ref(), &fetch_tx) else {
                continue;
            };
            match e {
                Effect::Run { id, command } => {
                    let Some(ex) = opts.executor.clone() else {
                        c.toast("no store: this cockpit cannot run commands", true);
                        continue;
                    };
                    if c.read_only {
                        c.toast("read-only: this cockpit changes nothing", true);
                        continue;
                    }
                    c.running += 1;
                    let tx = done_tx.clone();
                    tokio::spawn(async move {
                        let (verb, target) = (command.verb(), command.target());
                        let (ok, message) = match ex.run(*command).await {
                            Ok(entry) => (
                                entry.status == kdeck_command::Status::Applied,
                                kdeck_command::summary(&entry),
                            ),
                            Err(e) => (false, e.to_string()),
                        };
                        let _ = tx.send(Done {
                            id,
                            copy: false,
                            verb,
                            target,
                            ok,
                            message,
                        });
                    });
                }
                // Started by `reads::start` above.
                Effect::PlanCopy { .. }
                | Effect::ListRoles { .. }
                | Effect::LoadRevisions { .. }
                | Effect::LoadJournal { .. }
                | Effect::LoadSpace { .. }
                | Effect::LoadMarket { .. }
                | Effect::LoadReleases { .. }
                | Effect::ReleaseHistory { .. }
                | Effect::DryRun { .. }
                | Effect::Drift { .. } => {}
                Effect::OpenLogs { cluster, req } => {
                    logs = fleet.logs(&cluster, req);
                    if logs.is_none() {
                        c.toast(
                            format!("cluster {cluster} has no connection yet: logs cannot be read"),
                            true,
                        );
                    }
                }
                Effect::RunCopy { id, spec } => {
                    let Some(ex) = opts.executor.clone() else {
                        c.copy_finished(id, false, "no store: this cockpit cannot copy".into());
                        c.running = c.running.saturating_sub(1);
                        continue;
                    };
                    let progress = kdeck_command::copy::Progress {
                        tx: Some(copy_tx.clone()),
                        ..Default::default()
                    };
                    copy_cancel = Some(progress.cancel.clone());
                    let tx = done_tx.clone();
                    tokio::spawn(async move {
                        let cmd = kdeck_command::Command::Copy(spec);
                        let target = cmd.target();
                        let (ok, message) = match ex.run_with(cmd, &progress).await {
                            Ok(entry) => (
                                entry.status == kdeck_command::Status::Applied,
                                kdeck_command::summary(&entry),
                            ),
                            Err(e) => (false, e.to_string()),
                        };
                        let _ = tx.send(Done {
                            id,
                            copy: true,
                            verb: "copy",
                            target,
                            ok,
                            message,
                        });
                    });
                }
                Effect::Notify { title, body } => super::notify::send(title, body),
                Effect::Recheck(spaces) => access.again(&spaces),
                Effect::CancelCopy => {
                    if let Some(flag) = &copy_cancel {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                Effect::EditYaml(object) => {
                    let Some(reader) = reader else {
                        c.toast("no terminal to run an editor in", true);
                        continue;
                    };
                    let (Some(cluster), Some(ex)) = (fleet.settings(&object.cluster).cloned(), opts.executor.clone())
                    else {
                        c.toast(
                            format!(
                                "cluster {} is not in this cockpit, or there is no store",
                                object.cluster
                            ),
                            true,
                        );
                        continue;
                    };
                    let (text, error) = edit_yaml(terminal, reader, &cluster, &ex, &object).await;
                    if !error {
                        load_stored(&mut c);
                    }
                    c.toast(text, error);
                }
                Effect::Fetch { id, what, object } => {
                    let Some(cluster) = fleet.settings(&object.cluster).cloned() else {
                        c.fetched(
                            id,
                            Err(Failure::new(
                                FailureKind::Usage,
                                format!("cluster {} is not in this cockpit", object.cluster),
                            )),
                        );
                        continue;
                    };
                    let gateway = fleet.gateway().clone();
                    let tx = fetch_tx.clone();
                    let now = c.now;
                    tokio::spawn(async move {
                        let work = super::fetch::fetch(&gateway, &cluster, what, &object, now);
                        let r = answer(15, "no answer within 15 s", work).await;
                        let _ = tx.send(crate::reads::Fetched::Text(id, r));
                    });
                }
            }
            dirty = true;
        }
        if let Some(name) = c.theme_request.take() {
            match Theme::shipped(&name) {
                Some(t) if std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) => theme = t,
                Some(_) => c.toast("NO_COLOR is set: the monochrome theme stays", false),
                None => c.toast(format!("no theme {name}"), true),
            }
            dirty = true;
        }
        let wanted = c.access_wanted();
        if wanted != access_wanted {
            access.want(&wanted);
            access_wanted = wanted;
        }
        let focus = c.focus_spaces();
        if focus != last_focus {
            fleet.focus(&focus);
            last_focus = focus;
        }
    }
    Ok(ended_by)
}

/// Hands the terminal to `$EDITOR` with the object's YAML, then applies the
/// edit as a journalled merge patch. A file that does not read or an edit
/// the server refuses reopens the editor with the reason on top and the
/// text as the user left it. Returns the toast to show.
async fn edit_yaml<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    reader: &term::Reader,
    cluster: &kdeck_model::Cluster,
    ex: &kdeck_command::Executor,
    object: &crate::cockpit::ObjectRef,
) -> (String, bool) {
    use super::editor::{self, Outcome};
    let what = format!(
        "{} {}/{}/{}",
        object.kind.to_ascii_lowercase(),
        object.cluster,
        object.namespace,
        object.name
    );
    let read = ex.gateway().read(cluster, object.kind, &object.namespace, &object.name);
    let original = match tokio::time::timeout(Duration::from_secs(15), read).await {
        Ok(Ok(Some(v))) => editor::editable(v),
        Ok(Ok(None)) => return (format!("cannot read {what}: it is not there (any more)"), true),
        Ok(Err(e)) => return (format!("cannot read {what}: {}", e.message), true),
        Err(_) => return (format!("cannot read {what}: no answer within 15 s"), true),
    };
    let yaml = match serde_saphyr::to_string(&original) {
        Ok(y) => y,
        Err(e) => return (format!("cannot write {what} as YAML: {e}"), true),
    };
    let file = match editor::TempFile::create(&editor::document(&what, None, &yaml)) {
        Ok(f) => f,
        Err(e) => return (format!("cannot write a temp file for the edit: {e}"), true),
    };
    let program = editor::editor();
    reader.pause();
    term::suspend();
    let mut refused: Option<String> = None;
    let result = loop {
        if let Err(e) = editor::run(&program, file.path()).await {
            break (e.to_string(), true);
        }
        let body = match file.read() {
            Ok(t) => editor::body(&t),
            Err(e) => break (format!("cannot read the edited file back: {e}"), true),
        };
        if refused.as_deref() == Some(body.as_str()) {
            break (
                "the edit was saved unchanged after its error: nothing applied".into(),
                true,
            );
        }
        let why = match editor::outcome(&original, &body) {
            Ok(Outcome::Cancelled(msg)) => break (format!("edit {what}: {msg}"), false),
            Err(why) => why.to_string(),
            Ok(Outcome::Patch(patch)) => {
                println!("kdeck: applying the edit to {what}…");
                let cmd = kdeck_command::Command::PatchObject {
                    cluster: object.cluster.clone(),
                    namespace: object.namespace.clone(),
                    kind: object.kind.to_string(),
                    name: object.name.clone(),
                    patch,
                };
                match tokio::time::timeout(Duration::from_secs(30), ex.run(cmd)).await {
                    Err(_) => break (format!("edit {what}: no answer within 30 s"), true),
                    Ok(Err(e)) => break (format!("edit {what}: the journal cannot be written: {e}"), true),
                    Ok(Ok(entry)) => match entry.status {
                        kdeck_command::Status::Failed { .. } => kdeck_command::summary(&entry),
                        _ => break (format!("edit {what}: patched"), false),
                    },
                }
            }
        };
        if let Err(e) = file.write(&editor::document(&what, Some(&why), &body)) {
            break (format!("cannot write the temp file: {e}"), true);
        }
        refused = Some(body);
    };
    let back = term::resume();
    let _ = terminal.clear();
    reader.resume();
    match back {
        Ok(()) => result,
        Err(e) => (
            format!("{}; the terminal did not come back cleanly: {e}", result.0),
            true,
        ),
    }
}

fn on_event(c: &mut Cockpit, ev: Event, dirty: &mut bool) -> Vec<Effect> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            *dirty = true;
            match Key::from_event(&k) {
                Some(key) => c.key(key),
                None => Vec::new(),
            }
        }
        Event::Resize(_, _) => {
            *dirty = true;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// How often the cockpit asks the store whether anything changed.
const STORE_POLL: Duration = Duration::from_millis(250);

/// A thread that follows the store's generation (one small request per
/// [`STORE_POLL`]) and, when another kdeck changed it, sends the stored apps
/// read again. Stopped and joined when dropped, so that a cockpit owning the
/// store hands it on cleanly when it ends.
struct StoreWatch {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StoreWatch {
    fn start(ex: kdeck_command::Executor, tx: mpsc::Sender<Vec<kdeck_command::apps::Managed>>) -> Self {
        use std::sync::atomic::Ordering;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("kdeck-store-watch".into())
            .spawn(move || {
                let mut seen = ex.store().generation().ok();
                while !flag.load(Ordering::SeqCst) && !tx.is_closed() {
                    std::thread::park_timeout(STORE_POLL);
                    let Ok(now) = ex.store().generation() else { continue };
                    if seen == Some(now) {
                        continue;
                    }
                    // Never blocks: a full channel is tried again next time.
                    if let Ok(apps) = kdeck_command::apps::managed(&ex)
                        && tx.try_send(apps).is_ok()
                    {
                        seen = Some(now);
                    }
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for StoreWatch {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
