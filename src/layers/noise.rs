//! The regularisation layers that only act in training (Keras 3 `SpatialDropout1D/2D/3D`,
//! `GaussianDropout`, `GaussianNoise`, `AlphaDropout`, `ActivityRegularization` in
//! `keras/src/layers/regularization/`): same shape, no weights. The spatial dropouts take an
//! input of exactly their rank (`data_format` for 2-D and 3-D says where the channels are).

use super::activations::SameShape;
use super::data_format::{DataFormat, data_format_either};
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::Diagnostic;

pub const SPATIAL_DROPOUT1D: LayerType = LayerType {
    name: "spatial_dropout1d",
    class_name: "SpatialDropout1D",
    arguments: &["rate", "seed"],
    parse: parse_spatial::<1>,
    torch: no_weights,
};

pub const SPATIAL_DROPOUT2D: LayerType = LayerType {
    name: "spatial_dropout2d",
    class_name: "SpatialDropout2D",
    arguments: &["rate", "seed", "data_format"],
    parse: parse_spatial::<2>,
    torch: no_weights,
};

pub const SPATIAL_DROPOUT3D: LayerType = LayerType {
    name: "spatial_dropout3d",
    class_name: "SpatialDropout3D",
    arguments: &["rate", "seed", "data_format"],
    parse: parse_spatial::<3>,
    torch: no_weights,
};

pub const GAUSSIAN_DROPOUT: LayerType = LayerType {
    name: "gaussian_dropout",
    class_name: "GaussianDropout",
    arguments: &["rate", "seed"],
    parse: parse_gaussian_dropout,
    torch: no_weights,
};

pub const GAUSSIAN_NOISE: LayerType = LayerType {
    name: "gaussian_noise",
    class_name: "GaussianNoise",
    arguments: &["stddev", "seed"],
    parse: parse_gaussian_noise,
    torch: no_weights,
};

pub const ALPHA_DROPOUT: LayerType = LayerType {
    name: "alpha_dropout",
    class_name: "AlphaDropout",
    arguments: &["rate", "noise_shape", "seed"],
    parse: parse_alpha_dropout,
    torch: no_weights,
};

pub const ACTIVITY_REGULARIZATION: LayerType = LayerType {
    name: "activity_regularization",
    class_name: "ActivityRegularization",
    arguments: &["l1", "l2"],
    parse: parse_activity_regularization,
    torch: no_weights,
};

#[derive(Debug)]
struct SpatialDropout {
    rank: usize,
    format: DataFormat,
}

fn parse_spatial<const RANK: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let rate = args.fraction("rate", 0.0, 1.0);
    // The seed only matters in training.
    args.optional_count("seed", 0);
    // SpatialDropout1D has no `data_format`: its channels are last.
    let format = if RANK == 1 { DataFormat::ChannelsLast } else { data_format_either(args) };
    rate?;
    Some(Box::new(SpatialDropout { rank: RANK, format }))
}

impl UnaryLayer for SpatialDropout {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        if input.len() != self.rank + 1 {
            let name = ["spatial_dropout1d", "spatial_dropout2d", "spatial_dropout3d"][self.rank - 1];
            return Err(self.format.wrong_rank(name, self.rank, input));
        }
        Ok(Built { output_shape: input.to_vec(), weights: Vec::new() })
    }
}

fn parse_gaussian_dropout(args: &mut Args) -> Option<Box<dyn Layer>> {
    let rate = args.fraction("rate", 0.0, 1.0);
    args.optional_count("seed", 0);
    rate?;
    Some(Box::new(SameShape))
}

fn parse_gaussian_noise(args: &mut Args) -> Option<Box<dyn Layer>> {
    let stddev = args.fraction("stddev", 0.0, 1.0);
    args.optional_count("seed", 0);
    stddev?;
    Some(Box::new(SameShape))
}

fn parse_alpha_dropout(args: &mut Args) -> Option<Box<dyn Layer>> {
    let rate = args.fraction("rate", 0.0, 1.0);
    // The noise shape and the seed only matter in training.
    args.take("noise_shape");
    args.optional_count("seed", 0);
    rate?;
    Some(Box::new(SameShape))
}

fn parse_activity_regularization(args: &mut Args) -> Option<Box<dyn Layer>> {
    let l1 = args.number_in_or("l1", 0.0, f64::INFINITY, 0.0);
    let l2 = args.number_in_or("l2", 0.0, f64::INFINITY, 0.0);
    l1?;
    l2?;
    Some(Box::new(SameShape))
}
