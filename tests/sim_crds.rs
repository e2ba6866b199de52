//! CustomResourceDefinitions as a real cluster serves them, with the real
//! kubectl (1.27 and 1.33): a definition becomes Established and makes its
//! kind served (discovery, short names, create, get with the definition's
//! printer columns, merge patch, apply); a strategic merge patch is refused
//! as for any custom resource; a definition that breaks the rules is
//! refused naming the field; objects are checked against the definition's
//! schema (types, unknown fields) and `kubectl explain` reads it; deleting
//! the definition takes its objects and the kind with it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Setup, kubectls, succeeds as ok};

const CTX: &str = "prod-eu1";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/crd");

#[test]
fn a_definition_makes_its_kind_served_until_it_is_deleted() {
    let s = Setup::new();
    let crd = format!("{FIXTURES}/crontab-crd.yaml");
    let cr = format!("{FIXTURES}/crontab.yaml");
    for (version, bin) in kubectls() {
        let k = |args: &[&str]| s.kubectl_at(&bin, CTX, args);
        ok(k(&["apply", "-f", &crd]));
        ok(k(&[
            "wait",
            "--for=condition=established",
            "crd/crontabs.stable.example.com",
            "--timeout=10s",
        ]));
        let names = ok(k(&["api-resources", "--api-group=stable.example.com"]));
        assert!(
            names.contains("crontabs") && names.contains("ct") && names.contains("CronTab"),
            "{version}: {names}"
        );
        ok(k(&["apply", "-f", &cr]));
        let out = ok(k(&["-n", "shop-prod", "get", "ct"]));
        let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(
            header,
            ["NAME", "SPEC", "REPLICAS", "AGE"],
            "{version}: the definition's columns: {out}"
        );
        let row: Vec<&str> = out
            .lines()
            .nth(1)
            .unwrap()
            .split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            &row[..3],
            ["my-new-cron-object", "* * * * */5", "2"],
            "{version}: {out}"
        );

        ok(k(&[
            "-n",
            "shop-prod",
            "patch",
            "crontab",
            "my-new-cron-object",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":3}}"#,
        ]));
        let replicas = ok(k(&[
            "-n",
            "shop-prod",
            "get",
            "crontab",
            "my-new-cron-object",
            "-o",
            "jsonpath={.spec.replicas}",
        ]));
        assert_eq!(replicas, "3", "{version}");
        let out = k(&[
            "-n",
            "shop-prod",
            "patch",
            "crontab",
            "my-new-cron-object",
            "--type=strategic",
            "-p",
            r#"{"spec":{"replicas":4}}"#,
        ]);
        assert!(
            !out.status.success(),
            "{version}: a strategic merge patch of a custom resource is refused"
        );
        let all = ok(k(&["get", "crontabs", "-A", "-o", "name"]));
        assert_eq!(all.trim(), "crontab.stable.example.com/my-new-cron-object", "{version}");

        // The definition's schema: explain, types, unknown fields.
        let out = ok(k(&["explain", "crontab.spec"]));
        assert!(
            out.contains("KIND:       CronTab") && out.contains("replicas\t<integer>"),
            "{version}: {out}"
        );
        let wrong = s.dir.path().join(format!("wrong-{version}.yaml"));
        let text = std::fs::read_to_string(&cr).unwrap();
        std::fs::write(&wrong, text.replace("replicas: 2", "replicas: two")).unwrap();
        let out = k(&["apply", "-f", wrong.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(
                r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#
            ),
            "{version}: {err}"
        );
        let extra = s.dir.path().join(format!("extra-{version}.yaml"));
        std::fs::write(
            &extra,
            text.replace("name: my-new-cron-object", "name: extra")
                .replace("replicas: 2", "replicas: 2\n  colour: blue"),
        )
        .unwrap();
        let out = k(&["create", "-f", extra.to_str().unwrap()]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(r#"strict decoding error: unknown field "spec.colour""#),
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = k(&["create", "-f", extra.to_str().unwrap(), "--validate=warn"]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(r#"Warning: unknown field "spec.colour""#),
            "{version}"
        );
        let spec = ok(k(&[
            "-n",
            "shop-prod",
            "get",
            "crontab",
            "extra",
            "-o",
            "jsonpath={.spec}",
        ]));
        assert!(!spec.contains("colour"), "{version}: pruned: {spec}");

        ok(k(&["delete", "crd", "crontabs.stable.example.com"]));
        let out = s.kubectl(
            CTX,
            &[
                "get",
                "--raw",
                "/apis/stable.example.com/v1/namespaces/shop-prod/crontabs",
            ],
        );
        assert!(!out.status.success(), "{version}: the kind is no longer served");
        let groups = ok(s.kubectl(CTX, &["api-versions"]));
        assert!(!groups.contains("stable.example.com"), "{version}: {groups}");
    }
    // A definition whose name is not plural.group is refused, naming the field.
    let bad = s.dir.path().join("bad-crd.yaml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&crd)
            .unwrap()
            .replace("name: crontabs.stable.example.com", "name: crontab.example.com"),
    )
    .unwrap();
    let out = s.kubectl(CTX, &["apply", "-f", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            r#"metadata.name: Invalid value: "crontab.example.com": must be spec.names.plural+"."+spec.group"#
        ),
        "{err}"
    );
}
