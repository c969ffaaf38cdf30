//! `flatten`: collapses every non-batch axis into one (Keras 3 `Flatten`).

use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

pub const TYPE: LayerType =
    LayerType { name: "flatten", class_name: "Flatten", arguments: &["data_format"], parse, torch: no_weights };

#[derive(Debug)]
struct Flatten;

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    args.word_or("data_format", &["channels_last", "channels_first"], "channels_last");
    Some(Box::new(Flatten))
}

impl UnaryLayer for Flatten {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let size = input.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
            Diagnostic::error(Code::SizeOverflow, "the flattened size does not fit in 64 bits")
                .with_help("the input's sizes multiply past 2^64: check `input:` and the layers before")
        })?;
        Ok(Built { output_shape: vec![size], weights: Vec::new() })
    }
}
