//! Domains: the DNS suffixes of a cluster, with TLS and ingress class.

use crate::{Applied, Executor, Failure, ItemOutcome, cluster_of, invalid};
use kdeck_model::*;
use kdeck_store::Batch;

pub(crate) fn add_domain(
    ex: &Executor,
    cluster: &str,
    suffix: &str,
    tls_secret: Option<String>,
    ingress_class: Option<String>,
) -> Result<Applied, Failure> {
    cluster_of(ex, cluster)?;
    let d = Domain {
        cluster: cluster.to_string(),
        suffix: suffix.to_string(),
        tls_secret,
        ingress_class,
    };
    d.validate().map_err(|e| invalid(e.to_string()))?;
    let mut batch = Batch::new();
    batch.put(&d)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(d.key(), "stored")],
        batch,
    })
}

/// Forgets a domain. Routes already made under it keep their hosts.
pub(crate) fn remove_domain(ex: &Executor, cluster: &str, suffix: &str) -> Result<Applied, Failure> {
    let key = format!("{cluster}/{suffix}");
    if ex.store().get::<Domain>(&key)?.is_none() {
        return Err(invalid(format!(
            "no domain {suffix} on cluster {cluster}; `kdeck domains list` shows them"
        )));
    }
    let mut batch = Batch::new();
    batch.delete::<Domain>(&key);
    Ok(Applied {
        items: vec![ItemOutcome::ok(key, "forgotten (routes under it keep their hosts)")],
        batch,
    })
}
