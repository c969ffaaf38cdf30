//! The adaptive pools (Keras 3 `AdaptiveAveragePooling1D/2D/3D` and
//! `AdaptiveMaxPooling1D/2D/3D` in `keras/src/layers/pooling/`): each spatial axis becomes
//! `output_size` long (one number for every axis, or one per axis) whatever its input length;
//! the channels stay, last or, with `data_format: channels_first`, first. No weights.

use super::data_format::{DataFormat, data_format_either};
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::Diagnostic;

const ARGUMENTS: &[&str] = &["output_size", "data_format"];

const fn adaptive(
    name: &'static str,
    class_name: &'static str,
    parse: fn(&mut Args) -> Option<Box<dyn Layer>>,
) -> LayerType {
    LayerType { name, class_name, arguments: ARGUMENTS, parse, torch: no_weights }
}

pub const ADAPTIVE_AVERAGE_POOLING1D: LayerType =
    adaptive("adaptive_average_pooling1d", "AdaptiveAveragePooling1D", parse::<1, false>);
pub const ADAPTIVE_AVERAGE_POOLING2D: LayerType =
    adaptive("adaptive_average_pooling2d", "AdaptiveAveragePooling2D", parse::<2, false>);
pub const ADAPTIVE_AVERAGE_POOLING3D: LayerType =
    adaptive("adaptive_average_pooling3d", "AdaptiveAveragePooling3D", parse::<3, false>);
pub const ADAPTIVE_MAX_POOLING1D: LayerType =
    adaptive("adaptive_max_pooling1d", "AdaptiveMaxPooling1D", parse::<1, true>);
pub const ADAPTIVE_MAX_POOLING2D: LayerType =
    adaptive("adaptive_max_pooling2d", "AdaptiveMaxPooling2D", parse::<2, true>);
pub const ADAPTIVE_MAX_POOLING3D: LayerType =
    adaptive("adaptive_max_pooling3d", "AdaptiveMaxPooling3D", parse::<3, true>);

#[derive(Debug)]
struct AdaptivePooling {
    name: &'static str,
    output_size: Vec<usize>,
    format: DataFormat,
}

fn parse<const RANK: usize, const MAX: bool>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let output_size = args.required_tuple("output_size", RANK);
    let format = data_format_either(args);
    let names = if MAX {
        ["adaptive_max_pooling1d", "adaptive_max_pooling2d", "adaptive_max_pooling3d"]
    } else {
        ["adaptive_average_pooling1d", "adaptive_average_pooling2d", "adaptive_average_pooling3d"]
    };
    Some(Box::new(AdaptivePooling { name: names[RANK - 1], output_size: output_size?.value, format }))
}

impl UnaryLayer for AdaptivePooling {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let rank = self.output_size.len();
        let Some((_, channels)) = self.format.split(input, rank) else {
            return Err(self.format.wrong_rank(self.name, rank, input));
        };
        Ok(Built { output_shape: self.format.join(&self.output_size, channels), weights: Vec::new() })
    }
}
