//! `conv_lstm1d`, `conv_lstm2d`, `conv_lstm3d`: LSTMs whose input and recurrent products are
//! convolutions, over `(timesteps, spatial…, channels)` inputs (Keras 3 `ConvLSTM1D/2D/3D`,
//! `ConvLSTM` and `ConvLSTMCell` in `keras/src/layers/rnn/conv_lstm.py`).
//!
//! The cell is named `conv_lstm_cell`, so its weights are `conv_lstm_cell.kernel`
//! `(k…, channels, 4·filters)`, `conv_lstm_cell.recurrent_kernel` `(k…, filters, 4·filters)`
//! and `conv_lstm_cell.bias` `(4·filters,)`, whose forget-gate slice `[filters, 2·filters)` is
//! ones when `unit_forget_bias` (default true). The input convolution follows `strides`,
//! `padding` and `dilation_rate`; the output is one step's convolution output, per step when
//! `return_sequences`. PyTorch has no ConvLSTM module.

use super::ConstantFill;
use super::recurrent::return_state_argument;
use super::spatial::{PADDINGS, Window, data_format_argument, shape_text, split_spatial};
use super::torch::TorchTensor;
use super::{Built, Layer, LayerType, UnaryLayer, Weight, activation_argument, named_activation_argument};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

const ARGUMENTS: &[&str] = &[
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "unit_forget_bias",
    "recurrent_regularizer",
    "recurrent_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
];

pub const CONV_LSTM1D: LayerType =
    LayerType { name: "conv_lstm1d", class_name: "ConvLSTM1D", arguments: ARGUMENTS, parse: parse::<1>, torch };
pub const CONV_LSTM2D: LayerType =
    LayerType { name: "conv_lstm2d", class_name: "ConvLSTM2D", arguments: ARGUMENTS, parse: parse::<2>, torch };
pub const CONV_LSTM3D: LayerType =
    LayerType { name: "conv_lstm3d", class_name: "ConvLSTM3D", arguments: ARGUMENTS, parse: parse::<3>, torch };

fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Err("PyTorch has no convolutional LSTM module".into())
}

#[derive(Debug)]
struct ConvLstm {
    /// Spatial dimensions: 1, 2 or 3.
    rank: usize,
    filters: usize,
    window: Window,
    use_bias: bool,
    unit_forget_bias: bool,
    return_sequences: bool,
    /// Its final states `h` and `c` follow its output, each shaped as one step's output.
    return_state: bool,
}

fn parse<const RANK: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let filters = args.required_count("filters");
    let kernel_size = args.required_tuple("kernel_size", RANK);
    let strides = args.tuple("strides", RANK).map_or(vec![1; RANK], |s| s.value);
    let dilation = args.tuple("dilation_rate", RANK).map_or(vec![1; RANK], |d| d.value);
    let padding = args.word_or("padding", &PADDINGS, "valid").value;
    data_format_argument(args);
    activation_argument(args, false);
    named_activation_argument(args, "recurrent_activation");
    let use_bias = args.bool_or("use_bias", true);
    let unit_forget_bias = args.bool_or("unit_forget_bias", true);
    let dropout = args.number_in_or("dropout", 0.0, 1.0, 0.0);
    let recurrent_dropout = args.number_in_or("recurrent_dropout", 0.0, 1.0, 0.0);
    args.optional_count("seed", 0);
    let return_sequences = args.bool_or("return_sequences", false);
    // Direction, statefulness and unrolling change how the layer runs, not its weights.
    for flag in ["go_backwards", "stateful", "unroll"] {
        args.bool_or(flag, false);
    }
    args.accept_inert(&["recurrent_regularizer", "recurrent_constraint"]);
    let return_state = return_state_argument(args);
    dropout?;
    recurrent_dropout?;
    let window = Window { size: kernel_size?, strides, dilation, padding };
    Some(Box::new(ConvLstm {
        rank: RANK,
        filters: filters?.value,
        window,
        use_bias,
        unit_forget_bias,
        return_sequences,
        return_state,
    }))
}

fn overflow() -> Diagnostic {
    Diagnostic::error(Code::SizeOverflow, "4 · filters does not fit in 64 bits").with_help("use fewer `filters`")
}

impl UnaryLayer for ConvLstm {
    fn output_count(&self) -> usize {
        if self.return_state { 3 } else { 1 }
    }

    fn other_outputs_of(&self, _input: &[usize], built: &Built) -> Vec<Vec<usize>> {
        let step =
            if self.return_sequences { built.output_shape.get(1..).unwrap_or_default() } else { &built.output_shape };
        vec![step.to_vec(); UnaryLayer::output_count(self) - 1]
    }

    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = CONV_LSTM_NAMES[self.rank - 1];
        let step = input.get(1..).unwrap_or_default();
        let Some((spatial, channels)) = split_spatial(step, self.rank) else {
            let axes = ["steps", "height, width", "depth, height, width"][self.rank - 1];
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!(
                    "`{name}` needs a rank-{} input (timesteps, {axes}, channels), found {}",
                    self.rank + 2,
                    shape_text(input)
                ),
            )
            .with_help(format!("put a `reshape` before it, or give `input:` as [timesteps, {axes}, channels]")));
        };
        let mut step_output = self.window.output(spatial, "kernel")?;
        step_output.push(self.filters);
        let output_shape =
            if self.return_sequences { [input[0]].into_iter().chain(step_output).collect() } else { step_output };
        let gates = self.filters.checked_mul(4).ok_or_else(overflow)?;
        let kernel = |inputs: usize| self.window.size.value.iter().copied().chain([inputs, gates]).collect();
        let mut weights = vec![
            Weight::new("conv_lstm_cell.kernel", kernel(channels), "kernel_initializer", Family::GlorotUniform),
            Weight::new(
                "conv_lstm_cell.recurrent_kernel",
                kernel(self.filters),
                "recurrent_initializer",
                Family::Orthogonal,
            ),
        ];
        if self.use_bias {
            let bias = Weight::new("conv_lstm_cell.bias", vec![gates], "bias_initializer", Family::Zeros);
            let fill =
                self.unit_forget_bias.then(|| ConstantFill { range: self.filters..2 * self.filters, value: 1.0 });
            weights.push(Weight { fill, ..bias });
        }
        Ok(Built { output_shape, weights })
    }
}

const CONV_LSTM_NAMES: [&str; 3] = ["conv_lstm1d", "conv_lstm2d", "conv_lstm3d"];
