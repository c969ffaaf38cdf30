//! The element-wise merge layers (Keras 3 `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
//! `Minimum`): several inputs combined element by element, with Keras's broadcasting
//! (`keras/src/layers/merging/base_merge.py`, `_compute_elemwise_op_output_shape`): shapes align
//! at their last axes, and an axis of size 1 stretches to the other's size.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Arity, Built, Layer, LayerType};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

pub const ADD: LayerType =
    LayerType { name: "add", class_name: "Add", arguments: &[], parse: parse::<0>, torch: no_weights };
pub const SUBTRACT: LayerType =
    LayerType { name: "subtract", class_name: "Subtract", arguments: &[], parse: parse::<1>, torch: no_weights };
pub const MULTIPLY: LayerType =
    LayerType { name: "multiply", class_name: "Multiply", arguments: &[], parse: parse::<2>, torch: no_weights };
pub const AVERAGE: LayerType =
    LayerType { name: "average", class_name: "Average", arguments: &[], parse: parse::<3>, torch: no_weights };
pub const MAXIMUM: LayerType =
    LayerType { name: "maximum", class_name: "Maximum", arguments: &[], parse: parse::<4>, torch: no_weights };
pub const MINIMUM: LayerType =
    LayerType { name: "minimum", class_name: "Minimum", arguments: &[], parse: parse::<5>, torch: no_weights };

/// The config names, by the index `parse` is instantiated with.
const NAMES: [&str; 6] = ["add", "subtract", "multiply", "average", "maximum", "minimum"];

#[derive(Debug)]
struct Merge {
    name: &'static str,
    /// Whether it is the `add` that closes a residual block (`<block>.add`), which its message
    /// names.
    residual: bool,
}

fn parse<const KIND: usize>(_args: &mut Args) -> Option<Box<dyn Layer>> {
    Some(Box::new(Merge { name: NAMES[KIND], residual: false }))
}

/// The `add` that closes a residual block: its input plus its output. One serves every residual
/// block of a model (its node's name gives the block), so it is built once per input shapes.
pub fn residual_add() -> std::sync::Arc<dyn Layer> {
    std::sync::Arc::new(Merge { name: "add", residual: true })
}

impl Layer for Merge {
    fn arity(&self) -> Arity {
        // Keras's `Subtract` takes exactly two; the others at least one.
        if self.name == "subtract" { Arity::Exactly(2) } else { Arity::AtLeast(1) }
    }

    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        self.build_merge(None, inputs)
    }

    fn build_for(&self, node: &str, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        // A residual `add` is named `<block>.add` or `<block>.add_<n>`.
        let block = self.residual.then(|| node.rsplit_once('.').map_or(node, |(block, _)| block));
        self.build_merge(block, inputs)
    }
}

impl Merge {
    /// The merged shape; `block` names the residual block this `add` closes, for the message.
    fn build_merge(&self, block: Option<&str>, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        let mut output = inputs[0].clone();
        for (index, shape) in inputs.iter().enumerate().skip(1) {
            output = broadcast(&output, shape).ok_or_else(|| match block {
                Some(block) => Diagnostic::error(
                    Code::ResidualMismatch,
                    format!(
                        "residual block `{block}` turns {} into {}: its output must have its input's shape",
                        shape_text(&inputs[0]),
                        shape_text(shape)
                    ),
                )
                .with_help("make the last layer of the block give back the input's shape, or drop `residual: true`"),
                None => Diagnostic::error(
                    Code::MergeMismatch,
                    format!(
                        "`{}` cannot combine {} with input {} of shape {}",
                        self.name,
                        shape_text(&output),
                        index + 1,
                        shape_text(shape)
                    ),
                )
                .with_help(
                    "element-wise merges need equal sizes, or 1 where one input is broadcast, aligned at the last axis",
                ),
            })?;
        }
        Ok(Built { output_shape: output, weights: Vec::new() })
    }
}

/// Keras's element-wise output shape of two shapes (batch axis excluded), or `None`.
pub fn broadcast(first: &[usize], second: &[usize]) -> Option<Vec<usize>> {
    let (long, short) = if first.len() < second.len() { (second, first) } else { (first, second) };
    let lead = long.len() - short.len();
    let mut output = long[..lead].to_vec();
    for (&a, &b) in long[lead..].iter().zip(short) {
        output.push(match (a, b) {
            (1, b) => b,
            (a, 1) => a,
            (a, b) if a == b => a,
            _ => return None,
        });
    }
    Some(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(shapes: &[&[usize]], expected: Option<&[usize]>) {
        let layer = Merge { name: "add", residual: false };
        let inputs: Vec<Vec<usize>> = shapes.iter().map(|s| s.to_vec()).collect();
        let built = layer.build(&inputs).ok().map(|b| b.output_shape);
        assert_eq!(built.as_deref(), expected, "{shapes:?}");
    }

    #[test]
    fn broadcasts_as_keras_does() {
        check(&[&[4, 8], &[4, 8]], Some(&[4, 8]));
        check(&[&[4, 8], &[1, 8]], Some(&[4, 8]));
        check(&[&[4, 8], &[8]], Some(&[4, 8]));
        check(&[&[8], &[4, 1]], Some(&[4, 8]));
        check(&[&[4, 8], &[4, 8], &[4, 8]], Some(&[4, 8]));
        check(&[&[4], &[5]], None);
        check(&[&[4, 8], &[3, 8]], None);
    }
}
