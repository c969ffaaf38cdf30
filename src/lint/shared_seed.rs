//! `shared-seed` (W0706): one explicit `seed` given to several random tensors.
//!
//! **What:** warns when two or more random tensors get their values from the same explicit
//! initializer `seed` — written twice, or once in a custom initializer or a repeated block
//! that several tensors use.
//!
//! **Why:** as in Keras, an explicit seed replaces the tensor's own stream: every tensor with
//! seed 7 draws the same numbers, so tensors of one shape and initializer are identical copies
//! and others repeat each other's first values. That is the Keras pitfall of
//! `kernel_initializer=GlorotUniform(seed=7)` reused across layers; it is rarely meant.
//!
//! **Example:**
//! ```yaml
//! initializers:
//!   init: "glorot_uniform(seed=7)"
//! layers:
//!   - dense: {units: 8, kernel_initializer: init}
//!   - dense: {units: 8, kernel_initializer: init}   # the same values as the first kernel
//! ```
//! Remove `seed`: each tensor then gets its own stream from the model's `seed`, which is just
//! as reproducible.

use crate::Stages;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::lint::LintOptions;
use crate::plan::TensorSpec;
use crate::source::Span;
use std::collections::BTreeMap;

/// How many tensor names a message lists before "and N more".
const NAMES_SHOWN: usize = 4;

pub fn check(stages: &Stages, _options: &LintOptions) -> Diagnostics {
    let mut by_seed: BTreeMap<u64, Vec<&TensorSpec>> = BTreeMap::new();
    for tensor in stages.plan.tensors.iter().filter(|tensor| tensor.initializer.is_random()) {
        if let Some(seed) = tensor.initializer.explicit_seed() {
            by_seed.entry(seed).or_default().push(tensor);
        }
    }
    let mut found = Vec::new();
    for (seed, tensors) in by_seed.into_iter().filter(|(_, tensors)| tensors.len() > 1) {
        let mut names: Vec<String> = tensors.iter().take(NAMES_SHOWN).map(|t| format!("`{}`", t.name)).collect();
        if tensors.len() > NAMES_SHOWN {
            names.push(format!("and {} more", tensors.len() - NAMES_SHOWN));
        }
        let mut origins: Vec<Span> = Vec::new();
        for tensor in &tensors {
            if !origins.contains(&tensor.origin) {
                origins.push(tensor.origin);
            }
        }
        let (first, rest) = origins.split_first().map_or((Span::default(), &[][..]), |(f, r)| (*f, r));
        let mut diagnostic = Diagnostic::of(
            Code::SharedSeed,
            format!("{} tensors draw from the same explicit seed {seed}: {}", tensors.len(), names.join(", ")),
        )
        .at_labelled(first, format!("`seed={seed}`"));
        for &origin in rest {
            diagnostic = diagnostic.with_note_at(origin, "the same seed");
        }
        found.push(diagnostic.with_help(
            "an explicit seed replaces the tensor's own stream, so these tensors repeat each other's values; \
             remove `seed` (the model's `seed` keeps them reproducible)",
        ));
    }
    found
}
