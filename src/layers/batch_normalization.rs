//! `batch_normalization`: normalises one feature axis with batch statistics (Keras 3
//! `BatchNormalization` in `keras/src/layers/normalization/batch_normalization.py`). Weights in
//! Keras's order: `gamma` (with `scale`), `beta` (with `center`), then the non-trainable
//! `moving_mean` and `moving_variance`, all `(input[axis],)`; output = input.

use super::layer_normalization::{INERT_NORMALIZATION_ARGUMENTS, feature_axis};
use super::torch::{TorchSource, TorchTensor, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "batch_normalization",
    class_name: "BatchNormalization",
    arguments: &[
        "renorm",
        "renorm_clipping",
        "axis",
        "momentum",
        "epsilon",
        "center",
        "scale",
        "beta_initializer",
        "gamma_initializer",
        "moving_mean_initializer",
        "moving_variance_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
        "synchronized",
    ],
    parse,
    torch,
};

/// `nn.BatchNorm1d/2d/3d`: the running statistics, plus the batch counter torch keeps.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![
        weight("weight", "gamma", None),
        weight("bias", "beta", None),
        weight("running_mean", "moving_mean", None),
        weight("running_var", "moving_variance", None),
        TorchTensor {
            name: "num_batches_tracked",
            source: TorchSource::Counter(std::borrow::Cow::Borrowed("moving_mean")),
        },
    ])
}

#[derive(Debug)]
struct BatchNormalization {
    axis: Spanned<i64>,
    center: bool,
    scale: bool,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let axis = args.integer_or("axis", -1);
    let momentum = args.number_in_or("momentum", 0.0, 1.0, 0.99);
    let epsilon = args.number_in_or("epsilon", 0.0, f64::INFINITY, 1e-3);
    let center = args.bool_or("center", true);
    let scale = args.bool_or("scale", true);
    // Cross-device statistics only matter in training.
    args.bool_or("synchronized", false);
    // Batch renormalisation (Keras 3.15+) keeps extra statistics initc does not model; off, its
    // clipping settings change nothing.
    args.take("renorm_clipping");
    if args.bool_or("renorm", false) {
        let span = args.take("renorm").map_or(args.layer_span, |node| node.span);
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                "`renorm: true` is not supported: initc does not model its extra statistics",
            )
            .at(span)
            .with_help("use `renorm: false` (the default)"),
        );
        return None;
    }
    args.accept_inert(&INERT_NORMALIZATION_ARGUMENTS);
    momentum?;
    epsilon?;
    Some(Box::new(BatchNormalization { axis: axis?, center, scale }))
}

impl UnaryLayer for BatchNormalization {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let features = input[feature_axis(&self.axis, input)?];
        let mut weights = Vec::with_capacity(4);
        if self.scale {
            weights.push(Weight::new("gamma", vec![features], "gamma_initializer", Family::Ones));
        }
        if self.center {
            weights.push(Weight::new("beta", vec![features], "beta_initializer", Family::Zeros));
        }
        for (name, argument, default) in [
            ("moving_mean", "moving_mean_initializer", Family::Zeros),
            ("moving_variance", "moving_variance_initializer", Family::Ones),
        ] {
            weights.push(Weight { trainable: false, ..Weight::new(name, vec![features], argument, default) });
        }
        Ok(Built { output_shape: input.to_vec(), weights })
    }
}
