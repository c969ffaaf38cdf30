//! Deferred shape inference: walks the graph's calls in topological order, so each layer learns
//! its input shapes and creates its weights (Keras `build()`), and records every call's output
//! shapes. The result is keyed by node, as the graph is.

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::graph::{ExpectedInput, Graph, LayerOp, Node, Op, Producer};
use crate::layers::{Weight, shape_text};
// Keyed by layer: a graph may hold 100,000 nodes.
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

/// One call of a built node. Its input shapes are not kept: they are the outputs of what its
/// edges name, and a graph has 100,000 calls.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltCall {
    /// One shape per output: a layer has one, a nested model one per model output. Shared by
    /// the calls of a layer built alike (the copies of a repeated block).
    pub outputs: Arc<[Vec<usize>]>,
}

/// A built node: the weights it creates and what each of its calls consumed and produced.
#[derive(Debug, PartialEq)]
pub struct BuiltNode {
    /// Most nodes are called once: held inline.
    pub calls: smallvec::SmallVec<[BuiltCall; 1]>,
    /// Shared by the nodes of one layer built on the same input shapes (the copies of a
    /// repeated block).
    pub weights: Arc<[Weight]>,
    /// A nested model's own nodes, built by its first call.
    pub inner: Option<Box<Inferred>>,
}

impl BuiltNode {
    /// The outputs of its last call, which Keras's summary shows; `None` for a param.
    pub fn output_shapes(&self) -> Option<&[Vec<usize>]> {
        self.calls.last().map(|call| &call.outputs[..])
    }

    /// Every weight it holds, a nested model's included.
    pub fn parameter_count(&self) -> u64 {
        let own = self.weights.iter().map(|w| w.shape.iter().product::<usize>() as u64).fold(0u64, u64::saturating_add);
        let inner = self.inner.as_ref().map_or(0, |inner| {
            inner.nodes.iter().flatten().map(BuiltNode::parameter_count).fold(0u64, u64::saturating_add)
        });
        own.saturating_add(inner)
    }
}

/// Every node that could be built, by node index.
#[derive(Debug, Default, PartialEq)]
pub struct Inferred {
    pub nodes: Vec<Option<BuiltNode>>,
}

/// Builds every call in topological order. Stops at the first call that cannot be built, because
/// what consumes it depends on it, and returns what was built before it so those weights can
/// still be checked: the layers built, and the params declared before the failing layer.
pub fn infer(graph: &Graph) -> (Inferred, Diagnostics) {
    let inputs: Vec<Option<Vec<usize>>> = graph.inputs.iter().map(|input| input.shape.clone()).collect();
    infer_with(graph, &inputs)
}

/// [`infer`] with the model inputs' shapes given (a nested model gets them from its call).
fn infer_with(graph: &Graph, input_shapes: &[Option<Vec<usize>>]) -> (Inferred, Diagnostics) {
    let mut nodes: Vec<Option<BuiltNode>> = (0..graph.nodes.len()).map(|_| None).collect();
    let Ok(order) = graph.schedule() else {
        // `resolve` reports cycles; a graph with one never gets here.
        return (Inferred { nodes }, Vec::new());
    };
    let mut failed_at = None;
    let mut diagnostics = Vec::new();
    // A layer's input shapes, copied into buffers reused from call to call.
    let mut inputs = Vec::new();
    let mut earlier = HashMap::new();
    for (index, call) in order {
        let node = &graph.nodes[index];
        let result = match &node.op {
            Op::Layer(layer) => build_call(graph, input_shapes, &nodes, index, layer, call, &mut inputs, &mut earlier)
                .map(|(built_call, weights)| (built_call, weights, None)),
            Op::Model(model) => build_model_call(graph, input_shapes, &nodes, index, &model.graph, call),
            Op::Param(_) => continue,
        };
        match result {
            Ok((built_call, weights, inner)) => {
                let entry = nodes[index].get_or_insert_with(|| BuiltNode {
                    calls: smallvec::SmallVec::with_capacity(node.calls.len()),
                    weights,
                    inner,
                });
                entry.calls.push(built_call);
            }
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                failed_at = Some(index);
                break;
            }
        }
    }
    for (index, node) in graph.nodes.iter().enumerate() {
        if let Op::Param(param) = &node.op
            && failed_at.is_none_or(|failed| index < failed)
        {
            let row: usize = param.shape.iter().skip(1).product();
            let fill = param.padding_idx.map(|index| crate::layers::ConstantFill {
                range: index.saturating_mul(row)..index.saturating_add(1).saturating_mul(row),
                value: 0.0,
            });
            let weight = Weight {
                trainable: node.trainable,
                fill,
                ..Weight::new("", param.shape.clone(), "initializer", crate::initializers::Family::GlorotUniform)
            };
            nodes[index] =
                Some(BuiltNode { calls: smallvec::SmallVec::new(), weights: Arc::new([weight]), inner: None });
        }
    }
    (Inferred { nodes }, diagnostics)
}

type BuildResult = Result<(BuiltCall, Arc<[Weight]>), Diagnostic>;
type ModelResult = Result<(BuiltCall, Arc<[Weight]>, Option<Box<Inferred>>), Diagnostic>;

/// What a layer shared by several nodes (the copies of a repeated block share their layers) was
/// last built from and into: the next node of that layer given the same input shapes is built
/// alike, without building it again.
struct EarlierBuild {
    inputs: Vec<Vec<usize>>,
    outputs: Arc<[Vec<usize>]>,
    weights: Arc<[Weight]>,
}

/// A nested model's call: its graph inferred with the call's input shapes.
fn build_model_call(
    graph: &Graph,
    input_shapes: &[Option<Vec<usize>>],
    built: &[Option<BuiltNode>],
    index: usize,
    inner: &Graph,
    call: usize,
) -> ModelResult {
    let node = &graph.nodes[index];
    let mut inputs = Vec::new();
    let count = input_shapes_of(graph, input_shapes, built, node, call, &mut inputs)?;
    inputs.truncate(count);
    if inputs.len() != inner.inputs.len() {
        return Err(Diagnostic::error(
            Code::WrongInputCount,
            format!("model `{}` takes {} input(s), but is given {}", node.name, inner.inputs.len(), inputs.len()),
        )
        .at(node.span)
        .with_help("call a nested model with one tensor per input"));
    }
    let given: Vec<Option<Vec<usize>>> = inputs.iter().cloned().map(Some).collect();
    let (inferred, mut diagnostics) = infer_with(inner, &given);
    if !diagnostics.is_empty() {
        let diagnostic = diagnostics.remove(0);
        return Err(diagnostic.with_note_at(node.span, format!("inside model `{}`", node.name)));
    }
    let outputs = inner
        .outputs
        .iter()
        .map(|edge| match edge.from {
            Producer::Input(at) => Some(inputs[at].clone()),
            Producer::Call { node, call, tensor } => output_of(&inferred.nodes, node, call, tensor).cloned(),
        })
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    let inner = (call == 0).then(|| Box::new(inferred));
    Ok((BuiltCall { outputs: outputs.into() }, Arc::new([]), inner))
}

/// Output `tensor` of call `call` of node `node`, once built.
fn output_of(built: &[Option<BuiltNode>], node: usize, call: usize, tensor: usize) -> Option<&Vec<usize>> {
    built[node].as_ref()?.calls.get(call)?.outputs.get(tensor)
}

/// The shapes a call's edges carry, copied into the first of `inputs` (whose buffers are reused);
/// returns how many.
fn input_shapes_of(
    graph: &Graph,
    input_shapes: &[Option<Vec<usize>>],
    built: &[Option<BuiltNode>],
    node: &Node,
    call: usize,
    inputs: &mut Vec<Vec<usize>>,
) -> Result<usize, Diagnostic> {
    let edges = &node.calls[call];
    for (at, edge) in edges.iter().enumerate() {
        let shape = match edge.from {
            Producer::Input(index) => input_shapes.get(index).and_then(Option::as_ref),
            Producer::Call { node, call, tensor } => output_of(built, node, call, tensor),
        };
        let Some(shape) = shape else {
            return Err(Diagnostic::error(Code::NoInputShape, "no input shape: initc cannot infer the weights' sizes")
                .at_labelled(node.span, format!("layer `{}` needs to know its input", node.name))
                .with_help(match edge.from {
                    Producer::Input(index) if graph.functional => {
                        format!("give input `{}` a shape under `inputs:`", graph.inputs[index].name)
                    }
                    _ => {
                        "add `input: [d1, d2, …]` (per example, no batch axis) to the config, or pass `--input d1,d2,…`"
                            .to_string()
                    }
                }));
        };
        match inputs.get_mut(at) {
            Some(buffer) => buffer.clone_from(shape),
            None => inputs.push(shape.clone()),
        }
    }
    Ok(edges.len())
}

#[allow(clippy::too_many_arguments)]
fn build_call(
    graph: &Graph,
    input_shapes: &[Option<Vec<usize>>],
    built: &[Option<BuiltNode>],
    index: usize,
    layer: &LayerOp,
    call: usize,
    buffers: &mut Vec<Vec<usize>>,
    earlier: &mut HashMap<usize, EarlierBuild>,
) -> BuildResult {
    let node: &Node = &graph.nodes[index];
    let edges = &node.calls[call];
    let count = input_shapes_of(graph, input_shapes, built, node, call, buffers)?;
    let inputs = &buffers[..count];
    let arity = layer.layer.arity();
    if !arity.accepts(inputs.len()) {
        return Err(Diagnostic::error(
            Code::WrongInputCount,
            format!("layer `{}` takes {}, but is given {}", node.name, arity.text(), inputs.len()),
        )
        .at(node.span)
        .with_help(match arity {
            crate::layers::Arity::Exactly(1) => "combine the inputs first with a merge layer (`add`, `concatenate`, …)",
            _ => "name what it consumes with `inputs: [a, b]`",
        }));
    }
    if let [input] = inputs {
        check_expected_input(layer, &node.name, input)?;
    }
    // A layer is a function of its arguments and input shapes: one that several nodes share is
    // built once per input shapes.
    let shared = (Arc::strong_count(&layer.layer) > 1).then_some(Arc::as_ptr(&layer.layer) as *const () as usize);
    if let Some(key) = shared
        && let Some(done) = earlier.get(&key)
        && done.inputs == inputs
    {
        return Ok((BuiltCall { outputs: done.outputs.clone() }, done.weights.clone()));
    }
    let result = layer.layer.build_for(&node.name, inputs).map_err(|diagnostic| {
        let context = match inputs {
            [input] => format!("layer `{}` gets input {}", node.name, shape_text(input)),
            _ => {
                let shapes: Vec<String> = edges
                    .iter()
                    .zip(inputs)
                    .map(|(edge, shape)| format!("{} from {}", shape_text(shape), graph.producer_name(edge.from)))
                    .collect();
                format!("layer `{}` gets inputs {}", node.name, shapes.join(", "))
            }
        };
        match diagnostic.primary {
            None => diagnostic.at_labelled(node.span, context),
            Some(_) => diagnostic.with_note_at(node.span, context),
        }
    })?;
    if call > 0
        && let Some(first) = &built[index]
        && *first.weights != *result.weights
    {
        return Err(Diagnostic::error(
            Code::ShareMismatch,
            format!("layer `{}` is called again on inputs its weights do not fit", node.name),
        )
        .at(node.span)
        .with_help("a layer called twice (a shared layer) must get inputs of the same sizes each time"));
    }
    let others = layer.layer.other_outputs(inputs, &result);
    let outputs: Arc<[Vec<usize>]> = std::iter::once(result.output_shape).chain(others).collect();
    let weights: Arc<[Weight]> = result.weights.into();
    if let Some(key) = shared {
        let done = EarlierBuild { inputs: inputs.to_vec(), outputs: outputs.clone(), weights: weights.clone() };
        earlier.insert(key, done);
    }
    Ok((BuiltCall { outputs }, weights))
}

fn check_expected_input(layer: &LayerOp, name: &str, input: &[usize]) -> Result<(), Diagnostic> {
    let Some(expected) = &layer.expected_input else { return Ok(()) };
    let mismatch = match &expected.value {
        ExpectedInput::LastDim(dim) => (input.last() != Some(dim)).then(|| format!("input_dim {dim}")),
        ExpectedInput::Shape(shape) => (shape != input).then(|| format!("input_shape {}", shape_text(shape))),
    };
    match mismatch {
        None => Ok(()),
        Some(stated) => Err(Diagnostic::error(
            Code::InputMismatch,
            format!("layer `{name}` states {stated}, but its input is {}", shape_text(input)),
        )
        .at_labelled(expected.span, "stated here")
        .with_help("remove the stated size, or fix it or the layers before it")),
    }
}
