//! `constant-kernel` (W0703): a kernel, recurrent kernel or embedding table initialised to a
//! constant (`zeros`, `ones`, `constant`).
//!
//! **What:** warns when a layer's `kernel`, `recurrent_kernel`, `depthwise_kernel`, … or
//! `embeddings` weight with more than one unit (more than one row for embeddings) starts as a
//! constant.
//!
//! **Why:** every unit of the layer then computes the same function of its input and, unless
//! the layers around it differ, receives the same gradient: the units stay copies of each
//! other and the layer works as a single unit. This is the symmetry that random
//! initialisation exists to break. Biases are fine as constants, and are not flagged.
//!
//! **Example:**
//! ```yaml
//! layers:
//!   - dense: {units: 64, kernel_initializer: zeros}
//! ```
//! Use a random initializer: the Keras default `glorot_uniform`, or `he_normal` before ReLU.

use crate::Stages;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::graph::Op;
use crate::lint::LintOptions;
use crate::plan::{Initializer, TensorSpec};
// Keys are names of the model: a fast hasher, since a model may have 100,000 nodes.
use foldhash::HashMap;

pub fn check(stages: &Stages, _options: &LintOptions) -> Diagnostics {
    let mut found = Vec::new();
    // By name, once: a search per layer is quadratic in a 100,000-layer model. Only a kernel or
    // an embedding of a constant initializer can be found (usually none; biases are zeros), so
    // only those are indexed.
    let could_be_found = |t: &&TensorSpec| {
        is_constant(&t.initializer) && (t.name.ends_with("kernel") || t.name.ends_with(".embeddings"))
    };
    let tensors: HashMap<&str, &TensorSpec> =
        stages.plan.tensors.iter().filter(could_be_found).map(|t| (t.name.as_str(), t)).collect();
    if tensors.is_empty() {
        return found;
    }
    for (node, built) in stages.graph.nodes.iter().zip(&stages.inferred.nodes) {
        let (Op::Layer(layer), Some(built)) = (&node.op, built) else { continue };
        for weight in built.weights.iter() {
            let is_embedding = weight.name == "embeddings";
            if !is_embedding && !weight.name.ends_with("kernel") {
                continue;
            }
            let name = format!("{}.{}", node.name, weight.name);
            let Some(tensor) = tensors.get(name.as_str()) else { continue };
            let (count, what) = if is_embedding {
                (tensor.shape.first().copied().unwrap_or(0), "rows (tokens) start as the same vector")
            } else {
                (tensor.shape.last().copied().unwrap_or(0), "units start identical")
            };
            if count < 2 {
                continue;
            }
            found.push(
                Diagnostic::of(
                    Code::ConstantKernel,
                    format!(
                        "`{name}` is initialised to a constant (`{}`): its {count} {what}",
                        tensor.initializer_label
                    ),
                )
                .at_labelled(tensor.origin, "constant initializer")
                .with_note_at(node.span, format!("`{}` is a `{}` layer", node.name, layer.layer_type.name))
                .with_help(
                    "use a random initializer such as `glorot_uniform` (the Keras default) so the units can differ",
                ),
            );
        }
    }
    found
}

fn is_constant(initializer: &Initializer) -> bool {
    matches!(initializer, Initializer::Zeros | Initializer::Ones | Initializer::Constant(_))
}
