//! Lowers the item tree into the graph IR. Every layer becomes a node whose calls name the tensors
//! they consume: by default the previous entry's output (so a `layers:` list is a chain), or what
//! `inputs:` or Keras's `inbound_nodes` names; a residual block becomes an explicit `add` node.
//! Names are looked up after every entry is known, so an entry may name a later one; a cycle, an
//! unknown name or an unused input is reported here.

use super::inbound::KerasTensor;
use super::name_table::{Found, NameTable};
use super::{BlockItems, Consumes, Item, OutputRef, ResolvedBlock, ResolvedModel, copy_item, cycle_text};
use crate::args::Spanned;
use crate::config::list;
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::graph::{CallEdges, Calls, Edge, Graph, Input, LayerOp, ModelOp, Node, Op, ParamOp, Producer, Variables};
use crate::layers;
use crate::source::Span;
// Keys are names of the model: a fast hasher, since a model may have 100,000 nodes.
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

/// A tensor an entry consumes when it names nothing itself.
#[derive(Clone, Debug)]
enum Feed {
    /// A tensor already known.
    Known(Producer, Span),
    /// A name, looked up in `scope` (a block prefix such as `enc.`) once every entry is known.
    Named(Spanned<String>, String),
}

/// What a full name stands for.
#[derive(Clone, Debug)]
enum Target {
    /// A layer's (first call's) output, or a block's output.
    Tensors(Vec<Feed>),
    /// One tensor: [`Target::Tensors`] of one, without a `Vec` (a graph has 100,000 layers).
    Tensor(Feed),
    /// A param: it holds a tensor but produces nothing to consume.
    Param(Span),
}

impl Target {
    /// The tensors it gives; none for a param.
    fn feeds(&self) -> &[Feed] {
        match self {
            Target::Tensors(feeds) => feeds,
            Target::Tensor(feed) => std::slice::from_ref(feed),
            Target::Param(_) => &[],
        }
    }
}

/// A layer entry ready to become a node.
struct LayerNode {
    /// The full name.
    name: String,
    span: Span,
    op: LayerOp,
    consumes: Consumes,
    trainable: bool,
    share: Option<Box<Spanned<String>>>,
    variables: Arc<Variables>,
}

/// An edge whose producer is known only once every name is.
struct Pending {
    node: usize,
    call: usize,
    slot: usize,
    reference: Reference,
}

enum Reference {
    Feed(Feed),
    Keras(KerasTensor),
}

struct Lowering {
    nodes: Vec<Node>,
    names: NameTable<Target>,
    inputs: HashMap<String, usize>,
    pending: Vec<Pending>,
    diagnostics: Diagnostics,
    /// The vars of every residual `add`, which has no initializer arguments: one shared table.
    no_variables: Arc<Variables>,
    /// The layer of every residual `add`.
    residual_add: Arc<dyn layers::Layer>,
}

/// The fresh memory a node takes in lowering, inference and the plan, about (a `lint` of a graph
/// of 100,000 nodes grows by about 95 MB from here; faulting in more than is used costs the
/// other core's time and the process's exit).
const PREFAULT_PER_NODE: usize = 950;

/// A placeholder until the pending edge is resolved.
const UNRESOLVED: Producer = Producer::Input(usize::MAX);

/// The graph of a resolved model, or the diagnostics that keep it from being one.
pub fn lower(model: ResolvedModel) -> (Option<Graph>, Diagnostics) {
    let inputs: Vec<Input> = model
        .inputs
        .into_iter()
        .map(|input| Input {
            name: input.name,
            shape: input.shape,
            open_axes: input.open_axes,
            dtype: input.dtype,
            span: input.span,
        })
        .collect();
    // Sized up front: a graph has 100,000 nodes, and growing moves every node again.
    let (nodes, names, residual_adds) = node_and_name_counts(&model.items);
    let nodes_list = Vec::with_capacity(nodes);
    // What lowering, inferring and planning a graph write, about, faulted in on another core:
    // first the list of nodes, filled from here on.
    crate::heap::prefault_list_first(&nodes_list, nodes.saturating_mul(PREFAULT_PER_NODE));
    let mut lowering = Lowering {
        nodes: nodes_list,
        names: NameTable::with_capacity(names, residual_adds),
        inputs: inputs.iter().enumerate().map(|(index, input)| (input.name.clone(), index)).collect(),
        pending: Vec::new(),
        diagnostics: Vec::new(),
        no_variables: Arc::default(),
        residual_add: layers::residual_add(),
    };
    let feed = match inputs.as_slice() {
        [only] => vec![Feed::Known(Producer::Input(0), only.span)],
        _ => Vec::new(),
    };
    let last = lowering.items(model.items, "", feed);
    let outputs: Vec<Edge> = match model.outputs {
        Some(references) => references
            .into_iter()
            .filter_map(|reference| {
                let reference = match reference {
                    OutputRef::Named(name) => Reference::Feed(Feed::Named(name, String::new())),
                    OutputRef::Keras(tensor) => Reference::Keras(tensor),
                };
                let span = reference_span(&reference);
                lowering.resolve(&reference).map(|from| Edge { from, span })
            })
            .collect(),
        None => last.iter().filter_map(|feed| lowering.feed_edge(feed)).collect(),
    };
    lowering.resolve_pending();
    let Lowering { nodes, diagnostics, names, .. } = lowering;
    // Dropping a graph's names (a block's name and target are one block each) was a twentieth
    // of its lowering.
    crate::release(names, nodes.len());
    let mut diagnostics = diagnostics;
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    let mut graph = Graph {
        name: model.name,
        seed: model.seed,
        rng: model.rng,
        inputs,
        nodes,
        outputs,
        functional: model.declared_inputs,
    };
    if let Err(cycle) = graph.find_cycle() {
        let names: Vec<&str> = cycle.calls.iter().map(|&(node, _)| graph.nodes[node].name.as_str()).collect();
        let (text, shown) = cycle_text(&names, "entries");
        let mut diagnostic = Diagnostic::error(Code::GraphCycle, format!("{text} consume each other in a cycle"))
            .at_labelled(graph.nodes[cycle.calls[0].0].span, "the cycle starts here")
            .with_help("let one of these entries consume a model input or an entry outside the cycle");
        for &at in shown.iter().skip(1) {
            let node = &graph.nodes[cycle.calls[at].0];
            diagnostic = diagnostic.with_note_at(node.span, format!("`{}` is in the cycle", node.name));
        }
        diagnostics.push(diagnostic);
        return (None, diagnostics);
    }
    let counts = ConsumerCounts::of(&graph);
    diagnostics.extend(unconsumed(&graph, &counts, model.declared_inputs));
    graph.functional = model.declared_inputs || !is_chain(&graph, &counts);
    (Some(graph), diagnostics)
}

impl Lowering {
    /// Lowers a list of entries, each consuming the previous one's output by default; returns the
    /// list's output.
    fn items(&mut self, items: impl IntoIterator<Item = Item>, prefix: &str, mut previous: Vec<Feed>) -> Vec<Feed> {
        for item in items {
            match item {
                Item::Param(param) => {
                    let param = *param;
                    let name = crate::graph::joined_name(&[prefix, &param.name]);
                    self.push_node(Node {
                        name,
                        span: param.span,
                        op: Op::Param(Box::new(ParamOp {
                            name_span: param.name_span,
                            shape: param.shape,
                            initializer: param.initializer,
                            fan_in: param.fan_in,
                            fan_out: param.fan_out,
                            padding_idx: param.padding_idx,
                        })),
                        calls: Calls::new(),
                        trainable: param.trainable,
                        share: param.share.map(Box::new),
                        variables: param.variables,
                    });
                }
                Item::Layer(layer) => {
                    let layer = *layer;
                    let node = LayerNode {
                        name: crate::graph::joined_name(&[prefix, &layer.name]),
                        span: layer.span,
                        op: LayerOp {
                            layer_type: layer.layer_type,
                            layer: layer.layer,
                            expected_input: layer.expected_input.map(Box::new),
                            activation: layer.activation.map(Box::new),
                            initializers: layer.initializers,
                        },
                        consumes: layer.consumes,
                        trainable: layer.trainable,
                        share: layer.share.map(Box::new),
                        variables: layer.variables,
                    };
                    self.layer(node, prefix, &mut previous);
                }
                Item::Nested(nested) => {
                    let index = self.nodes.len();
                    let name = format!("{prefix}{}", nested.name);
                    let references = self.references(nested.consumes, &name, nested.span, prefix, &previous);
                    let calls = self.edges(index, references);
                    let known = Feed::Known(Producer::Call { node: index, call: 0, tensor: 0 }, nested.span);
                    self.push_node(Node {
                        name,
                        span: nested.span,
                        op: Op::Model(ModelOp {
                            graph: Box::new(nested.graph),
                            class_name: nested.class_name,
                            prefixes_weights: nested.class_name == "Sequential",
                        }),
                        calls,
                        trainable: nested.trainable,
                        share: None,
                        variables: nested.variables,
                    });
                    previous = vec![known];
                }
                Item::Block(block) => previous = self.block(block, prefix, previous),
                Item::Copies(run) => {
                    for copy in run.copies.clone() {
                        previous = self.block(run.block(copy), prefix, previous);
                    }
                }
            }
        }
        previous
    }

    /// Adds a block's nodes, its input `previous` unless it names what it consumes; returns its
    /// output.
    fn block(&mut self, block: ResolvedBlock, prefix: &str, mut previous: Vec<Feed>) -> Vec<Feed> {
        // The block's entries are prefixed with `<name>.`; the name is that without
        // its last character.
        let mut inner = String::with_capacity(prefix.len() + block.name.len() + 1);
        for part in [prefix, &block.name, "."] {
            inner.push_str(part);
        }
        // `previous` is the block's output from here on.
        let feed = match block.consumes {
            Some(names) => names.into_iter().map(|name| Feed::Named(name, prefix.to_string())).collect(),
            None => std::mem::take(&mut previous),
        };
        // Only a residual block needs its input again after its entries.
        let output = match block.residual {
            true => {
                let output = self.block_items(block.items, &inner, feed.clone());
                self.residual_add(&inner[..inner.len() - 1], block.span, feed, output)
            }
            false => self.block_items(block.items, &inner, feed),
        };
        let mut name = inner;
        name.pop();
        let target = match output.as_slice() {
            [one] => Target::Tensor(one.clone()),
            _ => Target::Tensors(output.clone()),
        };
        self.names.insert(name, target, |node| self.nodes[node].name.as_str());
        output
    }

    /// Adds a layer's node, consuming `previous` unless it names what it consumes, and sets
    /// `previous` to its outputs.
    fn layer(&mut self, layer: LayerNode, prefix: &str, previous: &mut Vec<Feed>) {
        let index = self.nodes.len();
        let calls = match (&layer.consumes, known_edges(previous.iter())) {
            // A chain's usual case: nothing waits for a name.
            (Consumes::Previous, Some(edges)) if !previous.is_empty() => smallvec::smallvec![edges],
            _ => {
                let references = self.references(layer.consumes, &layer.name, layer.span, prefix, previous);
                self.edges(index, references)
            }
        };
        let span = layer.span;
        self.push_node(Node {
            name: layer.name,
            span,
            op: Op::Layer(layer.op),
            calls,
            trainable: layer.trainable,
            share: layer.share,
            variables: layer.variables,
        });
        // A layer that returns several tensors passes them all on, as a list is passed in a
        // Keras Sequential: a merge layer takes them, others refuse.
        let outputs = self.nodes[index].output_count();
        // The list reused: a graph has 100,000 layers.
        previous.clear();
        previous.extend((0..outputs).map(|tensor| Feed::Known(Producer::Call { node: index, call: 0, tensor }, span)));
    }

    /// [`Lowering::items`] of a block's entries. A copy's layers are lowered from the shared
    /// entries with the copy's vars, without copying the entries first (a block may be repeated
    /// 50,000 times); its other entries are copied, then lowered.
    fn block_items(&mut self, items: BlockItems, prefix: &str, mut previous: Vec<Feed>) -> Vec<Feed> {
        let (items, from, to) = match items {
            BlockItems::Resolved(items) => return self.items(items, prefix, previous),
            BlockItems::Copied { items, from, to } => (items, from, to),
        };
        for item in items.iter() {
            match item {
                Item::Layer(layer) => {
                    let node = LayerNode {
                        name: crate::graph::joined_name(&[prefix, &layer.name]),
                        span: layer.span,
                        op: LayerOp {
                            layer_type: layer.layer_type,
                            layer: layer.layer.clone(),
                            expected_input: layer.expected_input.clone().map(Box::new),
                            activation: layer.activation.clone().map(Box::new),
                            initializers: layer.initializers.clone(),
                        },
                        consumes: layer.consumes.clone(),
                        trainable: layer.trainable,
                        share: layer.share.clone().map(Box::new),
                        variables: if Arc::ptr_eq(&layer.variables, &from) {
                            to.clone()
                        } else {
                            layer.variables.clone()
                        },
                    };
                    self.layer(node, prefix, &mut previous);
                }
                other => {
                    if let Some(item) = copy_item(other, &from, &to) {
                        previous = self.items([item], prefix, previous);
                    }
                }
            }
        }
        previous
    }

    /// What each call of an entry consumes, as references.
    fn references(
        &mut self,
        consumes: Consumes,
        name: &str,
        span: Span,
        prefix: &str,
        previous: &[Feed],
    ) -> Vec<Vec<Reference>> {
        match consumes {
            Consumes::Previous => {
                if previous.is_empty() {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::UnknownInput,
                            format!("layer `{name}` does not say what it consumes, and the model has several inputs"),
                        )
                        .at(span)
                        .with_help("name what it consumes, e.g. `inputs: [features]`"),
                    );
                }
                vec![previous.iter().cloned().map(Reference::Feed).collect()]
            }
            Consumes::Named(names) => {
                vec![names.into_iter().map(|name| Reference::Feed(Feed::Named(name, prefix.to_string()))).collect()]
            }
            Consumes::Calls(calls) => calls
                .into_iter()
                .map(|names| {
                    names.into_iter().map(|name| Reference::Feed(Feed::Named(name, prefix.to_string()))).collect()
                })
                .collect(),
            Consumes::Keras(calls) => {
                calls.into_iter().map(|call| call.into_iter().map(Reference::Keras).collect()).collect()
            }
        }
    }

    /// A residual block's `add`: its input plus its output.
    fn residual_add(&mut self, block: &str, span: Span, input: Vec<Feed>, mut output: Vec<Feed>) -> Vec<Feed> {
        let index = self.nodes.len();
        let mut name = String::with_capacity(block.len() + 4);
        name.push_str(block);
        name.push_str(".add");
        let mut count = 0;
        while self.names.contains(&name, |node| self.nodes[node].name.as_str()) {
            count += 1;
            name = format!("{block}.add_{count}");
        }
        let calls = match known_edges(input.iter().chain(&output)) {
            Some(edges) => smallvec::smallvec![edges],
            None => {
                let references = input.into_iter().chain(output.drain(..)).map(Reference::Feed).collect();
                self.edges(index, vec![references])
            }
        };
        self.push_node(Node {
            name,
            span,
            op: Op::Layer(LayerOp {
                layer_type: layers::RESIDUAL_ADD_TYPE,
                layer: self.residual_add.clone(),
                expected_input: None,
                activation: None,
                initializers: Vec::new(),
            }),
            calls,
            trainable: true,
            share: None,
            variables: self.no_variables.clone(),
        });
        // The list reused: a graph has 50,000 residual blocks.
        output.clear();
        output.push(Feed::Known(Producer::Call { node: index, call: 0, tensor: 0 }, span));
        output
    }

    /// Adds a node, its name standing for it.
    fn push_node(&mut self, node: Node) {
        self.nodes.push(node);
        let index = self.nodes.len() - 1;
        let nodes = &self.nodes;
        self.names.insert_node(index, &nodes[index].name, |node| nodes[node].name.as_str());
    }

    /// What a full name stands for: a node's first output (a param holds a tensor but gives
    /// none), or a block's output.
    fn target(&mut self, name: &str) -> Option<Target> {
        let nodes = &self.nodes;
        match self.names.get(name, |node| nodes[node].name.as_str())? {
            Found::Value(target) => Some(target.clone()),
            Found::Node(node) => Some(match nodes[node].op {
                Op::Param(_) => Target::Param(nodes[node].span),
                Op::Layer(_) | Op::Model(_) => {
                    Target::Tensor(Feed::Known(Producer::Call { node, call: 0, tensor: 0 }, nodes[node].span))
                }
            }),
        }
    }

    /// Each call's edges: known producers now, names once every entry is known.
    fn edges(&mut self, node: usize, calls: Vec<Vec<Reference>>) -> Calls {
        let mut edges = Calls::with_capacity(calls.len());
        for (call, references) in calls.into_iter().enumerate() {
            let mut call_edges = CallEdges::with_capacity(references.len());
            for (slot, reference) in references.into_iter().enumerate() {
                let span = reference_span(&reference);
                match reference {
                    Reference::Feed(Feed::Known(from, _)) => call_edges.push(Edge { from, span }),
                    reference => {
                        call_edges.push(Edge { from: UNRESOLVED, span });
                        self.pending.push(Pending { node, call, slot, reference });
                    }
                }
            }
            edges.push(call_edges);
        }
        edges
    }

    fn resolve_pending(&mut self) {
        for pending in std::mem::take(&mut self.pending) {
            if let Some(from) = self.resolve(&pending.reference) {
                self.nodes[pending.node].calls[pending.call][pending.slot].from = from;
            }
        }
    }

    fn feed_edge(&mut self, feed: &Feed) -> Option<Edge> {
        let span = match feed {
            Feed::Known(_, span) => *span,
            Feed::Named(name, _) => name.span,
        };
        self.resolve(&Reference::Feed(feed.clone())).map(|from| Edge { from, span })
    }

    /// The producer a reference names, or `None` after reporting why there is none.
    fn resolve(&mut self, reference: &Reference) -> Option<Producer> {
        match reference {
            Reference::Feed(feed) => self.resolve_feed(feed, 0),
            Reference::Keras(tensor) => self.resolve_keras(tensor),
        }
    }

    fn resolve_feed(&mut self, feed: &Feed, depth: usize) -> Option<Producer> {
        let (name, scope) = match feed {
            Feed::Known(producer, _) => return Some(*producer),
            Feed::Named(name, scope) => (name, scope),
        };
        // `encoder[1]`: call 1 of `encoder`; `model[0][1]`: its output 1.
        if let Some((base, call, tensor)) = indexed(&name.value) {
            let base = Feed::Named(Spanned { value: base.to_string(), span: name.span }, scope.clone());
            let producer = self.resolve_feed(&base, depth + 1)?;
            return self.indexed_producer(producer, call, tensor, name);
        }
        // The innermost scope first: `enc.dense` inside `enc`, then `dense` outside.
        let mut candidates = Vec::new();
        let mut prefix = scope.as_str();
        loop {
            candidates.push(format!("{prefix}{}", name.value));
            if prefix.is_empty() {
                break;
            }
            let trimmed = &prefix[..prefix.len() - 1];
            prefix = trimmed.rfind('.').map_or("", |dot| &prefix[..=dot]);
        }
        let target = candidates.iter().find_map(|candidate| self.target(candidate));
        match target {
            Some(target @ (Target::Tensor(_) | Target::Tensors(_))) => match target.feeds() {
                [only] if depth < 64 => {
                    let only = only.clone();
                    self.resolve_feed(&only, depth + 1)
                }
                _ => {
                    self.diagnostics.push(
                        Diagnostic::error(Code::UnknownInput, format!("`{}` does not give one tensor", name.value))
                            .at(name.span)
                            .with_help("name one of its entries instead (`block.layer`)"),
                    );
                    None
                }
            },
            Some(Target::Param(span)) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownInput,
                        format!("`{}` is a param: it produces nothing to consume", name.value),
                    )
                    .at(name.span)
                    .with_note_at(span, "the param is declared here")
                    .with_help("name an input, a layer or a block"),
                );
                None
            }
            None => match self.inputs.get(&name.value) {
                Some(&index) => Some(Producer::Input(index)),
                None => {
                    let unknown = self.unknown(&name.value, name.span);
                    self.diagnostics.push(unknown);
                    None
                }
            },
        }
    }

    /// Call `call`'s output `tensor` of what `producer` names (its first call's first output).
    fn indexed_producer(
        &mut self,
        producer: Producer,
        call: usize,
        tensor: usize,
        name: &Spanned<String>,
    ) -> Option<Producer> {
        let (calls, outputs) = match producer {
            Producer::Input(_) => (1, 1),
            Producer::Call { node, .. } => (self.nodes[node].calls.len(), self.nodes[node].output_count()),
        };
        if call >= calls || tensor >= outputs {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::UnknownInput,
                    format!("`{}` names call {call}, output {tensor}, of something called {calls} time(s) with {outputs} output(s)", name.value),
                )
                .at(name.span)
                .with_help("count calls and outputs from 0: `encoder[1]` is the second call of `encoder`"),
            );
            return None;
        }
        Some(match producer {
            Producer::Call { node, .. } => Producer::Call { node, call, tensor },
            input => input,
        })
    }

    fn resolve_keras(&mut self, tensor: &KerasTensor) -> Option<Producer> {
        if let Some(&index) = self.inputs.get(&tensor.layer) {
            return Some(Producer::Input(index));
        }
        let node = match self.target(&tensor.layer).as_ref().map(Target::feeds) {
            Some([Feed::Known(Producer::Call { node, .. }, _)]) => Some(*node),
            _ => None,
        };
        match node {
            Some(node) if tensor.node < self.nodes[node].calls.len() => {
                let outputs = self.nodes[node].output_count();
                if tensor.tensor >= outputs {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::UnknownInput,
                            format!(
                                "`{}` has {outputs} output(s), but its output {} is consumed",
                                tensor.layer, tensor.tensor
                            ),
                        )
                        .at(tensor.span)
                        .with_help(
                            "the tensor index counts the layer's outputs, from 0; check the `keras_history` entry",
                        ),
                    );
                    return None;
                }
                Some(Producer::Call { node, call: tensor.node, tensor: tensor.tensor })
            }
            Some(node) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownInput,
                        format!(
                            "`{}` is called {} time(s), but its call {} is consumed",
                            tensor.layer,
                            self.nodes[node].calls.len(),
                            tensor.node
                        ),
                    )
                    .at(tensor.span)
                    .with_help("the node index counts the layer's `inbound_nodes`, from 0"),
                );
                None
            }
            None => {
                let unknown = self.unknown(&tensor.layer, tensor.span);
                self.diagnostics.push(unknown);
                None
            }
        }
    }

    fn unknown(&mut self, name: &str, span: Span) -> Diagnostic {
        let diagnostic = Diagnostic::error(Code::UnknownInput, format!("no input, layer or block named `{name}`"))
            .at_labelled(span, "named here");
        let nodes = &self.nodes;
        let names = self.names.names(|node| nodes[node].name.as_str());
        let known: Vec<&str> = self.inputs.keys().map(String::as_str).chain(names).collect();
        match did_you_mean(name, known.iter().copied()) {
            Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
            None if self.inputs.is_empty() => {
                diagnostic.with_help("name a layer or block, as `initc summary` shows it")
            }
            None => {
                let mut inputs: Vec<&str> = self.inputs.keys().map(String::as_str).collect();
                inputs.sort_unstable();
                diagnostic.with_help(format!(
                    "the model's inputs are {}; layers are named as `initc summary` shows them",
                    list(&inputs)
                ))
            }
        }
    }
}

/// `name[k]` or `name[k][t]`: the name, the call and the output index.
fn indexed(text: &str) -> Option<(&str, usize, usize)> {
    fn strip(text: &str) -> Option<(&str, usize)> {
        let open = text.strip_suffix(']')?.rfind('[')?;
        let digits = &text[open + 1..text.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((&text[..open], digits.parse().ok()?))
    }
    let (rest, last) = strip(text)?;
    match strip(rest) {
        Some((base, call)) if !base.is_empty() => Some((base, call, last)),
        _ if !rest.is_empty() => Some((rest, last, 0)),
        _ => None,
    }
}

/// How many nodes the items lower to (each layer and param, and each residual block's `add`),
/// how many names they have, and how many of the nodes are residual `add`s.
fn node_and_name_counts(items: &[Item]) -> (usize, usize, usize) {
    let (nodes, blocks, adds) = counts_of(items);
    // Every node and every block has a name.
    (nodes, nodes + blocks, adds)
}

/// The nodes, blocks and residual `add`s that `items` lower to.
fn counts_of(items: &[Item]) -> (usize, usize, usize) {
    let (mut nodes, mut blocks, mut adds) = (0usize, 0usize, 0usize);
    for item in items {
        let (residual, inner, copies): (bool, &[Item], usize) = match item {
            Item::Layer(_) | Item::Param(_) | Item::Nested(_) => {
                nodes += 1;
                continue;
            }
            Item::Block(block) => (block.residual, block.items.as_slice(), 1),
            Item::Copies(run) => (run.residual, &run.items, run.copies.len()),
        };
        let (inner_nodes, inner_blocks, inner_adds) = counts_of(inner);
        let residual = usize::from(residual);
        nodes = nodes.saturating_add(copies.saturating_mul(inner_nodes + residual));
        blocks = blocks.saturating_add(copies.saturating_mul(inner_blocks + 1));
        adds = adds.saturating_add(copies.saturating_mul(inner_adds + residual));
    }
    (nodes, blocks, adds)
}

/// The edges of feeds whose producers are all known already.
fn known_edges<'f>(feeds: impl IntoIterator<Item = &'f Feed>) -> Option<CallEdges> {
    // A loop: collecting `Option`s into a `SmallVec` was a tenth of a residual block's lowering.
    let mut edges = CallEdges::new();
    for feed in feeds {
        edges.push(known_edge(feed)?);
    }
    Some(edges)
}

/// The edge of a feed whose producer is known already.
fn known_edge(feed: &Feed) -> Option<Edge> {
    match feed {
        Feed::Known(from, span) => Some(Edge { from: *from, span: *span }),
        Feed::Named(..) => None,
    }
}

fn reference_span(reference: &Reference) -> Span {
    match reference {
        Reference::Feed(Feed::Known(_, span)) => *span,
        Reference::Feed(Feed::Named(name, _)) => name.span,
        Reference::Keras(tensor) => tensor.span,
    }
}

/// Each producer's number of consumers (edges and outputs), in tables indexed by input and node
/// (a graph has 100,000 nodes; a map keyed by producer was a few percent of a summary).
struct ConsumerCounts {
    inputs: Vec<usize>,
    /// Per call, the calls of each node one after another: consumers of any of the call's outputs.
    calls: Vec<u32>,
    /// Where each node's calls start in `calls`, and the end of the last.
    first_call: Vec<u32>,
    /// Per node: consumers of its first call's first output, the only output in a chain.
    first_outputs: Vec<u32>,
    /// Consumers of every other output (a later call's, or a nested model's second).
    other_outputs: HashMap<Producer, usize>,
}

impl ConsumerCounts {
    fn of(graph: &Graph) -> ConsumerCounts {
        let mut first_call = Vec::with_capacity(graph.nodes.len() + 1);
        let mut total = 0u32;
        for node in &graph.nodes {
            first_call.push(total);
            // A config resolves to at most `MAX_ENTRIES` calls, far below `u32::MAX`.
            total += node.calls.len() as u32;
        }
        first_call.push(total);
        let mut counts = ConsumerCounts {
            inputs: vec![0; graph.inputs.len()],
            calls: vec![0; total as usize],
            first_call,
            first_outputs: vec![0; graph.nodes.len()],
            other_outputs: HashMap::new(),
        };
        let edges = graph.nodes.iter().flat_map(|node| node.calls.iter().flatten()).chain(&graph.outputs);
        for edge in edges {
            match edge.from {
                Producer::Input(index) => counts.inputs[index] += 1,
                Producer::Call { node, call, tensor } => {
                    if let Some(count) = counts.node_calls_mut(node).get_mut(call) {
                        *count += 1;
                    }
                    if call == 0 && tensor == 0 {
                        counts.first_outputs[node] += 1;
                    } else {
                        *counts.other_outputs.entry(edge.from).or_insert(0) += 1;
                    }
                }
            }
        }
        counts
    }

    fn node_calls_mut(&mut self, node: usize) -> &mut [u32] {
        &mut self.calls[self.first_call[node] as usize..self.first_call[node + 1] as usize]
    }

    /// The consumers of each of node `node`'s calls.
    fn node_calls(&self, node: usize) -> &[u32] {
        &self.calls[self.first_call[node] as usize..self.first_call[node + 1] as usize]
    }
}

/// Declared inputs nothing consumes, and layer outputs that go nowhere.
fn unconsumed(graph: &Graph, counts: &ConsumerCounts, declared_inputs: bool) -> Diagnostics {
    let mut diagnostics = Vec::new();
    if declared_inputs {
        for (index, input) in graph.inputs.iter().enumerate() {
            if counts.inputs[index] == 0 {
                diagnostics.push(
                    Diagnostic::warning(Code::UnusedInput, format!("input `{}` is never consumed", input.name))
                        .at(input.span)
                        .with_help("consume it with `inputs:` on an entry, or remove it"),
                );
            }
        }
    }
    for (index, node) in graph.nodes.iter().enumerate() {
        for &consumers in counts.node_calls(index) {
            if consumers == 0 {
                diagnostics.push(
                    Diagnostic::warning(Code::DanglingNode, format!("nothing consumes the output of `{}`", node.name))
                        .at(node.span)
                        .with_help("consume it with `inputs:` on a later entry, add it to `outputs:`, or remove it"),
                );
            }
        }
    }
    diagnostics
}

/// A straight stack: every layer called once on one tensor, every tensor consumed once, one output.
fn is_chain(graph: &Graph, counts: &ConsumerCounts) -> bool {
    let single_calls = graph.nodes.iter().all(|node| match &node.op {
        Op::Layer(_) | Op::Model(_) => node.calls.len() == 1 && node.calls[0].len() == 1,
        Op::Param(_) => true,
    });
    single_calls
        && graph.outputs.len() == 1
        && counts.inputs.iter().all(|&count| count <= 1)
        && counts.first_outputs.iter().all(|&count| count <= 1)
        && counts.other_outputs.values().all(|&count| count == 1)
}
