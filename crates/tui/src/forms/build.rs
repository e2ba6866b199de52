//! The build forms: start a build (a revision, and whether to deploy the
//! image when it succeeds), and an app's build settings with the logins
//! kdeck keeps as Secrets (typed hidden, never stored or journalled).
use kdeck_command::builds::{BuildSet, Login};
use kdeck_model::{App, AppRef};

use super::{Field, Form, FormKind};

impl Form {
    /// Starts a build of an app at a revision (its settings' by default).
    pub fn build(app: AppRef, revision: &str) -> Form {
        Form::make(
            format!("build {app}"),
            FormKind::Build(app),
            vec![
                Field::new("revision", "a branch, tag or commit", revision),
                Field::new(
                    "deploy",
                    "yes: set the app's image to the built digest and deploy it",
                    "yes",
                ),
            ],
        )
    }

    /// The build settings of an app, from what is stored.
    pub fn build_settings(app: &App) -> Form {
        let b = app.build.clone();
        let get = |f: fn(&kdeck_model::BuildSettings) -> Option<String>| b.as_ref().and_then(f).unwrap_or_default();
        let has = |f: fn(&kdeck_model::BuildSettings) -> bool| b.as_ref().is_some_and(f);
        let kept = |yes: bool| {
            if yes {
                "empty keeps the login kdeck has"
            } else {
                "empty: none"
            }
        };
        Form::make(
            format!("build settings of {}", app.app),
            FormKind::BuildSettings(app.app.clone()),
            vec![
                Field::new(
                    "git url",
                    "https://… or git@host:org/repo.git",
                    &get(|b| Some(b.git_url.clone())),
                ),
                Field::new(
                    "revision",
                    "built by default: a branch, tag or commit",
                    &get(|b| Some(b.revision.clone())),
                ),
                Field::new(
                    "context dir",
                    "the source's directory in the repository (empty: its root)",
                    &get(|b| b.context_dir.clone()),
                ),
                Field::new(
                    "dockerfile",
                    "relative to the context dir (empty: Dockerfile)",
                    &get(|b| b.dockerfile.clone()),
                ),
                Field::new(
                    "registry",
                    "where images are pushed, e.g. registry.example.com/team",
                    &get(|b| Some(b.registry.clone())),
                ),
                Field::new(
                    "image name",
                    "under the registry (empty: the app's name)",
                    &get(|b| b.image.clone()),
                ),
                Field::new("registry user", kept(has(|b| b.registry_secret.is_some())), ""),
                Field::secret("registry password", "typed hidden; kept only in a Secret in the space"),
                Field::new("git user", kept(has(|b| b.git_secret.is_some())), ""),
                Field::secret("git password", "typed hidden; a token for a private repository"),
            ],
        )
    }

    pub(super) fn build_set(&self, app: &AppRef) -> BuildSet {
        let opt = |label: &str| Some(self.get(label)).filter(|v| !v.is_empty());
        let login = |user: &str, password: &str| {
            opt(user).map(|username| Login {
                username,
                password: self
                    .fields
                    .iter()
                    .find(|f| f.label == password)
                    .map(Field::text)
                    .unwrap_or_default(),
            })
        };
        let git_login = login("git user", "git password");
        let registry_login = login("registry user", "registry password");
        let mut logins_given = Vec::new();
        if git_login.is_some() {
            logins_given.push("git".into());
        }
        if registry_login.is_some() {
            logins_given.push("registry".into());
        }
        BuildSet {
            app: app.to_string(),
            git_url: self.get("git url"),
            revision: opt("revision"),
            context_dir: opt("context dir"),
            dockerfile: opt("dockerfile"),
            registry: self.get("registry"),
            image: opt("image name"),
            git_login,
            registry_login,
            logins_given,
        }
    }
}
