//! Bindings: an app takes env vars from another app's connector.

use crate::apps::{parse_app, stored_app};
use crate::{Applied, Executor, Failure, ItemOutcome, invalid};
use kdeck_model::*;
use kdeck_store::Batch;

pub(crate) fn bind(
    ex: &Executor,
    consumer: &str,
    provider: &str,
    connector: &str,
    prefix: Option<String>,
) -> Result<Applied, Failure> {
    let c = parse_app(consumer)?;
    let p = parse_app(provider)?;
    stored_app(ex, &c)?;
    let prov = ex.store().get::<App>(&p.to_string())?.ok_or_else(|| {
        invalid(format!(
            "binding target {p}: kdeck has no settings for it, so it offers no connectors; `kdeck apps adopt {p}` manages it, then `kdeck apps edit {p} --connector ...` offers one"
        ))
    })?;
    if !prov.connectors.iter().any(|x| x.name == connector) {
        let offered: Vec<&str> = prov.connectors.iter().map(|x| x.name.as_str()).collect();
        return Err(invalid(format!(
            "app {p} offers no connector {connector:?}; it offers: {}",
            if offered.is_empty() {
                "none".to_string()
            } else {
                offered.join(", ")
            }
        )));
    }
    let b = Binding {
        consumer: c,
        provider: p,
        connector: connector.to_string(),
        env_prefix: prefix,
    };
    b.validate().map_err(|e| invalid(e.to_string()))?;
    let mut batch = Batch::new();
    batch.put(&b)?;
    Ok(Applied {
        items: vec![ItemOutcome::ok(b.key(), "stored; deploy the consumer to apply")],
        batch,
    })
}
