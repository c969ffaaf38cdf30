//! `layer_normalization`: normalises each example over some axes (Keras 3 `LayerNormalization`
//! in `keras/src/layers/normalization/layer_normalization.py`). Weights `gamma` (with `scale` or
//! `rms_scaling`) and `beta` (with `center` and without `rms_scaling`), shaped like the
//! normalised axes in the order given; output = input.

use super::spatial::shape_text;
use super::torch::{TorchTensor, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "layer_normalization",
    class_name: "LayerNormalization",
    arguments: &[
        "axis",
        "epsilon",
        "center",
        "scale",
        "rms_scaling",
        "beta_initializer",
        "gamma_initializer",
        "beta_regularizer",
        "gamma_regularizer",
        "beta_constraint",
        "gamma_constraint",
    ],
    parse,
    torch,
};

/// Normalisation arguments that do not change the initial weights.
pub const INERT_NORMALIZATION_ARGUMENTS: [&str; 4] =
    ["beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"];

/// `nn.LayerNorm`: `weight` and `bias`.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![weight("weight", "gamma", None), weight("bias", "beta", None)])
}

#[derive(Debug)]
struct LayerNormalization {
    axes: Spanned<Vec<Spanned<i64>>>,
    gamma: bool,
    beta: bool,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let axes = args.integers_or("axis", -1);
    let epsilon = args.number_in_or("epsilon", 0.0, f64::INFINITY, 1e-3);
    let center = args.bool_or("center", true);
    let scale = args.bool_or("scale", true);
    let rms_scaling = args.bool_or("rms_scaling", false);
    args.accept_inert(&INERT_NORMALIZATION_ARGUMENTS);
    epsilon?;
    let axes = axes?;
    if axes.value.is_empty() {
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "`axis` needs at least one axis to normalise over")
                .at(axes.span)
                .with_help("give one axis (`axis: -1`, the default) or a list of them"),
        );
        return None;
    }
    Some(Box::new(LayerNormalization { axes, gamma: scale || rms_scaling, beta: center && !rms_scaling }))
}

/// The index into a per-example shape of rank `rank` of a Keras `axis`, which counts the batch
/// axis: 1 is the first per-example axis, -1 the last, 0 the batch axis.
pub fn feature_axis(axis: &Spanned<i64>, input: &[usize]) -> Result<usize, Diagnostic> {
    let rank = input.len() as i64;
    let valid = if rank == 1 { "1 (or -1)".to_string() } else { format!("1 to {rank} (or -{rank} to -1)") };
    let help = format!("Keras counts the batch axis: the feature axes of input {} are {valid}", shape_text(input));
    if axis.value == 0 || axis.value == -(rank + 1) {
        return Err(Diagnostic::error(
            Code::InvalidValue,
            format!("`axis: {}` is the batch axis, which has no fixed size", axis.value),
        )
        .at(axis.span)
        .with_help(help));
    }
    let index = if axis.value > 0 { axis.value - 1 } else { rank + axis.value };
    match usize::try_from(index) {
        Ok(index) if index < input.len() => Ok(index),
        _ => Err(Diagnostic::error(
            Code::InvalidValue,
            format!("`axis: {}` is out of range for input {}", axis.value, shape_text(input)),
        )
        .at(axis.span)
        .with_help(help)),
    }
}

impl UnaryLayer for LayerNormalization {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let mut indices: Vec<(usize, &Spanned<i64>)> = Vec::with_capacity(self.axes.value.len());
        for axis in &self.axes.value {
            let index = feature_axis(axis, input)?;
            if let Some((_, first)) = indices.iter().find(|(seen, _)| *seen == index) {
                return Err(Diagnostic::error(
                    Code::InvalidValue,
                    format!("`axis` names the same axis twice: {} and {}", first.value, axis.value),
                )
                .at_labelled(axis.span, "second time")
                .with_note_at(first.span, "first time")
                .with_help("list each axis once; `-1` and the rank count from opposite ends"));
            }
            indices.push((index, axis));
        }
        let shape: Vec<usize> = indices.iter().map(|&(index, _)| input[index]).collect();
        let mut weights = Vec::new();
        if self.gamma {
            weights.push(Weight::new("gamma", shape.clone(), "gamma_initializer", Family::Ones));
        }
        if self.beta {
            weights.push(Weight::new("beta", shape, "beta_initializer", Family::Zeros));
        }
        Ok(Built { output_shape: input.to_vec(), weights })
    }
}
