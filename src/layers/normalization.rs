//! `normalization`: standardises inputs with a mean and variance per position of the kept
//! `axis` (Keras 3 `Normalization` in `keras/src/layers/preprocessing/normalization.py`). Given
//! `mean` and `variance` it holds them as constants, with no weights. Otherwise (`adapt()`
//! fills them) it has three non-trainable weights: `mean` (zeros) and `variance` (ones), shaped
//! like the kept axes in sorted order, and the scalar `count` (zeros; an integer in Keras, written
//! in the file's dtype here). `axis: null` keeps no axis: scalar mean and variance.

use super::layer_normalization::feature_axis;
use super::torch::TorchTensor;
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "normalization",
    class_name: "Normalization",
    arguments: &["axis", "mean", "variance", "invert"],
    parse,
    torch,
};

/// Torch has no module that holds a mean and a variance to standardise its input with.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Err("PyTorch has no module holding `Normalization`'s adapted `mean`, `variance` and `count` \
         (standardise the input in the data pipeline, or give `mean` and `variance` so the layer has \
         no weights)"
        .to_string())
}

#[derive(Debug)]
struct Normalization {
    axes: Vec<Spanned<i64>>,
    /// `mean` and `variance` were given: constants, not weights.
    given: bool,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    // `axis: null` keeps no axis; absent, the last one.
    let null_axis = args.is_null("axis");
    let axes = match args.optional_integers("axis")? {
        Some(axes) => axes.value,
        None if null_axis => Vec::new(),
        None => vec![Spanned { value: -1, span: args.layer_span }],
    };
    args.bool_or("invert", false);
    // Their values do not matter here, only whether they are given.
    let mean = args.take("mean").map(|node| node.span);
    let variance = args.take("variance").map(|node| node.span);
    if let (Some(span), None) | (None, Some(span)) = (mean, variance) {
        let (given, missing) = if mean.is_some() { ("mean", "variance") } else { ("variance", "mean") };
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, format!("`{given}` is given without `{missing}`"))
                .at(span)
                .with_help("give both `mean` and `variance`, or neither (then `adapt()` fills them)"),
        );
        return None;
    }
    Some(Box::new(Normalization { axes, given: mean.is_some() }))
}

impl UnaryLayer for Normalization {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let mut kept = self.axes.iter().map(|axis| feature_axis(axis, input)).collect::<Result<Vec<_>, _>>()?;
        if self.given {
            return Ok(Built { output_shape: input.to_vec(), weights: Vec::new() });
        }
        kept.sort_unstable();
        let shape: Vec<usize> = kept.iter().map(|&index| input[index]).collect();
        let weights = [
            ("mean", shape.clone(), Family::Zeros),
            ("variance", shape, Family::Ones),
            ("count", Vec::new(), Family::Zeros),
        ]
        .into_iter()
        // Keras's Normalization takes no initializer argument: adapt() sets the values.
        .map(|(name, shape, family)| Weight {
            trainable: false,
            // Keras's `count` is an `"int"`: int32 on the torch and jax backends.
            dtype: (name == "count").then_some(crate::tensor::DType::I32),
            ..Weight::new(name, shape, "", family)
        })
        .collect();
        Ok(Built { output_shape: input.to_vec(), weights })
    }
}
