//! A Kubernetes API server simulator on loopback. Each simulated cluster is
//! its own HTTP server with its own resourceVersion counter, event history,
//! users, controllers and faults. The client side of kdeck never knows it
//! talks to this: the only meeting point is a kubeconfig.

pub mod cluster;
pub mod controllers;
pub mod error;
pub mod faults;
pub mod fleet;
pub mod logs;
mod merge;
pub mod openapi;
pub mod patch;
pub mod proto;
pub mod ptr;
pub mod quantity;
pub mod rbac;
pub mod resources;
pub mod select;
pub mod server;
pub mod state;
pub mod table;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;

pub use cluster::{Role, SimCluster, SimConfig, User};
pub use faults::{FailRule, Faults};
pub use fleet::FleetSize;

pub(crate) fn server_error(e: &error::ApiError) -> hyper::Response<server::Body> {
    server::error_response(e)
}

pub(crate) fn server_stream(
    ct: &'static str,
    rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
) -> hyper::Response<server::Body> {
    server::stream_response(ct, rx)
}

/// One running simulated cluster.
#[derive(Clone)]
pub struct SimHandle {
    pub name: String,
    pub addr: SocketAddr,
    pub cluster: Arc<SimCluster>,
    /// PEM of the CA that signed the server's certificate.
    pub ca_pem: String,
}

impl SimHandle {
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn set_faults(&self, f: Faults) {
        self.cluster.set_faults(f);
    }

    /// Keeps only `n` events: older resourceVersions get 410 on watch.
    pub fn set_history(&self, n: usize) {
        self.cluster.set_history(n);
    }

    /// Closes the port and cuts every connection (`false`), or reopens it.
    pub fn set_up(&self, up: bool) {
        self.cluster.set_up(up);
    }

    /// The objects of a kind as the server holds them, in key order.
    pub fn truth(&self, kind: &str) -> Vec<Value> {
        let Some(res) = resources::by_kind(kind) else {
            return Vec::new();
        };
        self.cluster
            .read()
            .iter_kind(res, None)
            .map(|(_, v)| (**v).clone())
            .collect()
    }

    /// Sets the simulated CPU demand of every workload that does not set its
    /// own (percent of one pod's request; 0: idle).
    pub fn set_cpu_demand(&self, percent: u32) {
        self.cluster
            .cpu_demand
            .store(percent, std::sync::atomic::Ordering::Relaxed);
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.cluster.read().rv
    }

    /// Writes an object as a controller would (no validation), for tests and churn.
    pub fn put(&self, kind: &str, namespace: &str, obj: Value) -> Option<Arc<Value>> {
        let res = resources::by_kind(kind)?;
        Some(self.cluster.write(|s| s.put(res, namespace, obj)))
    }

    /// Deletes an object as a user would.
    pub fn delete(&self, kind: &str, namespace: &str, name: &str) -> bool {
        let Some(res) = resources::by_kind(kind) else {
            return false;
        };
        self.cluster
            .write(|s| s.delete(res, namespace, name, &state::DeleteOptions::default()))
            .is_ok()
    }
}

/// How to start a fleet.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub clusters: usize,
    pub fleet: FleetSize,
    /// First port; cluster i listens on base + i. Random ports when absent.
    pub port_base: Option<u16>,
    /// Updates per second per cluster, spread over its deployments.
    pub churn_per_sec: u32,
    pub config: SimConfig,
    /// Clusters (by name) that run without Tekton: `tekton.dev` and
    /// `triggers.tekton.dev` are not served there.
    pub without_tekton: Vec<String>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            clusters: 2,
            fleet: FleetSize::Empty,
            port_base: None,
            churn_per_sec: 0,
            config: SimConfig::default(),
            without_tekton: Vec::new(),
        }
    }
}

/// Names for N clusters: prod-eu1, stage-eu1, dev-eu1, prod-us1, ...
pub fn cluster_names(n: usize) -> Vec<String> {
    const REGIONS: &[&str] = &["eu1", "us1", "ap1", "eu2", "us2", "ap2", "sa1", "af1", "me1", "ca1"];
    const ENVS: &[&str] = &["prod", "stage", "dev"];
    (0..n)
        .map(|i| {
            let env = ENVS[i % ENVS.len()];
            let region = REGIONS[(i / ENVS.len()) % REGIONS.len()];
            let round = i / (ENVS.len() * REGIONS.len());
            if round == 0 {
                format!("{env}-{region}")
            } else {
                format!("{env}-{region}-{}", round + 1)
            }
        })
        .collect()
}

/// Starts the clusters, seeds them, and runs their controllers (and churn).
pub async fn start(opts: SimOptions) -> std::io::Result<Vec<SimHandle>> {
    let names = cluster_names(opts.clusters);
    let tls = tls::generate().map_err(std::io::Error::other)?;
    // Seeded side by side: each cluster's seed and first reconcile is its own.
    let seeded: Vec<std::io::Result<Arc<SimCluster>>> = std::thread::scope(|scope| {
        let jobs: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut config = opts.config.clone();
                config.seed = config.seed.wrapping_add(i as u64);
                config.tekton &= !opts.without_tekton.iter().any(|n| n == name);
                let fleet = opts.fleet.clone();
                scope.spawn(move || {
                    let cluster = SimCluster::new(name, config);
                    cluster.seed_rbac();
                    fleet::seed(&cluster, fleet, i)?;
                    controllers::settle(&cluster);
                    // Like a fresh API server, watches can resume from now on, not from the seeding.
                    cluster.read().history.clear();
                    Ok(cluster)
                })
            })
            .collect();
        jobs.into_iter()
            .map(|j| {
                j.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("seeding a simulated cluster failed")))
            })
            .collect()
    });
    let mut out = Vec::new();
    for (i, (name, cluster)) in names.iter().zip(seeded).enumerate() {
        let cluster = cluster?;
        let port = opts
            .port_base
            .map_or(0, |b| b.saturating_add(u16::try_from(i).unwrap_or(u16::MAX)));
        let addr = server::serve(cluster.clone(), SocketAddr::from(([127, 0, 0, 1], port)), tls.clone()).await?;
        tokio::spawn(controllers::run(cluster.clone()));
        cluster
            .churn_per_sec
            .store(opts.churn_per_sec, std::sync::atomic::Ordering::Relaxed);
        tokio::spawn(fleet::churn(cluster.clone()));
        out.push(SimHandle {
            name: name.clone(),
            addr,
            cluster,
            ca_pem: tls.ca_pem.clone(),
        });
    }
    Ok(out)
}

/// A kubeconfig with one context per cluster, all as `user` (admin, developer, auditor).
pub fn kubeconfig(handles: &[SimHandle], user: &str) -> String {
    let token = handles
        .first()
        .and_then(|h| {
            h.cluster
                .config
                .users
                .iter()
                .find(|u| u.name == user)
                .map(|u| u.token.clone())
        })
        .unwrap_or_else(|| format!("kdeck-sim-{user}"));
    let mut s = String::from("apiVersion: v1\nkind: Config\n");
    if let Some(first) = handles.first() {
        s.push_str(&format!("current-context: {}\n", first.name));
    }
    s.push_str("clusters:\n");
    for h in handles {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(&h.ca_pem);
        s.push_str(&format!(
            "- name: {}\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n",
            h.name,
            h.url()
        ));
    }
    s.push_str(&format!("users:\n- name: sim-{user}\n  user:\n    token: {token}\n"));
    s.push_str("contexts:\n");
    for h in handles {
        s.push_str(&format!(
            "- name: {0}\n  context:\n    cluster: {0}\n    user: sim-{user}\n",
            h.name
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cycle_envs_then_regions() {
        assert_eq!(cluster_names(4), ["prod-eu1", "stage-eu1", "dev-eu1", "prod-us1"]);
        let many = cluster_names(31);
        assert_eq!(many[30], "prod-eu1-2");
        let unique: std::collections::BTreeSet<_> = many.iter().collect();
        assert_eq!(unique.len(), 31);
    }
}
