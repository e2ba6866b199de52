//! What a data dir keeps of its team: the hub and how the last sync went,
//! and the hub's resourceVersion of each shared entity it read or wrote.

use serde::{Deserialize, Serialize};

/// This data dir's membership of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The hub: a stored cluster's name.
    pub hub: String,
    pub namespace: String,
    /// When this data dir joined (or made) the team, RFC 3339.
    pub joined_at: String,
    /// When the hub last answered a pull, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
    /// Since when the hub has not answered, while it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable_since: Option<String>,
}

impl Membership {
    /// Joined (or made) now, in sync now.
    pub fn new(hub: &str, namespace: &str, now: &str) -> Membership {
        Membership {
            hub: hub.to_string(),
            namespace: namespace.to_string(),
            joined_at: now.to_string(),
            last_sync: Some(now.to_string()),
            unreachable_since: None,
        }
    }
}

impl kdeck_store::Entity for Membership {
    const TREE: &'static str = "team";
    fn key(&self) -> String {
        "team".into()
    }
}

/// The hub's version of one shared entity, as last read or written here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubVersion {
    pub tree: String,
    pub key: String,
    /// The hub object's name.
    pub name: String,
    pub resource_version: String,
}

impl HubVersion {
    pub fn key_of(tree: &str, key: &str) -> String {
        format!("{tree}\u{1f}{key}")
    }
}

impl kdeck_store::Entity for HubVersion {
    const TREE: &'static str = "team_versions";
    fn key(&self) -> String {
        HubVersion::key_of(&self.tree, &self.key)
    }
}
