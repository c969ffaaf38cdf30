//! `max_pooling1d/2d/3d`, `average_pooling1d/2d/3d`: max or mean over windows of the spatial axes
//! (Keras 3 `BasePooling` in `keras/src/layers/pooling/base_pooling.py`, channels_last; output
//! lengths from `compute_pooling_output_shape` in `keras/src/ops/operation_utils.py`).
//!
//! `pool_size` defaults to 2 per axis and `strides` to `pool_size`; no weights.

use super::spatial::{PADDINGS, Window, axes_text, data_format_argument, shape_text, split_spatial};
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::{Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};

const ARGUMENTS: &[&str] = &["pool_size", "strides", "padding", "data_format"];

const fn pooling(
    name: &'static str,
    class_name: &'static str,
    parse: fn(&mut Args) -> Option<Box<dyn Layer>>,
) -> LayerType {
    LayerType { name, class_name, arguments: ARGUMENTS, parse, torch: no_weights }
}

pub const MAX_POOLING1D: LayerType = pooling("max_pooling1d", "MaxPooling1D", parse::<1, false>);
pub const MAX_POOLING2D: LayerType = pooling("max_pooling2d", "MaxPooling2D", parse::<2, false>);
pub const MAX_POOLING3D: LayerType = pooling("max_pooling3d", "MaxPooling3D", parse::<3, false>);
pub const AVERAGE_POOLING1D: LayerType = pooling("average_pooling1d", "AveragePooling1D", parse::<1, true>);
pub const AVERAGE_POOLING2D: LayerType = pooling("average_pooling2d", "AveragePooling2D", parse::<2, true>);
pub const AVERAGE_POOLING3D: LayerType = pooling("average_pooling3d", "AveragePooling3D", parse::<3, true>);

#[derive(Debug)]
struct Pooling {
    /// The config name, for messages (`max_pooling2d`).
    name: &'static str,
    rank: usize,
    window: Window,
}

fn type_name(rank: usize, average: bool) -> &'static str {
    match (rank, average) {
        (1, false) => "max_pooling1d",
        (2, false) => "max_pooling2d",
        (_, false) => "max_pooling3d",
        (1, true) => "average_pooling1d",
        (2, true) => "average_pooling2d",
        (_, true) => "average_pooling3d",
    }
}

fn parse<const RANK: usize, const AVERAGE: bool>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let pool_size = args.tuple("pool_size", RANK).unwrap_or(Spanned { value: vec![2; RANK], span: args.layer_span });
    // Keras: strides default to the pool size.
    let strides = args.tuple("strides", RANK).map_or_else(|| pool_size.value.clone(), |s| s.value);
    let padding = args.word_or("padding", &PADDINGS, "valid").value;
    data_format_argument(args);
    let window = Window { size: pool_size, strides, dilation: vec![1; RANK], padding };
    Some(Box::new(Pooling { name: type_name(RANK, AVERAGE), rank: RANK, window }))
}

impl UnaryLayer for Pooling {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let Some((spatial, channels)) = split_spatial(input, self.rank) else {
            let axes = axes_text(self.rank);
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`{}` needs a rank-{} input ({axes}), found {}", self.name, self.rank + 1, shape_text(input)),
            )
            .with_help(format!("put a `reshape` before it, or give `input:` as [{axes}]")));
        };
        let mut output_shape = self.window.output(spatial, "pool")?;
        output_shape.push(channels);
        Ok(Built { output_shape, weights: Vec::new() })
    }
}
