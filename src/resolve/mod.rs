//! Name resolution: layer entries to layer types with parsed arguments, layer names (Keras
//! auto-naming), initializer references to built-in families, the model's seed and input shape.

mod args;
mod initializer;

pub use args::{Args, INERT_ARGUMENTS, Lookup, Spanned, eval_count, eval_number};
pub use initializer::{ArgExpr, FAMILIES, Family, FamilyDef, InitCall, Param, ParamKind, find_family};

use crate::config::{ModelConfig, Node, Value, list};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::layers::{self, COMMON_ARGUMENTS, Layer, LayerType};
use crate::source::{SourceFile, Span};
use initializer::CustomInitializers;
use std::collections::HashMap;

/// What the command line adds to or overrides in the config.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub input: Option<Vec<usize>>,
}

/// The input shape a layer states it expects (`input_dim`, `input_shape`).
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectedInput {
    /// The last axis has this size.
    LastDim(usize),
    /// The whole per-example shape.
    Shape(Vec<usize>),
}

#[derive(Debug)]
pub struct ResolvedLayer {
    pub name: String,
    pub layer_type: &'static LayerType,
    pub layer: Box<dyn Layer>,
    /// The whole layer entry.
    pub span: Span,
    pub expected_input: Option<Spanned<ExpectedInput>>,
    pub trainable: bool,
    /// Initializers the config gives, by layer argument (`kernel_initializer`).
    pub initializers: Vec<(&'static str, InitCall)>,
}

#[derive(Debug)]
pub struct ResolvedModel {
    pub name: String,
    pub seed: u64,
    /// The per-example input shape, from `--input`, `input:` or the first layer's `input_shape`.
    pub input: Option<Spanned<Vec<usize>>>,
    pub layers: Vec<ResolvedLayer>,
}

/// No variables exist in expressions outside initializer arguments yet.
fn no_variables(_: &str) -> Option<f64> {
    None
}

/// Resolves a parsed config. Every problem is reported; the model is returned only when there
/// were none, so later stages never see a half-resolved layer.
pub fn resolve(file: &SourceFile, config: &ModelConfig, overrides: &Overrides) -> (Option<ResolvedModel>, Diagnostics) {
    let mut diagnostics = Vec::new();
    let name = match &config.name {
        None => "sequential".to_string(),
        Some(node) => match node.as_str() {
            Some(text) if !text.is_empty() => text.to_string(),
            _ => {
                diagnostics.push(
                    Diagnostic::error(
                        Code::WrongType,
                        format!("`name` must be a non-empty string, found {}", node.kind_name()),
                    )
                    .at(node.span),
                );
                String::new()
            }
        },
    };
    let seed = overrides.seed.unwrap_or_else(|| match &config.seed {
        None => 0,
        Some(node) => report(&mut diagnostics, seed_value(node)).unwrap_or(0),
    });
    let input = match (&overrides.input, &config.input) {
        (Some(shape), _) => Some(Spanned { value: shape.clone(), span: Span::default() }),
        (None, Some(node)) => report(&mut diagnostics, shape_value(file, node, "input")),
        (None, None) => None,
    };
    let customs = CustomInitializers { file, definitions: &config.initializers };
    check_custom_initializers(&customs, &mut diagnostics);

    let mut layers: Vec<ResolvedLayer> = Vec::new();
    let mut counters: HashMap<&'static str, usize> = HashMap::new();
    let mut names: HashMap<String, Span> = HashMap::new();
    for entry in &config.layers {
        let Some(layer) = resolve_layer(file, entry, &customs, &mut counters, &mut diagnostics) else {
            continue;
        };
        if let Some(first) = names.get(&layer.name) {
            diagnostics.push(
                Diagnostic::error(Code::DuplicateName, format!("two layers are named `{}`", layer.name))
                    .at(layer.span)
                    .with_note_at(*first, "first used here")
                    .with_help("give one of them another `name:`"),
            );
        }
        names.insert(layer.name.clone(), layer.span);
        layers.push(layer);
    }
    // Keras 2 style: the first layer's `input_shape` gives the model input.
    let input = input.or_else(|| match layers.first()?.expected_input.as_ref()? {
        Spanned { value: ExpectedInput::Shape(shape), span } => Some(Spanned { value: shape.clone(), span: *span }),
        Spanned { value: ExpectedInput::LastDim(dim), span } => Some(Spanned { value: vec![*dim], span: *span }),
    });
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    (Some(ResolvedModel { name, seed, input, layers }), diagnostics)
}

fn report<T>(diagnostics: &mut Diagnostics, result: Result<T, Diagnostic>) -> Option<T> {
    result.map_err(|diagnostic| diagnostics.push(diagnostic)).ok()
}

fn seed_value(node: &Node) -> Result<u64, Diagnostic> {
    match node.value {
        Value::Int(value) => u64::try_from(value).map_err(|_| {
            Diagnostic::error(Code::InvalidValue, format!("`seed` must be an integer from 0 to 2^64-1, found {value}"))
                .at(node.span)
        }),
        _ => Err(Diagnostic::error(Code::WrongType, format!("`seed` must be an integer, found {}", node.kind_name()))
            .at(node.span)),
    }
}

/// A per-example shape: a list of positive sizes (a bare number means one axis).
fn shape_value(file: &SourceFile, node: &Node, what: &str) -> Result<Spanned<Vec<usize>>, Diagnostic> {
    let what = format!("a dimension of `{what}`");
    let dims = match &node.value {
        Value::Seq(items) => {
            items.iter().map(|item| eval_count(file, item, &no_variables, 1, &what)).collect::<Result<_, _>>()?
        }
        Value::Int(_) | Value::Str(_) => vec![eval_count(file, node, &no_variables, 1, &what)?],
        _ => {
            return Err(Diagnostic::error(
                Code::WrongType,
                format!("expected a shape like [128, 64], found {}", node.kind_name()),
            )
            .at(node.span));
        }
    };
    Ok(Spanned { value: dims, span: node.span })
}

/// Every custom initializer must resolve on its own, even if unused (cycles, typos). Duplicate
/// names never get here: the YAML parser rejects duplicate keys.
fn check_custom_initializers(customs: &CustomInitializers, diagnostics: &mut Diagnostics) {
    for (index, (key, _)) in customs.definitions.iter().enumerate() {
        let Some(name) = key.as_str() else {
            diagnostics.push(
                Diagnostic::error(Code::WrongType, format!("expected an initializer name, found {}", key.kind_name()))
                    .at(key.span),
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
        if let Err(diagnostic) = customs.resolve_definition(index) {
            diagnostics.push(diagnostic);
        }
    }
}

/// A layer entry split into its parts, whichever form it was written in.
struct LayerEntry<'a> {
    type_name: &'a str,
    type_span: Span,
    arguments: &'a [(Node, Node)],
}

/// Splits a layer entry into its type name, the span of that name, and its argument map.
fn layer_parts(entry: &Node) -> Result<LayerEntry<'_>, Diagnostic> {
    const EMPTY: &[(Node, Node)] = &[];
    match &entry.value {
        Value::Str(name) => Ok(LayerEntry { type_name: name, type_span: entry.span, arguments: EMPTY }),
        Value::Map(entries) if entry.get("class_name").is_some() => {
            let class = entry.get("class_name").and_then(Node::as_str).ok_or_else(|| bad_layer(entry))?;
            let class_span = entry.get("class_name").map_or(entry.span, |node| node.span);
            for (key, _) in entries {
                if !matches!(
                    key.as_str(),
                    Some(
                        "class_name"
                            | "config"
                            | "module"
                            | "registered_name"
                            | "build_config"
                            | "name"
                            | "inbound_nodes"
                    )
                ) {
                    return Err(Diagnostic::error(Code::UnknownKey, "unknown key in a Keras layer")
                        .at(key.span)
                        .with_help("a Keras layer has `class_name` and `config` (and `module`, `registered_name`, `build_config`)"));
                }
            }
            match entry.get("config") {
                None => Ok(LayerEntry { type_name: class, type_span: class_span, arguments: EMPTY }),
                Some(config) if config.is_null() => {
                    Ok(LayerEntry { type_name: class, type_span: class_span, arguments: EMPTY })
                }
                Some(config) => config
                    .as_map()
                    .map(|arguments| LayerEntry { type_name: class, type_span: class_span, arguments })
                    .ok_or_else(|| {
                        Diagnostic::error(
                            Code::WrongType,
                            format!("`config` must be a mapping, found {}", config.kind_name()),
                        )
                        .at(config.span)
                    }),
            }
        }
        Value::Map(entries) if entries.len() == 1 => {
            let (key, value) = &entries[0];
            let name = key.as_str().ok_or_else(|| bad_layer(entry))?;
            match &value.value {
                Value::Null => Ok(LayerEntry { type_name: name, type_span: key.span, arguments: EMPTY }),
                Value::Map(arguments) => Ok(LayerEntry { type_name: name, type_span: key.span, arguments }),
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

fn resolve_layer(
    file: &SourceFile,
    entry: &Node,
    customs: &CustomInitializers,
    counters: &mut HashMap<&'static str, usize>,
    diagnostics: &mut Diagnostics,
) -> Option<ResolvedLayer> {
    let LayerEntry { type_name, type_span, arguments: entries } = report(diagnostics, layer_parts(entry))?;
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
    let mut args = Args::new(file, &no_variables, layer_type.name, entries, type_span);
    let explicit_name = args.string("name");
    let trainable = args.bool_or("trainable", true);
    let expected_input = expected_input(&mut args, layer_type);
    let mut initializers = Vec::new();
    for &argument in layer_type.arguments.iter().filter(|a| a.ends_with("_initializer")) {
        if let Some(node) = args.take(argument)
            && let Some(call) = report(&mut args.diagnostics, customs.resolve(node))
        {
            initializers.push((argument, call));
        }
    }
    let layer = (layer_type.parse)(&mut args);
    args.accept_inert(&[]);
    let known: Vec<&str> = layer_type.arguments.iter().chain(&COMMON_ARGUMENTS).copied().collect();
    let found = args.finish(&known);
    let failed = found.iter().any(Diagnostic::is_error);
    diagnostics.extend(found);
    let name = match explicit_name {
        Some(name) if name.value.is_empty() => {
            diagnostics.push(Diagnostic::error(Code::InvalidValue, "a layer `name` must not be empty").at(name.span));
            return None;
        }
        Some(name) => name.value,
        None => auto_name(layer_type.name, counters),
    };
    if failed {
        return None;
    }
    Some(ResolvedLayer { name, layer_type, layer: layer?, span: type_span, expected_input, trainable, initializers })
}

fn expected_input(args: &mut Args, layer_type: &LayerType) -> Option<Spanned<ExpectedInput>> {
    let file = args.file();
    let shape = args.take("input_shape").and_then(|node| {
        let shape = shape_value(file, node, "input_shape").map_err(|d| args.diagnostics.push(d)).ok()?;
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
