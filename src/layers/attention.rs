//! `attention` and `additive_attention`: dot-product (Luong) and additive (Bahdanau) attention
//! over `[query, value]` or `[query, value, key]` (Keras 3 `Attention` and `AdditiveAttention`,
//! `keras/src/layers/attention/`). Output `(…query[:-1], value[-1])`. `Attention` has a scalar
//! `scale` with `use_scale` and a scalar `concat_score_weight` with `score_mode: concat`, both
//! ones; `AdditiveAttention` has `scale` `(features,)`, glorot-uniform, with `use_scale`
//! (default true). Keras offers no argument for these initializers.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Arity, Built, Layer, LayerType, Weight};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const ATTENTION: LayerType = LayerType {
    name: "attention",
    class_name: "Attention",
    arguments: &["use_scale", "score_mode", "dropout", "seed"],
    parse: parse_attention,
    torch: no_weights,
};

pub const ADDITIVE_ATTENTION: LayerType = LayerType {
    name: "additive_attention",
    class_name: "AdditiveAttention",
    arguments: &["use_scale", "dropout", "seed"],
    parse: parse_additive,
    torch: no_weights,
};

/// The name of a weight whose initializer Keras fixes (no layer argument sets it).
const FIXED: &str = "";

#[derive(Debug)]
struct Attention {
    additive: bool,
    use_scale: bool,
    concat: bool,
}

fn parse_common(args: &mut Args) -> Option<()> {
    let dropout = args.number_in_or("dropout", 0.0, 1.0, 0.0);
    args.optional_count("seed", 0);
    dropout.map(|_| ())
}

fn parse_attention(args: &mut Args) -> Option<Box<dyn Layer>> {
    let use_scale = args.bool_or("use_scale", false);
    let score_mode = args.word_or("score_mode", &["dot", "concat"], "dot");
    parse_common(args)?;
    Some(Box::new(Attention { additive: false, use_scale, concat: score_mode.value == "concat" }))
}

fn parse_additive(args: &mut Args) -> Option<Box<dyn Layer>> {
    let use_scale = args.bool_or("use_scale", true);
    parse_common(args)?;
    Some(Box::new(Attention { additive: true, use_scale, concat: false }))
}

impl Layer for Attention {
    fn arity(&self) -> Arity {
        Arity::AtLeast(2)
    }

    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        let class = if self.additive { "additive_attention" } else { "attention" };
        if inputs.len() > 3 {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!("`{class}` takes `[query, value]` or `[query, value, key]`, found {} inputs", inputs.len()),
            )
            .with_help("give 2 or 3 inputs"));
        }
        let (query, value) = (&inputs[0], &inputs[1]);
        let key = inputs.get(2).unwrap_or(value);
        let (Some(&features), Some(&key_features), Some(&value_features)) = (query.last(), key.last(), value.last())
        else {
            return Err(Diagnostic::error(Code::WrongInputRank, format!("`{class}` needs inputs with a feature axis"))
                .with_help("give inputs shaped `[sequence, features]`"));
        };
        if features != key_features {
            return Err(Diagnostic::error(
                Code::MergeMismatch,
                format!(
                    "`{class}` scores the query {} against the key {}: their last axes must agree",
                    shape_text(query),
                    shape_text(key)
                ),
            )
            .with_help("give query and key (the value, without a key) the same number of features"));
        }
        let mut weights = Vec::new();
        if self.use_scale {
            let shape = if self.additive { vec![features] } else { Vec::new() };
            let default = if self.additive { Family::GlorotUniform } else { Family::Ones };
            weights.push(Weight::new("scale", shape, FIXED, default));
        }
        if self.concat {
            weights.push(Weight::new("concat_score_weight", Vec::new(), FIXED, Family::Ones));
        }
        let output_shape = query[..query.len() - 1].iter().copied().chain([value_features]).collect();
        Ok(Built { output_shape, weights })
    }
}
