//! `conv1d`: a 1-D convolution over `(steps, channels)` inputs (Keras 3 `Conv1D`, channels_last).

use super::spatial::{CONV1D_PADDINGS, Window};
use super::{Built, Layer, LayerType, Weight, activation_argument};
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::{Args, Spanned};

pub const TYPE: LayerType = LayerType {
    name: "conv1d",
    class_name: "Conv1D",
    arguments: &[
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
    ],
    parse,
};

#[derive(Debug)]
struct Conv1D {
    filters: Spanned<usize>,
    groups: Spanned<usize>,
    window: Window,
    use_bias: bool,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let filters = args.required_count("filters");
    let kernel_size = args.required_tuple("kernel_size", 1);
    let strides = args.tuple("strides", 1).map_or(vec![1], |s| s.value);
    let dilation = args.tuple("dilation_rate", 1).map_or(vec![1], |d| d.value);
    let padding = args.word_or("padding", &CONV1D_PADDINGS, "valid").value;
    args.word_or("data_format", &["channels_last"], "channels_last");
    let groups = args.optional_count("groups", 1);
    let use_bias = args.bool_or("use_bias", true);
    activation_argument(args, false);
    if strides[0] > 1 && dilation[0] > 1 {
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
            .at(groups.span),
        );
        return None;
    }
    let window = Window { size: kernel_size?, strides, dilation, padding };
    Some(Box::new(Conv1D { filters, groups, window, use_bias }))
}

impl Layer for Conv1D {
    fn build(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let &[steps, channels] = input else {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`conv1d` needs a rank-2 input (steps, channels), found {}", shape_text(input)),
            )
            .with_help("put a `reshape` before it, or give `input:` as [steps, channels]"));
        };
        if channels % self.groups.value != 0 {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!("the input's {channels} channels are not divisible by `groups` ({})", self.groups.value),
            )
            .at(self.groups.span));
        }
        let [length] = self.window.output(&[steps], "kernel")?[..] else {
            return Err(Diagnostic::error(Code::WrongInputRank, "conv1d has one spatial axis"));
        };
        let filters = self.filters.value;
        let mut weights = vec![Weight::new(
            "kernel",
            vec![self.window.size.value[0], channels / self.groups.value, filters],
            "kernel_initializer",
            "glorot_uniform",
        )];
        if self.use_bias {
            weights.push(Weight::new("bias", vec![filters], "bias_initializer", "zeros"));
        }
        Ok(Built { output_shape: vec![length, filters], weights })
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
