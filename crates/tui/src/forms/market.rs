//! Marketplace forms: install a chart on the clusters a selector chooses,
//! install a saved solution in a space, add a catalog; and a release's
//! upgrade and rollback, here or on every cluster that has it.

use super::{Field, Form, FormKind};
use kdeck_command::Command;
use kdeck_command::market::{InstallSpec, UpgradeSpec};

/// The "where" choice meaning every cluster that has the release.
pub const EVERYWHERE: &str = "everywhere";

impl Form {
    /// A chart of a catalog: release name, namespace, a cluster selector,
    /// the version (newest first) and `--set` pairs.
    pub fn install_chart(catalog: &str, chart: &str, versions: &[String]) -> Form {
        Form::make(
            format!("install {chart} from {catalog}"),
            FormKind::InstallChart {
                catalog: catalog.to_string(),
                chart: chart.to_string(),
            },
            vec![
                Field::new("release name", "the release on every cluster", chart),
                Field::new("namespace", "created where missing", chart),
                Field::new("clusters", "a label selector: tier=stage, region in (eu,us)", ""),
                version_field(versions),
                Field::new(
                    "set",
                    "values as KEY=VALUE,KEY=VALUE (helm --set); empty: the chart's",
                    "",
                ),
            ],
        )
    }

    /// A saved solution, into a space (created when missing).
    pub fn install_solution(name: &str, space: &str, spaces: Vec<String>) -> Form {
        let mut to = Field::new("space", "CLUSTER/SPACE, created when missing", space);
        to.choices = spaces;
        Form::make(
            format!("install solution {name}"),
            FormKind::InstallSolution(name.to_string()),
            vec![to],
        )
    }

    pub fn add_catalog() -> Form {
        Form::make(
            "add a catalog".into(),
            FormKind::AddCatalog,
            vec![
                Field::new("catalog name", "a short name: stable, bitnami, ours", ""),
                Field::new("url", "a Helm repository (https://…), its index.yaml, or a file", ""),
            ],
        )
    }

    /// A release's upgrade: here or on every cluster that has it.
    pub fn upgrade_release(release: &str, here: &str, everywhere: Vec<String>, versions: &[String]) -> Form {
        Form::make(
            format!("upgrade {release}"),
            FormKind::UpgradeRelease {
                release: release.to_string(),
                here: here.to_string(),
                everywhere,
            },
            vec![
                version_field(versions),
                Field::new("set", "KEY=VALUE,… over the release's values; empty keeps them", ""),
                where_field(here),
            ],
        )
    }

    /// A release's rollback to one of its revisions.
    pub fn rollback_release(release: &str, here: &str, everywhere: Vec<String>, revision: u32) -> Form {
        Form::make(
            format!("roll back {release}"),
            FormKind::RollbackRelease {
                release: release.to_string(),
                here: here.to_string(),
                everywhere,
            },
            vec![
                Field::new(
                    "to revision",
                    "its manifest and values are applied again, as a new revision",
                    &revision.saturating_sub(1).max(1).to_string(),
                ),
                where_field(here),
            ],
        )
    }

    pub(super) fn market_check(&self, label: &str, val: &str) -> Option<String> {
        use kdeck_model::validate as v;
        match label {
            "release name" => kdeck_command::releases::check_name(val).err().map(|e| e.reason),
            "namespace" | "catalog name" => super::check(v::dns_label(label, val)),
            "clusters" if val.is_empty() => Some("a selector is needed: tier=stage".into()),
            "clusters" => kdeck_model::selector::Selector::parse(val).err().map(|e| e.to_string()),
            "version" if val.is_empty() => Some("a version is needed".into()),
            "set" => val
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .find(|p| !p.contains('=') || p.starts_with('='))
                .map(|p| format!("{p:?} is not KEY=VALUE")),
            "space" => kdeck_model::SpaceRef::parse("space", val).err().map(|e| e.problem),
            "url" if val.is_empty() => Some("a URL or a file is needed".into()),
            "to revision" => {
                super::check_number(val, u32::MAX).or_else(|| (val == "0").then(|| "revisions start at 1".into()))
            }
            "where" if val.is_empty() => Some(format!("{EVERYWHERE}, or a cluster")),
            _ => None,
        }
    }

    pub(super) fn market_command(&self) -> Option<Command> {
        let sets = |s: String| if s.is_empty() { Vec::new() } else { vec![s] };
        let clusters = |here: &str, everywhere: &[String]| {
            if self.get("where") == EVERYWHERE {
                everywhere.to_vec()
            } else {
                vec![here.to_string()]
            }
        };
        Some(match &self.kind {
            FormKind::InstallChart { catalog, chart } => Command::InstallChart(InstallSpec {
                catalog: Some(catalog.clone()),
                chart: chart.clone(),
                version: Some(self.get("version")),
                name: self.get("release name"),
                namespace: self.get("namespace"),
                clusters: Vec::new(),
                selector: Some(self.get("clusters")),
                values: serde_json::json!({}),
                sets: sets(self.get("set")),
            }),
            FormKind::InstallSolution(name) => Command::InstallSolution {
                solution: name.clone(),
                spaces: vec![self.get("space")],
            },
            FormKind::AddCatalog => Command::AddCatalog {
                name: self.get("catalog name"),
                url: kdeck_command::catalogs::source_url(&self.get("url")).ok()?,
            },
            FormKind::UpgradeRelease {
                release,
                here,
                everywhere,
            } => Command::UpgradeRelease(UpgradeSpec {
                release: release.clone(),
                clusters: clusters(here, everywhere),
                catalog: None,
                version: Some(self.get("version")),
                values: None,
                sets: sets(self.get("set")),
                reuse_values: true,
            }),
            FormKind::RollbackRelease {
                release,
                here,
                everywhere,
            } => Command::RollbackRelease {
                release: release.clone(),
                clusters: clusters(here, everywhere),
                to: self.get("to revision").parse().ok()?,
            },
            _ => return None,
        })
    }
}

/// A chart's versions, newest first, to pick from.
fn version_field(versions: &[String]) -> Field {
    let mut f = Field::new(
        "version",
        "left and right pick; newest first",
        versions.first().map_or("", |v| v),
    );
    f.choices = versions.to_vec();
    f
}

fn where_field(here: &str) -> Field {
    let mut f = Field::new("where", "this cluster, or every cluster that has the release", here);
    f.choices = vec![here.to_string(), EVERYWHERE.to_string()];
    f
}
