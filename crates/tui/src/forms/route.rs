//! The route form: a host for an app, in its own or the space's shared Ingress.
use kdeck_model::AppRef;

use super::{Field, Form, FormKind};

impl Form {
    pub fn route(app: AppRef) -> Form {
        Form::make(
            format!("add a route to {app}"),
            FormKind::Route(app),
            vec![
                Field::new("host", "empty for <app>-<space>.<domain>", ""),
                Field::new("shared", "yes: in the space's shared Ingress; no: its own", "no"),
            ],
        )
    }
}
