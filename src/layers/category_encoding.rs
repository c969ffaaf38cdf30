//! `category_encoding` and `discretization`: integer ids, or numbers sorted into bins, as
//! one-hot, multi-hot or count vectors (Keras 3 `CategoryEncoding` and `Discretization` in
//! `keras/src/layers/preprocessing/`), with Keras's `compute_output_shape`: one-hot appends the
//! depth (replacing a last axis of 1), multi-hot and count replace the last axis
//! (`CategoryEncoding`) or drop the first (`Discretization`); `Discretization`'s `int` mode
//! keeps the shape. No weights.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

pub const CATEGORY_ENCODING: LayerType = LayerType {
    name: "category_encoding",
    class_name: "CategoryEncoding",
    arguments: &["num_tokens", "output_mode", "sparse"],
    parse: parse_category_encoding,
    torch: no_weights,
};

pub const DISCRETIZATION: LayerType = LayerType {
    name: "discretization",
    class_name: "Discretization",
    arguments: &["bin_boundaries", "num_bins", "epsilon", "output_mode", "sparse"],
    parse: parse_discretization,
    torch: no_weights,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Int,
    OneHot,
    /// Multi-hot or count: one vector per example (per row, for `Discretization`).
    Summed,
}

#[derive(Debug)]
struct Encoding {
    name: &'static str,
    depth: usize,
    mode: Mode,
    /// `Discretization` drops the first axis in the summed modes, `CategoryEncoding` the last.
    drops_first_axis: bool,
}

fn parse_category_encoding(args: &mut Args) -> Option<Box<dyn Layer>> {
    let num_tokens = args.required_count("num_tokens");
    // `binary` is Keras's old name for `multi_hot`.
    let mode = args.word_or("output_mode", &["multi_hot", "one_hot", "count", "binary"], "multi_hot");
    args.bool_or("sparse", false);
    let mode = if mode.value == "one_hot" { Mode::OneHot } else { Mode::Summed };
    Some(Box::new(Encoding { name: "category_encoding", depth: num_tokens?.value, mode, drops_first_axis: false }))
}

fn parse_discretization(args: &mut Args) -> Option<Box<dyn Layer>> {
    let boundaries = args.optional_numbers("bin_boundaries");
    let num_bins = args.optional_count("num_bins", 0);
    let epsilon = args.number_in_or("epsilon", 0.0, f64::INFINITY, 0.01);
    let mode = args.word_or("output_mode", &["int", "one_hot", "multi_hot", "count"], "int");
    let sparse = args.bool_or("sparse", false);
    let boundaries = boundaries?;
    epsilon?;
    let mode = match mode.value {
        "int" => Mode::Int,
        "one_hot" => Mode::OneHot,
        _ => Mode::Summed,
    };
    if sparse && mode == Mode::Int {
        let span = args.take("sparse").map_or(args.layer_span, |node| node.span);
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "`sparse: true` needs an `output_mode` other than `int`")
                .at(span)
                .with_help("use `output_mode: one_hot`, `multi_hot` or `count`, or `sparse: false`"),
        );
        return None;
    }
    let depth = match (boundaries, num_bins) {
        (Some(boundaries), None) => boundaries.value.len() + 1,
        (None, Some(bins)) => bins.value,
        (given, _) => {
            let message = if given.is_some() {
                "give `bin_boundaries` or `num_bins`, not both"
            } else {
                "`discretization` needs `bin_boundaries` or `num_bins`"
            };
            args.diagnostics.push(
                Diagnostic::error(Code::InvalidValue, message)
                    .at(args.layer_span)
                    .with_help("e.g. `bin_boundaries: [0.0, 1.0]` (3 bins), or `num_bins: 3` for `adapt()` to fill"),
            );
            return None;
        }
    };
    Some(Box::new(Encoding { name: "discretization", depth, mode, drops_first_axis: true }))
}

impl UnaryLayer for Encoding {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let depth = self.depth;
        if self.mode == Mode::Int {
            return Ok(Built { output_shape: input.to_vec(), weights: Vec::new() });
        }
        if depth == 0 {
            return Err(Diagnostic::error(
                Code::EmptyOutput,
                format!("`{}` with 0 bins has an empty output", self.name),
            )
            .with_help("give `num_bins` of at least 1"));
        }
        let output_shape = match (self.mode, input) {
            (Mode::OneHot, [leading @ .., 1]) => [leading, &[depth]].concat(),
            (Mode::OneHot, _) => [input, &[depth]].concat(),
            (_, []) => {
                // Keras would drop the batch axis here.
                return Err(Diagnostic::error(
                    Code::WrongInputRank,
                    format!(
                        "`{}` needs an input of rank 1 or more in this mode, found {}",
                        self.name,
                        shape_text(input)
                    ),
                )
                .with_help("give each example at least one axis, e.g. `input: [1]`"));
            }
            (_, [_, rest @ ..]) if self.drops_first_axis => [rest, &[depth]].concat(),
            (_, [leading @ .., _]) => [leading, &[depth]].concat(),
        };
        Ok(Built { output_shape, weights: Vec::new() })
    }
}
