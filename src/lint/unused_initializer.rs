//! `unused-initializer` (W0701): a custom initializer under `initializers:` that no weight uses.
//!
//! **What:** warns about a custom initializer that no layer's `*_initializer`, no param's
//! `initializer` and no used custom initializer names. One named only by unused ones is
//! unused too.
//!
//! **Why:** the definition has no effect on the output. Usually a layer was meant to use it
//! and names a built-in instead, or the name is misspelt at the use (which would be E0401 only
//! if the misspelling is not itself a built-in).
//!
//! **Example:**
//! ```yaml
//! initializers:
//!   small: "random_normal(stddev=0.01)"   # never used
//! layers:
//!   - dense: {units: 8, kernel_initializer: glorot_uniform}
//! ```
//! Give it to the layer (`kernel_initializer: small`) or remove it.

use super::{ConfigInput, walk};
use crate::config::{Node, Value};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
// Keys are names of the model: a fast hasher, since a model may have 100,000 nodes.
use foldhash::{HashMap, HashSet, HashSetExt};

pub fn check(input: &ConfigInput) -> Diagnostics {
    let config = input.config;
    let mut used: HashSet<&str> = HashSet::new();
    for layer in &config.layers {
        walk(layer, &mut |node| {
            if let Value::Map(entries) = &node.value {
                for (key, value) in entries {
                    let is_initializer =
                        key.as_str().is_some_and(|k| k == "initializer" || k.ends_with("_initializer"));
                    if let Some(name) = referenced_name(value).filter(|_| is_initializer) {
                        used.insert(name);
                    }
                }
            }
        });
    }
    // A custom initializer defined as another one uses it: follow each used one's definition
    // once (a worklist, so a chain of 100,000 costs 100,000 steps, not their square).
    let definitions: HashMap<&str, &Node> =
        config.initializers.iter().filter_map(|(key, value)| key.as_str().map(|name| (name, value))).collect();
    let mut pending: Vec<&str> = used.iter().copied().collect();
    while let Some(name) = pending.pop() {
        if let Some(named) = definitions.get(name).and_then(|value| referenced_name(value))
            && used.insert(named)
        {
            pending.push(named);
        }
    }
    config
        .initializers
        .iter()
        .filter_map(|(key, _)| key.as_str().filter(|name| !used.contains(name)).map(|name| (name, key.span)))
        .map(|(name, span)| {
            Diagnostic::of(Code::UnusedInitializer, format!("custom initializer `{name}` is never used"))
                .at_labelled(span, "defined here")
                .with_help(format!("give it to a weight (`kernel_initializer: {name}`), or remove it"))
        })
        .collect()
}

/// The initializer a string names: `small` in `small` (or `random_normal` in a call).
fn referenced_name(node: &Node) -> Option<&str> {
    let text = node.as_str()?;
    let name = text.split('(').next().unwrap_or(text).trim();
    (!name.is_empty()).then_some(name)
}
