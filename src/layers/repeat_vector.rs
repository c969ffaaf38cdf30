//! `repeat_vector`: repeats a vector `n` times, `(features,)` → `(n, features)` (Keras 3
//! `RepeatVector` in `keras/src/layers/reshaping/repeat_vector.py`). No weights.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

pub const TYPE: LayerType =
    LayerType { name: "repeat_vector", class_name: "RepeatVector", arguments: &["n"], parse, torch: no_weights };

#[derive(Debug)]
struct RepeatVector {
    n: usize,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let n = args.required_count("n")?;
    Some(Box::new(RepeatVector { n: n.value }))
}

impl UnaryLayer for RepeatVector {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let [features] = input else {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`repeat_vector` needs a rank-1 input (features), found {}", shape_text(input)),
            )
            .with_help("put a `flatten` before it"));
        };
        Ok(Built { output_shape: vec![self.n, *features], weights: Vec::new() })
    }
}
