//! OpenAPI v3 as a real API server serves it: `kubectl explain` (1.27 and
//! 1.33) describes kinds and fields of the core group, named groups and
//! nested types, with the API's descriptions and types.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Setup, kubectls};

const CTX: &str = "prod-eu1";

#[test]
fn kubectl_explain_describes_kinds_and_fields() {
    let s = Setup::new();
    for (version, bin) in kubectls() {
        let explain = |what: &[&str]| {
            let mut args = vec!["explain"];
            args.extend_from_slice(what);
            let out = s.kubectl_at(&bin, CTX, &args);
            assert!(
                out.status.success(),
                "{version} explain {what:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let out = explain(&["deployment.spec.replicas"]);
        assert!(
            out.contains("KIND:       Deployment") && out.contains("FIELD: replicas <integer>"),
            "{version}: {out}"
        );
        assert!(out.contains("Number of desired pods"), "{version}: {out}");

        let out = explain(&["pods.spec.containers"]);
        assert!(out.contains("<[]Container>"), "{version}: {out}");
        assert!(
            out.contains("image\t<string>") && out.contains("resources\t<ResourceRequirements>"),
            "{version}: {out}"
        );
        // Embedded Go structs are fields of their parent, as in JSON.
        let out = explain(&["pods.spec.volumes"]);
        assert!(out.contains("emptyDir\t<EmptyDirVolumeSource>"), "{version}: {out}");
        let out = explain(&["ingress.spec.rules"]);
        assert!(out.contains("http\t<HTTPIngressRuleValue>"), "{version}: {out}");
        let out = explain(&["configmap"]);
        assert!(out.contains("data\t<map[string]string>"), "{version}: {out}");
        let out = explain(&["jobs.spec.template.spec.restartPolicy"]);
        assert!(
            out.contains("GROUP:      batch") && out.contains("restartPolicy <string>"),
            "{version}: {out}"
        );
        let out = s.kubectl_at(&bin, CTX, &["explain", "deployment.spec.replicaz"]);
        assert!(
            !out.status.success(),
            "{version}: a field that is not there is an error"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("replicaz"), "{version}");
    }
}
