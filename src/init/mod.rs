//! Initializer families and the counter-based RNG behind them. STUB: being written; signature final.

use crate::plan::TensorSpec;

/// The values of one tensor in row-major order. They depend only on `seed`, the tensor's name
/// (or the initializer's own seed), its initializer and its shape.
pub fn generate(spec: &TensorSpec, seed: u64) -> Vec<f32> {
    let _ = seed;
    vec![0.0; spec.element_count()]
}
