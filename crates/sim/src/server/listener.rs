//! The EventListener sink, reached as on a real cluster through the API
//! server's service proxy
//! (`/api/v1/namespaces/NS/services/el-NAME:http-listener/proxy/`). It runs
//! each trigger's interceptors (GitHub's `X-Hub-Signature-256`, GitLab's
//! `X-Gitlab-Token`, event types, a CEL filter), resolves the bindings from
//! the body and headers, and creates the template's resources.

use crate::ptr::At;
use std::collections::BTreeMap;

use super::*;
use crate::state::State;
use hyper::HeaderMap;

fn accepted(el: &Value, event_id: &str) -> Response<Body> {
    json_response(
        202,
        &json!({"eventListener": name_of(el), "namespace": el.at("/metadata/namespace"),
                "eventListenerUID": el.at("/metadata/uid"), "eventID": event_id}),
    )
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// A path into the JSON body: `body.head_commit.id`.
fn lookup<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = body;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The CEL the triggers kdeck writes use: `a == 'x'`, `a != 'x'`,
/// `a.startsWith('x')`, joined by `&&` and `||`. Anything else is an error.
fn cel(expr: &str, body: &Value, headers: &HeaderMap) -> Result<bool, String> {
    let value = |path: &str| -> Result<String, String> {
        let path = path.trim();
        if let Some(h) = path.strip_prefix("header['").and_then(|p| p.strip_suffix("']")) {
            return Ok(header(headers, h).to_string());
        }
        let p = path
            .strip_prefix("body.")
            .ok_or_else(|| format!("unsupported CEL term {path:?}"))?;
        Ok(lookup(body, p).map(text).unwrap_or_default())
    };
    let lit = |s: &str| -> Result<String, String> {
        let s = s.trim();
        s.strip_prefix('\'')
            .and_then(|x| x.strip_suffix('\''))
            .or_else(|| s.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
            .map(str::to_string)
            .ok_or_else(|| format!("expected a string literal, got {s:?}"))
    };
    for alt in expr.split("||") {
        let mut all = true;
        for term in alt.split("&&") {
            let term = term.trim().trim_start_matches('(').trim_end_matches(')');
            let ok = if let Some((l, r)) = term.split_once("==") {
                value(l)? == lit(r)?
            } else if let Some((l, r)) = term.split_once("!=") {
                value(l)? != lit(r)?
            } else if let Some((l, r)) = term.split_once(".startsWith(") {
                value(l)?.starts_with(&lit(r.trim_end_matches(')'))?)
            } else {
                return Err(format!("unsupported CEL expression {term:?}"));
            };
            all &= ok;
        }
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

fn param<'a>(ps: &'a Value, name: &str) -> Option<&'a Value> {
    ps.as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|p| p.get("value"))
}

enum Verdict {
    Pass,
    /// Filtered out (an event type or a filter): accepted, nothing made.
    Skip,
    /// A secret that does not match.
    Denied(String),
}

fn secret_value(s: &State, ns: &str, r: Option<&Value>) -> Option<String> {
    use base64::Engine;
    let r = r?;
    let name = r.get("secretName")?.as_str()?;
    let key = r.get("secretKey")?.as_str()?;
    let sec = s.get(resources::ids::of("Secret"), ns, name)?;
    let b64 = sec.at(&format!("/data/{key}"))?.as_str()?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    String::from_utf8(raw).ok()
}

fn interceptor(s: &State, ns: &str, i: &Value, raw: &[u8], body: &Value, headers: &HeaderMap) -> Verdict {
    let name = i.at("/ref/name").and_then(Value::as_str).unwrap_or("");
    let ps = i.get("params").cloned().unwrap_or(json!([]));
    let types: Vec<String> = param(&ps, "eventTypes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    match name {
        "github" => {
            if let Some(secret) = secret_value(s, ns, param(&ps, "secretRef")) {
                let sig = header(headers, "X-Hub-Signature-256");
                let Some(hexsig) = sig.strip_prefix("sha256=") else {
                    return Verdict::Denied("no X-Hub-Signature-256 header set".into());
                };
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
                let Some(given) = hex_decode(hexsig) else {
                    return Verdict::Denied("X-Hub-Signature-256 is not hex".into());
                };
                if ring::hmac::verify(&key, raw, &given).is_err() {
                    return Verdict::Denied("payload signature check failed".into());
                }
            } else if param(&ps, "secretRef").is_some() {
                return Verdict::Denied("the webhook secret named by secretRef does not exist".into());
            }
            let ev = header(headers, "X-GitHub-Event");
            if !types.is_empty() && !types.iter().any(|t| t == ev) {
                return Verdict::Skip;
            }
            Verdict::Pass
        }
        "gitlab" => {
            if let Some(secret) = secret_value(s, ns, param(&ps, "secretRef")) {
                if header(headers, "X-Gitlab-Token") != secret {
                    return Verdict::Denied("Invalid X-Gitlab-Token".into());
                }
            } else if param(&ps, "secretRef").is_some() {
                return Verdict::Denied("the webhook secret named by secretRef does not exist".into());
            }
            let ev = header(headers, "X-Gitlab-Event");
            if !types.is_empty() && !types.iter().any(|t| t == ev) {
                return Verdict::Skip;
            }
            Verdict::Pass
        }
        "cel" => match param(&ps, "filter").and_then(Value::as_str) {
            Some(f) => match cel(f, body, headers) {
                Ok(true) => Verdict::Pass,
                Ok(false) => Verdict::Skip,
                Err(_) => Verdict::Skip,
            },
            None => Verdict::Pass,
        },
        _ => Verdict::Skip,
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `$(body.x.y)`, `$(header.X)` and plain text in a binding's value.
fn bind_value(v: &str, body: &Value, headers: &HeaderMap) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(at) = rest.find("$(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let key = &after[..end];
        if let Some(p) = key.strip_prefix("body.") {
            out.push_str(&lookup(body, p).map(text).unwrap_or_default());
        } else if let Some(h) = key.strip_prefix("header.") {
            out.push_str(header(headers, h));
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

pub(super) async fn sink(
    c: Arc<SimCluster>,
    user: &User,
    req: Request<Incoming>,
    ns: &str,
    svc: &str,
) -> Response<Body> {
    let svc_res = resources::get(resources::ids::of("Service"));
    // `el-x`, `el-x:http-listener`, `el-x:8080`, `http:el-x:8080`.
    let parts: Vec<&str> = svc.split(':').collect();
    let name = match parts.as_slice() {
        ["http" | "https", n, ..] => *n,
        [n, ..] => *n,
        [] => "",
    };
    if !allowed(&c, user, "create", svc_res, Some("proxy"), Some(ns), Some(name)) {
        return error_response(&ApiError::forbidden(
            &user.name,
            "create",
            svc_res,
            Some("proxy"),
            Some(ns),
        ));
    }
    let (headers, raw) = {
        let headers = req.headers().clone();
        match req.into_body().collect().await {
            Ok(b) => (headers, b.to_bytes()),
            Err(e) => return error_response(&ApiError::bad_request(e.to_string())),
        }
    };
    let ids = |k: &str| resources::ids::of(k);
    let found = {
        let st = c.read();
        let svc_obj = st.get(ids("Service"), ns, name).cloned();
        let el = svc_obj
            .as_ref()
            .and_then(|s| s.at("/metadata/labels/eventlistener").and_then(Value::as_str))
            .and_then(|el| st.get(ids("EventListener"), ns, el).cloned());
        (svc_obj, el)
    };
    let el = match found {
        (None, _) => return error_response(&ApiError::not_found(svc_res, name)),
        (Some(_), None) => {
            return error_response(&ApiError::new(
                503,
                "ServiceUnavailable",
                format!("no endpoints available for service \"{name}\""),
            ));
        }
        (Some(_), Some(el)) => el,
    };
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let event_id = crate::state::random_suffix(8);
    let outcome = c.write(|s| {
        let mut denied = None;
        let mut made = 0;
        for t in el.at("/spec/triggers").and_then(Value::as_array).into_iter().flatten() {
            let (tname, spec) = match t.get("triggerRef").and_then(Value::as_str) {
                Some(r) => match s.get(ids("Trigger"), ns, r) {
                    Some(tr) => (r.to_string(), tr.get("spec").cloned().unwrap_or(json!({}))),
                    None => continue,
                },
                None => (
                    t.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                    t.clone(),
                ),
            };
            let mut verdict = Verdict::Pass;
            for i in spec.get("interceptors").and_then(Value::as_array).into_iter().flatten() {
                verdict = interceptor(s, ns, i, &raw, &body, &headers);
                if !matches!(verdict, Verdict::Pass) {
                    break;
                }
            }
            match verdict {
                Verdict::Pass => {}
                Verdict::Skip => continue,
                Verdict::Denied(why) => {
                    denied = Some(format!("trigger {tname}: {why}"));
                    continue;
                }
            }
            // Bindings: inline values, or TriggerBindings by name.
            let mut params: BTreeMap<String, String> = BTreeMap::new();
            for b in spec.get("bindings").and_then(Value::as_array).into_iter().flatten() {
                if let (Some(n), Some(v)) = (
                    b.get("name").and_then(Value::as_str),
                    b.get("value").and_then(Value::as_str),
                ) {
                    params.insert(n.to_string(), bind_value(v, &body, &headers));
                } else if let Some(r) = b.get("ref").and_then(Value::as_str) {
                    let kind = if b.get("kind").and_then(Value::as_str) == Some("ClusterTriggerBinding") {
                        ("ClusterTriggerBinding", "")
                    } else {
                        ("TriggerBinding", ns)
                    };
                    for p in s
                        .get(ids(kind.0), kind.1, r)
                        .and_then(|tb| tb.at("/spec/params").cloned())
                        .as_ref()
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let (Some(n), Some(v)) = (
                            p.get("name").and_then(Value::as_str),
                            p.get("value").and_then(Value::as_str),
                        ) {
                            params.insert(n.to_string(), bind_value(v, &body, &headers));
                        }
                    }
                }
            }
            let template = spec
                .at("/template/ref")
                .and_then(Value::as_str)
                .and_then(|r| s.get(ids("TriggerTemplate"), ns, r).cloned());
            let Some(template) = template else { continue };
            let mut vars = BTreeMap::new();
            for p in template
                .at("/spec/params")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(n) = p.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let v = params
                    .get(n)
                    .cloned()
                    .or_else(|| p.get("default").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_default();
                vars.insert(format!("tt.params.{n}"), v);
            }
            for r in template
                .at("/spec/resourcetemplates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut obj = crate::controllers::subst::substitute_value(r, &vars);
                let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
                let Some(res) = resources::by_kind(&kind) else { continue };
                obj["metadata"]["namespace"] = json!(ns);
                let labels = &mut obj["metadata"]["labels"];
                if !labels.is_object() {
                    *labels = json!({});
                }
                labels["triggers.tekton.dev/eventlistener"] = json!(name_of(&el));
                labels["triggers.tekton.dev/trigger"] = json!(tname);
                labels["triggers.tekton.dev/triggers-eventid"] = json!(event_id);
                if s.create(res, ns, obj, "eventlistener").is_ok() {
                    made += 1;
                }
            }
        }
        (denied, made)
    });
    match outcome {
        (Some(why), 0) => error_response(&ApiError::new(403, "Forbidden", why)),
        _ => accepted(&el, &event_id),
    }
}
