//! `rnn`: Keras 3's generic `RNN` layer over a cell (`keras/src/layers/rnn/rnn.py`), with the
//! cells `SimpleRNNCell`, `LSTMCell`, `GRUCell` (`simple_rnn.py`, `lstm.py`, `gru.py`) and
//! `StackedRNNCells` (`stacked_rnn_cells.py`).
//!
//! A cell takes its layer's arguments and has its weights (`SimpleRNN`, `LSTM`, `GRU`), named
//! under the cell's name (`lstm_cell.kernel`); `StackedRNNCells` runs its `cells` one after the
//! other, each fed the previous one's units, their weights under the stack's name too
//! (`stacked_rnn_cells.lstm_cell.kernel`). Output: the last cell's units, per step with
//! `return_sequences`. In the torch layout a single `SimpleRNNCell`/`LSTMCell`/`GRUCell` is its
//! layer's module (`nn.RNN`/`nn.LSTM`/`nn.GRU`); a stack has none (torch stacks layers of one
//! kind and size only).

use super::recurrent::{return_state_argument, state_count};
use super::spatial::shape_text;
use super::torch::{TorchTensor, torch_tensors};
use super::wrapped::{Inner, parse_cell};
use super::{Built, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{ArgKind, Args};
use crate::config::Node;
use crate::diagnostic::{Code, Diagnostic};
use std::borrow::Cow;

const ARGUMENTS: &[&str] =
    &["cell", "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask"];

pub const TYPE: LayerType = LayerType { name: "rnn", class_name: "RNN", arguments: ARGUMENTS, parse, torch };

/// A single cell's layer mapping, on its weights without the cell's name.
fn torch(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    let Some(first) = weights.first() else { return Ok(Vec::new()) };
    let Some(class_name) = first.wrapped_class else {
        return Err("the cell's type is not known to the torch layout".into());
    };
    let prefix = first.name.rsplit_once('.').map_or("", |(prefix, _)| prefix).to_string();
    if prefix.contains('.') || weights.iter().any(|w| !w.name.starts_with(&format!("{prefix}."))) {
        return Err("torch has no module for a stack of different RNN cells: use one cell, or RNN layers".into());
    }
    let stripped: Vec<Weight> = weights
        .iter()
        .map(|w| Weight { name: Cow::Owned(w.name[prefix.len() + 1..].to_string()), ..w.clone() })
        .collect();
    let under = format!("{prefix}.");
    Ok(torch_tensors(class_name, &stripped)?
        .into_iter()
        .map(|tensor| TorchTensor { name: tensor.name, source: tensor.source.with_logical_prefix(&under) })
        .collect())
}

#[derive(Debug)]
struct Rnn {
    /// The stack's name when the cell is a `StackedRNNCells`.
    stack: Option<String>,
    cells: Vec<Inner>,
    return_sequences: bool,
    /// Every cell's states follow the output, cell by cell (an LSTM cell's `h` and `c`).
    return_state: bool,
}

/// `StackedRNNCells`' name and cells, or `None` for a single cell.
fn stacked(args: &mut Args, node: &Node) -> Option<Option<(String, Vec<Inner>)>> {
    if node.get("class_name").and_then(Node::as_str) != Some("StackedRNNCells") {
        return Some(None);
    }
    let config = node.get("config");
    let name = config.and_then(|c| c.get("name")).and_then(Node::as_str).unwrap_or("stacked_rnn_cells").to_string();
    let cells = config.and_then(|c| c.get("cells")).and_then(Node::as_seq);
    let Some(cells) = cells.filter(|cells| !cells.is_empty()) else {
        args.diagnostics.push(
            Diagnostic::error(Code::MissingKey, "`StackedRNNCells` needs a non-empty list `cells`")
                .at(node.span)
                .with_help("list its cells, e.g. `cells: [{class_name: LSTMCell, config: {units: 8}}]`"),
        );
        return None;
    };
    for (key, _) in config.and_then(Node::as_map).unwrap_or_default() {
        if !matches!(key.as_str(), Some("name" | "cells" | "trainable" | "dtype")) {
            args.diagnostics.push(
                Diagnostic::error(Code::UnknownArgument, "unknown argument of `StackedRNNCells`")
                    .at(key.span)
                    .with_help("`StackedRNNCells` takes `cells` (and `name`, `trainable`, `dtype`)"),
            );
            return None;
        }
    }
    let parsed: Vec<Option<Inner>> = cells.iter().map(|cell| parse_cell(args, cell)).collect();
    Some(Some((name, parsed.into_iter().collect::<Option<Vec<_>>>()?)))
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let return_sequences = args.bool_or("return_sequences", false);
    for flag in ["go_backwards", "stateful", "unroll", "zero_output_for_mask"] {
        args.bool_or(flag, false);
    }
    let return_state = return_state_argument(args);
    let node = args.take_as("cell", ArgKind::Any);
    let Some(node) = node else {
        args.require("cell", "{class_name: LSTMCell, config: {units: 8}}");
        return None;
    };
    let (stack, cells) = match stacked(args, node)? {
        Some((name, cells)) => (Some(name), cells),
        None => {
            // A list of cells is Keras's shorthand for a stack.
            if let Some(items) = node.as_seq() {
                let parsed: Vec<Option<Inner>> = items.iter().map(|cell| parse_cell(args, cell)).collect();
                (Some("stacked_rnn_cells".to_string()), parsed.into_iter().collect::<Option<Vec<_>>>()?)
            } else {
                (None, vec![parse_cell(args, node)?])
            }
        }
    };
    Some(Box::new(Rnn { stack, cells, return_sequences, return_state }))
}

impl UnaryLayer for Rnn {
    fn output_count(&self) -> usize {
        1 + if self.return_state { self.cells.iter().map(|cell| state_count(cell.layer_type)).sum() } else { 0 }
    }

    fn other_outputs_of(&self, input: &[usize], _built: &Built) -> Vec<Vec<usize>> {
        if !self.return_state {
            return Vec::new();
        }
        // Each cell's states are as wide as its output; the first cell reads the input's features.
        let mut states = Vec::new();
        let mut width = input.last().copied().unwrap_or(0);
        for cell in &self.cells {
            if let Ok(built) = cell.build(&[vec![1, width]]) {
                width = built.output_shape.last().copied().unwrap_or(width);
            }
            states.extend(std::iter::repeat_n(vec![width], state_count(cell.layer_type)));
        }
        states
    }

    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let &[timesteps, features] = input else {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`rnn` needs a rank-2 input (timesteps, features), found {}", shape_text(input)),
            )
            .with_help("put a `reshape` before it, or give `input:` as [timesteps, features]"));
        };
        let mut weights = Vec::new();
        let mut width = features;
        for cell in &self.cells {
            let built = cell.build(&[vec![timesteps, width]])?;
            width = built.output_shape.last().copied().unwrap_or(width);
            weights.extend(built.weights);
        }
        if let Some(stack) = &self.stack {
            for weight in &mut weights {
                weight.name = Cow::Owned(format!("{stack}.{}", weight.name));
            }
        }
        let output_shape = if self.return_sequences { vec![timesteps, width] } else { vec![width] };
        Ok(Built { output_shape, weights })
    }
}
