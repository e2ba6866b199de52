use super::*;

fn ok(r: Result<(), ValidationError>) {
    if let Err(e) = r {
        panic!("expected valid, got: {e}");
    }
}

fn bad(r: Result<(), ValidationError>) -> ValidationError {
    match r {
        Ok(()) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn dns_labels() {
    for good in ["a", "shop", "shop-prod", "a1", "0abc", &"x".repeat(63)] {
        ok(dns_label("name", good));
    }
    let e = bad(dns_label("app name", "My_App"));
    assert_eq!(e.field, "app name");
    assert!(e.problem.contains("upper-case"), "{e}");
    assert_eq!(e.suggestion.as_deref(), Some("my-app"));
    assert!(
        e.to_string()
            .starts_with("app name \"My_App\": must be a DNS-1123 label"),
        "{e}"
    );
    assert!(bad(dns_label("n", "")).problem.contains("empty"));
    assert!(bad(dns_label("n", "-a")).problem.contains("start and end"));
    assert!(bad(dns_label("n", "a-")).problem.contains("start and end"));
    assert!(bad(dns_label("n", "a.b")).problem.contains("'.'"));
    assert!(bad(dns_label("n", &"x".repeat(64))).problem.contains("64 characters"));
    assert_eq!(
        bad(dns_label("n", "shop prod")).suggestion.as_deref(),
        Some("shop-prod")
    );
}

#[test]
fn to_dns_label_cleans_any_text() {
    assert_eq!(to_dns_label("Hello World!"), "hello-world");
    assert_eq!(to_dns_label("--a__b--"), "a-b");
    assert_eq!(to_dns_label("ÄÖ"), "");
    assert_eq!(to_dns_label(&"ab".repeat(40)).len(), 63);
}

#[test]
fn dns_subdomains() {
    for good in [
        "a",
        "a.b",
        "my-config.v1",
        "x.y.z-1",
        &format!("{}.{}", "a".repeat(63), "b".repeat(63)),
    ] {
        ok(dns_subdomain("name", good));
    }
    assert!(bad(dns_subdomain("n", "a..b")).problem.contains("empty part"));
    assert!(bad(dns_subdomain("n", ".a")).problem.contains("empty part"));
    assert!(bad(dns_subdomain("n", "a.-b")).problem.contains("\"-b\""));
    assert!(bad(dns_subdomain("n", &"a.".repeat(127))).problem.contains("254"));
    assert_eq!(
        bad(dns_subdomain("n", "My.Config")).suggestion.as_deref(),
        Some("my.config")
    );
}

#[test]
fn hosts() {
    for good in ["shop.example.com", "*.apps.example.com", "a-b.c", "x1.eu1.example.io"] {
        ok(host("route host", good));
    }
    let e = bad(host("route host", "https://shop.example.com/x"));
    assert!(e.problem.contains("URL"));
    assert_eq!(e.suggestion.as_deref(), Some("shop.example.com"));
    let e = bad(host("route host", "shop.example.com:8080"));
    assert!(e.problem.contains("port"));
    assert_eq!(e.suggestion.as_deref(), Some("shop.example.com"));
    assert!(bad(host("h", "shop.example.com/api")).problem.contains("path"));
    assert!(bad(host("h", "10.0.0.1")).problem.contains("IP address"));
    assert!(bad(host("h", "a.*.example.com")).problem.contains("'*'"));
    assert!(bad(host("h", "localhost")).problem.contains("dot"));
    let e = bad(host("h", "Shop.Example.com"));
    assert!(e.problem.starts_with("must be a DNS name"), "{e}");
    assert_eq!(e.suggestion.as_deref(), Some("shop.example.com"));
    assert!(bad(host("h", "")).problem.contains("empty"));
}

#[test]
fn http_paths() {
    for good in ["/", "/api", "/api/v1/", "/a-b_c.d~e"] {
        ok(http_path("path", good));
    }
    let e = bad(http_path("path", "api"));
    assert_eq!(e.suggestion.as_deref(), Some("/api"));
    assert!(bad(http_path("path", "/a b")).problem.contains("' '"));
    assert!(bad(http_path("path", "/a?b=1")).problem.contains("'?'"));
}

#[test]
fn ports() {
    ok(port("port", 1));
    ok(port("port", 8080));
    ok(port("port", 65535));
    assert!(bad(port("port", 0)).problem.contains("1 to 65535"));
    assert!(bad(port("port", 65536)).problem.contains("1 to 65535"));
    assert_eq!(parse_port("port", " 443 ").ok(), Some(443));
    let e = parse_port("port", "http").err().unwrap();
    assert_eq!(e.value, "http");
    assert!(parse_port("port", "70000").is_err());
    assert!(parse_port("port", "-1").is_err());
}

#[test]
fn port_names() {
    for good in ["http", "web-8080", "a", "h2c", "abcdefghijklmno"] {
        ok(port_name("port name", good));
    }
    assert!(bad(port_name("p", "abcdefghijklmnop")).problem.contains("15"));
    assert!(bad(port_name("p", "8080")).problem.contains("letter"));
    assert!(bad(port_name("p", "a--b")).problem.contains("'--'"));
    assert!(bad(port_name("p", "-a")).problem.contains("start and end"));
    let e = bad(port_name("p", "HTTP"));
    assert!(e.problem.contains("lower-case"));
    assert_eq!(e.suggestion.as_deref(), Some("http"));
    assert!(bad(port_name("p", "")).problem.contains("empty"));
}

#[test]
fn env_names() {
    for good in ["PATH", "my_var", "_x", "A1", "a.b-c", "-dash"] {
        ok(env_name("env name", good));
    }
    let e = bad(env_name("env name", "1ABC"));
    assert_eq!(e.suggestion.as_deref(), Some("_1ABC"));
    let e = bad(env_name("env name", "DB URL"));
    assert_eq!(e.suggestion.as_deref(), Some("DB_URL"));
    assert!(bad(env_name("env name", "A=B")).problem.contains("'='"));
    assert!(bad(env_name("env name", "")).problem.contains("empty"));
}

#[test]
fn images() {
    for good in [
        "nginx",
        "nginx:1.27",
        "library/nginx:latest",
        "ghcr.io/org/app:v1.2.3",
        "localhost:5000/app",
        "registry.example.com:443/team/app_x:2024.01-rc1",
        "Registry.Example.com/team/app",
        "quay.io/a/b/c/d",
        "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "ghcr.io/o/a:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "my__app",
        "a.b-c",
    ] {
        ok(image("image", good));
    }
    assert!(bad(image("image", "")).problem.contains("empty"));
    assert!(bad(image("image", "nginx latest")).problem.contains("spaces"));
    assert!(bad(image("image", "https://ghcr.io/app")).problem.contains("URL"));
    let e = bad(image("image", "ghcr.io/Org/App:v1"));
    assert!(e.problem.contains("lower case"));
    assert_eq!(e.suggestion.as_deref(), Some("ghcr.io/org/app:v1"));
    assert!(bad(image("image", "nginx:")).problem.contains("tag"));
    assert!(bad(image("image", "nginx:-x")).problem.contains("tag"));
    assert!(
        bad(image("image", &format!("nginx:{}", "a".repeat(129))))
            .problem
            .contains("tag")
    );
    assert!(bad(image("image", "app@sha256:abc")).problem.contains("digest"));
    assert!(bad(image("image", "app@nodigest")).problem.contains("digest"));
    assert!(bad(image("image", "ghcr.io//app")).problem.contains("empty path"));
    assert!(bad(image("image", "ghcr.io/app/")).problem.contains("empty path"));
    assert!(bad(image("image", "reg.io:99999/app")).problem.contains("port"));
    assert!(bad(image("image", "-app")).problem.contains("repository path"));
    assert!(bad(image("image", "a..b")).problem.contains("repository path"));
}

#[test]
fn cpu_quantities() {
    let cpu = |s| quantity("cpu", s, QuantityKind::Cpu);
    assert_eq!(cpu("1").unwrap(), 1000);
    assert_eq!(cpu("0.5").unwrap(), 500);
    assert_eq!(cpu("500m").unwrap(), 500);
    assert_eq!(cpu("2.25").unwrap(), 2250);
    assert_eq!(cpu("+1").unwrap(), 1000);
    assert_eq!(cpu(".1").unwrap(), 100);
    assert_eq!(cpu("1e3").unwrap(), 1_000_000);
    assert_eq!(cpu("1000000n").unwrap(), 1);
    assert_eq!(cpu("0").unwrap(), 0);
    assert!(cpu("0.0005").unwrap_err().problem.contains("finer than 1m"));
    assert!(cpu("-1").unwrap_err().problem.contains("negative"));
    assert!(cpu("").unwrap_err().problem.contains("empty"));
    assert!(cpu("m").unwrap_err().problem.contains("number"));
    assert!(cpu("1.2.3").unwrap_err().problem.contains("number"));
    let e = cpu("2cores").unwrap_err();
    assert!(
        e.problem.contains("not a Kubernetes unit") && e.problem.contains("millicores"),
        "{e}"
    );
    assert_eq!(e.suggestion, None);
}

#[test]
fn memory_quantities() {
    let mem = |s| quantity("memory", s, QuantityKind::Memory);
    assert_eq!(mem("512Mi").unwrap(), 512 << 20);
    assert_eq!(mem("1Gi").unwrap(), 1 << 30);
    assert_eq!(mem("1.5Gi").unwrap(), 3 << 29);
    assert_eq!(mem("128974848").unwrap(), 128_974_848);
    assert_eq!(mem("129e6").unwrap(), 129_000_000);
    assert_eq!(mem("129M").unwrap(), 129_000_000);
    assert_eq!(mem("1k").unwrap(), 1000);
    assert_eq!(mem("1Ki").unwrap(), 1024);
    assert_eq!(mem("2Ti").unwrap(), 2 << 40);
    assert_eq!(mem("1E").unwrap(), 1_000_000_000_000_000_000);
    let e = mem("512mb").unwrap_err();
    assert_eq!(e.suggestion.as_deref(), Some("512Mi"));
    assert!(e.to_string().contains("Mi"), "{e}");
    assert_eq!(mem("2GB").unwrap_err().suggestion.as_deref(), Some("2Gi"));
    assert!(mem("0.5").unwrap_err().problem.contains("whole number of bytes"));
    assert!(mem("100Ei").unwrap_err().problem.contains("too large"));
    assert!(mem("1e99").unwrap_err().problem.contains("out of range"));
    assert_eq!(quantity("size", "10Gi", QuantityKind::Storage).unwrap(), 10 << 30);
}

#[test]
fn label_keys_and_values() {
    for good in ["app", "app.kubernetes.io/name", "example.com/x_y.z", "A-1"] {
        ok(label_key("label key", good));
    }
    assert!(bad(label_key("k", "Bad_Prefix!/x")).problem.contains("prefix"));
    assert!(bad(label_key("k", "example.com/")).problem.contains("empty"));
    assert!(bad(label_key("k", "-x")).problem.contains("start"));
    for good in ["", "v1", "a.b_c-d", &"x".repeat(63)] {
        ok(label_value("label value", good));
    }
    assert!(label_value("v", &"x".repeat(64)).is_err());
    assert!(label_value("v", "a b").is_err());
    assert!(label_value("v", "_a").is_err());
}

#[test]
fn git_urls() {
    for good in [
        "https://github.com/org/repo.git",
        "git@github.com:org/repo.git",
        "ssh://git@host/repo",
        "git://h/r",
    ] {
        ok(git_url("git url", good));
    }
    for wrong in ["github.com/org/repo", "", "https://", "git@host", "https://a b"] {
        assert!(git_url("git url", wrong).is_err(), "{wrong}");
    }
}

#[test]
fn errors_collect_and_filter_by_field() {
    let mut errs = ValidationErrors::default();
    errs.push(dns_label("app name", "A"));
    errs.push(port("port", 0));
    errs.push(port("port", 80));
    assert_eq!(errs.0.len(), 2);
    assert_eq!(errs.for_field("port").count(), 1);
    let text = errs.to_string();
    assert!(text.contains("app name") && text.contains("; port"), "{text}");
    assert!(ValidationErrors::default().into_result().is_ok());
}
