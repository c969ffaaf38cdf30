//! `depthwise_conv1d`, `depthwise_conv2d`: a convolution per input channel over channels_last
//! inputs (Keras 3 `DepthwiseConv1D`, `DepthwiseConv2D`, both `BaseDepthwiseConv` in
//! `keras/src/layers/convolutional/base_depthwise_conv.py`).
//!
//! Kernel `(k1, …, kN, channels, depth_multiplier)` from `depthwise_initializer`, bias
//! `(channels · depth_multiplier,)`; output channel `c · depth_multiplier + m` is filter `m` of
//! input channel `c`. Output lengths as a convolution's (`valid` or `same`).

use super::spatial::{PADDINGS, Window, data_format_argument, split_spatial, wrong_rank};
use super::torch::{TorchTensor, Transform, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight, activation_argument};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

const ARGUMENTS: &[&str] = &[
    "kernel_size",
    "strides",
    "padding",
    "depth_multiplier",
    "data_format",
    "dilation_rate",
    "activation",
    "use_bias",
    "depthwise_initializer",
    "bias_initializer",
];

pub const DEPTHWISE_CONV1D: LayerType = LayerType {
    name: "depthwise_conv1d",
    class_name: "DepthwiseConv1D",
    arguments: ARGUMENTS,
    parse: parse::<1>,
    torch,
};
pub const DEPTHWISE_CONV2D: LayerType = LayerType {
    name: "depthwise_conv2d",
    class_name: "DepthwiseConv2D",
    arguments: ARGUMENTS,
    parse: parse::<2>,
    torch,
};

/// `nn.Conv1d/2d(channels, channels · depth_multiplier, k, groups=channels)`: weight
/// `(channels · depth_multiplier, 1, k…)`.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![weight("weight", "kernel", Some(Transform::DepthwiseKernel)), weight("bias", "bias", None)])
}

/// The depthwise half that `DepthwiseConv*D` and `SeparableConv*D` share: a window and a depth
/// multiplier.
#[derive(Debug)]
pub struct Depthwise {
    /// Spatial dimensions: 1 or 2.
    pub rank: usize,
    pub window: Window,
    pub depth_multiplier: usize,
}

impl Depthwise {
    /// Reads the arguments both layer families take besides their initializers.
    pub fn parse(args: &mut Args, rank: usize) -> Option<Depthwise> {
        let kernel_size = args.required_tuple("kernel_size", rank);
        let strides = args.tuple("strides", rank).map_or(vec![1; rank], |s| s.value);
        let dilation = args.tuple("dilation_rate", rank).map_or(vec![1; rank], |d| d.value);
        let padding = args.word_or("padding", &PADDINGS, "valid").value;
        let depth_multiplier = args.optional_count("depth_multiplier", 1).map_or(1, |m| m.value);
        data_format_argument(args);
        activation_argument(args, false);
        Some(Depthwise { rank, window: Window { size: kernel_size?, strides, dilation, padding }, depth_multiplier })
    }

    /// The output's spatial lengths, the input's channels and the depthwise kernel's shape.
    pub fn build(&self, name: &str, input: &[usize]) -> Result<(Vec<usize>, usize, Vec<usize>), Diagnostic> {
        let Some((spatial, channels)) = split_spatial(input, self.rank) else {
            return Err(wrong_rank(name, self.rank, input));
        };
        let spatial = self.window.output(spatial, "kernel")?;
        let kernel = self.window.size.value.iter().copied().chain([channels, self.depth_multiplier]).collect();
        Ok((spatial, channels, kernel))
    }

    /// `channels · depth_multiplier`, the depthwise output's channels.
    pub fn outputs(&self, channels: usize) -> Result<usize, Diagnostic> {
        channels.checked_mul(self.depth_multiplier).ok_or_else(|| {
            Diagnostic::error(Code::SizeOverflow, "channels · depth_multiplier does not fit in 64 bits")
                .with_help("use a smaller `depth_multiplier`")
        })
    }
}

#[derive(Debug)]
struct DepthwiseConv {
    depthwise: Depthwise,
    use_bias: bool,
}

fn parse<const RANK: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let depthwise = Depthwise::parse(args, RANK);
    let use_bias = args.bool_or("use_bias", true);
    args.accept_inert(&["depthwise_regularizer", "depthwise_constraint"]);
    Some(Box::new(DepthwiseConv { depthwise: depthwise?, use_bias }))
}

impl UnaryLayer for DepthwiseConv {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = if self.depthwise.rank == 1 { "depthwise_conv1d" } else { "depthwise_conv2d" };
        let (mut output_shape, channels, kernel) = self.depthwise.build(name, input)?;
        let outputs = self.depthwise.outputs(channels)?;
        output_shape.push(outputs);
        let mut weights = vec![Weight::new("kernel", kernel, "depthwise_initializer", Family::GlorotUniform)];
        if self.use_bias {
            weights.push(Weight::new("bias", vec![outputs], "bias_initializer", Family::Zeros));
        }
        Ok(Built { output_shape, weights })
    }
}
