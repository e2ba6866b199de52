//! The bind form: an app takes env vars from another app's connector.
use kdeck_model::AppRef;

use super::{Field, Form, FormKind};

impl Form {
    pub fn bind(app: AppRef) -> Form {
        Form::make(
            format!("bind {app} to"),
            FormKind::Bind(app),
            vec![
                Field::new("app", "CLUSTER/SPACE/APP that offers the connector", ""),
                Field::new("connector", "the connector's name, e.g. postgres", ""),
                Field::new("prefix", "env var prefix; empty for the app's name", ""),
            ],
        )
    }
}
