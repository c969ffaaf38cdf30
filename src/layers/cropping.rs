//! `cropping1d/2d/3d`: positions removed at both ends of each spatial axis (Keras 3
//! `Cropping1D`, `Cropping2D`, `Cropping3D` in `keras/src/layers/reshaping/`, channels_last).
//! `cropping` is one number for every end, or per axis one number or a `[before, after]` pair (a
//! single pair for 1-D). Defaults: 1 at every end for 1-D and 3-D, 0 for 2-D. Like Keras, cropping
//! an axis to nothing is an error. No weights; `Cropping1D` has no `data_format` in Keras.

use super::spatial::{axis_name, data_format_argument, split_spatial, wrong_rank};
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};

pub const CROPPING1D: LayerType = LayerType {
    name: "cropping1d",
    class_name: "Cropping1D",
    arguments: &["cropping"],
    parse: parse::<1, 1>,
    torch: no_weights,
};
pub const CROPPING2D: LayerType = LayerType {
    name: "cropping2d",
    class_name: "Cropping2D",
    arguments: &["cropping", "data_format"],
    parse: parse::<2, 0>,
    torch: no_weights,
};
pub const CROPPING3D: LayerType = LayerType {
    name: "cropping3d",
    class_name: "Cropping3D",
    arguments: &["cropping", "data_format"],
    parse: parse::<3, 1>,
    torch: no_weights,
};

#[derive(Debug)]
struct Cropping {
    rank: usize,
    /// Positions removed before and after, per spatial axis.
    cropping: Spanned<Vec<(usize, usize)>>,
}

fn type_name(rank: usize) -> &'static str {
    match rank {
        1 => "cropping1d",
        2 => "cropping2d",
        _ => "cropping3d",
    }
}

fn parse<const RANK: usize, const DEFAULT: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let cropping = args.margins("cropping", RANK, DEFAULT);
    if RANK > 1 {
        data_format_argument(args);
    }
    Some(Box::new(Cropping { rank: RANK, cropping: cropping? }))
}

impl UnaryLayer for Cropping {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = type_name(self.rank);
        let Some((spatial, channels)) = split_spatial(input, self.rank) else {
            return Err(wrong_rank(name, self.rank, input));
        };
        let mut output_shape = Vec::with_capacity(input.len());
        for (axis, (&length, &(before, after))) in spatial.iter().zip(&self.cropping.value).enumerate() {
            let kept = before.checked_add(after).and_then(|removed| length.checked_sub(removed)).unwrap_or(0);
            if kept == 0 {
                return Err(Diagnostic::error(
                    Code::EmptyOutput,
                    format!(
                        "`cropping` removes {before} + {after} of the {length} positions on spatial axis {axis} ({}), leaving nothing",
                        axis_name(self.rank, axis)
                    ),
                )
                .at(self.cropping.span)
                .with_help("crop less than the axis's length in total, or give a larger input"));
            }
            output_shape.push(kept);
        }
        output_shape.push(channels);
        Ok(Built { output_shape, weights: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing;

    /// The output shape of `type_name` with `arguments` on `input`, or the error's message.
    fn check(type_name: &str, input: &[usize], arguments: &str) -> Result<Vec<usize>, String> {
        testing::build(type_name, arguments, input).map(|built| built.output_shape)
    }

    #[test]
    fn crops_each_spatial_axis_as_keras_does() {
        type Case<'a> = (&'a str, &'a [usize], &'a str, &'a [usize]);
        let table: &[Case] = &[
            // Keras's tests and docstrings: Cropping1D (1, 2) on (5, 7); Cropping2D ((2, 2), (4, 4))
            // on (28, 28, 3); Cropping3D (2, 4, 2) on (28, 28, 10, 3).
            ("cropping1d", &[5, 7], "{cropping: [1, 2]}", &[2, 7]),
            ("cropping1d", &[5, 7], "{cropping: 1}", &[3, 7]),
            ("cropping1d", &[5, 7], "{cropping: [0, 1]}", &[4, 7]),
            ("cropping2d", &[28, 28, 3], "{cropping: [[2, 2], [4, 4]]}", &[24, 20, 3]),
            ("cropping3d", &[28, 28, 10, 3], "{cropping: [2, 4, 2]}", &[24, 20, 6, 3]),
            // Defaults: (1, 1) for 1-D and 3-D, nothing for 2-D.
            ("cropping1d", &[5, 7], "{}", &[3, 7]),
            ("cropping2d", &[5, 6, 7], "{}", &[5, 6, 7]),
            ("cropping3d", &[5, 6, 7, 2], "{}", &[3, 4, 5, 2]),
            // Pairs mixed with numbers; one position left is enough.
            ("cropping3d", &[5, 6, 7, 2], "{cropping: [[0, 4], 1, [2, 0]]}", &[1, 4, 5, 2]),
            ("cropping2d", &[5, 6, 7], "{cropping: 2, data_format: CHANNELS_LAST}", &[1, 2, 7]),
        ];
        for &(type_name, input, arguments, expected) in table {
            assert_eq!(
                check(type_name, input, arguments).as_deref(),
                Ok(expected),
                "{type_name} {arguments} on {input:?}"
            );
        }
    }

    #[test]
    fn refuses_cropping_an_axis_to_nothing_and_bad_arguments() {
        let table: &[(&str, &[usize], &str, &str)] = &[
            // Keras: "`cropping` parameter of `Cropping1D` layer must be smaller than the input length".
            ("cropping1d", &[5, 7], "{cropping: [2, 3]}", "of the 5 positions on spatial axis 0 (steps)"),
            ("cropping1d", &[5, 7], "{cropping: [3, 3]}", "of the 5 positions on spatial axis 0 (steps)"),
            ("cropping2d", &[5, 6, 7], "{cropping: [0, 3]}", "spatial axis 1 (width)"),
            ("cropping3d", &[2, 6, 7, 1], "{}", "spatial axis 0 (depth)"),
            ("cropping1d", &[5, 7], "{cropping: [1.5, 1]}", "must be a whole number"),
            ("cropping1d", &[5, 7], "{data_format: channels_last}", "has no argument `data_format`"),
            ("cropping2d", &[5, 6, 7], "{cropping: [1, 2, 3]}", "needs 2 entries, one per spatial axis"),
            ("cropping3d", &[5, 6, 7], "{}", "needs a rank-4 input"),
        ];
        for &(type_name, input, arguments, message) in table {
            let error = check(type_name, input, arguments).err().unwrap_or_default();
            assert!(error.contains(message), "{type_name} {arguments} on {input:?}: {error:?}");
        }
    }
}
