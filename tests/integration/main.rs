//! The one integration test binary: runs the real `initc` on real files.

mod cli;
mod determinism;
mod examples;
mod golden;
mod hf_templates;
mod hostile;
mod inspect;
mod keras;
mod keras_check;
mod keras_functional;
mod keras_layers;
mod keras_values;
mod lint;
mod memory;
mod output;
mod repeated_blocks;
mod schema_and_fuzz;
mod support;
mod torch_rng;
