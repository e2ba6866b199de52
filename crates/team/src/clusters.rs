//! Clusters shared on purpose: a member may put a cluster, credentials and
//! all, in a Secret of the hub's namespace (`kdeck.dev/team: cluster`);
//! members who do not have a cluster of that name get it on their next
//! sync. Every other cluster, and every credential, stays each user's own.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, Patch, PatchParams};

use super::hub::{AT, BY, FORMAT_KEY, TEAM_LABEL};
use super::{FORMAT, Hub, TeamError, object_name};
use kdeck_model::Cluster;
use kdeck_store::{Batch, Store};

impl Hub {
    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Puts a cluster, with its credentials, in the hub for the team.
    pub async fn share_cluster(&self, c: &Cluster, by: &str, at: &str) -> Result<(), TeamError> {
        let name = object_name("cluster", &c.name);
        let json = serde_json::to_vec(c).map_err(|e| TeamError::Other(e.to_string()))?;
        let mut s = Secret::default();
        s.metadata.name = Some(name.clone());
        s.metadata.labels = Some(BTreeMap::from([
            (TEAM_LABEL.to_string(), "cluster".to_string()),
            (
                kdeck_fleet::gateway::MANAGED_BY.to_string(),
                kdeck_fleet::gateway::MANAGED_BY_KDECK.to_string(),
            ),
        ]));
        s.metadata.annotations = Some(BTreeMap::from([
            (FORMAT_KEY.to_string(), FORMAT.to_string()),
            (BY.to_string(), by.to_string()),
            (AT.to_string(), at.to_string()),
            ("kdeck.dev/key".to_string(), c.name.clone()),
        ]));
        s.data = Some(BTreeMap::from([("cluster".to_string(), ByteString(json))]));
        let mut v = serde_json::to_value(&s).map_err(|e| TeamError::Other(e.to_string()))?;
        v["apiVersion"] = "v1".into();
        v["kind"] = "Secret".into();
        self.secrets()
            .patch(
                &name,
                &PatchParams::apply(kdeck_fleet::gateway::FIELD_MANAGER).force(),
                &Patch::Apply(&v),
            )
            .await
            .map(|_| ())
            .map_err(|e| self.said("apply secrets", e))
    }

    /// Takes a shared cluster out of the hub (members who have it keep it).
    pub async fn unshare_cluster(&self, name: &str) -> Result<bool, TeamError> {
        match self
            .secrets()
            .delete(&object_name("cluster", name), &Default::default())
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(self.said("delete secrets", e)),
        }
    }

    /// The clusters shared in the hub; none for a member who may not read
    /// Secrets there (a viewer).
    pub async fn shared_clusters(&self) -> Result<Vec<Cluster>, TeamError> {
        let lp = ListParams::default().labels(&format!("{TEAM_LABEL}=cluster"));
        let list = match self.secrets().list(&lp).await {
            Ok(l) => l,
            Err(kube::Error::Api(s)) if s.code == 403 => return Ok(Vec::new()),
            Err(e) => return Err(self.said("list secrets", e)),
        };
        Ok(list
            .items
            .iter()
            .filter_map(|s| serde_json::from_slice(&s.data.as_ref()?.get("cluster")?.0).ok())
            .collect())
    }

    /// Shared clusters this data dir does not have, into the batch; their names.
    pub(crate) async fn adopt_clusters(&self, store: &Store, batch: &mut Batch) -> Result<Vec<String>, TeamError> {
        let mut added = Vec::new();
        for c in self.shared_clusters().await? {
            if store.get::<Cluster>(&c.name)?.is_none() {
                batch.put(&c)?;
                added.push(c.name.clone());
            }
        }
        Ok(added)
    }
}
