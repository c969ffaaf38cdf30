//! How a family makes a tensor's values, as `init` receives it from the family: one constant,
//! independent draws from the tensor's stream, a function of the element's index, or a finished
//! orthogonal matrix.

use super::orthogonal::Orthogonal;
use super::sampler::Sampler;

/// A tensor's values before they are written: every element is a function of its index alone
/// (and of the stream the family was given), so any window can be made on its own.
pub enum Sampling {
    /// Every element is this value.
    Constant(f64),
    /// Element `i` is draw `i` of the tensor's stream.
    Draws(Sampler),
    /// Element `i` is `value(i)` (identity's diagonal).
    Indexed(Box<dyn Fn(usize) -> f64 + Send + Sync>),
    /// An orthogonal matrix, computed whole (every column depends on every reflector).
    Orthogonal(Orthogonal),
}
