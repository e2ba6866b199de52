//! Rows mirrored from watch streams. A [`Mirror`] follows one stream; a
//! [`Group`] holds the mirrors of every stream of one shape (one per space
//! when watches are per space) and merges them for readers only when one
//! changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use kube::runtime::watcher::Event;

/// Applies one watcher event to a map of rows: `Init` starts a fresh copy
/// that replaces the old one at `InitDone`, so a relist drops what is gone
/// and readers never see a half-listed map.
pub(super) struct Mirror<K: Ord, V> {
    pub(super) rows: Arc<BTreeMap<K, V>>,
    pending: Option<BTreeMap<K, V>>,
}

impl<K: Ord + Clone, V: Clone> Mirror<K, V> {
    pub(super) fn new() -> Self {
        Self {
            rows: Arc::default(),
            pending: None,
        }
    }

    pub(super) fn apply<O>(&mut self, ev: Event<O>, key: impl Fn(&O) -> K, view: impl Fn(&O) -> V) {
        match ev {
            Event::Init => self.pending = Some(BTreeMap::new()),
            Event::InitApply(o) => {
                if let Some(p) = self.pending.as_mut() {
                    p.insert(key(&o), view(&o));
                }
            }
            Event::InitDone => {
                if let Some(p) = self.pending.take() {
                    self.rows = Arc::new(p);
                }
            }
            Event::Apply(o) => {
                Arc::make_mut(&mut self.rows).insert(key(&o), view(&o));
            }
            Event::Delete(o) => {
                Arc::make_mut(&mut self.rows).remove(&key(&o));
            }
        }
    }
}

/// The mirrors of several streams, by stream id.
pub(super) struct Group<K: Ord, V> {
    parts: BTreeMap<u64, Mirror<K, V>>,
    merged: Arc<BTreeMap<K, V>>,
    dirty: bool,
}

impl<K: Ord + Clone, V: Clone> Group<K, V> {
    pub(super) fn new() -> Self {
        Self {
            parts: BTreeMap::new(),
            merged: Arc::default(),
            dirty: false,
        }
    }

    /// The mirror of stream `id`, created on first use.
    pub(super) fn part(&mut self, id: u64) -> &mut Mirror<K, V> {
        self.dirty = true;
        self.parts.entry(id).or_insert_with(Mirror::new)
    }

    /// Applies an event of stream `id`. A change to one row changes the
    /// merged map in place (one copy per publish at most, when readers hold
    /// the last one) instead of merging every part again; a relist marks the
    /// group for a full merge.
    pub(super) fn apply<O>(&mut self, id: u64, ev: Event<O>, key: impl Fn(&O) -> K, view: impl Fn(&O) -> V) {
        if self.dirty || !self.parts.contains_key(&id) || !matches!(ev, Event::Apply(_) | Event::Delete(_)) {
            self.part(id).apply(ev, key, view);
            return;
        }
        let part = self.parts.entry(id).or_insert_with(Mirror::new);
        // One part: the merged map is that part's map, shared.
        let shared = Arc::ptr_eq(&part.rows, &self.merged);
        match ev {
            Event::Apply(o) => {
                let (k, v) = (key(&o), view(&o));
                if shared {
                    Arc::make_mut(&mut part.rows).insert(k, v);
                    self.merged = part.rows.clone();
                } else {
                    Arc::make_mut(&mut part.rows).insert(k.clone(), v.clone());
                    Arc::make_mut(&mut self.merged).insert(k, v);
                }
            }
            Event::Delete(o) => {
                let k = key(&o);
                Arc::make_mut(&mut part.rows).remove(&k);
                if shared {
                    self.merged = part.rows.clone();
                } else {
                    Arc::make_mut(&mut self.merged).remove(&k);
                }
            }
            _ => {}
        }
    }

    /// A stream was stopped: its rows go.
    pub(super) fn remove(&mut self, id: u64) {
        if self.parts.remove(&id).is_some() {
            self.dirty = true;
        }
    }

    /// A stream was restarted under a new id: its rows stay until the new
    /// stream's first list replaces them.
    pub(super) fn rekey(&mut self, old: u64, new: u64) {
        if let Some(m) = self.parts.remove(&old) {
            self.parts.insert(new, m);
        }
    }

    /// Every part's rows in one map, shared with the last call's result
    /// when nothing changed.
    pub(super) fn rows(&mut self) -> Arc<BTreeMap<K, V>> {
        if !self.dirty {
            return self.merged.clone();
        }
        self.dirty = false;
        self.merged = match self.parts.len() {
            0 => Arc::default(),
            1 => self.parts.values().next().map(|m| m.rows.clone()).unwrap_or_default(),
            _ => {
                let mut all = BTreeMap::new();
                for m in self.parts.values() {
                    all.extend(m.rows.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                Arc::new(all)
            }
        };
        self.merged.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(e: Event<(u32, &'static str)>, m: &mut Mirror<u32, &'static str>) {
        m.apply(e, |o| o.0, |o| o.1);
    }

    #[test]
    fn a_relist_replaces_rows_only_when_complete() {
        let mut m = Mirror::new();
        ev(Event::Apply((1, "a")), &mut m);
        ev(Event::Apply((2, "b")), &mut m);
        ev(Event::Init, &mut m);
        ev(Event::InitApply((2, "b2")), &mut m);
        // Mid-relist, readers still see the old rows.
        assert_eq!(m.rows.len(), 2);
        ev(Event::InitDone, &mut m);
        assert_eq!(m.rows.iter().collect::<Vec<_>>(), vec![(&2, &"b2")]);
        ev(Event::Delete((2, "")), &mut m);
        assert!(m.rows.is_empty());
    }

    #[test]
    fn groups_merge_parts_and_drop_stopped_ones() {
        let mut g: Group<u32, &'static str> = Group::new();
        g.part(7).apply(Event::Apply((1, "a")), |o: &(u32, &str)| o.0, |o| o.1);
        assert_eq!(g.rows().len(), 1);
        g.part(8).apply(Event::Apply((2, "b")), |o: &(u32, &str)| o.0, |o| o.1);
        let both = g.rows();
        assert_eq!(both.len(), 2);
        // Unchanged: the same map, not a copy.
        assert!(Arc::ptr_eq(&both, &g.rows()));
        g.rekey(8, 9);
        g.remove(7);
        assert_eq!(g.rows().keys().collect::<Vec<_>>(), vec![&2]);
        g.remove(9);
        assert!(g.rows().is_empty());
    }

    #[test]
    fn row_changes_update_the_merged_map_in_place_and_agree_with_a_full_merge() {
        let mut g: Group<u32, &'static str> = Group::new();
        let k = |o: &(u32, &'static str)| o.0;
        let v = |o: &(u32, &'static str)| o.1;
        g.apply(1, Event::Init, k, v);
        g.apply(1, Event::InitApply((1, "a")), k, v);
        g.apply(1, Event::InitDone, k, v);
        g.apply(2, Event::Apply((5, "e")), k, v);
        let before = g.rows();
        assert_eq!(before.len(), 2);
        // Readers keep what they had; the next rows have the change.
        g.apply(1, Event::Apply((2, "b")), k, v);
        g.apply(2, Event::Delete((5, "")), k, v);
        g.apply(2, Event::Apply((6, "f")), k, v);
        assert_eq!(before.len(), 2);
        let after = g.rows();
        assert_eq!(
            after.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            vec![(1, "a"), (2, "b"), (6, "f")]
        );
        // The same as merging the parts from scratch.
        g.dirty = true;
        assert_eq!(*g.rows(), *after);
        // One part: its map is the merged map, not a copy.
        let mut one: Group<u32, &'static str> = Group::new();
        one.apply(3, Event::Apply((1, "a")), k, v);
        let r = one.rows();
        one.apply(3, Event::Apply((2, "b")), k, v);
        assert_eq!(one.rows().len(), 2);
        assert_eq!(r.len(), 1);
        assert!(Arc::ptr_eq(&one.rows(), &one.parts[&3].rows));
    }
}
