//! `layer_scale`: multiplies the channels by a learnt per-channel scale (ConvNeXt's
//! `LayerScale`, a class inside `keras/src/applications/convnext.py`, registered as
//! `LayerScale`). One weight of shape `(projection_dim,)`, filled with `init_values`; Keras
//! creates it without a name, so it is `variable`, `variable_1`, … counted over the model.

use super::spatial::shape_text;
use super::torch::TorchTensor;
use super::{Built, ConstantFill, Layer, LayerType, UnaryLayer, Weight};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "layer_scale",
    class_name: "LayerScale",
    arguments: &["init_values", "projection_dim"],
    parse,
    torch,
};

/// The weight name Keras gives a variable created without one; [`crate::plan`] numbers them
/// over the model as Keras's name scope does.
pub const AUTO_NAMED_VARIABLE: &str = "variable";

/// Torch has no layer-scale module (torchvision's ConvNeXt keeps it as a bare parameter).
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Err("PyTorch has no layer-scale module (torchvision's ConvNeXt keeps a `(c, 1, 1)` parameter inside its block)"
        .to_string())
}

#[derive(Debug)]
struct LayerScale {
    init_values: f64,
    projection_dim: usize,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let init_values = args.require("init_values", "1e-6").map(|_| ());
    let value = args.number_in_or("init_values", f64::NEG_INFINITY, f64::INFINITY, 0.0);
    let projection_dim = args.required_count("projection_dim");
    init_values?;
    Some(Box::new(LayerScale { init_values: value?, projection_dim: projection_dim?.value }))
}

impl UnaryLayer for LayerScale {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        if input.last() != Some(&self.projection_dim) {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "`projection_dim: {}` is not the channel count of input {}",
                    self.projection_dim,
                    shape_text(input)
                ),
            )
            .with_help("give the size of the input's last axis as `projection_dim`"));
        }
        // The whole tensor is filled with `init_values`, which is Keras's Constant initializer.
        let fill = ConstantFill { range: 0..self.projection_dim, value: self.init_values };
        let scale = Weight {
            fill: Some(fill),
            ..Weight::new(AUTO_NAMED_VARIABLE, vec![self.projection_dim], "", Family::Constant)
        };
        Ok(Built { output_shape: input.to_vec(), weights: vec![scale] })
    }
}
