//! `Tensor.uniform_(from, to)` (ATen's `uniform_kernel`): one draw per element in order, the
//! bounds rounded into the dtype first, and a value that lands on `to` replaced by `from`.

use super::generator::{TorchFloat, TorchGenerator};

pub fn uniform_<T: TorchFloat>(generator: &mut TorchGenerator, out: &mut [T], from: f64, to: f64) {
    let (from, to) = (T::from_f64(from), T::from_f64(to));
    T::uniforms(generator, out, from, to);
}
