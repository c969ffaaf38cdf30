//! PyTorch's names and layouts for each layer type's weights (`--layout torch`), so that
//! `load_state_dict(strict=True)` succeeds on the equivalent torch module and computes the same
//! function: `nn.Linear`, `nn.Conv1d/2d/3d`, `nn.Embedding`, `nn.LayerNorm`, `nn.BatchNorm*d`,
//! `nn.RNN`, `nn.LSTM`, `nn.GRU` (one layer, batch_first; gate orders per torch's docs).

use super::Weight;

/// A rearrangement of a logical tensor into the stored one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// A matrix `(in, out)` stored as `(out, in)` (dense, RNN kernels).
    Transpose,
    /// A convolution kernel `(k…, in, out)` stored as `(out, in, k…)`.
    ChannelsFirstKernel,
    /// A GRU kernel `(in, 3u)` whose gate blocks go from Keras's order (z, r, h) to torch's
    /// (r, z, n), stored transposed as `(3u, in)`.
    GruKernel,
    /// Row `0` (input) or `1` (recurrent) of a GRU bias `(2, 3u)`, gate blocks reordered.
    GruBiasRow(usize),
}

/// Where one stored torch tensor comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TorchSource {
    /// A Keras weight, rearranged (or not).
    Weight { logical: &'static str, transform: Option<Transform> },
    /// Zeros shaped like a Keras weight: torch's second RNN bias, which Keras does not have.
    ZerosLike(&'static str),
    /// Batch norm's `num_batches_tracked`: an int64 scalar 0, present when `logical` is.
    Counter(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TorchTensor {
    pub name: &'static str,
    pub source: TorchSource,
}

const fn weight(name: &'static str, logical: &'static str, transform: Option<Transform>) -> TorchTensor {
    TorchTensor { name, source: TorchSource::Weight { logical, transform } }
}

/// The torch tensors of a layer of Keras class `class_name` with these (Keras) weights, or why
/// the layer has no torch equivalent.
pub fn torch_tensors(class_name: &str, weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    let has = |name: &str| weights.iter().any(|w| w.name == name);
    let mapping: Vec<TorchTensor> = match class_name {
        _ if weights.is_empty() => Vec::new(),
        "Dense" => vec![weight("weight", "kernel", Some(Transform::Transpose)), weight("bias", "bias", None)],
        "Conv1D" | "Conv2D" | "Conv3D" => {
            vec![weight("weight", "kernel", Some(Transform::ChannelsFirstKernel)), weight("bias", "bias", None)]
        }
        "Embedding" => vec![weight("weight", "embeddings", None)],
        "LayerNormalization" => vec![weight("weight", "gamma", None), weight("bias", "beta", None)],
        "BatchNormalization" => vec![
            weight("weight", "gamma", None),
            weight("bias", "beta", None),
            weight("running_mean", "moving_mean", None),
            weight("running_var", "moving_variance", None),
            TorchTensor { name: "num_batches_tracked", source: TorchSource::Counter("moving_mean") },
        ],
        "SimpleRNN" | "LSTM" => vec![
            weight("weight_ih_l0", "kernel", Some(Transform::Transpose)),
            weight("weight_hh_l0", "recurrent_kernel", Some(Transform::Transpose)),
            weight("bias_ih_l0", "bias", None),
            TorchTensor { name: "bias_hh_l0", source: TorchSource::ZerosLike("bias") },
        ],
        "GRU" => {
            if weights.iter().any(|w| w.name == "bias" && w.shape.len() != 2) {
                return Err(
                    "torch's GRU applies the reset gate after the matrix product: use `reset_after: true`".into()
                );
            }
            vec![
                weight("weight_ih_l0", "kernel", Some(Transform::GruKernel)),
                weight("weight_hh_l0", "recurrent_kernel", Some(Transform::GruKernel)),
                weight("bias_ih_l0", "bias", Some(Transform::GruBiasRow(0))),
                weight("bias_hh_l0", "bias", Some(Transform::GruBiasRow(1))),
            ]
        }
        other => return Err(format!("`{other}` has no PyTorch layout in initc")),
    };
    // Weights a layer does not have (no bias, no beta) have no torch tensor either.
    Ok(mapping
        .into_iter()
        .filter(|tensor| match tensor.source {
            TorchSource::Weight { logical, .. } | TorchSource::ZerosLike(logical) | TorchSource::Counter(logical) => {
                has(logical)
            }
        })
        .collect())
}
