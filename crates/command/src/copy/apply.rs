//! Applying a planned copy: per target cluster, concurrently, each item
//! reported as it lands, cancellable between items.

use super::*;

/// What applying one item came to, and the settings to store for it.
pub(crate) struct Done {
    outcome: ItemOutcome,
    store: Option<(StoredCopy, Option<i64>)>,
}

pub(crate) async fn run_item(ex: &Executor, cluster: &Cluster, it: PlanItem) -> Done {
    let item = it.item();
    let said: Vec<String> = it
        .notes
        .iter()
        .cloned()
        .chain(it.remedies.iter().map(|r| r.words().to_string()))
        .collect();
    let notes = if said.is_empty() {
        String::new()
    } else {
        format!(" ({})", said.join("; "))
    };
    match it.action {
        "fail" => {
            return Done {
                outcome: ItemOutcome::failed(item, it.notes.join("; "), None),
                store: None,
            };
        }
        "skip" => {
            return Done {
                outcome: ItemOutcome::ok(item, format!("skipped: {}", said.join("; "))),
                store: None,
            };
        }
        "unchanged" => {
            // The cluster has it already (a run killed after applying it, say):
            // the settings are stored all the same, as a clean run stores them.
            return Done {
                outcome: ItemOutcome::ok(item, format!("unchanged{notes}")),
                store: it.store.map(|s| {
                    let g = s.live_generation;
                    (s, g)
                }),
            };
        }
        _ => {}
    }
    let mut generation = None;
    for o in &it.apply {
        match ex.gateway().apply(cluster, o).await.map(|d| d.metadata.generation) {
            Ok(g) => {
                if matches!(o["kind"].as_str(), Some("Deployment" | "StatefulSet")) {
                    generation = g;
                }
            }
            Err(p) => {
                let (kind, name) = key(o);
                return Done {
                    outcome: ItemOutcome::failed(
                        item,
                        format!("{} {name}: {}", kind.to_ascii_lowercase(), p.message),
                        p.code,
                    ),
                    store: None,
                };
            }
        }
    }
    let n = it.apply.len();
    Done {
        outcome: ItemOutcome::ok(item, format!("{}d ({n} objects){notes}", it.action)),
        store: it.store.map(|s| (s, generation)),
    }
}

/// Runs a planned copy: target clusters concurrently, up to 8 apps at a
/// time on each. Cancelling lets running items finish; the rest are
/// recorded as not started, and the same copy run again finishes the job.
pub(crate) async fn copy(ex: &Executor, spec: &CopySpec, progress: &Progress) -> Result<Applied, Failure> {
    use futures::StreamExt;
    let plan = plan(ex, spec).await?;
    let mut by_cluster: BTreeMap<String, Vec<PlanItem>> = BTreeMap::new();
    for it in plan.items {
        let cluster = it
            .target
            .split_once('/')
            .map(|(c, _)| c.to_string())
            .unwrap_or_default();
        by_cluster.entry(cluster).or_default().push(it);
    }
    let mut tasks = Vec::new();
    for (cluster_name, items) in by_cluster {
        let ex = ex.clone();
        let progress = progress.clone();
        let new_spaces: Vec<String> = plan
            .new_spaces
            .iter()
            .filter(|s| s.starts_with(&format!("{cluster_name}/")))
            .cloned()
            .collect();
        tasks.push(async move {
            if let Some(tx) = &progress.tx {
                let _ = tx.send(Event::Planned {
                    cluster: cluster_name.clone(),
                    items: items.len(),
                });
            }
            let report = |d: &ItemOutcome| {
                if let Some(tx) = &progress.tx {
                    let _ = tx.send(Event::Done(ItemDone {
                        cluster: cluster_name.clone(),
                        ok: d.ok,
                        item: d.item.clone(),
                        message: d.message.clone(),
                    }));
                }
            };
            let mut out: Vec<Done> = Vec::new();
            let cluster = match cluster_of(&ex, &cluster_name) {
                Ok(c) => c,
                Err(f) => {
                    for it in items {
                        let o = ItemOutcome::failed(it.item(), f.reason.clone(), None);
                        report(&o);
                        out.push(Done {
                            outcome: o,
                            store: None,
                        });
                    }
                    return out;
                }
            };
            // A cluster whose settings make no client fails every item at once.
            match ex.gateway().client(&cluster).await {
                Ok(_) => {}
                Err(p) => {
                    for it in items {
                        let o = ItemOutcome::failed(it.item(), p.message.clone(), p.code);
                        report(&o);
                        out.push(Done {
                            outcome: o,
                            store: None,
                        });
                    }
                    return out;
                }
            };
            for s in &new_spaces {
                let ns = s.split_once('/').map(|(_, n)| n).unwrap_or("");
                if let Err(p) = ex.gateway().create_namespace(&cluster, ns).await {
                    let o = ItemOutcome::failed(format!("space {s}"), p.message, p.code);
                    report(&o);
                    out.push(Done {
                        outcome: o,
                        store: None,
                    });
                }
            }
            let results: Vec<Done> = futures::stream::iter(items)
                .map(|it| {
                    let (ex, cluster, cancel) = (&ex, &cluster, &progress.cancel);
                    async move {
                        if cancel.load(Ordering::SeqCst) {
                            return Done {
                                outcome: ItemOutcome::failed(
                                    it.item(),
                                    "cancelled before it started; run the same copy again to finish",
                                    None,
                                ),
                                store: None,
                            };
                        }
                        run_item(ex, cluster, it).await
                    }
                })
                .buffer_unordered(8)
                .inspect(|d| report(&d.outcome))
                .collect()
                .await;
            out.extend(results);
            out
        });
    }
    let done: Vec<Done> = futures::future::join_all(tasks).await.into_iter().flatten().collect();
    let mut batch = Batch::new();
    let mut items = Vec::new();
    for d in done {
        if let Some((s, generation)) = d.store {
            batch.put(&s.app)?;
            for r in &s.routes {
                batch.put(r)?;
            }
            for b in &s.bindings {
                batch.put(b)?;
            }
            batch.put(&AppState {
                app: Some(s.app.app.clone()),
                deployed_at: Some(ex.now()),
                deployed_generation: generation,
                deployed_digest: Some(s.digest),
                ..Default::default()
            })?;
        }
        items.push(d.outcome);
    }
    items.sort_by(|a, b| a.item.cmp(&b.item));
    if items.is_empty() {
        return Err(invalid("nothing to copy"));
    }
    Ok(Applied { items, batch })
}
