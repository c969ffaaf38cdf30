//! Name resolution: vars, layer entries to layer types with parsed arguments, params and
//! blocks (with `repeat` copies), layer names (Keras auto-naming), initializer references to
//! built-in families, the model's seed and input shape.

mod catalogue;
mod inbound;
mod initializer;
mod lower;
mod name_table;
mod vars;

pub use crate::args::{
    ArgKind, Args, ArgumentInfo, INERT_ARGUMENTS, Lookup, MAX_SIZE, Recorder, Spanned, eval_count, eval_number,
    eval_value,
};
pub use crate::graph::{ExpectedInput, Variables};
pub use crate::initializers::{
    ArgExpr, FAMILIES, Family, FamilyDef, InitCall, KERAS_INITIALIZER_KEYS, Param, ParamKind, find_family,
};
pub use catalogue::{block_arguments, layer_arguments, param_arguments};
pub use vars::RESERVED;

use crate::config::{ModelConfig, Node, Value, list, span_in_string};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::layers::{self, COMMON_ARGUMENTS, Layer, LayerType};
use crate::source::{SourceFile, Span};
use initializer::CustomInitializers;
use std::cell::Cell;
// Keys are names of the model: a fast hasher, since a model may have 100,000 nodes.
use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

/// The most layer, param and block entries one config resolves to, `repeat:` copies included.
/// Past it, resolving stops with one diagnostic instead of exhausting memory.
pub const MAX_ENTRIES: usize = 100_000;

/// The most text (string bytes and nodes) the layer and param entries of one config may hold,
/// every `repeat:` copy and every use of a custom initializer counted. Each copy parses and
/// evaluates its expressions again (they may use `i`), so without it a block of a few
/// megabytes repeated 100,000 times would take hours; a real model stays far below.
pub const MAX_TEXT: usize = 4 << 20;

/// What the command line adds to or overrides in the config.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    /// `--rng`, over the config's `rng:`.
    pub rng: Option<crate::tensor::Rng>,
    pub input: Option<Vec<usize>>,
    /// `--set NAME=EXPR`, in order.
    pub sets: Vec<(String, String)>,
    /// The keys of a `--vars` file or a Hugging Face config.json, applied before `sets`.
    pub vars: Vec<crate::config::FileVar>,
    /// The names and layouts tensors are written in (`--layout`).
    pub layout: crate::tensor::Layout,
    /// The element type of every (floating-point) tensor (`--dtype`).
    pub dtype: crate::tensor::DType,
}

/// What an entry consumes.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Consumes {
    /// The previous entry's output; the first entry of a list, what its block or model feeds it.
    #[default]
    Previous,
    /// `inputs: [a, b]`: names in scope.
    Named(Vec<Spanned<String>>),
    /// `calls: [a, b]`: a layer called once per item (Keras's shared layer), each call consuming
    /// what its item names.
    Calls(Vec<Vec<Spanned<String>>>),
    /// A Keras layer's `inbound_nodes`: each call's tensors.
    Keras(Vec<Vec<inbound::KerasTensor>>),
}

/// A named model input (`inputs:`, or the one `input:` gives).
#[derive(Debug)]
pub struct ResolvedInput {
    pub name: String,
    pub shape: Option<Vec<usize>>,
    /// Axes given as `null`: any size (see [`crate::graph::OPEN_SIZE_PROBES`]).
    pub open_axes: Vec<usize>,
    pub dtype: String,
    pub span: Span,
}

/// A reference in `outputs:`.
#[derive(Clone, Debug)]
pub enum OutputRef {
    Named(Spanned<String>),
    Keras(inbound::KerasTensor),
}

#[derive(Clone, Debug)]
pub struct ResolvedLayer {
    /// The name within its block (`dense_1`, `c_attn`).
    pub name: String,
    pub layer_type: &'static LayerType,
    /// Shared by every copy of a repeated block that resolves to the same layer.
    pub layer: Arc<dyn Layer>,
    /// The layer's type name in the file.
    pub span: Span,
    pub expected_input: Option<Spanned<ExpectedInput>>,
    pub trainable: bool,
    /// The `activation:` as written (the layer checks it); `None` when not given or null.
    pub activation: Option<Spanned<String>>,
    /// Initializers the config gives, by layer argument (`kernel_initializer`).
    pub initializers: Vec<(&'static str, InitCall)>,
    /// `share: other`: the full name of the layer whose weights this one reuses.
    pub share: Option<Spanned<String>>,
    /// The vars in scope (with `i` inside a repeated block), for initializer arguments.
    pub variables: Arc<Variables>,
    pub consumes: Consumes,
}

/// `param`: one raw tensor with an explicit shape, for what no layer type describes.
#[derive(Clone, Debug)]
pub struct ResolvedParam {
    /// The tensor's name within its block (`wpe.weight`).
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    pub span: Span,
    pub shape: Vec<usize>,
    /// `None` for a param that shares another's tensor.
    pub initializer: Option<InitCall>,
    /// Overrides of what the shape implies.
    pub fan_in: Option<f64>,
    pub fan_out: Option<f64>,
    pub padding_idx: Option<usize>,
    pub trainable: bool,
    pub share: Option<Spanned<String>>,
    pub variables: Arc<Variables>,
}

/// `block`: a named group whose tensor names are prefixed with its name.
#[derive(Debug)]
pub struct ResolvedBlock {
    /// The prefix, `{i}` already replaced (`h.3`).
    pub name: String,
    pub span: Span,
    /// Residual style: the block's output shape must equal its input shape, and is passed on.
    pub residual: bool,
    /// `inputs:` of the block: what its first entry consumes.
    pub consumes: Option<Vec<Spanned<String>>>,
    pub items: BlockItems,
}

/// The entries of one block, or of one copy of a repeated block.
#[derive(Debug)]
pub enum BlockItems {
    /// Resolved for this block.
    Resolved(Vec<Item>),
    /// The entries of a repeated block whose copies resolve alike, resolved once for every copy;
    /// this copy's entries read `to` where those read `from`. They hold no nested model.
    Copied { items: Arc<Vec<Item>>, from: Arc<Variables>, to: Arc<Variables> },
}

impl BlockItems {
    pub fn as_slice(&self) -> &[Item] {
        match self {
            BlockItems::Resolved(items) => items,
            BlockItems::Copied { items, .. } => items,
        }
    }
}

/// The copies of a repeated block after its first, when they resolve alike: one item for them
/// all, each copy lowered from the first copy's entries (a block repeated 50,000 times is not
/// resolved, named and scoped 50,000 times over).
#[derive(Debug)]
pub struct RepeatedCopies {
    /// The block's name cut at each `{i}`: a copy's name is these parts joined by its index.
    pub name_parts: Vec<String>,
    pub span: Span,
    pub residual: bool,
    pub consumes: Option<Vec<Spanned<String>>>,
    /// The first copy's entries, which read `from`; they hold no nested model.
    pub items: Arc<Vec<Item>>,
    pub from: Arc<Variables>,
    /// The vars of the scope the block is in; a copy's are these with `i` its index.
    pub scope: Arc<Variables>,
    pub copies: std::ops::Range<usize>,
}

impl RepeatedCopies {
    /// Copy `copy`'s name (`h.3`).
    pub fn name(&self, copy: usize) -> String {
        join_name_parts(&self.name_parts, copy)
    }

    /// Copy `copy` as the block it stands for.
    pub fn block(&self, copy: usize) -> ResolvedBlock {
        ResolvedBlock {
            name: self.name(copy),
            span: self.span,
            residual: self.residual,
            consumes: self.consumes.clone(),
            items: BlockItems::Copied {
                items: self.items.clone(),
                from: self.from.clone(),
                to: self.scope.with("i", copy as f64),
            },
        }
    }
}

/// A Keras model used as a layer: its own graph, lowered already.
#[derive(Debug)]
pub struct ResolvedNested {
    pub name: String,
    /// The class name in the file.
    pub span: Span,
    pub class_name: &'static str,
    pub graph: crate::graph::Graph,
    pub trainable: bool,
    pub consumes: Consumes,
    pub variables: Arc<Variables>,
}

/// One entry of a `layers:` list.
#[derive(Debug)]
pub enum Item {
    /// Boxed, as params are: an item is moved several times, and a model may hold 100,000.
    Layer(Box<ResolvedLayer>),
    Param(Box<ResolvedParam>),
    Block(ResolvedBlock),
    Copies(Box<RepeatedCopies>),
    Nested(Box<ResolvedNested>),
}

#[derive(Debug)]
pub struct ResolvedModel {
    pub name: String,
    pub seed: u64,
    pub rng: crate::tensor::Rng,
    /// The model inputs: those `inputs:` declares, or the one `input:`, `--input` or the first
    /// layer's `input_shape` gives (named `input_layer`, as Keras names it).
    pub inputs: Vec<ResolvedInput>,
    /// Whether `inputs:` declared them (the model is a graph).
    pub declared_inputs: bool,
    /// `outputs:`; `None` means the last entry.
    pub outputs: Option<Vec<OutputRef>>,
    pub items: Vec<Item>,
}

/// Everything resolving a `layers:` list needs besides the list.
struct Context<'a> {
    file: &'a SourceFile,
    customs: CustomInitializers<'a>,
    /// Entries resolved so far, against [`MAX_ENTRIES`].
    entries: Cell<usize>,
    /// The text of the layer and param entries resolved so far, against [`MAX_TEXT`].
    text: Cell<usize>,
    /// Set once [`MAX_TEXT`] is passed (and reported).
    text_exhausted: Cell<bool>,
    /// Where `initc schema` collects what each argument accepts; `None` when compiling.
    recorder: Option<&'a Recorder>,
}

/// The scope a list of items is resolved in.
struct Scope {
    variables: Arc<Variables>,
    /// The copy index of the innermost repeated block, for `{i}`.
    index: Option<usize>,
}

/// Resolves a parsed config. Every problem is reported; the model is returned only when there
/// were none, so later stages never see a half-resolved layer.
pub fn resolve(
    file: &SourceFile,
    config: &ModelConfig,
    overrides: &Overrides,
) -> (Option<crate::graph::Graph>, Diagnostics) {
    let (model, mut diagnostics) = resolve_items_of(file, config, overrides);
    first_use_of_each_missing_value(&mut diagnostics, config, &overrides.vars);
    let Some(model) = model else { return (None, diagnostics) };
    let (graph, found) = lower::lower(model);
    diagnostics.extend(found);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    (graph, diagnostics)
}

/// A var without a value (a key a config.json lacks) is reported where it is first used, not at
/// each of its uses; when vars came from a file (a config.json), the help names that file.
fn first_use_of_each_missing_value(
    diagnostics: &mut Diagnostics,
    config: &ModelConfig,
    files: &[crate::config::FileVar],
) {
    // Each var's "no value" message, to find its diagnostics by (a map: a model may have many).
    let messages: HashMap<String, &str> = config
        .vars
        .iter()
        .filter_map(|(key, _)| key.as_str())
        .map(|name| (crate::dsl::no_value_message(name), name))
        .collect();
    let missing = |d: &Diagnostic| if d.code == Code::UnknownName { messages.get(&d.message).copied() } else { None };
    let mut seen = std::collections::HashSet::new();
    diagnostics.retain(|d| missing(d).is_none_or(|name| seen.insert(name)));
    let Some(file) = files.first().map(|var| var.file.as_str()) else { return };
    for diagnostic in diagnostics.iter_mut() {
        let Some(name) = missing(diagnostic) else { continue };
        let given_null = files.iter().any(|var| var.name == name);
        diagnostic.help = Some(if given_null {
            format!("`{file}` gives `{name}` as null; give it a value there or with `--set {name}=…`")
        } else {
            format!("`{file}` has no key `{name}`, which this template needs: add it there or give `--set {name}=…`")
        });
    }
}

/// The item tree of a config: every entry resolved, not yet connected.
fn resolve_items_of(
    file: &SourceFile,
    config: &ModelConfig,
    overrides: &Overrides,
) -> (Option<ResolvedModel>, Diagnostics) {
    let (variables, mut diagnostics) = vars::evaluate(file, &config.vars, &overrides.vars, &overrides.sets);
    let variables = Arc::new(variables);
    let name = match &config.name {
        None => "sequential".to_string(),
        Some(node) => match node.as_str() {
            Some(text) if !text.is_empty() => text.to_string(),
            found => {
                let found = if found.is_some() { "an empty string" } else { node.kind_name() };
                diagnostics.push(
                    Diagnostic::error(Code::WrongType, format!("`name` must be a non-empty string, found {found}"))
                        .at(node.span)
                        .with_help("write the model's name as text, e.g. `name: my_model`"),
                );
                String::new()
            }
        },
    };
    // The config's own values are checked even when the command line overrides them.
    let config_seed = config.seed.as_ref().and_then(|node| report(&mut diagnostics, seed_value(node)));
    let seed = overrides.seed.or(config_seed).unwrap_or(0);
    let config_rng = config.rng.as_ref().and_then(|node| report(&mut diagnostics, rng_value(node)));
    let rng = overrides.rng.or(config_rng).unwrap_or_default();
    let lookup = |name: &str| variables.value(name);
    for check in &config.checks {
        if let Err(diagnostic) = run_check(file, check, &lookup) {
            diagnostics.push(diagnostic);
        }
    }
    // `--input` replaces `input:` unread: it is how a Keras input with a variable-length axis
    // (`null`) gets a size.
    let mut open_axes = Vec::new();
    let input = match (&overrides.input, &config.input) {
        (Some(shape), _) => {
            // The same bound as `input:` (`eval_count`): one rule wherever a size comes from.
            for &size in shape.iter().filter(|&&size| size as u64 > MAX_SIZE) {
                diagnostics.push(
                    Diagnostic::error(Code::SizeOverflow, format!("a dimension of `--input` is too large: {size}"))
                        .with_help(format!("sizes are at most 2^53 ({MAX_SIZE})")),
                );
            }
            Some(Spanned { value: shape.clone(), span: Span::default() })
        }
        (None, Some(node)) => report(&mut diagnostics, input_shape_value(file, node, &lookup, "input")).map(|shape| {
            open_axes = shape.open_axes;
            Spanned { value: shape.sizes, span: node.span }
        }),
        (None, None) => None,
    };
    let customs = CustomInitializers::new(file, &config.initializers);
    let context = Context {
        file,
        customs,
        entries: Cell::new(0),
        text: Cell::new(0),
        text_exhausted: Cell::new(false),
        recorder: None,
    };
    check_custom_initializers(&config.initializers, &context.customs, &mut diagnostics);
    let scope = Scope { variables: variables.clone(), index: None };
    let items = resolve_items(&context, &config.layers, &scope, &mut diagnostics);
    // Keras 2 style: the first layer's `input_shape` gives the model input.
    let input = input.or_else(|| match items.first()? {
        Item::Layer(layer) => match layer.expected_input.as_ref()? {
            Spanned { value: ExpectedInput::Shape(shape), span } => Some(Spanned { value: shape.clone(), span: *span }),
            Spanned { value: ExpectedInput::LastDim(dim), span } => Some(Spanned { value: vec![*dim], span: *span }),
        },
        _ => None,
    });
    let (inputs, declared_inputs) = match &config.inputs {
        Some(node) => {
            if let Some(input_node) = &config.input {
                diagnostics.push(
                    Diagnostic::error(Code::InvalidValue, "`input:` and `inputs:` are both given")
                        .at(input_node.span)
                        .with_note_at(node.span, "`inputs:` is here")
                        .with_help("name the input under `inputs:` and remove `input:`"),
                );
            }
            let mut inputs = named_inputs(file, node, &lookup, &mut diagnostics);
            if let Some(shape) = &overrides.input {
                match inputs.as_mut_slice() {
                    [only] => {
                        only.shape = Some(shape.clone());
                        only.open_axes.clear();
                    }
                    _ => diagnostics.push(
                        Diagnostic::error(
                            Code::BadCliValue,
                            "`--input` gives one shape, but the model has several inputs",
                        )
                        .at(node.span)
                        .with_help("set each input's shape under `inputs:` (a var and `--set` can size them)"),
                    ),
                }
            }
            (inputs, true)
        }
        None => {
            let span = config.input.as_ref().map_or(Span::default(), |node| node.span);
            let inputs = vec![ResolvedInput {
                name: "input_layer".to_string(),
                shape: input.map(|input| input.value),
                open_axes,
                dtype: "float32".to_string(),
                span,
            }];
            (inputs, false)
        }
    };
    let outputs = config.outputs.as_ref().and_then(|node| report(&mut diagnostics, output_refs(node)));
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    (Some(ResolvedModel { name, seed, rng, inputs, declared_inputs, outputs, items }), diagnostics)
}

/// `inputs: {name: shape, other: {shape: …, dtype: int32}}`.
fn named_inputs(file: &SourceFile, node: &Node, lookup: Lookup, diagnostics: &mut Diagnostics) -> Vec<ResolvedInput> {
    let Some(entries) = node.as_map().filter(|entries| !entries.is_empty()) else {
        diagnostics.push(
            Diagnostic::error(
                Code::WrongType,
                format!(
                    "`inputs` must be a non-empty mapping, found {}",
                    if node.as_map().is_some() { "an empty mapping" } else { node.kind_name() }
                ),
            )
            .at(node.span)
            .with_help(
                "name each input with its shape, e.g. `inputs: {features: [32], tokens: {shape: [128], dtype: int32}}`",
            ),
        );
        return Vec::new();
    };
    let mut inputs = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let Some(name) = key.as_str().filter(|name| !name.is_empty()) else {
            diagnostics.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("an input name must be a non-empty string, found {}", key.kind_name()),
                )
                .at(key.span)
                .with_help("name the input with a word, e.g. `features: [32]`"),
            );
            continue;
        };
        let (shape_node, dtype) = match value.as_map() {
            Some(fields) => {
                let mut shape_node = None;
                let mut dtype = "float32".to_string();
                for (field, field_value) in fields {
                    match field.as_str() {
                        Some("shape") => shape_node = Some(field_value),
                        Some("dtype") => match field_value.as_str() {
                            Some(text) if INPUT_DTYPES.contains(&text) => dtype = text.to_string(),
                            _ => diagnostics.push(
                                Diagnostic::error(Code::InvalidValue, "unknown input dtype")
                                    .at(field_value.span)
                                    .with_help(format!("an input's dtype is one of {}", list(&INPUT_DTYPES))),
                            ),
                        },
                        _ => diagnostics.push(
                            Diagnostic::error(Code::UnknownKey, "unknown key in an input")
                                .at(field.span)
                                .with_help("an input is a shape, or `{shape: [...], dtype: int32}`"),
                        ),
                    }
                }
                (shape_node, dtype)
            }
            None => (Some(value), "float32".to_string()),
        };
        let mut open_axes = Vec::new();
        let shape = match shape_node {
            Some(shape_node) if shape_node.is_null() => None,
            Some(shape_node) => {
                report(diagnostics, input_shape_value(file, shape_node, lookup, "inputs")).map(|shape| {
                    open_axes = shape.open_axes;
                    shape.sizes
                })
            }
            None => {
                diagnostics.push(
                    Diagnostic::error(Code::MissingKey, format!("input `{name}` has no `shape`"))
                        .at(key.span)
                        .with_help("give its per-example shape, e.g. `{shape: [128], dtype: int32}`"),
                );
                None
            }
        };
        inputs.push(ResolvedInput { name: name.to_string(), shape, open_axes, dtype, span: key.span });
    }
    inputs
}

/// The dtypes a model input may have (Keras's names).
const INPUT_DTYPES: [&str; 9] =
    ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "bool"];

/// `outputs: name`, `outputs: [a, b]`, or Keras's `[[layer, node, tensor], …]` (or one triple).
fn output_refs(node: &Node) -> Result<Vec<OutputRef>, Diagnostic> {
    let bad = || {
        Diagnostic::error(
            Code::WrongType,
            format!("`outputs` must be a name or a list of names, found {}", node.kind_name()),
        )
        .at(node.span)
        .with_help("name what the model returns, e.g. `outputs: [classifier, regressor]`")
    };
    let one = |item: &Node| -> Result<OutputRef, Diagnostic> {
        match &item.value {
            Value::Str(text) if !text.is_empty() => {
                Ok(OutputRef::Named(Spanned { value: text.clone(), span: item.span }))
            }
            Value::Seq(_) => inbound::keras_tensor_triple(item).map(OutputRef::Keras),
            _ => {
                Err(Diagnostic::error(Code::WrongType, format!("an output must be a name, found {}", item.kind_name()))
                    .at(item.span)
                    .with_help("name a layer, a block or an input"))
            }
        }
    };
    match &node.value {
        Value::Str(_) => Ok(vec![one(node)?]),
        Value::Seq(items) if items.is_empty() => Err(bad()),
        // One Keras triple: `["dense", 0, 0]`.
        Value::Seq(items) if matches!(items.get(1).map(|n| &n.value), Some(Value::Int(_))) => Ok(vec![one(node)?]),
        Value::Seq(items) => items.iter().map(one).collect(),
        _ => Err(bad()),
    }
}

/// Resolves a list of layer, param and block entries in one naming scope.
fn resolve_items(context: &Context, entries: &[Node], scope: &Scope, diagnostics: &mut Diagnostics) -> Vec<Item> {
    let mut items = Vec::new();
    let mut counters: HashMap<&'static str, usize> = HashMap::new();
    let mut names: HashMap<String, Span> = HashMap::new();
    for entry in entries {
        context.entries.set(context.entries.get() + 1);
        if context.entries.get() > MAX_ENTRIES {
            if context.entries.get() == MAX_ENTRIES + 1 {
                diagnostics.push(
                    Diagnostic::error(
                        Code::SizeOverflow,
                        format!("the model has more than {MAX_ENTRIES} layers, params and blocks"),
                    )
                    .at(entry.span)
                    .with_help("lower a `repeat:` count"),
                );
            }
            break;
        }
        if !matches!(keyword_entry(entry), Some(("block", _))) {
            // A block's own entries are counted as they are resolved.
            context.text.set(context.text.get().saturating_add(text_size(entry)));
        }
        if context.text.get().saturating_add(context.customs.used_text()) > MAX_TEXT {
            if !context.text_exhausted.replace(true) {
                diagnostics.push(
                    Diagnostic::error(
                        Code::SizeOverflow,
                        format!(
                            "the model's layers hold more than {} MiB of text once `repeat:` copies and uses of custom initializers are counted",
                            MAX_TEXT >> 20
                        ),
                    )
                    .at(entry.span)
                    .with_help("lower a `repeat:` count, or shorten the expressions it repeats"),
                );
            }
            break;
        }
        let Some(entry) = entry_when(context.file, entry, scope, diagnostics) else { continue };
        let entry = entry.as_ref();
        let resolved = match keyword_entry(entry) {
            Some(("param", body)) => {
                resolve_param(context, entry, body, scope, diagnostics).map(|p| vec![Item::Param(Box::new(p))])
            }
            Some(("block", body)) => resolve_block(context, entry, body, scope, &mut counters, diagnostics),
            _ if nested_class(entry).is_some() => resolve_nested(context, entry, &mut counters, scope, diagnostics)
                .map(|n| vec![Item::Nested(Box::new(n))]),
            _ => {
                resolve_layer(context, entry, scope, &mut counters, diagnostics).map(|l| vec![Item::Layer(Box::new(l))])
            }
        };
        // A list of one entry cannot repeat a name, so it needs no table of names: the entry is
        // one item, or the copies of a repeated block, whose names differ in `{i}` (a block of
        // 50,000 copies, and every copy of a repeated block of one entry, is such a list).
        let Some(resolved) = resolved else { continue };
        let alone = entries.len() == 1;
        if !alone {
            let mut check = |name: std::borrow::Cow<str>, span: Span| {
                if let Some(first) = names.get(name.as_ref()) {
                    diagnostics.push(
                        Diagnostic::error(Code::DuplicateName, format!("two entries are named `{name}`"))
                            .at(span)
                            .with_note_at(*first, "first used here")
                            .with_help("give one of them another `name:`"),
                    );
                }
                names.insert(name.into_owned(), span);
            };
            for item in &resolved {
                match item {
                    Item::Layer(layer) => check(layer.name.as_str().into(), layer.span),
                    Item::Param(param) => check(param.name.as_str().into(), param.span),
                    Item::Block(block) => check(block.name.as_str().into(), block.span),
                    Item::Copies(run) => run.copies.clone().for_each(|copy| check(run.name(copy).into(), run.span)),
                    Item::Nested(nested) => check(nested.name.as_str().into(), nested.span),
                }
            }
        }
        // The first entry's items become the list (a repeated block's 50,000 copies are not
        // moved again).
        if items.is_empty() {
            items = resolved;
        } else {
            items.extend(resolved);
        }
    }
    items
}

/// `Sequential` or `Functional` when the entry is a Keras model used as a layer.
fn nested_class(entry: &Node) -> Option<&'static str> {
    match entry.get("class_name")?.as_str()? {
        "Sequential" => Some("Sequential"),
        "Functional" | "Model" => Some("Functional"),
        _ => None,
    }
}

/// A Keras model inside another: converted as a model document, resolved and lowered on its own.
fn resolve_nested(
    context: &Context,
    entry: &Node,
    counters: &mut HashMap<&'static str, usize>,
    scope: &Scope,
    diagnostics: &mut Diagnostics,
) -> Option<ResolvedNested> {
    let class_name = nested_class(entry)?;
    let span = entry.get("class_name").map_or(entry.span, |node| node.span);
    let (config, found) = crate::config::keras_json::convert_nested(entry);
    diagnostics.extend(found);
    let config = config?;
    let (model, found) = resolve_items_of(context.file, &config, &Overrides::default());
    diagnostics.extend(found);
    let (graph, found) = lower::lower(model?);
    diagnostics.extend(found);
    let graph = graph?;
    let consumes = match entry.get("inbound_nodes") {
        Some(node) => Consumes::Keras(report(diagnostics, inbound::calls(node))?),
        None => Consumes::Previous,
    };
    let trainable =
        entry.get("config").and_then(|c| c.get("trainable")).is_none_or(|node| node.value != Value::Bool(false));
    let name = match entry.get("name").and_then(Node::as_str) {
        Some(name) => name.to_string(),
        None => auto_name(if class_name == "Sequential" { "sequential" } else { "functional" }, counters),
    };
    Some(ResolvedNested { name, span, class_name, graph, trainable, consumes, variables: scope.variables.clone() })
}

/// `param: {…}` or `block: {…}`: the keyword and its argument map.
fn keyword_entry(entry: &Node) -> Option<(&str, &Node)> {
    match entry.as_map()? {
        [(key, body)] => match key.as_str()? {
            keyword @ ("param" | "block") => Some((keyword, body)),
            _ => None,
        },
        _ => None,
    }
}

fn keyword_arguments<'a>(
    keyword: &str,
    entry: &Node,
    body: &'a Node,
    diagnostics: &mut Diagnostics,
) -> Option<&'a [(Node, Node)]> {
    match body.as_map() {
        Some(entries) => Some(entries),
        None => {
            diagnostics.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("the arguments of `{keyword}` must be a mapping, found {}", body.kind_name()),
                )
                .at(if body.is_null() { entry.span } else { body.span })
                .with_help(format!("write `- {keyword}: {{name: …, …}}`; specs/config.md lists its arguments")),
            );
            None
        }
    }
}

/// The keys of a Keras `{class_name, config}` layer entry.
pub const KERAS_LAYER_KEYS: [&str; 7] =
    ["class_name", "config", "module", "registered_name", "build_config", "name", "inbound_nodes"];

const PARAM_ARGUMENTS: [&str; 8] =
    ["name", "shape", "initializer", "fan_in", "fan_out", "trainable", "share", "padding_idx"];
const BLOCK_ARGUMENTS: [&str; 5] = ["name", "repeat", "residual", "inputs", "layers"];

fn resolve_param(
    context: &Context,
    entry: &Node,
    body: &Node,
    scope: &Scope,
    diagnostics: &mut Diagnostics,
) -> Option<ResolvedParam> {
    let entries = keyword_arguments("param", entry, body, diagnostics)?;
    let span = entry.as_map().and_then(|m| m.first()).map_or(entry.span, |(key, _)| key.span);
    let lookup = |name: &str| scope.variables.value(name);
    let mut args = Args::new(context.file, &lookup, "param", entries, span).recording(context.recorder);
    args.note("name", ArgKind::Name);
    args.note("shape", ArgKind::Shape);
    let name_node = args.require("name", "wpe.weight");
    let name_span = name_node.map_or(span, |node| node.span);
    let name = name_node.and_then(|node| placeholder_name(context.file, node, scope, &mut args.diagnostics));
    let shape = args.require("shape", "[1024, 768]").and_then(|node| {
        let shape = shape_value(context.file, node, &lookup, "shape");
        shape.map_err(|diagnostic| args.diagnostics.push(diagnostic)).ok()
    });
    let trainable = args.bool_or("trainable", true);
    let share = args
        .take_as("share", ArgKind::Name)
        .and_then(|node| share_target(context.file, node, scope, &mut args.diagnostics));
    let initializer = match args.take_as("initializer", ArgKind::Initializer) {
        Some(node) if share.is_some() => {
            args.diagnostics.push(
                Diagnostic::error(Code::InvalidValue, "a param that shares another's tensor takes no initializer")
                    .at(node.span)
                    .with_help("remove `initializer:` or `share:`"),
            );
            None
        }
        Some(node) => context.customs.resolve(node).map_err(|d| args.diagnostics.push(d)).ok(),
        // Keras's `add_weight` default.
        None if share.is_none() => Some(InitCall { family: Family::GlorotUniform, args: Vec::new(), span }),
        None => None,
    };
    let fan_in = args
        .take_as("fan_in", ArgKind::Number { low: f64::NEG_INFINITY, high: f64::INFINITY, default: None })
        .and_then(|node| eval_number(context.file, node, &lookup).map_err(|d| args.diagnostics.push(d)).ok());
    let fan_out = args
        .take_as("fan_out", ArgKind::Number { low: f64::NEG_INFINITY, high: f64::INFINITY, default: None })
        .and_then(|node| eval_number(context.file, node, &lookup).map_err(|d| args.diagnostics.push(d)).ok());
    let padding_idx = args.take_as("padding_idx", ArgKind::Integer { default: None }).and_then(|node| {
        padding_index(context.file, node, &lookup, shape.as_ref().map(|shape| &shape.value[..]))
            .map_err(|d| args.diagnostics.push(d))
            .ok()
            .flatten()
    });
    let found = args.finish(&PARAM_ARGUMENTS);
    let failed = found.iter().any(Diagnostic::is_error);
    diagnostics.extend(found);
    if failed {
        return None;
    }
    Some(ResolvedParam {
        padding_idx,
        name: name?,
        name_span,
        span,
        shape: shape?.value,
        initializer,
        fan_in,
        fan_out,
        trainable,
        share,
        variables: scope.variables.clone(),
    })
}

/// One entry of `checks:`: an error with its message when its condition is false, showing the
/// value of every var the condition reads.
fn run_check(file: &SourceFile, check: &Node, lookup: Lookup) -> Result<(), Diagnostic> {
    let malformed = || {
        Diagnostic::error(Code::WrongType, "a check is `{check: EXPR, message: TEXT}`").at(check.span).with_help(
            "e.g. `- {check: \"d_model % n_heads == 0\", message: \"d_model must be a multiple of n_heads\"}`",
        )
    };
    let entries = check.as_map().ok_or_else(malformed)?;
    if entries.iter().any(|(key, _)| !matches!(key.as_str(), Some("check" | "message"))) {
        return Err(malformed());
    }
    let condition = check.get("check").ok_or_else(malformed)?;
    let message = check.get("message").and_then(Node::as_str).ok_or_else(malformed)?;
    if eval_value(file, condition, lookup)?.is_true() {
        return Ok(());
    }
    let mut names = Vec::new();
    if let Some(text) = condition.as_str()
        && let Ok(expr) = crate::dsl::parse_expr(text)
    {
        vars::collect_names(&expr, &mut names);
    }
    names.dedup();
    let values: Vec<String> =
        names.iter().filter_map(|name| lookup(name).map(|value| format!("{name} = {value}"))).collect();
    let shown = if values.is_empty() { String::new() } else { format!(" ({})", values.join(", ")) };
    Err(Diagnostic::error(Code::InvalidValue, format!("{message}{shown}"))
        .at_labelled(condition.span, "this check fails")
        .with_help("change the values the check names (in `vars:`, the `--vars` file or config.json, or `--set`)"))
}

/// A param's `padding_idx`: a row of its first axis, or `null` (none). Negative rows count from
/// the end, as torch's `padding_idx` does.
fn padding_index(
    file: &SourceFile,
    node: &Node,
    lookup: Lookup,
    shape: Option<&[usize]>,
) -> Result<Option<usize>, Diagnostic> {
    let value = eval_value(file, node, lookup)?;
    let index = match value {
        crate::dsl::Value::Null => return Ok(None),
        crate::dsl::Value::Number(index) if index.fract() == 0.0 => index,
        other => {
            return Err(Diagnostic::error(
                Code::WrongType,
                format!("`padding_idx` must be a whole number or null, found {other}"),
            )
            .at(node.span)
            .with_help("give the row to zero, e.g. `padding_idx: pad_token_id`, or `null` for none"));
        }
    };
    let Some(rows) = shape.and_then(|shape| shape.first().copied()) else { return Ok(None) };
    let row = if index < 0.0 { index + rows as f64 } else { index };
    if row < 0.0 || row >= rows as f64 {
        return Err(Diagnostic::error(
            Code::InvalidValue,
            format!("`padding_idx` {index} is outside the tensor's {rows} rows"),
        )
        .at(node.span)
        .with_help(format!("give a row from 0 to {} (or from -{rows} to -1)", rows.saturating_sub(1))));
    }
    Ok(Some(row as usize))
}

/// Whether an entry exists: its `when:` holds (Python's truth), or it has none. Returns the entry
/// without its `when:` key.
fn entry_when<'a>(
    file: &SourceFile,
    entry: &'a Node,
    scope: &Scope,
    diagnostics: &mut Diagnostics,
) -> Option<std::borrow::Cow<'a, Node>> {
    let Some([(key, Node { value: Value::Map(arguments), span })]) = entry.as_map() else {
        return Some(std::borrow::Cow::Borrowed(entry));
    };
    let Some(position) = arguments.iter().position(|(name, _)| name.as_str() == Some("when")) else {
        return Some(std::borrow::Cow::Borrowed(entry));
    };
    let lookup = |name: &str| scope.variables.value(name);
    let condition = &arguments[position].1;
    match eval_value(file, condition, &lookup) {
        Ok(value) if value.is_true() => {
            let mut arguments = arguments.clone();
            arguments.remove(position);
            let body = Node { value: Value::Map(arguments), span: *span };
            Some(std::borrow::Cow::Owned(Node { value: Value::Map(vec![(key.clone(), body)]), span: entry.span }))
        }
        Ok(_) => None,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            None
        }
    }
}

fn resolve_block(
    context: &Context,
    entry: &Node,
    body: &Node,
    scope: &Scope,
    counters: &mut HashMap<&'static str, usize>,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<Item>> {
    let entries = keyword_arguments("block", entry, body, diagnostics)?;
    let span = entry.as_map().and_then(|m| m.first()).map_or(entry.span, |(key, _)| key.span);
    let lookup = |name: &str| scope.variables.value(name);
    let mut args = Args::new(context.file, &lookup, "block", entries, span).recording(context.recorder);
    let name_node = args.take_as("name", ArgKind::Name);
    let repeat = args.take_as("repeat", ArgKind::Count { min: 1 }).and_then(|node| {
        let count = eval_count(context.file, node, &lookup, 1, "`repeat`").and_then(|count| {
            if count > MAX_ENTRIES {
                return Err(Diagnostic::error(
                    Code::SizeOverflow,
                    format!("`repeat` is too large: {count} (at most {MAX_ENTRIES})"),
                )
                .at(node.span)
                .with_help(format!("a model resolves to at most {MAX_ENTRIES} layers, params and blocks")));
            }
            Ok(count)
        });
        count.map(|count| (count, node)).map_err(|d| args.diagnostics.push(d)).ok()
    });
    let residual = args.bool_or("residual", false);
    let consumes =
        args.take_as("inputs", ArgKind::Names).and_then(|node| report(&mut args.diagnostics, names_value(node)));
    args.note("layers", ArgKind::Layers);
    let layers = args.require("layers", "[{dense: {units: 8}}]").and_then(|node| match node.as_seq() {
        Some(items) if !items.is_empty() => Some(items),
        found => {
            let found = if found.is_some() { "an empty list" } else { node.kind_name() };
            args.diagnostics.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("`layers` of a block must be a non-empty list, found {found}"),
                )
                .at(node.span)
                .with_help("list the block's layers, e.g. `layers: [{dense: {units: 8}}]`"),
            );
            None
        }
    });
    let found = args.finish(&BLOCK_ARGUMENTS);
    let failed = found.iter().any(Diagnostic::is_error);
    diagnostics.extend(found);
    if failed {
        return None;
    }
    let layers = layers?;
    let copies = match repeat {
        None => 0..1,
        Some((count, node)) => {
            let repeats_name = name_node.and_then(Node::as_str).is_some_and(|name| name.contains("{i}"));
            if count > 1 && !repeats_name {
                diagnostics.push(
                    Diagnostic::error(
                        Code::Placeholder,
                        "a repeated block's name needs `{i}`, or its copies would share tensor names",
                    )
                    .at(name_node.map_or(node.span, |n| n.span))
                    .with_help("name it like `name: \"h.{i}\"`"),
                );
                return None;
            }
            0..count
        }
    };
    // Copies whose entries never mention `i` resolve alike: the first copy's items serve every
    // copy (the parsed layers shared) instead of resolving every entry again, which a block
    // repeated 50,000 times would.
    let alike = copies.len() > 1 && context.recorder.is_none() && !mentions_copy_index(layers);
    let mut first: Option<FirstCopy> = None;
    let mut blocks = Vec::new();
    for copy in copies {
        if context.entries.get() > MAX_ENTRIES || context.text_exhausted.get() {
            break;
        }
        if let Some(first) = &first
            && first.counts_another(context)
        {
            match blocks.last_mut() {
                Some(Item::Copies(run)) => run.copies.end = copy + 1,
                _ => blocks.push(Item::Copies(Box::new(RepeatedCopies {
                    name_parts: first.name_parts.clone(),
                    span,
                    residual,
                    consumes: consumes.clone(),
                    items: first.items.clone(),
                    from: first.variables.clone(),
                    scope: scope.variables.clone(),
                    copies: copy..copy + 1,
                }))),
            }
            continue;
        }
        let inner = match repeat {
            Some(_) => Scope { variables: scope.variables.with("i", copy as f64), index: Some(copy) },
            None => Scope { variables: scope.variables.clone(), index: scope.index },
        };
        // The name's parts, kept for the copies that follow (a copy's name is its index between
        // them).
        let name_parts = match name_node {
            Some(node) => name_parts(context.file, node, inner.index.is_some(), diagnostics)?,
            None => vec![auto_name("block", counters)],
        };
        let name = join_name_parts(&name_parts, inner.index.unwrap_or_default());
        let (entries_before, text_before) = (context.entries.get(), context.text.get());
        let (custom_text_before, said_before) = (context.customs.used_text(), diagnostics.len());
        let items = resolve_items(context, layers, &inner, diagnostics);
        // Only a copy that said nothing and used no custom initializer (whose uses are counted
        // against `MAX_TEXT`) serves the others: every other copy would say or count the same
        // again. A nested Keras model is lowered from its own graph, which is not shared.
        let items = if alike
            && first.is_none()
            && custom_text_before == context.customs.used_text()
            && said_before == diagnostics.len()
            && !holds_nested_model(&items)
        {
            let items = Arc::new(items);
            first = Some(FirstCopy {
                name_parts,
                variables: inner.variables.clone(),
                entries: context.entries.get() - entries_before,
                text: context.text.get() - text_before,
                items: items.clone(),
            });
            BlockItems::Copied { items, from: inner.variables.clone(), to: inner.variables }
        } else {
            BlockItems::Resolved(items)
        };
        blocks.push(Item::Block(ResolvedBlock { name, span, residual, consumes: consumes.clone(), items }));
    }
    Some(blocks)
}

/// The first copy of a repeated block whose copies resolve alike, and what resolving it counted.
struct FirstCopy {
    name_parts: Vec<String>,
    variables: Arc<Variables>,
    entries: usize,
    text: usize,
    items: Arc<Vec<Item>>,
}

impl FirstCopy {
    /// Counts a later copy's entries as resolving them would; false when that count would pass
    /// a limit, so that resolving the copy reports it.
    fn counts_another(&self, context: &Context) -> bool {
        let entries = context.entries.get() + self.entries;
        let text = context.text.get().saturating_add(self.text);
        if entries > MAX_ENTRIES || text.saturating_add(context.customs.used_text()) > MAX_TEXT {
            return false;
        }
        context.entries.set(entries);
        context.text.set(text);
        true
    }
}

fn holds_nested_model(items: &[Item]) -> bool {
    items.iter().any(|item| match item {
        Item::Nested(_) => true,
        Item::Block(block) => holds_nested_model(block.items.as_slice()),
        Item::Copies(run) => holds_nested_model(&run.items),
        Item::Layer(_) | Item::Param(_) => false,
    })
}

/// A copy of `item` that reads `to` where it reads `from`; `None` for a nested Keras model, whose
/// graph is not copied (copied blocks hold none).
pub fn copy_item(item: &Item, from: &Arc<Variables>, to: &Arc<Variables>) -> Option<Item> {
    let rebind = |variables: &Arc<Variables>| match Arc::ptr_eq(variables, from) {
        true => to.clone(),
        false => variables.clone(),
    };
    Some(match item {
        Item::Layer(layer) => {
            Item::Layer(Box::new(ResolvedLayer { variables: rebind(&layer.variables), ..ResolvedLayer::clone(layer) }))
        }
        Item::Param(param) => {
            Item::Param(Box::new(ResolvedParam { variables: rebind(&param.variables), ..ResolvedParam::clone(param) }))
        }
        Item::Block(block) => Item::Block(ResolvedBlock {
            name: block.name.clone(),
            span: block.span,
            residual: block.residual,
            consumes: block.consumes.clone(),
            items: match &block.items {
                BlockItems::Resolved(items) => {
                    BlockItems::Resolved(items.iter().map(|item| copy_item(item, from, to)).collect::<Option<_>>()?)
                }
                BlockItems::Copied { items, from: inner_from, to: inner_to } => {
                    BlockItems::Copied { items: items.clone(), from: inner_from.clone(), to: rebind(inner_to) }
                }
            },
        }),
        Item::Copies(run) => Item::Copies(Box::new(RepeatedCopies {
            name_parts: run.name_parts.clone(),
            span: run.span,
            residual: run.residual,
            consumes: run.consumes.clone(),
            items: run.items.clone(),
            from: run.from.clone(),
            scope: rebind(&run.scope),
            copies: run.copies.clone(),
        })),
        Item::Nested(_) => return None,
    })
}

/// Whether any string under `node` names `i`, in an expression or a `{i}` placeholder: only then
/// can the copies of a repeated block resolve differently (`i` is the one name a copy binds).
fn mentions_copy_index(nodes: &[Node]) -> bool {
    nodes.iter().any(|node| match &node.value {
        Value::Str(text) => text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|word| word == "i"),
        Value::Seq(items) => mentions_copy_index(items),
        Value::Map(entries) => entries.iter().any(|(key, value)| {
            mentions_copy_index(std::slice::from_ref(key)) || mentions_copy_index(std::slice::from_ref(value))
        }),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => false,
    })
}

/// A name with `{i}` replaced by the copy index of the innermost repeated block.
fn placeholder_name(file: &SourceFile, node: &Node, scope: &Scope, diagnostics: &mut Diagnostics) -> Option<String> {
    let parts = name_parts(file, node, scope.index.is_some(), diagnostics)?;
    Some(join_name_parts(&parts, scope.index.unwrap_or_default()))
}

/// A name cut at each `{i}` (see [`RepeatedCopies::name_parts`]).
fn name_parts(file: &SourceFile, node: &Node, has_index: bool, diagnostics: &mut Diagnostics) -> Option<Vec<String>> {
    let (text, placeholders) = name_template(file, node, has_index, diagnostics)?;
    let mut parts = Vec::with_capacity(placeholders.len() + 1);
    let mut rest = 0;
    for at in placeholders {
        parts.push(text[rest..at].to_string());
        rest = at + PLACEHOLDER.len();
    }
    parts.push(text[rest..].to_string());
    Some(parts)
}

/// `parts` joined by `copy`.
fn join_name_parts(parts: &[String], copy: usize) -> String {
    let mut copy_text = itoa::Buffer::new();
    let copy_text = copy_text.format(copy);
    let copies_text = copy_text.len() * parts.len().saturating_sub(1);
    let mut name = String::with_capacity(parts.iter().map(String::len).sum::<usize>() + copies_text);
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            name.push_str(copy_text);
        }
        name.push_str(part);
    }
    name
}

/// The one placeholder a name may hold.
const PLACEHOLDER: &str = "{i}";

/// The text of a name and where each `{i}` in it starts, or `None` after reporting what is wrong
/// with it (`{i}` outside a repeated block, when not `has_index`).
fn name_template<'n>(
    file: &SourceFile,
    node: &'n Node,
    has_index: bool,
    diagnostics: &mut Diagnostics,
) -> Option<(std::borrow::Cow<'n, str>, smallvec::SmallVec<[usize; 2]>)> {
    let Some(text) = node.as_str().or(match node.value {
        Value::Int(_) => Some(""),
        _ => None,
    }) else {
        diagnostics.push(
            Diagnostic::error(Code::WrongType, format!("a name must be a string, found {}", node.kind_name()))
                .at(node.span)
                .with_help("write the name as text, e.g. `name: encoder`"),
        );
        return None;
    };
    let text = match node.value {
        Value::Int(value) => std::borrow::Cow::Owned(value.to_string()),
        _ => std::borrow::Cow::Borrowed(text),
    };
    if text.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "a name must not be empty")
                .at(node.span)
                .with_help("give a name, or leave `name` out for Keras's default (`dense`, `dense_1`, …)"),
        );
        return None;
    }
    let mut placeholders = smallvec::SmallVec::new();
    let mut rest = text.as_ref();
    while let Some(open) = rest.find('{') {
        let offset = text.len() - rest.len() + open;
        let close = rest[open..].find('}').map(|c| open + c);
        let placeholder = close.map(|close| &rest[open + 1..close]);
        match (placeholder, has_index) {
            (Some("i"), true) => placeholders.push(offset),
            (Some("i"), false) => {
                diagnostics.push(
                    Diagnostic::error(Code::Placeholder, "`{i}` is only defined inside a block with `repeat:`")
                        .at(span_in_string(file, node, offset..offset + 3))
                        .with_help("remove `{i}`, or put the entry in a block with `repeat:`"),
                );
                return None;
            }
            _ => {
                let end = close.map_or(text.len(), |close| text.len() - rest.len() + close + 1);
                diagnostics.push(
                    Diagnostic::error(Code::Placeholder, "names may hold only the placeholder `{i}`")
                        .at(span_in_string(file, node, offset..end))
                        .with_help("use `{i}` (the copy index of a repeated block), or no braces"),
                );
                return None;
            }
        }
        rest = &rest[close.map_or(rest.len(), |close| close + 1)..];
    }
    Some((text, placeholders))
}

/// `share: name`: the full name of an earlier layer or param (checked in `plan`).
fn share_target(
    file: &SourceFile,
    node: &Node,
    scope: &Scope,
    diagnostics: &mut Diagnostics,
) -> Option<Spanned<String>> {
    placeholder_name(file, node, scope, diagnostics).map(|value| Spanned { value, span: node.span })
}

/// How many members of a cycle a message names; a longer cycle shows its first few and its last.
const CYCLE_SHOWN: usize = 6;

/// `a → b → c → a`, or for a long cycle `a → b → c → d → e → … → z → a (1000 vars)`, and the
/// positions in `names` of the members it names (for their notes).
fn cycle_text(names: &[&str], what: &str) -> (String, Vec<usize>) {
    let shown: Vec<usize> = if names.len() <= CYCLE_SHOWN {
        (0..names.len()).collect()
    } else {
        (0..CYCLE_SHOWN - 1).chain([names.len() - 1]).collect()
    };
    let mut text = String::new();
    for (at, &index) in shown.iter().enumerate() {
        if at > 0 && index != shown[at - 1] + 1 {
            text.push_str(" → …");
        }
        if at > 0 {
            text.push_str(" → ");
        }
        text.push_str(names[index]);
    }
    if let Some(first) = names.first() {
        text.push_str(" → ");
        text.push_str(first);
    }
    if shown.len() < names.len() {
        text.push_str(&format!(" ({} {what})", names.len()));
    }
    (text, shown)
}

/// The bytes of a node's strings plus one per node: what resolving it reads (an alias counts
/// at every use, as it is resolved at every use).
fn text_size(node: &Node) -> usize {
    let mut size = 0usize;
    let mut pending = vec![node];
    while let Some(node) = pending.pop() {
        size = size.saturating_add(1);
        match &node.value {
            Value::Str(text) => size = size.saturating_add(text.len()),
            Value::Seq(items) => pending.extend(items),
            Value::Map(entries) => pending.extend(entries.iter().flat_map(|(key, value)| [key, value])),
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
        }
    }
    size
}

fn report<T>(diagnostics: &mut Diagnostics, result: Result<T, Diagnostic>) -> Option<T> {
    result.map_err(|diagnostic| diagnostics.push(diagnostic)).ok()
}

fn seed_value(node: &Node) -> Result<u64, Diagnostic> {
    match node.value {
        Value::Int(value) => u64::try_from(value).map_err(|_| {
            Diagnostic::error(Code::InvalidValue, format!("`seed` must be an integer from 0 to 2^64-1, found {value}"))
                .at(node.span)
                .with_help("give a whole number ≥ 0, e.g. `seed: 42`")
        }),
        _ => Err(Diagnostic::error(Code::WrongType, format!("`seed` must be an integer, found {}", node.kind_name()))
            .at(node.span)
            .with_help("give a whole number ≥ 0 without quotes, e.g. `seed: 42`")),
    }
}

fn rng_value(node: &Node) -> Result<crate::tensor::Rng, Diagnostic> {
    match node.as_str() {
        Some("philox") => Ok(crate::tensor::Rng::Philox),
        Some("torch") => Ok(crate::tensor::Rng::Torch),
        _ => Err(Diagnostic::error(Code::InvalidValue, format!("`rng` must be `philox` or `torch`, found {}", shown_node(node)))
            .at(node.span)
            .with_help("`rng: philox` (the default) draws initc's per-tensor streams; `rng: torch` reproduces `torch.manual_seed` and torch's modules")),
    }
}

fn shown_node(node: &Node) -> String {
    match node.as_str() {
        Some(text) => format!("`{text}`"),
        None => node.kind_name().to_string(),
    }
}

/// A per-example shape: a list of positive sizes (a bare number means one axis).
fn shape_value(file: &SourceFile, node: &Node, lookup: Lookup, what: &str) -> Result<Spanned<Vec<usize>>, Diagnostic> {
    let what = format!("a dimension of `{what}`");
    let dims = match &node.value {
        Value::Seq(items) => {
            items.iter().map(|item| eval_count(file, item, lookup, 1, &what)).collect::<Result<_, _>>()?
        }
        Value::Int(_) | Value::Str(_) => vec![eval_count(file, node, lookup, 1, &what)?],
        _ => {
            return Err(Diagnostic::error(
                Code::WrongType,
                format!("expected a shape like [128, 64], found {}", node.kind_name()),
            )
            .at(node.span)
            .with_help("give the per-example sizes as a list, without the batch axis"));
        }
    };
    Ok(Spanned { value: dims, span: node.span })
}

/// A model input's shape: sizes, of which any may be `null` (Keras's `None`, any size).
struct InputShape {
    /// An open axis holds the first probe size.
    sizes: Vec<usize>,
    open_axes: Vec<usize>,
}

/// [`shape_value`] for a model input, where `null` leaves an axis open.
fn input_shape_value(file: &SourceFile, node: &Node, lookup: Lookup, what: &str) -> Result<InputShape, Diagnostic> {
    let Value::Seq(items) = &node.value else {
        return shape_value(file, node, lookup, what)
            .map(|shape| InputShape { sizes: shape.value, open_axes: Vec::new() });
    };
    let what = format!("a dimension of `{what}`");
    let mut shape = InputShape { sizes: Vec::with_capacity(items.len()), open_axes: Vec::new() };
    for (axis, item) in items.iter().enumerate() {
        if item.is_null() {
            shape.open_axes.push(axis);
            shape.sizes.push(crate::graph::OPEN_SIZE_PROBES[0]);
        } else {
            shape.sizes.push(eval_count(file, item, lookup, 1, &what)?);
        }
    }
    Ok(shape)
}

/// Every custom initializer must resolve on its own, even if unused (cycles, typos). Duplicate
/// names never get here: the YAML parser rejects duplicate keys.
fn check_custom_initializers(
    definitions: &[(Node, Node)],
    customs: &CustomInitializers,
    diagnostics: &mut Diagnostics,
) {
    for (key, _) in definitions {
        let Some(name) = key.as_str() else {
            diagnostics.push(
                Diagnostic::error(Code::WrongType, format!("expected an initializer name, found {}", key.kind_name()))
                    .at(key.span)
                    .with_help("name it with a word, e.g. `initializers: {small: \"random_normal(stddev=0.02)\"}`"),
            );
            continue;
        };
        if find_family(name).is_some() {
            diagnostics.push(
                Diagnostic::error(Code::DuplicateName, format!("`{name}` is a built-in initializer"))
                    .at(key.span)
                    .with_help("give the custom initializer another name"),
            );
        }
    }
    diagnostics.extend(customs.failures().iter().cloned());
}

/// A layer entry split into its parts, whichever form it was written in.
struct LayerEntry<'a> {
    type_name: &'a str,
    type_span: Span,
    arguments: &'a [(Node, Node)],
    /// A Keras layer's `inbound_nodes`.
    inbound: Option<&'a Node>,
}

/// Splits a layer entry into its type name, the span of that name, and its argument map.
fn layer_parts(entry: &Node) -> Result<LayerEntry<'_>, Diagnostic> {
    const EMPTY: &[(Node, Node)] = &[];
    match &entry.value {
        Value::Str(name) => Ok(LayerEntry { type_name: name, type_span: entry.span, arguments: EMPTY, inbound: None }),
        Value::Map(entries) if entry.get("class_name").is_some() => {
            let class = entry.get("class_name").and_then(Node::as_str).ok_or_else(|| bad_layer(entry))?;
            let class_span = entry.get("class_name").map_or(entry.span, |node| node.span);
            for (key, _) in entries {
                if !key.as_str().is_some_and(|key| KERAS_LAYER_KEYS.contains(&key)) {
                    return Err(Diagnostic::error(Code::UnknownKey, "unknown key in a Keras layer")
                        .at(key.span)
                        .with_help("a Keras layer has `class_name` and `config` (and `module`, `registered_name`, `build_config`)"));
                }
            }
            let inbound = entry.get("inbound_nodes");
            match entry.get("config") {
                None => Ok(LayerEntry { type_name: class, type_span: class_span, arguments: EMPTY, inbound }),
                Some(config) if config.is_null() => {
                    Ok(LayerEntry { type_name: class, type_span: class_span, arguments: EMPTY, inbound })
                }
                Some(config) => config
                    .as_map()
                    .map(|arguments| LayerEntry { type_name: class, type_span: class_span, arguments, inbound })
                    .ok_or_else(|| {
                        Diagnostic::error(
                            Code::WrongType,
                            format!("`config` must be a mapping, found {}", config.kind_name()),
                        )
                        .at(config.span)
                        .with_help("a Keras layer's `config` maps argument names to values")
                    }),
            }
        }
        Value::Map(entries) if entries.len() == 1 => {
            let (key, value) = &entries[0];
            let name = key.as_str().ok_or_else(|| bad_layer(entry))?;
            match &value.value {
                Value::Null => Ok(LayerEntry { type_name: name, type_span: key.span, arguments: EMPTY, inbound: None }),
                Value::Map(arguments) => {
                    Ok(LayerEntry { type_name: name, type_span: key.span, arguments, inbound: None })
                }
                _ => Err(Diagnostic::error(
                    Code::WrongType,
                    format!("the arguments of `{name}` must be a mapping, found {}", value.kind_name()),
                )
                .at(value.span)
                .with_help(format!("write `- {name}: {{argument: value}}`"))),
            }
        }
        _ => Err(bad_layer(entry)),
    }
}

fn bad_layer(entry: &Node) -> Diagnostic {
    let found = match &entry.value {
        Value::Map(entries) => format!("a mapping with {} keys", entries.len()),
        _ => entry.kind_name().to_string(),
    };
    Diagnostic::error(Code::BadLayerForm, format!("expected a layer, found {found}"))
        .at(entry.span)
        .with_help("a layer is a type name (`- flatten`) or a one-key map (`- dense: {units: 64}`)")
}

/// An initializer reference resolved with no custom initializers defined (a layer built alone,
/// in tests).
pub fn builtin_initializer(file: &SourceFile, node: &Node) -> Result<crate::initializers::InitCall, Diagnostic> {
    CustomInitializers::new(file, &[]).resolve(node)
}

fn resolve_layer(
    context: &Context,
    entry: &Node,
    scope: &Scope,
    counters: &mut HashMap<&'static str, usize>,
    diagnostics: &mut Diagnostics,
) -> Option<ResolvedLayer> {
    let file = context.file;
    let customs = &context.customs;
    let LayerEntry { type_name, type_span, arguments: entries, inbound } = report(diagnostics, layer_parts(entry))?;
    let Some(layer_type) = layers::find(type_name) else {
        let names = layers::LAYER_TYPES.iter().map(|t| t.name);
        let diagnostic = Diagnostic::error(Code::UnknownLayer, format!("unknown layer type `{type_name}`"))
            .at_labelled(type_span, "not a layer type");
        diagnostics.push(match did_you_mean(type_name, names.clone()) {
            Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
            None => diagnostic.with_help(format!("the layer types are {}", list(&names.collect::<Vec<_>>()))),
        });
        return None;
    };
    let lookup = |name: &str| scope.variables.value(name);
    let resolver = |node: &Node| customs.resolve(node);
    let mut args = Args::new(file, &lookup, layer_type.name, entries, type_span)
        .recording(context.recorder)
        .resolving_initializers(Some(&resolver));
    let explicit_name =
        args.take_as("name", ArgKind::Name).and_then(|node| placeholder_name(file, node, scope, &mut args.diagnostics));
    let share =
        args.take_as("share", ArgKind::Name).and_then(|node| share_target(file, node, scope, &mut args.diagnostics));
    let trainable = args.bool_or("trainable", true);
    let named =
        args.take_as("inputs", ArgKind::Names).and_then(|node| report(&mut args.diagnostics, names_value(node)));
    let calls = args.take_as("calls", ArgKind::Calls).and_then(|node| report(&mut args.diagnostics, calls_value(node)));
    let consumes = match (named, calls, inbound) {
        (Some(names), Some(_), _) => {
            args.diagnostics.push(
                Diagnostic::error(Code::InvalidValue, "`inputs` and `calls` are both given")
                    .at(names[0].span)
                    .with_help("use `inputs` for a layer called once, `calls` for one called several times"),
            );
            Consumes::Previous
        }
        (Some(names), None, _) => Consumes::Named(names),
        (None, Some(calls), _) => Consumes::Calls(calls),
        (None, None, Some(node)) => match report(&mut args.diagnostics, inbound::calls(node)) {
            Some(calls) => Consumes::Keras(calls),
            None => Consumes::Previous,
        },
        (None, None, None) => Consumes::Previous,
    };
    let expected_input = expected_input(&mut args, &lookup, layer_type);
    let mut initializers = Vec::new();
    for &argument in layer_type.arguments.iter().filter(|a| a.ends_with("_initializer")) {
        if let Some(node) = args.take_as(argument, ArgKind::Initializer)
            && let Some(call) = report(&mut args.diagnostics, customs.resolve(node))
        {
            initializers.push((argument, call));
        }
    }
    let activation = entries
        .iter()
        .find(|(key, _)| key.as_str() == Some("activation"))
        .and_then(|(_, value)| value.as_str().map(|name| Spanned { value: name.to_string(), span: value.span }));
    let layer = (layer_type.parse)(&mut args);
    // A layer type that rejects its arguments says why; never drop a layer silently.
    if layer.is_none() && !args.diagnostics.iter().any(Diagnostic::is_error) {
        let diagnostic = Diagnostic::error(Code::InvalidValue, format!("`{}` rejected its arguments", layer_type.name))
            .with_help("specs/layers.md lists the arguments this layer type takes");
        args.diagnostics.push(diagnostic.at(type_span));
    }
    args.accept_inert(&[]);
    let known: Vec<&str> = layer_type.arguments.iter().chain(&COMMON_ARGUMENTS).copied().collect();
    let found = args.finish(&known);
    let failed = found.iter().any(Diagnostic::is_error);
    diagnostics.extend(found);
    if let (Some(share), Some((argument, call))) = (&share, initializers.first()) {
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("a layer that shares `{}`'s weights takes no `{argument}`", share.value),
            )
            .at(call.span)
            .with_help("remove the initializer or `share:`"),
        );
        return None;
    }
    let name = match explicit_name {
        Some(name) => name,
        None => auto_name(layer_type.name, counters),
    };
    if failed {
        return None;
    }
    Some(ResolvedLayer {
        name,
        layer_type,
        layer: Arc::from(layer?),
        span: type_span,
        expected_input,
        trainable,
        activation,
        initializers,
        share,
        variables: scope.variables.clone(),
        consumes,
    })
}

/// `calls: [a, [b, c]]`: per call, one name or a list of names.
fn calls_value(node: &Node) -> Result<Vec<Vec<Spanned<String>>>, Diagnostic> {
    match node.as_seq() {
        Some(items) if !items.is_empty() => items.iter().map(names_value).collect(),
        found => Err(Diagnostic::error(
            Code::WrongType,
            format!(
                "`calls` must be a non-empty list, found {}",
                if found.is_some() { "an empty list" } else { node.kind_name() }
            ),
        )
        .at(node.span)
        .with_help("list what each call consumes, e.g. `calls: [left, right]`")),
    }
}

/// `inputs: name` or `inputs: [a, b]`.
fn names_value(node: &Node) -> Result<Vec<Spanned<String>>, Diagnostic> {
    let name = |item: &Node| match item.as_str() {
        Some(text) if !text.is_empty() => Ok(Spanned { value: text.to_string(), span: item.span }),
        _ => Err(Diagnostic::error(
            Code::WrongType,
            format!("expected the name of an input or entry, found {}", item.kind_name()),
        )
        .at(item.span)
        .with_help("name what the entry consumes, e.g. `inputs: [features, dense_1]`")),
    };
    match &node.value {
        Value::Seq(items) if !items.is_empty() => items.iter().map(name).collect(),
        Value::Seq(_) => Err(Diagnostic::error(Code::WrongType, "`inputs` must not be empty")
            .at(node.span)
            .with_help("name what the entry consumes, or leave `inputs` out to consume the previous entry")),
        _ => Ok(vec![name(node)?]),
    }
}

fn expected_input(args: &mut Args, lookup: Lookup, layer_type: &LayerType) -> Option<Spanned<ExpectedInput>> {
    let file = args.file();
    let shape = args.take_as("input_shape", ArgKind::Shape).and_then(|node| {
        let shape = shape_value(file, node, lookup, "input_shape").map_err(|d| args.diagnostics.push(d)).ok()?;
        Some(Spanned { value: ExpectedInput::Shape(shape.value), span: shape.span })
    });
    // `embedding` has an `input_dim` of its own (the vocabulary size).
    if layer_type.arguments.contains(&"input_dim") {
        return shape;
    }
    let dim = args
        .optional_count("input_dim", 1)
        .map(|dim| Spanned { value: ExpectedInput::LastDim(dim.value), span: dim.span });
    shape.or(dim)
}

/// Keras's per-model auto-naming: `dense`, `dense_1`, `dense_2`, … per layer type.
fn auto_name(type_name: &'static str, counters: &mut HashMap<&'static str, usize>) -> String {
    let count = counters.entry(type_name).or_insert(0);
    let name = if *count == 0 { type_name.to_string() } else { format!("{type_name}_{count}") };
    *count += 1;
    name
}
