//! `resizing` and `center_crop`: images to `(height, width)` (Keras 3 `Resizing` and
//! `CenterCrop` in `keras/src/layers/preprocessing/image_preprocessing/`). The input is one
//! image per example, `(height, width, channels)` or with `data_format: channels_first`
//! `(channels, height, width)`; the options (interpolation, cropping or padding to the aspect
//! ratio, fill, antialiasing) change values, not shapes. No weights.

use super::data_format::{DataFormat, data_format_either};
use super::torch::no_weights;
use super::up_sampling::INTERPOLATIONS;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

pub const RESIZING: LayerType = LayerType {
    name: "resizing",
    class_name: "Resizing",
    arguments: &[
        "height",
        "width",
        "interpolation",
        "crop_to_aspect_ratio",
        "pad_to_aspect_ratio",
        "fill_mode",
        "fill_value",
        "antialias",
        "data_format",
    ],
    parse: parse_resizing,
    torch: no_weights,
};

pub const CENTER_CROP: LayerType = LayerType {
    name: "center_crop",
    class_name: "CenterCrop",
    arguments: &["height", "width", "data_format"],
    parse: parse_center_crop,
    torch: no_weights,
};

#[derive(Debug)]
struct Resize {
    name: &'static str,
    height: usize,
    width: usize,
    format: DataFormat,
}

fn parse_resizing(args: &mut Args) -> Option<Box<dyn Layer>> {
    let height = args.required_count("height");
    let width = args.required_count("width");
    args.word_or("interpolation", &INTERPOLATIONS, "bilinear");
    let crop = args.bool_or("crop_to_aspect_ratio", false);
    let pad = args.bool_or("pad_to_aspect_ratio", false);
    // Keras pads with a constant only.
    args.word_or("fill_mode", &["constant"], "constant");
    let fill_value = args.number_in_or("fill_value", f64::NEG_INFINITY, f64::INFINITY, 0.0);
    args.bool_or("antialias", false);
    let format = data_format_either(args);
    if crop && pad {
        let span = args.take("pad_to_aspect_ratio").map_or(args.layer_span, |node| node.span);
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                "`crop_to_aspect_ratio` and `pad_to_aspect_ratio` cannot both be true",
            )
            .at(span)
            .with_help("keep the aspect ratio by cropping or by padding, not both"),
        );
        return None;
    }
    fill_value?;
    Some(Box::new(Resize { name: "resizing", height: height?.value, width: width?.value, format }))
}

fn parse_center_crop(args: &mut Args) -> Option<Box<dyn Layer>> {
    let height = args.required_count("height");
    let width = args.required_count("width");
    let format = data_format_either(args);
    Some(Box::new(Resize { name: "center_crop", height: height?.value, width: width?.value, format }))
}

impl UnaryLayer for Resize {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let Some((_, channels)) = self.format.split(input, 2) else {
            return Err(self.format.wrong_rank(self.name, 2, input));
        };
        Ok(Built { output_shape: self.format.join(&[self.height, self.width], channels), weights: Vec::new() })
    }
}
