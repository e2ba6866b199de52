//! Keys by layer: a form, then the input line, then a popup, then the
//! focused pane; and the answers of the event loop, matched by request id.

use super::{Cockpit, Effect, RequestId};
use crate::forms::FormReply;
use crate::input::{InputKind, InputReply};
use crate::keymap::{Action, Key};
use crate::overlays::copy::Ask;
use crate::overlays::{CopyFlow, Overlay, Reply};
use crate::widgets::Toned;

impl Cockpit {
    /// A key pressed. Returns the work the loop must do for it.
    pub fn key(&mut self, key: Key) -> Vec<Effect> {
        if self.form.is_some() {
            return self.form_key(key);
        }
        if self.input.is_some() {
            return self.input_key(key);
        }
        if self.overlay.is_some() {
            return self.overlay_key(key);
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
        match form.key(key, &self.keymap) {
            FormReply::Keep => Vec::new(),
            FormReply::Cancel => {
                self.form = None;
                Vec::new()
            }
            FormReply::Quit => self.action(Action::Quit),
            FormReply::Submit(command) if !self.prod_of(&command).is_empty() => {
                // Production: asked about first; the form waits behind the question.
                self.held_form = self.form.take();
                self.run(*command)
            }
            FormReply::Preview(command) => {
                // The form waits behind its dry run, and comes back when it closes.
                let id = self.next_id();
                self.held_form = self.form.take();
                let title = format!("dry run: {} {}", command.verb(), command.target());
                // A view the form came from (the space's settings) comes back after too.
                if self.overlay.is_some() {
                    self.under = self.overlay.take();
                }
                self.overlay = Some(Overlay::Text(crate::overlays::TextView::loading(
                    id,
                    title,
                    "planning…",
                )));
                vec![Effect::DryRun { id, command }]
            }
            FormReply::Submit(command) => {
                let id = self.next_id();
                self.submitted_build(id, &command);
                if let Some(form) = self.form.take() {
                    self.submitted = Some((id, form));
                }
                vec![Effect::Run { id, command }]
            }
        }
    }

    fn overlay_key(&mut self, key: Key) -> Vec<Effect> {
        let page = self.page;
        let Some(overlay) = self.overlay.as_mut() else {
            return Vec::new();
        };
        match overlay.key(key, &self.keymap, page) {
            Reply::Keep => Vec::new(),
            Reply::Close => {
                // A view under its question comes back.
                self.overlay = self.under.take();
                // A form behind a question it did not get a yes to comes back.
                if let Some(f) = self.held_form.take() {
                    self.form = Some(f);
                }
                Vec::new()
            }
            Reply::Quit => {
                let quit_question = matches!(self.overlay, Some(Overlay::ConfirmQuit(_)));
                self.overlay = None;
                if quit_question {
                    self.quit = true;
                    return Vec::new();
                }
                self.action(Action::Quit)
            }
            // Confirmed: it runs now (a form's command keeps its form for a failure).
            Reply::Run(command) => {
                self.overlay = self.under.take();
                let effects = self.run_now(*command);
                if let (Some(f), Some(Effect::Run { id, command })) = (self.held_form.take(), effects.first()) {
                    self.submitted_build(*id, command);
                    self.submitted = Some((*id, f));
                }
                effects
            }
            // The releases view stays under its forms and questions.
            Reply::Act(a @ (Action::Upgrade | Action::Rollback | Action::Uninstall | Action::Details))
                if matches!(self.overlay, Some(Overlay::Releases(_))) =>
            {
                self.releases_act(a)
            }
            // The revisions view keeps itself under the rollback question.
            Reply::Act(Action::Rollback) => self.rollback_selected(),
            // The space view stays under its forms and questions.
            Reply::Act(a @ (Action::SetQuota | Action::SetKey | Action::UnsetKey)) => self.space_act(a),
            // So do the marketplace and the releases view.
            Reply::Act(a @ (Action::Install | Action::AddCatalog | Action::Refresh)) => self.market_act(a),

            // Reconcile or adopt straight from the drift report.
            Reply::Act(a) => {
                self.overlay = None;
                self.action(a)
            }
            Reply::Roles(ask) => self.roles_ask(*ask),
            Reply::Journal(ask) => self.journal_ask(ask),
            Reply::StepLogs(s) => {
                self.overlay = None;
                self.open_step_logs(s)
            }
            Reply::Copy(ask) => match ask {
                Ask::Nothing => Vec::new(),
                Ask::Close => {
                    self.overlay = None;
                    Vec::new()
                }
                Ask::Quit => {
                    self.overlay = None;
                    self.action(Action::Quit)
                }
                Ask::Plan(spec) => {
                    let id = self.next_id();
                    if let Some(flow) = self.copy_flow() {
                        flow.request = id;
                    }
                    vec![Effect::PlanCopy { id, spec }]
                }
                Ask::Run(spec) => {
                    let id = self.next_id();
                    if let Some(flow) = self.copy_flow() {
                        flow.request = id;
                    }
                    self.running += 1;
                    vec![Effect::RunCopy { id, spec }]
                }
                Ask::Cancel => vec![Effect::CancelCopy],
            },
        }
    }

    fn input_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(input) = self.input.as_mut() else {
            return Vec::new();
        };
        let kind = input.kind.clone();
        match input.key(key, &self.keymap) {
            InputReply::Nothing => return Vec::new(),
            InputReply::Cancel => {
                self.input = None;
                match kind {
                    InputKind::Filter => self.set_filter(String::new()),
                    InputKind::Palette => self.overlay = None,
                    InputKind::LogSearch => self.logs.search.clear(),
                    InputKind::JournalFilter => {}
                }
                return Vec::new();
            }
            InputReply::Accept => {
                let text = input.text.clone();
                self.input = None;
                if kind == InputKind::Palette {
                    return self.run_palette();
                }
                if kind == InputKind::JournalFilter {
                    return self.journal_filter_typed(text);
                }
                if kind == InputKind::LogSearch
                    && let Some(notice) = self.logs.act(Action::NextMatch, self.page)
                {
                    self.toast(notice, false);
                }
                return Vec::new();
            }
            InputReply::Quit => {
                self.input = None;
                return self.action(Action::Quit);
            }
            reply @ (InputReply::Up | InputReply::Down) => {
                if let Some(Overlay::Palette(p)) = &mut self.overlay {
                    if reply == InputReply::Up {
                        p.up();
                    } else {
                        p.down();
                    }
                }
                return Vec::new();
            }
            InputReply::Changed => {}
        }
        let text = input.text.clone();
        match kind {
            InputKind::Filter => self.set_filter(text),
            InputKind::Palette => {
                if let Some(Overlay::Palette(p)) = &mut self.overlay {
                    p.filter(&text);
                }
            }
            InputKind::LogSearch => self.logs.search = text,
            InputKind::JournalFilter => {}
        }
        Vec::new()
    }

    fn set_filter(&mut self, text: String) {
        if let Some(l) = self.list_mut() {
            l.set_filter(text);
        }
    }

    fn copy_flow(&mut self) -> Option<&mut CopyFlow> {
        match &mut self.overlay {
            Some(Overlay::Copy(f)) => Some(f),
            _ => None,
        }
    }

    /// The plan of the copy the overlay asked for (request `id`).
    pub fn copy_planned(&mut self, id: RequestId, plan: Result<kdeck_command::copy::CopyPlan, kdeck_command::Failure>) {
        if let Some(f) = self.copy_flow()
            && f.request == id
        {
            f.planned(plan);
        }
    }

    pub fn copy_progress(&mut self, d: &kdeck_command::copy::Event) {
        if let Some(f) = self.copy_flow() {
            f.progress(d);
        }
    }

    /// The copy asked for as `id` ended.
    pub fn copy_finished(&mut self, id: RequestId, ok: bool, message: String) {
        if let Some(f) = self.copy_flow()
            && f.request == id
        {
            f.finished(ok, message);
        }
    }

    /// The command asked for as `id` has ended: say so, and reopen its
    /// form when it failed.
    pub fn command_done(&mut self, id: RequestId, verb: &str, ok: bool, message: String) {
        self.running = self.running.saturating_sub(1);
        let form = match self.submitted.take() {
            Some((sent, form)) if sent == id => Some(form),
            other => {
                self.submitted = other;
                None
            }
        };
        self.build_command_done(id, ok);
        if ok {
            self.toast(format!("{verb}: {message}"), false);
        } else {
            if let Some(mut f) = form {
                f.failure = Some(message.clone());
                self.form = Some(f);
            }
            self.toast(format!("{verb} failed: {message}"), true);
        }
    }

    /// The text asked for as `id` (YAML or a description), or why it could
    /// not be had. An answer to an earlier request is dropped.
    pub fn fetched(&mut self, id: RequestId, result: Result<Vec<Toned>, kdeck_command::Failure>) {
        if let Some(Overlay::Text(v)) = &mut self.overlay
            && v.id == id
        {
            v.answered(result);
        }
    }

    /// The drift report asked for as `id`.
    pub fn drift_fetched(
        &mut self,
        id: RequestId,
        report: Result<Vec<kdeck_command::apps::ObjectDrift>, kdeck_command::Failure>,
    ) {
        if let Some(Overlay::Drift(d)) = &mut self.overlay
            && d.id == id
        {
            d.answered(report.as_deref(), &self.keymap);
        }
    }
}
