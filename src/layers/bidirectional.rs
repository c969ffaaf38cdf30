//! `bidirectional`: a recurrent layer run forwards and backwards over its input (Keras 3
//! `Bidirectional` in `keras/src/layers/rnn/bidirectional.py`).
//!
//! `layer` is the forward layer, renamed `forward_<name>` (a `forward_` prefix is not doubled);
//! `backward_layer`, when given, is the backward layer with its own name, else a copy of
//! `layer` named `backward_<name>`. Weights: the forward layer's, then the backward layer's, under
//! their names (`forward_lstm.lstm_cell.kernel`). `merge_mode` `concat` (default) doubles the
//! last axis of the layer's output; `sum`, `mul`, `ave` keep it; `null` returns the two
//! directions' outputs as two tensors. With `return_state` on the wrapped layer, the forward
//! layer's states and then the backward layer's follow, as Keras returns them.

use super::torch::{TorchTensor, torch_tensors};
use super::wrapped::{Inner, parse_node};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{ArgKind, Args};
use crate::diagnostic::{Code, Diagnostic};
use std::borrow::Cow;

const ARGUMENTS: &[&str] = &["layer", "merge_mode", "backward_layer"];

pub const TYPE: LayerType =
    LayerType { name: "bidirectional", class_name: "Bidirectional", arguments: ARGUMENTS, parse, torch };

/// Torch's name for the backward direction's copy of a tensor.
fn reverse(name: &'static str) -> Option<&'static str> {
    match name {
        "weight_ih_l0" => Some("weight_ih_l0_reverse"),
        "weight_hh_l0" => Some("weight_hh_l0_reverse"),
        "bias_ih_l0" => Some("bias_ih_l0_reverse"),
        "bias_hh_l0" => Some("bias_hh_l0_reverse"),
        _ => None,
    }
}

/// `nn.LSTM` / `nn.GRU` / `nn.RNN` with `bidirectional=True` (one layer, batch_first): each
/// direction as the plain layer's mapping, the backward one's tensors named `*_reverse`.
fn torch(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    let cell_of = |weight: &Weight| weight.name.split('.').nth(1).map(str::to_string);
    let class_name = match weights.first().and_then(cell_of).as_deref() {
        Some("lstm_cell") => "LSTM",
        Some("gru_cell") => "GRU",
        Some("simple_rnn_cell") => "SimpleRNN",
        _ => return Err("torch's `bidirectional=True` exists only for LSTM, GRU and SimpleRNN (nn.RNN)".into()),
    };
    let Some(first) = weights.first() else { return Ok(Vec::new()) };
    let forward_prefix = first.name.split('.').next().unwrap_or_default().to_string();
    let mut tensors = Vec::new();
    for forward in [true, false] {
        let (mine, prefix): (Vec<&Weight>, String) = {
            let mine: Vec<&Weight> =
                weights.iter().filter(|w| w.name.starts_with(&format!("{forward_prefix}.")) == forward).collect();
            let prefix = mine.first().map(|w| w.name.rsplit_once('.').map_or("", |(p, _)| p).to_string());
            (mine, prefix.unwrap_or_default())
        };
        // The plain layer's mapping, on the weights without their prefix (so its checks see them).
        let stripped: Vec<Weight> = mine
            .iter()
            .map(|w| Weight {
                name: Cow::Owned(w.name.rsplit_once('.').map_or(w.name.to_string(), |(_, n)| n.to_string())),
                ..(*w).clone()
            })
            .collect();
        for tensor in torch_tensors(class_name, &stripped)? {
            let name = if forward { tensor.name } else { reverse(tensor.name).ok_or("an unknown torch tensor")? };
            let source = tensor.source.with_logical_prefix(&format!("{prefix}."));
            tensors.push(TorchTensor { name, source });
        }
    }
    Ok(tensors)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Merge {
    Concat,
    Keep,
    /// `merge_mode: null`: the forward and the backward output, unmerged.
    Separate,
}

#[derive(Debug)]
struct Bidirectional {
    forward: Inner,
    backward: Inner,
    merge: Merge,
}

fn forward_name(name: &str) -> String {
    format!("forward_{}", name.strip_prefix("forward_").unwrap_or(name))
}

fn backward_name(name: &str) -> String {
    format!("backward_{}", name.strip_prefix("backward_").unwrap_or(name))
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let merge = if args.is_null("merge_mode") {
        args.take("merge_mode");
        Merge::Separate
    } else {
        match args.word_or("merge_mode", &["concat", "sum", "mul", "ave"], "concat").value {
            "concat" => Merge::Concat,
            _ => Merge::Keep,
        }
    };
    let backward_node = args.take_as("backward_layer", ArgKind::Any);
    let node = args.require("layer", "{lstm: {units: 8}}")?;
    let forward = parse_node(args, node, Some(&forward_name));
    let backward = match backward_node {
        Some(backward) => parse_node(args, backward, None),
        None => parse_node(args, node, Some(&backward_name)),
    };
    let (forward, backward) = (forward?, backward?);
    for inner in [&forward, &backward] {
        if !inner.layer_type.arguments.contains(&"go_backwards") {
            args.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`bidirectional` wraps a recurrent layer, found `{}`", inner.layer_type.class_name),
                )
                .at(inner.span)
                .with_help("wrap an `lstm`, `gru`, `simple_rnn` or `conv_lstm*d`"),
            );
            return None;
        }
    }
    Some(Box::new(Bidirectional { forward, backward, merge }))
}

impl UnaryLayer for Bidirectional {
    fn output_count(&self) -> usize {
        let outputs = if self.merge == Merge::Separate { 2 } else { 1 };
        outputs + self.forward.layer.output_count() - 1 + self.backward.layer.output_count() - 1
    }

    fn other_outputs_of(&self, input: &[usize], built: &Built) -> Vec<Vec<usize>> {
        let inputs = [input.to_vec()];
        let states = |inner: &Inner| match inner.build(&inputs) {
            Ok(built) => inner.layer.other_outputs(&inputs, &built),
            Err(_) => Vec::new(),
        };
        let mut outputs = Vec::new();
        if self.merge == Merge::Separate {
            outputs.push(built.output_shape.clone());
        }
        outputs.extend(states(&self.forward));
        outputs.extend(states(&self.backward));
        outputs
    }

    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let inputs = [input.to_vec()];
        let forward = self.forward.build(&inputs)?;
        let backward = self.backward.build(&inputs)?;
        if forward.output_shape != backward.output_shape {
            return Err(Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "the forward and backward layers' outputs differ: {:?} and {:?}",
                    forward.output_shape, backward.output_shape
                ),
            )
            .at(self.backward.span)
            .with_help("give both layers the same units and `return_sequences`"));
        }
        let mut output_shape = forward.output_shape;
        if self.merge == Merge::Concat
            && let Some(last) = output_shape.last_mut()
        {
            *last *= 2;
        }
        let weights = forward.weights.into_iter().chain(backward.weights).collect();
        Ok(Built { output_shape, weights })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::build;

    #[test]
    fn merge_modes_set_the_last_axis() {
        let shape = |arguments: &str| build("bidirectional", arguments, &[5, 3]).map(|built| built.output_shape);
        assert_eq!(shape("{layer: {lstm: {units: 4}}}"), Ok(vec![8]));
        assert_eq!(shape("{layer: {lstm: {units: 4, return_sequences: true}}, merge_mode: ave}"), Ok(vec![5, 4]));
    }

    #[test]
    fn a_non_recurrent_layer_is_refused() {
        let error = |arguments: &str| build("bidirectional", arguments, &[5, 3]).err().unwrap_or_default();
        assert!(error("{layer: {dense: {units: 4}}}").contains("wraps a recurrent layer"));
    }

    #[test]
    fn an_inner_initializer_travels_with_its_weights() {
        let built = build("bidirectional", "{layer: {lstm: {units: 4, kernel_initializer: he_normal}}}", &[5, 3]);
        let families: Vec<Option<crate::initializers::Family>> = built
            .map(|b| b.weights.iter().map(|w| w.given_initializer.as_ref().map(|call| call.family)).collect())
            .unwrap_or_default();
        let he = Some(crate::initializers::Family::HeNormal);
        assert_eq!(families, [he, None, None, he, None, None]);
    }

    #[test]
    fn a_given_backward_layer_keeps_its_name() {
        let built = build(
            "bidirectional",
            "{layer: {lstm: {units: 2, name: ahead}}, backward_layer: {lstm: {units: 2, name: behind, go_backwards: true}}}",
            &[5, 3],
        );
        let names: Vec<String> =
            built.map(|b| b.weights.iter().map(|w| w.name.to_string()).collect()).unwrap_or_default();
        assert_eq!(names.first().map(String::as_str), Some("forward_ahead.lstm_cell.kernel"));
        assert_eq!(names.get(3).map(String::as_str), Some("behind.lstm_cell.kernel"));
    }
}
