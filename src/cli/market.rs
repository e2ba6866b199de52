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

pub(super) fn releases(ex: &Executor, cmd: ReleasesCmd, format: Format) -> Result<(), CliError> {
    match cmd {
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
