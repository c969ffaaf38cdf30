//! `reversible_embedding`: an embedding that can also project back to the vocabulary (Keras 3
//! `ReversibleEmbedding`, `keras/src/layers/core/reversible_embedding.py`). Weight `embeddings`
//! `(input_dim, output_dim)` and, with `tie_weights: false`, `reverse_embeddings`
//! `(output_dim, input_dim)`, both from `embeddings_initializer` (default `uniform`). Only the
//! forward call is supported: a Keras call with `reverse=True` is refused where it is read.

use super::torch::{TorchTensor, weight};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::Args;
use crate::diagnostic::Diagnostic;
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "reversible_embedding",
    class_name: "ReversibleEmbedding",
    arguments: &[
        "input_dim",
        "output_dim",
        "tie_weights",
        "embeddings_initializer",
        "embeddings_regularizer",
        "embeddings_constraint",
        "mask_zero",
        "reverse_dtype",
        "logit_soft_cap",
        "input_length",
    ],
    parse,
    torch,
};

/// `nn.Embedding` when the weights are tied; an untied reverse table has no torch module.
fn torch(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    if weights.iter().any(|w| w.name == "reverse_embeddings") {
        return Err("its untied `reverse_embeddings` has no PyTorch module".to_string());
    }
    Ok(vec![weight("weight", "embeddings", None)])
}

#[derive(Debug)]
struct ReversibleEmbedding {
    input_dim: usize,
    output_dim: usize,
    tie_weights: bool,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let input_dim = args.required_count("input_dim");
    let output_dim = args.required_count("output_dim");
    let tie_weights = args.bool_or("tie_weights", true);
    args.bool_or("mask_zero", false);
    args.number_in_or("logit_soft_cap", 0.0, f64::INFINITY, 0.0);
    // The reverse projection's dtype and the deprecated input length do not change the tables.
    args.take("reverse_dtype");
    args.accept_inert(&["embeddings_regularizer", "embeddings_constraint", "input_length"]);
    Some(Box::new(ReversibleEmbedding { input_dim: input_dim?.value, output_dim: output_dim?.value, tie_weights }))
}

impl UnaryLayer for ReversibleEmbedding {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let (vocabulary, width) = (self.input_dim, self.output_dim);
        let mut weights =
            vec![Weight::new("embeddings", vec![vocabulary, width], "embeddings_initializer", Family::RandomUniform)];
        if !self.tie_weights {
            weights.push(Weight::new(
                "reverse_embeddings",
                vec![width, vocabulary],
                "embeddings_initializer",
                Family::RandomUniform,
            ));
        }
        let output_shape = input.iter().copied().chain([width]).collect();
        Ok(Built { output_shape, weights })
    }
}
