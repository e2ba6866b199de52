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

use super::error::ApiError;
use super::faults::FaultRequest;
use super::logs;
use super::resources::{self, RESOURCES, ResId, Resource};
use super::select::{FieldSelector, LabelSelector};
use super::table::{self, Shape};
use crate::cluster::{SimCluster, Stats, User};
use crate::state::{DeleteOptions, Deleted, EventType, Key, PatchType, name_of};

mod discovery;
mod listener;
mod resource;
mod review;
mod watch;
use discovery::*;
use resource::*;
use watch::*;

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
    /// `/api/v1/namespaces/NS/services/NAME[:PORT]/proxy/…`
    ServiceProxy(String, String),
    Resource(Target),
}

/// What a path names; `custom` finds the kinds this cluster's
/// CustomResourceDefinitions serve.
fn route(path: &str, custom: &dyn Fn(&str, &str, &str) -> Option<ResId>) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => return Some(Route::Version),
        ["api"] => return Some(Route::Api),
        ["apis"] => return Some(Route::Apis),
        ["openapi", "v2"] => return Some(Route::OpenApiV2),
        ["openapi", "v3", ..] => return Some(Route::OpenApiV3),
        ["healthz" | "readyz" | "livez"] => return Some(Route::Health),
        ["sim", "faults"] => return Some(Route::Faults),
        ["api", "v1", "namespaces", ns, "services", svc, "proxy", ..] => {
            return Some(Route::ServiceProxy(ns.to_string(), svc.to_string()));
        }
        ["api", "v1"] => return Some(Route::GroupVersion(String::new(), "v1".into())),
        ["apis", g, v] => return Some(Route::GroupVersion(g.to_string(), v.to_string())),
        _ => {}
    }
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    let res_of = |plural: &str| resources::find(group, version, plural).or_else(|| custom(group, version, plural));
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

/// Whether RBAC lets the user do `verb` on a kind (or its subresource), in
/// a namespace or at the cluster scope, on a named object or not.
pub(crate) fn allowed(
    c: &SimCluster,
    user: &User,
    verb: &str,
    res: &Resource,
    sub: Option<&str>,
    ns: Option<&str>,
    name: Option<&str>,
) -> bool {
    let resource = match sub {
        Some(s) => format!("{}/{s}", res.plural),
        None => res.plural.to_string(),
    };
    let who = c.subject(user);
    let st = c.read();
    crate::rbac::allows(
        &st,
        &who,
        &crate::rbac::Ask {
            verb,
            group: res.group,
            resource: &resource,
            namespace: if res.namespaced { ns } else { None },
            name,
        },
    )
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
    let custom = |g: &str, v: &str, p: &str| c.read().custom_resource(g, v, p);
    let Some(r) = route(&path, &custom) else {
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
    let Some(user) = c.user_by_token(&token) else {
        return error_response(&ApiError::unauthorized());
    };
    let tekton_route = match &r {
        Route::GroupVersion(g, _) => g.ends_with("tekton.dev"),
        Route::Resource(t) => resources::get(t.res).group.ends_with("tekton.dev"),
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
        Route::Apis => json_response(200, &api_group_list(&c)),
        Route::GroupVersion(g, v) => match resource_list(&c, &g, &v) {
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
        Route::OpenApiV3 => {
            let rest = path.trim_start_matches('/').trim_start_matches("openapi/v3");
            let custom: Vec<&'static Resource> = c.read().custom_resources().into_iter().map(resources::get).collect();
            if rest.trim_matches('/').is_empty() {
                let gvs: Vec<(&str, &str)> = custom.iter().map(|r| (r.group, r.version)).collect();
                json_response(200, &crate::openapi::index(&gvs))
            } else if let Some(d) = crate::openapi::document(rest) {
                json_response(200, &d)
            } else {
                // A group version of this cluster's definitions: their schemas.
                let gv = rest.trim_matches('/').trim_start_matches("apis/");
                let kinds: Vec<(&Resource, Value)> = custom
                    .iter()
                    .filter(|r| format!("{}/{}", r.group, r.version) == gv)
                    .map(|r| (*r, c.read().custom_schema(r).unwrap_or(json!({"type": "object"}))))
                    .collect();
                if kinds.is_empty() {
                    error_response(&ApiError::no_route())
                } else {
                    json_response(200, &crate::openapi::custom_document(&kinds))
                }
            }
        }
        Route::Health => Response::new(full("ok")),
        Route::Faults => faults_endpoint(&c, &user, req).await,
        Route::ServiceProxy(ns, svc) => listener::sink(c, &user, req, &ns, &svc).await,
        Route::Resource(t) if resources::is_review(resources::get(t.res)) => {
            review::answer(c, &user, req, resources::get(t.res)).await
        }
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
        return super::proto::decode(bytes).map_err(|e| ApiError::new(415, "UnsupportedMediaType", e.0));
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
    // Only a cluster admin (a `*` rule) may.
    let faults = Resource {
        group: "sim.kdeck.dev",
        version: "v1",
        plural: "faults",
        singular: "fault",
        kind: "Fault",
        namespaced: false,
        short_names: &[],
        subresources: &[],
        printer: &[],
    };
    if !allowed(c, user, "create", &faults, None, None, None) {
        return error_response(&ApiError::new(
            403,
            "Forbidden",
            "only a cluster admin may change faults",
        ));
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
    if let Some(d) = fr.cpu_demand_percent {
        c.cpu_demand.store(d, std::sync::atomic::Ordering::Relaxed);
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
        let t = |p: &str| match route(p, &|_, _, _| None) {
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
        assert!(matches!(
            route("/apis/tekton.dev/v1", &|_, _, _| None),
            Some(Route::GroupVersion(..))
        ));
    }
}
