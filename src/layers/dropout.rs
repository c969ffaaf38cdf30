//! `dropout`: zeroes a fraction of inputs in training; no weights, same shape (Keras 3 `Dropout`).

use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::Diagnostic;

pub const TYPE: LayerType = LayerType {
    name: "dropout",
    class_name: "Dropout",
    arguments: &["rate", "noise_shape", "seed"],
    parse,
    torch: no_weights,
};

#[derive(Debug)]
struct Dropout;

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let rate = args.fraction("rate", 0.0, 1.0);
    // `noise_shape` and `seed` only matter in training.
    args.take("noise_shape");
    args.optional_count("seed", 0);
    rate.map(|_| Box::new(Dropout) as Box<dyn Layer>)
}

impl UnaryLayer for Dropout {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        Ok(Built { output_shape: input.to_vec(), weights: Vec::new() })
    }
}
