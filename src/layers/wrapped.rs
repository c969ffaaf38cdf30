//! A layer inside another layer's config (`Bidirectional`'s `layer` and `backward_layer`,
//! `TimeDistributed`'s and `SpectralNormalization`'s `layer`): found in the catalogue, its
//! arguments parsed, its weights named by Keras's paths under the wrapper
//! (`forward_lstm.lstm_cell.kernel`, `dense.kernel`).
//!
//! A wrapped layer's initializers are resolved as a top-level layer's are and travel with its
//! weights (`Weight::given_initializer`), so `plan` applies them. Without a resolver (a layer
//! built alone, outside `resolve`) only Keras's defaults are accepted: anything else is an error
//! rather than weights drawn from another distribution than the config says.

use super::{Built, COMMON_ARGUMENTS, Layer, LayerType, find};
use crate::args::{ArgKind, Args};
use crate::config::{Node, Value};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::initializers::{Family, InitCall, ParamKind, find_family};
use crate::source::Span;
use std::borrow::Cow;

/// A parsed inner layer.
#[derive(Debug)]
pub struct Inner {
    pub layer_type: &'static LayerType,
    /// Its `name` (Keras's config always has one; else the type's name).
    pub name: String,
    pub layer: Box<dyn Layer>,
    pub trainable: bool,
    /// Initializers its config names: argument, family, where.
    initializers: Vec<(&'static str, Family, Span)>,
    /// The same initializers resolved in full (any family and arguments, custom names), when
    /// the resolver was at hand: these are applied to the weights.
    given: Vec<(&'static str, InitCall)>,
    /// Its class name in the file.
    pub span: Span,
    /// An RNN cell (`LSTMCell`), read as its layer (`LSTM`): its weights have no cell segment,
    /// the cell's own name being that segment.
    cell: bool,
}

/// A nested layer entry's class name, where that name is written, and its arguments.
type Parts<'a> = (&'a str, Span, &'a [(Node, Node)]);

/// The class name and arguments of a nested layer entry: Keras's `{class_name, config}` or
/// initc's one-key `{type: {arguments}}`.
fn parts(node: &Node) -> Result<Parts<'_>, Diagnostic> {
    const EMPTY: &[(Node, Node)] = &[];
    let bad = || {
        Diagnostic::error(Code::WrongType, format!("expected a layer, found {}", node.kind_name()))
            .at(node.span)
            .with_help("give the wrapped layer as Keras writes it, `{class_name: LSTM, config: {units: 8}}`, or as `{lstm: {units: 8}}`")
    };
    if let Some(class) = node.get("class_name") {
        let name = class.as_str().ok_or_else(bad)?;
        let arguments = match node.get("config") {
            None => EMPTY,
            Some(config) if config.is_null() => EMPTY,
            Some(config) => config.as_map().ok_or_else(bad)?,
        };
        return Ok((name, class.span, arguments));
    }
    match node.as_map() {
        Some([(key, value)]) => {
            let name = key.as_str().ok_or_else(bad)?;
            let arguments = match &value.value {
                Value::Null => EMPTY,
                Value::Map(arguments) => arguments.as_slice(),
                _ => return Err(bad()),
            };
            Ok((name, key.span, arguments))
        }
        _ => Err(bad()),
    }
}

/// The family of an initializer given inside a wrapped layer, if it is a family with its
/// default arguments (a null seed included).
fn plain_family(node: &Node) -> Result<Family, Diagnostic> {
    let refuse = || {
        Diagnostic::error(
            Code::InvalidValue,
            "initc takes a wrapped layer's initializers only at Keras's defaults".to_string(),
        )
        .at(node.span)
        .with_help(
            "remove the initializer (or give Keras's default); a wrapped layer's own initializers are not applied yet",
        )
    };
    let (name, config) = match &node.value {
        Value::Str(name) => (name.as_str(), None),
        Value::Map(_) => (node.get("class_name").and_then(Node::as_str).ok_or_else(refuse)?, node.get("config")),
        _ => return Err(refuse()),
    };
    let definition = find_family(name).ok_or_else(refuse)?;
    for (key, value) in config.and_then(Node::as_map).unwrap_or_default() {
        let param = definition.params.iter().find(|param| Some(param.name) == key.as_str());
        let default = match (param.map(|param| param.kind), &value.value) {
            (_, Value::Null) => true,
            (Some(ParamKind::Number(default)), Value::Float(number)) => *number == default,
            (Some(ParamKind::Number(default)), Value::Int(number)) => *number as f64 == default,
            (Some(ParamKind::Word(default, _)), Value::Str(word)) => word == default,
            _ => false,
        };
        if !default {
            return Err(refuse());
        }
    }
    Ok(definition.family)
}

/// Reads the layer in argument `argument` (`None` when absent, or when it had errors, which
/// are reported into `args`). `name` replaces the layer's own name when given.
pub fn parse(args: &mut Args, argument: &str, name: Option<&dyn Fn(&str) -> String>) -> Option<Inner> {
    let node = args.take_as(argument, ArgKind::Any)?;
    parse_node(args, node, name)
}

/// [`parse`] of a node taken already.
pub fn parse_node(args: &mut Args, node: &Node, name: Option<&dyn Fn(&str) -> String>) -> Option<Inner> {
    parse_as(args, node, name, false)
}

/// The recurrent layer type whose arguments an RNN cell class takes (`LSTMCell` → `LSTM`).
pub fn cell_layer_type(class_name: &str) -> Option<&'static LayerType> {
    let layer = class_name.strip_suffix("Cell").filter(|layer| ["SimpleRNN", "LSTM", "GRU"].contains(layer))?;
    find(layer)
}

/// An RNN cell (`{class_name: LSTMCell, config: {…}}`), read with its layer's arguments.
pub fn parse_cell(args: &mut Args, node: &Node) -> Option<Inner> {
    parse_as(args, node, None, true)
}

fn parse_as(args: &mut Args, node: &Node, name: Option<&dyn Fn(&str) -> String>, cell: bool) -> Option<Inner> {
    let (type_name, span, entries) = parts(node).map_err(|diagnostic| args.diagnostics.push(diagnostic)).ok()?;
    let found = if cell { cell_layer_type(type_name) } else { find(type_name) };
    let Some(layer_type) = found else {
        if cell {
            args.diagnostics.push(
                Diagnostic::error(Code::UnknownLayer, format!("unknown RNN cell `{type_name}`"))
                    .at_labelled(span, "not an RNN cell")
                    .with_help("the cells are `SimpleRNNCell`, `LSTMCell`, `GRUCell` and `StackedRNNCells`"),
            );
            return None;
        }
        let names = super::LAYER_TYPES.iter().map(|t| t.name);
        let diagnostic = Diagnostic::error(Code::UnknownLayer, format!("unknown layer type `{type_name}`"))
            .at_labelled(span, "not a layer type");
        args.diagnostics.push(match did_you_mean(type_name, names) {
            Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
            None => diagnostic.with_help("specs/layers.md lists the layer types"),
        });
        return None;
    };
    let mut inner = Args::new(args.file(), args.lookup(), layer_type.name, entries, span);
    let default_name = if cell { format!("{}_cell", layer_type.name) } else { layer_type.name.to_string() };
    let own_name = inner.string("name").map_or(default_name, |name| name.value);
    let trainable = inner.bool_or("trainable", true);
    let mut initializers = Vec::new();
    let mut given = Vec::new();
    let resolver = args.initializer_resolver();
    inner = inner.resolving_initializers(resolver);
    for &argument in layer_type.arguments.iter().filter(|a| a.ends_with("_initializer")) {
        if let Some(node) = inner.take(argument) {
            match resolver {
                // Any initializer, resolved as a top-level layer's is.
                Some(resolve) => match resolve(node) {
                    Ok(call) => given.push((argument, call)),
                    Err(diagnostic) => inner.diagnostics.push(diagnostic),
                },
                None => match plain_family(node) {
                    Ok(family) => initializers.push((argument, family, node.span)),
                    Err(diagnostic) => inner.diagnostics.push(diagnostic),
                },
            }
        }
    }
    let layer = (layer_type.parse)(&mut inner);
    if layer.is_none() && !inner.diagnostics.iter().any(Diagnostic::is_error) {
        inner.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, format!("`{}` rejected its arguments", layer_type.name))
                .at(span)
                .with_help("specs/layers.md lists the arguments this layer type takes"),
        );
    }
    inner.accept_inert(&[]);
    let known: Vec<&str> = layer_type.arguments.iter().chain(&COMMON_ARGUMENTS).copied().collect();
    let found = inner.finish(&known);
    let failed = found.iter().any(Diagnostic::is_error);
    args.diagnostics.extend(found);
    if failed {
        return None;
    }
    let name = name.map_or(own_name.clone(), |rename| rename(&own_name));
    Some(Inner { layer_type, name, layer: layer?, trainable, initializers, given, span, cell })
}

/// The segment Keras puts between a recurrent layer and its weights: its cell's name.
pub fn cell_name(layer_type: &LayerType) -> Option<&'static str> {
    match layer_type.class_name {
        "SimpleRNN" => Some("simple_rnn_cell"),
        "LSTM" => Some("lstm_cell"),
        "GRU" => Some("gru_cell"),
        _ => None,
    }
}

impl Inner {
    /// Builds the layer on `inputs`; its weights named `<name>.<weight>` (a recurrent layer's
    /// `<weight>` carries its cell: `lstm_cell.kernel`).
    pub fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        let mut built = self.layer.build(inputs)?;
        // A recurrent layer names its weights under its cell (`lstm_cell.kernel`); read as a
        // cell, the cell's own name takes that segment's place.
        let cell_segment = cell_name(self.layer_type).filter(|_| self.cell).map(|cell| format!("{cell}."));
        for weight in &mut built.weights {
            if let Some((_, family, span)) =
                self.initializers.iter().find(|(argument, ..)| *argument == weight.initializer_argument)
                && *family != weight.default_initializer
            {
                return Err(Diagnostic::error(
                    Code::InvalidValue,
                    format!("initc takes a wrapped layer's `{}` only at Keras's default", weight.initializer_argument),
                )
                .at(*span)
                .with_help("remove the initializer (or give Keras's default); a wrapped layer's own initializers are not applied yet"));
            }
            if let Some((_, call)) = self.given.iter().find(|(argument, _)| *argument == weight.initializer_argument) {
                weight.given_initializer = Some(call.clone());
            }
            let own = match &cell_segment {
                Some(segment) => weight.name.strip_prefix(segment.as_str()).unwrap_or(&weight.name),
                None => &weight.name,
            };
            weight.name = Cow::Owned(format!("{}.{own}", self.name));
            weight.trainable &= self.trainable;
            weight.wrapped_class = Some(self.layer_type.class_name);
        }
        Ok(built)
    }
}
