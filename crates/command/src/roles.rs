//! Roles on spaces: manager, developer and auditor, each a RoleBinding to
//! the built-in ClusterRole admin, edit or view. Grants go to many spaces
//! at once, across clusters, reported per space; they are kept in the store
//! so that a space can get them again (`roles apply`). Listing shows every
//! RoleBinding of a space, kdeck's or not.

use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Applied, Executor, Failure, ItemOutcome, cluster_failure, cluster_of, invalid};
use kdeck_fleet::describe;
use kdeck_fleet::gateway::{MANAGED_BY, MANAGED_BY_KDECK};
use kdeck_model::{Role, RoleGrant, SpaceRef, SubjectKind};
use kdeck_store::Batch;

/// `manager`, `developer` or `auditor`.
pub fn parse_role(s: &str) -> Result<Role, Failure> {
    match s {
        "manager" => Ok(Role::Manager),
        "developer" => Ok(Role::Developer),
        "auditor" => Ok(Role::Auditor),
        other => Err(invalid(format!(
            "role {other:?}: kdeck's roles are manager (ClusterRole admin), developer (edit) and auditor (view)"
        ))),
    }
}

pub fn role_word(r: Role) -> &'static str {
    match r {
        Role::Manager => "manager",
        Role::Developer => "developer",
        Role::Auditor => "auditor",
    }
}

/// `user:NAME`, `group:NAME` or `sa:NAMESPACE/NAME`.
pub fn parse_subject(s: &str) -> Result<(SubjectKind, String), Failure> {
    let bad = || {
        invalid(format!(
            "subject {s:?}: must be user:NAME, group:NAME or sa:NAMESPACE/NAME"
        ))
    };
    let (kind, name) = s.split_once(':').ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(bad());
    }
    match kind {
        "user" => Ok((SubjectKind::User, name.to_string())),
        "group" => Ok((SubjectKind::Group, name.to_string())),
        "sa" => {
            let (ns, n) = name.split_once('/').ok_or_else(bad)?;
            kdeck_model::validate::dns_label("service account namespace", ns).map_err(|e| invalid(e.to_string()))?;
            kdeck_model::validate::dns_subdomain("service account", n).map_err(|e| invalid(e.to_string()))?;
            Ok((SubjectKind::ServiceAccount, name.to_string()))
        }
        _ => Err(bad()),
    }
}

fn subject_json(kind: SubjectKind, name: &str) -> Value {
    match kind {
        SubjectKind::User => json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}),
        SubjectKind::Group => json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}),
        SubjectKind::ServiceAccount => {
            let (ns, n) = name.split_once('/').unwrap_or(("", name));
            json!({"kind": "ServiceAccount", "name": n, "namespace": ns})
        }
    }
}

/// `user:NAME`, as a subject of a binding reads.
fn subject_text(s: &Value) -> String {
    let name = s.get("name").and_then(Value::as_str).unwrap_or("");
    match s.get("kind").and_then(Value::as_str) {
        Some("User") => format!("user:{name}"),
        Some("Group") => format!("group:{name}"),
        Some("ServiceAccount") => format!("sa:{}/{name}", s.get("namespace").and_then(Value::as_str).unwrap_or("")),
        Some(k) => format!("{}:{name}", k.to_ascii_lowercase()),
        None => name.to_string(),
    }
}

fn binding(g: &RoleGrant) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": g.binding_name(), "namespace": g.space.namespace,
                     "labels": {MANAGED_BY: MANAGED_BY_KDECK, "kdeck.dev/role": role_word(g.role)}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": g.role.cluster_role()},
        "subjects": [subject_json(g.subject_kind, &g.subject)],
    })
}

/// The RoleBindings of a space, as JSON.
async fn bindings(ex: &Executor, space: &SpaceRef) -> Result<(kdeck_model::Cluster, Vec<Value>), Failure> {
    let cluster = cluster_of(ex, &space.cluster)?;
    let (api, _) = ex
        .gateway()
        .api(&cluster, "RoleBinding", &space.namespace)
        .await
        .map_err(cluster_failure)?;
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| cluster_failure(describe(&cluster, "list rolebindings", &e)))?;
    let out = list.items.iter().filter_map(|b| serde_json::to_value(b).ok()).collect();
    Ok((cluster, out))
}

fn grants_role(b: &Value, role: Role, subject: &str) -> bool {
    b.pointer("/roleRef/kind").and_then(Value::as_str) == Some("ClusterRole")
        && b.pointer("/roleRef/name").and_then(Value::as_str) == Some(role.cluster_role())
        && b.get("subjects")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|x| subject_text(x) == subject))
}

fn name_of(b: &Value) -> String {
    b.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn parse_spaces(spaces: &[String]) -> Result<Vec<SpaceRef>, Failure> {
    if spaces.is_empty() {
        return Err(invalid("name at least one space (CLUSTER/NAMESPACE)"));
    }
    spaces
        .iter()
        .map(|s| SpaceRef::parse("space", s).map_err(|e| invalid(e.to_string())))
        .collect()
}

/// Grants `role` to `subject` on every space; each space's outcome its own.
pub(crate) async fn grant(ex: &Executor, spaces: &[String], subject: &str, role: &str) -> Result<Applied, Failure> {
    let role = parse_role(role)?;
    let (kind, name) = parse_subject(subject)?;
    let spaces = parse_spaces(spaces)?;
    let mut items = Vec::new();
    let mut batch = Batch::new();
    for space in spaces {
        let g = RoleGrant {
            space: space.clone(),
            subject_kind: kind,
            subject: name.clone(),
            role,
        };
        let item = space.to_string();
        let existing = match bindings(ex, &space).await {
            Ok((cluster, list)) => (cluster, list),
            Err(f) => {
                items.push(ItemOutcome::failed(item, f.reason, f.code));
                continue;
            }
        };
        let (cluster, list) = existing;
        let text = subject_text(&subject_json(kind, &name));
        if let Some(b) = list.iter().find(|b| grants_role(b, role, &text)) {
            items.push(ItemOutcome::ok(
                item,
                format!("{text} is {} already (RoleBinding {})", role_word(role), name_of(b)),
            ));
            batch.put(&g)?;
            continue;
        }
        match ex.gateway().apply(&cluster, &binding(&g)).await {
            Ok(_) => {
                items.push(ItemOutcome::ok(
                    item,
                    format!("{text} is {} (RoleBinding {})", role_word(role), g.binding_name()),
                ));
                batch.put(&g)?;
            }
            Err(p) => items.push(ItemOutcome::failed(item, p.message, p.code)),
        }
    }
    Ok(Applied { items, batch })
}

/// Takes `role` from `subject` on every space: kdeck's bindings go (or lose
/// the subject when they name others too); others only with `force`.
pub(crate) async fn revoke(
    ex: &Executor,
    spaces: &[String],
    subject: &str,
    role: &str,
    force: bool,
) -> Result<Applied, Failure> {
    let role = parse_role(role)?;
    let (kind, name) = parse_subject(subject)?;
    let text = subject_text(&subject_json(kind, &name));
    let mut items = Vec::new();
    let mut batch = Batch::new();
    for space in parse_spaces(spaces)? {
        let item = space.to_string();
        let (cluster, list) = match bindings(ex, &space).await {
            Ok(x) => x,
            Err(f) => {
                items.push(ItemOutcome::failed(item, f.reason, f.code));
                continue;
            }
        };
        let key = RoleGrant {
            space: space.clone(),
            subject_kind: kind,
            subject: name.clone(),
            role,
        }
        .key();
        let found: Vec<&Value> = list.iter().filter(|b| grants_role(b, role, &text)).collect();
        if found.is_empty() {
            items.push(ItemOutcome::ok(
                item,
                format!("{text} is not {} there", role_word(role)),
            ));
            batch.delete::<RoleGrant>(&key);
            continue;
        }
        let foreign: Vec<String> = found
            .iter()
            .filter(|b| {
                b.pointer(&format!("/metadata/labels/{}", MANAGED_BY.replace('/', "~1")))
                    .and_then(Value::as_str)
                    != Some(MANAGED_BY_KDECK)
            })
            .map(|b| name_of(b))
            .collect();
        if !foreign.is_empty() && !force {
            items.push(ItemOutcome::failed(
                item,
                format!(
                    "RoleBinding {} was not made by kdeck; `--force` revokes it anyway",
                    foreign.join(", ")
                ),
                None,
            ));
            continue;
        }
        let (api, _) = match ex.gateway().api(&cluster, "RoleBinding", &space.namespace).await {
            Ok(x) => x,
            Err(p) => {
                items.push(ItemOutcome::failed(item, p.message, p.code));
                continue;
            }
        };
        let mut failed = None;
        for b in found {
            let bname = name_of(b);
            let rest: Vec<Value> = b
                .get("subjects")
                .and_then(Value::as_array)
                .map(|s| s.iter().filter(|x| subject_text(x) != text).cloned().collect())
                .unwrap_or_default();
            let r = if rest.is_empty() {
                api.delete(&bname, &DeleteParams::default()).await.map(|_| ())
            } else {
                // Others keep it: only this subject goes.
                api.patch(
                    &bname,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"subjects": rest})),
                )
                .await
                .map(|_| ())
            };
            if let Err(e) = r {
                failed = Some(describe(&cluster, "revoke rolebindings", &e));
            }
        }
        match failed {
            None => {
                items.push(ItemOutcome::ok(
                    item,
                    format!("{text} is no longer {}", role_word(role)),
                ));
                batch.delete::<RoleGrant>(&key);
            }
            Some(p) => items.push(ItemOutcome::failed(item, p.message, p.code)),
        }
    }
    Ok(Applied { items, batch })
}

/// The grants kept for a space, applied to it again.
pub(crate) async fn apply(ex: &Executor, space: &str) -> Result<Applied, Failure> {
    let s = SpaceRef::parse("space", space).map_err(|e| invalid(e.to_string()))?;
    let grants: Vec<RoleGrant> = ex
        .store()
        .list_prefix::<RoleGrant>(&format!("{s}/"))?
        .into_iter()
        .filter(|g| g.space == s)
        .collect();
    if grants.is_empty() {
        return Err(invalid(format!(
            "kdeck keeps no grants for {s}; `kdeck roles grant {s} SUBJECT ROLE` makes one"
        )));
    }
    let cluster = cluster_of(ex, &s.cluster)?;
    let mut items = Vec::new();
    for g in grants {
        let what = format!("{}:{} {}", subject_word(g.subject_kind), g.subject, role_word(g.role));
        items.push(match ex.gateway().apply(&cluster, &binding(&g)).await {
            Ok(_) => ItemOutcome::ok(what, format!("RoleBinding {}", g.binding_name())),
            Err(p) => ItemOutcome::failed(what, p.message, p.code),
        });
    }
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}

fn subject_word(k: SubjectKind) -> &'static str {
    match k {
        SubjectKind::User => "user",
        SubjectKind::Group => "group",
        SubjectKind::ServiceAccount => "sa",
    }
}

/// One subject's role in a space, from one RoleBinding.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    /// manager, developer, auditor, or custom.
    pub role: String,
    /// The ClusterRole or Role it binds.
    pub role_ref: String,
    pub subject: String,
    pub binding: String,
    /// Made by kdeck.
    pub kdeck: bool,
}

/// Every RoleBinding of a space, as holders of kdeck's roles or custom ones.
pub async fn list(ex: &Executor, space: &SpaceRef) -> Result<Vec<Holder>, Failure> {
    let (_, list) = bindings(ex, space).await?;
    let mut out = Vec::new();
    for b in &list {
        let kind = b.pointer("/roleRef/kind").and_then(Value::as_str).unwrap_or("");
        let rname = b.pointer("/roleRef/name").and_then(Value::as_str).unwrap_or("");
        let role = match (kind, rname) {
            ("ClusterRole", "admin") => "manager",
            ("ClusterRole", "edit") => "developer",
            ("ClusterRole", "view") => "auditor",
            _ => "custom",
        };
        let kdeck = b
            .pointer(&format!("/metadata/labels/{}", MANAGED_BY.replace('/', "~1")))
            .and_then(Value::as_str)
            == Some(MANAGED_BY_KDECK);
        for s in b.get("subjects").and_then(Value::as_array).into_iter().flatten() {
            out.push(Holder {
                role: role.into(),
                role_ref: format!("{}/{rname}", kind),
                subject: subject_text(s),
                binding: name_of(b),
                kdeck,
            });
        }
    }
    let rank = |r: &str| {
        ["manager", "developer", "auditor", "custom"]
            .iter()
            .position(|x| *x == r)
    };
    out.sort_by(|a, b| (rank(&a.role), &a.subject).cmp(&(rank(&b.role), &b.subject)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_roles_parse_or_say_what_is_wrong() {
        assert_eq!(
            parse_subject("user:alice").unwrap(),
            (SubjectKind::User, "alice".into())
        );
        assert_eq!(
            parse_subject("group:devs").unwrap(),
            (SubjectKind::Group, "devs".into())
        );
        assert_eq!(
            parse_subject("sa:ci/builder").unwrap(),
            (SubjectKind::ServiceAccount, "ci/builder".into())
        );
        for bad in ["alice", "user:", "robot:x", "sa:nonamespace", "user:a b"] {
            let e = parse_subject(bad).unwrap_err();
            assert!(
                e.reason.contains("user:NAME, group:NAME or sa:NAMESPACE/NAME"),
                "{bad}: {e}"
            );
        }
        assert_eq!(parse_role("developer").unwrap(), Role::Developer);
        assert!(
            parse_role("owner")
                .unwrap_err()
                .reason
                .contains("manager (ClusterRole admin)")
        );
        assert_eq!(
            subject_text(&subject_json(SubjectKind::ServiceAccount, "ci/builder")),
            "sa:ci/builder"
        );
    }
}
