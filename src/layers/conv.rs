//! `conv1d`, `conv2d`, `conv3d`: N-D convolutions over channels_last inputs (Keras 3 `Conv1D`,
//! `Conv2D`, `Conv3D`, all `BaseConv` in `keras/src/layers/convolutional/base_conv.py`).
//!
//! Kernel `(k1, …, kN, channels / groups, filters)`, bias `(filters,)`. Like Keras, rejects
//! `strides > 1` with `dilation_rate > 1`, filters or channels not divisible by `groups`, and an
//! input that is not of rank N + 1; only Conv1D takes `padding: causal`.

use super::spatial::{CONV1D_PADDINGS, PADDINGS, Window, axes_text, data_format_argument, shape_text, split_spatial};
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
    "data_format",
    "dilation_rate",
    "groups",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
];

pub const CONV1D: LayerType =
    LayerType { name: "conv1d", class_name: "Conv1D", arguments: ARGUMENTS, parse: parse::<1>, torch };
pub const CONV2D: LayerType =
    LayerType { name: "conv2d", class_name: "Conv2D", arguments: ARGUMENTS, parse: parse::<2>, torch };
pub const CONV3D: LayerType =
    LayerType { name: "conv3d", class_name: "Conv3D", arguments: ARGUMENTS, parse: parse::<3>, torch };

/// `nn.Conv1d/2d/3d`: the kernel channels-first, `(out, in, k…)`.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![weight("weight", "kernel", Some(Transform::ChannelsFirstKernel)), weight("bias", "bias", None)])
}

#[derive(Debug)]
struct Conv {
    /// Spatial dimensions: 1, 2 or 3.
    rank: usize,
    filters: Spanned<usize>,
    groups: Spanned<usize>,
    window: Window,
    use_bias: bool,
}

fn type_name(rank: usize) -> &'static str {
    match rank {
        1 => "conv1d",
        2 => "conv2d",
        _ => "conv3d",
    }
}

fn parse<const RANK: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let filters = args.required_count("filters");
    let kernel_size = args.required_tuple("kernel_size", RANK);
    let strides = args.tuple("strides", RANK).map_or(vec![1; RANK], |s| s.value);
    let dilation = args.tuple("dilation_rate", RANK).map_or(vec![1; RANK], |d| d.value);
    let paddings: &[&'static str] = if RANK == 1 { &CONV1D_PADDINGS } else { &PADDINGS };
    let padding = args.word_or("padding", paddings, "valid").value;
    data_format_argument(args);
    let groups = args.optional_count("groups", 1);
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
    let filters = filters?;
    let groups = groups.unwrap_or(Spanned { value: 1, span: filters.span });
    if filters.value % groups.value != 0 {
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`filters` ({}) must be divisible by `groups` ({})", filters.value, groups.value),
            )
            .at(groups.span)
            .with_help("each group makes `filters / groups` filters: pick a `groups` that divides `filters`"),
        );
        return None;
    }
    let window = Window { size: kernel_size?, strides, dilation, padding };
    Some(Box::new(Conv { rank: RANK, filters, groups, window, use_bias }))
}

impl UnaryLayer for Conv {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = type_name(self.rank);
        let Some((spatial, channels)) = split_spatial(input, self.rank) else {
            let axes = axes_text(self.rank);
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`{name}` needs a rank-{} input ({axes}), found {}", self.rank + 1, shape_text(input)),
            )
            .with_help(format!("put a `reshape` before it, or give `input:` as [{axes}]")));
        };
        if channels % self.groups.value != 0 {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!("the input's {channels} channels are not divisible by `groups` ({})", self.groups.value),
            )
            .at(self.groups.span)
            .with_help("each group sees `channels / groups` input channels: pick a `groups` that divides both"));
        }
        let mut output_shape = self.window.output(spatial, "kernel")?;
        let filters = self.filters.value;
        output_shape.push(filters);
        let kernel_shape =
            self.window.size.value.iter().copied().chain([channels / self.groups.value, filters]).collect();
        let mut weights = vec![Weight::new("kernel", kernel_shape, "kernel_initializer", Family::GlorotUniform)];
        if self.use_bias {
            weights.push(Weight::new("bias", vec![filters], "bias_initializer", Family::Zeros));
        }
        Ok(Built { output_shape, weights })
    }
}
