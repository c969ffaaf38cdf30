//! [`NameTable`]: what each full name of a graph being lowered stands for.

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Values by name, in the order the names were first given. A model has 150,000 names when
/// its blocks are counted, and most are never looked up (a chain names nothing): names are
/// indexed at the first lookup, with 4 bytes each (a `HashMap<String, V>` made 25 MB of
/// buckets for them, touched in random order).
pub(super) struct NameTable<V> {
    entries: Vec<(String, V)>,
    /// Indices into `entries`, by the hash of their names; `None` until the first lookup, and
    /// until then `entries` may hold a name more than once (the last value counts).
    index: Option<HashTable<u32>>,
    /// The hashes of the names whose last part starts with `add`: a residual block's `add` is
    /// named `<block>.add` unless that name is taken, which only such a name can take, so that
    /// check needs no index when none of them matches.
    adds: HashTable<u64>,
    hasher: FixedState,
}

/// Whether `name` could be taken by a residual block's `add` (`<block>.add`, `<block>.add_2`).
fn is_add_like(name: &str) -> bool {
    name.rsplit('.').next().is_some_and(|last| last.starts_with("add"))
}

impl<V> NameTable<V> {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        NameTable {
            entries: Vec::with_capacity(capacity),
            index: None,
            adds: HashTable::new(),
            hasher: FixedState::default(),
        }
    }

    /// Gives `name` the value `value`, replacing what it had.
    pub(super) fn insert(&mut self, name: String, value: V) {
        let add_like = is_add_like(&name);
        let hash = (add_like || self.index.is_some()).then(|| self.hasher.hash_one(name.as_str()));
        if let Some(hash) = hash
            && add_like
            && self.adds.find(hash, |&known| known == hash).is_none()
        {
            self.adds.insert_unique(hash, hash, |&known| known);
        }
        match (&mut self.index, hash) {
            (Some(index), Some(hash)) => {
                Self::insert_indexed(index, &mut self.entries, &self.hasher, hash, name, value)
            }
            _ => self.entries.push((name, value)),
        }
    }

    fn insert_indexed(
        index: &mut HashTable<u32>,
        entries: &mut Vec<(String, V)>,
        hasher: &FixedState,
        hash: u64,
        name: String,
        value: V,
    ) {
        if let Some(&at) = index.find(hash, |&at| entries[at as usize].0 == name) {
            entries[at as usize].1 = value;
            return;
        }
        // A config resolves to at most `MAX_ENTRIES` names and blocks, far below `u32::MAX`.
        let at = entries.len() as u32;
        entries.push((name, value));
        index.insert_unique(hash, at, |&at| hasher.hash_one(entries[at as usize].0.as_str()));
    }

    /// Makes the index, at the first lookup.
    fn index(&mut self) {
        if self.index.is_none() {
            let given = std::mem::take(&mut self.entries);
            let mut index = HashTable::with_capacity(given.len());
            self.entries.reserve(given.len());
            for (name, value) in given {
                let hash = self.hasher.hash_one(name.as_str());
                Self::insert_indexed(&mut index, &mut self.entries, &self.hasher, hash, name, value);
            }
            self.index = Some(index);
        }
    }

    pub(super) fn get(&mut self, name: &str) -> Option<&V> {
        self.index();
        let hash = self.hasher.hash_one(name);
        let entries = &self.entries;
        let at = *self.index.as_ref()?.find(hash, |&at| entries[at as usize].0 == name)?;
        Some(&entries[at as usize].1)
    }

    pub(super) fn contains(&mut self, name: &str) -> bool {
        if is_add_like(name) {
            let hash = self.hasher.hash_one(name);
            if self.adds.find(hash, |&known| known == hash).is_none() {
                return false;
            }
        }
        self.get(name).is_some()
    }

    /// Every name, in the order first given.
    pub(super) fn names(&mut self) -> impl Iterator<Item = &str> {
        self.index();
        self.entries.iter().map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::NameTable;

    #[test]
    fn a_name_given_again_keeps_its_place_and_takes_the_new_value() {
        let mut table = NameTable::with_capacity(2);
        for k in 0..1000 {
            table.insert(format!("b.{k}.dense"), k);
        }
        // Given again before and after the first lookup.
        table.insert("b.7.dense".to_string(), 7000);
        assert_eq!(table.get("b.7.dense"), Some(&7000));
        table.insert("b.8.dense".to_string(), 8000);
        assert_eq!(table.get("b.8.dense"), Some(&8000));
        assert_eq!(table.get("b.999.dense"), Some(&999));
        assert_eq!(table.get("b.1000.dense"), None);
        assert!(table.contains("b.0.dense") && !table.contains("b.0"));
        let names: Vec<&str> = table.names().take(3).collect();
        assert_eq!(names, ["b.0.dense", "b.1.dense", "b.2.dense"]);
        assert_eq!(table.names().count(), 1000);
    }

    #[test]
    fn add_like_names_are_found_with_or_without_the_index() {
        let mut table = NameTable::with_capacity(4);
        table.insert("b.0.dense".to_string(), 0);
        table.insert("b.0.add".to_string(), 1);
        table.insert("b.1.inner.add_3".to_string(), 2);
        assert!(table.contains("b.0.add") && table.contains("b.1.inner.add_3"));
        assert!(!table.contains("b.1.add") && !table.contains("b.0.add_1"));
        let mut fresh = NameTable::with_capacity(1);
        fresh.insert("x".to_string(), 0);
        assert!(!fresh.contains("x.add"));
        assert!(fresh.index.is_none(), "a free `add` name needs no index");
        assert!(fresh.contains("x"));
    }
}
