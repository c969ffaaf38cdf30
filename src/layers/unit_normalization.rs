//! `unit_normalization`: scales each example to unit L2 norm over `axis` (Keras 3
//! `UnitNormalization` in `keras/src/layers/normalization/unit_normalization.py`). Same shape,
//! no weights.

use super::activations::check_axes;
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::{Args, Spanned};
use crate::diagnostic::Diagnostic;

pub const TYPE: LayerType = LayerType {
    name: "unit_normalization",
    class_name: "UnitNormalization",
    arguments: &["axis"],
    parse,
    torch: no_weights,
};

#[derive(Debug)]
struct UnitNormalization {
    axes: Spanned<Vec<Spanned<i64>>>,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let axes = args.integers_or("axis", -1)?;
    Some(Box::new(UnitNormalization { axes }))
}

impl UnaryLayer for UnitNormalization {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        check_axes(&self.axes, input)?;
        Ok(Built { output_shape: input.to_vec(), weights: Vec::new() })
    }
}
