//! The evaluated initializer: every argument a number or an enum, checked for sense, in the form
//! of the family that draws it; and `Form`, what every evaluated form does (its range check, its
//! sampling, its expected statistics).

use super::range::RangeCheck;
use super::{
    Constant, Expectation, Fans, FromFile, Identity, Orthogonal, RandomNormal, RandomUniform, Stft, TruncatedNormal,
    VarianceScaling, ones, zeros,
};
use crate::diagnostic::Diagnostic;
use crate::random::{Sampling, Stream};
use crate::tensor::DType;
use std::collections::TryReserveError;

/// A fully evaluated initializer. Named Keras initializers (glorot_uniform, he_normal, …) are
/// `VarianceScaling` here; the name the user wrote survives in the tensor's label.
#[derive(Clone, Debug, PartialEq)]
pub enum Initializer {
    Zeros,
    Ones,
    Constant(Constant),
    RandomNormal(RandomNormal),
    RandomUniform(RandomUniform),
    TruncatedNormal(TruncatedNormal),
    VarianceScaling(VarianceScaling),
    Orthogonal(Orthogonal),
    Identity(Identity),
    /// A tensor of an existing safetensors file (warm start), until the command line attaches
    /// its values.
    FromFile(FromFile),
    /// Values attached to a `FromFile` tensor: copied as they are.
    Copy(std::sync::Arc<[f32]>),
    /// `STFTSpectrogram`'s DFT kernels times a window.
    Stft(Stft),
}

/// What sampling knows of the tensor.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The logical shape (Keras's layout).
    pub shape: &'a [usize],
    pub fans: Fans,
    pub dtype: DType,
}

/// Whether a form's values are drawn from a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Randomness {
    /// Fixed values (a constant, a diagonal, a file's): no stream.
    Fixed,
    /// Drawn from the tensor's stream, or, when the initializer has its own `seed`, from that
    /// seed's stream (which, as in Keras, replaces the per-tensor one).
    Drawn { seed: Option<u64> },
}

/// What every evaluated form does; each family's file implements it.
pub trait Form {
    /// Whether the values are drawn, and from which stream.
    fn randomness(&self) -> Randomness {
        Randomness::Fixed
    }

    /// Checks that every value the form can produce is finite in the tensor's dtype
    /// (`specs/initializers.md`, Range).
    fn check_range(&self, range: &RangeCheck, fans: Fans) -> Result<(), Diagnostic>;

    /// How the tensor's values are made; `stream` gives the tensor's stream. Fails only when
    /// what the form holds (`working_memory`) cannot be allocated.
    fn sampling(&self, tensor: Target, stream: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError>;

    /// The bytes a form that holds its values whole (orthogonal's matrix) holds; `None` for one
    /// whose elements are each made on their own.
    fn working_memory(&self, _shape: &[usize], _dtype: DType) -> Option<u64> {
        None
    }

    /// The distribution of the values of a tensor of `shape` (fans from the shape); `None` where
    /// the values are not initc's to know (`from_file`).
    fn expectation(&self, shape: &[usize]) -> Option<Expectation>;
}

impl Initializer {
    /// The family's evaluated form; `None` for values copied from a file.
    pub fn form(&self) -> Option<&dyn Form> {
        Some(match self {
            Initializer::Zeros => &zeros::FORM,
            Initializer::Ones => &ones::FORM,
            Initializer::Constant(form) => form,
            Initializer::RandomNormal(form) => form,
            Initializer::RandomUniform(form) => form,
            Initializer::TruncatedNormal(form) => form,
            Initializer::VarianceScaling(form) => form,
            Initializer::Orthogonal(form) => form,
            Initializer::Identity(form) => form,
            Initializer::FromFile(form) => form,
            Initializer::Stft(form) => form,
            Initializer::Copy(_) => return None,
        })
    }

    /// The initializer's own `seed` argument, which (as in Keras) replaces the per-tensor stream.
    pub fn explicit_seed(&self) -> Option<u64> {
        match self.form()?.randomness() {
            Randomness::Drawn { seed } => seed,
            Randomness::Fixed => None,
        }
    }

    pub fn is_random(&self) -> bool {
        self.form().is_some_and(|form| form.randomness() != Randomness::Fixed)
    }
}
