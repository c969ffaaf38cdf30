//! PyTorch's names and layouts for layer weights (`--layout torch`), so that
//! `load_state_dict(strict=True)` succeeds on the equivalent torch module and computes the same
//! function. Each layer type's mapping lives in its own file ([`LayerType::torch`]); this file
//! holds the shared types and the lookup by class name.

use super::{LAYER_TYPES, LayerType, Weight};
use std::borrow::Cow;

/// A rearrangement of a logical tensor into the stored one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// A matrix `(in, out)` stored as `(out, in)` (dense, RNN kernels).
    Transpose,
    /// A convolution kernel `(k…, in, out)` stored as `(out, in, k…)`.
    ChannelsFirstKernel,
    /// A depthwise kernel `(k…, channels, multiplier)` stored as a grouped convolution's
    /// `(channels · multiplier, 1, k…)`: output channel `c · multiplier + m` from `(c, m)`.
    DepthwiseKernel,
    /// A GRU kernel `(in, 3u)` whose gate blocks go from Keras's order (z, r, h) to torch's
    /// (r, z, n), stored transposed as `(3u, in)`.
    GruKernel,
    /// Row `0` (input) or `1` (recurrent) of a GRU bias `(2, 3u)`, gate blocks reordered.
    GruBiasRow(usize),
    /// A kernel whose first `n` axes are its input, read as the matrix `(∏ in, ∏ out)` and
    /// stored transposed as `(∏ out, ∏ in)` (an EinsumDense projection as `nn.Linear`).
    FlattenTranspose(usize),
    /// Any tensor stored as a vector of its elements in the same order (a `(heads, dim)` bias
    /// as `nn.Linear`'s).
    Flatten,
}

/// Where one stored torch tensor comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum TorchSource {
    /// A Keras weight, rearranged (or not).
    Weight { logical: Cow<'static, str>, transform: Option<Transform> },
    /// Several Keras weights, each rearranged, concatenated along the first axis
    /// (`nn.MultiheadAttention`'s `in_proj_weight` from the query, key and value kernels).
    Packed(Vec<(Cow<'static, str>, Option<Transform>)>),
    /// Zeros shaped like a Keras weight: torch's second RNN bias, which Keras does not have.
    ZerosLike(Cow<'static, str>),
    /// Batch norm's `num_batches_tracked`: an int64 scalar 0, present when `logical` is.
    Counter(Cow<'static, str>),
}

impl TorchSource {
    /// The same source with `prefix` before its Keras weight's name: a wrapper's mapping (RNN,
    /// TimeDistributed, Bidirectional) reuses the inner layer's mapping on unprefixed weights.
    pub fn with_logical_prefix(self, prefix: &str) -> TorchSource {
        let full = |logical: Cow<'static, str>| Cow::Owned(format!("{prefix}{logical}"));
        match self {
            TorchSource::Weight { logical, transform } => TorchSource::Weight { logical: full(logical), transform },
            TorchSource::ZerosLike(logical) => TorchSource::ZerosLike(full(logical)),
            TorchSource::Counter(logical) => TorchSource::Counter(full(logical)),
            TorchSource::Packed(parts) => {
                TorchSource::Packed(parts.into_iter().map(|(logical, transform)| (full(logical), transform)).collect())
            }
        }
    }

    /// The Keras weights this tensor needs.
    pub fn logicals(&self) -> impl Iterator<Item = &str> {
        let (single, parts) = match self {
            TorchSource::Weight { logical, .. } | TorchSource::ZerosLike(logical) | TorchSource::Counter(logical) => {
                (Some(logical.as_ref()), &[][..])
            }
            TorchSource::Packed(parts) => (None, parts.as_slice()),
        };
        single.into_iter().chain(parts.iter().map(|(logical, _)| logical.as_ref()))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TorchTensor {
    pub name: &'static str,
    pub source: TorchSource,
}

/// How a layer type's Keras weights become torch tensors: every tensor the torch module has
/// (those whose Keras weight is absent are dropped by [`torch_tensors`]), or why there is no
/// torch equivalent.
pub type TorchMapping = fn(&[Weight]) -> Result<Vec<TorchTensor>, String>;

/// Torch tensor `name` holding Keras weight `logical`, rearranged by `transform`.
pub const fn weight(name: &'static str, logical: &'static str, transform: Option<Transform>) -> TorchTensor {
    TorchTensor { name, source: TorchSource::Weight { logical: Cow::Borrowed(logical), transform } }
}

/// Torch tensor `name` holding Keras weights `logical`, each rearranged by `transform`, one after
/// another along the first axis.
pub fn packed(name: &'static str, logical: &[&'static str], transform: Option<Transform>) -> TorchTensor {
    let parts = logical.iter().map(|&logical| (Cow::Borrowed(logical), transform)).collect();
    TorchTensor { name, source: TorchSource::Packed(parts) }
}

/// The mapping of a layer type without weights. Refuses weights, so that a layer that gains
/// some without a mapping is an error rather than a file missing tensors.
pub fn no_weights(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    match weights.first() {
        None => Ok(Vec::new()),
        Some(weight) => Err(format!("its weight `{}` has no PyTorch layout in initc", weight.name)),
    }
}

/// The torch tensors of a layer of Keras class `class_name` with these (Keras) weights, or why
/// the layer has no torch equivalent.
pub fn torch_tensors(class_name: &str, weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    if weights.is_empty() {
        return Ok(Vec::new());
    }
    let layer_type: &LayerType = LAYER_TYPES
        .iter()
        .find(|t| t.class_name == class_name)
        .ok_or_else(|| format!("`{class_name}` has no PyTorch layout in initc"))?;
    if let Some(reason) = weights.iter().find_map(|weight| weight.torch_refusal) {
        return Err(reason.to_string());
    }
    let mapping = (layer_type.torch)(weights)?;
    // Weights a layer does not have (no bias, no beta) have no torch tensor either.
    let present = |logical: &str| weights.iter().any(|w| w.name == logical);
    Ok(mapping.into_iter().filter(|tensor| tensor.source.logicals().all(present)).collect())
}
