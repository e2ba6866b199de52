//! A valid app that uses every field, for tests here and in the layers above
//! (enabled there by the `sample` feature).

use std::collections::BTreeMap;

use crate::app::{AccessMode, Protocol};
use crate::*;

fn space() -> SpaceRef {
    SpaceRef::new("eu1", "shop")
}

/// An app that uses every field, valid.
pub fn full_app() -> App {
    let mut app = App::new(AppRef::new(space(), "web"), "ghcr.io/acme/web:1.4.2");
    app.replicas = 3;
    app.ports = vec![
        AppPort {
            port: 8080,
            name: Some("http".into()),
            protocol: Protocol::Tcp,
        },
        AppPort {
            port: 9090,
            name: Some("metrics".into()),
            protocol: Protocol::Tcp,
        },
    ];
    app.env = vec![
        EnvEntry {
            name: "LOG_LEVEL".into(),
            source: EnvSource::Value("info".into()),
        },
        EnvEntry {
            name: "FEATURES".into(),
            source: EnvSource::ConfigMapKey {
                name: "web-config".into(),
                key: "features.json".into(),
                optional: true,
            },
        },
        EnvEntry {
            name: "DB_PASSWORD".into(),
            source: EnvSource::SecretKey {
                name: "db".into(),
                key: "password".into(),
                optional: false,
            },
        },
    ];
    app.mounts = vec![
        Mount {
            name: "data".into(),
            path: "/var/lib/web".into(),
            read_only: false,
            source: MountSource::VolumeClaim {
                claim: None,
                size: "10Gi".into(),
                access_mode: AccessMode::ReadWriteOnce,
                storage_class: Some("fast-ssd".into()),
            },
        },
        Mount {
            name: "conf".into(),
            path: "/etc/web".into(),
            read_only: true,
            source: MountSource::ConfigMap {
                name: "web-config".into(),
            },
        },
        Mount {
            name: "tls".into(),
            path: "/etc/tls".into(),
            read_only: true,
            source: MountSource::Secret { name: "web-tls".into() },
        },
    ];
    app.resources = Resources {
        cpu_request: Some("250m".into()),
        cpu_limit: Some("1".into()),
        memory_request: Some("256Mi".into()),
        memory_limit: Some("512Mi".into()),
    };
    app.probes = Probes {
        liveness: Some(Probe {
            check: ProbeCheck::Http {
                path: "/healthz".into(),
                port: 8080,
            },
            initial_delay_seconds: 5,
            period_seconds: 10,
            timeout_seconds: 1,
            failure_threshold: 3,
        }),
        readiness: Some(Probe {
            check: ProbeCheck::Tcp { port: 8080 },
            initial_delay_seconds: 0,
            period_seconds: 5,
            timeout_seconds: 1,
            failure_threshold: 3,
        }),
        startup: Some(Probe {
            check: ProbeCheck::Exec {
                command: vec!["cat".into(), "/tmp/ready".into()],
            },
            initial_delay_seconds: 0,
            period_seconds: 2,
            timeout_seconds: 1,
            failure_threshold: 30,
        }),
    };
    app.command = vec!["/bin/web".into()];
    app.args = vec!["--listen=:8080".into()];
    app.labels = BTreeMap::from([("tier".into(), "frontend".into())]);
    app.connectors = vec![Connector {
        name: "http".into(),
        values: BTreeMap::from([
            ("URL".into(), ConnectorValue::Value("http://web.shop.svc:8080".into())),
            (
                "TOKEN".into(),
                ConnectorValue::SecretKey {
                    name: "web-api".into(),
                    key: "token".into(),
                },
            ),
        ]),
    }];
    app.build = Some(BuildSettings {
        git_url: "https://github.com/acme/web.git".into(),
        revision: "main".into(),
        context_dir: None,
        registry: "registry.example.com/acme".into(),
        image: None,
        dockerfile: None,
        git_secret: None,
        registry_secret: Some("web-registry".into()),
    });
    app
}
