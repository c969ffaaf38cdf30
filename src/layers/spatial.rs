//! Output-length arithmetic shared by convolutions and pools (Keras 3 `compute_conv_output_shape`
//! and `compute_pooling_output_shape` in `keras/src/ops/operation_utils.py`), for any number of
//! spatial dimensions, and the arguments those layers share.

use crate::args::{ArgKind, Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};

pub const PADDINGS: [&str; 2] = ["valid", "same"];
pub const CONV1D_PADDINGS: [&str; 3] = ["valid", "same", "causal"];

/// One convolution or pooling window over the spatial dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Kernel or pool size per spatial dimension.
    pub size: Spanned<Vec<usize>>,
    pub strides: Vec<usize>,
    pub dilation: Vec<usize>,
    /// `valid`, `same` or `causal` (causal pads like same on the left only: same length).
    pub padding: &'static str,
}

impl Window {
    /// Output lengths for the `spatial` input lengths; an error if any would be zero or less.
    pub fn output(&self, spatial: &[usize], what: &str) -> Result<Vec<usize>, Diagnostic> {
        let mut output = Vec::with_capacity(spatial.len());
        for (axis, &length) in spatial.iter().enumerate() {
            let (Some(&size), Some(&stride), Some(&dilation)) =
                (self.size.value.get(axis), self.strides.get(axis), self.dilation.get(axis))
            else {
                return Err(Diagnostic::error(
                    Code::WrongInputRank,
                    format!("{what} has {} spatial axes, the input {}", self.size.value.len(), spatial.len()),
                )
                .with_help("give one size per spatial axis of the input, or one size for all"));
            };
            let length_out = if self.padding == "valid" {
                // floor((L - d·(k - 1) - 1) / s) + 1, in signed arithmetic as numpy does it.
                let effective = dilation.saturating_mul(size.saturating_sub(1)).saturating_add(1);
                if effective > length {
                    let dilated = if dilation > 1 { format!(" (dilated to {effective})") } else { String::new() };
                    return Err(Diagnostic::error(
                        Code::EmptyOutput,
                        format!("{what} of size {size}{dilated} is larger than its input of length {length} on spatial axis {axis}"),
                    )
                    .at(self.size.span)
                    .with_help("use a smaller size, `padding: same`, or a larger input"));
                }
                (length - effective) / stride + 1
            } else {
                // same / causal: ceil(L / s) = floor((L - 1) / s) + 1.
                if length == 0 { 0 } else { (length - 1) / stride + 1 }
            };
            if length_out == 0 {
                return Err(Diagnostic::error(
                    Code::EmptyOutput,
                    format!("{what} reduces spatial axis {axis} (length {length}) to zero"),
                )
                .at(self.size.span)
                .with_help("use smaller strides, `padding: same`, or a larger input"));
            }
            output.push(length_out);
        }
        Ok(output)
    }
}

/// `(128, 64)`: a per-example shape as messages show it.
pub fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    }
}

/// The names of the axes of an input with `rank` spatial axes, for messages: `height, width, channels`.
pub fn axes_text(rank: usize) -> &'static str {
    match rank {
        1 => "steps, channels",
        2 => "height, width, channels",
        _ => "depth, height, width, channels",
    }
}

/// The name of spatial axis `axis` of an input with `rank` spatial axes: `steps`, `height`, …
pub fn axis_name(rank: usize, axis: usize) -> &'static str {
    let names: &[&str] = match rank {
        1 => &["steps"],
        2 => &["height", "width"],
        _ => &["depth", "height", "width"],
    };
    names.get(axis).copied().unwrap_or("spatial")
}

/// The error for an input that does not have `rank` spatial axes plus channels.
pub fn wrong_rank(name: &str, rank: usize, input: &[usize]) -> Diagnostic {
    let axes = axes_text(rank);
    Diagnostic::error(
        Code::WrongInputRank,
        format!("`{name}` needs a rank-{} input ({axes}), found {}", rank + 1, shape_text(input)),
    )
    .with_help(format!("put a `reshape` before it, or give `input:` as [{axes}]"))
}

/// Reads `data_format`: initc lays tensors out channels_last only, Keras's default.
pub fn data_format_argument(args: &mut Args) {
    let format = args.string("data_format");
    let kind = ArgKind::Word { choices: vec!["channels_last"], default: Some("channels_last") };
    args.note("data_format", kind);
    let Some(format) = format else {
        return;
    };
    if format.value.eq_ignore_ascii_case("channels_last") {
        return;
    }
    args.diagnostics.push(
        Diagnostic::error(
            Code::InvalidValue,
            format!("`data_format: {}` is not supported: initc supports only `channels_last`", format.value),
        )
        .at(format.span)
        .with_help("remove `data_format` (Keras's default is channels_last) and give shapes as (…, channels)"),
    );
}

/// The input split into its spatial lengths and its channels, when it has exactly `rank + 1` axes.
pub fn split_spatial(input: &[usize], rank: usize) -> Option<(&[usize], usize)> {
    match input.split_last() {
        Some((&channels, spatial)) if spatial.len() == rank => Some((spatial, channels)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Window, shape_text};
    use crate::args::Spanned;
    use crate::source::Span;

    /// Output lengths of a window, or `None` when the output would be empty.
    fn check(
        input: &[usize],
        size: &[usize],
        strides: &[usize],
        dilation: &[usize],
        padding: &'static str,
    ) -> Option<Vec<usize>> {
        let window = Window {
            size: Spanned { value: size.to_vec(), span: Span::default() },
            strides: strides.to_vec(),
            dilation: dilation.to_vec(),
            padding,
        };
        window.output(input, "kernel").ok()
    }

    #[test]
    fn output_lengths_follow_keras_conv_and_pooling_arithmetic() {
        #[allow(clippy::type_complexity)]
        let table: &[(&[usize], &[usize], &[usize], &[usize], &str, Option<&[usize]>)] = &[
            // Conv2D(32, 3) on 28×28 → 26×26; MaxPooling2D(2) on 26×26 → 13×13.
            (&[28, 28], &[3, 3], &[1, 1], &[1, 1], "valid", Some(&[26, 26])),
            (&[26, 26], &[2, 2], &[2, 2], &[1, 1], "valid", Some(&[13, 13])),
            // Odd lengths floor under valid, ceil under same.
            (&[7], &[2], &[2], &[1], "valid", Some(&[3])),
            (&[7], &[2], &[2], &[1], "same", Some(&[4])),
            (&[7], &[3], &[1], &[1], "causal", Some(&[7])),
            // Dilation: effective size d·(k−1)+1 = 5 on length 9 → 5.
            (&[9], &[3], &[1], &[2], "valid", Some(&[5])),
            // Strides differ per axis; 3-D.
            (&[10, 11, 12], &[3, 3, 3], &[1, 2, 3], &[1, 1, 1], "valid", Some(&[8, 5, 4])),
            (&[10, 11, 12], &[3, 3, 3], &[1, 2, 3], &[1, 1, 1], "same", Some(&[10, 6, 4])),
            // Exactly fitting, and too large (plain and dilated).
            (&[3], &[3], &[1], &[1], "valid", Some(&[1])),
            (&[2], &[3], &[1], &[1], "valid", None),
            (&[4], &[3], &[1], &[2], "valid", None),
            (&[2], &[3], &[1], &[1], "same", Some(&[2])),
            // A stride larger than the input still yields one position.
            (&[3], &[1], &[5], &[1], "valid", Some(&[1])),
        ];
        for &(input, size, strides, dilation, padding, expected) in table {
            assert_eq!(
                check(input, size, strides, dilation, padding).as_deref(),
                expected,
                "input {input:?}, size {size:?}, strides {strides:?}, dilation {dilation:?}, {padding}"
            );
        }
    }

    #[test]
    fn shapes_print_like_python_tuples() {
        assert_eq!(shape_text(&[128]), "(128,)");
        assert_eq!(shape_text(&[26, 26, 32]), "(26, 26, 32)");
    }
}
