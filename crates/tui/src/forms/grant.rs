//! The grant form: a subject and a role, for the spaces of the roles view.
use kdeck_model::SpaceRef;

use super::{Field, Form, FormKind};

/// kdeck's roles, as the role picker offers them.
pub const ROLES: &[&str] = &["developer", "auditor", "manager"];

impl Form {
    /// Grant a role on `spaces`; the subject picker offers `subjects` (those
    /// seen in the spaces' bindings), and any other can be typed.
    pub fn grant(spaces: Vec<SpaceRef>, subjects: Vec<String>) -> Form {
        let title = match spaces.as_slice() {
            [one] => format!("grant a role in {one}"),
            many => format!("grant a role in {} spaces", many.len()),
        };
        let mut subject = Field::new("subject", "user:NAME, group:NAME or sa:NAMESPACE/NAME", "");
        subject.choices = subjects;
        let mut role = Field::new("role", "manager (admin), developer (edit) or auditor (view)", ROLES[0]);
        role.choices = ROLES.iter().map(|r| r.to_string()).collect();
        Form::make(title, FormKind::Grant(spaces), vec![subject, role])
    }
}
