//! `embedding`: a lookup table from token ids to vectors (Keras 3 `Embedding` in
//! `keras/src/layers/core/embedding.py`). Weight `embeddings` `(input_dim, output_dim)`, by
//! default `uniform` (RandomUniform ±0.05); input of any rank r gives rank r + 1 with
//! `output_dim` appended. `input_dim` here is the vocabulary size, not the input's last axis.

use super::torch::{TorchTensor, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::Args;
use crate::diagnostic::Diagnostic;
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "embedding",
    class_name: "Embedding",
    arguments: &[
        "input_dim",
        "output_dim",
        "embeddings_initializer",
        "embeddings_regularizer",
        "embeddings_constraint",
        "mask_zero",
        "input_length",
    ],
    parse,
    torch,
};

/// `nn.Embedding`: the same table.
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Ok(vec![weight("weight", "embeddings", None)])
}

#[derive(Debug)]
struct Embedding {
    input_dim: usize,
    output_dim: usize,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let input_dim = args.required_count("input_dim");
    let output_dim = args.required_count("output_dim");
    // Masking, regularizers and constraints do not change the initial table; Keras 3 ignores
    // the deprecated `input_length` with a warning.
    args.bool_or("mask_zero", false);
    args.accept_inert(&["embeddings_regularizer", "embeddings_constraint", "input_length"]);
    Some(Box::new(Embedding { input_dim: input_dim?.value, output_dim: output_dim?.value }))
}

impl UnaryLayer for Embedding {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let weights = vec![Weight::new(
            "embeddings",
            vec![self.input_dim, self.output_dim],
            "embeddings_initializer",
            Family::RandomUniform,
        )];
        let output_shape = input.iter().copied().chain([self.output_dim]).collect();
        Ok(Built { output_shape, weights })
    }
}
