//! `conv1d_transpose`, `conv2d_transpose`, `conv3d_transpose`: transposed N-D convolutions over
//! channels_last inputs (Keras 3 `Conv1DTranspose`, `Conv2DTranspose`, `Conv3DTranspose`, all
//! `BaseConvTranspose` in `keras/src/layers/convolutional/base_conv_transpose.py`).
//!
//! Kernel `(k1, …, kN, filters, channels)` (output channels before input channels, the reverse
//! of a convolution's), bias `(filters,)`. Output lengths follow Keras's
//! `compute_conv_transpose_output_shape`: with `padding: valid`, `(L − 1)·s + k' + p` where
//! `k' = d·(k − 1) + 1` and `p` is `output_padding` or `max(k', s) − k'`; with `same`, `L·s`
//! without `output_padding`, else `(L − 1)·s + k' mod 2 + p`. Like Keras, rejects
//! `strides > 1` with `dilation_rate > 1` and an `output_padding` not below its stride.

use super::spatial::{PADDINGS, data_format_argument, split_spatial, wrong_rank};
use super::torch::{TorchTensor, Transform, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight, activation_argument};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

const ARGUMENTS: &[&str] = &[
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "output_padding",
    "data_format",
    "dilation_rate",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
];

pub const CONV1D_TRANSPOSE: LayerType = LayerType {
    name: "conv1d_transpose",
    class_name: "Conv1DTranspose",
    arguments: ARGUMENTS,
    parse: parse::<1>,
    torch,
};
pub const CONV2D_TRANSPOSE: LayerType = LayerType {
    name: "conv2d_transpose",
    class_name: "Conv2DTranspose",
    arguments: ARGUMENTS,
    parse: parse::<2>,
    torch,
};
pub const CONV3D_TRANSPOSE: LayerType = LayerType {
    name: "conv3d_transpose",
    class_name: "Conv3DTranspose",
    arguments: ARGUMENTS,
    parse: parse::<3>,
    torch,
};

/// `nn.ConvTranspose1d/2d/3d`: weight `(in, out, k…)`, which is the Keras kernel
/// `(k…, out, in)` with its last two axes moved to the front, as for a convolution.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![weight("weight", "kernel", Some(Transform::ChannelsFirstKernel)), weight("bias", "bias", None)])
}

#[derive(Debug)]
struct ConvTranspose {
    /// Spatial dimensions: 1, 2 or 3.
    rank: usize,
    filters: usize,
    kernel_size: Spanned<Vec<usize>>,
    strides: Vec<usize>,
    dilation: Vec<usize>,
    /// `None`: Keras's default, which depends on the padding.
    output_padding: Option<Vec<usize>>,
    same: bool,
    use_bias: bool,
}

fn type_name(rank: usize) -> &'static str {
    match rank {
        1 => "conv1d_transpose",
        2 => "conv2d_transpose",
        _ => "conv3d_transpose",
    }
}

/// `output_padding`: absent or null for Keras's default, else one whole number ≥ 0 for every
/// axis or one per axis, each below its axis's stride.
fn output_padding_argument(args: &mut Args, rank: usize, strides: &[usize]) -> Option<Option<Vec<usize>>> {
    let given = args.integers_or("output_padding", -1)?;
    if given.value.len() == 1 && given.value[0].value == -1 && given.span == args.layer_span {
        return Some(None);
    }
    let values: Vec<i64> = given.value.iter().map(|value| value.value).collect();
    let values = match values.len() {
        1 => vec![values[0]; rank],
        n if n == rank => values,
        n => {
            args.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`output_padding` needs {rank} number(s) here, found a list of {n}"),
                )
                .at(given.span)
                .with_help("give one number for every spatial axis, or one per axis"),
            );
            return None;
        }
    };
    let mut padding = Vec::with_capacity(rank);
    for (axis, (&value, &stride)) in values.iter().zip(strides).enumerate() {
        if value < 0 || value as usize >= stride {
            args.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "`output_padding` must be at least 0 and below `strides` on every axis: on axis {axis} it \
                         is {value}, the stride {stride}"
                    ),
                )
                .at(given.span)
                .with_help("Keras requires 0 ≤ output_padding < strides; leave it out for Keras's default"),
            );
            return None;
        }
        padding.push(value as usize);
    }
    Some(Some(padding))
}

fn parse<const RANK: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let filters = args.required_count("filters");
    let kernel_size = args.required_tuple("kernel_size", RANK);
    let strides = args.tuple("strides", RANK).map_or(vec![1; RANK], |s| s.value);
    let dilation = args.tuple("dilation_rate", RANK).map_or(vec![1; RANK], |d| d.value);
    let padding = args.word_or("padding", &PADDINGS, "valid").value;
    let output_padding = output_padding_argument(args, RANK, &strides);
    data_format_argument(args);
    let use_bias = args.bool_or("use_bias", true);
    activation_argument(args, false);
    if strides.iter().any(|&s| s > 1) && dilation.iter().any(|&d| d > 1) {
        let span = args.layer_span;
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "`strides` > 1 together with `dilation_rate` > 1 is not allowed")
                .at(span)
                .with_help("Keras rejects this combination: use one or the other"),
        );
        return None;
    }
    Some(Box::new(ConvTranspose {
        rank: RANK,
        filters: filters?.value,
        kernel_size: kernel_size?,
        strides,
        dilation,
        output_padding: output_padding?,
        same: padding == "same",
        use_bias,
    }))
}

impl ConvTranspose {
    /// The output length of spatial axis `axis` of input length `length`.
    fn output_length(&self, axis: usize, length: usize) -> Option<usize> {
        let (size, stride, dilation) = (self.kernel_size.value[axis], self.strides[axis], self.dilation[axis]);
        let effective = dilation.checked_mul(size - 1)?.checked_add(1)?;
        let padding = self.output_padding.as_ref().map(|padding| padding[axis]);
        let grown = (length.checked_sub(1)?).checked_mul(stride)?;
        match (self.same, padding) {
            (false, padding) => {
                grown.checked_add(effective)?.checked_add(padding.unwrap_or(stride.saturating_sub(effective)))
            }
            (true, None) => length.checked_mul(stride),
            (true, Some(padding)) => grown.checked_add(effective % 2)?.checked_add(padding),
        }
    }
}

impl UnaryLayer for ConvTranspose {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = type_name(self.rank);
        let Some((spatial, channels)) = split_spatial(input, self.rank) else {
            return Err(wrong_rank(name, self.rank, input));
        };
        let mut output_shape = Vec::with_capacity(self.rank + 1);
        for (axis, &length) in spatial.iter().enumerate() {
            let length = self.output_length(axis, length).filter(|&length| length > 0).ok_or_else(|| {
                Diagnostic::error(
                    Code::SizeOverflow,
                    format!("`{name}` cannot compute the length of spatial axis {axis} from the input {input:?}"),
                )
                .with_help("give the input positive lengths and smaller strides")
            })?;
            output_shape.push(length);
        }
        output_shape.push(self.filters);
        let kernel_shape = self.kernel_size.value.iter().copied().chain([self.filters, channels]).collect();
        let mut weights = vec![Weight::new("kernel", kernel_shape, "kernel_initializer", Family::GlorotUniform)];
        if self.use_bias {
            weights.push(Weight::new("bias", vec![self.filters], "bias_initializer", Family::Zeros));
        }
        Ok(Built { output_shape, weights })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::build;

    #[test]
    fn a_kernel_of_zero_length_is_rejected() {
        let error = build("conv2d_transpose", "{filters: 2, kernel_size: 0}", &[4, 4, 3]).err();
        assert!(error.is_some_and(|message| message.contains("positive")));
    }

    #[test]
    fn output_padding_at_or_above_the_stride_is_rejected() {
        let error = build("conv1d_transpose", "{filters: 2, kernel_size: 3, strides: 2, output_padding: 2}", &[5, 3]);
        assert!(error.err().is_some_and(|message| message.contains("below `strides`")));
    }
}
