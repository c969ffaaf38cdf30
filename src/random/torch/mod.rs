//! torch 2.15's CPU random numbers, bit for bit: one MT19937 stream (`torch.manual_seed`) and
//! the algorithms of `uniform_`, `normal_`, `trunc_normal_`, the `torch.nn.init` functions and
//! the modules' `reset_parameters`, as ATen's AVX2/AVX-512 kernels compute them on x86-64, for
//! f32, f64, f16 and bf16 tensors; and `orthogonal_` from torch's own input matrix, its QR within
//! a float tolerance. What is reproduced, and where, is in `specs/rng.md` ("rng: torch").

pub mod dtype;
pub mod generator;
pub mod half;
pub mod init_functions;
pub mod modules;
pub mod mt19937;
pub mod normal;
pub mod normal_avx2;
pub mod orthogonal;
pub mod trunc_normal;
pub mod uniform;
pub mod window;

pub use dtype::TorchDtype;
pub use generator::{TorchFloat, TorchGenerator, TorchValues};

/// Whether this build computes torch's bits: the f64 Box–Muller (and the small-tensor path of
/// every dtype) calls the C library's `log`, `log1p`, `sin` and `cos`, which Rust's std takes
/// from glibc on Linux, as torch's own build does. Elsewhere `rng: torch` is refused.
pub const PLATFORM_REPRODUCES_TORCH: bool = cfg!(all(target_os = "linux", target_env = "gnu"));
pub use init_functions::{FanMode, Nonlinearity, TorchInit};
pub use mt19937::Mt19937;
pub use window::{Call, Kernel};

#[cfg(test)]
mod tests;
