//! `identity` and `masking`: the input unchanged (Keras 3 `Identity` and `Masking` in
//! `keras/src/layers/core/`; masking only marks time steps equal to `mask_value`). No weights.

use super::activations::SameShape;
use super::torch::no_weights;
use super::{Layer, LayerType};
use crate::args::Args;

pub const IDENTITY: LayerType =
    LayerType { name: "identity", class_name: "Identity", arguments: &[], parse: parse_identity, torch: no_weights };

pub const MASKING: LayerType = LayerType {
    name: "masking",
    class_name: "Masking",
    arguments: &["mask_value"],
    parse: parse_masking,
    torch: no_weights,
};

fn parse_identity(_: &mut Args) -> Option<Box<dyn Layer>> {
    Some(Box::new(SameShape))
}

fn parse_masking(args: &mut Args) -> Option<Box<dyn Layer>> {
    args.number_in_or("mask_value", f64::NEG_INFINITY, f64::INFINITY, 0.0)?;
    Some(Box::new(SameShape))
}
