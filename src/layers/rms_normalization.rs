//! `rms_normalization`: divides each example by its root mean square over `axis` and scales it
//! (Keras 3 `RMSNormalization` in `keras/src/layers/normalization/rms_normalization.py`). One
//! weight, `scale` (ones), shaped like the normalised axes taken in sorted order of the `axis`
//! values as written; output = input.

use super::layer_normalization::feature_axis;
use super::torch::{TorchTensor, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{Args, Spanned};
use crate::diagnostic::Diagnostic;
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "rms_normalization",
    class_name: "RMSNormalization",
    arguments: &["axis", "epsilon"],
    parse,
    torch,
};

/// `nn.RMSNorm(normalized_shape)`: `weight`, over the same trailing axes.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![weight("weight", "scale", None)])
}

#[derive(Debug)]
struct RmsNormalization {
    axes: Vec<Spanned<i64>>,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let axes = args.integers_or("axis", -1);
    let epsilon = args.number_in_or("epsilon", 0.0, f64::INFINITY, 1e-6);
    epsilon?;
    let mut axes = axes?.value;
    // Keras sorts the values as given, negative ones first.
    axes.sort_by_key(|axis| axis.value);
    Some(Box::new(RmsNormalization { axes }))
}

impl UnaryLayer for RmsNormalization {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let shape = self
            .axes
            .iter()
            .map(|axis| feature_axis(axis, input).map(|index| input[index]))
            .collect::<Result<_, _>>()?;
        // Keras's RMSNormalization has no initializer argument: its scale starts at ones.
        let scale = Weight::new("scale", shape, "scale_initializer", Family::Ones);
        Ok(Built { output_shape: input.to_vec(), weights: vec![scale] })
    }
}
