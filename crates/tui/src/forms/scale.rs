//! The scale form: an app's replica count.
use kdeck_model::AppRef;

use super::{Field, Form, FormKind};

impl Form {
    /// The scale form of an app, starting from its replica count.
    pub fn scale(app: AppRef, replicas: i32) -> Form {
        Form::make(
            format!("scale {app}"),
            FormKind::Scale(app),
            vec![Field::new(
                "replicas",
                "0 to 1000; 0 stops the app",
                &replicas.to_string(),
            )],
        )
    }
}
