//! `global_average_pooling1d/2d/3d`, `global_max_pooling1d/2d/3d`: mean or max over every spatial
//! axis (Keras 3 `BaseGlobalPooling` in `keras/src/layers/pooling/base_global_pooling.py`,
//! channels_last). Output `(channels,)`, or `(1, …, 1, channels)` with `keepdims: true`.

use super::spatial::{axes_text, data_format_argument, shape_text, split_spatial};
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

const ARGUMENTS: &[&str] = &["data_format", "keepdims"];

const fn global(
    name: &'static str,
    class_name: &'static str,
    parse: fn(&mut Args) -> Option<Box<dyn Layer>>,
) -> LayerType {
    LayerType { name, class_name, arguments: ARGUMENTS, parse, torch: no_weights }
}

pub const GLOBAL_AVERAGE_POOLING1D: LayerType =
    global("global_average_pooling1d", "GlobalAveragePooling1D", parse::<1, true>);
pub const GLOBAL_AVERAGE_POOLING2D: LayerType =
    global("global_average_pooling2d", "GlobalAveragePooling2D", parse::<2, true>);
pub const GLOBAL_AVERAGE_POOLING3D: LayerType =
    global("global_average_pooling3d", "GlobalAveragePooling3D", parse::<3, true>);
pub const GLOBAL_MAX_POOLING1D: LayerType = global("global_max_pooling1d", "GlobalMaxPooling1D", parse::<1, false>);
pub const GLOBAL_MAX_POOLING2D: LayerType = global("global_max_pooling2d", "GlobalMaxPooling2D", parse::<2, false>);
pub const GLOBAL_MAX_POOLING3D: LayerType = global("global_max_pooling3d", "GlobalMaxPooling3D", parse::<3, false>);

#[derive(Debug)]
struct GlobalPooling {
    name: &'static str,
    rank: usize,
    keepdims: bool,
}

fn type_name(rank: usize, average: bool) -> &'static str {
    match (rank, average) {
        (1, false) => "global_max_pooling1d",
        (2, false) => "global_max_pooling2d",
        (_, false) => "global_max_pooling3d",
        (1, true) => "global_average_pooling1d",
        (2, true) => "global_average_pooling2d",
        (_, true) => "global_average_pooling3d",
    }
}

fn parse<const RANK: usize, const AVERAGE: bool>(args: &mut Args) -> Option<Box<dyn Layer>> {
    data_format_argument(args);
    let keepdims = args.bool_or("keepdims", false);
    Some(Box::new(GlobalPooling { name: type_name(RANK, AVERAGE), rank: RANK, keepdims }))
}

impl UnaryLayer for GlobalPooling {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let Some((_, channels)) = split_spatial(input, self.rank) else {
            let axes = axes_text(self.rank);
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`{}` needs a rank-{} input ({axes}), found {}", self.name, self.rank + 1, shape_text(input)),
            )
            .with_help(format!("put a `reshape` before it, or give `input:` as [{axes}]")));
        };
        let ones = if self.keepdims { self.rank } else { 0 };
        let output_shape = std::iter::repeat_n(1, ones).chain([channels]).collect();
        Ok(Built { output_shape, weights: Vec::new() })
    }
}
