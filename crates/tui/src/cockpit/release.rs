//! An app's revisions from the apps pane, and a rollback to one of them
//! after a question (the view comes back after, read again).

use super::access::needs;
use super::{Cockpit, Effect, RequestId};
use crate::keymap::Action;
use crate::overlays::Overlay;
use crate::overlays::revisions::{Revisions, RevisionsView};

impl Cockpit {
    /// The selected app's revisions.
    pub(super) fn open_history(&mut self) -> Vec<Effect> {
        let Some(r) = self.selected_app() else {
            self.toast("select an app in the apps pane first", true);
            return Vec::new();
        };
        let app = r.app_ref();
        if !self.stored.iter().any(|m| m.settings.app == app) {
            self.toast(
                format!("{app} is not managed by kdeck: its deploys are not recorded (adopt it first)"),
                true,
            );
            return Vec::new();
        }
        let id = self.next_id();
        let kind = match r.app.kind {
            "StatefulSet" => kdeck_model::WorkloadKind::StatefulSet,
            _ => kdeck_model::WorkloadKind::Deployment,
        };
        self.overlay = Some(Overlay::Revisions(Box::new(RevisionsView::new(id, app.clone()))));
        vec![Effect::LoadRevisions { id, app, kind }]
    }

    /// The revisions read as `id`.
    pub fn revisions_fetched(&mut self, id: RequestId, r: Result<Revisions, String>) {
        for o in [self.overlay.as_mut(), self.under.as_mut()].into_iter().flatten() {
            if let Overlay::Revisions(v) = o {
                v.answered(id, r.clone());
            }
        }
    }

    /// Roll back to the revision under the cursor, after a question.
    pub(super) fn rollback_selected(&mut self) -> Vec<Effect> {
        let Some(Overlay::Revisions(v)) = &self.overlay else {
            return Vec::new();
        };
        let app = v.app.clone();
        let newest = match &v.answer {
            Some(Ok(r)) => r.kdeck.last().map(|x| x.number),
            _ => None,
        };
        let Some(rev) = v.selected().cloned() else {
            return Vec::new();
        };
        if self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
            return Vec::new();
        }
        if Some(rev.number) == newest {
            self.toast(
                format!(
                    "revision {} of {app} is the one deployed now: pick an earlier one",
                    rev.number
                ),
                true,
            );
            return Vec::new();
        }
        if let Some(need) = needs(Action::Rollback)
            && let Some(why) = self.denied_in(&app.space, need, "rollback")
        {
            self.toast(why, true);
            return Vec::new();
        }
        let question = format!(
            "Roll {app} back to revision {} ({}, {})?",
            rev.number, rev.settings.image, rev.at
        );
        self.ask_over(
            question,
            kdeck_command::Command::RollbackApp {
                app: app.to_string(),
                to: Some(rev.number),
                wait: Some(120),
            },
        );
        Vec::new()
    }

    /// Read the revisions again for the view, when it is open.
    pub(super) fn revisions_again(&mut self) -> Vec<Effect> {
        let Some(Overlay::Revisions(v)) = &self.overlay else {
            return Vec::new();
        };
        let app = v.app.clone();
        let kind = self
            .stored
            .iter()
            .find(|m| m.settings.app == app)
            .map(|m| m.settings.kind)
            .unwrap_or_default();
        let id = self.next_id();
        if let Some(Overlay::Revisions(v)) = &mut self.overlay {
            v.id = id;
        }
        vec![Effect::LoadRevisions { id, app, kind }]
    }
}
