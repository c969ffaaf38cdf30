//! The parameters torch's modules create and what their `reset_parameters` draws, in
//! `parameters()` order: `nn.Linear`, `nn.ConvNd` (with groups), `nn.ConvTransposeNd`,
//! `nn.Embedding` (with `padding_idx`), `nn.LayerNorm` (and `nn.GroupNorm` and `nn.RMSNorm`,
//! whose resets are the same ones and zeros), `nn.BatchNormNd` and `nn.LSTM`/`nn.GRU`/`nn.RNN`.

use super::init_functions::{FanMode, Nonlinearity, TorchInit};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RnnKind {
    Lstm,
    Gru,
    Rnn,
}

impl RnnKind {
    /// Gates stacked in each weight: LSTM's i, f, g, o; GRU's r, z, n.
    pub fn gates(self) -> usize {
        match self {
            RnnKind::Lstm => 4,
            RnnKind::Gru => 3,
            RnnKind::Rnn => 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TorchModule {
    Linear {
        in_features: usize,
        out_features: usize,
        bias: bool,
    },
    Conv {
        in_channels: usize,
        out_channels: usize,
        kernel: Vec<usize>,
        groups: usize,
        bias: bool,
    },
    /// `nn.ConvTransposeNd` (groups 1): weight `(in, out, k…)`.
    ConvTranspose {
        in_channels: usize,
        out_channels: usize,
        kernel: Vec<usize>,
        bias: bool,
    },
    Embedding {
        num_embeddings: usize,
        embedding_dim: usize,
        padding_idx: Option<usize>,
    },
    LayerNorm {
        shape: Vec<usize>,
        bias: bool,
    },
    BatchNorm {
        features: usize,
    },
    Rnn {
        kind: RnnKind,
        input_size: usize,
        hidden_size: usize,
        layers: usize,
        bidirectional: bool,
        bias: bool,
    },
}

/// One floating-point entry of a module's state dict and how `reset_parameters` fills it.
#[derive(Clone, Debug, PartialEq)]
pub struct TorchParameter {
    /// The name inside the module (`weight`, `bias_hh_l1_reverse`, `running_var`).
    pub name: String,
    pub shape: Vec<usize>,
    pub init: TorchInit,
    /// Elements set to zero after the draw (an embedding's padding row).
    pub zeroed: Option<std::ops::Range<usize>>,
}

fn parameter(name: impl Into<String>, shape: Vec<usize>, init: TorchInit) -> TorchParameter {
    TorchParameter { name: name.into(), shape, init, zeroed: None }
}

/// `kaiming_uniform_(weight, a=√5)`, Linear's and Conv's weight default.
fn kaiming_sqrt5() -> TorchInit {
    TorchInit::KaimingUniform { mode: FanMode::FanIn, nonlinearity: Nonlinearity::LeakyRelu(5.0f64.sqrt()) }
}

/// `U(±1/√fan_in)` (0 when `fan_in` is 0), Linear's and Conv's bias default.
fn fan_in_bias(fan_in: usize) -> TorchInit {
    let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
    TorchInit::Uniform { from: -bound, to: bound }
}

impl TorchModule {
    /// The state dict's floating-point entries in order, each with its default initialisation.
    pub fn parameters(&self) -> Vec<TorchParameter> {
        match self {
            TorchModule::Linear { in_features, out_features, bias } => {
                let mut parameters = vec![parameter("weight", vec![*out_features, *in_features], kaiming_sqrt5())];
                if *bias {
                    parameters.push(parameter("bias", vec![*out_features], fan_in_bias(*in_features)));
                }
                parameters
            }
            TorchModule::Conv { in_channels, out_channels, kernel, groups, bias } => {
                let per_group = in_channels / (*groups).max(1);
                let mut shape = vec![*out_channels, per_group];
                shape.extend_from_slice(kernel);
                let fan_in = per_group * kernel.iter().product::<usize>();
                let mut parameters = vec![parameter("weight", shape, kaiming_sqrt5())];
                if *bias {
                    parameters.push(parameter("bias", vec![*out_channels], fan_in_bias(fan_in)));
                }
                parameters
            }
            TorchModule::ConvTranspose { in_channels, out_channels, kernel, bias } => {
                let mut shape = vec![*in_channels, *out_channels];
                shape.extend_from_slice(kernel);
                // `_ConvNd.reset_parameters` takes fan-in from the weight: `size(1)·receptive`.
                let fan_in = out_channels * kernel.iter().product::<usize>();
                let mut parameters = vec![parameter("weight", shape, kaiming_sqrt5())];
                if *bias {
                    parameters.push(parameter("bias", vec![*out_channels], fan_in_bias(fan_in)));
                }
                parameters
            }
            TorchModule::Embedding { num_embeddings, embedding_dim, padding_idx } => {
                let mut weight = parameter(
                    "weight",
                    vec![*num_embeddings, *embedding_dim],
                    TorchInit::Normal { mean: 0.0, std: 1.0 },
                );
                weight.zeroed = padding_idx.map(|row| row * embedding_dim..(row + 1) * embedding_dim);
                vec![weight]
            }
            TorchModule::LayerNorm { shape, bias } => {
                let mut parameters = vec![parameter("weight", shape.clone(), TorchInit::Constant(1.0))];
                if *bias {
                    parameters.push(parameter("bias", shape.clone(), TorchInit::Constant(0.0)));
                }
                parameters
            }
            TorchModule::BatchNorm { features } => vec![
                parameter("weight", vec![*features], TorchInit::Constant(1.0)),
                parameter("bias", vec![*features], TorchInit::Constant(0.0)),
                parameter("running_mean", vec![*features], TorchInit::Constant(0.0)),
                parameter("running_var", vec![*features], TorchInit::Constant(1.0)),
            ],
            TorchModule::Rnn { kind, input_size, hidden_size, layers, bidirectional, bias } => {
                let stdv = if *hidden_size > 0 { 1.0 / (*hidden_size as f64).sqrt() } else { 0.0 };
                let init = TorchInit::Uniform { from: -stdv, to: stdv };
                let gate_size = kind.gates() * hidden_size;
                let directions = if *bidirectional { 2 } else { 1 };
                let mut parameters = Vec::new();
                for layer in 0..*layers {
                    let layer_input = if layer == 0 { *input_size } else { hidden_size * directions };
                    for direction in 0..directions {
                        let suffix = if direction == 1 { "_reverse" } else { "" };
                        parameters.push(parameter(
                            format!("weight_ih_l{layer}{suffix}"),
                            vec![gate_size, layer_input],
                            init,
                        ));
                        parameters.push(parameter(
                            format!("weight_hh_l{layer}{suffix}"),
                            vec![gate_size, *hidden_size],
                            init,
                        ));
                        if *bias {
                            parameters.push(parameter(format!("bias_ih_l{layer}{suffix}"), vec![gate_size], init));
                            parameters.push(parameter(format!("bias_hh_l{layer}{suffix}"), vec![gate_size], init));
                        }
                    }
                }
                parameters
            }
        }
    }
}
