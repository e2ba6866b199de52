//! Namespaces: a deleted one stays Terminating while the namespace
//! controller deletes its content, each object as a client's delete would
//! (pods get their grace period, finalizers hold what they hold), and goes
//! when nothing is left, with conditions saying what remains meanwhile.

use super::*;
use crate::ptr::At;

pub(super) fn namespace(s: &mut State, ids: &Ids, n: &Value, cx: &mut Ctx) {
    if !is_terminating(n) {
        return;
    }
    let ns = name_of(n).to_string();
    let in_ns = |s: &State| -> Vec<(ResId, String)> {
        s.objects
            .keys()
            .filter(|(r, k_ns, _)| *k_ns == ns && resources::get(*r).namespaced)
            .map(|(r, _, name)| (*r, name.clone()))
            .collect()
    };
    for (r, name) in in_ns(s) {
        let live = s.get(r, &ns, &name).is_some_and(|o| !is_terminating(o));
        if live {
            let _ = s.delete(r, &ns, &name, &DeleteOptions::default());
        }
    }
    let left = in_ns(s);
    if left.is_empty() {
        // Content gone: the "kubernetes" finalizer is done; the namespace
        // goes unless someone else's finalizer holds it.
        let held = n
            .at("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if held {
            let mut v = n.clone();
            v["spec"] = json!({});
            s.put(ids.ns, "", v);
        } else {
            s.remove(ids.ns, "", &ns);
        }
        return;
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut finalizers: BTreeMap<String, usize> = BTreeMap::new();
    for (r, name) in &left {
        *kinds.entry(resources::get(*r).qualified()).or_default() += 1;
        let held = s
            .get(*r, &ns, name)
            .and_then(|o| o.at("/metadata/finalizers"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for f in held.iter().filter_map(Value::as_str) {
            *finalizers.entry(f.to_string()).or_default() += 1;
        }
    }
    let content = kinds
        .iter()
        .map(|(k, c)| format!("{k} has {c} resource instances"))
        .collect::<Vec<_>>()
        .join(", ");
    let prev = n.at("/status/conditions").and_then(Value::as_array);
    let prev_of = |t: &str| prev.and_then(|cs| cs.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(t)));
    let mut conditions = vec![
        condition(
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered",
            prev_of("NamespaceDeletionDiscoveryFailure"),
        ),
        condition(
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
            prev_of("NamespaceDeletionGroupVersionParsingFailure"),
        ),
        condition(
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
            prev_of("NamespaceDeletionContentFailure"),
        ),
        condition(
            "NamespaceContentRemaining",
            "True",
            "SomeResourcesRemain",
            &format!("Some resources are remaining: {content}"),
            prev_of("NamespaceContentRemaining"),
        ),
    ];
    if !finalizers.is_empty() {
        let held = finalizers
            .iter()
            .map(|(f, c)| format!("{f} in {c} resource instances"))
            .collect::<Vec<_>>()
            .join(", ");
        conditions.push(condition(
            "NamespaceFinalizersRemaining",
            "True",
            "SomeFinalizersRemain",
            &format!("Some content in the namespace has finalizers remaining: {held}"),
            prev_of("NamespaceFinalizersRemaining"),
        ));
    }
    set_status(s, ids.ns, n, json!({"phase": "Terminating", "conditions": conditions}));
    cx.later
        .push((Instant::now() + Duration::from_millis(250), (ids.ns, String::new(), ns)));
}
