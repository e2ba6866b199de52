//! Runs: start one from an app's settings, cancel, rerun with the same
//! params, prune old ones, and deploy the image a run built.

use kube::api::{DeleteParams, ListParams, Patch, PatchParams};

use super::manifests::{self, APP_LABEL, PIPELINE, RunSpec};
use super::*;
use kdeck_fleet::describe;

/// A fresh run name for an app: `APP-build-xxxxx`, as `generateName` makes them.
pub fn new_run_name(app: &str) -> String {
    const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let id = uuid::Uuid::new_v4();
    let suffix: String = id.as_bytes()[..5]
        .iter()
        .map(|b| A[*b as usize % A.len()] as char)
        .collect();
    format!("{app}-build-{suffix}")
}

/// `builds start`: a PipelineRun of the app's settings. Everything that can
/// be checked is checked before anything is made.
pub(crate) async fn start(
    ex: &Executor,
    app: &str,
    run: &str,
    revision: Option<&str>,
    deploy: bool,
) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let settings = stored_app(ex, &a)?;
    let Some(b) = settings.build else {
        return Err(invalid(format!(
            "app {a} has no build settings; `kdeck builds settings {a} --git URL --registry REGISTRY` sets them"
        )));
    };
    let revision = revision.unwrap_or(&b.revision);
    if revision.trim().is_empty() || revision.contains(char::is_whitespace) {
        return Err(invalid(format!(
            "--revision {revision:?}: must be a branch, tag or commit without spaces"
        )));
    }
    let Some(registry_secret) = b.registry_secret.clone() else {
        return Err(invalid(format!(
            "app {a} has no registry login, so its image cannot be pushed; `kdeck builds settings {a} --registry {} --registry-username USER --registry-password-stdin` keeps one",
            b.registry
        )));
    };
    let cluster = cluster_of(ex, &a.space.cluster)?;
    require_api(ex, &cluster, "tekton.dev/v1", "Tekton Pipelines", PIPELINES_HOW).await?;
    let ns = &a.space.namespace;
    let gw = ex.gateway();
    if gw
        .read(&cluster, "Pipeline", ns, PIPELINE)
        .await
        .map_err(cluster_failure)?
        .is_none()
    {
        return Err(invalid(format!(
            "space {} is not set up for builds (no Pipeline {PIPELINE}); `kdeck builds setup {}` sets it up",
            a.space, a.space
        )));
    }
    if gw
        .read(&cluster, "Secret", ns, &registry_secret)
        .await
        .map_err(cluster_failure)?
        .is_none()
    {
        return Err(invalid(format!(
            "the registry login of app {a} (Secret {registry_secret} in {}) is gone; `kdeck builds settings {a} --registry {} --registry-username USER --registry-password-stdin` makes it again",
            a.space, b.registry
        )));
    }
    let image = b.image_repository(&a.name);
    let pr = manifests::pipeline_run(
        Some(run),
        &RunSpec {
            namespace: ns,
            app: &a.name,
            git_url: &b.git_url,
            revision,
            context: b.context_dir.as_deref().unwrap_or("."),
            dockerfile: b.dockerfile.as_deref().unwrap_or("Dockerfile"),
            image: &image,
            registry_secret: &registry_secret,
            deploy: false,
            trigger: "manual",
        },
    );
    // Deploying after it is kdeck's part (`builds deploy`), so that the
    // stored settings take the digest; the label says it was asked for.
    let mut pr = pr;
    if deploy {
        pr["metadata"]["labels"][manifests::DEPLOY_LABEL] = json!("true");
    }
    let item = match create_run(ex, &cluster, &pr).await {
        Ok(_) => ItemOutcome::ok(
            format!("{}/{run}", a.space),
            format!("build of {} at {revision} started", a.name),
        ),
        Err(p) => ItemOutcome::failed(format!("{}/{run}", a.space), p.message, p.code),
    };
    Ok(Applied {
        items: vec![item],
        batch: Batch::new(),
    })
}

/// Creates a run (never applies over one of the same name).
async fn create_run(ex: &Executor, cluster: &Cluster, pr: &Value) -> Result<(), kdeck_fleet::Problem> {
    let ns = pr["metadata"]["namespace"].as_str().unwrap_or_default();
    let (api, _) = ex.gateway().api(cluster, "PipelineRun", ns).await?;
    let obj: kube::api::DynamicObject = serde_json::from_value(pr.clone()).map_err(|e| kdeck_fleet::Problem {
        cluster: cluster.name.clone(),
        kind: kdeck_fleet::ProblemKind::Other,
        message: format!("kdeck made a PipelineRun it cannot send: {e}"),
        code: None,
    })?;
    let pp = kube::api::PostParams {
        field_manager: Some(kdeck_fleet::gateway::FIELD_MANAGER.into()),
        ..Default::default()
    };
    api.create(&pp, &obj)
        .await
        .map(|_| ())
        .map_err(|e| describe(cluster, "create pipelineruns", &e))
}

async fn read_run(ex: &Executor, run: &str) -> Result<(Cluster, SpaceRef, String, Value), Failure> {
    let (space, name) = parse_run(run)?;
    let cluster = cluster_of(ex, &space.cluster)?;
    let pr = ex
        .gateway()
        .read(&cluster, "PipelineRun", &space.namespace, &name)
        .await
        .map_err(cluster_failure)?
        .ok_or_else(|| invalid(format!("no build run {run}; `kdeck builds list {space}` lists them")))?;
    Ok((cluster, space, name, pr))
}

fn finished(pr: &Value) -> Option<String> {
    pr.pointer("/status/completionTime")?;
    Some(
        pr.pointer("/status/conditions/0/reason")
            .and_then(Value::as_str)
            .unwrap_or("finished")
            .to_string(),
    )
}

/// `builds cancel`: `Cancelled`, or with `graceful` `CancelledRunFinally`
/// (the finally tasks still run).
pub(crate) async fn cancel(ex: &Executor, run: &str, graceful: bool) -> Result<Applied, Failure> {
    let (cluster, space, name, pr) = read_run(ex, run).await?;
    if let Some(how) = finished(&pr) {
        return Err(invalid(format!("build {run} already ended ({how}); nothing to cancel")));
    }
    let status = if graceful { "CancelledRunFinally" } else { "Cancelled" };
    let (api, _) = ex
        .gateway()
        .api(&cluster, "PipelineRun", &space.namespace)
        .await
        .map_err(cluster_failure)?;
    let patch = json!({"spec": {"status": status}});
    let item = match api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
        Ok(_) => ItemOutcome::ok(run, format!("cancel asked ({status})")),
        Err(e) => {
            let p = describe(&cluster, "patch pipelineruns", &e);
            ItemOutcome::failed(run, p.message, p.code)
        }
    };
    Ok(Applied {
        items: vec![item],
        batch: Batch::new(),
    })
}

/// `builds rerun`: a new run with the same pipeline, params and workspaces.
pub(crate) async fn rerun(ex: &Executor, run: &str, new_run: &str) -> Result<Applied, Failure> {
    let (cluster, space, _, pr) = read_run(ex, run).await?;
    let mut labels = pr.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
    if let Some(l) = labels.as_object_mut() {
        l.retain(|k, _| !k.starts_with("tekton.dev/") && !k.starts_with("triggers.tekton.dev/"));
        l.insert(manifests::TRIGGER_LABEL.into(), json!("manual"));
    }
    let mut annotations = json!({"kdeck.dev/rerun-of": run});
    if let Some(rev) = pr.pointer(&format!(
        "/metadata/annotations/{}",
        manifests::REVISION_ANNOTATION.replace('/', "~1")
    )) {
        annotations[manifests::REVISION_ANNOTATION] = rev.clone();
    }
    let mut spec = pr.get("spec").cloned().unwrap_or(json!({}));
    if let Some(s) = spec.as_object_mut() {
        s.remove("status");
    }
    let new = json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                     "metadata": {"name": new_run, "namespace": space.namespace, "labels": labels, "annotations": annotations},
                     "spec": spec});
    let item = match create_run(ex, &cluster, &new).await {
        Ok(_) => ItemOutcome::ok(format!("{space}/{new_run}"), format!("rerun of {run} started")),
        Err(p) => ItemOutcome::failed(format!("{space}/{new_run}"), p.message, p.code),
    };
    Ok(Applied {
        items: vec![item],
        batch: Batch::new(),
    })
}

/// `builds prune`: deletes an app's ended runs but the newest `keep`.
pub(crate) async fn prune(ex: &Executor, app: &str, keep: usize) -> Result<Applied, Failure> {
    let a = parse_app(app)?;
    let cluster = cluster_of(ex, &a.space.cluster)?;
    let (api, _) = ex
        .gateway()
        .api(&cluster, "PipelineRun", &a.space.namespace)
        .await
        .map_err(cluster_failure)?;
    let list = api
        .list(&ListParams::default().labels(&format!("{APP_LABEL}={}", a.name)))
        .await
        .map_err(|e| cluster_failure(describe(&cluster, "list pipelineruns", &e)))?;
    let mut runs: Vec<_> = list.items;
    runs.sort_by(|x, y| {
        y.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .cmp(&x.metadata.creation_timestamp.as_ref().map(|t| t.0))
            .then_with(|| x.metadata.name.cmp(&y.metadata.name))
    });
    let mut items = Vec::new();
    for pr in runs.iter().skip(keep) {
        let name = pr.metadata.name.clone().unwrap_or_default();
        if pr.data.pointer("/status/completionTime").is_none() {
            continue;
        }
        let item = format!("{}/{name}", a.space);
        items.push(match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => ItemOutcome::ok(item, "deleted"),
            Err(kube::Error::Api(s)) if s.code == 404 => ItemOutcome::ok(item, "already gone"),
            Err(e) => {
                let p = describe(&cluster, "delete pipelineruns", &e);
                ItemOutcome::failed(item, p.message, p.code)
            }
        });
    }
    if items.is_empty() {
        items.push(ItemOutcome::ok(
            a.to_string(),
            format!("nothing to prune ({} runs, keeping {keep})", runs.len()),
        ));
    }
    Ok(Applied {
        items,
        batch: Batch::new(),
    })
}

/// The image a succeeded run pushed: `IMAGE_URL@IMAGE_DIGEST`.
pub fn built_image(pr: &Value) -> Option<String> {
    let results = pr.pointer("/status/results")?.as_array()?;
    let get = |n: &str| {
        results
            .iter()
            .find(|r| r.get("name").and_then(Value::as_str) == Some(n))
            .and_then(|r| r.get("value").and_then(Value::as_str))
    };
    Some(format!("{}@{}", get("IMAGE_URL")?, get("IMAGE_DIGEST")?))
}

/// `builds deploy RUN` (and `start --deploy`): sets the app's image to the
/// digest the run built, then deploys the app.
pub(crate) async fn deploy_run(ex: &Executor, run: &str) -> Result<Applied, Failure> {
    let (cluster, space, name, pr) = read_run(ex, run).await?;
    let reason = pr
        .pointer("/status/conditions/0/reason")
        .and_then(Value::as_str)
        .unwrap_or("running");
    if !matches!(reason, "Succeeded" | "Completed") {
        let why = match kdeck_fleet::builds::detail(ex.gateway(), &cluster, &space.namespace, &name).await {
            Ok(Some(d)) => kdeck_fleet::builds::failure(ex.gateway(), &cluster, &d).await,
            _ => None,
        };
        return Err(invalid(format!(
            "build {run} has not succeeded ({reason}{}); only a succeeded build's image is deployed",
            why.map(|w| format!(": {w}")).unwrap_or_default()
        )));
    }
    let app = pr
        .pointer(&format!("/metadata/labels/{}", APP_LABEL.replace('/', "~1")))
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("build {run} names no app (label {APP_LABEL})")))?;
    let image = built_image(&pr).ok_or_else(|| {
        invalid(format!(
            "build {run} has no IMAGE_URL and IMAGE_DIGEST results; it did not push an image"
        ))
    })?;
    let a = AppRef::new(space, app);
    let mut settings = stored_app(ex, &a)?;
    settings.image = image.clone();
    // The new image is a setting first: a deploy that fails leaves it pending.
    ex.store().put(&settings)?;
    let mut applied = crate::apps::deploy(ex, &a.to_string(), None).await?;
    applied.items.insert(
        0,
        ItemOutcome::ok(a.to_string(), format!("image set to {image} (from {run})")),
    );
    Ok(applied)
}
