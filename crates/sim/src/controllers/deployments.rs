//! Deployments and their ReplicaSets: rollouts, surge and unavailability,
//! revisions, progress conditions.

use super::*;
use crate::ptr::At;

pub(super) fn replicaset(s: &mut State, ids: &Ids, rs: &Value, cx: &mut Ctx) {
    let ns = ns_of(rs);
    let uid = uid_of(rs);
    let want = rs.at("/spec/replicas").and_then(Value::as_u64).unwrap_or(1) as usize;
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid))
        .map(|(_, p)| p.clone())
        .collect();
    let live: Vec<&Arc<Value>> = pods.iter().filter(|p| !is_terminating(p)).collect();
    let mut failure = None;
    if live.len() < want {
        let template = rs.at("/spec/template").cloned().unwrap_or(json!({}));
        for _ in live.len()..want {
            let name = format!("{}-{}", name_of(rs), random_suffix(5));
            let p = new_pod(rs, &name, &template, &[]);
            // Refused by admission (a quota): said, and tried again later.
            if let Err(msg) = create_pod(s, ids, (ids.rs, rs), p, cx) {
                failure = Some(msg);
                break;
            }
        }
    } else if live.len() > want {
        let mut victims: Vec<String> = live.iter().map(|p| name_of(p).to_string()).collect();
        victims.sort();
        for n in victims.into_iter().skip(want) {
            let _ = s.delete(ids.pod, &ns, &n, &DeleteOptions::default());
            emit(s, ids, rs, "Normal", "SuccessfulDelete", &format!("Deleted pod: {n}"));
        }
    }
    let pods: Vec<Arc<Value>> = s
        .iter_kind(ids.pod, Some(&ns))
        .filter(|(_, p)| owned_by(p, &uid) && !is_terminating(p))
        .map(|(_, p)| p.clone())
        .collect();
    let ready = pods.iter().filter(|p| pod_ready(p)).count();
    let mut status = json!({"replicas": pods.len(), "fullyLabeledReplicas": pods.len(), "readyReplicas": ready, "availableReplicas": ready,
                        "observedGeneration": rs.at("/metadata/generation").cloned().unwrap_or(json!(1))});
    let prev = rs
        .at("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c.get("type") == Some(&json!("ReplicaFailure"))));
    if let Some(msg) = failure {
        let mut c = condition("ReplicaFailure", "True", "FailedCreate", &msg, prev);
        if let Some(o) = c.as_object_mut() {
            o.remove("lastUpdateTime");
        }
        status["conditions"] = json!([c]);
    } else if pods.len() < want
        && let Some(p) = prev
    {
        // Still short: the failure stands until a pod is created.
        status["conditions"] = json!([p]);
    }
    set_status(s, ids.rs, rs, status);
}

pub(super) fn deployment(s: &mut State, ids: &Ids, cfg: &crate::cluster::SimConfig, d: &Value, cx: &mut Ctx) {
    if is_terminating(d) {
        return;
    }
    let ns = ns_of(d);
    let uid = uid_of(d);
    let dname = name_of(d).to_string();
    let want = d.at("/spec/replicas").and_then(Value::as_u64).unwrap_or(1);
    let template = d.at("/spec/template").cloned().unwrap_or(json!({}));
    let hash = short_hash(&template);
    let owned: Vec<Arc<Value>> = s
        .iter_kind(ids.rs, Some(&ns))
        .filter(|(_, r)| owned_by(r, &uid))
        .map(|(_, r)| r.clone())
        .collect();
    let revision_of = |r: &Value| {
        r.at("/metadata/annotations/deployment.kubernetes.io~1revision")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let max_rev = owned.iter().map(|r| revision_of(r)).max().unwrap_or(0);
    let paused = d.at("/spec/paused").and_then(Value::as_bool).unwrap_or(false);
    let new_rs = owned
        .iter()
        .find(|r| r.at("/metadata/labels/pod-template-hash").and_then(Value::as_str) == Some(hash.as_str()))
        .cloned();
    let new_rs = match new_rs {
        Some(r) => {
            // Make the current template's ReplicaSet the newest revision again on a rollback.
            if revision_of(&r) < max_rev && !paused {
                let mut v = (*r).clone();
                v["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!((max_rev + 1).to_string());
                s.put(ids.rs, &ns, v)
            } else {
                r
            }
        }
        None if paused => return,
        None => {
            let mut t = template.clone();
            t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut sel = d.at("/spec/selector").cloned().unwrap_or(json!({}));
            sel["matchLabels"]["pod-template-hash"] = json!(hash);
            let name = format!("{dname}-{hash}");
            let rs = json!({
                "metadata": {"name": name, "namespace": ns, "labels": t.at("/metadata/labels"),
                             "annotations": {"deployment.kubernetes.io/revision": (max_rev + 1).to_string(),
                                             "deployment.kubernetes.io/desired-replicas": want.to_string()},
                             "ownerReferences": [owner_ref(d, true)]},
                "spec": {"replicas": 0, "selector": sel, "template": t},
            });
            let created = s.put(ids.rs, &ns, rs);
            emit(
                s,
                ids,
                d,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {name} from 0 to {want}"),
            );
            created
        }
    };
    let new_name = name_of(&new_rs).to_string();
    // Scale the new one to the goal; old ones go to zero once the new one is fully ready.
    let set_replicas = |s: &mut State, r: &Value, n: u64| {
        if r.at("/spec/replicas").and_then(Value::as_u64) != Some(n) {
            let mut v = r.clone();
            v["spec"]["replicas"] = json!(n);
            v["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = json!(want.to_string());
            s.put(ids.rs, &ns_of(r), v);
        }
    };
    set_replicas(s, &new_rs, want);
    let new_rs = s.get(ids.rs, &ns, &new_name).cloned().unwrap_or(new_rs);
    let new_ready = new_rs.at("/status/readyReplicas").and_then(Value::as_u64).unwrap_or(0);
    let new_count = new_rs.at("/status/replicas").and_then(Value::as_u64).unwrap_or(0);
    if new_ready >= want {
        for r in owned.iter().filter(|r| name_of(r) != new_name) {
            if r.at("/spec/replicas").and_then(Value::as_u64).unwrap_or(0) > 0 {
                set_replicas(s, r, 0);
                emit(
                    s,
                    ids,
                    d,
                    "Normal",
                    "ScalingReplicaSet",
                    &format!("Scaled down replica set {} to 0", name_of(r)),
                );
            }
        }
    }
    // Keep at most revisionHistoryLimit old ReplicaSets.
    let limit = d.at("/spec/revisionHistoryLimit").and_then(Value::as_u64).unwrap_or(10) as usize;
    let mut old: Vec<&Arc<Value>> = owned
        .iter()
        .filter(|r| {
            name_of(r) != new_name
                && r.at("/spec/replicas").and_then(Value::as_u64) == Some(0)
                && r.at("/status/replicas").and_then(Value::as_u64).unwrap_or(0) == 0
        })
        .collect();
    if old.len() > limit {
        old.sort_by_key(|r| revision_of(r));
        let extra = old.len() - limit;
        for r in old.into_iter().take(extra) {
            let _ = s.delete(ids.rs, &ns, name_of(r), &DeleteOptions::default());
        }
    }
    // Status from all owned ReplicaSets as they are now.
    let owned: Vec<Arc<Value>> = s
        .iter_kind(ids.rs, Some(&ns))
        .filter(|(_, r)| owned_by(r, &uid))
        .map(|(_, r)| r.clone())
        .collect();
    let sum = |f: &str| {
        owned
            .iter()
            .map(|r| r.at(&format!("/status/{f}")).and_then(Value::as_u64).unwrap_or(0))
            .sum::<u64>()
    };
    let replicas = sum("replicas");
    let ready = sum("readyReplicas");
    let available = sum("availableReplicas");
    let prev = d.get("status").cloned().unwrap_or(json!({}));
    let prev_cond = |t: &str| {
        prev.get("conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c.get("type") == Some(&json!(t))))
            .cloned()
    };
    let complete = new_ready >= want && replicas == new_count && available >= want;
    let deadline_secs = d
        .at("/spec/progressDeadlineSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(600);
    let deadline = cfg.progress_deadline.min(Duration::from_secs(deadline_secs));
    let prev_progress = prev_cond("Progressing");
    let progressing = if complete {
        condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
            prev_progress.as_ref(),
        )
    } else {
        let started = prev_progress
            .as_ref()
            .filter(|p| {
                p.get("reason") == Some(&json!("ReplicaSetUpdated"))
                    || p.get("reason") == Some(&json!("ProgressDeadlineExceeded"))
            })
            .filter(|p| {
                p.get("message")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.contains(&new_name))
            })
            .and_then(|p| p.get("lastTransitionTime").and_then(Value::as_str))
            .and_then(ms_since);
        let elapsed = started.unwrap_or(0);
        if started.is_some() && Duration::from_millis(elapsed) >= deadline {
            condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
                prev_progress.as_ref(),
            )
        } else {
            let left = deadline.saturating_sub(Duration::from_millis(elapsed));
            cx.later.push((
                Instant::now() + left + Duration::from_millis(50),
                (ids.deploy, ns.clone(), dname.clone()),
            ));
            let mut c = condition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{new_name}\" is progressing."),
                prev_progress.as_ref(),
            );
            if started.is_none() {
                c["lastTransitionTime"] = json!(now_rfc3339());
            }
            c
        }
    };
    let available_cond = if available >= want {
        condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            prev_cond("Available").as_ref(),
        )
    } else {
        condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            prev_cond("Available").as_ref(),
        )
    };
    let mut conditions = vec![available_cond, progressing];
    // A pod the new ReplicaSet could not create (a quota) shows on the Deployment, as the real controller copies it.
    if let Some(f) = s
        .get(ids.rs, &ns, &new_name)
        .and_then(|r| r.at("/status/conditions").cloned())
        .and_then(|cs| {
            cs.as_array()?
                .iter()
                .find(|c| c.get("type") == Some(&json!("ReplicaFailure")))
                .cloned()
        })
    {
        conditions.push(condition(
            "ReplicaFailure",
            "True",
            "FailedCreate",
            f.get("message").and_then(Value::as_str).unwrap_or(""),
            prev_cond("ReplicaFailure").as_ref(),
        ));
    }
    let mut status = json!({
        "observedGeneration": d.at("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": replicas, "updatedReplicas": new_count, "readyReplicas": ready, "availableReplicas": available,
        "conditions": conditions,
    });
    if replicas > available {
        status["unavailableReplicas"] = json!(replicas - available);
    }
    // Only a real change is written (timestamps of unchanged conditions are kept above).
    set_status(s, ids.deploy, d, status);
    let rev = revision_of(&new_rs);
    if d.at("/metadata/annotations/deployment.kubernetes.io~1revision")
        .and_then(Value::as_str)
        != Some(rev.to_string().as_str())
        && let Some(cur) = s.get(ids.deploy, &ns, &dname).cloned()
    {
        let mut v = (*cur).clone();
        v["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!(rev.to_string());
        s.put(ids.deploy, &ns, v);
    }
}
