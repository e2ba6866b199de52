//! An app's revisions: what each deploy put in the cluster (the settings
//! and the routes), numbered from 1, with who deployed it, when, and what
//! changed against the revision before. A rollback deploys an earlier
//! revision's settings and is itself a new revision, as Helm counts them.

use serde::{Deserialize, Serialize};

use crate::{App, AppRef, Route};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub app: AppRef,
    pub number: u32,
    /// RFC 3339.
    pub at: String,
    /// `user@host`.
    pub actor: String,
    pub settings: App,
    #[serde(default)]
    pub routes: Vec<Route>,
    /// What changed against the revision before, in words.
    pub change: String,
}

impl Revision {
    /// The store key: the app, then the number padded so that keys sort
    /// in order.
    pub fn key_of(app: &AppRef, number: u32) -> String {
        format!("{app}#{number:08}")
    }

    /// The prefix every revision of `app` has.
    pub fn prefix(app: &AppRef) -> String {
        format!("{app}#")
    }

    /// Whether `settings` and `routes` are what this revision deployed (a
    /// deploy of the same thing makes no new revision). Build settings are
    /// not part of a release.
    pub fn same_release(&self, settings: &App, routes: &[Route]) -> bool {
        let strip = |a: &App| App {
            build: None,
            ..a.clone()
        };
        strip(&self.settings) == strip(settings) && sorted(&self.routes) == sorted(routes)
    }
}

fn sorted(routes: &[Route]) -> Vec<String> {
    let mut v: Vec<String> = routes.iter().map(|r| format!("{}{}", r.host, r.path)).collect();
    v.sort();
    v
}

/// What changed from `before` to `after`, in words: `image web:1 → web:2;
/// replicas 2 → 3; env +DEBUG -OLD ~LEVEL; routes +api.example.com`.
/// `first release` when there is nothing before.
pub fn change(before: Option<&Revision>, after: &App, routes: &[Route]) -> String {
    let Some(b) = before else {
        return "first release".into();
    };
    let old = &b.settings;
    let mut out = Vec::new();
    if old.image != after.image {
        out.push(format!("image {} → {}", old.image, after.image));
    }
    if old.replicas != after.replicas {
        out.push(format!("replicas {} → {}", old.replicas, after.replicas));
    }
    let names = |a: &App| -> Vec<(String, String)> {
        a.env
            .iter()
            .map(|e| (e.name.clone(), serde_json::to_string(&e.source).unwrap_or_default()))
            .collect()
    };
    let (o, n) = (names(old), names(after));
    let mut env = Vec::new();
    for (k, v) in &n {
        match o.iter().find(|(ok, _)| ok == k) {
            None => env.push(format!("+{k}")),
            Some((_, ov)) if ov != v => env.push(format!("~{k}")),
            Some(_) => {}
        }
    }
    env.extend(
        o.iter()
            .filter(|(k, _)| !n.iter().any(|(nk, _)| nk == k))
            .map(|(k, _)| format!("-{k}")),
    );
    if !env.is_empty() {
        out.push(format!("env {}", env.join(" ")));
    }
    let ports = |a: &App| a.ports.iter().map(|p| p.port.to_string()).collect::<Vec<_>>().join(",");
    if ports(old) != ports(after) {
        out.push(format!("ports {} → {}", ports(old), ports(after)));
    }
    let (ro, rn) = (sorted(&b.routes), sorted(routes));
    let mut r: Vec<String> = rn.iter().filter(|x| !ro.contains(x)).map(|x| format!("+{x}")).collect();
    r.extend(ro.iter().filter(|x| !rn.contains(x)).map(|x| format!("-{x}")));
    if !r.is_empty() {
        out.push(format!("routes {}", r.join(" ")));
    }
    let rest = |a: &App| App {
        image: String::new(),
        replicas: 0,
        env: Vec::new(),
        ports: Vec::new(),
        build: None,
        ..a.clone()
    };
    if rest(old) != rest(after) {
        out.push("other settings".into());
    }
    if out.is_empty() {
        "no change".into()
    } else {
        out.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EnvEntry, EnvSource, SpaceRef};

    fn rev(settings: App, routes: Vec<Route>) -> Revision {
        Revision {
            app: settings.app.clone(),
            number: 1,
            at: "2026-12-01T10:00:00Z".into(),
            actor: "ana@bastion".into(),
            settings,
            routes,
            change: "first release".into(),
        }
    }

    fn env(name: &str, v: &str) -> EnvEntry {
        EnvEntry {
            name: name.into(),
            source: EnvSource::Value(v.into()),
        }
    }

    #[test]
    fn changes_are_said_field_by_field_and_the_same_release_is_none() {
        let a = AppRef::new(SpaceRef::new("eu1", "shop"), "web");
        let mut v1 = App::new(a.clone(), "web:1");
        v1.env = vec![env("MODE", "a"), env("OLD", "x")];
        let r1 = rev(v1.clone(), Vec::new());
        assert_eq!(change(None, &v1, &[]), "first release");
        assert!(r1.same_release(&v1, &[]));
        let mut v2 = v1.clone();
        v2.image = "web:2".into();
        v2.replicas = 3;
        v2.env = vec![env("MODE", "b"), env("NEW", "y")];
        v2.build = None;
        assert_eq!(
            change(Some(&r1), &v2, &[]),
            "image web:1 → web:2; replicas 1 → 3; env ~MODE +NEW -OLD"
        );
        assert!(!r1.same_release(&v2, &[]));
        // Build settings are not part of a release.
        let mut built = v1.clone();
        built.build = crate::sample::full_app().build;
        assert!(built.build.is_some());
        assert!(r1.same_release(&built, &[]));
        let mut other = v1.clone();
        other.command = vec!["serve".into()];
        assert_eq!(change(Some(&r1), &other, &[]), "other settings");
        assert_eq!(change(Some(&r1), &v1, &[]), "no change");
        assert_eq!(Revision::key_of(&a, 12), "eu1/shop/web#00000012");
    }
}
