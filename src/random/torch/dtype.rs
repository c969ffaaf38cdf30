//! The four dtypes `rng: torch` draws into, each with torch's own `uniform_` and `normal_`: f32
//! and f64 compute in their own precision ([`TorchFloat`]), Half and BFloat16 in f32 and round
//! each value (`half`).

use super::generator::{TorchFloat, TorchGenerator, TorchValues};
use super::normal::normal_;
use super::uniform::uniform_;

/// A tensor dtype torch's `uniform_` and `normal_` fill.
pub trait TorchDtype: Copy + PartialOrd + Default + Send + Sync + 'static {
    /// A Python float rounded into the dtype as torch converts a double (Half and BFloat16 through
    /// f32).
    fn from_f64(value: f64) -> Self;
    /// The value, exactly.
    fn to_f64(self) -> f64;
    /// Whether torch's CPU QR (LAPACK's `geqrf`) takes the dtype: `orthogonal_` needs it.
    const HAS_QR: bool;
    /// `Tensor.uniform_(from, to)` on a contiguous tensor.
    fn uniform_(generator: &mut TorchGenerator, out: &mut [Self], from: f64, to: f64);
    /// `Tensor.normal_(mean, std)` on a contiguous tensor.
    fn normal_(generator: &mut TorchGenerator, out: &mut [Self], mean: f64, std: f64);
    /// Wraps a filled vector.
    fn values(values: Vec<Self>) -> TorchValues;
}

impl<T: TorchFloat + Default> TorchDtype for T {
    fn from_f64(value: f64) -> T {
        <T as TorchFloat>::from_f64(value)
    }

    fn to_f64(self) -> f64 {
        <T as TorchFloat>::to_f64(self)
    }

    const HAS_QR: bool = true;

    fn uniform_(generator: &mut TorchGenerator, out: &mut [T], from: f64, to: f64) {
        uniform_(generator, out, from, to);
    }

    fn normal_(generator: &mut TorchGenerator, out: &mut [T], mean: f64, std: f64) {
        normal_(generator, out, mean, std);
    }

    fn values(values: Vec<T>) -> TorchValues {
        <T as TorchFloat>::values(values)
    }
}
