//! The self reviews: who am I (SelfSubjectReview), may I
//! (SelfSubjectAccessReview) and what may I (SelfSubjectRulesReview), as
//! `kubectl auth whoami`, `auth can-i` and `auth can-i --list` ask them.

use super::*;
use crate::ptr::At;
use crate::rbac::{self, Ask};

pub(super) async fn answer(c: Arc<SimCluster>, user: &User, req: Request<Incoming>, res: &Resource) -> Response<Body> {
    if req.method() != Method::POST {
        return error_response(&ApiError::method_not_allowed());
    }
    let mut review = match read_body(req).await.and_then(|(ct, b)| parse_body(&ct, &b)) {
        Ok(v) => v,
        Err(e) => return error_response(&e),
    };
    let who = c.subject(user);
    let status = match res.kind {
        "SelfSubjectReview" => json!({"userInfo": {"username": who.user, "groups": who.groups}}),
        "SelfSubjectAccessReview" => {
            let st = c.read();
            if let Some(ra) = review.at("/spec/resourceAttributes") {
                let text = |k: &str| ra.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
                let resource = match (text("resource"), text("subresource")) {
                    (Some(r), Some(sub)) => format!("{r}/{sub}"),
                    (Some(r), None) => r.to_string(),
                    _ => String::new(),
                };
                let allowed = rbac::allows(
                    &st,
                    &who,
                    &Ask {
                        verb: text("verb").unwrap_or(""),
                        group: text("group").unwrap_or(""),
                        resource: &resource,
                        namespace: text("namespace"),
                        name: text("name"),
                    },
                );
                if allowed {
                    json!({"allowed": true, "reason": format!("RBAC: allowed by a binding of user \"{}\"", who.user)})
                } else {
                    json!({"allowed": false})
                }
            } else {
                // Non-resource URLs: only a rule for them allows them.
                let allowed = rbac::rules_for(&st, &who, None).iter().any(|r| {
                    r.get("nonResourceURLs")
                        .and_then(Value::as_array)
                        .is_some_and(|u| u.iter().any(|x| x == "*"))
                });
                json!({"allowed": allowed})
            }
        }
        "SelfSubjectRulesReview" => {
            let st = c.read();
            let ns = review.at("/spec/namespace").and_then(Value::as_str).map(str::to_string);
            let rules = rbac::rules_for(&st, &who, ns.as_deref());
            let resource_rules: Vec<Value> = rules
                .iter()
                .filter(|r| r.get("nonResourceURLs").is_none())
                .map(|r| {
                    let mut out = json!({"verbs": r.get("verbs"), "apiGroups": r.get("apiGroups"), "resources": r.get("resources")});
                    if let Some(n) = r.get("resourceNames") {
                        out["resourceNames"] = n.clone();
                    }
                    out
                })
                .collect();
            let non_resource: Vec<Value> = rules
                .iter()
                .filter_map(|r| Some(json!({"verbs": r.get("verbs"), "nonResourceURLs": r.get("nonResourceURLs")?})))
                .collect();
            json!({"resourceRules": resource_rules, "nonResourceRules": non_resource, "incomplete": false})
        }
        _ => return error_response(&ApiError::no_route()),
    };
    review["apiVersion"] = json!(res.api_version());
    review["kind"] = json!(res.kind);
    if review.get("metadata").is_none() {
        review["metadata"] = json!({"creationTimestamp": null});
    }
    review["status"] = status;
    json_response(201, &review)
}
