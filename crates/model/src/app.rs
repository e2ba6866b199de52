//! An app: the desired spec of a Deployment or StatefulSet, held in the store
//! even before its first deploy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::paas::{BuildSettings, Connector};
use super::space::AppRef;
use super::validate::{
    QuantityKind, ValidationError, ValidationErrors, dns_label, dns_subdomain, env_name, http_path, image, label_key,
    label_value, port, port_name, quantity,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkloadKind {
    #[default]
    Deployment,
    StatefulSet,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    #[serde(rename = "ref")]
    pub app: AppRef,
    #[serde(default)]
    pub kind: WorkloadKind,
    pub image: String,
    #[serde(default = "one")]
    pub replicas: u32,
    #[serde(default)]
    pub ports: Vec<AppPort>,
    #[serde(default)]
    pub env: Vec<EnvEntry>,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    #[serde(default)]
    pub resources: Resources,
    #[serde(default)]
    pub probes: Probes,
    /// Overrides the image's entrypoint.
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// What this app offers to others through bindings.
    #[serde(default)]
    pub connectors: Vec<Connector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildSettings>,
    /// What kdeck's fields do not cover (node selectors, tolerations, a
    /// sidecar, a security context…): laid over the derived Deployment or
    /// StatefulSet by strategic merge, so containers, env and volumes merge
    /// by name and `null` removes a field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<serde_json::Value>,
    /// The pods' labels as they were when the app was adopted: its pod
    /// template keeps them (with the name label its selector needs) instead
    /// of kdeck's, so that adopting and deploying roll no pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_labels: Option<BTreeMap<String, String>>,
    /// Replicas set by a HorizontalPodAutoscaler between bounds, instead of `replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<Autoscale>,
}

/// An app's autoscaling (a HorizontalPodAutoscaler, autoscaling/v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    /// Target average CPU use, in percent of the pods' request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// Target average memory use, in percent of the pods' request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
    /// Seconds of lower recommendations before scaling down (the API's
    /// default, 300, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_after: Option<u32>,
}

impl Autoscale {
    /// Bounds in order, targets between 1 and 1000 percent, and at least one target.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.min < 1 {
            errs.0
                .push(ValidationError::new("autoscale min", "0", "must be at least 1"));
        }
        if self.max < self.min {
            errs.0.push(ValidationError::new(
                "autoscale min",
                &self.min.to_string(),
                format!("is above max {}; give a min at most the max", self.max),
            ));
        }
        if self.max > 1000 {
            errs.0.push(ValidationError::new(
                "autoscale max",
                &self.max.to_string(),
                "must be at most 1000",
            ));
        }
        for (which, v) in [("autoscale cpu", self.cpu), ("autoscale memory", self.memory)] {
            if let Some(v) = v
                && !(1..=1000).contains(&v)
            {
                errs.0.push(ValidationError::new(
                    which,
                    &v.to_string(),
                    "must be a percentage between 1 and 1000",
                ));
            }
        }
        if self.cpu.is_none() && self.memory.is_none() {
            errs.0.push(ValidationError::new(
                "autoscale",
                "",
                "needs a target: --cpu PCT or --memory PCT",
            ));
        }
        errs.into_result()
    }
}

/// Fields of the workload that overrides may not touch: kdeck owns them, and
/// changing them would orphan the app's pods or move the object.
pub const FIXED_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata.name",
    "metadata.namespace",
    "spec.selector",
    "spec.serviceName",
];

/// Checks the shape of an app's overrides: a mapping that leaves kdeck's
/// fixed fields alone.
pub fn check_overrides(v: &serde_json::Value) -> Result<(), ValidationError> {
    let Some(map) = v.as_object() else {
        return Err(ValidationError::new(
            "overrides",
            &v.to_string(),
            "must be a mapping laid over the workload, e.g. `spec: {template: {spec: {nodeSelector: {disk: ssd}}}}`",
        ));
    };
    for f in FIXED_FIELDS {
        let mut at = Some(map);
        let parts: Vec<&str> = f.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let Some(m) = at else { break };
            match m.get(*part) {
                Some(_) if i + 1 == parts.len() => {
                    return Err(ValidationError::new(
                        "overrides",
                        f,
                        "is set by kdeck and cannot be overridden; take it out of the overrides",
                    ));
                }
                Some(next) => at = next.as_object(),
                None => break,
            }
        }
    }
    Ok(())
}

fn one() -> u32 {
    1
}

impl App {
    /// A draft with defaults: one replica, no ports.
    pub fn new(app: AppRef, image: impl Into<String>) -> Self {
        Self {
            app,
            kind: WorkloadKind::Deployment,
            image: image.into(),
            replicas: 1,
            ports: Vec::new(),
            env: Vec::new(),
            mounts: Vec::new(),
            resources: Resources::default(),
            probes: Probes::default(),
            command: Vec::new(),
            args: Vec::new(),
            labels: BTreeMap::new(),
            connectors: Vec::new(),
            build: None,
            overrides: None,
            pod_labels: None,
            autoscale: None,
        }
    }

    /// Checks every field and returns all problems at once.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        errs.push(dns_label("app name", &self.app.name));
        errs.push(image("image", &self.image));
        if self.replicas > 1000 {
            errs.0.push(ValidationError::new(
                "replicas",
                &self.replicas.to_string(),
                "must be at most 1000",
            ));
        }
        let mut seen_ports = BTreeMap::new();
        for p in &self.ports {
            errs.push(port("port", u32::from(p.port)));
            if let Some(n) = &p.name {
                errs.push(port_name("port name", n));
            }
            if seen_ports.insert((p.port, p.protocol), ()).is_some() {
                errs.0
                    .push(ValidationError::new("port", &p.port.to_string(), "is listed twice"));
            }
        }
        let mut seen_env = BTreeMap::new();
        for e in &self.env {
            errs.push(env_name("env name", &e.name));
            if seen_env.insert(e.name.as_str(), ()).is_some() {
                errs.0
                    .push(ValidationError::new("env name", &e.name, "is set twice; keep one"));
            }
            match &e.source {
                EnvSource::Value(_) => {}
                EnvSource::ConfigMapKey { name, key, .. } | EnvSource::SecretKey { name, key, .. } => {
                    errs.push(dns_subdomain("env source name", name));
                    errs.push(config_key("env source key", key));
                }
            }
        }
        let mut seen_paths = BTreeMap::new();
        for m in &self.mounts {
            errs.push(dns_label("mount name", &m.name));
            errs.push(http_path("mount path", &m.path).map_err(|mut e| {
                e.problem = "must be an absolute path starting with '/'".into();
                e
            }));
            if seen_paths.insert(m.path.as_str(), ()).is_some() {
                errs.0
                    .push(ValidationError::new("mount path", &m.path, "is mounted twice"));
            }
            match &m.source {
                MountSource::VolumeClaim {
                    claim,
                    size,
                    storage_class,
                    ..
                } => {
                    if let Some(c) = claim {
                        errs.push(dns_subdomain("volume claim", c));
                    }
                    errs.push(quantity("volume size", size, QuantityKind::Storage).map(|_| ()));
                    if let Some(sc) = storage_class {
                        errs.push(dns_subdomain("storage class", sc));
                    }
                }
                MountSource::ConfigMap { name } | MountSource::Secret { name } => {
                    errs.push(dns_subdomain("mount source name", name));
                }
            }
        }
        errs.extend(self.resources.validate());
        for (which, p) in [
            ("liveness", &self.probes.liveness),
            ("readiness", &self.probes.readiness),
            ("startup", &self.probes.startup),
        ] {
            if let Some(p) = p {
                errs.extend(p.validate(which));
            }
        }
        for (k, v) in &self.labels {
            errs.push(label_key("label key", k));
            errs.push(label_value("label value", v));
        }
        for c in &self.connectors {
            errs.extend(c.validate());
        }
        if let Some(b) = &self.build {
            errs.extend(b.validate());
        }
        if let Some(o) = &self.overrides {
            errs.push(check_overrides(o));
        }
        if let Some(a) = &self.autoscale {
            errs.extend(a.validate());
        }
        errs.into_result()
    }

    /// The port routes use when they name none: the first declared.
    pub fn default_port(&self) -> Option<u16> {
        self.ports.first().map(|p| p.port)
    }
}

/// A ConfigMap or Secret key: alphanumerics, '-', '_' and '.'.
pub fn config_key(field: &str, value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 253
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value != "."
        && value != "..";
    super::validate::require(
        ok,
        field,
        value,
        "must be letters, digits, '-', '_' or '.' (at most 253)",
    )
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Protocol {
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppPort {
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvEntry {
    pub name: String,
    #[serde(flatten)]
    pub source: EnvSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvSource {
    Value(String),
    ConfigMapKey {
        name: String,
        key: String,
        #[serde(default)]
        optional: bool,
    },
    SecretKey {
        name: String,
        key: String,
        #[serde(default)]
        optional: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Volume name in the pod.
    pub name: String,
    /// Where it appears in the container.
    pub path: String,
    #[serde(default)]
    pub read_only: bool,
    pub source: MountSource,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessMode {
    #[default]
    ReadWriteOnce,
    ReadOnlyMany,
    ReadWriteMany,
    ReadWriteOncePod,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MountSource {
    /// A PersistentVolumeClaim: an existing one by name, or one kdeck creates
    /// (per pod for a StatefulSet).
    VolumeClaim {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim: Option<String>,
        size: String,
        #[serde(default)]
        access_mode: AccessMode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        storage_class: Option<String>,
    },
    ConfigMap {
        name: String,
    },
    Secret {
        name: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
}

impl Resources {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let check = |field: &str, v: &Option<String>, kind| v.as_deref().map(|v| quantity(field, v, kind));
        let cpu_req = check("cpu request", &self.cpu_request, QuantityKind::Cpu);
        let cpu_lim = check("cpu limit", &self.cpu_limit, QuantityKind::Cpu);
        let mem_req = check("memory request", &self.memory_request, QuantityKind::Memory);
        let mem_lim = check("memory limit", &self.memory_limit, QuantityKind::Memory);
        for r in [&cpu_req, &cpu_lim, &mem_req, &mem_lim].into_iter().flatten() {
            if let Err(e) = r {
                errs.0.push(e.clone());
            }
        }
        if let (Some(Ok(req)), Some(Ok(lim)), Some(l)) = (&cpu_req, &cpu_lim, &self.cpu_limit)
            && req > lim
        {
            errs.0.push(ValidationError::new(
                "cpu limit",
                l,
                "must not be below the cpu request",
            ));
        }
        if let (Some(Ok(req)), Some(Ok(lim)), Some(l)) = (&mem_req, &mem_lim, &self.memory_limit)
            && req > lim
        {
            errs.0.push(ValidationError::new(
                "memory limit",
                l,
                "must not be below the memory request",
            ));
        }
        errs.into_result()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<Probe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<Probe>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub check: ProbeCheck,
    #[serde(default)]
    pub initial_delay_seconds: u32,
    #[serde(default = "ten")]
    pub period_seconds: u32,
    #[serde(default = "one")]
    pub timeout_seconds: u32,
    #[serde(default = "three")]
    pub failure_threshold: u32,
}

fn ten() -> u32 {
    10
}
fn three() -> u32 {
    3
}

impl Probe {
    pub fn validate(&self, which: &str) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        match &self.check {
            ProbeCheck::Http { path, port: p } => {
                errs.push(http_path(&format!("{which} probe path"), path));
                errs.push(port(&format!("{which} probe port"), u32::from(*p)));
            }
            ProbeCheck::Tcp { port: p } => errs.push(port(&format!("{which} probe port"), u32::from(*p))),
            ProbeCheck::Exec { command } => {
                if command.is_empty() {
                    errs.0.push(ValidationError::new(
                        &format!("{which} probe command"),
                        "",
                        "must not be empty",
                    ));
                }
            }
        }
        for (name, v) in [
            ("period", self.period_seconds),
            ("timeout", self.timeout_seconds),
            ("failure threshold", self.failure_threshold),
        ] {
            if v == 0 {
                errs.0.push(ValidationError::new(
                    &format!("{which} probe {name}"),
                    "0",
                    "must be at least 1",
                ));
            }
        }
        errs.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeCheck {
    Http { path: String, port: u16 },
    Tcp { port: u16 },
    Exec { command: Vec<String> },
}
