//! Webhooks: Tekton Triggers objects that start an app's build on a push
//! (GitHub or GitLab, checked against a secret kept in a Secret), and a route
//! to the EventListener under the cluster's domain.

use super::manifests::{self, RunSpec};
use super::*;
use kdeck_fleet::gateway::{MANAGED_BY, MANAGED_BY_KDECK};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Gitlab,
}

impl Provider {
    pub fn word(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
        }
    }
}

/// `builds webhook APP`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSpec {
    pub app: String,
    pub provider: Provider,
    /// Build pushes to this branch (the settings' revision when neither this nor `tags`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Build pushed tags instead of a branch.
    #[serde(default)]
    pub tags: bool,
    /// Deploy the built image when the build succeeds (in the pipeline).
    #[serde(default)]
    pub deploy: bool,
    /// The shared secret: made by the caller, shown once, kept only in a
    /// Secret in the cluster (never in the journal).
    #[serde(skip)]
    pub secret: String,
}

fn names(app: &str) -> [(&'static str, String); 5] {
    [
        ("Trigger", format!("kdeck-{app}")),
        ("TriggerTemplate", format!("kdeck-build-{app}")),
        ("EventListener", format!("kdeck-{app}")),
        ("Ingress", format!("kdeck-hook-{app}")),
        ("Secret", format!("{app}-webhook")),
    ]
}

/// The host and URL of an app's webhook under a domain.
pub fn webhook_url(a: &AppRef, domain: &kdeck_model::Domain) -> (String, String) {
    let host = format!("hook-{}-{}.{}", a.name, a.space.namespace, domain.suffix);
    let scheme = if domain.tls_secret.is_some() { "https" } else { "http" };
    (host.clone(), format!("{scheme}://{host}/"))
}

fn meta(name: &str, ns: &str, app: &str) -> Value {
    json!({"name": name, "namespace": ns,
           "labels": {MANAGED_BY: MANAGED_BY_KDECK, manifests::APP_LABEL: app, "app.kubernetes.io/part-of": "kdeck-builds"}})
}

pub(crate) async fn set_webhook(ex: &Executor, w: &WebhookSpec) -> Result<Applied, Failure> {
    let a = parse_app(&w.app)?;
    let settings = stored_app(ex, &a)?;
    let Some(b) = settings.build else {
        return Err(invalid(format!(
            "app {a} has no build settings; `kdeck builds settings {a} --git URL --registry REGISTRY` sets them first"
        )));
    };
    let Some(registry_secret) = b.registry_secret.clone() else {
        return Err(invalid(format!(
            "app {a} has no registry login, so a build could not push; `kdeck builds settings {a} --registry-username USER --registry-password-stdin` keeps one"
        )));
    };
    if w.secret.len() < 16 {
        return Err(invalid(
            "the webhook secret is not kept in the journal; run `kdeck builds webhook` again, which makes a new one",
        ));
    }
    if let Some(br) = &w.branch
        && (br.is_empty() || br.contains(char::is_whitespace) || br.contains('\''))
    {
        return Err(invalid(format!(
            "--branch {br:?}: must be a branch name without spaces or quotes"
        )));
    }
    let domain = crate::apps::domains_of(ex, &a.space.cluster)?.into_iter().next().ok_or_else(|| {
        invalid(format!(
            "cluster {} has no domain, so a webhook would have no address; `kdeck domains add {} apps.example.com` adds one",
            a.space.cluster, a.space.cluster
        ))
    })?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    require_api(ex, &cluster, "tekton.dev/v1", "Tekton Pipelines", PIPELINES_HOW).await?;
    require_api(
        ex,
        &cluster,
        "triggers.tekton.dev/v1beta1",
        "Tekton Triggers",
        "an admin installs it with `kubectl apply -f https://storage.googleapis.com/tekton-releases/triggers/latest/release.yaml`, then run this again",
    )
    .await?;
    let ns = a.space.namespace.as_str();
    let app = a.name.as_str();
    let [(_, trigger), (_, template), (_, listener), (_, ingress), (_, secret)] = names(app);
    let branch = w.branch.clone().unwrap_or_else(|| b.revision.clone());
    let (filter, events, revision) = match (w.provider, w.tags) {
        (Provider::Github, false) => (
            format!("body.ref == 'refs/heads/{branch}'"),
            vec!["push"],
            "$(body.after)",
        ),
        (Provider::Github, true) => (
            "body.ref.startsWith('refs/tags/')".to_string(),
            vec!["push"],
            "$(body.after)",
        ),
        (Provider::Gitlab, false) => (
            format!("body.ref == 'refs/heads/{branch}'"),
            vec!["Push Hook"],
            "$(body.checkout_sha)",
        ),
        (Provider::Gitlab, true) => (
            "body.ref.startsWith('refs/tags/')".to_string(),
            vec!["Tag Push Hook"],
            "$(body.checkout_sha)",
        ),
    };
    let image = b.image_repository(app);
    let run = manifests::pipeline_run(
        None,
        &RunSpec {
            namespace: ns,
            app,
            git_url: &b.git_url,
            revision: "$(tt.params.revision)",
            context: b.context_dir.as_deref().unwrap_or("."),
            dockerfile: b.dockerfile.as_deref().unwrap_or("Dockerfile"),
            image: &image,
            registry_secret: &registry_secret,
            deploy: w.deploy,
            trigger: "webhook",
        },
    );
    let (host, url) = webhook_url(&a, &domain);
    let mut ing_spec = json!({"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": format!("el-{listener}"), "port": {"number": 8080}}}}]}}]});
    if let Some(c) = &domain.ingress_class {
        ing_spec["ingressClassName"] = json!(c);
    }
    if let Some(t) = &domain.tls_secret {
        ing_spec["tls"] = json!([{"hosts": [host], "secretName": t}]);
    }
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta(&secret, ns, app),
               "stringData": {"secret": w.secret}}),
        json!({"apiVersion": "triggers.tekton.dev/v1beta1", "kind": "TriggerBinding",
               "metadata": meta(&format!("kdeck-{}-push", w.provider.word()), ns, app),
               "spec": {"params": [{"name": "revision", "value": revision}, {"name": "ref", "value": "$(body.ref)"}]}}),
        json!({"apiVersion": "triggers.tekton.dev/v1beta1", "kind": "TriggerTemplate", "metadata": meta(&template, ns, app),
               "spec": {"params": [{"name": "revision", "description": "The commit pushed"},
                                   {"name": "ref", "default": ""}],
                        "resourcetemplates": [run]}}),
        json!({"apiVersion": "triggers.tekton.dev/v1beta1", "kind": "Trigger", "metadata": meta(&trigger, ns, app),
               "spec": {"interceptors": [
                            {"ref": {"name": w.provider.word(), "kind": "ClusterInterceptor"},
                             "params": [{"name": "secretRef", "value": {"secretName": secret, "secretKey": "secret"}},
                                        {"name": "eventTypes", "value": events}]},
                            {"ref": {"name": "cel", "kind": "ClusterInterceptor"},
                             "params": [{"name": "filter", "value": filter}]}],
                        "bindings": [{"ref": format!("kdeck-{}-push", w.provider.word()), "kind": "TriggerBinding"}],
                        "template": {"ref": template}}}),
        json!({"apiVersion": "triggers.tekton.dev/v1beta1", "kind": "EventListener", "metadata": meta(&listener, ns, app),
               "spec": {"serviceAccountName": manifests::SERVICE_ACCOUNT, "triggers": [{"triggerRef": trigger}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(&ingress, ns, app), "spec": ing_spec}),
    ];
    let mut items = Vec::new();
    for o in &objects {
        let item = apply(ex, &cluster, o).await;
        let failed = !item.ok;
        items.push(item);
        if failed {
            break;
        }
    }
    if items.iter().all(|i| i.ok) {
        let on = if w.tags {
            "tags".to_string()
        } else {
            format!("branch {branch}")
        };
        let then = if w.deploy { ", then deploy" } else { "" };
        items.push(ItemOutcome::ok(
            a.to_string(),
            format!(
                "webhook {url} builds pushes to {on}{then} ({} signs them)",
                w.provider.word()
            ),
        ));
    }
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}

/// `builds webhook remove`: the app's Trigger, template, listener, route
/// and secret (the shared binding stays).
pub(crate) async fn remove_webhook(ex: &Executor, app: &str) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let mut items = Vec::new();
    for (kind, name) in names(&a.name) {
        let (api, ar) = match ex.gateway().api(&cluster, kind, &a.space.namespace).await {
            Ok(x) => x,
            Err(p) => {
                items.push(ItemOutcome::failed(
                    format!("{} {name}", kind.to_ascii_lowercase()),
                    p.message,
                    p.code,
                ));
                continue;
            }
        };
        let what = format!("{} {name}", kind.to_ascii_lowercase());
        items.push(match api.delete(&name, &kube::api::DeleteParams::background()).await {
            Ok(_) => ItemOutcome::ok(what, "deleted"),
            Err(kube::Error::Api(s)) if s.code == 404 => ItemOutcome::ok(what, "was not there"),
            Err(e) => {
                let p = kdeck_fleet::describe(&cluster, &format!("delete {}", ar.plural), &e);
                ItemOutcome::failed(what, p.message, p.code)
            }
        });
    }
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}
