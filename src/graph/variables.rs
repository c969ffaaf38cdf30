//! The values of `vars:` in one scope, which initializer arguments read in `plan`.

use crate::dsl::Value;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::Arc;

/// Evaluated variables, shared by every layer in a scope; a repeated block adds `i`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Variables {
    /// The `vars:` values, one map shared by every scope: a copy per repeated block would cost
    /// (vars × copies), which the config controls.
    values: Arc<HashMap<String, Value>>,
    /// Names a scope binds (`i` of the innermost repeated block), which shadow `values`. The
    /// names are the language's own, never the config's, so they are not copied per scope; one
    /// is kept inline (a block repeated 50,000 times makes a scope per copy).
    locals: SmallVec<[(&'static str, f64); 1]>,
}

impl Variables {
    /// The `vars:` values, with no local binding.
    pub fn new(values: HashMap<String, Value>) -> Variables {
        Variables { values: Arc::new(values), locals: SmallVec::new() }
    }

    /// A var's number; `None` for a name that is not a var or holds no number.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.value(name).and_then(|value| value.as_number())
    }

    /// A var's value of any kind (a string, null or a list from a config.json).
    pub fn value(&self, name: &str) -> Option<Value> {
        match self.locals.iter().rev().find(|(local, _)| *local == name) {
            Some((_, value)) => Some(Value::Number(*value)),
            None => self.values.get(name).cloned(),
        }
    }

    /// These variables plus `name = value` (shadowing an outer one).
    pub fn with(&self, name: &'static str, value: f64) -> Arc<Variables> {
        let mut locals = SmallVec::with_capacity(self.locals.len() + 1);
        locals.extend(self.locals.iter().filter(|(local, _)| *local != name).copied());
        locals.push((name, value));
        Arc::new(Variables { values: self.values.clone(), locals })
    }

    /// Whether both read the same `vars:` map (a scope binding never copies it).
    pub fn shares_values_with(&self, other: &Variables) -> bool {
        Arc::ptr_eq(&self.values, &other.values)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        let shadowed = |name: &&str| self.locals.iter().any(|(local, _)| local == name);
        let outer = self.values.keys().map(String::as_str).filter(move |name| !shadowed(name));
        self.locals.iter().map(|(name, _)| *name).chain(outer)
    }
}
