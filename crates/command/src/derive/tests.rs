use super::*;
use kdeck_model::{AccessMode, AppPort, Connector, EnvEntry, Mount, Protocol};

fn app(space: &str, name: &str) -> App {
    let (c, n) = space.split_once('/').unwrap();
    let mut a = App::new(AppRef::new(SpaceRef::new(c, n), name), "ghcr.io/acme/web:1.0");
    a.ports = vec![AppPort {
        port: 8080,
        name: Some("http".into()),
        protocol: Protocol::Tcp,
    }];
    a
}

fn route(a: &App, host: &str, mode: IngressMode) -> Route {
    Route {
        app: a.app.clone(),
        host: host.into(),
        path: "/".into(),
        port: None,
        ingress: mode,
        tls_secret: None,
    }
}

fn domain(cluster: &str) -> Domain {
    Domain {
        cluster: cluster.into(),
        suffix: format!("apps.{cluster}.example.com"),
        tls_secret: Some("wildcard-tls".into()),
        ingress_class: Some("nginx".into()),
    }
}

fn inputs<'a>(a: &'a App, routes: &'a [Route], domains: &'a [Domain], b: &'a [BoundProvider]) -> Inputs<'a> {
    Inputs {
        app: a,
        routes,
        domains,
        bindings: b,
        restarted_at: None,
    }
}

#[test]
fn a_deployment_with_its_service_and_own_ingress() {
    let a = app("eu1/shop", "web");
    let d = [domain("eu1")];
    let host = default_host(&a.app, &d[0]);
    assert_eq!(host, "web-shop.apps.eu1.example.com");
    let r = [route(&a, &host, IngressMode::Own)];
    let out = derive(inputs(&a, &r, &d, &[]));
    let w = &out.workload;
    assert_eq!(w["kind"], "Deployment");
    assert_eq!(w["metadata"]["labels"][MANAGED_BY], "kdeck");
    assert_eq!(w["spec"]["selector"]["matchLabels"][NAME], "web");
    assert_eq!(w["spec"]["template"]["metadata"]["labels"][NAME], "web");
    assert_eq!(
        w["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        8080
    );
    let s = out.service.as_ref().unwrap();
    assert_eq!(s["spec"]["ports"][0]["port"], 8080);
    assert_eq!(s["spec"]["selector"][NAME], "web");
    let i = &out.ingresses[0];
    assert_eq!(i["metadata"]["name"], "web");
    assert_eq!(i["spec"]["rules"][0]["host"], host);
    assert_eq!(
        i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "web"
    );
    assert_eq!(
        i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"],
        8080
    );
    assert_eq!(i["spec"]["tls"][0]["secretName"], "wildcard-tls", "TLS from the domain");
    assert_eq!(i["spec"]["ingressClassName"], "nginx");
    assert_eq!(out.objects().len(), 3);
}

#[test]
fn a_statefulset_claims_per_pod_and_a_deployment_one_claim() {
    let mut a = app("eu1/data", "db");
    a.kind = WorkloadKind::StatefulSet;
    a.mounts = vec![Mount {
        name: "data".into(),
        path: "/var/lib/db".into(),
        read_only: false,
        source: MountSource::VolumeClaim {
            claim: None,
            size: "10Gi".into(),
            access_mode: AccessMode::ReadWriteOnce,
            storage_class: Some("fast".into()),
        },
    }];
    let out = derive(inputs(&a, &[], &[], &[]));
    let w = &out.workload;
    assert_eq!(w["kind"], "StatefulSet");
    assert_eq!(w["spec"]["serviceName"], "db");
    let t = &w["spec"]["volumeClaimTemplates"][0];
    assert_eq!(t["metadata"]["name"], "data");
    assert_eq!(t["spec"]["resources"]["requests"]["storage"], "10Gi");
    assert_eq!(t["spec"]["storageClassName"], "fast");
    assert_eq!(t["spec"]["accessModes"][0], "ReadWriteOnce");
    assert!(out.claims.is_empty());
    assert_eq!(
        w["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["mountPath"],
        "/var/lib/db"
    );

    a.kind = WorkloadKind::Deployment;
    let out = derive(inputs(&a, &[], &[], &[]));
    assert_eq!(out.claims[0]["metadata"]["name"], "db-data");
    assert_eq!(
        out.workload["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "db-data"
    );
    assert!(out.workload["spec"].get("volumeClaimTemplates").is_none());
}

#[test]
fn shared_routes_go_to_one_ingress_per_space_and_tls_can_be_overridden() {
    let web = app("eu1/shop", "web");
    let api = app("eu1/shop", "api");
    let other = app("eu1/blog", "site");
    let d = [
        domain("eu1"),
        Domain {
            cluster: "eu1".into(),
            suffix: "example.com".into(),
            tls_secret: Some("apex-tls".into()),
            ingress_class: None,
        },
    ];
    let mut own = route(&api, "api.apps.eu1.example.com", IngressMode::Own);
    own.tls_secret = Some("api-cert".into());
    let routes = vec![
        (route(&web, "shop.example.com", IngressMode::Shared), web.clone()),
        (
            Route {
                path: "/api".into(),
                ..route(&api, "shop.example.com", IngressMode::Shared)
            },
            api.clone(),
        ),
        (route(&other, "blog.example.com", IngressMode::Shared), other.clone()),
    ];
    let shared = shared_ingress(&web.app.space, &routes, &d).unwrap();
    assert_eq!(shared["metadata"]["name"], SHARED_INGRESS);
    let paths = &shared["spec"]["rules"][0]["http"]["paths"];
    assert_eq!(paths.as_array().unwrap().len(), 2, "both apps under one host");
    assert_eq!(paths[1]["backend"]["service"]["name"], "api");
    assert_eq!(
        shared["spec"]["tls"][0]["secretName"], "apex-tls",
        "the longest matching domain"
    );
    assert!(shared_ingress(&SpaceRef::new("eu1", "empty"), &routes, &d).is_none());

    let out = derive(inputs(&api, std::slice::from_ref(&own), &d, &[]));
    assert_eq!(
        out.ingresses[0]["spec"]["tls"][0]["secretName"], "api-cert",
        "the route's own certificate"
    );
    // Shared routes make no own Ingress.
    let out = derive(inputs(&web, &[routes[0].0.clone()], &d, &[]));
    assert!(out.ingresses.is_empty());
}

#[test]
fn several_own_routes_get_stable_distinct_names() {
    let a = app("eu1/shop", "web");
    let r = [
        route(&a, "a.example.com", IngressMode::Own),
        route(&a, "b.example.com", IngressMode::Own),
    ];
    let out = derive(inputs(&a, &r, &[], &[]));
    let names: Vec<&str> = out
        .ingresses
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert_ne!(names[0], names[1]);
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("web-") && n.len() == "web-".len() + 6)
    );
    assert_eq!(derive(inputs(&a, &r, &[], &[])).ingresses, out.ingresses, "stable");
    assert!(out.ingresses[0]["spec"].get("tls").is_none(), "no domain, no TLS");
}

fn db_provider(space: &str) -> App {
    let mut db = app(space, "db");
    db.ports[0].port = 5432;
    db.connectors = vec![Connector {
        name: "postgres".into(),
        values: BTreeMap::from([
            ("user".to_string(), ConnectorValue::Value("app".into())),
            (
                "password".to_string(),
                ConnectorValue::SecretKey {
                    name: "db-credentials".into(),
                    key: "password".into(),
                },
            ),
        ]),
    }];
    db
}

fn bound(consumer: &App, db: &App, routes: Vec<Route>) -> BoundProvider {
    BoundProvider {
        binding: Binding {
            consumer: consumer.app.clone(),
            provider: db.app.clone(),
            connector: "postgres".into(),
            env_prefix: None,
        },
        provider: db.clone(),
        routes,
    }
}

fn env_of(d: &Derived) -> BTreeMap<String, Value> {
    d.workload["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

#[test]
fn bindings_in_the_same_space_use_the_service_and_the_secret() {
    let web = app("eu1/shop", "web");
    let db = db_provider("eu1/shop");
    let b = [bound(&web, &db, vec![])];
    let out = derive(inputs(&web, &[], &[], &b));
    let env = env_of(&out);
    assert_eq!(env["DB_USER"]["value"], "app");
    assert_eq!(env["DB_HOST"]["value"], "db.shop.svc.cluster.local");
    assert_eq!(env["DB_PORT"]["value"], "5432");
    assert_eq!(env["DB_URL"]["value"], "http://db.shop.svc.cluster.local:5432");
    assert_eq!(
        env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"],
        "db-credentials"
    );
    assert!(out.secret_copies.is_empty());
    let services: Value = serde_json::from_str(env["KDECK_SERVICES"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(services["postgres"][0]["name"], "db");
    assert_eq!(services["postgres"][0]["credentials"]["user"], "app");
    assert!(
        services["postgres"][0]["credentials"].get("password").is_none(),
        "secrets stay out of it"
    );
}

#[test]
fn bindings_across_spaces_copy_the_secret_and_across_clusters_use_the_route() {
    let web = app("eu1/shop", "web");
    let db = db_provider("eu1/data");
    let out = derive(inputs(&web, &[], &[], &[bound(&web, &db, vec![])]));
    let env = env_of(&out);
    assert_eq!(env["DB_HOST"]["value"], "db.data.svc.cluster.local");
    let copy = &out.secret_copies[0];
    assert_eq!(copy.from, SpaceRef::new("eu1", "data"));
    assert_eq!(
        (copy.from_name.as_str(), copy.to_name.as_str()),
        ("db-credentials", "db-postgres-db-credentials")
    );
    assert_eq!(copy.keys, vec!["password".to_string()]);
    assert_eq!(
        env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"],
        "db-postgres-db-credentials"
    );

    let far = db_provider("us1/data");
    let r = route(&far, "db-data.apps.us1.example.com", IngressMode::Own);
    let out = derive(inputs(&web, &[], &[], &[bound(&web, &far, vec![r])]));
    let env = env_of(&out);
    assert_eq!(
        env["DB_HOST"]["value"], "db-data.apps.us1.example.com",
        "the external host"
    );
    assert_eq!(env["DB_PORT"]["value"], "443");
    assert_eq!(env["DB_URL"]["value"], "https://db-data.apps.us1.example.com");
}

#[test]
fn the_apps_own_env_wins_and_restarts_roll_the_template() {
    let mut web = app("eu1/shop", "web");
    web.env = vec![EnvEntry {
        name: "DB_HOST".into(),
        source: EnvSource::Value("override".into()),
    }];
    let db = db_provider("eu1/shop");
    let b = [bound(&web, &db, vec![])];
    let mut i = inputs(&web, &[], &[], &b);
    i.restarted_at = Some("2026-11-22T10:00:00Z");
    let out = derive(i);
    assert_eq!(env_of(&out)["DB_HOST"]["value"], "override");
    assert_eq!(
        out.workload["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT],
        "2026-11-22T10:00:00Z"
    );
    // No ports: no Service.
    let mut worker = app("eu1/shop", "worker");
    worker.ports.clear();
    assert!(derive(inputs(&worker, &[], &[], &[])).service.is_none());
}

#[test]
fn overrides_merge_over_the_workload_by_name_and_wrong_types_name_their_path() {
    let mut a = app("eu1/shop", "web");
    a.env = vec![EnvEntry {
        name: "MODE".into(),
        source: EnvSource::Value("a".into()),
    }];
    a.overrides = Some(json!({
        "metadata": {"annotations": {"team": "shop"}},
        "spec": {"template": {"spec": {
            "nodeSelector": {"disk": "ssd"},
            "containers": [
                {"name": "web", "env": [{"name": "EXTRA", "value": "1"}], "securityContext": {"runAsNonRoot": true}},
                {"name": "proxy", "image": "envoy:1.30"}
            ]
        }}}
    }));
    assert!(a.validate().is_ok());
    assert_eq!(check_workload(&a), Ok(()));
    let w = derive(inputs(&a, &[], &[], &[])).workload;
    let pod = &w["spec"]["template"]["spec"];
    assert_eq!(pod["nodeSelector"]["disk"], "ssd");
    assert_eq!(
        pod["containers"][0]["image"], "ghcr.io/acme/web:1.0",
        "kdeck's fields stay"
    );
    assert_eq!(pod["containers"][0]["env"][0]["name"], "MODE");
    assert_eq!(pod["containers"][0]["env"][1]["name"], "EXTRA", "env merges by name");
    assert_eq!(pod["containers"][0]["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["containers"][1]["name"], "proxy", "a sidecar is added");
    assert_eq!(w["metadata"]["annotations"]["team"], "shop");
    assert_eq!(w["metadata"]["labels"][NAME], "web");

    a.overrides = Some(json!({"spec": {"selector": {"matchLabels": {"x": "y"}}}}));
    let e = a.validate().unwrap_err().to_string();
    assert!(e.contains("spec.selector") && e.contains("cannot be overridden"), "{e}");
    a.overrides = Some(json!(["not", "a", "mapping"]));
    assert!(a.validate().unwrap_err().to_string().contains("must be a mapping"));

    a.overrides = Some(json!({"spec": {"minReadySeconds": 5, "replicas": "three"}}));
    let e = check_workload(&a).unwrap_err().to_string();
    assert!(e.starts_with("overrides spec.replicas: invalid type: string"), "{e}");
}
