//! Catalogs: Helm repositories' `index.yaml`, read over http(s) or from a
//! file, kept in the store with when they were read, and searched.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Applied, Batch, Executor, Failure, FailureKind, ItemOutcome, invalid};
use kdeck_model::{Catalog, ChartVersion};

/// The largest index read (the biggest public ones are tens of MiB).
const INDEX_LIMIT: usize = 64 << 20;
/// How long an index may take to arrive.
const INDEX_WITHIN: Duration = Duration::from_secs(60);

/// A Helm repository index, the parts kdeck reads.
#[derive(Debug, Deserialize)]
struct Index {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    entries: Option<BTreeMap<String, Vec<Entry>>>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    name: Option<String>,
    version: String,
    #[serde(default, rename = "appVersion")]
    app_version: Option<serde_json::Value>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    keywords: Option<Vec<String>>,
    #[serde(default)]
    deprecated: Option<bool>,
    #[serde(default)]
    urls: Option<Vec<String>>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    created: Option<String>,
}

/// Reads an index: every chart version it lists, or why not, naming the
/// catalog and the line.
pub fn parse_index(catalog: &str, text: &str) -> Result<Vec<ChartVersion>, Failure> {
    // The biggest public indexes hold millions of nodes: above the default budget.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 10_000_000;
    budget.max_events = 40_000_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    let index: Index = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        invalid(format!(
            "catalog {catalog}: its index.yaml does not read: {}",
            crate::files::yaml_problem(&e)
        ))
    })?;
    if index.api_version.as_deref().is_some_and(|v| v != "v1") {
        return Err(invalid(format!(
            "catalog {catalog}: its index.yaml is apiVersion {:?}; kdeck reads Helm's v1",
            index.api_version.unwrap_or_default()
        )));
    }
    let Some(entries) = index.entries else {
        return Err(invalid(format!(
            "catalog {catalog}: its index.yaml has no `entries`: is it a Helm repository's index?"
        )));
    };
    let mut out = Vec::new();
    for (chart, versions) in entries {
        for e in versions {
            out.push(ChartVersion {
                name: e.name.unwrap_or_else(|| chart.clone()),
                version: e.version,
                app_version: e.app_version.map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
                description: e.description.unwrap_or_default(),
                keywords: e.keywords.unwrap_or_default(),
                deprecated: e.deprecated.unwrap_or(false),
                urls: e.urls.unwrap_or_default(),
                digest: e.digest,
                created: e.created,
            });
        }
    }
    Ok(out)
}

/// A catalog's source as the store keeps it: an http(s) URL as given, a
/// file as an absolute `file://` URL.
pub fn source_url(source: &str) -> Result<String, Failure> {
    if source.starts_with("http://") || source.starts_with("https://") || source.starts_with("file://") {
        return Ok(source.to_string());
    }
    let path = std::path::Path::new(source);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| invalid(format!("{source}: {}", kdeck_model::plain_io(&e))))?
            .join(path)
    };
    Ok(format!("file://{}", abs.display()))
}

/// The index behind a URL; a repository URL gets `/index.yaml` added.
async fn read_index(name: &str, url: &str) -> Result<Vec<ChartVersion>, Failure> {
    let text = if let Some(path) = url.strip_prefix("file://") {
        let p = std::path::Path::new(path);
        let p = if p.is_dir() {
            p.join("index.yaml")
        } else {
            p.to_path_buf()
        };
        crate::files::read_text(&p, INDEX_LIMIT as u64)
            .map_err(|e| invalid(format!("catalog {name}: {}: {e}", p.display())))?
    } else {
        let target = if url.ends_with(".yaml") || url.ends_with(".yml") {
            url.to_string()
        } else {
            format!("{}/index.yaml", url.trim_end_matches('/'))
        };
        let bytes = kdeck_fleet::web::get(&target, INDEX_LIMIT, INDEX_WITHIN)
            .await
            .map_err(|e| Failure::new(FailureKind::Cluster, format!("catalog {name}: {e}")))?;
        String::from_utf8(bytes).map_err(|_| invalid(format!("catalog {name}: {target} is not text")))?
    };
    parse_index(name, &text)
}

/// Distinct charts and versions, for messages.
fn counted(charts: &[ChartVersion]) -> String {
    let names: std::collections::BTreeSet<&str> = charts.iter().map(|c| c.name.as_str()).collect();
    format!("{} chart(s), {} version(s)", names.len(), charts.len())
}

pub(crate) async fn add(ex: &Executor, name: &str, url: &str) -> Result<Applied, Failure> {
    if ex.store().get::<Catalog>(name)?.is_some() {
        return Err(invalid(format!(
            "catalog {name} exists; `kdeck catalogs refresh {name}` reads it again, `catalogs remove {name}` forgets it"
        )));
    }
    let mut c = Catalog {
        name: name.to_string(),
        url: url.to_string(),
        fetched_at: None,
        charts: Vec::new(),
    };
    c.validate().map_err(|e| invalid(e.to_string()))?;
    c.charts = read_index(name, url).await?;
    c.fetched_at = Some(ex.now());
    let mut batch = Batch::new();
    batch.put(&c)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(
            format!("catalog {name}"),
            format!("added: {}", counted(&c.charts)),
        )],
        batch,
    })
}

/// Reads catalogs again (all when `names` is empty), each on its own: one
/// that cannot be read keeps what it had and says why.
pub(crate) async fn refresh(ex: &Executor, names: &[String]) -> Result<Applied, Failure> {
    let all = ex.store().list::<Catalog>()?;
    for n in names {
        if !all.iter().any(|c| c.name == *n) {
            return Err(Failure::new(
                FailureKind::Usage,
                format!("no catalog named {n:?}; `kdeck catalogs list` shows them"),
            ));
        }
    }
    let chosen: Vec<Catalog> = all
        .into_iter()
        .filter(|c| names.is_empty() || names.contains(&c.name))
        .collect();
    if chosen.is_empty() {
        return Err(Failure::new(
            FailureKind::Usage,
            "no catalogs yet; `kdeck catalogs add NAME URL|FILE` adds one",
        ));
    }
    let reads = chosen.iter().map(|c| read_index(&c.name, &c.url));
    let mut items = Vec::new();
    let mut batch = Batch::new();
    for (c, r) in chosen.iter().zip(futures::future::join_all(reads).await) {
        let what = format!("catalog {}", c.name);
        match r {
            Ok(charts) => {
                let mut n = c.clone();
                let said = format!("refreshed: {} (was {})", counted(&charts), counted(&c.charts));
                n.charts = charts;
                n.fetched_at = Some(ex.now());
                batch.put(&n)?;
                items.push(ItemOutcome::ok(what, said));
            }
            Err(f) => items.push(ItemOutcome::failed(
                what,
                format!("{} (kept what was read before)", f.reason),
                f.code,
            )),
        }
    }
    Ok(Applied { items, batch })
}

pub(crate) fn remove(ex: &Executor, name: &str) -> Result<Applied, Failure> {
    if ex.store().get::<Catalog>(name)?.is_none() {
        return Err(Failure::new(
            FailureKind::Usage,
            format!("no catalog named {name:?}; `kdeck catalogs list` shows them"),
        ));
    }
    let mut batch = Batch::new();
    batch.delete::<Catalog>(name);
    Ok(Applied {
        items: vec![ItemOutcome::ok(format!("catalog {name}"), "removed")],
        batch,
    })
}

/// One chart of the marketplace: its newest version, and the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offer {
    pub catalog: String,
    pub chart: String,
    pub version: String,
    pub app_version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub deprecated: bool,
    /// Every version, newest first.
    pub versions: Vec<String>,
    /// A saved solution (apps with their settings), not a chart.
    #[serde(default)]
    pub solution: bool,
    /// How well it matched the search (higher is better).
    #[serde(skip)]
    pub score: i64,
}

/// Compares versions as SemVer does where it can (numbers by value, a
/// pre-release below its release), else as text.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |v: &str| -> (Vec<u64>, Option<String>) {
        let v = v.trim_start_matches('v');
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p.to_string())),
            None => (v.split('+').next().unwrap_or(v), None),
        };
        (core.split('.').map(|p| p.parse().unwrap_or(0)).collect(), pre)
    };
    let ((ca, pa), (cb, pb)) = (split(a), split(b));
    ca.cmp(&cb).then_with(|| match (pa, pb) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => x.cmp(&y),
    })
}

/// The charts of every catalog (or one), best match first, fuzzy over name,
/// description and keywords; all of them, by name, for an empty word.
pub fn search(ex: &Executor, word: &str, catalog: Option<&str>) -> Result<Vec<Offer>, Failure> {
    use fuzzy_matcher::FuzzyMatcher;
    let matcher = fuzzy_matcher::skim::SkimMatcherV2::default();
    let mut out = Vec::new();
    for c in ex.store().list::<Catalog>()? {
        if catalog.is_some_and(|n| n != c.name) {
            continue;
        }
        let mut by_chart: BTreeMap<&str, Vec<&ChartVersion>> = BTreeMap::new();
        for v in &c.charts {
            by_chart.entry(v.name.as_str()).or_default().push(v);
        }
        for (chart, mut versions) in by_chart {
            versions.sort_by(|a, b| version_cmp(&b.version, &a.version));
            let Some(newest) = versions.first() else { continue };
            let score = if word.is_empty() {
                0
            } else {
                let text = format!("{chart} {} {}", newest.description, newest.keywords.join(" "));
                // The name counts most, then the rest.
                match (matcher.fuzzy_match(chart, word), matcher.fuzzy_match(&text, word)) {
                    (None, None) => continue,
                    (n, t) => n.map_or(0, |s| s * 2).max(t.unwrap_or(0)),
                }
            };
            out.push(Offer {
                solution: false,
                catalog: c.name.clone(),
                chart: chart.to_string(),
                version: newest.version.clone(),
                app_version: newest.app_version.clone().unwrap_or_default(),
                description: newest.description.clone(),
                keywords: newest.keywords.clone(),
                deprecated: newest.deprecated,
                versions: versions.iter().map(|v| v.version.clone()).collect(),
                score,
            });
        }
    }
    // Saved solutions sit beside the charts; `--catalog` means charts only.
    if catalog.is_none() {
        for s in ex.store().list::<kdeck_model::Solution>()? {
            let apps: Vec<String> = match &s.source {
                kdeck_model::SolutionSource::Apps(b) => b.apps.iter().map(|a| a.app.name.clone()).collect(),
                kdeck_model::SolutionSource::AppTemplate { app } => vec![app.app.name.clone()],
                kdeck_model::SolutionSource::HelmChart { .. } => continue,
            };
            let score = if word.is_empty() {
                0
            } else {
                let text = format!("{} {} {}", s.name, s.description, apps.join(" "));
                match (matcher.fuzzy_match(&s.name, word), matcher.fuzzy_match(&text, word)) {
                    (None, None) => continue,
                    (n, t) => n.map_or(0, |x| x * 2).max(t.unwrap_or(0)),
                }
            };
            out.push(Offer {
                catalog: "(solution)".into(),
                chart: s.name.clone(),
                version: String::new(),
                app_version: String::new(),
                description: s.description.clone(),
                keywords: apps,
                deprecated: false,
                versions: vec![],
                solution: true,
                score,
            });
        }
    }
    out.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.chart.cmp(&b.chart)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_as_semver_does() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp("1.10.0", "1.9.3"), Greater);
        assert_eq!(version_cmp("2.0.0-rc.1", "2.0.0"), Less);
        assert_eq!(version_cmp("v1.2.3", "1.2.3"), Equal);
    }

    #[test]
    fn an_index_reads_and_a_bad_one_names_the_line() {
        let text = "apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 1.2.0\n    appVersion: 1.25\n    description: A web server\n    keywords: [http]\n    urls: [web-1.2.0.tgz]\n  - name: web\n    version: 1.10.0\n    deprecated: true\n";
        let charts = parse_index("demo", text).unwrap();
        assert_eq!(charts.len(), 2);
        assert_eq!(charts[0].app_version.as_deref(), Some("1.25"));
        assert!(charts[1].deprecated);
        let e = parse_index("demo", "apiVersion: v1\nentries:\n  web: [\n").unwrap_err();
        assert!(
            e.reason
                .starts_with("catalog demo: its index.yaml does not read: line "),
            "{}",
            e.reason
        );
        let e = parse_index("demo", "kind: Deployment\n").unwrap_err();
        assert!(e.reason.contains("has no `entries`"), "{}", e.reason);
    }
}
