//! `unused-var` (W0702): a var under `vars:` that nothing refers to.
//!
//! **What:** warns about a var that no size, shape, initializer argument, `when:`, check, `--set`
//! override or used var mentions. A var used only by unused vars is unused too.
//!
//! **Why:** an unused var is a leftover or a misspelling: `--set` on it changes nothing, and a
//! reader of the config believes it sizes something.
//!
//! **Example:**
//! ```yaml
//! vars: {d_model: 64, d_ff: 256}   # d_ff is never used
//! input: [d_model]
//! layers: [{dense: {units: d_model}}]
//! ```
//! Use it (`units: d_ff`) or remove it.
//!
//! References are found by name: any identifier in a string of the config outside `vars:`
//! counts as a use, so a layer `name:` equal to a var's name hides the warning (never the
//! other way round).

use super::{ConfigInput, walk};
use crate::config::{Node, Value};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
// Keys are names of the model: a fast hasher, since a model may have 100,000 nodes.
use foldhash::{HashMap, HashSet, HashSetExt};

pub fn check(input: &ConfigInput) -> Diagnostics {
    let config = input.config;
    let mut used: HashSet<String> = HashSet::new();
    let roots = [&config.name, &config.seed, &config.input].into_iter().flatten().chain(&config.checks);
    let initializer_values = config.initializers.iter().map(|(_, value)| value);
    for root in roots.chain(initializer_values).chain(&config.layers) {
        walk(root, &mut |node| collect_identifiers(node, &mut used));
    }
    for (_, text) in &input.overrides.sets {
        used.extend(identifiers(text).map(str::to_string));
    }
    // A var used by a used var is used: follow each used var's definition once (a worklist,
    // so a chain of 100,000 vars costs 100,000 steps, not their square).
    let definitions: HashMap<&str, &Node> =
        config.vars.iter().filter_map(|(key, value)| key.as_str().map(|name| (name, value))).collect();
    let mut pending: Vec<String> = used.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        let Some(value) = definitions.get(name.as_str()) else { continue };
        let mut found = HashSet::new();
        walk(value, &mut |node| collect_identifiers(node, &mut found));
        pending.extend(found.into_iter().filter(|name| used.insert(name.clone())));
    }
    config
        .vars
        .iter()
        .filter_map(|(key, _)| key.as_str().filter(|name| !used.contains(*name)).map(|name| (name, key.span)))
        .map(|(name, span)| {
            Diagnostic::of(Code::UnusedVar, format!("var `{name}` is never used"))
                .at_labelled(span, "defined here")
                .with_help("use it in a size, shape or initializer argument, or remove it")
        })
        .collect()
}

/// Adds the identifiers in a string value (map keys are not references).
fn collect_identifiers(node: &Node, used: &mut HashSet<String>) {
    if let Value::Str(text) = &node.value {
        used.extend(identifiers(text).map(str::to_string));
    }
}

/// The identifiers (`[A-Za-z_][A-Za-z0-9_]*`) in an expression, skipping numbers like `1e5`.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let start = at;
            let byte = bytes[at];
            let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
            if byte.is_ascii_alphabetic() || byte == b'_' {
                // A dotted name (`rope_scaling.factor`) is one var.
                while at < bytes.len()
                    && (word(bytes[at])
                        || (bytes[at] == b'.'
                            && bytes.get(at + 1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')))
                {
                    at += 1;
                }
                return Some(&text[start..at]);
            }
            if byte.is_ascii_digit() {
                while at < bytes.len() && (word(bytes[at]) || bytes[at] == b'.') {
                    at += 1;
                }
            } else {
                at += 1;
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::identifiers;

    #[test]
    fn identifiers_skip_numbers_and_operators() {
        let found: Vec<&str> = identifiers("2 * d_model + 1e5 / sqrt(fan_in) - x1 * rope.factor").collect();
        assert_eq!(found, ["d_model", "sqrt", "fan_in", "x1", "rope.factor"]);
    }
}
