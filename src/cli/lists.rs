//! `apps list`, `spaces list` and `clusters list`: live state joined with
//! what kdeck stores.

use super::*;

pub(super) fn apps_list(
    store: &Store,
    spaces: &[String],
    clusters: Vec<Cluster>,
    format: Format,
) -> Result<(), CliError> {
    let only = spaces
        .iter()
        .map(|s| kdeck_model::SpaceRef::parse("--space", s).map_err(|e| CliError::usage(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    for s in &only {
        if !clusters.iter().any(|c| c.name == s.cluster) {
            return Err(CliError::usage(format!(
                "--space {s}: no cluster named {:?}; `kdeck clusters list` shows them",
                s.cluster
            )));
        }
    }
    let attached: Vec<kdeck_model::SpaceRef> = store
        .list::<kdeck_model::Space>()?
        .into_iter()
        .map(|s| s.space)
        .collect();
    let gateway = kdeck_fleet::Gateway::new();
    let pass = runtime()?.block_on(kdeck_fleet::apps::list_apps(
        &gateway,
        &clusters,
        if only.is_empty() { None } else { Some(&only) },
        &attached,
        PASS_LIMIT,
    ));
    let now = time::OffsetDateTime::now_utc();
    print_data(format, &pass.rows, || {
        let mut t = Table::new(&["NAME", "SPACE", "KIND", "READY", "IMAGE", "ROUTES", "AGE"]);
        for r in &pass.rows {
            let ready = format!("{}/{}", r.ready, r.desired);
            let routes = if r.routes.is_empty() {
                "-".to_string()
            } else {
                r.routes.join(",")
            };
            t.row([
                r.name.as_str(),
                &r.space,
                &r.kind,
                &ready,
                &r.image,
                &routes,
                &output::age(&r.created, now),
            ]);
        }
        t
    })?;
    let asked = if only.is_empty() {
        clusters.len()
    } else {
        only.iter()
            .map(|s| s.cluster.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    partial(&pass.problems, asked)
}

/// A space as `spaces list` shows it: live state joined with what kdeck stored.
#[derive(Debug, Serialize)]
pub(super) struct SpaceRow {
    space: String,
    /// Active, Terminating, missing (stored but gone), unknown (the cluster did not say).
    status: String,
    /// created / attached, when kdeck knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    kdeck: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
}

pub(super) fn spaces_list(store: &Store, clusters: Vec<Cluster>, format: Format) -> Result<(), CliError> {
    let stored = store.list::<kdeck_model::Space>()?;
    let pass = runtime()?.block_on(kdeck_fleet::apps::list_namespaces(
        &kdeck_fleet::Gateway::new(),
        &clusters,
        PASS_LIMIT,
    ));
    let failed: Vec<&str> = clusters
        .iter()
        .filter(|c| pass.problems.iter().any(|p| p.cluster == c.name))
        .map(|c| c.name.as_str())
        .collect();
    let origin = |space: &str| {
        stored
            .iter()
            .find(|s| s.space.to_string() == space)
            .map(|s| match s.origin {
                kdeck_model::SpaceOrigin::Created => "created".to_string(),
                kdeck_model::SpaceOrigin::Attached => "attached".to_string(),
            })
    };
    let mut rows: Vec<SpaceRow> = pass
        .rows
        .iter()
        .map(|n| SpaceRow {
            space: n.space.clone(),
            status: n.phase.clone(),
            kdeck: origin(&n.space),
            created: Some(n.created.clone()),
        })
        .collect();
    for s in &stored {
        let name = s.space.to_string();
        if !rows.iter().any(|r| r.space == name) {
            let status = if failed.contains(&s.space.cluster.as_str()) {
                "unknown"
            } else {
                "missing"
            };
            rows.push(SpaceRow {
                space: name.clone(),
                status: status.into(),
                kdeck: origin(&name),
                created: None,
            });
        }
    }
    rows.sort_by(|a, b| a.space.cmp(&b.space));
    let now = time::OffsetDateTime::now_utc();
    print_data(format, &rows, || {
        let mut t = Table::new(&["SPACE", "STATUS", "KDECK", "AGE"]);
        for r in &rows {
            let age = r
                .created
                .as_deref()
                .map(|c| output::age(c, now))
                .unwrap_or_else(|| "-".into());
            t.row([r.space.as_str(), &r.status, r.kdeck.as_deref().unwrap_or("-"), &age]);
        }
        t
    })?;
    partial(&pass.problems, clusters.len())
}

/// What `clusters list` shows: no credentials, only how they work.
#[derive(Debug, Serialize)]
pub(super) struct ClusterRow {
    pub(super) name: String,
    pub(super) context: String,
    pub(super) server: String,
    pub(super) auth: String,
    pub(super) user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) namespace: Option<String>,
    pub(super) insecure_skip_tls_verify: bool,
    pub(super) source: String,
    pub(super) imported_at: String,
    pub(super) read_only: bool,
    pub(super) prod: bool,
    pub(super) labels: std::collections::BTreeMap<String, String>,
    /// `read-only`, `prod` (or `prod (by name)`), `-`.
    #[serde(skip)]
    pub(super) settings: String,
}

impl From<&Cluster> for ClusterRow {
    fn from(c: &Cluster) -> Self {
        let mut settings: Vec<&str> = Vec::new();
        if c.read_only {
            settings.push("read-only");
        }
        match c.prod {
            Some(true) => settings.push("prod"),
            None if c.is_prod() => settings.push("prod (by name)"),
            _ => {}
        }
        Self {
            name: c.name.clone(),
            context: c.context.clone(),
            server: c.server.clone(),
            auth: c.auth.method().to_string(),
            user: c.auth.user.clone(),
            namespace: c.namespace.clone(),
            insecure_skip_tls_verify: c.tls.insecure_skip_tls_verify,
            source: c.source.file.clone(),
            imported_at: c.source.imported_at.clone(),
            read_only: c.read_only,
            prod: c.is_prod(),
            labels: c.labels.clone(),
            settings: if settings.is_empty() {
                "-".into()
            } else {
                settings.join(", ")
            },
        }
    }
}
