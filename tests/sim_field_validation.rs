//! Server-side field validation as a real API server does it, with the real
//! kubectl (1.27 and 1.33): a field the kind does not have (`spec.replicaz`)
//! fails the write under kubectl's default (Strict) with the strict decoding
//! error naming every unknown field, and is dropped with a warning under
//! `--validate=warn`; a well-formed manifest is untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Setup, kubectls};

const CTX: &str = "prod-eu1";

const TYPO: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
  namespace: shop-prod
spec:
  replicaz: 3
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      containers:
      - name: c
        image: nginx
        imagePullPolicyy: Always
        resources: {limits: {cpu: 100m}}
";

#[test]
fn unknown_fields_fail_strict_and_warn_under_warn() {
    let s = Setup::new();
    for (version, bin) in kubectls() {
        let name = format!("typo-{}", version.replace('.', "-"));
        let file = s.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, TYPO.replace("NAME", &name)).unwrap();
        let f = file.to_str().unwrap();
        for verb in ["create", "apply"] {
            let out = s.kubectl_at(&bin, CTX, &[verb, "-f", f]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{version} {verb}: refused");
            assert!(
                err.contains(r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz", unknown field "spec.template.spec.containers[0].imagePullPolicyy""#),
                "{version} {verb}: {err}"
            );
        }
        assert!(
            !s.kubectl(CTX, &["-n", "shop-prod", "get", "deployment", &name])
                .status
                .success(),
            "nothing stored"
        );

        let out = s.kubectl_at(&bin, CTX, &["create", "-f", f, "--validate=warn"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{version}: {err}");
        assert!(
            err.contains(r#"Warning: unknown field "spec.replicaz""#)
                && err.contains(r#"Warning: unknown field "spec.template.spec.containers[0].imagePullPolicyy""#),
            "{version}: {err}"
        );
        let spec = s.jsonpath(CTX, "shop-prod", &format!("deployment/{name}"), "{.spec}");
        assert!(
            !spec.contains("replicaz") && !spec.contains("imagePullPolicyy"),
            "{version}: dropped: {spec}"
        );
        assert!(spec.contains(r#""cpu":"100m""#), "{version}: known fields kept: {spec}");

        // kubectl patch asks for no validation: the server's default, Warn,
        // drops the field and says so. Strategic merge directives are not fields.
        let out = s.kubectl_at(
            &bin,
            CTX,
            &[
                "-n",
                "shop-prod",
                "patch",
                "deployment",
                &name,
                "-p",
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","imagez":"x"}]}}}}"#,
            ],
        );
        assert!(out.status.success(), "{version}");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains(r#"Warning: unknown field "spec.template.spec.containers[0].imagez""#),
            "{version}"
        );
        let out = s.kubectl_at(
            &bin,
            CTX,
            &["-n", "shop-prod", "patch", "deployment", &name, "-p", r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"name":"c","image":"nginx:1.27"}]}}}}"#],
        );
        assert!(
            out.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
