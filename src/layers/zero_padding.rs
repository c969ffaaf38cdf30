//! `zero_padding1d/2d/3d`: zeros added at both ends of each spatial axis (Keras 3
//! `ZeroPadding1D`, `ZeroPadding2D`, `ZeroPadding3D` in `keras/src/layers/reshaping/`,
//! channels_last). `padding` is one number for every end, or per axis one number or a
//! `[before, after]` pair (a single pair for 1-D); default 1 everywhere. No weights.

use super::spatial::{axis_name, data_format_argument, split_spatial, wrong_rank};
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

const ARGUMENTS: &[&str] = &["padding", "data_format"];

const fn zero_padding(
    name: &'static str,
    class_name: &'static str,
    parse: fn(&mut Args) -> Option<Box<dyn Layer>>,
) -> LayerType {
    LayerType { name, class_name, arguments: ARGUMENTS, parse, torch: no_weights }
}

pub const ZERO_PADDING1D: LayerType = zero_padding("zero_padding1d", "ZeroPadding1D", parse::<1>);
pub const ZERO_PADDING2D: LayerType = zero_padding("zero_padding2d", "ZeroPadding2D", parse::<2>);
pub const ZERO_PADDING3D: LayerType = zero_padding("zero_padding3d", "ZeroPadding3D", parse::<3>);

#[derive(Debug)]
struct ZeroPadding {
    rank: usize,
    /// Zeros before and after, per spatial axis.
    padding: Vec<(usize, usize)>,
}

fn type_name(rank: usize) -> &'static str {
    match rank {
        1 => "zero_padding1d",
        2 => "zero_padding2d",
        _ => "zero_padding3d",
    }
}

fn parse<const RANK: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let padding = args.margins("padding", RANK, 1);
    data_format_argument(args);
    Some(Box::new(ZeroPadding { rank: RANK, padding: padding?.value }))
}

impl UnaryLayer for ZeroPadding {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = type_name(self.rank);
        let Some((spatial, channels)) = split_spatial(input, self.rank) else {
            return Err(wrong_rank(name, self.rank, input));
        };
        let mut output_shape = Vec::with_capacity(input.len());
        for (axis, (&length, &(before, after))) in spatial.iter().zip(&self.padding).enumerate() {
            let padded = length.checked_add(before).and_then(|sum| sum.checked_add(after)).ok_or_else(|| {
                Diagnostic::error(
                    Code::SizeOverflow,
                    format!(
                        "padding spatial axis {axis} ({}) makes it too long for 64 bits",
                        axis_name(self.rank, axis)
                    ),
                )
                .with_help("use less `padding`")
            })?;
            output_shape.push(padded);
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
    fn pads_each_spatial_axis_as_keras_does() {
        type Case<'a> = (&'a str, &'a [usize], &'a str, &'a [usize]);
        let table: &[Case] = &[
            // Keras's docstring examples: ZeroPadding1D(2) on (2, 3); ZeroPadding2D(1) on (1, 2, 2)
            // channels_last (2, 2, 1 here); ZeroPadding3D(2) on (1, 2, 2, 3).
            ("zero_padding1d", &[2, 3], "{padding: 2}", &[6, 3]),
            ("zero_padding2d", &[2, 2, 1], "{padding: 1}", &[4, 4, 1]),
            ("zero_padding3d", &[1, 2, 2, 3], "{padding: 2}", &[5, 6, 6, 3]),
            // Defaults: 1 at every end.
            ("zero_padding1d", &[5, 4], "{}", &[7, 4]),
            ("zero_padding2d", &[5, 6, 4], "{}", &[7, 8, 4]),
            ("zero_padding3d", &[5, 6, 7, 4], "{}", &[7, 8, 9, 4]),
            // A pair on 1-D; symmetric per axis; pairs per axis, mixed with numbers.
            ("zero_padding1d", &[5, 4], "{padding: [0, 3]}", &[8, 4]),
            ("zero_padding2d", &[5, 6, 4], "{padding: [2, 0]}", &[9, 6, 4]),
            ("zero_padding2d", &[5, 6, 4], "{padding: [[1, 2], [3, 4]]}", &[8, 13, 4]),
            ("zero_padding3d", &[5, 6, 7, 4], "{padding: [1, [0, 2], [3, 0]]}", &[7, 8, 10, 4]),
            ("zero_padding2d", &[5, 6, 4], "{padding: 0, data_format: channels_last}", &[5, 6, 4]),
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
    fn refuses_bad_padding_and_inputs_of_the_wrong_rank() {
        let table: &[(&str, &[usize], &str, &str)] = &[
            ("zero_padding2d", &[5, 6, 4], "{padding: [1, 2, 3]}", "needs 2 entries, one per spatial axis"),
            ("zero_padding2d", &[5, 6, 4], "{padding: [[1, 2, 3], 1]}", "one number or a [before, after] pair"),
            ("zero_padding1d", &[5, 4], "{padding: [[1, 2]]}", "one number or a [before, after] pair"),
            ("zero_padding1d", &[5, 4], "{padding: -1}", "must be at least 0"),
            ("zero_padding2d", &[5, 6, 4], "{data_format: channels_first}", "only `channels_last`"),
            ("zero_padding2d", &[5, 4], "{}", "needs a rank-3 input"),
            ("zero_padding1d", &[usize::MAX, 4], "{}", "too long for 64 bits"),
        ];
        for &(type_name, input, arguments, message) in table {
            let error = check(type_name, input, arguments).err().unwrap_or_default();
            assert!(error.contains(message), "{type_name} {arguments} on {input:?}: {error:?}");
        }
    }
}
