//! What `rng: torch` draws for each stored tensor: the torch module's `reset_parameters` draw
//! while the model is constructed, and the config's own initializer (its torch counterpart)
//! after the whole model is constructed, as `model = nn.Sequential(…)` followed by
//! `nn.init.*_(…)` calls draws them. Checked here, at plan time, so that generation never meets
//! a tensor it cannot reproduce.

use super::{DType, Initializer, TensorSpec};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::{Distribution, FanMode};
use crate::layers::Weight;
use crate::random::torch::init_functions::{FanMode as TorchFanMode, Nonlinearity};
use crate::random::torch::modules::{RnnKind, TorchModule};
use crate::random::torch::{TorchInit, trunc_normal};

/// The draws of one stored tensor under `rng: torch`.
#[derive(Clone, Debug, PartialEq)]
pub struct TorchDraw {
    /// What the module's constructor draws (or sets) for it; `None` for what torch's module
    /// does not initialise itself (a `param`, batch norm's counter).
    pub construction: Option<TorchInit>,
    /// The counterpart of the config's own initializer, drawn after every module is constructed;
    /// `None` when the config gives none (or a fixed one).
    pub after: Option<TorchInit>,
    /// The tensor's values are its Keras initializer's fixed values (a constant, identity, a
    /// file's values), not a torch draw.
    pub fixed: bool,
    /// A `param` (no module): only a template whose construction initc replays draws it.
    pub param: bool,
}

/// One draw from torch's generator, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct TorchStep {
    /// The plan tensor it fills (its last step gives its values); `None` for a draw torch
    /// makes and discards (a module default overwritten by a fixed value, a tied head).
    pub tensor: Option<usize>,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub init: TorchInit,
    /// Whether the tensor's fill (a `padding_idx` row) applies after this draw.
    pub fill: bool,
    /// The step is one slice of a call on a larger tensor that torch draws once (transformers'
    /// fused experts): its consecutive steps are the call's slices in memory order.
    pub part: Option<Part>,
}

/// One slice of a call drawn once for several tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    /// The elements of the whole call.
    pub call_len: usize,
    /// The slice's first element in the call.
    pub offset: usize,
}

/// Every draw of the plan's tensors under `rng: torch`, in torch's order: the Sequential replay
/// (modules' defaults, then the given initializers), or a Hugging Face template's replay.
pub fn torch_program(
    model_name: &str,
    tensors: &[TensorSpec],
    draws: &[TorchDraw],
) -> Result<Vec<TorchStep>, Diagnostic> {
    let random_param = tensors.iter().zip(draws).find(|(spec, draw)| draw.param && spec.initializer.is_random());
    if let Some((spec, _)) = random_param {
        let refuse = |message: String| {
            Diagnostic::error(Code::InvalidValue, message).at(spec.origin).with_help(format!(
                "`rng: torch` replays Sequential layers and the {} templates as transformers 5.24 \
                 builds them; use `rng: philox` here",
                super::torch_hf::REPLAYED
            ))
        };
        return match super::torch_hf::replay(model_name, tensors) {
            Some(Ok(steps)) => Ok(steps),
            Some(Err(reason)) => {
                Err(refuse(format!("`rng: torch` cannot replay the `{model_name}` template's draws: {reason}")))
            }
            None => Err(refuse(format!("`rng: torch` has no replay of the torch code that draws `{}`", spec.name))),
        };
    }
    let step =
        |(index, (spec, init)): (usize, (&TensorSpec, TorchInit)), tensor: Option<usize>, fill: bool| TorchStep {
            tensor: tensor.map(|_| index),
            shape: spec.shape.clone(),
            dtype: spec.dtype,
            init,
            fill,
            part: None,
        };
    let mut steps = Vec::new();
    for (index, (spec, draw)) in tensors.iter().zip(draws).enumerate() {
        if let Some(init) = draw.construction {
            // A module default that a fixed initializer replaces is drawn all the same.
            let kept = (!draw.fixed || draw.after.is_some()).then_some(index);
            steps.push(step((index, (spec, init)), kept, false));
        }
    }
    for (index, (spec, draw)) in tensors.iter().zip(draws).enumerate() {
        if let Some(init) = draw.after {
            steps.push(step((index, (spec, init)), Some(index), true));
        }
    }
    Ok(steps)
}

/// The torch module a Keras layer of `class_name` with `weights` stands for, when initc replays
/// its constructor.
pub fn torch_module(class_name: &str, weights: &[Weight]) -> Option<TorchModule> {
    let find = |name: &str| weights.iter().find(|w| w.name.rsplit('.').next() == Some(name)).map(|w| &w.shape);
    let has = |name: &str| find(name).is_some();
    match class_name {
        "Dense" => {
            let kernel = find("kernel")?;
            match kernel.as_slice() {
                [input, output] => {
                    Some(TorchModule::Linear { in_features: *input, out_features: *output, bias: has("bias") })
                }
                _ => None,
            }
        }
        "Conv1D" | "Conv2D" | "Conv3D" => {
            let kernel = find("kernel")?;
            let [spatial @ .., input, output] = kernel.as_slice() else { return None };
            // Only shapes matter: the grouped kernel's `(out, in/groups, k…)` is a kernel of
            // `in/groups` input channels.
            Some(TorchModule::Conv {
                in_channels: *input,
                out_channels: *output,
                kernel: spatial.to_vec(),
                groups: 1,
                bias: has("bias"),
            })
        }
        "Conv1DTranspose" | "Conv2DTranspose" | "Conv3DTranspose" => {
            let kernel = find("kernel")?;
            let [spatial @ .., output, input] = kernel.as_slice() else { return None };
            Some(TorchModule::ConvTranspose {
                in_channels: *input,
                out_channels: *output,
                kernel: spatial.to_vec(),
                bias: has("bias"),
            })
        }
        // `nn.ConvNd(channels, channels · multiplier, k, groups=channels)`.
        "DepthwiseConv1D" | "DepthwiseConv2D" => {
            let kernel = find("kernel")?;
            let [spatial @ .., channels, multiplier] = kernel.as_slice() else { return None };
            Some(TorchModule::Conv {
                in_channels: *channels,
                out_channels: channels * multiplier,
                kernel: spatial.to_vec(),
                groups: *channels,
                bias: has("bias"),
            })
        }
        "Embedding" => match find("embeddings")?.as_slice() {
            [rows, dim] => {
                Some(TorchModule::Embedding { num_embeddings: *rows, embedding_dim: *dim, padding_idx: None })
            }
            _ => None,
        },
        "LayerNormalization" => {
            let shape = find("gamma").or_else(|| find("beta"))?.clone();
            Some(TorchModule::LayerNorm { shape, bias: has("beta") })
        }
        // `nn.GroupNorm` (affine) sets its weight to ones and its bias to zeros, as LayerNorm.
        "GroupNormalization" => Some(TorchModule::LayerNorm { shape: find("gamma")?.clone(), bias: true }),
        // `nn.RMSNorm` sets its weight to ones.
        "RMSNormalization" => Some(TorchModule::LayerNorm { shape: find("scale")?.clone(), bias: false }),
        "BatchNormalization" => Some(TorchModule::BatchNorm { features: find("moving_mean")?.iter().product() }),
        "LSTM" | "GRU" | "SimpleRNN" | "Bidirectional" => {
            // A bidirectional layer's weights are `forward_lstm.lstm_cell.kernel`, …: the cell
            // says the kind; torch's two directions have the same one (its shapes are checked).
            let cell = weights.first()?.name.rsplit('.').nth(1).unwrap_or_default();
            let kind = match (class_name, cell) {
                ("LSTM", _) | (_, "lstm_cell") => RnnKind::Lstm,
                ("GRU", _) | (_, "gru_cell") => RnnKind::Gru,
                ("SimpleRNN", _) | (_, "simple_rnn_cell") => RnnKind::Rnn,
                _ => return None,
            };
            let input_size = *find("kernel")?.first()?;
            let hidden_size = *find("recurrent_kernel")?.first()?;
            let bidirectional = class_name == "Bidirectional";
            Some(TorchModule::Rnn { kind, input_size, hidden_size, layers: 1, bidirectional, bias: has("bias") })
        }
        _ => None,
    }
}

/// The torch init function standing for a Keras initializer: `Ok(None)` for one with fixed
/// values (no draws), an error naming why there is none.
pub fn counterpart(initializer: &Initializer) -> Result<Option<TorchInit>, String> {
    let seedless = |seed: Option<u64>| match seed {
        Some(_) => Err("an initializer's own `seed` has no counterpart in torch's one generator".to_string()),
        None => Ok(()),
    };
    match initializer {
        Initializer::RandomNormal(normal) => {
            seedless(normal.seed)?;
            Ok(Some(TorchInit::Normal { mean: normal.mean, std: normal.stddev }))
        }
        Initializer::RandomUniform(uniform) => {
            seedless(uniform.seed)?;
            Ok(Some(TorchInit::Uniform { from: uniform.minval, to: uniform.maxval }))
        }
        Initializer::TruncatedNormal(truncated) => {
            seedless(truncated.seed)?;
            let (mean, std) = (truncated.mean, truncated.stddev);
            let (a, b) = (mean - 2.0 * std, mean + 2.0 * std);
            Ok(Some(TorchInit::TruncNormal { mean, std, a, b }))
        }
        Initializer::VarianceScaling(scaling) => {
            seedless(scaling.seed)?;
            let named = (scaling.scale, scaling.mode, scaling.distribution);
            match named {
                (1.0, FanMode::FanAvg, Distribution::Uniform) => Ok(Some(TorchInit::XavierUniform { gain: 1.0 })),
                (1.0, FanMode::FanAvg, Distribution::TruncatedNormal) => {
                    Ok(Some(TorchInit::XavierNormal { gain: 1.0 }))
                }
                (2.0, FanMode::FanIn, Distribution::Uniform) => {
                    Ok(Some(TorchInit::KaimingUniform { mode: TorchFanMode::FanIn, nonlinearity: Nonlinearity::Relu }))
                }
                (2.0, FanMode::FanIn, Distribution::TruncatedNormal) => {
                    Ok(Some(TorchInit::KaimingNormal { mode: TorchFanMode::FanIn, nonlinearity: Nonlinearity::Relu }))
                }
                _ => Err("only glorot_uniform, glorot_normal, he_uniform and he_normal have torch counterparts \
                          (xavier_uniform_, xavier_normal_, kaiming_uniform_, kaiming_normal_)"
                    .to_string()),
            }
        }
        // Torch's input matrix and generator state; the QR within a tolerance (lint's N0707).
        Initializer::Orthogonal(orthogonal) => {
            seedless(orthogonal.seed)?;
            Ok(Some(TorchInit::Orthogonal { gain: orthogonal.gain }))
        }
        Initializer::Zeros
        | Initializer::Ones
        | Initializer::Constant(_)
        | Initializer::Identity(_)
        | Initializer::FromFile(_)
        | Initializer::Copy(_)
        | Initializer::Stft(_) => Ok(None),
    }
}

/// The help line of every `rng: torch` refusal.
const HELP: &str = "use the default `rng: philox`, or give the tensor an initializer with a torch counterpart \
                    (glorot_uniform, glorot_normal, he_uniform, he_normal, random_normal, random_uniform, \
                    truncated_normal, orthogonal, zeros, ones, constant)";

/// The draws of `spec` (a stored tensor named `local` inside its module), or why `rng: torch`
/// cannot make it. `given` says whether the config set its initializer.
pub fn torch_draw(
    spec: &TensorSpec,
    module: Option<&TorchModule>,
    is_param: bool,
    local: &str,
    given: bool,
    layer: (&str, &str),
) -> Result<TorchDraw, Diagnostic> {
    let (layer_name, class_name) = layer;
    let refuse = |message: String| Err(Diagnostic::error(Code::InvalidValue, message).at(spec.origin).with_help(HELP));
    if !matches!(spec.dtype, DType::F32 | DType::F64 | DType::F16 | DType::BF16 | DType::I64) {
        return refuse(format!(
            "`rng: torch` reproduces torch's f32, f64, f16 and bf16 kernels only, not `{}` (`{}`)",
            spec.dtype.safetensors_name(),
            spec.name
        ));
    }
    let construction = match module {
        Some(module) => {
            let parameters = module.parameters();
            match parameters.iter().find(|parameter| parameter.name == local) {
                Some(parameter) if parameter.shape == spec.shape => Some(parameter.init),
                Some(parameter) => {
                    return refuse(format!(
                        "`{}` has the shape {:?}, but torch's module makes `{local}` of shape {:?}",
                        spec.name, spec.shape, parameter.shape
                    ));
                }
                None => None,
            }
        }
        None if spec.dtype.is_integer() || is_param => None,
        None => {
            return refuse(format!(
                "layer `{layer_name}` ({class_name}) has no torch module whose constructor initc replays under `rng: torch`"
            ));
        }
    };
    if !given {
        return Ok(TorchDraw { construction, after: None, fixed: construction.is_none(), param: is_param });
    }
    match counterpart(&spec.initializer) {
        Ok(Some(after)) => {
            if let TorchInit::TruncNormal { mean, std, a, b } = after
                && !trunc_normal::is_reproduced(mean, std, a, b)
            {
                return refuse(format!(
                    "`{}`: torch's trunc_normal_ with bounds this narrow is not reproduced",
                    spec.name
                ));
            }
            if matches!(
                after,
                TorchInit::KaimingNormal { .. }
                    | TorchInit::KaimingUniform { .. }
                    | TorchInit::XavierNormal { .. }
                    | TorchInit::XavierUniform { .. }
            ) && spec.shape.len() < 2
            {
                return refuse(format!("`{}`: torch computes fans only for tensors of two or more axes", spec.name));
            }
            if let TorchInit::Orthogonal { .. } = after {
                if spec.shape.len() < 2 {
                    return refuse(format!("`{}`: torch's orthogonal_ takes tensors of two or more axes", spec.name));
                }
                if matches!(spec.dtype, DType::F16 | DType::BF16) {
                    return refuse(format!(
                        "`{}`: torch's orthogonal_ fails on {} tensors (its CPU QR has no such kernel)",
                        spec.name,
                        spec.dtype.safetensors_name()
                    ));
                }
            }
            let rearranged_fill =
                spec.fill.is_some() && spec.layout.as_ref().is_some_and(|layout| layout.is_rearranged());
            if rearranged_fill {
                return refuse(format!(
                    "`{}`: a constant fill on a rearranged tensor is not replayed under `rng: torch`",
                    spec.name
                ));
            }
            Ok(TorchDraw { construction, after: Some(after), fixed: false, param: is_param })
        }
        Ok(None) => Ok(TorchDraw { construction, after: None, fixed: true, param: is_param }),
        Err(reason) => refuse(format!(
            "`{}`'s initializer `{}` has no torch counterpart: {reason}",
            spec.name, spec.initializer_label
        )),
    }
}
