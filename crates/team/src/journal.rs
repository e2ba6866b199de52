//! The journal, shared: each command's entry is appended to the hub as a
//! ConfigMap (`kdeck.dev/team: journal`), the newest [`KEEP`] kept; the
//! entries of the others are kept here in a tree of their own, for the
//! journal view and `kdeck history`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ListParams, PostParams};

use super::hub::{AT, BY, FORMAT_KEY, TEAM_LABEL};
use super::{FORMAT, Hub, TeamError, object_name};
use kdeck_store::{Batch, Store};

/// How many entries the hub keeps (the oldest go past it).
pub const KEEP: usize = 1000;
/// The local tree of the team's entries.
pub const TREE: &str = "team_journal";

/// The local key of an entry: when, who, which: in time order.
fn local_key(at: &str, by: &str, id: u64) -> String {
    format!("{at}\u{1f}{by}\u{1f}{id:020}")
}

/// A journal object's entry, as JSON text, with who and when.
pub(crate) fn read_entry(cm: &ConfigMap) -> Option<(String, String, u64, String)> {
    let ann = cm.metadata.annotations.as_ref()?;
    let text = cm.data.as_ref()?.get("entry")?.clone();
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let id = v.get("id")?.as_u64()?;
    Some((ann.get(AT)?.clone(), ann.get(BY)?.clone(), id, text))
}

/// Keeps a journal object's entry here.
pub(crate) fn keep(batch: &mut Batch, cm: &ConfigMap) {
    if let Some((at, by, id, text)) = read_entry(cm) {
        batch.raw(TREE, local_key(&at, &by, id).into_bytes(), Some(text.into_bytes()));
    }
}

impl Hub {
    /// Appends an entry (JSON, with `id`, `actor` and `at`) to the team's journal.
    pub async fn record(&self, entry: &serde_json::Value) -> Result<(), TeamError> {
        let id = entry.get("id").and_then(|v| v.as_u64()).unwrap_or(0);
        let by = entry.get("actor").and_then(|v| v.as_str()).unwrap_or("someone");
        let at = entry.get("at").and_then(|v| v.as_str()).unwrap_or("");
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(object_name("journal", &format!("{by}/{id}")));
        cm.metadata.labels = Some(BTreeMap::from([
            (TEAM_LABEL.to_string(), "journal".to_string()),
            (
                kdeck_fleet::gateway::MANAGED_BY.to_string(),
                kdeck_fleet::gateway::MANAGED_BY_KDECK.to_string(),
            ),
        ]));
        cm.metadata.annotations = Some(BTreeMap::from([
            (FORMAT_KEY.to_string(), FORMAT.to_string()),
            (BY.to_string(), by.to_string()),
            (AT.to_string(), at.to_string()),
        ]));
        cm.data = Some(BTreeMap::from([("entry".to_string(), entry.to_string())]));
        match self.api.create(&PostParams::default(), &cm).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(self.said("create configmaps", e)),
        }
        if id.is_multiple_of(50) {
            self.prune().await?;
        }
        Ok(())
    }

    /// The team's journal on the hub past [`KEEP`] entries goes, oldest first.
    pub async fn prune(&self) -> Result<usize, TeamError> {
        let lp = ListParams::default().labels(&format!("{TEAM_LABEL}=journal"));
        let list = self.api.list(&lp).await.map_err(|e| self.said("list configmaps", e))?;
        let mut all: Vec<(String, String)> = list
            .items
            .iter()
            .filter_map(|cm| {
                let at = cm.metadata.annotations.as_ref()?.get(AT)?.clone();
                Some((at, cm.metadata.name.clone()?))
            })
            .collect();
        if all.len() <= KEEP {
            return Ok(0);
        }
        all.sort();
        let extra = all.len() - KEEP;
        for (_, name) in all.iter().take(extra) {
            match self.api.delete(name, &Default::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(self.said("delete configmaps", e)),
            }
        }
        Ok(extra)
    }

    /// The team's journal, read into the local copy (the newest [`KEEP`]).
    pub async fn pull_journal(&self, store: &Store) -> Result<usize, TeamError> {
        let lp = ListParams::default().labels(&format!("{TEAM_LABEL}=journal"));
        let list = self.api.list(&lp).await.map_err(|e| self.said("list configmaps", e))?;
        let mut batch = Batch::new();
        for (k, _) in store.scan_raw(TREE, b"")? {
            batch.raw(TREE, k, None);
        }
        for cm in &list.items {
            keep(&mut batch, cm);
        }
        store.write(batch)?;
        Ok(list.items.len())
    }
}

/// The team's entries kept here, as JSON, oldest first.
pub fn entries(store: &Store) -> Result<Vec<serde_json::Value>, TeamError> {
    Ok(store
        .scan_raw(TREE, b"")?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
        .collect())
}
