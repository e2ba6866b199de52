//! Planning a copy: per target, what is created, updated, skipped or
//! fails and why, before anything is sent (a dry run prints it).

use super::*;

/// A choice of the copy's that would change an item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Secrets it references were left out.
    WithSecrets,
    /// It exists in the target and is not a copy: skipped.
    OnConflict,
}

/// What a copy will do for one app and one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanItem {
    pub source: String,
    pub target: String,
    /// The app's name in the target (differs with `rename`).
    pub name: String,
    /// `create`, `update`, `unchanged`, `skip` (conflict, policy skip) or `fail`.
    pub action: &'static str,
    /// Per object: `kind name: create|update|unchanged`.
    pub objects: Vec<String>,
    pub notes: Vec<String>,
    /// What would change the outcome, for each front end to say its own way
    /// (a flag in the CLI, a key in the cockpit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remedies: Vec<Remedy>,
    #[serde(skip)]
    pub(crate) apply: Vec<Value>,
    #[serde(skip)]
    pub(crate) store: Option<StoredCopy>,
}

/// The settings a copy of a managed app stores for its target.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredCopy {
    pub(crate) app: App,
    pub(crate) routes: Vec<Route>,
    pub(crate) bindings: Vec<Binding>,
    pub(crate) digest: String,
    /// The generation of the workload already in the target, if there is one.
    pub(crate) live_generation: Option<i64>,
}

/// A planned copy: per app and target.
#[derive(Debug, Clone, Serialize)]
pub struct CopyPlan {
    /// The conflict policy the plan was made with.
    #[serde(default)]
    pub on_conflict: OnConflict,
    pub items: Vec<PlanItem>,
    /// Target spaces that do not exist yet (created first).
    pub new_spaces: Vec<String>,
}

pub(crate) fn parse_space(s: &str, what: &str) -> Result<SpaceRef, Failure> {
    SpaceRef::parse(what, s).map_err(|e| invalid(e.to_string()))
}

/// `k=v,k2=v2` as a map; a clear error otherwise.
pub(crate) fn parse_selector(s: &str) -> Result<BTreeMap<String, String>, Failure> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| invalid(format!("--selector {s:?}: {p:?} is not key=value")))
        })
        .collect()
}

/// The source apps, by space.
pub(crate) fn sources(spec: &CopySpec) -> Result<BTreeMap<SpaceRef, Vec<String>>, Failure> {
    let mut out: BTreeMap<SpaceRef, Vec<String>> = BTreeMap::new();
    for a in &spec.apps {
        let a = AppRef::parse("app", a).map_err(|e| invalid(e.to_string()))?;
        out.entry(a.space).or_default().push(a.name);
    }
    if let Some(from) = &spec.from {
        let s = parse_space(from, "--from")?;
        let e = out.entry(s).or_default();
        e.extend(spec.names.iter().cloned());
    } else if !spec.names.is_empty() || spec.selector.is_some() {
        return Err(invalid("--app and --selector need --from SPACE"));
    }
    if out.is_empty() {
        return Err(invalid(
            "nothing to copy: give --from SPACE (with --app or --selector), or apps",
        ));
    }
    Ok(out)
}

pub(crate) fn key(o: &Value) -> (String, String) {
    (
        o["kind"].as_str().unwrap_or("").to_string(),
        o["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// Is the live object a copy of this source?
pub(crate) fn copy_of(live: &Value, source: &AppRef) -> bool {
    live["metadata"]["annotations"][COPIED_FROM] == source.to_string().as_str()
}

/// Compares each object with the target; says what applying would do.
pub(crate) fn judge(objects: &[Value], live: &SpaceObjects) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut changes = 0;
    for o in objects {
        let (kind, name) = key(o);
        let what = match live.get(&kind, &name) {
            None => "create",
            Some(l) => {
                if derive::changes(o, l).is_empty() {
                    "unchanged"
                } else {
                    "update"
                }
            }
        };
        if what != "unchanged" {
            changes += 1;
        }
        lines.push(format!("{} {name}: {what}", kind.to_ascii_lowercase()));
    }
    (lines, changes)
}

/// A free name for a renamed copy: one not used, or already this source's copy.
pub(crate) fn free_name(source: &AppRef, live: &SpaceObjects, taken: &BTreeSet<String>) -> String {
    for n in 1..1000 {
        let name = if n == 1 {
            format!("{}-copy", source.name)
        } else {
            format!("{}-copy-{n}", source.name)
        };
        let w = live.get("Deployment", &name).or_else(|| live.get("StatefulSet", &name));
        if !taken.contains(&name) && w.is_none_or(|w| copy_of(w, source)) {
            return name;
        }
    }
    format!("{}-copy-x", source.name)
}

/// The hosts the rules of these Ingresses serve.
pub(crate) fn ingress_hosts(ingresses: &[Value]) -> Vec<String> {
    ingresses
        .iter()
        .flat_map(|i| i["spec"]["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["host"].as_str().map(str::to_string))
        .collect()
}

/// Why a copy may not go where its routes would serve the hosts its source
/// serves on the same cluster (two Ingresses, one host): with no domain
/// there, the hosts are kept.
pub(crate) fn host_clash(b: &Bundle, objects: &[Value], target: &Target) -> Option<String> {
    if b.app.space.cluster != target.space.cluster || !target.domains.is_empty() {
        return None;
    }
    let source = ingress_hosts(&b.ingresses);
    let copied: Vec<Value> = objects.iter().filter(|o| o["kind"] == "Ingress").cloned().collect();
    let host = ingress_hosts(&copied).into_iter().find(|h| source.contains(h))?;
    let c = &target.space.cluster;
    Some(format!(
        "cluster {c} has no domain, so the copy would serve {host} beside {}, on the same cluster; \
         add a domain (`kdeck domains add {c} SUFFIX`) and copy again, or copy to another cluster",
        b.app
    ))
}

pub(crate) fn fail_item(source: &AppRef, target: &SpaceRef, why: String) -> PlanItem {
    PlanItem {
        source: source.to_string(),
        target: target.to_string(),
        name: source.name.clone(),
        action: "fail",
        objects: Vec::new(),
        notes: vec![why],
        apply: Vec::new(),
        remedies: Vec::new(),
        store: None,
    }
}

/// Reads sources and targets and works out every item. Nothing is changed.
pub async fn plan(ex: &Executor, spec: &CopySpec) -> Result<CopyPlan, Failure> {
    if spec.to.is_empty() {
        return Err(invalid("no target: give --to SPACE (repeatable)"));
    }
    for part in ["{app}", "{domain}"] {
        if !spec.host_template.contains(part) {
            return Err(invalid(format!(
                "--host-template {:?} must contain {part}, e.g. {HOST_TEMPLATE}",
                spec.host_template
            )));
        }
    }
    let targets: Vec<SpaceRef> = spec
        .to
        .iter()
        .map(|t| parse_space(t, "--to"))
        .collect::<Result<_, _>>()?;
    let by_space = sources(spec)?;
    let selector = spec.selector.as_deref().map(parse_selector).transpose()?;
    // Read every source space once.
    let mut bundles: Vec<(Bundle, Option<App>)> = Vec::new();
    for (space, names) in &by_space {
        let cluster = cluster_of(ex, &space.cluster)?;
        let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
        let objs = read_space(&client, &cluster, &space.namespace, spec.with_secrets)
            .await
            .map_err(cluster_failure)?;
        if !objs.exists {
            return Err(invalid(format!("space {space} does not exist")));
        }
        let mut wanted: Vec<String> = names.clone();
        if wanted.is_empty() {
            for kind in ["Deployment", "StatefulSet"] {
                for w in objs.of(kind) {
                    let labels = &w["metadata"]["labels"];
                    if selector
                        .as_ref()
                        .is_none_or(|s| s.iter().all(|(k, v)| labels[k] == v.as_str()))
                    {
                        wanted.push(w["metadata"]["name"].as_str().unwrap_or("").to_string());
                    }
                }
            }
            if wanted.is_empty() {
                return Err(invalid(format!(
                    "no apps in {space}{} to copy",
                    spec.selector
                        .as_ref()
                        .map(|s| format!(" match {s}"))
                        .unwrap_or_default()
                )));
            }
        }
        for name in wanted {
            let a = AppRef::new(space.clone(), &name);
            let b = bundle(&objs, &a).ok_or_else(|| {
                invalid(format!(
                    "no Deployment or StatefulSet {name} in {space}; `kdeck apps list --space {space}` lists them"
                ))
            })?;
            let settings = ex.store().get::<App>(&a.to_string())?;
            bundles.push((b, settings));
        }
    }
    let copied: BTreeSet<String> = bundles.iter().map(|(b, _)| b.app.name.clone()).collect();
    // Read every target space once, concurrently.
    let mut reads = Vec::new();
    for t in &targets {
        let ex = ex.clone();
        let t = t.clone();
        let secrets = spec.with_secrets;
        reads.push(async move {
            let cluster = cluster_of(&ex, &t.cluster)?;
            let domains = crate::apps::domains_of(&ex, &t.cluster)?;
            let client = ex.gateway().client(&cluster).await.map_err(cluster_failure)?;
            let live = read_space(&client, &cluster, &t.namespace, secrets)
                .await
                .map_err(cluster_failure)?;
            Ok::<_, Failure>((live, domains))
        });
    }
    let read = futures::future::join_all(reads).await;
    let mut items = Vec::new();
    let mut new_spaces = Vec::new();
    for (t, r) in targets.iter().zip(read) {
        let (live, domains) = match r {
            Ok(x) => x,
            Err(f) => {
                for (b, _) in &bundles {
                    items.push(fail_item(&b.app, t, f.reason.clone()));
                }
                continue;
            }
        };
        if live.terminating {
            for (b, _) in &bundles {
                items.push(fail_item(
                    &b.app,
                    t,
                    format!("namespace {} is being deleted", t.namespace),
                ));
            }
            continue;
        }
        if !live.exists {
            new_spaces.push(t.to_string());
        }
        let target = Target {
            space: t.clone(),
            domains,
        };
        let mut taken = BTreeSet::new();
        for (b, settings) in &bundles {
            if b.app.space == *t {
                items.push(fail_item(&b.app, t, "source and target are the same space".into()));
                continue;
            }
            let existing = live
                .get("Deployment", &b.app.name)
                .or_else(|| live.get("StatefulSet", &b.app.name));
            let conflict = existing.is_some_and(|w| !copy_of(w, &b.app));
            let name = match (conflict, spec.on_conflict) {
                (true, OnConflict::Rename) => free_name(&b.app, &live, &taken),
                _ => b.app.name.clone(),
            };
            taken.insert(name.clone());
            let mut notes = Vec::new();
            if conflict && spec.on_conflict == OnConflict::Skip {
                items.push(PlanItem {
                    source: b.app.to_string(),
                    target: t.to_string(),
                    name,
                    action: "skip",
                    objects: Vec::new(),
                    notes: vec![format!("{} exists there and is not a copy of {}", b.app.name, b.app)],
                    remedies: vec![Remedy::OnConflict],
                    apply: Vec::new(),
                    store: None,
                });
                continue;
            }
            let (objects, store) = match settings {
                Some(s) => {
                    let (derived, st) = rewrite_managed(ex, s, spec, &target, &name, &copied, &mut notes)?;
                    // What it references comes along, as for any app.
                    let mut o = config_of(b, t, &mut notes);
                    o.extend(derived);
                    (o, Some(st))
                }
                None => (rewrite(b, spec, &target, &name, &mut notes), None),
            };
            if let Some(why) = host_clash(b, &objects, &target) {
                items.push(fail_item(&b.app, t, why));
                continue;
            }
            let (lines, changes) = judge(&objects, &live);
            let there = live.get("Deployment", &name).or_else(|| live.get("StatefulSet", &name));
            let action = if changes == 0 {
                "unchanged"
            } else if there.is_some() {
                "update"
            } else {
                "create"
            };
            let live_generation = there.and_then(|o| o["metadata"]["generation"].as_i64());
            let remedies = if b.secrets_left.is_empty() {
                Vec::new()
            } else {
                vec![Remedy::WithSecrets]
            };
            items.push(PlanItem {
                source: b.app.to_string(),
                target: t.to_string(),
                name,
                action,
                objects: lines,
                notes,
                remedies,
                apply: objects,
                store: store.map(|s| StoredCopy { live_generation, ..s }),
            });
        }
    }
    Ok(CopyPlan {
        on_conflict: spec.on_conflict,
        items,
        new_spaces,
    })
}

impl Remedy {
    /// As the CLI says it.
    pub fn flag(self) -> &'static str {
        match self {
            Remedy::WithSecrets => "--with-secrets copies them",
            Remedy::OnConflict => "--on-conflict overwrite or rename copies it",
        }
    }
    /// In words for the journal, which any front end shows.
    pub fn words(self) -> &'static str {
        match self {
            Remedy::WithSecrets => "copying with secrets copies them",
            Remedy::OnConflict => "the overwrite or rename conflict policy copies it",
        }
    }
}

impl PlanItem {
    /// An item as a plan shows it, with nothing to apply (for views and tests).
    pub fn described(
        source: &str,
        target: &str,
        name: &str,
        action: &'static str,
        objects: Vec<String>,
        notes: Vec<String>,
    ) -> PlanItem {
        PlanItem {
            source: source.into(),
            target: target.into(),
            name: name.into(),
            action,
            objects,
            notes,
            remedies: Vec::new(),
            apply: Vec::new(),
            store: None,
        }
    }

    /// The item with what would change its outcome.
    pub fn with_remedies(mut self, remedies: Vec<Remedy>) -> PlanItem {
        self.remedies = remedies;
        self
    }

    pub fn item(&self) -> String {
        format!("{} → {}/{}", self.source, self.target, self.name)
    }
}
