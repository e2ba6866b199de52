use std::collections::BTreeMap;

use super::app::Protocol;
use super::*;

fn space() -> SpaceRef {
    SpaceRef::new("eu1", "shop")
}

pub(crate) use crate::sample::full_app;

#[test]
fn space_refs_parse_and_print() {
    let s: SpaceRef = "eu1/shop".parse().unwrap();
    assert_eq!(s, space());
    assert_eq!(s.to_string(), "eu1/shop");
    let e = "shop".parse::<SpaceRef>().unwrap_err();
    assert!(e.problem.contains("CLUSTER/NAMESPACE"), "{e}");
    assert!(
        "eu1/shop/web"
            .parse::<SpaceRef>()
            .unwrap_err()
            .problem
            .contains("exactly one")
    );
    let e = "eu1/Shop".parse::<SpaceRef>().unwrap_err();
    assert_eq!(e.field, "space namespace");
    assert_eq!(e.suggestion.as_deref(), Some("shop"));
    let a: AppRef = "eu1/shop/web".parse().unwrap();
    assert_eq!(a, AppRef::new(space(), "web"));
    assert_eq!(a.to_string(), "eu1/shop/web");
    assert!("eu1/web".parse::<AppRef>().is_err());
    assert!("web".parse::<AppRef>().is_err());
    assert_eq!("eu1/shop/Web".parse::<AppRef>().unwrap_err().field, "app app name");
}

#[test]
fn a_full_app_is_valid_and_round_trips() {
    let app = full_app();
    app.validate().unwrap();
    let json = serde_json::to_string(&app).unwrap();
    assert_eq!(serde_json::from_str::<App>(&json).unwrap(), app);
    let yaml = serde_saphyr::to_string(&app).unwrap();
    assert_eq!(serde_saphyr::from_str::<App>(&yaml).unwrap(), app);
    assert_eq!(app.default_port(), Some(8080));
}

#[test]
fn app_validation_reports_every_bad_field() {
    let mut app = full_app();
    app.app.name = "Web App".into();
    app.image = "ghcr.io/Acme/web".into();
    app.replicas = 5000;
    app.ports.push(AppPort {
        port: 8080,
        name: Some("HTTP2".into()),
        protocol: Protocol::Tcp,
    });
    app.env.push(EnvEntry {
        name: "LOG_LEVEL".into(),
        source: EnvSource::Value("debug".into()),
    });
    app.env.push(EnvEntry {
        name: "1X".into(),
        source: EnvSource::Value(String::new()),
    });
    app.mounts.push(Mount {
        name: "x".into(),
        path: "relative".into(),
        read_only: false,
        source: MountSource::Secret { name: "s".into() },
    });
    app.resources.cpu_request = Some("2".into());
    app.resources.memory_limit = Some("512mb".into());
    app.probes.liveness = Some(Probe {
        check: ProbeCheck::Http {
            path: "healthz".into(),
            port: 0,
        },
        initial_delay_seconds: 0,
        period_seconds: 0,
        timeout_seconds: 1,
        failure_threshold: 3,
    });
    let errs = app.validate().unwrap_err();
    let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "app name",
        "image",
        "replicas",
        "port",
        "port name",
        "env name",
        "mount path",
        "cpu limit",
        "memory limit",
        "liveness probe path",
        "liveness probe port",
        "liveness probe period",
    ] {
        assert!(fields.contains(&f), "missing {f} in {fields:?}");
    }
    assert_eq!(errs.for_field("env name").count(), 2, "duplicate and invalid env names");
    let mem = errs.for_field("memory limit").next().unwrap();
    assert_eq!(mem.suggestion.as_deref(), Some("512Mi"));
}

#[test]
fn routes_domains_bindings_validate() {
    let app = AppRef::new(space(), "web");
    let mut r = Route {
        app: app.clone(),
        host: "shop.apps.eu1.example.com".into(),
        path: "/".into(),
        port: None,
        ingress: IngressMode::Own,
        tls_secret: None,
    };
    r.validate().unwrap();
    assert_eq!(r.to_string(), "shop.apps.eu1.example.com -> eu1/shop/web");
    assert_eq!(r.key(), "eu1/shop.apps.eu1.example.com/");
    r.path = "/api".into();
    r.port = Some(9090);
    assert_eq!(r.to_string(), "shop.apps.eu1.example.com/api -> eu1/shop/web:9090");
    r.host = "shop.example.com:443".into();
    r.path = "api".into();
    let errs = r.validate().unwrap_err();
    assert_eq!(errs.0.len(), 2, "{errs}");

    let d = Domain {
        cluster: "eu1".into(),
        suffix: "apps.eu1.example.com".into(),
        tls_secret: Some("wildcard-tls".into()),
        ingress_class: Some("nginx".into()),
    };
    d.validate().unwrap();
    let d2 = Domain {
        suffix: "*.apps.example.com".into(),
        ..d.clone()
    };
    assert_eq!(
        d2.validate().unwrap_err().0[0].suggestion.as_deref(),
        Some("apps.example.com")
    );

    let other = AppRef::new(SpaceRef::new("us1", "data"), "postgres");
    let b = Binding {
        consumer: app.clone(),
        provider: other.clone(),
        connector: "primary".into(),
        env_prefix: None,
    };
    b.validate().unwrap();
    assert_eq!(b.prefix(), "POSTGRES");
    let self_bind = Binding {
        provider: app.clone(),
        ..b.clone()
    };
    assert!(self_bind.validate().unwrap_err().to_string().contains("itself"));
    let bad_prefix = Binding {
        env_prefix: Some("1DB".into()),
        ..b
    };
    assert_eq!(bad_prefix.validate().unwrap_err().0[0].field, "env prefix");
}

#[test]
fn builds_solutions_catalogs_roles() {
    let b = full_app().build.unwrap();
    b.validate().unwrap();
    let bad = BuildSettings {
        git_url: "github.com/x".into(),
        revision: "my branch".into(),
        registry: "Bad Registry".into(),
        ..b
    };
    assert_eq!(bad.validate().unwrap_err().0.len(), 3);

    let s = Solution {
        name: "postgres".into(),
        description: "PostgreSQL".into(),
        source: SolutionSource::HelmChart {
            catalog: "bitnami".into(),
            chart: "postgresql".into(),
            version: "15.5.0".into(),
            values: BTreeMap::new(),
        },
    };
    s.validate().unwrap();
    let t = Solution {
        name: "web-template".into(),
        description: String::new(),
        source: SolutionSource::AppTemplate {
            app: Box::new(full_app()),
        },
    };
    t.validate().unwrap();
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(serde_json::from_str::<Solution>(&json).unwrap(), t);

    Catalog {
        name: "bitnami".into(),
        url: "https://charts.bitnami.com/bitnami".into(),
        fetched_at: None,
        charts: Vec::new(),
    }
    .validate()
    .unwrap();
    assert!(
        Catalog {
            name: "x".into(),
            url: "charts.example.com".into(),
            fetched_at: None,
            charts: Vec::new(),
        }
        .validate()
        .is_err()
    );

    assert_eq!(Role::Manager.cluster_role(), "admin");
    assert_eq!(Role::Developer.cluster_role(), "edit");
    assert_eq!(Role::Auditor.cluster_role(), "view");
    let g = RoleGrant {
        space: space(),
        subject_kind: SubjectKind::User,
        subject: "Alice@Example.com".into(),
        role: Role::Developer,
    };
    g.validate().unwrap();
    assert_eq!(g.binding_name(), "kdeck-edit-alice-example-com");
    let sa = RoleGrant {
        subject_kind: SubjectKind::ServiceAccount,
        subject: "CI Bot".into(),
        ..g
    };
    assert!(sa.validate().is_err());
}
