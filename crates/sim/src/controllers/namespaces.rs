//! Namespaces: Terminating until their content is gone.

use super::*;

pub(super) fn namespace(s: &mut State, ids: &Ids, n: &Value) {
    if !is_terminating(n) {
        return;
    }
    let ns = name_of(n).to_string();
    let keys: Vec<(ResId, String)> = s
        .objects
        .keys()
        .filter(|(r, k_ns, _)| *k_ns == ns && resources::get(*r).namespaced)
        .map(|(r, _, name)| (*r, name.clone()))
        .collect();
    for (r, name) in keys {
        s.remove(r, &ns, &name);
    }
    s.remove(ids.ns, "", &ns);
}
