//! Spaces (`cluster/namespace`) and references to apps in them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::validate::{ValidationError, dns_label};

/// Names one namespace on one cluster: `cluster/namespace`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SpaceRef {
    pub cluster: String,
    pub namespace: String,
}

impl SpaceRef {
    pub fn new(cluster: impl Into<String>, namespace: impl Into<String>) -> Self {
        Self {
            cluster: cluster.into(),
            namespace: namespace.into(),
        }
    }

    /// Parses and validates `cluster/namespace`.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        let Some((cluster, namespace)) = s.split_once('/') else {
            return Err(ValidationError::new(
                field,
                s,
                "must be CLUSTER/NAMESPACE, as in eu1/shop",
            ));
        };
        if namespace.contains('/') {
            return Err(ValidationError::new(
                field,
                s,
                "must be CLUSTER/NAMESPACE with exactly one '/'",
            ));
        }
        dns_label(&format!("{field} cluster"), cluster)?;
        dns_label(&format!("{field} namespace"), namespace)?;
        Ok(Self::new(cluster, namespace))
    }
}

impl fmt::Display for SpaceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cluster, self.namespace)
    }
}

impl FromStr for SpaceRef {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse("space", s)
    }
}

/// Names one app: `cluster/namespace/app`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AppRef {
    pub space: SpaceRef,
    pub name: String,
}

impl AppRef {
    pub fn new(space: SpaceRef, name: impl Into<String>) -> Self {
        Self {
            space,
            name: name.into(),
        }
    }

    /// Parses and validates `cluster/namespace/app`.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        // The whole input is named: three parts, two '/'.
        let slashes = s.matches('/').count();
        let (Some((space, name)), 2) = (s.rsplit_once('/'), slashes) else {
            return Err(ValidationError::new(
                field,
                s,
                format!("must be CLUSTER/NAMESPACE/APP with exactly two '/' (it has {slashes}), as in eu1/shop/web"),
            ));
        };
        let space = SpaceRef::parse(field, space)?;
        dns_label(&format!("{field} app name"), name)?;
        Ok(Self::new(space, name))
    }
}

impl fmt::Display for AppRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.space, self.name)
    }
}

impl FromStr for AppRef {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse("app", s)
    }
}

/// How kdeck came to know a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceOrigin {
    /// kdeck created the namespace and labelled it `managed-by: kdeck`.
    Created,
    /// An existing namespace the user adopted as it was.
    Attached,
}

/// A space kdeck knows by name: kept even when listing namespaces is
/// forbidden to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Space {
    pub space: SpaceRef,
    pub origin: SpaceOrigin,
    /// When it was created or attached (RFC 3339).
    pub added_at: String,
}
