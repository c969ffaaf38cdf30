//! `simple_rnn`, `lstm`, `gru`: recurrent layers over `(timesteps, features)` inputs (Keras 3
//! `SimpleRNN`, `LSTM`, `GRU` and their cells in `keras/src/layers/rnn/simple_rnn.py`, `lstm.py`,
//! `gru.py`). Weights `kernel` `(features, g·units)`, `recurrent_kernel` `(units, g·units)` and
//! `bias` `(g·units,)` with g = 1, 4, 3 gates; GRU's `reset_after` (default true) gives the bias
//! a second row `(2, 3·units)`. LSTM's `unit_forget_bias` (default true) sets the forget gate's
//! bias slice `[units, 2·units)` to ones after the bias initializer ran.

use super::ConstantFill;
use super::spatial::shape_text;
use super::torch::{TorchSource, TorchTensor, Transform, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight, activation_argument, named_activation_argument};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

/// Arguments every recurrent layer takes.
const COMMON: [&str; 17] = [
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
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
    "zero_output_for_mask",
];

const fn with<const N: usize, const M: usize>(extra: [&'static str; M]) -> [&'static str; N] {
    let mut all = [""; N];
    let mut i = 0;
    while i < COMMON.len() {
        all[i] = COMMON[i];
        i += 1;
    }
    let mut j = 0;
    while j < M {
        all[i + j] = extra[j];
        j += 1;
    }
    all
}

const SIMPLE_RNN_ARGUMENTS: [&str; 17] = with([]);
const LSTM_ARGUMENTS: [&str; 21] = with(["recurrent_activation", "unit_forget_bias", "use_cudnn", "implementation"]);
const GRU_ARGUMENTS: [&str; 21] = with(["recurrent_activation", "reset_after", "use_cudnn", "implementation"]);

pub const SIMPLE_RNN: LayerType = LayerType {
    name: "simple_rnn",
    class_name: "SimpleRNN",
    arguments: &SIMPLE_RNN_ARGUMENTS,
    parse: parse_simple_rnn,
    torch: torch_simple_rnn_or_lstm,
};
pub const LSTM: LayerType = LayerType {
    name: "lstm",
    class_name: "LSTM",
    arguments: &LSTM_ARGUMENTS,
    parse: parse_lstm,
    torch: torch_simple_rnn_or_lstm,
};
pub const GRU: LayerType =
    LayerType { name: "gru", class_name: "GRU", arguments: &GRU_ARGUMENTS, parse: parse_gru, torch: torch_gru };

/// `nn.RNN` / `nn.LSTM` (one layer, batch_first): kernels transposed; torch's second bias,
/// which Keras does not have, is zeros. Both use Keras's gate order (i, f, c, o for the LSTM).
fn torch_simple_rnn_or_lstm(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(under_cell(
        weights,
        vec![
            weight("weight_ih_l0", "kernel", Some(Transform::Transpose)),
            weight("weight_hh_l0", "recurrent_kernel", Some(Transform::Transpose)),
            weight("bias_ih_l0", "bias", None),
            TorchTensor { name: "bias_hh_l0", source: TorchSource::ZerosLike(std::borrow::Cow::Borrowed("bias")) },
        ],
    ))
}

/// The mapping's Keras names under the cell segment the weights carry (`lstm_cell.kernel` for
/// the layer itself; a wrapper hands over its weights without it).
fn under_cell(weights: &[Weight], tensors: Vec<TorchTensor>) -> Vec<TorchTensor> {
    let Some((cell, _)) = weights.first().and_then(|w| w.name.rsplit_once('.')) else { return tensors };
    let prefix = format!("{cell}.");
    tensors.into_iter().map(|t| TorchTensor { name: t.name, source: t.source.with_logical_prefix(&prefix) }).collect()
}

/// `nn.GRU` (one layer, batch_first): gate blocks reordered from (z, r, h) to (r, z, n), the
/// two bias rows split. Only `reset_after: true` computes what torch computes.
fn torch_gru(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    if weights.iter().any(|w| w.name.rsplit('.').next() == Some("bias") && w.shape.len() != 2) {
        return Err("torch's GRU applies the reset gate after the matrix product: use `reset_after: true`".into());
    }
    Ok(under_cell(
        weights,
        vec![
            weight("weight_ih_l0", "kernel", Some(Transform::GruKernel)),
            weight("weight_hh_l0", "recurrent_kernel", Some(Transform::GruKernel)),
            weight("bias_ih_l0", "bias", Some(Transform::GruBiasRow(0))),
            weight("bias_hh_l0", "bias", Some(Transform::GruBiasRow(1))),
        ],
    ))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    SimpleRnn,
    Lstm { unit_forget_bias: bool },
    Gru { reset_after: bool },
}

impl Cell {
    fn name(self) -> &'static str {
        match self {
            Cell::SimpleRnn => "simple_rnn",
            Cell::Lstm { .. } => "lstm",
            Cell::Gru { .. } => "gru",
        }
    }

    /// The name of the cell Keras creates the weights in.
    fn cell_name(self) -> &'static str {
        match self {
            Cell::SimpleRnn => "simple_rnn_cell",
            Cell::Lstm { .. } => "lstm_cell",
            Cell::Gru { .. } => "gru_cell",
        }
    }

    /// How many state tensors it carries.
    fn states(self) -> usize {
        match self {
            Cell::Lstm { .. } => 2,
            _ => 1,
        }
    }

    /// How many gate blocks the kernels stack side by side.
    fn gates(self) -> usize {
        match self {
            Cell::SimpleRnn => 1,
            Cell::Lstm { .. } => 4,
            Cell::Gru { .. } => 3,
        }
    }
}

#[derive(Debug)]
struct Recurrent {
    cell: Cell,
    units: usize,
    use_bias: bool,
    return_sequences: bool,
    /// Its final states follow its output (`h`, and `c` for an LSTM), each `(units,)`.
    return_state: bool,
}

fn parse_simple_rnn(args: &mut Args) -> Option<Box<dyn Layer>> {
    parse(args, Cell::SimpleRnn)
}

fn parse_lstm(args: &mut Args) -> Option<Box<dyn Layer>> {
    let unit_forget_bias = args.bool_or("unit_forget_bias", true);
    parse(args, Cell::Lstm { unit_forget_bias })
}

fn parse_gru(args: &mut Args) -> Option<Box<dyn Layer>> {
    let reset_after = args.bool_or("reset_after", true);
    parse(args, Cell::Gru { reset_after })
}

fn parse(args: &mut Args, cell: Cell) -> Option<Box<dyn Layer>> {
    let units = args.required_count("units");
    let use_bias = args.bool_or("use_bias", true);
    activation_argument(args, false);
    if cell != Cell::SimpleRnn {
        named_activation_argument(args, "recurrent_activation");
        // Which kernel implementation runs does not change the weights.
        args.take("use_cudnn");
        args.optional_count("implementation", 1);
    }
    let dropout = args.number_in_or("dropout", 0.0, 1.0, 0.0);
    let recurrent_dropout = args.number_in_or("recurrent_dropout", 0.0, 1.0, 0.0);
    args.optional_count("seed", 0);
    let return_sequences = args.bool_or("return_sequences", false);
    // Direction, statefulness, unrolling and masking change how the layer runs, not its weights.
    for flag in ["go_backwards", "stateful", "unroll", "zero_output_for_mask"] {
        args.bool_or(flag, false);
    }
    args.accept_inert(&["recurrent_regularizer", "recurrent_constraint"]);
    let return_state = return_state_argument(args);
    dropout?;
    recurrent_dropout?;
    Some(Box::new(Recurrent { cell, units: units?.value, use_bias, return_sequences, return_state }))
}

/// `return_state`: whether the layer returns its final states after its output.
pub fn return_state_argument(args: &mut Args) -> bool {
    args.bool_or("return_state", false)
}

/// How many state tensors a recurrent cell of `layer_type` carries (LSTM: `h` and `c`).
pub fn state_count(layer_type: &LayerType) -> usize {
    match layer_type.name {
        "lstm" => 2,
        _ => 1,
    }
}

fn overflow(what: &str) -> Diagnostic {
    Diagnostic::error(Code::SizeOverflow, format!("the {what} size does not fit in 64 bits"))
        .with_help("use fewer `units` or a smaller input")
}

impl UnaryLayer for Recurrent {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = self.cell.name();
        let &[timesteps, features] = input else {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`{name}` needs a rank-2 input (timesteps, features), found {}", shape_text(input)),
            )
            .with_help("put a `reshape` before it, or give `input:` as [timesteps, features]"));
        };
        let units = self.units;
        let gate_units = units.checked_mul(self.cell.gates()).ok_or_else(|| overflow("gate"))?;
        let mut weights = vec![
            Weight::new("kernel", vec![features, gate_units], "kernel_initializer", Family::GlorotUniform),
            Weight::new("recurrent_kernel", vec![units, gate_units], "recurrent_initializer", Family::Orthogonal),
        ];
        if self.use_bias {
            let bias = match self.cell {
                Cell::Gru { reset_after: true } => {
                    // Separate input and recurrent biases, stacked.
                    Weight::new("bias", vec![2, gate_units], "bias_initializer", Family::Zeros)
                }
                Cell::Lstm { unit_forget_bias: true } => {
                    let end = units.checked_mul(2).ok_or_else(|| overflow("bias"))?;
                    Weight {
                        fill: Some(ConstantFill { range: units..end, value: 1.0 }),
                        ..Weight::new("bias", vec![gate_units], "bias_initializer", Family::Zeros)
                    }
                }
                _ => Weight::new("bias", vec![gate_units], "bias_initializer", Family::Zeros),
            };
            weights.push(bias);
        }
        // Keras creates them in the layer's cell: `lstm/lstm_cell/kernel`.
        let cell = self.cell.cell_name();
        for weight in &mut weights {
            weight.name = std::borrow::Cow::Owned(format!("{cell}.{}", weight.name));
        }
        let output_shape = if self.return_sequences { vec![timesteps, units] } else { vec![units] };
        Ok(Built { output_shape, weights })
    }

    fn output_count(&self) -> usize {
        1 + if self.return_state { self.cell.states() } else { 0 }
    }

    fn other_outputs_of(&self, _input: &[usize], _built: &Built) -> Vec<Vec<usize>> {
        vec![vec![self.units]; UnaryLayer::output_count(self) - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::{Cell, Recurrent};
    use crate::layers::UnaryLayer;

    fn params(cell: Cell, units: usize, input: &[usize]) -> usize {
        let layer = Recurrent { cell, units, use_bias: true, return_sequences: false, return_state: false };
        let built = layer.build_one(input).unwrap_or_else(|error| panic!("{}", error.message));
        built.weights.iter().map(|w| w.shape.iter().product::<usize>()).sum()
    }

    #[test]
    fn parameter_counts_match_keras() {
        assert_eq!(params(Cell::SimpleRnn, 64, &[100, 32]), 6_208);
        assert_eq!(params(Cell::Lstm { unit_forget_bias: true }, 64, &[100, 32]), 24_832);
        assert_eq!(params(Cell::Gru { reset_after: true }, 64, &[100, 32]), 18_816);
        assert_eq!(params(Cell::Gru { reset_after: false }, 64, &[100, 32]), 18_624);
    }

    #[test]
    fn unit_forget_bias_fills_the_forget_gate_slice_with_ones() {
        let layer = Recurrent {
            cell: Cell::Lstm { unit_forget_bias: true },
            units: 3,
            use_bias: true,
            return_sequences: true,
            return_state: false,
        };
        let built = layer.build_one(&[5, 2]).unwrap_or_else(|error| panic!("{}", error.message));
        assert_eq!(built.output_shape, vec![5, 3]);
        let bias = built.weights.iter().find(|w| w.name == "lstm_cell.bias").map(|w| (w.shape.clone(), w.fill.clone()));
        let fill = bias.as_ref().and_then(|(_, fill)| fill.clone()).map(|fill| (fill.range, fill.value));
        assert_eq!(bias.map(|(shape, _)| shape), Some(vec![12]));
        assert_eq!(fill, Some((3..6, 1.0)));
    }
}
