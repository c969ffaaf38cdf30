//! Deferred shape inference: walks the graph's calls in topological order, so each layer learns
//! its input shapes and creates its weights (Keras `build()`), and records every call's input and
//! output shapes. The result is keyed by node, as the graph is.

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::graph::{ExpectedInput, Graph, LayerOp, Node, Op, Producer};
use crate::layers::{Weight, shape_text};

/// One call of a built layer.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltCall {
    pub inputs: Vec<Vec<usize>>,
    pub output: Vec<usize>,
}

/// A built node: the weights it creates and what each of its calls consumed and produced.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltNode {
    pub calls: Vec<BuiltCall>,
    pub weights: Vec<Weight>,
}

impl BuiltNode {
    /// The output of its last call, which Keras's summary shows; `None` for a param.
    pub fn output_shape(&self) -> Option<&[usize]> {
        self.calls.last().map(|call| call.output.as_slice())
    }
}

/// Every node that could be built, by node index.
#[derive(Debug, Default)]
pub struct Inferred {
    pub nodes: Vec<Option<BuiltNode>>,
}

/// Builds every call in topological order. Stops at the first call that cannot be built, because
/// what consumes it depends on it, and returns what was built before it so those weights can
/// still be checked: the layers built, and the params declared before the failing layer.
pub fn infer(graph: &Graph) -> (Inferred, Diagnostics) {
    let mut nodes: Vec<Option<BuiltNode>> = (0..graph.nodes.len()).map(|_| None).collect();
    let Ok(order) = graph.schedule() else {
        // `resolve` reports cycles; a graph with one never gets here.
        return (Inferred { nodes }, Vec::new());
    };
    let mut failed_at = None;
    let mut diagnostics = Vec::new();
    for (index, call) in order {
        let node = &graph.nodes[index];
        let Op::Layer(layer) = &node.op else { continue };
        match build_call(graph, &nodes, index, layer, call) {
            Ok((inputs, built)) => {
                let entry = nodes[index].get_or_insert_with(|| BuiltNode {
                    calls: Vec::with_capacity(node.calls.len()),
                    weights: built.weights,
                });
                entry.calls.push(BuiltCall { inputs, output: built.output_shape });
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
            let weight = Weight {
                trainable: node.trainable,
                ..Weight::new("", param.shape.clone(), "initializer", crate::initializers::Family::GlorotUniform)
            };
            nodes[index] = Some(BuiltNode { calls: Vec::new(), weights: vec![weight] });
        }
    }
    (Inferred { nodes }, diagnostics)
}

type BuildResult = Result<(Vec<Vec<usize>>, crate::layers::Built), Diagnostic>;

fn build_call(graph: &Graph, built: &[Option<BuiltNode>], index: usize, layer: &LayerOp, call: usize) -> BuildResult {
    let node: &Node = &graph.nodes[index];
    let edges = &node.calls[call];
    let mut inputs = Vec::with_capacity(edges.len());
    for edge in edges {
        let shape = match edge.from {
            Producer::Input(index) => graph.inputs[index].shape.clone(),
            Producer::Call { node, call } => {
                built[node].as_ref().and_then(|b| b.calls.get(call)).map(|c| c.output.clone())
            }
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
        inputs.push(shape);
    }
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
    if let [input] = inputs.as_slice() {
        check_expected_input(layer, &node.name, input)?;
    }
    let result = layer.layer.build(&inputs).map_err(|diagnostic| {
        let context = match inputs.as_slice() {
            [input] => format!("layer `{}` gets input {}", node.name, shape_text(input)),
            _ => {
                let shapes: Vec<String> = edges
                    .iter()
                    .zip(&inputs)
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
        && first.weights != result.weights
    {
        return Err(Diagnostic::error(
            Code::ShareMismatch,
            format!("layer `{}` is called again on inputs its weights do not fit", node.name),
        )
        .at(node.span)
        .with_help("a layer called twice (a shared layer) must get inputs of the same sizes each time"));
    }
    Ok((inputs, result))
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
