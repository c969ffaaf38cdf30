//! `up_sampling1d/2d/3d`: repeats each step, row, column or plane `size` times (Keras 3
//! `UpSampling1D`, `UpSampling2D`, `UpSampling3D` in `keras/src/layers/reshaping/`). `size` is
//! one number (1-D: only a number) or one per spatial axis, default 2; 2-D and 3-D take a
//! `data_format`, 2-D an `interpolation`, which changes values, not shapes. No weights.

use super::data_format::{DataFormat, data_format_either};
use super::spatial::axis_name;
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

pub const UP_SAMPLING1D: LayerType = LayerType {
    name: "up_sampling1d",
    class_name: "UpSampling1D",
    arguments: &["size"],
    parse: parse::<1>,
    torch: no_weights,
};

pub const UP_SAMPLING2D: LayerType = LayerType {
    name: "up_sampling2d",
    class_name: "UpSampling2D",
    arguments: &["size", "data_format", "interpolation"],
    parse: parse::<2>,
    torch: no_weights,
};

pub const UP_SAMPLING3D: LayerType = LayerType {
    name: "up_sampling3d",
    class_name: "UpSampling3D",
    arguments: &["size", "data_format"],
    parse: parse::<3>,
    torch: no_weights,
};

/// Keras's image resizing methods (`keras.ops.image.resize`).
pub const INTERPOLATIONS: [&str; 6] = ["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"];

#[derive(Debug)]
struct UpSampling {
    rank: usize,
    size: Vec<usize>,
    format: DataFormat,
}

fn parse<const RANK: usize>(args: &mut Args) -> Option<Box<dyn Layer>> {
    let size = match args.take("size") {
        // UpSampling1D takes one integer only.
        Some(_) if RANK == 1 => args.optional_count("size", 1).map(|size| vec![size.value]),
        Some(_) => args.tuple("size", RANK).map(|size| size.value),
        None => Some(vec![2; RANK]),
    };
    let format = if RANK == 1 { DataFormat::ChannelsLast } else { data_format_either(args) };
    if RANK == 2 {
        args.word_or("interpolation", &INTERPOLATIONS, "nearest");
    }
    Some(Box::new(UpSampling { rank: RANK, size: size?, format }))
}

impl UnaryLayer for UpSampling {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let name = ["up_sampling1d", "up_sampling2d", "up_sampling3d"][self.rank - 1];
        let Some((spatial, channels)) = self.format.split(input, self.rank) else {
            return Err(self.format.wrong_rank(name, self.rank, input));
        };
        let mut output = Vec::with_capacity(spatial.len());
        for (axis, (&length, &size)) in spatial.iter().zip(&self.size).enumerate() {
            output.push(length.checked_mul(size).ok_or_else(|| {
                Diagnostic::error(
                    Code::SizeOverflow,
                    format!(
                        "up-sampling spatial axis {axis} ({}) makes it too long for 64 bits",
                        axis_name(self.rank, axis)
                    ),
                )
                .with_help("use a smaller `size`")
            })?);
        }
        Ok(Built { output_shape: self.format.join(&output, channels), weights: Vec::new() })
    }
}
