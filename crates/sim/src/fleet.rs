//! Seed data for simulated fleets, and churn.

use crate::error::SimError;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::cluster::SimCluster;
use super::resources;

/// How much to seed into each cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetSize {
    /// Only `default` and `kube-system`.
    Empty,
    /// 5 spaces × 4 apps per cluster.
    Small,
    /// 20 spaces × 10 apps.
    Medium,
    /// 100 spaces × 20 apps.
    Large,
    /// Spaces × apps given in a YAML file: `{spaces: N, apps: M}`.
    Custom { spaces: usize, apps: usize },
}

impl FleetSize {
    /// `small|medium|large|empty` or a YAML file `{spaces: N, apps: M}`.
    pub fn parse(s: &str) -> Result<Self, SimError> {
        Ok(match s {
            "empty" => Self::Empty,
            "small" => Self::Small,
            "medium" => Self::Medium,
            "large" => Self::Large,
            path => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!("--fleet {path:?}: not small, medium or large, and not a readable file ({e})")
                })?;
                let v: Value = serde_saphyr::from_str(&text)
                    .map_err(|e| format!("{path}: {}", e.to_string().lines().next().unwrap_or("")))?;
                let num = |k: &str| {
                    v.get(k)
                        .and_then(Value::as_u64)
                        .map(|n| n as usize)
                        .ok_or_else(|| format!("{path}: needs `{k}: N` (a whole number)"))
                };
                Self::Custom {
                    spaces: num("spaces")?,
                    apps: num("apps")?,
                }
            }
        })
    }

    pub fn dims(&self) -> (usize, usize) {
        match self {
            Self::Empty => (0, 0),
            Self::Small => (5, 4),
            Self::Medium => (20, 10),
            Self::Large => (100, 20),
            Self::Custom { spaces, apps } => (*spaces, *apps),
        }
    }
}

const TEAMS: &[&str] = &[
    "shop", "payments", "search", "identity", "catalog", "checkout", "billing", "ledger", "notify", "media", "ads",
    "maps", "chat", "reports", "ml", "data", "auth", "edge", "support", "growth",
];
const ENVS: &[&str] = &["prod", "stage", "dev", "qa", "perf"];
const APPS: &[(&str, u16)] = &[
    ("web", 8080),
    ("api", 8080),
    ("worker", 9000),
    ("cart", 8080),
    ("orders", 8080),
    ("gateway", 8443),
    ("auth", 8080),
    ("search", 9200),
    ("notifier", 8080),
    ("scheduler", 9000),
    ("inventory", 8080),
    ("pricing", 8080),
    ("ledger", 8080),
    ("reports", 8080),
    ("thumbnailer", 9000),
    ("mailer", 2525),
    ("events", 8080),
    ("audit", 8080),
    ("cache", 6379),
    ("search-index", 9200),
];

/// Space names: `shop-prod`, `payments-dev`, ... then with a number.
pub fn space_names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let team = TEAMS[i % TEAMS.len()];
            let env = ENVS[(i / TEAMS.len()) % ENVS.len()];
            let round = i / (TEAMS.len() * ENVS.len());
            if round == 0 {
                format!("{team}-{env}")
            } else {
                format!("{team}-{env}-{}", round + 1)
            }
        })
        .collect()
}

fn app_name(j: usize) -> (String, u16) {
    let (n, p) = APPS[j % APPS.len()];
    let round = j / APPS.len();
    (
        if round == 0 {
            n.to_string()
        } else {
            format!("{n}-{}", round + 1)
        },
        p,
    )
}

/// Seeds one cluster: namespaces, and in each the apps with their Service,
/// Ingress, ConfigMap and, for some, a build pipeline.
pub fn seed(c: &Arc<SimCluster>, size: FleetSize, index: usize) -> std::io::Result<()> {
    let of = resources::ids::of;
    let (spaces, apps) = size.dims();
    let cluster = c.name.clone();
    c.write(|s| {
        for ns in ["default", "kube-system"] {
            s.put(of("Namespace"), "", json!({"metadata": {"name": ns}}));
        }
        // The one node every pod is scheduled to.
        s.put(of("Node"), "", json!({
            "metadata": {"name": "sim-node-1", "labels": {"kubernetes.io/hostname": "sim-node-1", "kubernetes.io/os": "linux",
                                                          "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/control-plane": ""}},
            "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
            "status": {
                "capacity": {"cpu": "64", "memory": "256Gi", "pods": "110000", "ephemeral-storage": "1Ti"},
                "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110000", "ephemeral-storage": "1Ti"},
                "conditions": [
                    {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available"},
                    {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure"},
                    {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available"},
                    {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "sim-node-1"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0", "kubeProxyVersion": "v1.33.0", "osImage": "kdeck simulated node",
                             "kernelVersion": "6.1.0", "containerRuntimeVersion": "sim://1.0", "operatingSystem": "linux",
                             "architecture": "amd64", "machineID": "", "systemUUID": "", "bootID": ""},
            },
        }));
        s.put(of("IngressClass"), "", json!({"metadata": {"name": "nginx", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
                                              "spec": {"controller": "k8s.io/ingress-nginx"}}));
        // A default class whose provisioner binds claims at once, as kind's and most managed clusters' do.
        s.put(of("StorageClass"), "", json!({"metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                                             "provisioner": "kdeck.dev/sim-hostpath", "reclaimPolicy": "Delete",
                                             "volumeBindingMode": "Immediate", "allowVolumeExpansion": true}));
        for (space_index, ns) in space_names(spaces).into_iter().enumerate() {
            s.put(of("Namespace"), "", json!({"metadata": {"name": ns, "labels": {"team": ns.split('-').next().unwrap_or("")}}}));
            for j in 0..apps {
                let (name, port) = app_name(j);
                let version = format!("1.{}.{}", (index + j) % 9, j % 5);
                let stateful = false;
                let image = match name.as_str() {
                    "postgres" => "postgres:16".to_string(),
                    "cache" => "redis:7".to_string(),
                    _ => format!("ghcr.io/acme/{name}:{version}"),
                };
                let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "kdeck", "app.kubernetes.io/part-of": ns});
                let template = json!({
                    "metadata": {"labels": {"app.kubernetes.io/name": name}},
                    "spec": {"containers": [{"name": name, "image": image, "ports": [{"containerPort": port, "name": "http"}],
                                             "env": [{"name": "SPACE", "value": ns}, {"name": "CLUSTER", "value": cluster}],
                                             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
                });
                let replicas = 1 + (j + index) % 2;
                let kind = if stateful { "StatefulSet" } else { "Deployment" };
                let mut spec = json!({"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}, "template": template});
                if stateful {
                    spec["serviceName"] = json!(name);
                }
                s.put(of(kind), &ns, json!({"metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": spec}));
                s.put(of("Service"), &ns, json!({"metadata": {"name": name, "namespace": ns, "labels": labels},
                    "spec": {"selector": {"app.kubernetes.io/name": name}, "ports": [{"name": "http", "port": port, "targetPort": port}], "type": "ClusterIP"}}));
                if !stateful {
                    let host = format!("{name}-{ns}.apps.{cluster}.example.com");
                    s.put(of("Ingress"), &ns, json!({"metadata": {"name": name, "namespace": ns, "labels": labels},
                        "spec": {"ingressClassName": "nginx", "tls": [{"hosts": [host], "secretName": "wildcard-tls"}],
                                 "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                    "backend": {"service": {"name": name, "port": {"number": port}}}}]}}]}}));
                }
            }
            if apps >= 4 {
                // A database per space, as a StatefulSet with its headless Service.
                let labels = json!({"app.kubernetes.io/name": "postgres", "app.kubernetes.io/managed-by": "kdeck", "app.kubernetes.io/part-of": ns});
                s.put(of("StatefulSet"), &ns, json!({"metadata": {"name": "postgres", "namespace": ns, "labels": labels},
                    "spec": {"replicas": 1, "serviceName": "postgres", "selector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}},
                             "template": {"metadata": {"labels": {"app.kubernetes.io/name": "postgres"}},
                                          "spec": {"containers": [{"name": "postgres", "image": "postgres:16", "ports": [{"containerPort": 5432, "name": "pg"}]}]}},
                             "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}]}}));
                s.put(of("Service"), &ns, json!({"metadata": {"name": "postgres", "namespace": ns, "labels": labels},
                    "spec": {"clusterIP": "None", "selector": {"app.kubernetes.io/name": "postgres"}, "ports": [{"name": "pg", "port": 5432}]}}));
                // What a connector offers: host, port, user and a password in a Secret.
                use base64::Engine;
                let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
                s.put(of("Secret"), &ns, json!({"metadata": {"name": "postgres-credentials", "namespace": ns, "labels": labels},
                    "type": "Opaque",
                    "data": {"host": b64(&format!("postgres.{ns}.svc")), "port": b64("5432"), "user": b64("app"),
                             "password": b64(&format!("pw-{}-{index}-{space_index}", c.config.seed))}}));
            }
            if apps > 0 {
                s.put(of("ConfigMap"), &ns, json!({"metadata": {"name": "settings", "namespace": ns}, "data": {"LOG_LEVEL": "info", "SPACE": ns}}));
                s.put(of("Pipeline"), &ns, json!({"metadata": {"name": "build", "namespace": ns},
                    "spec": {"params": [{"name": "revision", "type": "string", "default": "main"}],
                             "tasks": [{"name": "clone", "params": [{"name": "revision", "value": "$(params.revision)"}],
                                        "taskSpec": {"params": [{"name": "revision"}], "steps": [{"name": "clone", "image": "alpine/git",
                                            "script": "echo fetching $(params.revision)\necho checked out $(params.revision)"}]}},
                                       {"name": "build", "runAfter": ["clone"], "taskSpec": {"steps": [
                                           {"name": "build", "image": "golang:1.23", "script": "echo compiling 42 packages\necho build ok"},
                                           {"name": "push", "image": "gcr.io/kaniko-project/executor", "script": "echo pushed image"}]}}]}}));
                // Builds that ran: the first spaces of each cluster have a few.
                if space_index < 3 {
                    for (k, app) in ["web", "api"].iter().enumerate() {
                        s.put(of("PipelineRun"), &ns, json!({"metadata": {"name": format!("build-{app}-{}", k + 1), "namespace": ns,
                                                                         "labels": {"tekton.dev/pipeline": "build", "kdeck.dev/app": app}},
                            "spec": {"pipelineRef": {"name": "build"}, "params": [{"name": "revision", "value": "main"}]}}));
                    }
                }
            }
        }
    });
    Ok(())
}

/// Metadata updates on the cluster's deployments, round robin, at the rate
/// `SimCluster::churn_per_sec` says now (read every tick, so it can change).
pub async fn churn(c: Arc<SimCluster>) {
    use std::sync::atomic::Ordering;
    let deploy = resources::ids::of("Deployment");
    let mut n: u64 = 0;
    let mut next = tokio::time::Instant::now();
    loop {
        let rate = c.churn_per_sec.load(Ordering::Relaxed);
        if rate == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            next = tokio::time::Instant::now();
            continue;
        }
        // Several updates per wake at high rates: timers are not that fine.
        next += Duration::from_millis(10);
        tokio::time::sleep_until(next).await;
        let due = (u64::from(rate) / 100).max(1);
        let due = if rate < 100 {
            // Below one per 10 ms: one every 100/rate wakes.
            u64::from(n.is_multiple_of(u64::from((100 / rate).max(1))))
        } else {
            due
        };
        n += 1;
        if due == 0 {
            continue;
        }
        c.write(|s| {
            let names: Vec<_> = {
                let count = s.iter_kind(deploy, None).count();
                if count == 0 {
                    return;
                }
                (0..due)
                    .filter_map(|k| {
                        let pick = ((n * 1000 + k) as usize).wrapping_mul(2_654_435_761) % count;
                        s.iter_kind(deploy, None).nth(pick).map(|(k, v)| (k.clone(), v.clone()))
                    })
                    .collect()
            };
            for ((_, ns, _), v) in names {
                let mut obj = (*v).clone();
                obj["metadata"]["annotations"]["sim.kdeck.dev/churn"] = json!(n.to_string());
                s.put(deploy, &ns, obj);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_sizes() {
        assert_eq!(FleetSize::parse("large").unwrap().dims(), (100, 20));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f.yaml");
        std::fs::write(&f, "spaces: 3\napps: 2\n").unwrap();
        assert_eq!(
            FleetSize::parse(f.to_str().unwrap()).unwrap(),
            FleetSize::Custom { spaces: 3, apps: 2 }
        );
        std::fs::write(&f, "spaces: x\n").unwrap();
        assert!(
            FleetSize::parse(f.to_str().unwrap())
                .unwrap_err()
                .to_string()
                .contains("spaces")
        );
        assert!(
            FleetSize::parse("/nope")
                .unwrap_err()
                .to_string()
                .contains("not small, medium or large")
        );
    }

    #[test]
    fn space_names_are_unique() {
        let names = space_names(250);
        assert_eq!(names[0], "shop-prod");
        assert_eq!(names[21], "payments-stage");
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), 250);
    }
}
