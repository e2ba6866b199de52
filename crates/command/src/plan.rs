//! What a command would change in a cluster, as data: the objects it
//! applies (server-side apply) and deletes, and what it has to say. A
//! dry run prints the plan; a run applies the same plan.

use kube::api::{Api, DeleteParams, DynamicObject};
use serde::Serialize;
use serde_json::Value;

use super::apps::{apply_gen, describe_obj, resource};
use super::{Executor, ItemOutcome};
use kdeck_fleet::describe;
use kdeck_model::Cluster;

/// One object to delete: its kind and name in the plan's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deletion {
    pub kind: String,
    pub name: String,
    /// Said when it is done: why it goes.
    pub why: String,
}

/// The cluster changes of one command in one namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub namespace: String,
    pub apply: Vec<Value>,
    pub delete: Vec<Deletion>,
    /// Warnings and hints, said before anything is done.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: namespace.to_string(),
            ..Default::default()
        }
    }

    pub fn delete(&mut self, kind: &str, name: &str, why: &str) {
        self.delete.push(Deletion {
            kind: kind.to_string(),
            name: name.to_string(),
            why: why.to_string(),
        });
    }

    /// The plan as YAML documents, with the deletions and notes as comments:
    /// what a dry run prints.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for n in &self.notes {
            out.push_str(&format!("# note: {n}\n"));
        }
        for d in &self.delete {
            out.push_str(&format!(
                "# delete {} {}/{} ({})\n",
                d.kind.to_ascii_lowercase(),
                self.namespace,
                d.name,
                d.why
            ));
        }
        for o in &self.apply {
            out.push_str("---\n");
            out.push_str(&serde_saphyr::to_string(o).unwrap_or_else(|_| o.to_string()));
        }
        if self.apply.is_empty() && self.delete.is_empty() {
            out.push_str("# nothing to change in the cluster\n");
        }
        out
    }

    /// Applies then deletes, one outcome per object; with the generation of
    /// the Deployment or StatefulSet it applied, if any.
    pub(crate) async fn run(&self, ex: &Executor, cluster: &Cluster) -> (Vec<ItemOutcome>, Option<i64>) {
        let mut items = Vec::new();
        let mut generation = None;
        for o in &self.apply {
            let (item, g) = apply_gen(ex, cluster, o).await;
            if matches!(o["kind"].as_str(), Some("Deployment" | "StatefulSet")) {
                generation = g;
            }
            items.push(item);
        }
        if self.delete.is_empty() {
            return (items, generation);
        }
        let client = match ex.gateway().client(cluster).await {
            Ok(c) => c,
            Err(p) => {
                for d in &self.delete {
                    items.push(ItemOutcome::failed(
                        format!("{} {}", d.kind.to_ascii_lowercase(), d.name),
                        p.message.clone(),
                        p.code,
                    ));
                }
                return (items, generation);
            }
        };
        for d in &self.delete {
            let what = format!("{} {}", d.kind.to_ascii_lowercase(), d.name);
            let Some(ar) = resource("", &d.kind) else {
                items.push(ItemOutcome::failed(what, "kdeck does not know this kind", None));
                continue;
            };
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &self.namespace, &ar);
            items.push(match api.delete(&d.name, &DeleteParams::default()).await {
                Ok(_) => ItemOutcome::ok(what, format!("deleted ({})", d.why)),
                Err(kube::Error::Api(s)) if s.code == 404 => ItemOutcome::ok(what, "not there"),
                Err(e) => {
                    let p = describe(cluster, &format!("delete {}", ar.plural), &e);
                    ItemOutcome::failed(what, p.message, p.code)
                }
            });
        }
        (items, generation)
    }
}

/// `kind name` of each object a plan applies, for messages.
pub fn applied_names(plan: &Plan) -> Vec<String> {
    plan.apply.iter().map(describe_obj).collect()
}

/// What a command would change, as a dry run prints it, for the commands
/// that have a plan (autoscale, canaries, quotas, config and secrets); the
/// CLI's `--dry-run` and the cockpit's form preview both show this text.
pub async fn dry_run(ex: &Executor, command: &crate::Command) -> Result<String, crate::Failure> {
    use crate::Command as C;
    Ok(match command {
        C::AutoscaleApp(s) => match crate::apps::autoscale_plan(ex, s).await? {
            (_, Some(p)) => p.to_text(),
            (settings, None) => format!(
                "# {} is a draft: its settings change, nothing in the cluster until it is deployed\n{}",
                settings.app,
                serde_saphyr::to_string(&settings.autoscale).unwrap_or_default()
            ),
        },
        C::StartCanary(s) => crate::apps::canary_plan(ex, s).await?.1.to_text(),
        C::PromoteCanary { app, .. } => crate::apps::end_plan(ex, app, true)?.to_text(),
        C::AbortCanary { app } => crate::apps::end_plan(ex, app, false)?.to_text(),
        C::SetQuota(q) => crate::quota::quota_plan(ex, q).await?.to_text(),
        C::ChangeConfig(c) => {
            let (obj, exists) = crate::config::change_plan(ex, c).await?;
            format!(
                "# {} {} would be {} as:\n{}",
                c.store.kind().to_ascii_lowercase(),
                c.target,
                if exists { "patched" } else { "created" },
                serde_saphyr::to_string(&obj).unwrap_or_default()
            )
        }
        other => {
            return Err(crate::Failure::new(
                crate::FailureKind::Usage,
                format!("{} has no dry run here", other.verb()),
            ));
        }
    })
}
