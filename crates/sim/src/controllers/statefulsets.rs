//! StatefulSets: ordered pods with stable names and their claims.

use super::*;

pub(super) fn statefulset(s: &mut State, ids: &Ids, sts: &Value) {
    if is_terminating(sts) {
        return;
    }
    let ns = ns_of(sts);
    let uid = uid_of(sts);
    let name = name_of(sts).to_string();
    let want = sts.pointer("/spec/replicas").and_then(Value::as_u64).unwrap_or(1);
    let template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let rev = format!("{name}-{}", short_hash(&template));
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
                    .pointer("/metadata/labels/controller-revision-hash")
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
                            q.pointer("/metadata/labels/controller-revision-hash")
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
                let p = new_pod(
                    sts,
                    &pname,
                    &template,
                    &[
                        ("controller-revision-hash", rev.clone()),
                        ("statefulset.kubernetes.io/pod-name", pname.clone()),
                    ],
                );
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
            p.pointer("/metadata/labels/controller-revision-hash")
                .and_then(Value::as_str)
                == Some(rev.as_str())
        })
        .count();
    let status = json!({"observedGeneration": sts.pointer("/metadata/generation").cloned().unwrap_or(json!(1)), "replicas": pods.len(),
                        "readyReplicas": ready, "currentReplicas": updated, "updatedReplicas": updated, "availableReplicas": ready,
                        "currentRevision": rev, "updateRevision": rev, "collisionCount": 0});
    set_status(s, ids.sts, sts, status);
}
