//! The config front end: YAML text → a spanned tree of [`Node`]s → [`ModelConfig`], whose fields
//! are the config's top-level keys. The only module that touches the YAML crate.

pub mod hf;
pub mod keras_json;
mod node;
mod syntax_hints;
mod vars_file;

pub use keras_json::{DOCUMENT_KEYS as KERAS_MODEL_KEYS, MODEL_CONFIG_KEYS as KERAS_MODEL_CONFIG_KEYS};
pub use node::{Node, Value};
pub use vars_file::{FileVar, flatten_root, read_vars};

use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::source::{SourceFile, Span};

/// The top-level keys of a config file, one field each (see `specs/config.md`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelConfig {
    pub name: Option<Node>,
    pub seed: Option<Node>,
    /// `rng:`: `philox` (the default) or `torch`.
    pub rng: Option<Node>,
    pub input: Option<Node>,
    /// `inputs:`: named model inputs, name → shape or `{shape, dtype}`.
    pub inputs: Option<Node>,
    /// `outputs:`: what the model returns, one name or a list (Keras: `[layer, node, tensor]` triples).
    pub outputs: Option<Node>,
    /// `vars:` entries, name → value, in source order.
    pub vars: Vec<(Node, Node)>,
    /// `initializers:` entries, name → definition, in source order.
    pub initializers: Vec<(Node, Node)>,
    /// `checks:`: conditions on the vars, each `{check: EXPR, message: TEXT}`.
    pub checks: Vec<Node>,
    pub layers: Vec<Node>,
    /// Where `layers:` is, or the document start if it is missing.
    pub layers_span: Span,
}

pub const TOP_LEVEL_KEYS: [&str; 10] =
    ["name", "seed", "rng", "input", "inputs", "outputs", "vars", "initializers", "checks", "layers"];

/// Parses a config file. Returns the config when the YAML was readable at all, plus every
/// problem found in its top-level structure.
pub fn parse(file: &SourceFile) -> (Option<ModelConfig>, Diagnostics) {
    let root = match parse_yaml(file) {
        Ok(root) => root,
        Err(diagnostic) => return (None, vec![diagnostic]),
    };
    // What Keras's `model.to_json()` writes (JSON is YAML) has `class_name` at the top.
    if root.get("class_name").is_some() {
        return keras_json::convert(&root);
    }
    let mut diagnostics = Vec::new();
    let Some(entries) = root.as_map() else {
        let found = if root.is_null() { "an empty document" } else { root.kind_name() };
        diagnostics.push(
            Diagnostic::error(Code::WrongType, format!("expected a mapping at the top level, found {found}"))
                .at(root.span)
                .with_help("a config is a mapping with at least `layers:` (see specs/config.md)"),
        );
        return (None, diagnostics);
    };
    let mut config = ModelConfig { layers_span: root.span, ..ModelConfig::default() };
    let mut layers_seen = false;
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            diagnostics.push(
                Diagnostic::error(Code::WrongType, format!("expected a key name, found {}", key.kind_name()))
                    .at(key.span)
                    .with_help(format!("the top-level keys are {}", list(&TOP_LEVEL_KEYS))),
            );
            continue;
        };
        match name {
            "name" => config.name = Some(value.clone()),
            "seed" => config.seed = Some(value.clone()),
            "rng" => config.rng = Some(value.clone()),
            "input" => config.input = Some(value.clone()),
            "inputs" => config.inputs = Some(value.clone()),
            "outputs" => config.outputs = Some(value.clone()),
            "vars" => match &value.value {
                Value::Map(entries) => config.vars = entries.clone(),
                Value::Null => {}
                _ => {
                    diagnostics.push(expected("a mapping of variable names to numbers", "vars: {d_model: 768}", value))
                }
            },
            "checks" => match &value.value {
                Value::Seq(items) => config.checks = items.clone(),
                Value::Null => {}
                _ => diagnostics.push(expected(
                    "a list of checks",
                    "checks: [{check: \"d_model % n_heads == 0\", message: \"d_model must be a multiple of n_heads\"}]",
                    value,
                )),
            },
            "initializers" => match &value.value {
                Value::Map(entries) => config.initializers = entries.clone(),
                Value::Null => {}
                _ => diagnostics.push(expected(
                    "a mapping of initializer names to definitions",
                    "initializers: {small: \"random_normal(stddev=0.02)\"}",
                    value,
                )),
            },
            "layers" => {
                layers_seen = true;
                config.layers_span = key.span;
                match &value.value {
                    Value::Seq(items) if items.is_empty() => diagnostics.push(
                        Diagnostic::error(Code::MissingKey, "`layers:` is empty")
                            .at(key.span)
                            .with_help("add at least one layer, e.g. `- dense: {units: 10}`"),
                    ),
                    Value::Seq(items) => config.layers = items.clone(),
                    Value::Null => diagnostics.push(
                        Diagnostic::error(Code::MissingKey, "`layers:` is empty")
                            .at(key.span)
                            .with_help("add at least one layer, e.g. `- dense: {units: 10}`"),
                    ),
                    _ => diagnostics.push(expected("a list of layers", "layers: [{dense: {units: 10}}]", value)),
                }
            }
            _ => {
                let mut diagnostic = Diagnostic::error(Code::UnknownKey, format!("unknown top-level key `{name}`"))
                    .at_labelled(key.span, "not a config key");
                diagnostic = match did_you_mean(name, TOP_LEVEL_KEYS) {
                    Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
                    None => diagnostic.with_help(format!("the top-level keys are {}", list(&TOP_LEVEL_KEYS))),
                };
                diagnostics.push(diagnostic);
            }
        }
    }
    if !layers_seen {
        diagnostics.push(
            Diagnostic::error(Code::MissingKey, "the config has no `layers:` list")
                .at(root.span)
                .with_help("add `layers:` with at least one layer, e.g. `layers: [{dense: {units: 10}}]`"),
        );
    }
    (Some(config), diagnostics)
}

/// Reads the YAML document into a [`Node`] tree, with the parser's resource budget in force
/// (alias bombs and deep nesting end in a diagnostic, not in memory exhaustion).
pub fn parse_yaml(file: &SourceFile) -> Result<Node, Diagnostic> {
    serde_saphyr::from_str::<Node>(file.text()).map_err(|error| {
        let location = error.location();
        // The cause, without the snippet and alias context the parser wraps it in.
        let mut error = &error;
        while let serde_saphyr::Error::AliasError { error: inner, .. }
        | serde_saphyr::Error::WithSnippet { error: inner, .. } = error
        {
            error = inner;
        }
        let text = error.to_string();
        let diagnostic = if matches!(error, serde_saphyr::Error::Budget { .. }) || text.contains("recursion limit") {
            let detail = text
                .split("budget breached: ")
                .nth(1)
                .map_or("nesting too deep", |d| d.split(" at line ").next().unwrap_or(d));
            Diagnostic::error(Code::YamlLimit, format!("the YAML is larger or deeper than initc reads ({detail})"))
                .with_help("aliases that expand exponentially and nesting deeper than 64 levels are refused")
        } else {
            let help = if text.contains("duplicate mapping key") {
                "a key may appear once in a mapping: remove or rename the repeated one"
            } else {
                "fix the YAML syntax at this position"
            };
            Diagnostic::error(Code::YamlSyntax, yaml_message(&text)).with_help(help)
        };
        let stuck_at = match location.or(error.location()) {
            Some(location) if location.line() > 0 => {
                let start = file.offset_of(location.line() as usize, location.column() as usize);
                Some(Span::at(start, 1.min(file.text().len() - start)))
            }
            _ => None,
        };
        if diagnostic.code == Code::YamlSyntax
            && let Some(better) = explain_syntax_error(file, &text, stuck_at)
        {
            return better;
        }
        match stuck_at {
            Some(span) => diagnostic.at(span),
            None => diagnostic,
        }
    })
}

/// A clearer diagnostic for two syntax errors the parser reports far from their cause: a tab in
/// the indentation, and a `[` or `{` that is never closed (the parser stops at the next `:` it
/// cannot place, often lines later). `stuck_at` is where the parser stopped.
fn explain_syntax_error(file: &SourceFile, parser_message: &str, stuck_at: Option<Span>) -> Option<Diagnostic> {
    let hints = syntax_hints::scan(file.text());
    let one_character = |at: usize| Span::at(at, file.text()[at..].chars().next().map_or(0, char::len_utf8));
    if parser_message.contains("tab")
        && let Some(tab) = hints.indenting_tab
    {
        return Some(
            Diagnostic::error(Code::YamlSyntax, "YAML does not allow tabs for indentation; use spaces")
                .at_labelled(one_character(tab), "a tab")
                .with_help("replace the tabs at the start of this line with spaces"),
        );
    }
    let unclosed = hints.unclosed.filter(|unclosed| stuck_at.is_none_or(|span| unclosed.open <= span.start))?;
    let (bracket, closer, kind) = (unclosed.bracket, unclosed.closer(), unclosed.kind());
    let diagnostic = Diagnostic::error(Code::YamlSyntax, format!("invalid YAML: unclosed `{bracket}`"))
        .at_labelled(one_character(unclosed.open), format!("this {kind} is never closed"));
    Some(match unclosed.wrong_closer {
        Some((at, wrong)) => diagnostic
            .with_note_at(one_character(at), format!("`{wrong}` comes before the `{closer}` that closes the {kind}"))
            .with_help(format!("add the missing `{closer}` before this `{wrong}`")),
        None => {
            let diagnostic = match stuck_at {
                Some(span) if span.start != unclosed.open => {
                    diagnostic.with_note_at(span, "the YAML parser stopped here")
                }
                _ => diagnostic,
            };
            diagnostic.with_help(format!("close the {kind} with `{closer}`; it may span lines, but must be closed"))
        }
    })
}

/// The YAML parser's message without its location prefix and tuning advice.
fn yaml_message(rendered: &str) -> String {
    let first_line = rendered.lines().next().unwrap_or("invalid YAML");
    let without_prefix = first_line.strip_prefix("error: ").unwrap_or(first_line);
    let without_location = match without_prefix.split_once(": ") {
        Some((location, rest)) if location.starts_with("line ") => rest,
        _ => without_prefix,
    };
    let message = without_location.split(", set DuplicateKeyPolicy").next().unwrap_or(without_location);
    let message = match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    };
    if message.starts_with("multiple YAML documents") {
        return "a config is one YAML document, this file has several".to_string();
    }
    format!("invalid YAML: {message}")
}

fn expected(what: &str, example: &str, node: &Node) -> Diagnostic {
    Diagnostic::error(Code::WrongType, format!("expected {what}, found {}", node.kind_name()))
        .at(node.span)
        .with_help(format!("write it like `{example}`"))
}

/// `a`, `b` and `c`: a list of names for messages.
pub fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// `a`, `b` or `c`: a list of alternatives for messages.
pub fn list_or(names: &[&str]) -> String {
    let and = list(names);
    match and.rfind(" and ") {
        Some(at) => format!("{} or {}", &and[..at], &and[at + 5..]),
        None => and,
    }
}

/// Where the text of string `node` starts in the file, if it stands there verbatim (plain or
/// quoted without escapes), so positions inside the string map to file positions.
pub fn string_start(file: &SourceFile, node: &Node) -> Option<usize> {
    let text = node.as_str()?;
    let slice = file.slice(node.span);
    let inner = slice.find(text)?;
    Some(node.span.start + inner)
}

/// The file span of `range` (byte offsets inside string `node`'s text), or the whole node when
/// the text does not stand verbatim in the file.
pub fn span_in_string(file: &SourceFile, node: &Node, range: std::ops::Range<usize>) -> Span {
    match string_start(file, node) {
        Some(start) => Span::new(start + range.start, start + range.end.max(range.start + 1)),
        None => node.span,
    }
}
