//! `time_distributed`: one layer applied to every step of its input's first axis (Keras 3
//! `TimeDistributed` in `keras/src/layers/rnn/time_distributed.py`).
//!
//! The inner `layer` is built on the input without its first axis, and the output puts that
//! axis back: `(T, …)` → `(T, inner output…)`. Its weights are the inner layer's, under its name
//! (`dense.kernel`). In the torch layout they are the inner layer's torch module's, under the
//! wrapper's name (torch applies a module to every step by broadcasting, without a wrapper).

use super::torch::{TorchTensor, torch_tensors};
use super::wrapped::{Inner, cell_name, parse};
use super::{Built, Layer, LayerType, UnaryLayer, Weight, find};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};
use std::borrow::Cow;

const ARGUMENTS: &[&str] = &["layer"];

pub const TYPE: LayerType = LayerType {
    name: "time_distributed",
    class_name: "TimeDistributed",
    arguments: ARGUMENTS,
    parse: parse_time_distributed,
    torch,
};

/// The inner layer's torch mapping (its class recorded in its weights), on the weights without
/// the `<inner>.` prefix (and a recurrent cell's segment).
fn torch(weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    let Some(first) = weights.first() else { return Ok(Vec::new()) };
    let prefix = first.name.split('.').next().unwrap_or_default().to_string();
    let Some(class_name) = first.wrapped_class else {
        return Err("the wrapped layer's type is not known to the torch layout".into());
    };
    let cell = find(class_name).and_then(cell_name).map_or(String::new(), |cell| format!("{cell}."));
    let strip = format!("{prefix}.{cell}");
    let stripped: Vec<Weight> = weights
        .iter()
        .map(|w| Weight { name: Cow::Owned(w.name.strip_prefix(&strip).unwrap_or(&w.name).to_string()), ..w.clone() })
        .collect();
    Ok(torch_tensors(class_name, &stripped)?
        .into_iter()
        .map(|tensor| TorchTensor { name: tensor.name, source: tensor.source.with_logical_prefix(&strip) })
        .collect())
}

#[derive(Debug)]
struct TimeDistributed {
    inner: Inner,
}

fn parse_time_distributed(args: &mut Args) -> Option<Box<dyn Layer>> {
    let inner = parse(args, "layer", None);
    if inner.is_none() && !args.diagnostics.iter().any(Diagnostic::is_error) {
        args.require("layer", "{dense: {units: 8}}");
    }
    Some(Box::new(TimeDistributed { inner: inner? }))
}

impl UnaryLayer for TimeDistributed {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let Some((&steps, step)) = input.split_first().filter(|(_, step)| !step.is_empty()) else {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`time_distributed` needs an input of rank 2 or more (timesteps, …), found {input:?}"),
            )
            .with_help("give `input:` as [timesteps, …]"));
        };
        let built = self.inner.build(&[step.to_vec()])?;
        let output_shape = [steps].into_iter().chain(built.output_shape).collect();
        Ok(Built { output_shape, weights: built.weights })
    }
}
