//! torch 2.15's `uniform_` and `normal_` on Half and BFloat16 tensors (ATen's
//! `native/cpu/DistributionTemplates.h`), which compute in `opmath_t` = f32 and round each value
//! to the tensor's dtype (nearest, ties to even; a double goes through f32 first, as c10's
//! `Half(float)` and `BFloat16(float)` constructors are the only ones):
//! - `uniform_`: `uniform_real_distribution<float>` with the bounds rounded to f32 (24-bit mask,
//!   divisor 2⁻²⁴, `x·(to − from) + from` fused), the value rounded to the dtype, and one equal to
//!   the dtype's `to` replaced by the dtype's `from`.
//! - `normal_`, 16 elements or more: per 16-element chunk, 16 f32 uniforms on [0, 1) and
//!   `NormalFill16<float>` (the f32 kernel's Box–Muller, bit for bit), each value rounded. Unlike
//!   f32 and f64, which draw one uniform per element first, only whole chunks are drawn; if 16
//!   does not divide the length, 16 fresh uniforms make the last 16 values again.
//! - `normal_` below 16 elements: the f64 small-tensor path (`normal_distribution<double>`, with
//!   the generator's cached pair), each value rounded to f32 and then to the dtype.

use super::dtype::TorchDtype;
use super::generator::{TorchGenerator, TorchValues};
use super::normal::normal_;
use super::window::{Call, Kernel};
use half::{bf16, f16};

/// Box–Muller works on 16 values at a time.
const FILL: usize = 16;

/// Half or BFloat16: a 16-bit float torch computes in f32.
pub trait TorchHalf: Copy + PartialOrd + Default + Send + Sync + 'static {
    /// c10's constructor from f32: round to nearest, ties to even.
    fn from_f32(value: f32) -> Self;
    fn wrap(values: Vec<Self>) -> TorchValues;
}

impl TorchHalf for f16 {
    fn from_f32(value: f32) -> f16 {
        f16::from_f32(value)
    }

    fn wrap(values: Vec<f16>) -> TorchValues {
        TorchValues::F16(values)
    }
}

impl TorchHalf for bf16 {
    fn from_f32(value: f32) -> bf16 {
        bf16::from_f32(value)
    }

    fn wrap(values: Vec<bf16>) -> TorchValues {
        TorchValues::BF16(values)
    }
}

macro_rules! torch_dtype_for_half {
    ($type:ty) => {
        impl TorchDtype for $type {
            fn from_f64(value: f64) -> $type {
                <$type as TorchHalf>::from_f32(value as f32)
            }

            fn to_f64(self) -> f64 {
                f64::from(self.to_f32())
            }

            // "geqrf_cpu" not implemented for 'Half' (and 'BFloat16').
            const HAS_QR: bool = false;

            fn uniform_(generator: &mut TorchGenerator, out: &mut [$type], from: f64, to: f64) {
                uniform_half(generator, out, from, to);
            }

            fn normal_(generator: &mut TorchGenerator, out: &mut [$type], mean: f64, std: f64) {
                normal_half(generator, out, mean, std);
            }

            fn values(values: Vec<$type>) -> TorchValues {
                <$type as TorchHalf>::wrap(values)
            }
        }
    };
}

torch_dtype_for_half!(f16);
torch_dtype_for_half!(bf16);

/// `uniform_kernel` for a 16-bit dtype: f32 draws, each rounded, `to` replaced by `from`.
pub fn uniform_half<H: TorchHalf>(generator: &mut TorchGenerator, out: &mut [H], from: f64, to: f64) {
    let call = Call { kernel: Kernel::Uniform { from, to }, len: out.len(), whole_chunks: true };
    let mut drawn = vec![0.0f32; out.len()];
    call.fill(generator.engine(), 0, &mut drawn);
    round_into(&call.kernel, &drawn, out);
}

/// `normal_fill` for a 16-bit dtype (16 or more elements) or the small-tensor path.
pub fn normal_half<H: TorchHalf>(generator: &mut TorchGenerator, out: &mut [H], mean: f64, std: f64) {
    let len = out.len();
    if len < FILL {
        let mut small = [0.0f64; FILL];
        let small = &mut small[..len];
        normal_::<f64>(generator, small, mean, std);
        for (slot, value) in out.iter_mut().zip(small.iter()) {
            *slot = H::from_f32(*value as f32);
        }
        return;
    }
    let call = Call { kernel: Kernel::Normal { mean, std }, len, whole_chunks: true };
    let mut drawn = vec![0.0f32; len];
    call.fill(generator.engine(), 0, &mut drawn);
    round_into(&call.kernel, &drawn, out);
}

/// The values of a windowed call on a 16-bit tensor, computed in f32 (`drawn`, from
/// `Call::fill::<f32>`), rounded into `out`. A uniform equal to the rounded `to` becomes the
/// rounded `from`; the f32 kernel's own check turns an f32 `to` into `from`, whose rounding is
/// the same value.
pub fn round_into<H: TorchHalf>(kernel: &Kernel, drawn: &[f32], out: &mut [H]) {
    match *kernel {
        Kernel::Uniform { from, to } => {
            let (from, to) = (H::from_f32(from as f32), H::from_f32(to as f32));
            for (slot, &value) in out.iter_mut().zip(drawn) {
                let rounded = H::from_f32(value);
                *slot = if rounded == to { from } else { rounded };
            }
        }
        Kernel::Normal { .. } => {
            for (slot, &value) in out.iter_mut().zip(drawn) {
                *slot = H::from_f32(value);
            }
        }
    }
}
