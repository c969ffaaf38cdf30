//! [`NameTable`]: what each full name of a graph being lowered stands for.

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Values by name, in the order the names were first given. A model has 150,000 names when
/// its blocks are counted, and most are never looked up (a chain names nothing): names are
/// indexed at the first lookup, with 4 bytes each (a `HashMap<String, V>` made 25 MB of
/// buckets for them, touched in random order). A graph node's name is not copied: its entry
/// holds the node's index, and lookups read the name from the node (`name_of`).
pub(super) struct NameTable<V> {
    entries: Vec<Entry<V>>,
    /// Indices into `entries`, by the hash of their names; `None` until the first lookup, and
    /// until then `entries` may hold a name more than once (the last value counts).
    index: Option<HashTable<u32>>,
    /// The hashes of the names whose last part starts with `add`: a residual block's `add` is
    /// named `<block>.add` unless that name is taken, which only such a name can take, so that
    /// check needs no index when none of them matches.
    adds: HashTable<u64>,
    hasher: FixedState,
}

/// What a name stands for: a graph node (by index), or a value with its own name.
enum Entry<V> {
    Node(u32),
    /// Boxed: most entries are nodes.
    Named(Box<(String, V)>),
}

/// What [`NameTable::get`] finds.
#[derive(Debug, PartialEq)]
pub(super) enum Found<'a, V> {
    Node(usize),
    Value(&'a V),
}

/// Whether `name` could be taken by a residual block's `add` (`<block>.add`, `<block>.add_2`).
fn is_add_like(name: &str) -> bool {
    // Bytes, not a `char` pattern: this runs on every name of a graph.
    let last = name
        .as_bytes()
        .iter()
        .rposition(|&byte| byte == b'.')
        .map_or(name.as_bytes(), |dot| &name.as_bytes()[dot + 1..]);
    last.starts_with(b"add")
}

impl<V> Entry<V> {
    fn name<'e, 'n: 'e>(&'e self, name_of: &impl Fn(usize) -> &'n str) -> &'e str {
        match self {
            Entry::Node(node) => name_of(*node as usize),
            Entry::Named(named) => &named.0,
        }
    }
}

impl<V> NameTable<V> {
    /// A table for `capacity` names, `adds` of them `add`-like.
    pub(super) fn with_capacity(capacity: usize, adds: usize) -> Self {
        NameTable {
            entries: Vec::with_capacity(capacity),
            index: None,
            adds: HashTable::with_capacity(adds),
            hasher: FixedState::default(),
        }
    }

    /// Gives `name` the value `value`, replacing what it had.
    pub(super) fn insert<'n>(&mut self, name: String, value: V, name_of: impl Fn(usize) -> &'n str) {
        let hash = self.note(&name);
        self.push(hash, Entry::Named(Box::new((name, value))), &name_of);
    }

    /// Gives node `node`'s name, `name`, to that node, replacing what the name had.
    pub(super) fn insert_node<'n>(&mut self, node: usize, name: &str, name_of: impl Fn(usize) -> &'n str) {
        let hash = self.note(name);
        // A config resolves to at most `MAX_ENTRIES` nodes, far below `u32::MAX`.
        self.push(hash, Entry::Node(node as u32), &name_of);
    }

    /// Notes an `add`-like name; returns the name's hash when it is needed.
    fn note(&mut self, name: &str) -> Option<u64> {
        let add_like = is_add_like(name);
        let hash = (add_like || self.index.is_some()).then(|| self.hasher.hash_one(name));
        if let Some(hash) = hash
            && add_like
            && self.adds.find(hash, |&known| known == hash).is_none()
        {
            self.adds.insert_unique(hash, hash, |&known| known);
        }
        hash
    }

    fn push<'n>(&mut self, hash: Option<u64>, entry: Entry<V>, name_of: &impl Fn(usize) -> &'n str) {
        match (&mut self.index, hash) {
            (Some(index), Some(hash)) => {
                Self::insert_indexed(index, &mut self.entries, &self.hasher, hash, entry, name_of)
            }
            _ => self.entries.push(entry),
        }
    }

    fn insert_indexed<'n>(
        index: &mut HashTable<u32>,
        entries: &mut Vec<Entry<V>>,
        hasher: &FixedState,
        hash: u64,
        entry: Entry<V>,
        name_of: &impl Fn(usize) -> &'n str,
    ) {
        let found = {
            let name = entry.name(name_of);
            index.find(hash, |&at| entries[at as usize].name(name_of) == name).copied()
        };
        if let Some(at) = found {
            entries[at as usize] = entry;
            return;
        }
        // A config resolves to at most `MAX_ENTRIES` names and blocks, far below `u32::MAX`.
        let at = entries.len() as u32;
        entries.push(entry);
        index.insert_unique(hash, at, |&at| hasher.hash_one(entries[at as usize].name(name_of)));
    }
    /// Makes the index, at the first lookup.
    fn index<'n>(&mut self, name_of: &impl Fn(usize) -> &'n str) {
        if self.index.is_none() {
            let given = std::mem::take(&mut self.entries);
            let mut index = HashTable::with_capacity(given.len());
            self.entries.reserve(given.len());
            for entry in given {
                let hash = self.hasher.hash_one(entry.name(name_of));
                Self::insert_indexed(&mut index, &mut self.entries, &self.hasher, hash, entry, name_of);
            }
            self.index = Some(index);
        }
    }

    /// What `name` stands for; `name_of` gives a node's name.
    pub(super) fn get<'n>(&mut self, name: &str, name_of: impl Fn(usize) -> &'n str) -> Option<Found<'_, V>> {
        self.index(&name_of);
        let hash = self.hasher.hash_one(name);
        let entries = &self.entries;
        let at = *self.index.as_ref()?.find(hash, |&at| entries[at as usize].name(&name_of) == name)?;
        Some(match &entries[at as usize] {
            Entry::Node(node) => Found::Node(*node as usize),
            Entry::Named(named) => Found::Value(&named.1),
        })
    }

    pub(super) fn contains<'n>(&mut self, name: &str, name_of: impl Fn(usize) -> &'n str) -> bool {
        if is_add_like(name) {
            let hash = self.hasher.hash_one(name);
            if self.adds.find(hash, |&known| known == hash).is_none() {
                return false;
            }
        }
        self.get(name, name_of).is_some()
    }

    /// Every name, in the order first given.
    pub(super) fn names<'a, 'n: 'a>(
        &'a mut self,
        name_of: impl Fn(usize) -> &'n str + 'a,
    ) -> impl Iterator<Item = &'a str> {
        self.index(&name_of);
        self.entries.iter().map(move |entry| entry.name(&name_of))
    }
}

#[cfg(test)]
mod tests {
    use super::{Found, NameTable};

    #[test]
    fn a_name_given_again_keeps_its_place_and_takes_the_new_value() {
        // Nodes named `b.<k>.dense`; the table holds their indices, and values of its own.
        let nodes: Vec<String> = (0..1000).map(|k| format!("b.{k}.dense")).collect();
        let name_of = |node: usize| nodes[node].as_str();
        let mut table = NameTable::with_capacity(2, 0);
        for (k, name) in nodes.iter().enumerate().take(500) {
            table.insert_node(k, name, name_of);
        }
        for k in 500..1000 {
            table.insert(format!("b.{k}.dense"), k, name_of);
        }
        // Given again before and after the first lookup.
        table.insert("b.7.dense".to_string(), 7000, name_of);
        assert_eq!(table.get("b.7.dense", name_of), Some(Found::Value(&7000)));
        table.insert("b.8.dense".to_string(), 8000, name_of);
        assert_eq!(table.get("b.8.dense", name_of), Some(Found::Value(&8000)));
        table.insert_node(600, "b.600.dense", name_of);
        assert_eq!(table.get("b.600.dense", name_of), Some(Found::Node(600)));
        assert_eq!(table.get("b.9.dense", name_of), Some(Found::Node(9)));
        assert_eq!(table.get("b.999.dense", name_of), Some(Found::Value(&999)));
        assert_eq!(table.get("b.1000.dense", name_of), None);
        assert!(table.contains("b.0.dense", name_of) && !table.contains("b.0", name_of));
        let names: Vec<&str> = table.names(name_of).take(3).collect();
        assert_eq!(names, ["b.0.dense", "b.1.dense", "b.2.dense"]);
        assert_eq!(table.names(name_of).count(), 1000);
    }

    #[test]
    fn add_like_names_are_found_with_or_without_the_index() {
        let nodes = ["b.0.dense", "b.0.add"];
        let name_of = |node: usize| nodes[node];
        let mut table = NameTable::with_capacity(4, 1);
        table.insert_node(0, "b.0.dense", name_of);
        table.insert_node(1, "b.0.add", name_of);
        table.insert("b.1.inner.add_3".to_string(), 2, name_of);
        assert!(table.contains("b.0.add", name_of) && table.contains("b.1.inner.add_3", name_of));
        assert!(!table.contains("b.1.add", name_of) && !table.contains("b.0.add_1", name_of));
        let mut fresh = NameTable::with_capacity(1, 0);
        fresh.insert("x".to_string(), 0, name_of);
        assert!(!fresh.contains("x.add", name_of));
        assert!(fresh.index.is_none(), "a free `add` name needs no index");
        assert!(fresh.contains("x", name_of));
    }
}
