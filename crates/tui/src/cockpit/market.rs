//! The marketplace and the releases view from the cockpit: each opens as a
//! view read off the event loop, answers its keys with forms and
//! questions, and is read again when a command ends.

use super::{Cockpit, Effect, RequestId};
use crate::forms::Form;
use crate::keymap::Action;
use crate::overlays::Overlay;
use crate::overlays::market::MarketView;
use crate::overlays::releases::{Releases, ReleasesView};
use crate::overlays::text::TextView;
use kdeck_command::Command;
use kdeck_command::catalogs::Offer;

impl Cockpit {
    pub(super) fn open_market(&mut self) -> Vec<Effect> {
        let id = self.next_id();
        self.overlay = Some(Overlay::Market(Box::new(MarketView::new(id))));
        vec![Effect::LoadMarket { id }]
    }

    pub(super) fn open_releases(&mut self) -> Vec<Effect> {
        let id = self.next_id();
        self.overlay = Some(Overlay::Releases(Box::new(ReleasesView::new(id))));
        vec![Effect::LoadReleases { id }]
    }

    pub fn market_fetched(&mut self, id: RequestId, r: Result<Vec<Offer>, String>) {
        for o in [self.overlay.as_mut(), self.under.as_mut()].into_iter().flatten() {
            if let Overlay::Market(v) = o {
                v.answered(id, r.clone());
            }
        }
    }

    pub fn releases_fetched(&mut self, id: RequestId, r: Releases) {
        for o in [self.overlay.as_mut(), self.under.as_mut()].into_iter().flatten() {
            if let Overlay::Releases(v) = o {
                v.answered(id, r.clone());
            }
        }
    }

    /// After a command: the open marketplace or releases view reads again.
    pub(super) fn market_again(&mut self) -> Vec<Effect> {
        let id = self.next_id();
        match &mut self.overlay {
            Some(Overlay::Market(v)) => {
                v.id = id;
                vec![Effect::LoadMarket { id }]
            }
            Some(Overlay::Releases(v)) => {
                v.id = id;
                vec![Effect::LoadReleases { id }]
            }
            _ => Vec::new(),
        }
    }

    fn changes_refused(&mut self) -> bool {
        if self.read_only {
            self.toast("read-only: this cockpit changes nothing", true);
        }
        self.read_only
    }

    /// Install, add a catalog or refresh, from the marketplace (which stays under its forms).
    pub(super) fn market_act(&mut self, a: Action) -> Vec<Effect> {
        let Some(Overlay::Market(v)) = &self.overlay else {
            return Vec::new();
        };
        let selected = v.selected().cloned();
        if self.changes_refused() {
            return Vec::new();
        }
        match (a, selected) {
            (Action::AddCatalog, _) => self.form = Some(Form::add_catalog()),
            (Action::Refresh, _) => return self.run_now(Command::RefreshCatalogs { names: Vec::new() }),
            (Action::Install, Some(o)) if o.solution => {
                let here = self.space_under_cursor().map(|s| s.to_string()).unwrap_or_default();
                let spaces = self.attached.iter().map(ToString::to_string).collect();
                self.form = Some(Form::install_solution(&o.chart, &here, spaces));
            }
            (Action::Install, Some(o)) => self.form = Some(Form::install_chart(&o.catalog, &o.chart, &o.versions)),
            (Action::Install, None) => self.toast("nothing to install here: add a catalog first", true),
            _ => {}
        }
        Vec::new()
    }

    /// History, upgrade, rollback or uninstall of the release under the cursor.
    pub(super) fn releases_act(&mut self, a: Action) -> Vec<Effect> {
        let Some(Overlay::Releases(v)) = &self.overlay else {
            return Vec::new();
        };
        let Some(r) = v.selected().cloned() else {
            self.toast("no release under the cursor", true);
            return Vec::new();
        };
        let everywhere = v.clusters_of(&r);
        let versions = v.versions_of(&r);
        let release = format!("{}/{}", r.namespace, r.name);
        if a == Action::Details {
            let id = self.next_id();
            let target = format!("{}/{release}", r.cluster);
            self.under = self.overlay.take();
            self.overlay = Some(Overlay::Text(TextView::loading(
                id,
                format!("history of {target}"),
                "reading…",
            )));
            return vec![Effect::ReleaseHistory { id, release: target }];
        }
        if self.changes_refused() {
            return Vec::new();
        }
        match a {
            Action::Upgrade => {
                self.form = Some(Form::upgrade_release(&release, &r.cluster, everywhere, &versions));
            }
            Action::Rollback => {
                self.form = Some(Form::rollback_release(&release, &r.cluster, everywhere, r.revision));
            }
            Action::Uninstall => {
                let question = format!(
                    "Uninstall {release} from {}? Its objects and history go.",
                    everywhere.join(", ")
                );
                self.ask_over(
                    question,
                    Command::UninstallRelease {
                        release,
                        clusters: everywhere,
                        keep_history: false,
                        yes: true,
                    },
                );
            }
            _ => {}
        }
        Vec::new()
    }
}
