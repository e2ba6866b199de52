//! What kdecks on one data dir say to the one that owns the store: a request
//! and its answer per frame, each frame a 4-byte big-endian length and JSON.
//! Keys and values are bytes, carried as base64.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes on the wire, as base64 text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

/// One write of a batch: a value to put, or none to remove the key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireOp {
    pub tree: String,
    pub key: Bytes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Bytes>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Get {
        tree: String,
        key: Bytes,
    },
    Scan {
        tree: String,
        prefix: Bytes,
    },
    /// The last `n` entries of a tree, newest first.
    Tail {
        tree: String,
        n: usize,
    },
    Write {
        ops: Vec<WireOp>,
    },
    /// `ops`, only if `key` in `tree` still holds `expected` (none: absent);
    /// all in one transaction. Answers whether it wrote.
    WriteIf {
        tree: String,
        key: Bytes,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected: Option<Bytes>,
        ops: Vec<WireOp>,
    },
    Remove {
        tree: String,
        key: Bytes,
    },
    /// Appends a JSON object under the next id (big-endian u64 keys), and
    /// the id (with an empty value) to `index` in the same transaction; an
    /// object with the same nonce among the last ones gets its id back
    /// instead, so that a retried append lands once.
    Append {
        tree: String,
        index: String,
        nonce: String,
        value: Bytes,
    },
    /// Which change the store is at: (owner's epoch, writes since).
    Generation,
    SchemaVersion,
    /// The pid of the process that owns the store.
    Owner,
    /// Every tree, for `kdeck store check`.
    Dump,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Response {
    Value {
        value: Option<Bytes>,
    },
    Pairs {
        pairs: Vec<(Bytes, Bytes)>,
    },
    Done,
    Existed {
        existed: bool,
    },
    Wrote {
        wrote: bool,
    },
    Id {
        id: u64,
    },
    Generation {
        epoch: u64,
        count: u64,
    },
    Number {
        n: u64,
    },
    Dump {
        backup: super::Backup,
    },
    /// The owner could not do it: its store error, in words.
    Error {
        reason: String,
    },
}

/// Frames larger than this are refused: no store entry comes near it.
const MAX_FRAME: usize = 256 << 20;

pub fn write_frame<T: Serialize>(w: &mut impl Write, msg: &T) -> std::io::Result<()> {
    let body = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    let len = u32::try_from(body.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    let mut buf = Vec::with_capacity(body.len() + 4);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(&body);
    w.write_all(&buf)?;
    w.flush()
}

pub fn read_frame<T: for<'de> Deserialize<'de>>(r: &mut impl Read) -> std::io::Result<T> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "frame too large"));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    serde_json::from_slice(&body).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}
