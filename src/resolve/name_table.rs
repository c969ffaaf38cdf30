//! [`NameTable`]: what each full name of a graph being lowered stands for.

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Values by name, in the order the names were first given. A model has 150,000 names when
/// its blocks are counted; each name is stored once, and the table indexes it with 4 bytes
/// (a `HashMap<String, V>` made 25 MB of buckets for them, touched in random order).
pub(super) struct NameTable<V> {
    entries: Vec<(String, V)>,
    /// Indices into `entries`, by the hash of their names.
    index: HashTable<u32>,
    hasher: FixedState,
}

impl<V> NameTable<V> {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        NameTable {
            entries: Vec::with_capacity(capacity),
            index: HashTable::with_capacity(capacity),
            hasher: FixedState::default(),
        }
    }

    /// Gives `name` the value `value`, replacing what it had.
    pub(super) fn insert(&mut self, name: String, value: V) {
        let hash = self.hasher.hash_one(name.as_str());
        let entries = &mut self.entries;
        if let Some(&at) = self.index.find(hash, |&at| entries[at as usize].0 == name) {
            entries[at as usize].1 = value;
            return;
        }
        let hasher = &self.hasher;
        // A config resolves to at most `MAX_ENTRIES` names and blocks, far below `u32::MAX`.
        let at = entries.len() as u32;
        entries.push((name, value));
        self.index.insert_unique(hash, at, |&at| hasher.hash_one(entries[at as usize].0.as_str()));
    }

    pub(super) fn get(&self, name: &str) -> Option<&V> {
        let hash = self.hasher.hash_one(name);
        let at = self.index.find(hash, |&at| self.entries[at as usize].0 == name)?;
        Some(&self.entries[*at as usize].1)
    }

    pub(super) fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every name, in the order first given.
    pub(super) fn names(&self) -> impl Iterator<Item = &str> {
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
        table.insert("b.7.dense".to_string(), 7000);
        assert_eq!(table.get("b.7.dense"), Some(&7000));
        assert_eq!(table.get("b.999.dense"), Some(&999));
        assert_eq!(table.get("b.1000.dense"), None);
        assert!(table.contains("b.0.dense") && !table.contains("b.0"));
        let names: Vec<&str> = table.names().take(3).collect();
        assert_eq!(names, ["b.0.dense", "b.1.dense", "b.2.dense"]);
        assert_eq!(table.names().count(), 1000);
    }
}
