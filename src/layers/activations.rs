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

#[cfg(test)]
mod tests {
    use crate::layers::testing;

    /// Every layer of the shape group on an input, with its output shape or the start of its
    /// error: the shapes Keras's docstrings and `compute_output_shape` give, and the refusals.
    #[test]
    fn shape_group_layers_give_keras_shapes_and_refuse_bad_arguments() {
        type Case<'a> = (&'a str, &'a str, &'a [usize], Result<&'a [usize], &'a str>);
        let table: &[Case] = &[
            ("re_lu", "{max_value: 6.0, negative_slope: 0.1, threshold: 0.5}", &[3, 4], Ok(&[3, 4])),
            ("re_lu", "{max_value: -1}", &[3], Err("`max_value` must be at least 0")),
            ("leaky_re_lu", "{negative_slope: -0.1}", &[3], Err("`negative_slope` must be at least 0")),
            ("leaky_re_lu", "{alpha: 0.2}", &[3], Ok(&[3])),
            ("elu", "{alpha: 0.5}", &[2, 3], Ok(&[2, 3])),
            ("softmax", "{axis: [1, 2]}", &[2, 3], Ok(&[2, 3])),
            ("softmax", "{axis: 3}", &[2, 3], Err("`axis: 3` is out of range")),
            ("unit_normalization", "{axis: -4}", &[2, 3], Err("`axis: -4` is out of range")),
            ("identity", "{}", &[5], Ok(&[5])),
            ("masking", "{mask_value: -1.0}", &[5, 2], Ok(&[5, 2])),
            ("permute", "{dims: [2, 3, 1]}", &[4, 5, 6], Ok(&[5, 6, 4])),
            ("permute", "{dims: [1, 3]}", &[4, 5], Err("`dims` must hold each of 1 to 2 once")),
            ("permute", "{dims: [2, 1]}", &[4, 5, 6], Err("`permute` with 2 dims needs an input of 2 axes")),
            ("repeat_vector", "{n: 3}", &[7], Ok(&[3, 7])),
            ("repeat_vector", "{n: 3}", &[7, 2], Err("`repeat_vector` needs a rank-1 input")),
            ("up_sampling1d", "{size: 3}", &[4, 2], Ok(&[12, 2])),
            ("up_sampling1d", "{size: [2]}", &[4, 2], Err("expected a number, found a list")),
            ("up_sampling2d", "{size: [2, 3], data_format: channels_first}", &[2, 4, 5], Ok(&[2, 8, 15])),
            ("up_sampling2d", "{interpolation: cubic}", &[4, 5, 2], Err("`interpolation` must be one of")),
            ("up_sampling3d", "{}", &[1, 2, 3, 4], Ok(&[2, 4, 6, 4])),
            ("up_sampling3d", "{}", &[1, 2, 3], Err("`up_sampling3d` needs a rank-4 input")),
            ("resizing", "{height: 3, width: 4, data_format: channels_first}", &[2, 9, 9], Ok(&[2, 3, 4])),
            (
                "resizing",
                "{height: 3, width: 4, crop_to_aspect_ratio: true, pad_to_aspect_ratio: true}",
                &[9, 9, 2],
                Err("`crop_to_aspect_ratio` and `pad_to_aspect_ratio` cannot both be true"),
            ),
            ("center_crop", "{height: 3, width: 4}", &[9, 2], Err("`center_crop` needs a rank-3 input")),
            ("adaptive_max_pooling2d", "{output_size: [2, 3]}", &[9, 9, 4], Ok(&[2, 3, 4])),
            ("adaptive_average_pooling1d", "{output_size: 2, data_format: channels_first}", &[4, 9], Ok(&[4, 2])),
            ("adaptive_average_pooling3d", "{}", &[2, 2, 2, 1], Err("needs the argument `output_size`")),
            ("spatial_dropout1d", "{rate: 0.5}", &[4, 4, 2], Err("`spatial_dropout1d` needs a rank-2 input")),
            ("spatial_dropout2d", "{rate: 1.5}", &[4, 4, 2], Err("`rate` must be between 0 and 1")),
            ("gaussian_noise", "{stddev: 2}", &[4], Err("`stddev` must be between 0 and 1")),
            ("category_encoding", "{num_tokens: 5, output_mode: one_hot}", &[3, 1], Ok(&[3, 5])),
            ("category_encoding", "{num_tokens: 5, output_mode: count}", &[3, 2], Ok(&[3, 5])),
            ("category_encoding", "{num_tokens: 5}", &[], Err("needs an input of rank 1 or more")),
            ("discretization", "{bin_boundaries: [0, 1], output_mode: multi_hot}", &[3, 2], Ok(&[2, 3])),
            ("discretization", "{num_bins: 4, bin_boundaries: [0]}", &[3], Err("not both")),
            ("discretization", "{}", &[3], Err("needs `bin_boundaries` or `num_bins`")),
            ("discretization", "{num_bins: 3, sparse: true}", &[3], Err("`sparse: true` needs an `output_mode`")),
            ("rescaling", "{scale: [0.5, 2.0], offset: 1}", &[4, 2], Ok(&[4, 2])),
            ("rescaling", "{}", &[4], Err("needs the argument `scale`")),
            ("layer_scale", "{init_values: 0.1, projection_dim: 3}", &[4], Err("`projection_dim: 3` is not")),
        ];
        for &(type_name, arguments, input, expected) in table {
            let built = testing::build(type_name, arguments, input);
            match (expected, built) {
                (Ok(shape), Ok(built)) => assert_eq!(built.output_shape, shape, "{type_name} {arguments}"),
                (Err(message), Err(error)) => assert!(error.contains(message), "{type_name} {arguments}: {error}"),
                (expected, found) => {
                    panic!("{type_name} {arguments} on {input:?}: expected {expected:?}, found {found:?}")
                }
            }
        }
    }

    /// The weights of the weighted layers of the group: Keras's shapes and trainable flags.
    #[test]
    fn shape_group_weights_have_keras_shapes() {
        type Case<'a> = (&'a str, &'a str, &'a [usize], Result<&'a [(&'a str, &'a [usize], bool)], &'a str>);
        let table: &[Case] = &[
            ("p_re_lu", "{shared_axes: [1, 2]}", &[5, 7, 4], Ok(&[("alpha", &[1, 1, 4], true)])),
            ("p_re_lu", "{shared_axes: 3}", &[5, 7, 4], Ok(&[("alpha", &[5, 7, 1], true)])),
            ("p_re_lu", "{shared_axes: [0]}", &[5, 7, 4], Err("`shared_axes` holds 0")),
            ("p_re_lu", "{shared_axes: -1}", &[5, 7, 4], Err("`shared_axes` holds -1")),
            ("group_normalization", "{groups: -1, center: false}", &[6, 8], Ok(&[("gamma", &[8], true)])),
            ("group_normalization", "{groups: 5, axis: 1, scale: false}", &[5, 8], Ok(&[("beta", &[5], true)])),
            ("group_normalization", "{groups: 3}", &[6, 8], Err("3 groups do not divide the 8 channels")),
            ("group_normalization", "{}", &[6, 8], Err("32 groups do not divide the 8 channels")),
            ("group_normalization", "{groups: 0}", &[6, 8], Err("`groups` must be positive or -1")),
            ("group_normalization", "{groups: 2, axis: 0}", &[6, 8], Err("the batch axis")),
            ("rms_normalization", "{axis: [2, 1]}", &[6, 5, 8], Ok(&[("scale", &[6, 5], true)])),
            ("rms_normalization", "{axis: [-1, 1]}", &[6, 5, 8], Ok(&[("scale", &[8, 6], true)])),
            (
                "normalization",
                "{axis: [3, 1]}",
                &[6, 5, 8],
                Ok(&[("mean", &[6, 8], false), ("variance", &[6, 8], false), ("count", &[], false)]),
            ),
            (
                "normalization",
                "{axis: null}",
                &[6, 5, 8],
                Ok(&[("mean", &[], false), ("variance", &[], false), ("count", &[], false)]),
            ),
            ("normalization", "{mean: [1, 2], variance: [[1, 2]]}", &[2], Ok(&[])),
            ("normalization", "{mean: 1.0}", &[2], Err("`mean` is given without `variance`")),
            ("normalization", "{axis: 0}", &[2], Err("the batch axis")),
            ("layer_scale", "{init_values: 0.5, projection_dim: 4}", &[3, 4], Ok(&[("variable", &[4], true)])),
        ];
        for &(type_name, arguments, input, expected) in table {
            let built = testing::build(type_name, arguments, input);
            match (expected, built) {
                (Ok(weights), Ok(built)) => {
                    let found: Vec<(&str, &[usize], bool)> =
                        built.weights.iter().map(|w| (w.name.as_ref(), w.shape.as_slice(), w.trainable)).collect();
                    assert_eq!(found, weights, "{type_name} {arguments}");
                    assert_eq!(built.output_shape, input, "{type_name} {arguments}");
                }
                (Err(message), Err(error)) => assert!(error.contains(message), "{type_name} {arguments}: {error}"),
                (expected, found) => {
                    panic!("{type_name} {arguments} on {input:?}: expected {expected:?}, found {found:?}")
                }
            }
        }
    }
}
