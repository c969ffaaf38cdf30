//! `Tensor.uniform_(from, to)` (ATen's `uniform_kernel`): one draw per element in order, the
//! bounds rounded into the dtype first, and a value that lands on `to` replaced by `from`.

use super::generator::{TorchFloat, TorchGenerator};
use super::window::{Call, Kernel};

pub fn uniform_<T: TorchFloat>(generator: &mut TorchGenerator, out: &mut [T], from: f64, to: f64) {
    Call { kernel: Kernel::Uniform { from, to }, len: out.len(), whole_chunks: false }.fill(generator.engine(), 0, out);
}
