//! A space's settings from the cockpit (quota, ConfigMaps, Secrets), and
//! the release actions on the selected app: autoscaling and canaries.

use super::{Cockpit, Effect, RequestId};
use crate::forms::Form;
use crate::keymap::Action;
use crate::overlays::Overlay;
use crate::overlays::space::{SpaceSettings, SpaceView};
use kdeck_command::Command;
use kdeck_command::config::{ConfigChange, Store};

impl Cockpit {
    /// The settings of the space under the cursor.
    pub(super) fn open_space(&mut self) -> Vec<Effect> {
        let Some(space) = self.space_under_cursor() else {
            self.toast("put the cursor on a space (or an app in one) first", true);
            return Vec::new();
        };
        let id = self.next_id();
        self.overlay = Some(Overlay::Space(Box::new(SpaceView::new(id, space.clone()))));
        vec![Effect::LoadSpace { id, space }]
    }

    /// The settings read as `id`.
    pub fn space_fetched(&mut self, id: RequestId, r: Result<SpaceSettings, String>) {
        for o in [self.overlay.as_mut(), self.under.as_mut()].into_iter().flatten() {
            if let Overlay::Space(v) = o {
                v.answered(id, r.clone());
            }
        }
    }

    /// Read the space's settings again, when its view is open (after a command).
    pub(super) fn space_again(&mut self) -> Vec<Effect> {
        let space = match &self.overlay {
            Some(Overlay::Space(v)) => v.space.clone(),
            _ => return Vec::new(),
        };
        let id = self.next_id();
        if let Some(Overlay::Space(v)) = &mut self.overlay {
            v.id = id;
        }
        vec![Effect::LoadSpace { id, space }]
    }

    /// The quota form, a key's form, or a key's removal, from the space view.
    pub(super) fn space_act(&mut self, a: Action) -> Vec<Effect> {
        let Some(Overlay::Space(v)) = &self.overlay else {
            return Vec::new();
        };
        let (space, selected, (hard, defaults)) = (v.space.clone(), v.selected(), v.bounds());
        if self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
            return Vec::new();
        }
        if let Some(need) = super::access::needs(a)
            && let Some(why) = self.denied_in(&space, need, a.name())
        {
            self.toast(why, true);
            return Vec::new();
        }
        match (a, selected) {
            (Action::SetQuota, _) => self.form = Some(Form::quota(space, &hard, &defaults)),
            (Action::SetKey, Some(s)) => self.form = Some(Form::config_key(space, s.store, &s.object, "")),
            (Action::SetKey, None) => self.form = Some(Form::config_key(space, Store::Config, "", "")),
            (Action::UnsetKey, Some(s)) => {
                let question = format!("Remove key {} from {} {} in {space}?", s.key, s.store.kind(), s.object);
                self.ask_over(
                    question,
                    Command::ChangeConfig(ConfigChange {
                        target: format!("{space}/{}", s.object),
                        store: s.store,
                        set: Default::default(),
                        set_secret: Default::default(),
                        unset: vec![s.key],
                    }),
                );
            }
            (Action::UnsetKey, None) => self.toast("no key under the cursor", true),
            _ => {}
        }
        Vec::new()
    }

    /// Autoscale, canary (start or promote) and canary abort of the selected app.
    pub(super) fn release_action(&mut self, a: Action) -> Vec<Effect> {
        let Some(r) = self.selected_app() else {
            self.toast("select an app in the apps pane first", true);
            return Vec::new();
        };
        let app = r.app_ref();
        let Some(stored) = self.stored.iter().find(|m| m.settings.app == app).cloned() else {
            self.toast(
                format!("{app} is not managed by kdeck: adopt it first (a) to autoscale it or run a canary"),
                true,
            );
            return Vec::new();
        };
        if self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
            return Vec::new();
        }
        if self.refuse(a) {
            return Vec::new();
        }
        match (a, &r.canary) {
            (Action::Autoscale, _) => self.form = Some(Form::autoscale(app, stored.settings.autoscale.as_ref())),
            (Action::Canary, None) => self.form = Some(Form::canary(app, &stored.settings.image)),
            (Action::Canary, Some(c)) => {
                let question = format!("Promote the canary of {app}: {} replaces {}?", c.image, r.app.image);
                self.ask_over(
                    question,
                    Command::PromoteCanary {
                        app: app.to_string(),
                        wait: Some(120),
                    },
                );
            }
            (Action::AbortCanary, Some(c)) => {
                let question = format!(
                    "Abort the canary of {app} ({})? The app keeps {}.",
                    c.image, r.app.image
                );
                self.ask_over(question, Command::AbortCanary { app: app.to_string() });
            }
            (Action::AbortCanary, None) => self.toast(format!("no canary of {app} runs"), true),
            _ => {}
        }
        Vec::new()
    }
}
