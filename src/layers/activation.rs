//! `activation`: applies an activation function; no weights, same shape (Keras 3 `Activation`).

use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer, activation_argument};
use crate::args::Args;
use crate::diagnostic::Diagnostic;

pub const TYPE: LayerType =
    LayerType { name: "activation", class_name: "Activation", arguments: &["activation"], parse, torch: no_weights };

#[derive(Debug)]
struct Activation;

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    activation_argument(args, true)?;
    Some(Box::new(Activation))
}

impl UnaryLayer for Activation {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        Ok(Built { output_shape: input.to_vec(), weights: Vec::new() })
    }
}
