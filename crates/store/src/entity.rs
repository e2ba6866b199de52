//! What the store keeps: entities by tree and key, and batches of writes
//! that land in one transaction.

use super::*;

/// Something kept in its own tree under a string key.
pub trait Entity: Serialize + DeserializeOwned {
    const TREE: &'static str;
    fn key(&self) -> String;
}

/// Writes to several trees that land together or not at all.
#[derive(Debug, Default)]
pub struct Batch {
    ops: Vec<Op>,
}

/// One write: a value to put, or `None` to delete the key.
#[derive(Debug)]
pub(super) struct Op {
    tree: &'static str,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
}

pub(super) fn encode<T: Serialize>(tree: &str, key: &str, v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Encode {
        tree: tree.into(),
        key: key.into(),
        reason: e.to_string(),
    })
}

pub(super) fn decode<T: DeserializeOwned>(tree: &str, key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree: tree.into(),
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

impl Entity for Cluster {
    const TREE: &'static str = "clusters";
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl Entity for Space {
    const TREE: &'static str = "spaces";
    fn key(&self) -> String {
        self.space.to_string()
    }
}

impl Entity for App {
    const TREE: &'static str = "apps";
    fn key(&self) -> String {
        self.app.to_string()
    }
}

impl Entity for Route {
    const TREE: &'static str = "routes";
    fn key(&self) -> String {
        Route::key(self)
    }
}

impl Entity for Domain {
    const TREE: &'static str = "domains";
    fn key(&self) -> String {
        Domain::key(self)
    }
}

impl Entity for Binding {
    const TREE: &'static str = "bindings";
    fn key(&self) -> String {
        Binding::key(self)
    }
}

impl Entity for Solution {
    const TREE: &'static str = "solutions";
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl Entity for Catalog {
    const TREE: &'static str = "catalogs";
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl Entity for kdeck_model::Placement {
    const TREE: &'static str = "placements";
    fn key(&self) -> String {
        kdeck_model::Placement::key(self)
    }
}

impl Entity for Revision {
    const TREE: &'static str = "revisions";
    fn key(&self) -> String {
        Revision::key_of(&self.app, self.number)
    }
}

impl Entity for Canary {
    const TREE: &'static str = "canaries";
    fn key(&self) -> String {
        self.app.to_string()
    }
}

impl Entity for RoleGrant {
    const TREE: &'static str = "roles";
    fn key(&self) -> String {
        RoleGrant::key(self)
    }
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn put<E: Entity>(&mut self, e: &E) -> Result<&mut Self, StoreError> {
        let key = e.key();
        let bytes = encode(E::TREE, &key, e)?;
        self.ops.push(Op {
            tree: E::TREE,
            key: key.into_bytes(),
            value: Some(bytes),
        });
        Ok(self)
    }
    pub fn delete<E: Entity>(&mut self, key: &str) -> &mut Self {
        self.ops.push(Op {
            tree: E::TREE,
            key: key.as_bytes().to_vec(),
            value: None,
        });
        self
    }
    /// A write of raw bytes (`None` deletes), for a layer that mirrors trees
    /// as they are stored (the team hub).
    pub fn raw(&mut self, tree: &'static str, key: Vec<u8>, value: Option<Vec<u8>>) -> &mut Self {
        self.ops.push(Op { tree, key, value });
        self
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The writes, in order: tree, key, and the value (`None`: a delete).
    pub fn ops(&self) -> impl Iterator<Item = (&'static str, &[u8], Option<&[u8]>)> {
        self.ops.iter().map(|o| (o.tree, o.key.as_slice(), o.value.as_deref()))
    }

    /// The writes of `other` after these.
    pub fn extend(&mut self, other: Batch) {
        self.ops.extend(other.ops);
    }

    /// The writes as the owner takes them.
    pub(crate) fn into_wire(self) -> Vec<WireOp> {
        self.ops
            .into_iter()
            .map(|op| WireOp {
                tree: op.tree.into(),
                key: Bytes(op.key),
                value: op.value.map(Bytes),
            })
            .collect()
    }
}
