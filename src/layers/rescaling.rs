//! `rescaling`: `input * scale + offset` (Keras 3 `Rescaling` in
//! `keras/src/layers/preprocessing/rescaling.py`); `scale` and `offset` are numbers or
//! per-channel lists. Same shape, no weights.

use super::activations::SameShape;
use super::torch::no_weights;
use super::{Layer, LayerType};
use crate::args::Args;

pub const TYPE: LayerType =
    LayerType { name: "rescaling", class_name: "Rescaling", arguments: &["scale", "offset"], parse, torch: no_weights };

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let given = args.require("scale", "0.00392156862745098").is_some();
    let scale = args.optional_numbers("scale");
    let offset = args.optional_numbers("offset");
    scale?;
    offset?;
    if !given {
        return None;
    }
    Some(Box::new(SameShape))
}
