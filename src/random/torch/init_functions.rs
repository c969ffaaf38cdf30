//! The `torch.nn.init` functions (torch 2.15's `init.py`): fans and gains computed in f64
//! exactly as Python computes them, then `uniform_`, `normal_` or `trunc_normal_` on the one
//! generator.

use super::dtype::TorchDtype;
use super::generator::TorchGenerator;
use super::orthogonal::orthogonal_;
use super::trunc_normal::trunc_normal_;
use super::window::Kernel;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    FanIn,
    FanOut,
}

/// `calculate_gain`'s nonlinearities.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nonlinearity {
    /// `linear`, the conv names and `sigmoid`: gain 1.
    Linear,
    Tanh,
    Relu,
    /// `leaky_relu` with its negative slope (kaiming passes its `a`).
    LeakyRelu(f64),
    Selu,
}

impl Nonlinearity {
    /// `torch.nn.init.calculate_gain`.
    pub fn gain(self) -> f64 {
        match self {
            Nonlinearity::Linear => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu => 2.0f64.sqrt(),
            // Python's `negative_slope**2` is C's `pow`.
            Nonlinearity::LeakyRelu(slope) => (2.0 / (1.0 + slope.powf(2.0))).sqrt(),
            Nonlinearity::Selu => 3.0 / 4.0,
        }
    }
}

/// One `torch.nn.init` call (or a module's constant fill).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TorchInit {
    Uniform {
        from: f64,
        to: f64,
    },
    Normal {
        mean: f64,
        std: f64,
    },
    /// `kaiming_uniform_(a, mode, nonlinearity)`; the gain's slope is in `nonlinearity`.
    KaimingUniform {
        mode: FanMode,
        nonlinearity: Nonlinearity,
    },
    KaimingNormal {
        mode: FanMode,
        nonlinearity: Nonlinearity,
    },
    XavierUniform {
        gain: f64,
    },
    XavierNormal {
        gain: f64,
    },
    TruncNormal {
        mean: f64,
        std: f64,
        a: f64,
        b: f64,
    },
    /// `orthogonal_(gain)`: torch's normal matrix, its QR within a tolerance (`orthogonal`).
    Orthogonal {
        gain: f64,
    },
    /// Draws nothing.
    Constant(f64),
}

/// Why torch's result cannot be reproduced (or torch itself refuses).
#[derive(Clone, Debug, PartialEq)]
pub enum TorchInitError {
    /// Fans need at least two dimensions.
    FewerThanTwoDimensions,
    /// `trunc_normal_` with a truncated mass at or below 0.3: torch's uniform-proposal path.
    UniformProposalTruncation,
    /// `orthogonal_` on Half or BFloat16: torch's CPU QR has no such kernel.
    NoQr,
}

impl std::fmt::Display for TorchInitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TorchInitError::FewerThanTwoDimensions => {
                write!(f, "torch computes fans only for tensors with two or more dimensions")
            }
            TorchInitError::UniformProposalTruncation => write!(
                f,
                "torch truncates to bounds holding at most 30% of the normal's mass with uniform proposals and a vectorised log, which initc does not reproduce"
            ),
            TorchInitError::NoQr => {
                write!(f, "torch's orthogonal_ fails on f16 and bf16 tensors (its CPU QR has no such kernel)")
            }
        }
    }
}

/// `_calculate_fan_in_and_fan_out`: `(size(1)·receptive, size(0)·receptive)`.
pub fn fans(shape: &[usize]) -> Result<(usize, usize), TorchInitError> {
    if shape.len() < 2 {
        return Err(TorchInitError::FewerThanTwoDimensions);
    }
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
}

impl TorchInit {
    /// Whether the call draws from the generator.
    pub fn is_random(&self) -> bool {
        !matches!(self, TorchInit::Constant(_))
    }

    /// The `uniform_` or `normal_` the call comes down to on a tensor of `shape`, with its
    /// arguments computed as torch computes them; `None` for `trunc_normal_`, `orthogonal_` and a
    /// constant.
    pub fn kernel(&self, shape: &[usize]) -> Result<Option<Kernel>, TorchInitError> {
        let empty = shape.contains(&0);
        Ok(Some(match *self {
            TorchInit::Uniform { from, to } => Kernel::Uniform { from, to },
            TorchInit::Normal { mean, std } => Kernel::Normal { mean, std },
            // torch's kaiming functions return before computing fans for an empty tensor.
            TorchInit::KaimingUniform { .. } | TorchInit::KaimingNormal { .. } if empty => {
                Kernel::Uniform { from: 0.0, to: 0.0 }
            }
            TorchInit::KaimingUniform { mode, nonlinearity } => {
                let std = nonlinearity.gain() / (fan(shape, mode)? as f64).sqrt();
                let bound = 3.0f64.sqrt() * std;
                Kernel::Uniform { from: -bound, to: bound }
            }
            TorchInit::KaimingNormal { mode, nonlinearity } => {
                let std = nonlinearity.gain() / (fan(shape, mode)? as f64).sqrt();
                Kernel::Normal { mean: 0.0, std }
            }
            TorchInit::XavierUniform { gain } => {
                let std = gain * (2.0 / fan_sum(shape)?).sqrt();
                let a = 3.0f64.sqrt() * std;
                Kernel::Uniform { from: -a, to: a }
            }
            TorchInit::XavierNormal { gain } => {
                let std = gain * (2.0 / fan_sum(shape)?).sqrt();
                Kernel::Normal { mean: 0.0, std }
            }
            TorchInit::TruncNormal { .. } | TorchInit::Orthogonal { .. } | TorchInit::Constant(_) => {
                return Ok(None);
            }
        }))
    }

    /// The tensor of `shape` this call fills, drawn from `generator` in torch's order.
    pub fn fill<T: TorchDtype>(
        &self,
        generator: &mut TorchGenerator,
        shape: &[usize],
        out: &mut [T],
    ) -> Result<(), TorchInitError> {
        if let Some(kernel) = self.kernel(shape)? {
            match kernel {
                Kernel::Uniform { from, to } => T::uniform_(generator, out, from, to),
                Kernel::Normal { mean, std } => T::normal_(generator, out, mean, std),
            }
            return Ok(());
        }
        match *self {
            TorchInit::TruncNormal { mean, std, a, b } => {
                trunc_normal_(generator, out, mean, std, a, b).ok_or(TorchInitError::UniformProposalTruncation)?;
            }
            TorchInit::Orthogonal { gain } => orthogonal_(generator, shape, out, gain)?,
            TorchInit::Constant(value) => out.fill(T::from_f64(value)),
            _ => {}
        }
        Ok(())
    }
}

fn fan(shape: &[usize], mode: FanMode) -> Result<usize, TorchInitError> {
    let (fan_in, fan_out) = fans(shape)?;
    Ok(if mode == FanMode::FanIn { fan_in } else { fan_out })
}

fn fan_sum(shape: &[usize]) -> Result<f64, TorchInitError> {
    let (fan_in, fan_out) = fans(shape)?;
    Ok((fan_in + fan_out) as f64)
}
