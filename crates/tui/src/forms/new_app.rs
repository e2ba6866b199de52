//! The new-app form: an app stored as a draft in a space, deployed later.
use kdeck_model::SpaceRef;

use super::{Field, Form, FormKind};

impl Form {
    /// A new app in a space: stored as a draft, deployed with `A`.
    pub fn new_app(space: SpaceRef) -> Form {
        let env = Field::lines(
            "env",
            "NAME=VALUE, one per line (enter adds a line; ctrl-s saves)",
            "",
            2,
        );
        Form::make(
            format!("new app in {space}"),
            FormKind::NewApp(space),
            vec![
                Field::new("name", "lower-case letters, digits and '-'", ""),
                Field::new("image", "e.g. ghcr.io/acme/web:1.0", ""),
                Field::new("port", "the port it listens on; empty for none", "8080"),
                Field::new("replicas", "0 to 1000", "1"),
                Field::new(
                    "kind",
                    "deployment, or stateful (a StatefulSet: a volume per pod)",
                    "deployment",
                ),
                Field::new(
                    "volumes",
                    "NAME:SIZE[:PATH][:ACCESS] each, e.g. data:10Gi; empty for none",
                    "",
                ),
                env,
                Field::new(
                    "route",
                    "a host, `default` for <app>-<space>.<domain>, or empty",
                    "default",
                ),
            ],
        )
    }
}
