//! The namespaced objects kdeck puts in a space so that its apps can be
//! built there: two Tasks (clone; build and push with kaniko, the digest as
//! a result), one to deploy the built image, the Pipeline that joins them,
//! and the ServiceAccount the runs use, all labelled managed-by kdeck.
//! Tekton's controller must already run in the cluster.

use serde_json::{Value, json};

use kdeck_fleet::gateway::{MANAGED_BY, MANAGED_BY_KDECK};

/// The Pipeline every kdeck build runs.
pub const PIPELINE: &str = "kdeck-build";
/// The ServiceAccount the runs use (the apps' git and registry Secrets).
pub const SERVICE_ACCOUNT: &str = "kdeck-builder";
/// Label on a run: the app it builds (name only; the run is in its space).
pub use kdeck_fleet::live::views::BUILD_APP_LABEL as APP_LABEL;
/// Label on a run: `manual` or `webhook`.
pub const TRIGGER_LABEL: &str = "kdeck.dev/trigger";
/// Label on a run started with `--deploy`: kdeck deploys its image when it succeeds.
pub const DEPLOY_LABEL: &str = "kdeck.dev/deploy";
/// Annotation on a run: the revision asked for.
pub const REVISION_ANNOTATION: &str = "kdeck.dev/revision";

const GIT_IMAGE: &str = "alpine/git:2.45.2";
const KANIKO_IMAGE: &str = "gcr.io/kaniko-project/executor:v1.23.2";
const KUBECTL_IMAGE: &str = "bitnami/kubectl:1.31";

fn meta(name: &str, namespace: &str) -> Value {
    json!({"name": name, "namespace": namespace,
           "labels": {MANAGED_BY: MANAGED_BY_KDECK, "app.kubernetes.io/part-of": "kdeck-builds"}})
}

fn clone_task(ns: &str) -> Value {
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": meta("kdeck-git-clone", ns),
        "spec": {
            "description": "Clones a revision of a git repository into the source workspace.",
            "params": [{"name": "url", "type": "string"}, {"name": "revision", "type": "string", "default": "main"}],
            "results": [{"name": "commit", "type": "string", "description": "The commit checked out"}],
            "workspaces": [{"name": "source"}],
            "steps": [{
                "name": "clone", "image": GIT_IMAGE,
                "script": "#!/bin/sh\nset -eu\necho \"Cloning $(params.url) at $(params.revision)\"\ngit clone --depth 1 \"$(params.url)\" $(workspaces.source.path)/src\ncd $(workspaces.source.path)/src && git fetch --depth 1 origin \"$(params.revision)\" && git checkout FETCH_HEAD\ngit rev-parse HEAD | tr -d '\\n' > $(results.commit.path)\n"
            }]
        }
    })
}

fn kaniko_task(ns: &str) -> Value {
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": meta("kdeck-kaniko", ns),
        "spec": {
            "description": "Builds the source's Dockerfile with kaniko and pushes the image.",
            "params": [{"name": "image", "type": "string"}, {"name": "context", "type": "string", "default": "."},
                       {"name": "dockerfile", "type": "string", "default": "Dockerfile"},
                       {"name": "commit", "type": "string", "default": ""},
                       {"name": "registry-secret", "type": "string"}],
            "results": [{"name": "IMAGE_DIGEST", "type": "string", "description": "The pushed image's digest"},
                        {"name": "IMAGE_URL", "type": "string", "description": "The pushed image, without digest"}],
            "workspaces": [{"name": "source"}],
            "volumes": [{"name": "docker-config", "secret": {"secretName": "$(params.registry-secret)",
                                                             "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}}],
            "steps": [
                {"name": "build-and-push", "image": KANIKO_IMAGE,
                 "command": ["/kaniko/executor"],
                 "args": ["--dockerfile=$(params.dockerfile)", "--context=dir://$(workspaces.source.path)/src/$(params.context)",
                          "--destination=$(params.image):$(params.commit)",
                          "--label=org.opencontainers.image.revision=$(params.commit)",
                          "--digest-file=$(results.IMAGE_DIGEST.path)"],
                 "volumeMounts": [{"name": "docker-config", "mountPath": "/kaniko/.docker"}]},
                {"name": "image-url", "image": GIT_IMAGE,
                 "script": "#!/bin/sh\nprintf '%s' \"$(params.image)\" > $(results.IMAGE_URL.path)\necho \"pushed $(params.image):$(params.commit)\"\n"}
            ]
        }
    })
}

fn deploy_task(ns: &str) -> Value {
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": meta("kdeck-deploy", ns),
        "spec": {
            "description": "Sets the app's image to the built digest (kubectl set image).",
            "params": [{"name": "app", "type": "string"}, {"name": "image", "type": "string"}],
            "steps": [{"name": "set-image", "image": KUBECTL_IMAGE,
                       "script": "#!/bin/sh\nset -eu\nkubectl set image deployment/$(params.app) $(params.app)=$(params.image)\nkubectl rollout status deployment/$(params.app) --timeout=300s\n"}]
        }
    })
}

fn pipeline(ns: &str) -> Value {
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": meta(PIPELINE, ns),
        "spec": {
            "description": "kdeck: clone, build and push an app's image; deploy it when asked.",
            "params": [
                {"name": "app", "type": "string"}, {"name": "git-url", "type": "string"},
                {"name": "revision", "type": "string", "default": "main"},
                {"name": "context", "type": "string", "default": "."},
                {"name": "dockerfile", "type": "string", "default": "Dockerfile"},
                {"name": "image", "type": "string"}, {"name": "registry-secret", "type": "string"},
                {"name": "deploy", "type": "string", "default": "false"}
            ],
            "workspaces": [{"name": "source"}],
            "results": [
                {"name": "IMAGE_DIGEST", "value": "$(tasks.build.results.IMAGE_DIGEST)"},
                {"name": "IMAGE_URL", "value": "$(tasks.build.results.IMAGE_URL)"},
                {"name": "commit", "value": "$(tasks.clone.results.commit)"}
            ],
            "tasks": [
                {"name": "clone", "taskRef": {"name": "kdeck-git-clone"},
                 "params": [{"name": "url", "value": "$(params.git-url)"}, {"name": "revision", "value": "$(params.revision)"}],
                 "workspaces": [{"name": "source", "workspace": "source"}]},
                {"name": "build", "taskRef": {"name": "kdeck-kaniko"}, "runAfter": ["clone"],
                 "params": [{"name": "image", "value": "$(params.image)"}, {"name": "context", "value": "$(params.context)"},
                            {"name": "dockerfile", "value": "$(params.dockerfile)"},
                            {"name": "commit", "value": "$(tasks.clone.results.commit)"},
                            {"name": "registry-secret", "value": "$(params.registry-secret)"}],
                 "workspaces": [{"name": "source", "workspace": "source"}]},
                {"name": "deploy", "taskRef": {"name": "kdeck-deploy"}, "runAfter": ["build"],
                 "when": [{"input": "$(params.deploy)", "operator": "in", "values": ["true"]}],
                 "params": [{"name": "app", "value": "$(params.app)"},
                            {"name": "image", "value": "$(tasks.build.results.IMAGE_URL)@$(tasks.build.results.IMAGE_DIGEST)"}]}
            ],
            "finally": [
                {"name": "report",
                 "params": [{"name": "app", "value": "$(params.app)"}, {"name": "revision", "value": "$(params.revision)"},
                            {"name": "status", "value": "$(tasks.status)"}],
                 "taskSpec": {"params": [{"name": "app", "type": "string"}, {"name": "revision", "type": "string"},
                                         {"name": "status", "type": "string"}],
                              "steps": [{"name": "report", "image": GIT_IMAGE,
                                         "script": "#!/bin/sh\necho \"build of $(params.app) at $(params.revision): $(params.status)\"\n"}]}}
            ]
        }
    })
}

/// The ServiceAccount of the runs, with the Secrets of the space's apps.
pub fn service_account(ns: &str, secrets: &[String]) -> Value {
    let list: Vec<Value> = secrets.iter().map(|s| json!({"name": s})).collect();
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(SERVICE_ACCOUNT, ns), "secrets": list})
}

/// Lets the runs' ServiceAccount set images in the space (the deploy task).
fn role_binding(ns: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta("kdeck-builder-edit", ns),
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
           "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": ns}]})
}

/// Everything `builds setup` applies in a space, in apply order.
pub fn setup(ns: &str, secrets: &[String]) -> Vec<Value> {
    vec![
        clone_task(ns),
        kaniko_task(ns),
        deploy_task(ns),
        pipeline(ns),
        service_account(ns, secrets),
        role_binding(ns),
    ]
}

/// A PipelineRun of an app's build.
pub struct RunSpec<'a> {
    pub namespace: &'a str,
    pub app: &'a str,
    pub git_url: &'a str,
    pub revision: &'a str,
    pub context: &'a str,
    pub dockerfile: &'a str,
    pub image: &'a str,
    pub registry_secret: &'a str,
    pub deploy: bool,
    pub trigger: &'a str,
}

/// The run, named or (in a trigger's template) with a generated name.
pub fn pipeline_run(name: Option<&str>, r: &RunSpec) -> Value {
    let mut metadata = json!({"namespace": r.namespace,
        "labels": {MANAGED_BY: MANAGED_BY_KDECK, APP_LABEL: r.app, TRIGGER_LABEL: r.trigger, "tekton.dev/pipeline": PIPELINE},
        "annotations": {REVISION_ANNOTATION: r.revision}});
    match name {
        Some(n) => metadata["name"] = json!(n),
        None => metadata["generateName"] = json!(format!("{}-build-", r.app)),
    }
    let p = |n: &str, v: &str| json!({"name": n, "value": v});
    json!({
        "apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "metadata": metadata,
        "spec": {
            "pipelineRef": {"name": PIPELINE},
            "params": [p("app", r.app), p("git-url", r.git_url), p("revision", r.revision), p("context", r.context),
                       p("dockerfile", r.dockerfile), p("image", r.image), p("registry-secret", r.registry_secret),
                       p("deploy", if r.deploy { "true" } else { "false" })],
            "taskRunTemplate": {"serviceAccountName": SERVICE_ACCOUNT},
            "timeouts": {"pipeline": "1h0m0s"},
            "workspaces": [{"name": "source", "volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                                                             "resources": {"requests": {"storage": "1Gi"}}}}}]
        }
    })
}
