//! A canary: a new version of an app run beside the old one, behind the
//! same Service, until it is promoted or aborted.

use serde::{Deserialize, Serialize};

use super::space::AppRef;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    #[serde(rename = "ref")]
    pub app: AppRef,
    pub image: String,
    pub replicas: u32,
    /// The share of requests a weighted canary Ingress sends it; None when
    /// traffic is split by replicas alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    pub started_at: String,
    pub actor: String,
}

impl Canary {
    /// The canary workload's (and weighted Service's and Ingress's) name.
    pub fn name_of(app: &str) -> String {
        format!("{app}-canary")
    }
}
