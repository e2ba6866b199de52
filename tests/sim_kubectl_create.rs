//! kubectl's typed `create` commands against the simulator. kubectl 1.32
//! and later send these bodies as protobuf (`application/vnd.kubernetes.
//! protobuf`), 1.27 as JSON: with both, each object is created and stored
//! as the command meant it, read back field by field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Setup, kubectls};

const CTX: &str = "prod-eu1";

#[test]
fn typed_creates_store_what_the_command_meant_with_old_and_new_kubectl() {
    let s = Setup::new();
    for (version, bin) in kubectls() {
        let ns = format!("typed-{}", version.replace('.', "-"));
        let run = |args: &[&str]| {
            let mut all = vec!["-n", ns.as_str(), "create"];
            all.extend_from_slice(args);
            let out = s.kubectl_at(&bin, CTX, &all);
            assert!(
                out.status.success(),
                "kubectl {version} create {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let get = |what: &str, path: &str| {
            let out = s.kubectl(CTX, &["-n", &ns, "get", what, "-o", &format!("jsonpath={path}")]);
            assert!(
                out.status.success(),
                "get {what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let out = s.kubectl_at(&bin, CTX, &["create", "namespace", &ns]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

        run(&["deployment", "web", "--image=nginx:1.27", "--port=80", "--replicas=2"]);
        assert_eq!(get("deployment/web", "{.spec.replicas}"), "2", "{version}");
        assert_eq!(get("deployment/web", "{.spec.selector.matchLabels.app}"), "web");
        assert_eq!(
            get(
                "deployment/web",
                "{.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}"
            ),
            "nginx:1.27 80",
            "{version}"
        );
        run(&["deployment", "idle", "--image=nginx", "--replicas=0"]);
        assert_eq!(
            get("deployment/idle", "{.spec.replicas}"),
            "0",
            "{version}: zero replicas kept"
        );

        run(&["service", "nodeport", "web", "--tcp=80:8080"]);
        assert_eq!(
            get(
                "service/web",
                "{.spec.type} {.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app}"
            ),
            "NodePort 80 8080 web",
            "{version}"
        );

        run(&["role", "reader", "--verb=get,list", "--resource=pods,deployments.apps"]);
        assert_eq!(
            get("role/reader", "{.rules[*].verbs}"),
            r#"["get","list"] ["get","list"]"#,
            "{version}"
        );
        assert_eq!(get("role/reader", "{.rules[1].apiGroups[0]}"), "apps", "{version}");
        run(&[
            "rolebinding",
            "bob-reads",
            "--role=reader",
            "--user=bob",
            "--serviceaccount=default:ci",
        ]);
        assert_eq!(
            get(
                "rolebinding/bob-reads",
                "{.roleRef.kind}/{.roleRef.name} {.subjects[0].name} {.subjects[1].kind}"
            ),
            "Role/reader bob ServiceAccount",
            "{version}"
        );

        run(&[
            "ingress",
            "web",
            "--class=nginx",
            "--rule=web.example.com/api*=web:80,tls=web-tls",
        ]);
        assert_eq!(
            get(
                "ingress/web",
                "{.spec.ingressClassName} {.spec.rules[0].host} {.spec.rules[0].http.paths[0].path} {.spec.rules[0].http.paths[0].pathType} {.spec.rules[0].http.paths[0].backend.service.port.number} {.spec.tls[0].secretName}"
            ),
            "nginx web.example.com /api Prefix 80 web-tls",
            "{version}: the rule's http is inline, as in JSON"
        );

        run(&[
            "configmap",
            "settings",
            "--from-literal=mode=fast",
            "--from-literal=empty=",
        ]);
        assert_eq!(
            get("configmap/settings", "{.data.mode}|{.data.empty}"),
            "fast|",
            "{version}"
        );
        run(&["secret", "generic", "creds", "--from-literal=password=s3cret"]);
        assert_eq!(
            get("secret/creds", "{.type} {.data.password}"),
            "Opaque czNjcmV0",
            "{version}"
        );
        run(&["quota", "small", "--hard=pods=10,requests.cpu=2"]);
        assert_eq!(
            get("quota/small", "{.spec.hard.pods} {.spec.hard.requests\\.cpu}"),
            "10 2",
            "{version}"
        );
        run(&["serviceaccount", "ci"]);
        assert_eq!(get("serviceaccount/ci", "{.metadata.name}"), "ci");
        run(&["job", "once", "--image=busybox", "--", "echo", "hi"]);
        assert_eq!(
            get(
                "job/once",
                "{.spec.template.spec.containers[0].command} {.spec.template.spec.restartPolicy}"
            ),
            r#"["echo","hi"] Never"#,
            "{version}"
        );
        run(&[
            "cronjob",
            "nightly",
            "--image=busybox",
            "--schedule=0 3 * * *",
            "--",
            "date",
        ]);
        assert_eq!(get("cronjob/nightly", "{.spec.schedule}"), "0 3 * * *", "{version}");
        run(&["poddisruptionbudget", "web", "--selector=app=web", "--min-available=1"]);
        assert_eq!(
            get("pdb/web", "{.spec.minAvailable} {.spec.selector.matchLabels.app}"),
            "1 web",
            "{version}"
        );
    }
}
