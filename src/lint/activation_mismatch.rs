//! `activation-mismatch` (N0704): an initializer tuned for another kind of activation.
//!
//! **What:** a note when a kernel's explicitly given initializer is He's (`he_normal`,
//! `he_uniform`, or `variance_scaling` with `scale=2, mode=fan_in`) and the layer's activation
//! saturates (`tanh`, `sigmoid`, `hard_sigmoid`, `hard_tanh`, `softsign`); or when it is
//! Glorot's or LeCun's (`scale=1`) and the activation is ReLU-like (`relu`, `relu6`,
//! `leaky_relu`). The activation is the layer's own `activation:`, else that of an
//! `activation` layer right after it; recurrent layers default to `tanh`. Keras's default
//! initializers are not flagged: only a choice written in the config is.
//!
//! **Why:** He et al. (2015) double the variance because ReLU zeroes half of its inputs; with
//! a saturating activation the doubled variance pushes units into the flat tails, where
//! gradients vanish. Glorot and LeCun keep the variance for activations that are linear around
//! zero; before ReLU the signal's variance halves with every layer.
//!
//! **Example:**
//! ```yaml
//! layers:
//!   - dense: {units: 64, activation: relu, kernel_initializer: glorot_normal}
//! ```
//! Use `he_normal` before ReLU, `glorot_*` or `lecun_*` before tanh and sigmoid.

use crate::Stages;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::graph::{Graph, Op, Producer};
use crate::initializers::{FanMode, Initializer, VarianceScaling};
use crate::lint::LintOptions;
use crate::plan::TensorSpec;
use crate::source::Span;
// Keys are names of the model: a fast hasher, since a model may have 100,000 nodes.
use foldhash::HashMap;

const SATURATING: [&str; 5] = ["tanh", "sigmoid", "hard_sigmoid", "hard_tanh", "softsign"];
const RELU_LIKE: [&str; 3] = ["relu", "relu6", "leaky_relu"];
const RECURRENT: [&str; 3] = ["simple_rnn", "lstm", "gru"];

/// The activation a layer's output goes through, and where the config says so.
struct Activation<'a> {
    name: &'a str,
    span: Span,
    how: &'static str,
}

fn activation_of<'a>(graph: &'a Graph, consumers: &[Vec<usize>], index: usize) -> Option<Activation<'a>> {
    let node = &graph.nodes[index];
    let Op::Layer(layer) = &node.op else { return None };
    match &layer.activation {
        Some(own) if own.value != "linear" => {
            return Some(Activation { name: &own.value, span: own.span, how: "activation set here" });
        }
        Some(_) => return None,
        None => {}
    }
    if RECURRENT.contains(&layer.layer_type.name) {
        return Some(Activation { name: "tanh", span: node.span, how: "recurrent layers use `tanh` by default" });
    }
    // The one layer its output goes to, when that is an `activation` layer.
    let [next] = consumers[index].as_slice() else { return None };
    let Op::Layer(next) = &graph.nodes[*next].op else { return None };
    let next_activation = next.activation.as_ref().filter(|_| next.layer_type.name == "activation")?;
    Some(Activation { name: &next_activation.value, span: next_activation.span, how: "activation applied here" })
}

/// For each node, the nodes that consume its output.
fn consumers(graph: &Graph) -> Vec<Vec<usize>> {
    let mut consumers = vec![Vec::new(); graph.nodes.len()];
    for (index, node) in graph.nodes.iter().enumerate() {
        for edge in node.calls.iter().flatten() {
            if let Producer::Call { node: producer, .. } = edge.from
                && !consumers[producer].contains(&index)
            {
                consumers[producer].push(index);
            }
        }
    }
    consumers
}

/// He's, Glorot's or LeCun's scheme, if the initializer is one of them.
fn scheme(initializer: &Initializer) -> Option<&'static str> {
    match *initializer {
        Initializer::VarianceScaling(VarianceScaling { scale: 2.0, mode: FanMode::FanIn, .. }) => Some("he"),
        Initializer::VarianceScaling(VarianceScaling { scale: 1.0, mode: FanMode::FanAvg, .. }) => Some("glorot"),
        Initializer::VarianceScaling(VarianceScaling { scale: 1.0, mode: FanMode::FanIn, .. }) => Some("lecun"),
        _ => None,
    }
}

pub fn check(stages: &Stages, _options: &LintOptions) -> Diagnostics {
    let mut found = Vec::new();
    // By name, once: a search per layer is quadratic in a 100,000-layer model. Only tensors of
    // one of the three schemes can be found, so only those are indexed. Like the consumers,
    // made when first needed: only a layer given a kernel initializer asks (Keras's defaults
    // are Glorot's, and a graph of 100,000 layers may give none).
    let mut tensors_of: Option<HashMap<&str, &TensorSpec>> = None;
    let mut consumers_of = None;
    for (index, (node, built)) in stages.graph.nodes.iter().zip(&stages.inferred.nodes).enumerate() {
        let (Op::Layer(layer), Some(built)) = (&node.op, built) else { continue };
        // A recurrent layer's weights sit under its cell (`lstm_cell.kernel`).
        let given = |weight: &&crate::layers::Weight| {
            matches!(weight.name.rsplit('.').next(), Some("kernel" | "recurrent_kernel"))
                && layer.initializers.iter().any(|(argument, _)| *argument == weight.initializer_argument)
        };
        // Most layers are given no initializer: nothing to check, and no activation to look for.
        if !built.weights.iter().any(|weight| given(&weight)) {
            continue;
        }
        let tensors = tensors_of.get_or_insert_with(|| {
            let schemed = stages.plan.tensors.iter().filter(|t| scheme(&t.initializer).is_some());
            schemed.map(|t| (t.name.as_str(), t)).collect()
        });
        if tensors.is_empty() {
            break;
        }
        let consumers = consumers_of.get_or_insert_with(|| consumers(stages.graph));
        let Some(activation) = activation_of(stages.graph, consumers, index) else { continue };
        for weight in built.weights.iter().filter(given) {
            let name = format!("{}.{}", node.name, weight.name);
            let Some(tensor) = tensors.get(name.as_str()) else {
                continue;
            };
            let help = match scheme(&tensor.initializer) {
                Some("he") if SATURATING.contains(&activation.name) => format!(
                    "He's scheme doubles the variance for ReLU; before `{}` use `glorot_uniform` or `lecun_normal`",
                    activation.name
                ),
                Some(scheme @ ("glorot" | "lecun")) if RELU_LIKE.contains(&activation.name) => format!(
                    "{} scheme keeps the variance for activations linear around 0; `{}` halves it, so use `he_normal` or `he_uniform`",
                    if scheme == "glorot" { "Glorot's" } else { "LeCun's" },
                    activation.name
                ),
                _ => continue,
            };
            found.push(
                Diagnostic::of(
                    Code::ActivationMismatch,
                    format!(
                        "`{name}` uses `{}`, which is not tuned for its `{}` activation",
                        tensor.initializer_label, activation.name
                    ),
                )
                .at_labelled(tensor.origin, "initializer given here")
                .with_note_at(activation.span, activation.how)
                .with_help(help),
            );
        }
    }
    found
}
