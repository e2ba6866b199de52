//! The resource endpoints: get, list (paged), create, update, patch,
//! apply, delete, and the scale subresource.

use super::*;
use crate::ptr::At;

pub(super) async fn resource(
    c: Arc<SimCluster>,
    user: User,
    req: Request<Incoming>,
    t: Target,
    q: Query,
) -> Response<Body> {
    let res = resources::get(t.res);
    let verb = verb_of(req.method(), &t, &q);
    let rbac_verb = if t.sub.as_deref() == Some("log") { "get" } else { verb };
    if !allowed(
        &c,
        &user,
        rbac_verb,
        res,
        t.sub.as_deref(),
        t.ns.as_deref(),
        t.name.as_deref(),
    ) {
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
    if res.group == "events.k8s.io" && !matches!(verb, "get" | "list" | "watch") {
        return events_v1_write(&c, req, &t, &q, verb).await;
    }
    let shape = shape_of(&req, &q);
    // Unknown fields dropped under fieldValidation=Warn, said back as warnings.
    let mut warnings: Vec<String> = Vec::new();
    let result = match (verb, t.sub.as_deref()) {
        ("list", _) => {
            return match list(&c, &t, &q, shape) {
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
        ("watch", _) if crate::state::State::is_derived(t.res) => return derived_watch(c, t, q, shape),
        ("watch", _) => return watch(c, t, q, shape),
        ("get", Some("log")) => return logs::serve(c, &ns, t.name.as_deref().unwrap_or(""), &q.0).await,
        ("get", Some("scale")) => scale_of(&c, &t),
        ("get", _) => get(&c, &t).map(|v| table::shaped(shape, res, &v).unwrap_or_else(|| (*v).clone())),
        ("create", _) => {
            if t.name.is_some() {
                return error_response(&ApiError::method_not_allowed());
            }
            let manager = manager_of(&req, &q);
            let dry = dry_run(&q);
            match read_body(req)
                .await
                .and_then(|(ct, b)| parse_body(&ct, &b))
                .and_then(|b| field_check(&c, res, &q, b, &mut warnings))
            {
                Ok(body) => write_or_try(&c, dry, |s| s.create(t.res, &ns, body, &manager))
                    .map(|v| (*v).clone())
                    .map(return_created),
                Err(e) => Err(e),
            }
        }
        ("update", sub) => {
            let manager = manager_of(&req, &q);
            let name = t.name.clone().unwrap_or_default();
            let dry = dry_run(&q);
            match read_body(req)
                .await
                .and_then(|(ct, b)| parse_body(&ct, &b))
                .and_then(|b| match sub {
                    Some("scale") => Ok(b),
                    _ => field_check(&c, res, &q, b, &mut warnings),
                }) {
                Ok(body) if sub == Some("scale") => set_scale(&c, &t, &body),
                Ok(body) => write_or_try(&c, dry, |s| {
                    s.update(t.res, &ns, &name, body, sub == Some("status"), &manager)
                })
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
            if ptype == PatchType::Strategic && resources::is_custom(resources::get(t.res)) {
                return error_response(&ApiError::strategic_on_custom());
            }
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
            match read_body(req)
                .await
                .and_then(|(ct, b)| parse_body(&ct, &b))
                .and_then(|b| match (sub, ptype) {
                    (Some("scale"), _) | (_, PatchType::Json) => Ok(b),
                    _ => field_check(&c, res, &q, b, &mut warnings),
                }) {
                Ok(body) if sub == Some("scale") => {
                    let current = scale_of(&c, &t);
                    match current {
                        Ok(mut sc) => {
                            match ptype {
                                PatchType::Json => {
                                    if let Err(e) = crate::patch::json_patch(&mut sc, &body) {
                                        return error_response(&ApiError::new(422, "Invalid", e.0));
                                    }
                                }
                                _ => crate::patch::merge_patch(&mut sc, &body),
                            }
                            set_scale(&c, &t, &sc)
                        }
                        Err(e) => Err(e),
                    }
                }
                Ok(body) => write_or_try(&c, dry_run(&q), |s| {
                    s.patch(t.res, &ns, &name, ptype, &body, &manager, force, sub == Some("status"))
                })
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
            // kubectl sends DeleteOptions.dryRun in the body; other clients in the query.
            let mut dry = dry_run(&q);
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
                        opts.precondition_uid = v.at("/preconditions/uid").and_then(Value::as_str).map(str::to_string);
                        opts.precondition_rv = v
                            .at("/preconditions/resourceVersion")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        dry |= v
                            .get("dryRun")
                            .and_then(Value::as_array)
                            .is_some_and(|d| d.iter().any(|x| x == "All"));
                    }
                    Err(e) => {
                        return error_response(&ApiError::bad_request(format!("error decoding DeleteOptions: {e}")));
                    }
                }
            }
            write_or_try(&c, dry, |s| s.delete(t.res, &ns, &name, &opts)).map(|d| match d {
                Deleted::Marked(v) => (*v).clone(),
                Deleted::Gone(v) => json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": name_of(&v), "group": res.group, "kind": res.plural, "uid": v.at("/metadata/uid")}}),
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
                        .at("/metadata/namespace")
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
            let mut r = json_response(code, &v);
            for w in &warnings {
                let text = format!(
                    "299 - {}",
                    serde_json::to_string(&format!("unknown field {w:?}")).unwrap_or_default()
                );
                if let Ok(h) = hyper::header::HeaderValue::from_str(&text) {
                    r.headers_mut().append("warning", h);
                }
            }
            r
        }
        Err(e) => error_response(&e),
    }
}

/// Server-side field validation (`fieldValidation`): fields the kind does
/// not have fail the request under Strict (kubectl's default), are dropped
/// and warned of under Warn (the default when none is asked for), dropped
/// silently under Ignore.
fn field_check(
    c: &SimCluster,
    res: &Resource,
    q: &Query,
    mut body: Value,
    warnings: &mut Vec<String>,
) -> Result<Value, ApiError> {
    let mode = q.get("fieldValidation").unwrap_or("Warn");
    if !matches!(mode, "Strict" | "Warn" | "Ignore") {
        return Err(ApiError::bad_request(format!(
            "fieldValidation: Invalid value: \"{mode}\": fieldValidation must be one of Ignore, Warn, Strict"
        )));
    }
    // Custom resources by their definition's schema, the built-in kinds by
    // their fields (no state lock for those).
    let custom = if resources::is_defined(res) {
        c.read().custom_schema(res)
    } else {
        None
    };
    let unknown = match custom {
        Some(schema) => crate::state::unknown_custom_fields(&schema, &mut body),
        None => crate::proto::unknown_fields(&res.api_version(), res.kind, &mut body),
    };
    if unknown.is_empty() || mode == "Ignore" {
        return Ok(body);
    }
    if mode == "Strict" {
        let list = unknown
            .iter()
            .map(|f| format!("unknown field {f:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {list}",
            kind = res.kind,
            version = res.version
        )));
    }
    warnings.extend(unknown);
    Ok(body)
}

/// Whether the request asks for a server-side dry run (`dryRun=All`).
fn dry_run(q: &Query) -> bool {
    q.get("dryRun").is_some_and(|d| d == "All")
}

/// A write, or with `dry` the same write tried on a scratch copy of the
/// state: the same answer (defaults, validation, conflicts), nothing kept.
fn write_or_try<R>(c: &SimCluster, dry: bool, f: impl FnOnce(&mut crate::state::State) -> R) -> R {
    if dry {
        let mut scratch = c.read().scratch();
        f(&mut scratch)
    } else {
        c.write(f)
    }
}

pub(super) fn return_created(mut v: Value) -> Value {
    v["__created"] = json!(true);
    v
}

pub(super) fn get(c: &SimCluster, t: &Target) -> Result<Arc<Value>, ApiError> {
    let res = resources::get(t.res);
    let name = t.name.as_deref().unwrap_or("");
    let ns = if res.namespaced {
        t.ns.as_deref().unwrap_or("")
    } else {
        ""
    };
    let st = c.read();
    let found = if crate::state::State::is_derived(t.res) {
        st.derived_one(t.res, ns, name)
    } else {
        st.get(t.res, ns, name).cloned()
    };
    found.ok_or_else(|| ApiError::not_found(res, name))
}

/// A list answer, put together from the stored objects' JSON.
pub(super) fn list(c: &SimCluster, t: &Target, q: &Query, shape: Shape) -> Result<Vec<u8>, ApiError> {
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
    // metadata for a metadata-only one, a row for a Table.
    let now = table::now_unix();
    let encode = |v: &Arc<Value>, json: Bytes| match shape {
        Shape::Full => json,
        Shape::Metadata => Bytes::from(serde_json::to_vec(&table::metadata_of(v)).unwrap_or_default()),
        Shape::Table(include) => Bytes::from(serde_json::to_vec(&table::row(res, v, include, now)).unwrap_or_default()),
    };
    let (items, last) = if crate::state::State::is_derived(t.res) {
        // Computed from the Services and pods stored now: one page, no continue.
        let items = st
            .derived(t.res, ns)
            .iter()
            .filter(|v| crate::state::selects(&labels, v) && fields.matches(v))
            .map(|v| encode(v, Bytes::from(serde_json::to_vec(&**v).unwrap_or_default())))
            .collect();
        (items, None)
    } else {
        st.list_with(t.res, ns, &labels, &fields, after.as_ref(), limit, |_, v, json| {
            encode(v, json)
        })
    };
    drop(st);
    let mut meta = json!({"resourceVersion": list_rv.to_string()});
    if let Some(k) = last {
        meta["continue"] = json!(encode_continue(list_rv, &k));
    }
    let (head, field) = match shape {
        Shape::Full => (
            json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": meta}),
            "items",
        ),
        Shape::Metadata => (
            json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta}),
            "items",
        ),
        Shape::Table(_) => (table::table(res, meta, Vec::new()), "rows"),
    };
    let mut head = head;
    if let Value::Object(m) = &mut head {
        m.remove("rows");
    }
    let head = head.to_string();
    let mut out = Vec::with_capacity(head.len() + 16 + items.iter().map(|b| b.len() + 1).sum::<usize>());
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    out.extend_from_slice(format!(",\"{field}\":[").as_bytes());
    for (i, b) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b);
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

pub(super) fn scale_of(c: &SimCluster, t: &Target) -> Result<Value, ApiError> {
    let obj = get(c, t)?;
    let m = obj.get("metadata").cloned().unwrap_or(json!({}));
    let selector = obj
        .at("/spec/selector/matchLabels")
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
        "spec": {"replicas": obj.at("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": obj.at("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    }))
}

pub(super) fn set_scale(c: &SimCluster, t: &Target, scale: &Value) -> Result<Value, ApiError> {
    let res = resources::get(t.res);
    let name = t.name.clone().unwrap_or_default();
    let Some(n) = scale.at("/spec/replicas").and_then(Value::as_i64) else {
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
        .at("/metadata/resourceVersion")
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

/// The token in a `continue`: the last key served, and the list's resourceVersion.
pub(super) fn encode_continue(rv: u64, key: &Key) -> String {
    use base64::Engine;
    let v = json!({"rv": rv, "ns": key.1, "name": key.2});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

pub(super) fn decode_continue(res: ResId, token: &str) -> Result<(u64, Key), ApiError> {
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

/// What the client asked the answer to be: objects, their metadata, or a Table.
pub(super) fn shape_of(req: &Request<Incoming>, q: &Query) -> Shape {
    let accept = req.headers().get("accept").and_then(|h| h.to_str().ok()).unwrap_or("");
    Shape::from_accept(accept, q.get("includeObject"))
}

pub(super) fn manager_of(req: &Request<Incoming>, q: &Query) -> String {
    if let Some(m) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    req.headers()
        .get("user-agent")
        .and_then(|h| h.to_str().ok())
        .map(|ua| ua.split('/').next().unwrap_or(ua).to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Writes to events.k8s.io/v1 Events land on the core Events they are.
async fn events_v1_write(c: &SimCluster, req: Request<Incoming>, t: &Target, q: &Query, verb: &str) -> Response<Body> {
    use crate::state::events::{from_events_v1, to_events_v1};
    let core = resources::ids::of("Event");
    let ns = t.ns.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let manager = manager_of(&req, q);
    let dry = dry_run(q);
    let answer = match verb {
        "create" | "update" => match read_body(req).await.and_then(|(ct, b)| parse_body(&ct, &b)) {
            Ok(body) => {
                let body = from_events_v1(&body);
                let created = verb == "create";
                write_or_try(c, dry, |s| {
                    if created {
                        s.create(core, &ns, body, &manager)
                    } else {
                        s.update(core, &ns, &name, body, false, &manager)
                    }
                })
                .map(|v| {
                    let out = to_events_v1(&v);
                    if created { return_created(out) } else { out }
                })
            }
            Err(e) => Err(e),
        },
        "delete" => write_or_try(c, dry, |s| s.delete(core, &ns, &name, &DeleteOptions::default())).map(|d| match d {
            Deleted::Marked(v) | Deleted::Gone(v) => {
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                       "details": {"name": name_of(&v), "group": "events.k8s.io", "kind": "events", "uid": v.at("/metadata/uid")}})
            }
        }),
        _ => Err(ApiError::method_not_allowed()),
    };
    match answer {
        Ok(mut v) => {
            let code = if v.get("__created").is_some() { 201 } else { 200 };
            if let Value::Object(m) = &mut v {
                m.remove("__created");
            }
            json_response(code, &v)
        }
        Err(e) => error_response(&e),
    }
}
