//! What the user may do where the cursor is: each changing action needs a
//! verb on a resource, checked against the rules the cluster gave for the
//! space (SelfSubjectRulesReview, kept by the event loop's tracker). An
//! action that is not allowed is marked in the key hints and refused before
//! any request, with the reason in the user's words. A space not known yet
//! is the server's to decide.

use std::collections::BTreeSet;

use super::{Cockpit, Focus, Pane, Scope};
use crate::keymap::Action;
use crate::panes::TreeRow;
use kdeck_model::SpaceRef;

/// A verb on a resource (`plural`, `plural/sub`) of an API group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
}

const fn need(verb: &'static str, group: &'static str, resource: &'static str) -> Need {
    Need { verb, group, resource }
}

const CHANGE_APP: Need = need("patch", "apps", "deployments");
/// Granting and revoking roles.
pub const GRANT: Need = need("create", "rbac.authorization.k8s.io", "rolebindings");

/// What an action needs on the cluster; `None` for what only reads or only
/// moves about.
pub fn needs(a: Action) -> Option<Need> {
    Some(match a {
        Action::NewApp => need("create", "apps", "deployments"),
        // kdeck scales by patching the workload (its settings' replicas).
        Action::Scale
        | Action::Restart
        | Action::Deploy
        | Action::Rollback
        | Action::Bind
        | Action::EditApp
        | Action::Adopt
        | Action::Edit => CHANGE_APP,
        Action::AddRoute => need("create", "networking.k8s.io", "ingresses"),
        Action::Build | Action::Rerun => need("create", "tekton.dev", "pipelineruns"),
        Action::CancelBuild | Action::CancelBuildGraceful => need("patch", "tekton.dev", "pipelineruns"),
        Action::Logs => need("get", "", "pods/log"),
        Action::Roles => need("list", "rbac.authorization.k8s.io", "rolebindings"),
        Action::Autoscale => need("create", "autoscaling", "horizontalpodautoscalers"),
        Action::Canary | Action::AbortCanary => need("create", "apps", "deployments"),
        Action::SetQuota => need("create", "", "resourcequotas"),
        // The most a key change needs: a Secret's (a ConfigMap's is the same for kdeck's roles).
        Action::SetKey | Action::UnsetKey => need("patch", "", "secrets"),
        _ => return None,
    })
}

impl Cockpit {
    /// The space the focused row is in (a space in the tree, an app, a
    /// route, a build or a pod in a pane), else the only space in view.
    pub fn space_under_cursor(&self) -> Option<SpaceRef> {
        let row = match (self.focus, self.pane) {
            (Focus::Tree, _) => match self.tree.table.current() {
                Some(TreeRow::Space { space, .. }) => Some(space.clone()),
                _ => None,
            },
            (Focus::Pane, Pane::Logs) => None,
            (Focus::Pane, _) => self
                .object_under_cursor()
                .map(|o| SpaceRef::new(&o.cluster, &o.namespace)),
        };
        row.or_else(|| match &self.scope {
            Scope::Spaces(s) if s.len() == 1 => s.iter().next().cloned(),
            _ => None,
        })
    }

    /// The spaces whose permissions the cockpit wants to know now: the one
    /// under the cursor, the marked ones and those picked into view.
    pub fn access_wanted(&self) -> BTreeSet<SpaceRef> {
        /// Beyond this many marked or picked spaces, the rest are the
        /// server's to decide.
        const LIMIT: usize = 200;
        let mut out: BTreeSet<SpaceRef> = self.space_under_cursor().into_iter().collect();
        out.extend(self.tree.marked.iter().take(LIMIT).cloned());
        if let Scope::Spaces(s) = &self.scope {
            out.extend(s.iter().take(LIMIT).cloned());
        }
        out
    }

    /// Why `a` may not be done where the cursor is, or `None` when it may
    /// (or the cluster has not said yet).
    pub fn denied(&self, a: Action) -> Option<String> {
        self.denied_at(a, self.space_under_cursor().as_ref())
    }

    /// [`Self::denied`] with the space under the cursor found once (the
    /// footer asks for every key it shows).
    pub fn denied_at(&self, a: Action, here: Option<&SpaceRef>) -> Option<String> {
        let need = needs(a)?;
        // On marked spaces the roles view asks each, and each answers.
        if a == Action::Roles && !self.tree.marked.is_empty() {
            return None;
        }
        self.denied_in(here?, need, a.name())
    }

    /// Why `need` may not be met in `space`, in the user's words.
    pub fn denied_in(&self, space: &SpaceRef, need: Need, what: &str) -> Option<String> {
        if self.read_only_clusters.contains(&space.cluster) {
            return Some(format!(
                "cluster {} is read-only here (kdeck clusters set {} --writable)",
                space.cluster, space.cluster
            ));
        }
        let access = self.access.get(space)?;
        if access.may(need.verb, need.group, need.resource) != Some(false) {
            return None;
        }
        // As kubectl names it: deployments.apps/scale.
        let (plural, sub) = match need.resource.split_once('/') {
            Some((p, s)) => (p, format!("/{s}")),
            None => (need.resource, String::new()),
        };
        let group = if need.group.is_empty() {
            String::new()
        } else {
            format!(".{}", need.group)
        };
        Some(format!(
            "you are {} in {space}: {} needs {} {plural}{group}{sub}",
            access.role_word(),
            what.replace('_', " "),
            need.verb,
        ))
    }

    /// The user's role where the cursor is, when the cluster said.
    pub fn role_here(&self) -> Option<(SpaceRef, &'static str)> {
        let space = self.space_under_cursor()?;
        self.role_at(&space).map(|w| (space, w))
    }

    /// The user's role in `space`, when its cluster said.
    pub fn role_at(&self, space: &SpaceRef) -> Option<&'static str> {
        Some(self.access.get(space)?.role_word())
    }
}
