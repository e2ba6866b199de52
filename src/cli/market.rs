//! `kdeck catalogs add|refresh|remove|list` and `kdeck market search`:
//! Helm repositories' indexes kept in the store, and their charts searched.

use clap::Subcommand;
use serde::Serialize;

use super::CliError;
use super::journal::run_command;
use super::output::{Format, Table, print_data};
use kdeck_command::catalogs::{search, source_url};
use kdeck_command::{Command, Executor};
use kdeck_model::Catalog;

#[derive(Subcommand, Debug)]
pub enum CatalogsCmd {
    /// Read a Helm repository's index.yaml (a URL, or a file) and keep it as catalog NAME
    Add {
        name: String,
        /// https://… (the repository, or its index.yaml), or a local file or directory
        #[arg(value_name = "URL|FILE")]
        source: String,
    },
    /// Read catalogs again [default: all]; one that cannot be read keeps what it had
    Refresh { names: Vec<String> },
    /// Forget a catalog
    Remove { name: String },
    /// The catalogs, their charts and when they were read
    List,
}

#[derive(Subcommand, Debug)]
pub enum MarketCmd {
    /// Charts of the catalogs, fuzzy over name, description and keywords (all without a word)
    Search {
        word: Option<String>,
        /// Only this catalog
        #[arg(long)]
        catalog: Option<String>,
        /// Every version, not only the newest
        #[arg(long)]
        versions: bool,
    },
    /// Install a chart on the clusters a selector chooses (concurrently; a rerun does what is missing), or a solution in a space
    Install(super::install::InstallArgs),
}

#[derive(Serialize)]
struct CatalogRow {
    name: String,
    url: String,
    charts: usize,
    versions: usize,
    fetched_at: String,
}

pub(super) fn catalogs(ex: &Executor, cmd: CatalogsCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        CatalogsCmd::Add { name, source } => {
            let url = source_url(&source)?;
            run_command(ex, Command::AddCatalog { name, url }, format)
        }
        CatalogsCmd::Refresh { names } => run_command(ex, Command::RefreshCatalogs { names }, format),
        CatalogsCmd::Remove { name } => run_command(ex, Command::RemoveCatalog { name }, format),
        CatalogsCmd::List => {
            let rows: Vec<CatalogRow> = ex
                .store()
                .list::<Catalog>()?
                .into_iter()
                .map(|c| CatalogRow {
                    charts: c
                        .charts
                        .iter()
                        .map(|v| v.name.as_str())
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                    versions: c.charts.len(),
                    fetched_at: c.fetched_at.clone().unwrap_or_default(),
                    name: c.name,
                    url: c.url,
                })
                .collect();
            print_data(format, &rows, || {
                let mut t = Table::new(&["NAME", "URL", "CHARTS", "VERSIONS", "READ"]);
                for r in &rows {
                    let (c, v) = (r.charts.to_string(), r.versions.to_string());
                    t.row([
                        r.name.as_str(),
                        r.url.as_str(),
                        c.as_str(),
                        v.as_str(),
                        r.fetched_at.as_str(),
                    ]);
                }
                t
            })
        }
    }
}

pub(super) fn market(ex: &Executor, cmd: MarketCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        MarketCmd::Install(a) => super::install::install(ex, &a, format),
        MarketCmd::Search {
            word,
            catalog,
            versions,
        } => {
            if let Some(c) = &catalog
                && ex.store().get::<Catalog>(c)?.is_none()
            {
                return Err(CliError::usage(format!(
                    "--catalog {c}: no such catalog; `kdeck catalogs list` shows them"
                )));
            }
            let offers = search(ex, word.as_deref().unwrap_or(""), catalog.as_deref())?;
            if offers.is_empty() && ex.store().list::<Catalog>()?.is_empty() {
                return Err(CliError::usage(
                    "no catalogs yet; `kdeck catalogs add NAME URL|FILE` adds a Helm repository",
                ));
            }
            print_data(format, &offers, || {
                let mut t = Table::new(&["CHART", "CATALOG", "VERSION", "APP VERSION", "DESCRIPTION"]);
                for o in &offers {
                    let version = if versions {
                        o.versions.join(",")
                    } else {
                        o.version.clone()
                    };
                    let description = if o.deprecated {
                        format!("(deprecated) {}", o.description)
                    } else {
                        o.description.clone()
                    };
                    t.row([
                        o.chart.as_str(),
                        o.catalog.as_str(),
                        version.as_str(),
                        o.app_version.as_str(),
                        description.as_str(),
                    ]);
                }
                t
            })
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ReleasesCmd {
    /// Another chart version (the newest without --version) or other values, on every cluster that has the release
    Upgrade {
        #[arg(value_name = "[CLUSTER/]NAMESPACE/NAME")]
        release: String,
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        catalog: Option<String>,
        /// A YAML file of values (repeatable); without one the release keeps its values
        #[arg(long = "values", short = 'f', value_name = "FILE")]
        values: Vec<String>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Lay the values given over the release's own instead of replacing them
        #[arg(long)]
        reuse_values: bool,
    },
    /// Apply revision N's manifest and values again, recorded as a new revision (as helm rollback)
    Rollback {
        #[arg(value_name = "[CLUSTER/]NAMESPACE/NAME")]
        release: String,
        #[arg(long)]
        to: u32,
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
    },
    /// Delete a release's objects and its history (its placement too)
    Uninstall {
        #[arg(value_name = "[CLUSTER/]NAMESPACE/NAME")]
        release: String,
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
        /// Keep the release's history, marked uninstalled
        #[arg(long)]
        keep_history: bool,
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Every revision of a release, as `helm history`
    History {
        #[arg(value_name = "CLUSTER/NAMESPACE/NAME")]
        release: String,
    },
    /// A release's values, notes and manifest (the newest revision, or --revision N)
    Show {
        #[arg(value_name = "CLUSTER/NAMESPACE/NAME")]
        release: String,
        #[arg(long)]
        revision: Option<u32>,
    },
    /// Helm releases on every cluster (helm's own too): chart, version, revision, status, workloads ready
    List {
        /// Also the uninstalled and superseded ones
        #[arg(long)]
        all: bool,
        /// Only the clusters whose labels match: tier=prod,region in (eu,us)
        #[arg(long = "clusters", value_name = "SELECTOR")]
        clusters: Option<String>,
    },
}

#[derive(Serialize)]
struct RevisionRow {
    revision: u32,
    updated: String,
    status: String,
    chart: String,
    app_version: String,
    description: String,
}

/// A release's revision as `releases show` prints it.
#[derive(Serialize)]
struct Shown {
    name: String,
    namespace: String,
    revision: u32,
    status: String,
    chart: String,
    values: serde_json::Value,
    notes: String,
    manifest: String,
}

pub(super) fn releases(ex: &Executor, cmd: ReleasesCmd, format: Format) -> Result<(), CliError> {
    match cmd {
        ReleasesCmd::Upgrade {
            release,
            clusters,
            version,
            catalog,
            values,
            sets,
            reuse_values,
        } => super::install::upgrade(
            ex,
            &release,
            clusters.as_deref(),
            version,
            catalog,
            &values,
            sets,
            reuse_values,
            format,
        ),
        ReleasesCmd::Rollback { release, to, clusters } => {
            let (release, clusters) = super::install::release_target(ex, &release, clusters.as_deref())?;
            super::install::run_fleet(ex, Command::RollbackRelease { release, clusters, to }, format)
        }
        ReleasesCmd::Uninstall {
            release,
            clusters,
            keep_history,
            yes,
        } => {
            let (release, clusters) = super::install::release_target(ex, &release, clusters.as_deref())?;
            super::install::run_fleet(
                ex,
                Command::UninstallRelease {
                    release,
                    clusters,
                    keep_history,
                    yes,
                },
                format,
            )
        }
        ReleasesCmd::History { release } => {
            let revs = super::runtime()?.block_on(kdeck_command::releases::history(ex, &release))?;
            let rows: Vec<RevisionRow> = revs
                .iter()
                .map(|r| RevisionRow {
                    revision: r.version,
                    updated: r.info.last_deployed.clone().unwrap_or_default(),
                    status: r.info.status.clone(),
                    chart: r.chart_label(),
                    app_version: r
                        .chart
                        .as_ref()
                        .and_then(|c| c.metadata.app_version.clone())
                        .unwrap_or_default(),
                    description: r.info.description.clone(),
                })
                .collect();
            print_data(format, &rows, || {
                let mut t = Table::new(&["REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "DESCRIPTION"]);
                for r in &rows {
                    let rev = r.revision.to_string();
                    t.row([
                        rev.as_str(),
                        r.updated.as_str(),
                        r.status.as_str(),
                        r.chart.as_str(),
                        r.app_version.as_str(),
                        r.description.as_str(),
                    ]);
                }
                t
            })
        }
        ReleasesCmd::Show { release, revision } => {
            let revs = super::runtime()?.block_on(kdeck_command::releases::history(ex, &release))?;
            let r = match revision {
                Some(n) => revs.iter().find(|r| r.version == n).ok_or_else(|| {
                    CliError::failed(format!(
                        "{release} has no revision {n} (it has {})",
                        revs.iter()
                            .map(|r| r.version.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?,
                None => revs
                    .last()
                    .ok_or_else(|| CliError::failed(format!("no release {release}")))?,
            };
            let shown = Shown {
                name: r.name.clone(),
                namespace: r.namespace.clone(),
                revision: r.version,
                status: r.info.status.clone(),
                chart: r.chart_label(),
                values: r.config.clone().unwrap_or(serde_json::json!({})),
                notes: r.info.notes.clone().unwrap_or_default(),
                manifest: r.manifest.clone(),
            };
            if format != Format::Table {
                return print_data(format, &shown, || Table::new(&[]));
            }
            super::output::out(&format!(
                "# {} in {} (revision {}, {}, chart {})\n# values\n{}# notes\n{}\n# manifest\n{}",
                shown.name,
                shown.namespace,
                shown.revision,
                shown.status,
                shown.chart,
                serde_saphyr::to_string(&shown.values).unwrap_or_default(),
                shown.notes.trim_end(),
                shown.manifest
            ))
        }
        ReleasesCmd::List { all, clusters } => {
            let chosen = super::chosen_clusters(ex, clusters.as_deref())?;
            let asked = chosen.len();
            let pass = super::runtime()?.block_on(kdeck_command::releases::list(ex, &chosen, all));
            let now = time::OffsetDateTime::now_utc();
            print_data(format, &pass.rows, || {
                let mut t = Table::new(&[
                    "NAME",
                    "NAMESPACE",
                    "CLUSTER",
                    "CHART",
                    "VERSION",
                    "APP VERSION",
                    "REVISION",
                    "STATUS",
                    "READY",
                    "AGE",
                ]);
                for r in &pass.rows {
                    let rev = r.revision.to_string();
                    let age = super::output::age(&r.updated, now);
                    t.row([
                        r.name.as_str(),
                        r.namespace.as_str(),
                        r.cluster.as_str(),
                        r.chart.as_str(),
                        r.version.as_str(),
                        r.app_version.as_str(),
                        rev.as_str(),
                        r.status.as_str(),
                        r.ready.as_str(),
                        age.as_str(),
                    ]);
                }
                t
            })?;
            super::partial(&pass.problems, asked)
        }
    }
}
