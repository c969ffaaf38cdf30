//! The activation layers without weights (Keras 3 `ReLU`, `LeakyReLU`, `ELU` and `Softmax` in
//! `keras/src/layers/activations/`): same shape, no weights; their arguments are checked as
//! Keras checks them.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};

pub const RE_LU: LayerType = LayerType {
    name: "re_lu",
    class_name: "ReLU",
    arguments: &["max_value", "negative_slope", "threshold"],
    parse: parse_relu,
    torch: no_weights,
};

pub const LEAKY_RE_LU: LayerType = LayerType {
    name: "leaky_re_lu",
    class_name: "LeakyReLU",
    arguments: &["negative_slope", "alpha"],
    parse: parse_leaky_relu,
    torch: no_weights,
};

pub const ELU: LayerType =
    LayerType { name: "elu", class_name: "ELU", arguments: &["alpha"], parse: parse_elu, torch: no_weights };

pub const SOFTMAX: LayerType =
    LayerType { name: "softmax", class_name: "Softmax", arguments: &["axis"], parse: parse_softmax, torch: no_weights };

/// A layer whose output has its input's shape and that has no weights.
#[derive(Debug)]
pub struct SameShape;

impl UnaryLayer for SameShape {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        Ok(Built { output_shape: input.to_vec(), weights: Vec::new() })
    }
}

fn parse_relu(args: &mut Args) -> Option<Box<dyn Layer>> {
    // `max_value: null` (Keras's default) means no upper bound.
    let max_value = args.number_in_or("max_value", 0.0, f64::INFINITY, f64::INFINITY);
    let negative_slope = args.number_in_or("negative_slope", 0.0, f64::INFINITY, 0.0);
    let threshold = args.number_in_or("threshold", f64::NEG_INFINITY, f64::INFINITY, 0.0);
    max_value?;
    negative_slope?;
    threshold?;
    Some(Box::new(SameShape))
}

fn parse_leaky_relu(args: &mut Args) -> Option<Box<dyn Layer>> {
    // `alpha` is Keras 2's name for the slope, which Keras 3 still accepts.
    let alpha = args.number_in_or("alpha", 0.0, f64::INFINITY, 0.3);
    let negative_slope = args.number_in_or("negative_slope", 0.0, f64::INFINITY, 0.3);
    alpha?;
    negative_slope?;
    Some(Box::new(SameShape))
}

fn parse_elu(args: &mut Args) -> Option<Box<dyn Layer>> {
    args.number_in_or("alpha", f64::NEG_INFINITY, f64::INFINITY, 1.0)?;
    Some(Box::new(SameShape))
}

#[derive(Debug)]
struct Softmax {
    axes: Spanned<Vec<Spanned<i64>>>,
}

fn parse_softmax(args: &mut Args) -> Option<Box<dyn Layer>> {
    let axes = args.integers_or("axis", -1)?;
    Some(Box::new(Softmax { axes }))
}

/// Checks that each Keras `axis` (which counts the batch axis) exists in a tensor whose
/// per-example shape is `input`: from `-(rank + 1)` to `rank`.
pub fn check_axes(axes: &Spanned<Vec<Spanned<i64>>>, input: &[usize]) -> Result<(), Diagnostic> {
    let rank = input.len() as i64 + 1;
    for axis in &axes.value {
        if axis.value < -rank || axis.value >= rank {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!("`axis: {}` is out of range for input {}", axis.value, shape_text(input)),
            )
            .at(axis.span)
            .with_help(format!("Keras counts the batch axis: give an axis from {} to {}", -rank, rank - 1)));
        }
    }
    Ok(())
}

impl UnaryLayer for Softmax {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        check_axes(&self.axes, input)?;
        Ok(Built { output_shape: input.to_vec(), weights: Vec::new() })
    }
}
