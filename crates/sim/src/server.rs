//! The HTTP side of a simulated cluster: routing, authentication and RBAC,
//! discovery, and the REST verbs including watch and logs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::cluster::{Role, SimCluster, Stats, User};
use super::error::ApiError;
use super::faults::FaultRequest;
use super::logs;
use super::resources::{self, RESOURCES, ResId, Resource};
use super::select::{FieldSelector, LabelSelector};
use super::state::{DeleteOptions, Deleted, EventType, Key, PatchType, name_of};

pub type Body = BoxBody<Bytes, Infallible>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

fn json_response(code: u16, v: &Value) -> Response<Body> {
    let mut r = Response::new(full(serde_json::to_vec(v).unwrap_or_default()));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn error_response(e: &ApiError) -> Response<Body> {
    json_response(e.code, &e.to_status())
}

/// A streamed answer: lines sent through the channel, flushed one by one.
pub(crate) fn stream_response(content_type: &'static str, rx: mpsc::Receiver<Bytes>) -> Response<Body> {
    let stream = futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|b| (Ok(Frame::data(b)), rx)) },
    );
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    r.headers_mut()
        .insert("content-type", hyper::header::HeaderValue::from_static(content_type));
    r
}

/// Query string as pairs, form-urlencoded (`+` is a space).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }
    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }
}

/// What a resource path names.
struct Target {
    res: ResId,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

enum Route {
    Version,
    Api,
    Apis,
    GroupVersion(String, String),
    OpenApiV2,
    OpenApiV3,
    Health,
    Faults,
    Resource(Target),
}

fn route(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => return Some(Route::Version),
        ["api"] => return Some(Route::Api),
        ["apis"] => return Some(Route::Apis),
        ["openapi", "v2"] => return Some(Route::OpenApiV2),
        ["openapi", "v3", ..] => return Some(Route::OpenApiV3),
        ["healthz" | "readyz" | "livez"] => return Some(Route::Health),
        ["sim", "faults"] => return Some(Route::Faults),
        ["api", "v1"] => return Some(Route::GroupVersion(String::new(), "v1".into())),
        ["apis", g, v] => return Some(Route::GroupVersion(g.to_string(), v.to_string())),
        _ => {}
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let res_of = |plural: &str| resources::find(group, version, plural);
    let t = match rest {
        ["namespaces", ns, plural, tail @ ..] if res_of(plural).is_some_and(|r| resources::get(r).namespaced) => {
            Target {
                res: res_of(plural)?,
                ns: Some(ns.to_string()),
                name: tail.first().map(|s| s.to_string()),
                sub: tail.get(1).map(|s| s.to_string()),
            }
        }
        [plural, tail @ ..] => Target {
            res: res_of(plural)?,
            ns: None,
            name: tail.first().map(|s| s.to_string()),
            sub: tail.get(1).map(|s| s.to_string()),
        },
        [] => return None,
    };
    if t.sub
        .as_deref()
        .is_some_and(|s| !resources::get(t.res).subresources.contains(&s))
    {
        return None;
    }
    Some(Route::Resource(t))
}

fn verb_of(method: &Method, t: &Target, q: &Query) -> &'static str {
    match (method, t.name.is_some()) {
        (&Method::GET, false) if q.flag("watch") => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => "unknown",
    }
}

/// RBAC as the three built-in roles grant it.
fn allowed(user: &User, verb: &str, res: &Resource, ns: Option<&str>) -> bool {
    let read = matches!(verb, "get" | "list" | "watch");
    if let Some(allowed_ns) = &user.namespaces {
        match ns {
            Some(n) if allowed_ns.iter().any(|a| a == n) => {}
            // A namespace object itself, by name.
            _ if res.kind == "Namespace" && verb == "get" => {}
            _ => return false,
        }
    }
    match user.role {
        Role::Admin => true,
        Role::Edit => {
            if res.group == "rbac.authorization.k8s.io" {
                read
            } else if !res.namespaced {
                read && res.kind != "ClusterRole"
            } else {
                true
            }
        }
        Role::View => read && res.kind != "Secret",
    }
}

pub async fn serve(cluster: Arc<SimCluster>, addr: SocketAddr, tls: super::tls::SimTls) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(accept_loop(cluster, listener, local, tls));
    Ok(local)
}

async fn accept_loop(cluster: Arc<SimCluster>, first: TcpListener, addr: SocketAddr, tls: super::tls::SimTls) {
    let mut listener = Some(first);
    let mut up_rx = cluster.up_changed.subscribe();
    loop {
        let Some(l) = listener.take() else {
            // Down: wait to come back, then bind the same port again.
            while !cluster.is_up() {
                if up_rx.changed().await.is_err() {
                    return;
                }
            }
            match TcpListener::bind(addr).await {
                Ok(l) => listener = Some(l),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
            continue;
        };
        tokio::select! {
            accepted = l.accept() => {
                if let Ok((stream, _)) = accepted {
                    if !cluster.is_up() {
                        // Accepted in the moment the cluster went down: refuse it.
                        drop(stream);
                        continue;
                    }
                    let c = cluster.clone();
                    let mut down = cluster.up_changed.subscribe();
                    let acceptor = tls.acceptor.clone();
                    tokio::spawn(async move {
                        let _ = stream.set_nodelay(true);
                        let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await else {
                            return;
                        };
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let svc = hyper::service::service_fn(move |req| {
                            let c = c.clone();
                            async move { Ok::<_, Infallible>(handle(c, req).await) }
                        });
                        let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, svc);
                        tokio::select! {
                            _ = conn => {}
                            _ = async {
                                // Look at the current state first: a change made before this
                                // connection subscribed would not wake `changed()`.
                                while *down.borrow_and_update() {
                                    if down.changed().await.is_err() {
                                        break;
                                    }
                                }
                            } => {}
                        }
                    });
                }
                listener = Some(l);
            }
            _ = up_rx.changed() => {
                if cluster.is_up() { listener = Some(l); } // else drop it: port closed
            }
        }
    }
}

async fn handle(c: Arc<SimCluster>, req: Request<Incoming>) -> Response<Body> {
    Stats::bump(&c.stats.requests);
    let faults = c.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let path = req.uri().path().to_string();
    let q = Query(parse_query(req.uri().query().unwrap_or("")));
    let Some(r) = route(&path) else {
        return error_response(&ApiError::no_route());
    };
    if matches!(r, Route::Health) {
        return Response::new(full("ok"));
    }
    if !matches!(r, Route::Faults) {
        // A silent server: nothing comes back while it lasts.
        while c.faults().silent {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let token = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim()
        .to_string();
    let Some(user) = c.user_by_token(&token).cloned() else {
        return error_response(&ApiError::unauthorized());
    };
    let tekton_route = match &r {
        Route::GroupVersion(g, _) => g == "tekton.dev",
        Route::Resource(t) => resources::get(t.res).group == "tekton.dev",
        _ => false,
    };
    if tekton_route && !c.config.tekton {
        return error_response(&ApiError::no_route());
    }
    if let Some(code) = c.take_failure(&path) {
        let reason = match code {
            429 => "TooManyRequests",
            403 => "Forbidden",
            404 => "NotFound",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            _ => "InternalError",
        };
        return error_response(&ApiError::new(
            code,
            reason,
            format!("injected fault: {code} on {path}"),
        ));
    }
    match r {
        Route::Version => json_response(
            200,
            &json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0", "gitCommit": "kdeck-sim", "gitTreeState": "clean",
                    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"}),
        ),
        Route::Api => json_response(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        ),
        Route::Apis => json_response(200, &api_group_list(c.config.tekton)),
        Route::GroupVersion(g, v) => match resource_list(&g, &v) {
            Some(l) => json_response(200, &l),
            None => error_response(&ApiError::no_route()),
        },
        Route::OpenApiV2 => {
            let mut r = Response::new(full(Bytes::new()));
            r.headers_mut().insert(
                "content-type",
                hyper::header::HeaderValue::from_static("application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
            );
            r
        }
        Route::OpenApiV3 => error_response(&ApiError::no_route()),
        Route::Health => Response::new(full("ok")),
        Route::Faults => faults_endpoint(&c, &user, req).await,
        Route::Resource(t) => resource(c, user, req, t, q).await,
    }
}

async fn read_body(req: Request<Incoming>) -> Result<(String, Bytes), ApiError> {
    let ct = req
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let bytes = req
        .into_body()
        .collect()
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?
        .to_bytes();
    Ok((ct, bytes))
}

fn parse_body(ct: &str, bytes: &[u8]) -> Result<Value, ApiError> {
    if ct.contains("protobuf") {
        return super::proto::decode(bytes).map_err(|e| ApiError::new(415, "UnsupportedMediaType", e));
    }
    if ct.contains("cbor") {
        return Err(ApiError::unsupported_media(ct));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    if ct.contains("yaml") {
        let text = std::str::from_utf8(bytes).map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
        return serde_saphyr::from_str::<Value>(text).map_err(|e| {
            ApiError::bad_request(format!(
                "error decoding YAML: {}",
                e.to_string().lines().next().unwrap_or("")
            ))
        });
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("error decoding JSON: {e}")))
}

async fn faults_endpoint(c: &Arc<SimCluster>, user: &User, req: Request<Incoming>) -> Response<Body> {
    if user.role != Role::Admin {
        return error_response(&ApiError::new(403, "Forbidden", "only admin may change faults"));
    }
    if req.method() == Method::GET {
        return json_response(200, &serde_json::to_value(c.faults()).unwrap_or_default());
    }
    let fr: FaultRequest = match read_body(req).await.and_then(|(ct, b)| parse_body(&ct, &b)) {
        Ok(v) => match serde_json::from_value(v) {
            Ok(f) => f,
            Err(e) => return error_response(&ApiError::bad_request(format!("faults: {e}"))),
        },
        Err(e) => return error_response(&e),
    };
    c.set_faults(fr.faults.clone());
    if let Some(h) = fr.history {
        c.set_history(h);
    }
    if let Some(r) = fr.churn_per_sec {
        c.churn_per_sec.store(r, std::sync::atomic::Ordering::Relaxed);
    }
    if let Some(ms) = fr.down_for_ms {
        let c2 = c.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            c2.set_up(false);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            c2.set_up(true);
        });
    }
    json_response(200, &serde_json::to_value(fr.faults).unwrap_or_default())
}

fn api_group_list(tekton: bool) -> Value {
    let groups: Vec<Value> = resources::groups()
        .into_iter()
        .filter(|(g, _)| tekton || *g != "tekton.dev")
        .map(|(g, v)| {
            let gv = format!("{g}/{v}");
            json!({"name": g, "versions": [{"groupVersion": gv, "version": v}], "preferredVersion": {"groupVersion": gv, "version": v}})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn verbs_for(r: &Resource) -> Vec<&'static str> {
    vec![
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
    .into_iter()
    .filter(|v| r.kind != "Event" || *v != "deletecollection")
    .collect()
}

fn resource_list(group: &str, version: &str) -> Option<Value> {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    if group == "autoscaling" {
        return Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": []}));
    }
    let mut out = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.group == group && r.version == version) {
        out.push(
            json!({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                        "verbs": verbs_for(r), "shortNames": r.short_names}),
        );
        for s in r.subresources {
            let entry = match *s {
                "scale" => {
                    json!({"name": format!("{}/scale", r.plural), "singularName": "", "namespaced": r.namespaced,
                                  "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
                }
                "log" => {
                    json!({"name": format!("{}/log", r.plural), "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]})
                }
                _ => {
                    json!({"name": format!("{}/{s}", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind,
                            "verbs": ["get", "patch", "update"]})
                }
            };
            out.push(entry);
        }
    }
    if out.is_empty() {
        return None;
    }
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}))
}

/// The token in a `continue`: the last key served, and the list's resourceVersion.
fn encode_continue(rv: u64, key: &Key) -> String {
    use base64::Engine;
    let v = json!({"rv": rv, "ns": key.1, "name": key.2});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn decode_continue(res: ResId, token: &str) -> Result<(u64, Key), ApiError> {
    use base64::Engine;
    let bad = || ApiError::bad_request(format!("continue key is not valid: {token:?}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let rv = v.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let ns = v.get("ns").and_then(Value::as_str).ok_or_else(bad)?.to_string();
    let name = v.get("name").and_then(Value::as_str).ok_or_else(bad)?.to_string();
    Ok((rv, (res, ns, name)))
}

fn wants_metadata_only(req: &Request<Incoming>) -> bool {
    req.headers()
        .get("accept")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("as=PartialObjectMetadata"))
}

fn as_metadata(v: &Value) -> Value {
    let mut m = v.get("metadata").cloned().unwrap_or(json!({}));
    if let Value::Object(map) = &mut m {
        map.remove("managedFields");
    }
    json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": m})
}

fn manager_of(req: &Request<Incoming>, q: &Query) -> String {
    if let Some(m) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    req.headers()
        .get("user-agent")
        .and_then(|h| h.to_str().ok())
        .map(|ua| ua.split('/').next().unwrap_or(ua).to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn resource(c: Arc<SimCluster>, user: User, req: Request<Incoming>, t: Target, q: Query) -> Response<Body> {
    let res = resources::get(t.res);
    let verb = verb_of(req.method(), &t, &q);
    // A namespace named in the path of a cluster-scoped kind is the namespace object itself.
    let ns_for_rbac = if res.kind == "Namespace" {
        t.name.as_deref()
    } else {
        t.ns.as_deref()
    };
    let rbac_verb = if t.sub.as_deref() == Some("log") { "get" } else { verb };
    if !allowed(&user, rbac_verb, res, ns_for_rbac) {
        return error_response(&ApiError::forbidden(
            &user.name,
            rbac_verb,
            res,
            t.sub.as_deref(),
            t.ns.as_deref(),
        ));
    }
    if res.namespaced && t.ns.is_none() && t.name.is_some() {
        return error_response(&ApiError::no_route());
    }
    let ns = t.ns.clone().unwrap_or_default();
    let meta_only = wants_metadata_only(&req);
    let result = match (verb, t.sub.as_deref()) {
        ("list", _) => {
            return match list(&c, &t, &q, meta_only) {
                Ok(bytes) => {
                    let mut r = Response::new(full(bytes));
                    r.headers_mut().insert(
                        "content-type",
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    r
                }
                Err(e) => error_response(&e),
            };
        }
        ("watch", _) => return watch(c, t, q, meta_only),
        ("get", Some("log")) => return logs::serve(c, &ns, t.name.as_deref().unwrap_or(""), &q.0).await,
        ("get", Some("scale")) => scale_of(&c, &t),
        ("get", _) => get(&c, &t).map(|v| if meta_only { as_metadata(&v) } else { (*v).clone() }),
        ("create", _) => {
            if t.name.is_some() {
                return error_response(&ApiError::method_not_allowed());
            }
            let manager = manager_of(&req, &q);
            let dry = q.get("dryRun").is_some();
            match read_body(req).await.and_then(|(ct, b)| parse_body(&ct, &b)) {
                Ok(body) => {
                    if dry {
                        Ok(body)
                    } else {
                        c.write(|s| s.create(t.res, &ns, body, &manager))
                            .map(|v| (*v).clone())
                            .map(return_created)
                    }
                }
                Err(e) => Err(e),
            }
        }
        ("update", sub) => {
            let manager = manager_of(&req, &q);
            let name = t.name.clone().unwrap_or_default();
            match read_body(req).await.and_then(|(ct, b)| parse_body(&ct, &b)) {
                Ok(body) if sub == Some("scale") => set_scale(&c, &t, &body),
                Ok(body) => c
                    .write(|s| s.update(t.res, &ns, &name, body, sub == Some("status"), &manager))
                    .map(|v| (*v).clone()),
                Err(e) => Err(e),
            }
        }
        ("patch", sub) => {
            let manager = q.get("fieldManager").map(str::to_string);
            let force = q.flag("force");
            let name = t.name.clone().unwrap_or_default();
            let ct = req
                .headers()
                .get("content-type")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string();
            let ptype = match ct.split(';').next().unwrap_or("").trim() {
                "application/merge-patch+json" => PatchType::Merge,
                "application/json-patch+json" => PatchType::Json,
                "application/strategic-merge-patch+json" => PatchType::Strategic,
                "application/apply-patch+yaml" | "application/apply-patch+json" => PatchType::Apply,
                other => return error_response(&ApiError::unsupported_media(other)),
            };
            if force && ptype != PatchType::Apply {
                return error_response(&ApiError::new(
                    422,
                    "Invalid",
                    "force: Invalid value: true: may not be specified for non-apply patch",
                ));
            }
            let manager = match (&manager, ptype) {
                (Some(m), _) => m.clone(),
                (None, PatchType::Apply) => String::new(),
                (None, _) => manager_of(&req, &q),
            };
            match read_body(req).await.and_then(|(ct, b)| parse_body(&ct, &b)) {
                Ok(body) if sub == Some("scale") => {
                    let current = scale_of(&c, &t);
                    match current {
                        Ok(mut sc) => {
                            match ptype {
                                PatchType::Json => {
                                    if let Err(e) = super::patch::json_patch(&mut sc, &body) {
                                        return error_response(&ApiError::new(422, "Invalid", e));
                                    }
                                }
                                _ => super::patch::merge_patch(&mut sc, &body),
                            }
                            set_scale(&c, &t, &sc)
                        }
                        Err(e) => Err(e),
                    }
                }
                Ok(body) => c
                    .write(|s| s.patch(t.res, &ns, &name, ptype, &body, &manager, force, sub == Some("status")))
                    .map(|v| (*v).clone()),
                Err(e) => Err(e),
            }
        }
        ("delete", _) => {
            let name = t.name.clone().unwrap_or_default();
            let mut opts = DeleteOptions {
                propagation: q.get("propagationPolicy").map(str::to_string),
                grace_seconds: q.get("gracePeriodSeconds").and_then(|g| g.parse().ok()),
                ..Default::default()
            };
            let body = read_body(req).await.map(|(_, b)| b).unwrap_or_default();
            if !body.iter().all(u8::is_ascii_whitespace) {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(v) => {
                        if let Some(p) = v.get("propagationPolicy").and_then(Value::as_str) {
                            opts.propagation = Some(p.into());
                        }
                        if let Some(g) = v.get("gracePeriodSeconds").and_then(Value::as_i64) {
                            opts.grace_seconds = Some(g);
                        }
                        if v.get("orphanDependents").and_then(Value::as_bool) == Some(true) {
                            opts.propagation = Some("Orphan".into());
                        }
                        opts.precondition_uid = v
                            .pointer("/preconditions/uid")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        opts.precondition_rv = v
                            .pointer("/preconditions/resourceVersion")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                    }
                    Err(e) => {
                        return error_response(&ApiError::bad_request(format!("error decoding DeleteOptions: {e}")));
                    }
                }
            }
            c.write(|s| s.delete(t.res, &ns, &name, &opts)).map(|d| match d {
                Deleted::Marked(v) => (*v).clone(),
                Deleted::Gone(v) => json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": name_of(&v), "group": res.group, "kind": res.plural, "uid": v.pointer("/metadata/uid")}}),
            })
        }
        ("deletecollection", _) => {
            let labels = match LabelSelector::parse(q.get("labelSelector").unwrap_or("")) {
                Ok(l) => l,
                Err(e) => return error_response(&e),
            };
            let fields = match FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), res.kind) {
                Ok(f) => f,
                Err(e) => return error_response(&e),
            };
            let ns_opt = t.ns.clone();
            let items = c.write(|s| {
                let (items, _) = s.list_with(t.res, ns_opt.as_deref(), &labels, &fields, None, None, |_, v, _| {
                    v.clone()
                });
                let mut out = Vec::new();
                for it in items {
                    let n = name_of(&it).to_string();
                    let ins = it
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    if let Ok(Deleted::Gone(v) | Deleted::Marked(v)) =
                        s.delete(t.res, &ins, &n, &DeleteOptions::default())
                    {
                        out.push((*v).clone());
                    }
                }
                out
            });
            Ok(
                json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": {}, "items": items}),
            )
        }
        _ => Err(ApiError::method_not_allowed()),
    };
    match result {
        Ok(v) => {
            let code = if v.get("__created").is_some() { 201 } else { 200 };
            let mut v = v;
            if let Value::Object(m) = &mut v {
                m.remove("__created");
            }
            json_response(code, &v)
        }
        Err(e) => error_response(&e),
    }
}

fn return_created(mut v: Value) -> Value {
    v["__created"] = json!(true);
    v
}

fn get(c: &SimCluster, t: &Target) -> Result<Arc<Value>, ApiError> {
    let res = resources::get(t.res);
    let name = t.name.as_deref().unwrap_or("");
    let ns = if res.namespaced {
        t.ns.as_deref().unwrap_or("")
    } else {
        ""
    };
    c.read()
        .get(t.res, ns, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(res, name))
}

/// A list answer, put together from the stored objects' JSON.
fn list(c: &SimCluster, t: &Target, q: &Query, meta_only: bool) -> Result<Vec<u8>, ApiError> {
    let res = resources::get(t.res);
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), res.kind)?;
    let limit = q.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let st = c.read();
    let (list_rv, after) = match q.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let (rv, key) = decode_continue(t.res, token)?;
            if c.faults().expire_continue || rv < st.oldest_rv() {
                Stats::bump(&c.stats.continue_410);
                return Err(ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                ));
            }
            (rv, Some(key))
        }
        None => (st.rv, None),
    };
    let ns = if res.namespaced { t.ns.as_deref() } else { None };
    // Under the lock: stored JSON for a full list (a copy of bytes), the
    // metadata for a metadata-only one.
    let (items, last) = st.list_with(t.res, ns, &labels, &fields, after.as_ref(), limit, |_, v, json| {
        if meta_only {
            Bytes::from(serde_json::to_vec(&as_metadata(v)).unwrap_or_default())
        } else {
            json
        }
    });
    drop(st);
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if let Some(k) = last {
        meta["continue"] = json!(encode_continue(list_rv, &k));
    }
    let (kind, api_version) = if meta_only {
        ("PartialObjectMetadataList".to_string(), "meta.k8s.io/v1".to_string())
    } else {
        (format!("{}List", res.kind), res.api_version())
    };
    let head = json!({"kind": kind, "apiVersion": api_version, "metadata": meta}).to_string();
    let mut out = Vec::with_capacity(head.len() + 16 + items.iter().map(|b| b.len() + 1).sum::<usize>());
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    out.extend_from_slice(b",\"items\":[");
    for (i, b) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b);
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

fn scale_of(c: &SimCluster, t: &Target) -> Result<Value, ApiError> {
    let obj = get(c, t)?;
    let m = obj.get("metadata").cloned().unwrap_or(json!({}));
    let selector = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|ml| {
            ml.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    Ok(json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": m.get("name"), "namespace": m.get("namespace"), "uid": m.get("uid"),
                     "resourceVersion": m.get("resourceVersion"), "creationTimestamp": m.get("creationTimestamp")},
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    }))
}

fn set_scale(c: &SimCluster, t: &Target, scale: &Value) -> Result<Value, ApiError> {
    let res = resources::get(t.res);
    let name = t.name.clone().unwrap_or_default();
    let Some(n) = scale.pointer("/spec/replicas").and_then(Value::as_i64) else {
        return Err(ApiError::invalid(
            res,
            &name,
            vec![("spec.replicas".into(), "Required value".into())],
        ));
    };
    if n < 0 {
        return Err(ApiError::new(
            422,
            "Invalid",
            format!("Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {n}: must be greater than or equal to 0"),
        )
        .with_details(json!({"name": name, "group": "autoscaling", "kind": "Scale",
            "causes": [{"reason": "FieldValueInvalid", "message": format!("Invalid value: {n}: must be greater than or equal to 0"), "field": "spec.replicas"}]})));
    }
    let ns = t.ns.clone().unwrap_or_default();
    let rv = scale
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    let patch = match rv {
        Some(rv) if !rv.is_empty() => json!({"metadata": {"resourceVersion": rv}, "spec": {"replicas": n}}),
        _ => json!({"spec": {"replicas": n}}),
    };
    c.write(|s| {
        s.patch(
            t.res,
            &ns,
            &name,
            PatchType::Merge,
            &patch,
            "kube-controller-manager",
            false,
            false,
        )
    })?;
    scale_of(c, t)
}

fn event_line(etype: &str, object: &Value) -> Bytes {
    let mut s = serde_json::to_string(&json!({"type": etype, "object": object})).unwrap_or_default();
    s.push('\n');
    Bytes::from(s)
}

/// A watch line around an object already encoded.
fn encoded_line(etype: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(etype.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(json);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn watch(c: Arc<SimCluster>, t: Target, q: Query, meta_only: bool) -> Response<Body> {
    let res = resources::get(t.res);
    let (labels, fields) = match (
        LabelSelector::parse(q.get("labelSelector").unwrap_or("")),
        FieldSelector::parse(q.get("fieldSelector").unwrap_or(""), res.kind),
    ) {
        (Ok(l), Ok(f)) => (l, f),
        (Err(e), _) | (_, Err(e)) => return error_response(&e),
    };
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let bookmarks = q.flag("allowWatchBookmarks");
    let send_initial = q.flag("sendInitialEvents");
    let rv_param = q.get("resourceVersion").unwrap_or("").to_string();
    let ns = if res.namespaced { t.ns.clone() } else { None };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    // The line for an object: its stored JSON, or its metadata for a metadata-only watch.
    let line = move |etype: &str, v: &Value, json: &Bytes| {
        if meta_only {
            event_line(etype, &as_metadata(v))
        } else {
            encoded_line(etype, json)
        }
    };
    let matches = {
        let ns = ns.clone();
        move |ev_res: ResId, ev_ns: &str, v: &Value| {
            ev_res == t.res
                && ns.as_deref().is_none_or(|n| n == ev_ns)
                && super::state::selects(&labels, v)
                && fields.matches(v)
        }
    };
    // Subscribe and take the starting point under one lock: nothing is missed.
    let (mut live, initial, mut last_rv, expired) = {
        let st = c.read();
        let live = c.events.subscribe();
        let current = st.rv;
        let start: Option<u64> = rv_param.parse().ok().filter(|r| *r > 0);
        match start {
            Some(rv) if rv < st.oldest_rv() => (
                live,
                Vec::new(),
                current,
                Some(format!("too old resource version: {rv} ({})", st.oldest_rv() + 1)),
            ),
            Some(rv) if !send_initial => {
                let replay: Vec<Bytes> = st
                    .history
                    .iter()
                    .filter(|e| e.rv > rv && matches(e.res, &e.ns, &e.object))
                    .map(|e| line(e.etype.as_str(), &e.object, &e.json))
                    .collect();
                (live, replay, current, None)
            }
            _ => {
                let all: Vec<Bytes> = st
                    .iter_encoded(t.res, ns.as_deref(), None)
                    .filter(|((r, n, _), v, _)| matches(*r, n, v))
                    .map(|(_, v, json)| line(EventType::Added.as_str(), v, &json))
                    .collect();
                (live, all, current, None)
            }
        }
    };
    let kind = res.kind;
    let api_version = res.api_version();
    let bookmark = move |rv: u64, initial_end: bool| {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        event_line(
            "BOOKMARK",
            &json!({"kind": kind, "apiVersion": api_version, "metadata": meta}),
        )
    };
    let bookmark_every = c.config.bookmark_interval;
    Stats::bump(&c.stats.watches);
    let open = super::cluster::OpenWatch::new(c.clone(), format!("{}/{}", ns.as_deref().unwrap_or("*"), res.plural));
    tokio::spawn(async move {
        let _open = open;
        if let Some(msg) = expired {
            Stats::bump(&c.stats.watch_410);
            let status = ApiError::expired(msg).to_status();
            let _ = tx.send(event_line("ERROR", &status)).await;
            return;
        }
        let started = tokio::time::Instant::now();
        let deadline = timeout.map(|d| started + d);
        let mut sent: u32 = 0;
        let mut initial = initial.into_iter();
        let mut initial_done = false;
        let far = started + Duration::from_secs(86_400 * 365);
        let mut next_bookmark = started + bookmark_every;
        loop {
            // Faults are read as the watch goes, so switching one on reaches open watches too.
            let faults = c.faults();
            if faults.stall_watches || faults.silent {
                // Say nothing more and hold the connection until the client gives up.
                Stats::bump(&c.stats.stalled);
                tx.closed().await;
                return;
            }
            let drop_at = faults.drop_watch_after_ms.map(|ms| started + Duration::from_millis(ms));
            if faults.drop_watch_after_events.is_some_and(|n| sent >= n)
                || drop_at.is_some_and(|d| tokio::time::Instant::now() >= d)
            {
                Stats::bump(&c.stats.dropped);
                return;
            }
            if !initial_done {
                match initial.next() {
                    Some(l) => {
                        if tx.send(l).await.is_err() {
                            return;
                        }
                        sent += 1;
                        continue;
                    }
                    None => {
                        initial_done = true;
                        if send_initial && bookmarks && tx.send(bookmark(last_rv, true)).await.is_err() {
                            return;
                        }
                    }
                }
            }
            let wake = [
                deadline.unwrap_or(far),
                drop_at.unwrap_or(far),
                next_bookmark,
                tokio::time::Instant::now() + Duration::from_millis(250),
            ]
            .into_iter()
            .min()
            .unwrap_or(far);
            tokio::select! {
                // The client hung up.
                _ = tx.closed() => return,
                ev = live.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= last_rv || !matches(ev.res, &ev.ns, &ev.object) {
                            continue;
                        }
                        last_rv = ev.rv;
                        if tx.send(line(ev.etype.as_str(), &ev.object, &ev.json)).await.is_err() {
                            return;
                        }
                        sent += 1;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        Stats::bump(&c.stats.watch_410);
                        let status = ApiError::expired(format!("too old resource version: {last_rv}")).to_status();
                        let _ = tx.send(event_line("ERROR", &status)).await;
                        return;
                    }
                    Err(_) => return,
                },
                _ = tokio::time::sleep_until(wake) => {
                    let now = tokio::time::Instant::now();
                    if deadline.is_some_and(|d| now >= d) {
                        return;
                    }
                    if now >= next_bookmark {
                        next_bookmark = now + bookmark_every;
                        if bookmarks && !faults.disable_bookmarks {
                            // Events are broadcast under the state lock: holding it, drain what
                            // is queued for this watch, so the bookmark never jumps past one.
                            let (pending, rv) = {
                                let st = c.read();
                                let mut pending = Vec::new();
                                loop {
                                    match live.try_recv() {
                                        Ok(ev) => {
                                            if ev.rv > last_rv && matches(ev.res, &ev.ns, &ev.object) {
                                                pending.push(line(ev.etype.as_str(), &ev.object, &ev.json));
                                            }
                                        }
                                        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {
                                            Stats::bump(&c.stats.watch_410);
                                            let status = ApiError::expired(format!("too old resource version: {last_rv}")).to_status();
                                            pending.push(event_line("ERROR", &status));
                                            break;
                                        }
                                        Err(_) => break,
                                    }
                                }
                                (pending, st.rv)
                            };
                            for line in pending {
                                if tx.send(line).await.is_err() {
                                    return;
                                }
                                sent += 1;
                            }
                            last_rv = last_rv.max(rv);
                            if tx.send(bookmark(last_rv, false)).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });
    stream_response("application/json", rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_form_style() {
        let q = parse_query("&watch=true&labelSelector=env+in+%28a%2Cb%29&x=%zz&y");
        assert_eq!(q[0], ("watch".into(), "true".into()));
        assert_eq!(q[1], ("labelSelector".into(), "env in (a,b)".into()));
        assert_eq!(q[2], ("x".into(), "%zz".into()));
        assert_eq!(q[3], ("y".into(), "".into()));
    }

    #[test]
    fn routes() {
        let t = |p: &str| match route(p) {
            Some(Route::Resource(t)) => Some((resources::get(t.res).plural, t.ns, t.name, t.sub)),
            _ => None,
        };
        assert_eq!(t("/api/v1/namespaces"), Some(("namespaces", None, None, None)));
        assert_eq!(
            t("/api/v1/namespaces/shop"),
            Some(("namespaces", None, Some("shop".into()), None))
        );
        assert_eq!(
            t("/api/v1/namespaces/shop/status"),
            Some(("namespaces", None, Some("shop".into()), Some("status".into())))
        );
        assert_eq!(
            t("/api/v1/namespaces/shop/pods"),
            Some(("pods", Some("shop".into()), None, None))
        );
        assert_eq!(
            t("/api/v1/namespaces/shop/pods/web-1/log"),
            Some(("pods", Some("shop".into()), Some("web-1".into()), Some("log".into())))
        );
        assert_eq!(t("/apis/apps/v1/deployments"), Some(("deployments", None, None, None)));
        assert_eq!(
            t("/apis/apps/v1/namespaces/a/deployments/web/scale"),
            Some((
                "deployments",
                Some("a".into()),
                Some("web".into()),
                Some("scale".into())
            ))
        );
        assert_eq!(t("/apis/apps/v1/namespaces/a/widgets"), None);
        assert_eq!(t("/apis/apps/v1/namespaces/a/deployments/web/log"), None);
        assert!(matches!(route("/apis/tekton.dev/v1"), Some(Route::GroupVersion(..))));
    }
}
