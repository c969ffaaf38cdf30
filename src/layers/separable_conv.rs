//! `separable_conv1d`, `separable_conv2d`: a depthwise convolution followed by a pointwise
//! (1×…×1) one, over channels_last inputs (Keras 3 `SeparableConv1D`, `SeparableConv2D`, both
//! `BaseSeparableConv` in `keras/src/layers/convolutional/base_separable_conv.py`).
//!
//! `depthwise_kernel` `(k1, …, kN, channels, depth_multiplier)` from `depthwise_initializer`,
//! `pointwise_kernel` `(1, …, 1, channels · depth_multiplier, filters)` from
//! `pointwise_initializer`, bias `(filters,)`. Output lengths as a convolution's.

use super::depthwise_conv::Depthwise;
use super::torch::{TorchTensor, Transform, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::Args;
use crate::diagnostic::Diagnostic;
use crate::initializers::Family;

const ARGUMENTS: &[&str] = &[
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "depth_multiplier",
    "data_format",
    "dilation_rate",
    "activation",
    "use_bias",
    "depthwise_initializer",
    "pointwise_initializer",
    "bias_initializer",
];

pub const SEPARABLE_CONV1D: LayerType = LayerType {
    name: "separable_conv1d",
    class_name: "SeparableConv1D",
    arguments: ARGUMENTS,
    parse: parse::<1>,
    torch,
};
pub const SEPARABLE_CONV2D: LayerType = LayerType {
    name: "separable_conv2d",
    class_name: "SeparableConv2D",
    arguments: ARGUMENTS,
    parse: parse::<2>,
    torch,
};

/// Two torch modules under the layer's name: `depthwise`, an
/// `nn.Conv1d/2d(channels, channels · depth_multiplier, k, groups=channels, bias=False)`, and
/// `pointwise`, an `nn.Conv1d/2d(channels · depth_multiplier, filters, 1)` holding the bias.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![
        weight("depthwise.weight", "depthwise_kernel", Some(Transform::DepthwiseKernel)),
        weight("pointwise.weight", "pointwise_kernel", Some(Transform::ChannelsFirstKernel)),
        weight("pointwise.bias", "bias", None),
    ])
}

#[derive(Debug)]
struct SeparableConv {
    depthwise: Depthwise,
    filters: usize,
    use_bias: bool,
}

fn parse<const RANK: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let filters = args.required_count("filters");
    let depthwise = Depthwise::parse(args, RANK);
    let use_bias = args.bool_or("use_bias", true);
    args.accept_inert(&[
        "depthwise_regularizer",
        "pointwise_regularizer",
        "depthwise_constraint",
        "pointwise_constraint",
    ]);
    Some(Box::new(SeparableConv { depthwise: depthwise?, filters: filters?.value, use_bias }))
}

impl UnaryLayer for SeparableConv {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = if self.depthwise.rank == 1 { "separable_conv1d" } else { "separable_conv2d" };
        let (mut output_shape, channels, depthwise_kernel) = self.depthwise.build(name, input)?;
        let middle = self.depthwise.outputs(channels)?;
        output_shape.push(self.filters);
        let pointwise_kernel = std::iter::repeat_n(1, self.depthwise.rank).chain([middle, self.filters]).collect();
        let mut weights = vec![
            Weight::new("depthwise_kernel", depthwise_kernel, "depthwise_initializer", Family::GlorotUniform),
            Weight::new("pointwise_kernel", pointwise_kernel, "pointwise_initializer", Family::GlorotUniform),
        ];
        if self.use_bias {
            weights.push(Weight::new("bias", vec![self.filters], "bias_initializer", Family::Zeros));
        }
        Ok(Built { output_shape, weights })
    }
}
