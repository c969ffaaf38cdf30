//! The random numbers behind every initializer, with no knowledge of plans, tensors' names or
//! configs: the Philox4x32-10 generator and its per-tensor streams, the batch kernels and the
//! samplers of the three distributions, rounding into a dtype, and the orthogonal matrix's QR
//! arithmetic. Bit-exact across runs, thread counts, SIMD widths and platforms: see
//! `specs/rng.md`. The initializer families (`initializers`) draw from here, and `init`
//! orchestrates the draws of one tensor.

pub mod dtype;
pub mod kernel;
pub mod orthogonal;
pub mod philox;
pub mod sampler;
pub mod sampling;
pub mod stream;
pub mod torch;

#[cfg(test)]
pub mod ks;

pub use sampler::{Job, PIECE_ELEMENTS, Sampler, TRUNCATED_STDDEV_CORRECTION, TRUNCATION_BOUND};
pub use sampling::Sampling;
pub use stream::Stream;

use std::collections::TryReserveError;

/// A vector of `len` copies of `value` (`None`: a length past `usize`), or the error of the
/// allocation that failed: never the abort `vec!` gives.
pub fn try_filled<T: Clone>(len: Option<usize>, value: T) -> Result<Vec<T>, TryReserveError> {
    let len = len.unwrap_or(usize::MAX);
    let mut vector = Vec::new();
    vector.try_reserve_exact(len)?;
    vector.resize(len, value);
    Ok(vector)
}
