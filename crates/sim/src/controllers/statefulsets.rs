//! StatefulSets: ordered pods with stable names and their claims.

use super::*;
use crate::ptr::At;

pub(super) fn statefulset(s: &mut State, ids: &Ids, sts: &Value) {
    if is_terminating(sts) {
        return;
    }
    let ns = ns_of(sts);
    let uid = uid_of(sts);
    let name = name_of(sts).to_string();
    let want = sts.at("/spec/replicas").and_then(Value::as_u64).unwrap_or(1);
    let template = sts.at("/spec/template").cloned().unwrap_or(json!({}));
    let hash = short_hash(&template);
    let rev = format!("{name}-{hash}");
    revisions(s, ids, sts, &rev, &hash, &template);
    let pods: BTreeMap<u64, Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid))
        .filter_map(|(_, p)| {
            name_of(p)
                .rsplit('-')
                .next()
                .and_then(|i| i.parse().ok())
                .map(|i| (i, p.clone()))
        })
        .collect();
    // Ordered: create ordinal i only when all below it are Ready; remove from the top.
    let mut all_ready_below = true;
    for i in 0..want {
        match pods.get(&i) {
            Some(p) => {
                let current = p
                    .at("/metadata/labels/controller-revision-hash")
                    .and_then(Value::as_str)
                    == Some(rev.as_str());
                if !current
                    && all_ready_below
                    && !is_terminating(p)
                    && pods.values().all(|q| pod_ready(q) || is_terminating(q))
                {
                    // Roll one pod at a time, highest first is the real order; one per pass keeps it ordered.
                    let top = (0..want).rev().find(|j| {
                        pods.get(j).is_some_and(|q| {
                            q.at("/metadata/labels/controller-revision-hash")
                                .and_then(Value::as_str)
                                != Some(rev.as_str())
                        })
                    });
                    if let Some(j) = top
                        && let Some(q) = pods.get(&j)
                    {
                        let _ = s.delete(ids.pod, &ns, name_of(q), &DeleteOptions::default());
                    }
                    all_ready_below = false;
                    continue;
                }
                all_ready_below &= pod_ready(p) && !is_terminating(p);
            }
            None if all_ready_below => {
                let pname = format!("{name}-{i}");
                let mut p = new_pod(
                    sts,
                    &pname,
                    &template,
                    &[
                        ("controller-revision-hash", rev.clone()),
                        ("statefulset.kubernetes.io/pod-name", pname.clone()),
                    ],
                );
                if let Err(m) = claims_for(s, ids, sts, &pname, &mut p).and_then(|()| {
                    s.admit("Pod", &ns, &mut p)
                        .map_err(|m| format!("pods \"{pname}\" is forbidden: {m}"))
                }) {
                    emit(
                        s,
                        ids,
                        sts,
                        "Warning",
                        "FailedCreate",
                        &format!("create Pod {pname} in StatefulSet {name} failed error: {m}"),
                    );
                    break;
                }
                s.put(ids.pod, &ns, p);
                emit(
                    s,
                    ids,
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    &format!("create Pod {pname} in StatefulSet {name} successful"),
                );
                all_ready_below = false;
            }
            None => {}
        }
    }
    if let Some((i, p)) = pods.iter().rev().find(|(i, p)| **i >= want && !is_terminating(p)) {
        let _ = s.delete(ids.pod, &ns, name_of(p), &DeleteOptions::default());
        emit(
            s,
            ids,
            sts,
            "Normal",
            "SuccessfulDelete",
            &format!("delete Pod {name}-{i} in StatefulSet {name} successful"),
        );
    }
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid) && !is_terminating(p))
        .map(|(_, p)| p.clone())
        .collect();
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let updated = pods
        .iter()
        .filter(|p| {
            p.at("/metadata/labels/controller-revision-hash")
                .and_then(Value::as_str)
                == Some(rev.as_str())
        })
        .count();
    // currentRevision stays the old one until every pod runs the new.
    let current = if updated == pods.len() {
        rev.clone()
    } else {
        pods.iter()
            .filter_map(|p| {
                p.at("/metadata/labels/controller-revision-hash")
                    .and_then(Value::as_str)
            })
            .find(|h| *h != rev)
            .unwrap_or(rev.as_str())
            .to_string()
    };
    let current_replicas = if current == rev {
        updated
    } else {
        pods.len().saturating_sub(updated)
    };
    let status = json!({"observedGeneration": sts.at("/metadata/generation").cloned().unwrap_or(json!(1)), "replicas": pods.len(),
                        "readyReplicas": ready, "currentReplicas": current_replicas,
                        "updatedReplicas": updated, "availableReplicas": ready,
                        "currentRevision": current, "updateRevision": rev, "collisionCount": 0});
    set_status(s, ids.sts, sts, status);
}

/// The StatefulSet's ControllerRevisions: one per template it ran, named
/// `NAME-HASH`, its `data` the template as the real controller keeps it;
/// going back to an earlier template gives that revision the next number
/// (it is reused, not copied), and at most `revisionHistoryLimit` (10)
/// besides the current one are kept.
fn revisions(s: &mut State, ids: &Ids, sts: &Value, rev: &str, hash: &str, template: &Value) {
    let ns = ns_of(sts);
    let uid = uid_of(sts);
    let owned: Vec<Arc<Value>> = s
        .iter_kind(ids.cr, Some(&ns))
        .filter(|(_, r)| owned_by(r, &uid))
        .map(|(_, r)| r.clone())
        .collect();
    let number = |r: &Value| r.get("revision").and_then(Value::as_u64).unwrap_or(0);
    let max = owned.iter().map(|r| number(r)).max().unwrap_or(0);
    match owned.iter().find(|r| name_of(r) == rev) {
        Some(r) if number(r) < max => {
            let mut v = (**r).clone();
            v["revision"] = json!(max + 1);
            s.put(ids.cr, &ns, v);
        }
        Some(_) => {}
        None => {
            let mut labels = template.at("/metadata/labels").cloned().unwrap_or(json!({}));
            labels["controller-revision-hash"] = json!(hash);
            let cr = json!({
                "apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": rev, "namespace": ns, "labels": labels,
                             "ownerReferences": [owner_ref(sts, true)]},
                "data": {"spec": {"template": template, "$patch": "replace"}},
                "revision": max + 1,
            });
            s.put(ids.cr, &ns, cr);
        }
    }
    let limit = sts
        .at("/spec/revisionHistoryLimit")
        .and_then(Value::as_u64)
        .unwrap_or(10) as usize;
    let mut old: Vec<&Arc<Value>> = owned.iter().filter(|r| name_of(r) != rev).collect();
    if old.len() > limit {
        old.sort_by_key(|r| number(r));
        let extra = old.len() - limit;
        for r in old.into_iter().take(extra) {
            let _ = s.delete(ids.cr, &ns, name_of(r), &DeleteOptions::default());
        }
    }
}

/// Each volumeClaimTemplate's claim for one pod (`<template>-<pod>`), made
/// when missing and kept when the pod goes, and the pod's volume naming it.
fn claims_for(s: &mut State, ids: &Ids, sts: &Value, pod_name: &str, pod: &mut Value) -> Result<(), String> {
    let ns = ns_of(sts);
    let templates = sts
        .at("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for t in templates {
        let tname = name_of(&t).to_string();
        let claim = format!("{tname}-{pod_name}");
        if s.get(ids.pvc, &ns, &claim).is_none() {
            let mut labels = sts.at("/spec/selector/matchLabels").cloned().unwrap_or(json!({}));
            if let Some(l) = labels.as_object_mut() {
                for (k, v) in t
                    .at("/metadata/labels")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    l.insert(k.clone(), v.clone());
                }
            }
            let mut pvc = json!({"metadata": {"name": claim, "namespace": ns, "labels": labels},
                                 "spec": t.get("spec").cloned().unwrap_or(json!({})),
                                 "status": {"phase": "Pending"}});
            s.admit("PersistentVolumeClaim", &ns, &mut pvc)
                .map_err(|m| format!("persistentvolumeclaims \"{claim}\" is forbidden: {m}"))?;
            s.put(ids.pvc, &ns, pvc);
            emit(
                s,
                ids,
                sts,
                "Normal",
                "SuccessfulCreate",
                &format!(
                    "create Claim {claim} Pod {pod_name} in StatefulSet {} success",
                    name_of(sts)
                ),
            );
        }
        let vols = &mut pod["spec"]["volumes"];
        if !vols.is_array() {
            *vols = json!([]);
        }
        if let Some(list) = vols.as_array_mut() {
            list.retain(|v| v.get("name").and_then(Value::as_str) != Some(tname.as_str()));
            list.push(json!({"name": tname, "persistentVolumeClaim": {"claimName": claim}}));
        }
    }
    Ok(())
}
