//! The graph IR between the front ends and the back ends: named inputs, nodes (a layer or a raw
//! param, with the tensors each of its calls consumes), and outputs. `resolve` builds it from any
//! front end; `infer`, `plan` and `lint` read only it.

mod order;
mod variables;

pub use order::{Cycle, Operation, keras_operations};
pub use variables::Variables;

use crate::args::Spanned;
use crate::initializers::InitCall;
use crate::layers::{Layer, LayerType};
use crate::source::Span;
use std::sync::Arc;

/// A model as a graph. Nodes are in declaration order, which names and streams follow.
#[derive(Debug)]
pub struct Graph {
    pub name: String,
    pub seed: u64,
    pub rng: crate::tensor::Rng,
    pub inputs: Vec<Input>,
    pub nodes: Vec<Node>,
    /// What the model returns.
    pub outputs: Vec<Edge>,
    /// Declared as a graph (`inputs:`, a Keras `Functional` model) or not a chain: the summary is
    /// Keras's functional one, with `InputLayer` rows and connections.
    pub functional: bool,
}

/// A named model input (Keras `Input`).
#[derive(Debug)]
pub struct Input {
    pub name: String,
    /// Per example, without the batch axis; `None` when nothing gave it. An open axis holds
    /// one of [`OPEN_SIZE_PROBES`].
    pub shape: Option<Vec<usize>>,
    /// Axes whose size the config leaves open (`null`, Keras's `None`: any size).
    pub open_axes: Vec<usize>,
    /// `float32` unless the config says otherwise (token ids are `int32`).
    pub dtype: String,
    pub span: Span,
}

/// The sizes an open input axis takes in the two shape inferences that tell which later sizes
/// depend on it (those differ between the two) and which do not: large enough for any kernel,
/// and multiples of 1024 so that strided layers divide them as they divide real image sizes.
pub const OPEN_SIZE_PROBES: [usize; 2] = [3072, 5120];

impl Graph {
    /// Whether an input leaves a size open.
    pub fn has_open_sizes(&self) -> bool {
        self.inputs.iter().any(|input| !input.open_axes.is_empty())
    }

    /// Gives every open axis the size `OPEN_SIZE_PROBES[probe]`.
    pub fn probe_open_sizes(&mut self, probe: usize) {
        for input in &mut self.inputs {
            if let Some(shape) = &mut input.shape {
                for &axis in &input.open_axes {
                    if let Some(size) = shape.get_mut(axis) {
                        *size = OPEN_SIZE_PROBES[probe];
                    }
                }
            }
        }
    }
}

/// What produces a tensor: a model input, or one call of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Producer {
    Input(usize),
    /// Output `tensor` of call `call` of a node (only a nested model has more than one).
    Call {
        node: usize,
        call: usize,
        tensor: usize,
    },
}

/// A tensor consumed: its producer and where the config names it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub from: Producer,
    pub span: Span,
}

/// The edges of one call: most consume one or two tensors, held inline.
pub type CallEdges = smallvec::SmallVec<[Edge; 2]>;

/// A node's calls: most nodes are called once, held inline (a graph's walks read every node's
/// calls, and a list on the heap per call cost a cache miss each).
pub type Calls = smallvec::SmallVec<[CallEdges; 1]>;

/// A layer or a raw param.
#[derive(Debug)]
pub struct Node {
    /// The full name, block prefixes included (`transformer.h.0.ln_1`).
    pub name: String,
    /// Where the node is declared (a layer's type name, a param's keyword).
    pub span: Span,
    pub op: Op,
    /// Each call's inputs. A layer is called once, or more often when it is shared the Keras way
    /// (one layer applied to several tensors, its weights made once); a param is never called.
    pub calls: Calls,
    pub trainable: bool,
    /// `share: other`: the full name of the node whose weights this one reuses (boxed, as the
    /// rarer parts of a node are: a graph holds 100,000 nodes).
    pub share: Option<Box<Spanned<String>>>,
    /// The vars in scope (with `i` inside a repeated block), for initializer arguments.
    pub variables: Arc<Variables>,
}

#[derive(Debug)]
pub enum Op {
    Layer(LayerOp),
    Param(Box<ParamOp>),
    /// A model used as a layer (a Keras `Sequential` or `Functional` inside another).
    Model(ModelOp),
}

/// A nested model: its own graph, whose inputs each call feeds and whose outputs it returns.
#[derive(Debug)]
pub struct ModelOp {
    pub graph: Box<Graph>,
    /// `Sequential` or `Functional`.
    pub class_name: &'static str,
    /// Keras prefixes a nested `Sequential`'s weight paths with its name
    /// (`inner/dense/kernel`), not a nested `Functional`'s (`dense/kernel`).
    pub prefixes_weights: bool,
}

/// A layer with its arguments parsed, waiting for its input shapes.
#[derive(Debug)]
pub struct LayerOp {
    pub layer_type: &'static LayerType,
    pub layer: Arc<dyn Layer>,
    pub expected_input: Option<Box<Spanned<ExpectedInput>>>,
    /// The `activation:` as written (the layer checks it); `None` when not given or null. Boxed,
    /// as the other rare parts are: a node is 32 bytes smaller.
    pub activation: Option<Box<Spanned<String>>>,
    /// Initializers the config gives, by layer argument (`kernel_initializer`).
    pub initializers: Vec<(&'static str, InitCall)>,
}

/// `param`: one raw tensor with an explicit shape, for what no layer type describes.
#[derive(Debug)]
pub struct ParamOp {
    /// Where the name is written.
    pub name_span: Span,
    pub shape: Vec<usize>,
    /// `None` for a param that shares another's tensor.
    pub initializer: Option<InitCall>,
    /// Overrides of what the shape implies.
    pub fan_in: Option<f64>,
    pub fan_out: Option<f64>,
    /// `padding_idx:`: the row (index along the first axis) set to zero after the initializer,
    /// as torch's `nn.Embedding(padding_idx=…)` does.
    pub padding_idx: Option<usize>,
}

/// The input shape a layer states it expects (`input_dim`, `input_shape`).
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectedInput {
    /// The last axis has this size.
    LastDim(usize),
    /// The whole per-example shape.
    Shape(Vec<usize>),
}

impl Node {
    /// Keras's class name: `Dense`, …, `Sequential` for a nested model, or `Param`.
    pub fn class_name(&self) -> &'static str {
        match &self.op {
            Op::Layer(layer) => layer.layer_type.class_name,
            Op::Param(_) => "Param",
            Op::Model(model) => model.class_name,
        }
    }

    /// How many tensors each call returns: a nested model's outputs, a layer's (several for an
    /// RNN with `return_state`), one for a param.
    pub fn output_count(&self) -> usize {
        match &self.op {
            Op::Layer(layer) => layer.layer.output_count(),
            Op::Model(model) => model.graph.outputs.len(),
            Op::Param(_) => 1,
        }
    }
}

/// A name made of `parts` (`h.3.` and `dense`; `h.3.dense` and `kernel`), in one allocation of
/// its length (`concat` of a slice of parts was a tenth of a graph's plan).
pub fn joined_name(parts: &[&str]) -> String {
    let mut name = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        name.push_str(part);
    }
    name
}

impl Graph {
    /// The name of what produces a tensor, as Keras's summary shows it: `dense[0][0]`.
    pub fn producer_text(&self, producer: Producer) -> String {
        // Built by hand rather than with `format!`: a graph's summary makes one per edge.
        let (name, call, tensor) = match producer {
            Producer::Input(index) => (&self.inputs[index].name, 0, 0),
            Producer::Call { node, call, tensor } => (&self.nodes[node].name, call, tensor),
        };
        let mut text = String::with_capacity(name.len() + 8);
        text.push_str(name);
        text.push('[');
        text.push_str(itoa::Buffer::new().format(call));
        text.push_str("][");
        text.push_str(itoa::Buffer::new().format(tensor));
        text.push(']');
        text
    }

    /// The name of what produces a tensor, for messages: `dense_1`, or `dense_1 (call 2)`.
    pub fn producer_name(&self, producer: Producer) -> String {
        match producer {
            Producer::Input(index) => format!("input `{}`", self.inputs[index].name),
            Producer::Call { node, call: 0, tensor: 0 } => format!("`{}`", self.nodes[node].name),
            Producer::Call { node, call, tensor: 0 } => format!("`{}` (call {})", self.nodes[node].name, call + 1),
            Producer::Call { node, call, tensor } => {
                format!("output {} of `{}` (call {})", tensor + 1, self.nodes[node].name, call + 1)
            }
        }
    }

    /// The calls in an order where every call comes after the calls it consumes; declaration
    /// order where the graph leaves a choice. A cycle is an error naming its members.
    pub fn schedule(&self) -> Result<Vec<(usize, usize)>, Cycle> {
        order::schedule(self)
    }

    /// The cycle [`Graph::schedule`] would report, without making the order when there is none.
    pub fn find_cycle(&self) -> Result<(), Cycle> {
        order::find_cycle(self)
    }
}
