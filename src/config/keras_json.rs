//! Keras's `model.to_json()` of a Sequential or Functional model → [`ModelConfig`]. The layers
//! pass through unchanged (the resolver reads `{class_name, config, inbound_nodes}` entries); what
//! this module does is find the model's name, its layer list, its inputs (a Sequential model's
//! input shape, a Functional model's `InputLayer`s) and outputs, and refuse what it cannot import.

use super::{ModelConfig, Node, Value, list};
use crate::diagnostic::{Code, Diagnostic, Diagnostics};

/// Keys of the document itself: what `to_json` writes in Keras 3 (`module`, `registered_name`,
/// `build_config`, `compile_config`) and in Keras 2 (`keras_version`, `backend`).
pub const DOCUMENT_KEYS: [&str; 8] =
    ["class_name", "config", "module", "registered_name", "build_config", "compile_config", "keras_version", "backend"];

/// Keys of a Sequential model's `config`. `trainable` and `dtype` do not change initial weights.
pub const MODEL_CONFIG_KEYS: [&str; 5] = ["name", "layers", "build_input_shape", "trainable", "dtype"];

/// Keys of a Functional model's `config`.
pub const FUNCTIONAL_CONFIG_KEYS: [&str; 5] = ["name", "trainable", "layers", "input_layers", "output_layers"];

/// Converts a Keras model JSON document into the config it describes.
pub fn convert(root: &Node) -> (Option<ModelConfig>, Diagnostics) {
    convert_with_keys(root, &[])
}

/// Keys a model has when it is a layer of another model.
const NESTED_KEYS: [&str; 2] = ["name", "inbound_nodes"];

/// Converts a model used as a layer of another (its entry in the outer `layers`).
pub fn convert_nested(entry: &Node) -> (Option<ModelConfig>, Diagnostics) {
    convert_with_keys(entry, &NESTED_KEYS)
}

fn convert_with_keys(root: &Node, extra_keys: &[&str]) -> (Option<ModelConfig>, Diagnostics) {
    let mut diagnostics = Vec::new();
    let Some(entries) = root.as_map() else {
        return (
            None,
            vec![
                Diagnostic::error(Code::WrongType, "expected a Keras model mapping")
                    .at(root.span)
                    .with_help("give the JSON that Keras's `model.to_json()` writes"),
            ],
        );
    };
    for (key, _) in entries {
        if !key.as_str().is_some_and(|name| DOCUMENT_KEYS.contains(&name) || extra_keys.contains(&name)) {
            diagnostics.push(unknown_key(key, "a Keras model document", &DOCUMENT_KEYS));
        }
    }
    let functional = match check_class(root) {
        Ok(functional) => functional,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            return (None, diagnostics);
        }
    };
    let model = match root.get("config") {
        Some(model) if model.as_map().is_some() => model,
        Some(model) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("the model's `config` must be a mapping, found {}", model.kind_name()),
                )
                .at(model.span)
                .with_help("give the JSON that Keras's `model.to_json()` writes, unchanged"),
            );
            return (None, diagnostics);
        }
        None => {
            diagnostics.push(
                Diagnostic::error(Code::MissingKey, "this Keras model has no `config`")
                    .at(root.span)
                    .with_help("export the model with `model.to_json()`"),
            );
            return (None, diagnostics);
        }
    };

    if functional {
        let config = convert_functional(model, &mut diagnostics);
        return (Some(config), diagnostics);
    }
    let mut config = ModelConfig { layers_span: model.span, ..ModelConfig::default() };
    let mut layers_seen = false;
    for (key, value) in model.as_map().unwrap_or_default() {
        match key.as_str() {
            Some("name") => config.name = Some(value.clone()),
            Some("layers") => {
                layers_seen = true;
                config.layers_span = key.span;
                let (input, layers) = split_layers(key, value, &mut diagnostics);
                config.input = input;
                config.layers = layers;
            }
            Some("build_input_shape" | "trainable" | "dtype") => {}
            _ => diagnostics.push(unknown_key(key, "a Sequential model's `config`", &MODEL_CONFIG_KEYS)),
        }
    }
    if !layers_seen {
        diagnostics.push(
            Diagnostic::error(Code::MissingKey, "this Keras model has no `layers` list")
                .at(model.span)
                .with_help("a Sequential model's `config` lists its layers under `layers`"),
        );
    }
    if config.input.is_none() {
        config.input = fallback_input(root, model, &config.layers, &mut diagnostics);
    }
    (Some(config), diagnostics)
}

/// Whether the document is a Functional model (else Sequential); any other class is refused.
fn check_class(root: &Node) -> Result<bool, Diagnostic> {
    let Some(class_node) = root.get("class_name") else {
        return Err(Diagnostic::error(Code::MissingKey, "this Keras model has no `class_name`")
            .at(root.span)
            .with_help(
                "give the JSON that Keras's `model.to_json()` writes; it starts with `\"class_name\": \"Sequential\"` or `\"Functional\"`",
            ));
    };
    match class_node.as_str() {
        Some("Sequential") => Ok(false),
        Some("Functional" | "Model") => Ok(true),
        Some(class) => Err(Diagnostic::error(
            Code::InvalidValue,
            format!("cannot import a Keras `{class}` model: only Sequential and Functional models can be imported"),
        )
        .at_labelled(class_node.span, "not a Sequential or Functional model")
        .with_help("a subclassed model has no JSON graph: rebuild it with the functional API, or write it as an initc config (see specs/config.md)")),
        None => Err(Diagnostic::error(
            Code::WrongType,
            format!("`class_name` must be a string, found {}", class_node.kind_name()),
        )
        .at(class_node.span)
        .with_help("a Keras model JSON has `\"class_name\": \"Sequential\"` or `\"Functional\"`")),
    }
}

/// A Functional model: its `InputLayer`s become named inputs, `output_layers` the outputs, and
/// the other layers (with their `inbound_nodes`) pass through.
fn convert_functional(model: &Node, diagnostics: &mut Diagnostics) -> ModelConfig {
    let mut config = ModelConfig { layers_span: model.span, ..ModelConfig::default() };
    let mut inputs = Vec::new();
    for (key, value) in model.as_map().unwrap_or_default() {
        match key.as_str() {
            Some("name") => config.name = Some(value.clone()),
            Some("layers") => {
                config.layers_span = key.span;
                let Some(items) = value.as_seq() else {
                    diagnostics.push(
                        Diagnostic::error(Code::WrongType, format!("`layers` must be a list, found {}", value.kind_name()))
                            .at(value.span)
                            .with_help("a Functional model's `config.layers` is a list of `{class_name, config, inbound_nodes}` entries"),
                    );
                    continue;
                };
                for item in items {
                    if item.get("class_name").and_then(Node::as_str) == Some("InputLayer") {
                        if let Some(input) = input_entry(item, diagnostics) {
                            inputs.push(input);
                        }
                    } else {
                        config.layers.push(item.clone());
                    }
                }
            }
            Some("output_layers") => config.outputs = Some(value.clone()),
            Some("input_layers" | "trainable") => {}
            _ => diagnostics.push(unknown_key(key, "a Functional model's `config`", &FUNCTIONAL_CONFIG_KEYS)),
        }
    }
    if config.layers.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::MissingKey, "this Keras model has no layers")
                .at(model.span)
                .with_help("a model needs at least one layer besides its `InputLayer`s"),
        );
    }
    if inputs.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::MissingKey, "this Functional model has no `InputLayer`").at(model.span).with_help(
                "a Functional model's `layers` start with an `InputLayer` per input, as `to_json()` writes them",
            ),
        );
    } else {
        config.inputs = Some(Node { value: Value::Map(inputs), span: model.span });
    }
    config
}

/// An `InputLayer` as an `inputs:` entry: its name → `{shape, dtype}`.
fn input_entry(item: &Node, diagnostics: &mut Diagnostics) -> Option<(Node, Node)> {
    let config = item.get("config");
    let name = config.and_then(|config| config.get("name")).or_else(|| item.get("name")).and_then(Node::as_str);
    let Some(name) = name else {
        diagnostics.push(
            Diagnostic::error(Code::MissingKey, "this `InputLayer` has no name")
                .at(item.span)
                .with_help("give the JSON that Keras's `model.to_json()` writes, unchanged"),
        );
        return None;
    };
    let shape = config.and_then(|config| config.get("batch_shape").or_else(|| config.get("batch_input_shape")));
    let Some(shape) = shape else {
        diagnostics.push(
            Diagnostic::error(Code::MissingKey, format!("`InputLayer` `{name}` has no `batch_shape`"))
                .at(config.map_or(item.span, |config| config.span))
                .with_help("export the model built with `keras.Input(shape=…)`"),
        );
        return None;
    };
    let shape = per_example_shape(shape, "batch_shape").map_err(|d| diagnostics.push(d)).ok()?;
    let mut fields = vec![(Node { value: Value::Str("shape".into()), span: shape.span }, shape)];
    if let Some(dtype) = config.and_then(|config| config.get("dtype")).filter(|dtype| dtype.as_str().is_some()) {
        fields.push((Node { value: Value::Str("dtype".into()), span: dtype.span }, dtype.clone()));
    }
    let key = Node { value: Value::Str(name.to_string()), span: item.span };
    Some((key, Node { value: Value::Map(fields), span: item.span }))
}

/// Splits `config.layers` into the input shape its leading `InputLayer` gives and the layers
/// proper, which stay as they are.
fn split_layers(key: &Node, value: &Node, diagnostics: &mut Diagnostics) -> (Option<Node>, Vec<Node>) {
    let items = match &value.value {
        Value::Seq(items) => items.as_slice(),
        Value::Null => &[],
        _ => {
            diagnostics.push(
                Diagnostic::error(Code::WrongType, format!("`layers` must be a list, found {}", value.kind_name()))
                    .at(value.span)
                    .with_help("a Sequential model's `config.layers` is a list of `{class_name, config}` entries"),
            );
            return (None, Vec::new());
        }
    };
    let mut input = None;
    let mut layers = Vec::new();
    for item in items {
        let class = item.get("class_name").and_then(Node::as_str);
        if class != Some("InputLayer") {
            layers.push(item.clone());
            continue;
        }
        if !layers.is_empty() || input.is_some() {
            diagnostics.push(
                Diagnostic::error(Code::InvalidValue, "an `InputLayer` can only be the first layer")
                    .at(item.span)
                    .with_help("a Sequential model has one input, given by its first layer"),
            );
            continue;
        }
        let config = item.get("config");
        let shape = config.and_then(|config| config.get("batch_shape").or_else(|| config.get("batch_input_shape")));
        match shape {
            Some(shape) => match per_example_shape(shape, "batch_shape") {
                Ok(shape) => input = Some(shape),
                Err(diagnostic) => diagnostics.push(diagnostic),
            },
            None => diagnostics.push(
                Diagnostic::error(Code::MissingKey, "this `InputLayer` has no `batch_shape`")
                    .at(config.map_or(item.span, |config| config.span))
                    .with_help("export the model with `keras.Input(shape=…)` as its first layer"),
            ),
        }
    }
    if layers.is_empty() {
        diagnostics.push(
            Diagnostic::error(Code::MissingKey, "this Keras model has no layers")
                .at(key.span)
                .with_help("a model needs at least one layer besides its `InputLayer`"),
        );
    }
    (input, layers)
}

/// Without an `InputLayer`: the shape the model was built with (`config.build_input_shape`,
/// then `build_config.input_shape`), or Keras 2's `batch_input_shape` on the first layer.
fn fallback_input(root: &Node, model: &Node, layers: &[Node], diagnostics: &mut Diagnostics) -> Option<Node> {
    let candidates = [
        (model.get("build_input_shape"), "build_input_shape"),
        (root.get("build_config").and_then(|build| build.get("input_shape")), "input_shape"),
        (layers.first().and_then(|layer| layer.get("config")?.get("batch_input_shape")), "batch_input_shape"),
    ];
    let (shape, what) = candidates.into_iter().find_map(|(node, what)| Some((node.filter(|n| !n.is_null())?, what)))?;
    per_example_shape(shape, what).map_err(|diagnostic| diagnostics.push(diagnostic)).ok()
}

/// A Keras batch shape (`[null, 28, 28, 1]`) without its batch axis, each size keeping its span.
/// A `null` size stays (the resolver points at it unless `--input` gives the shape).
fn per_example_shape(shape: &Node, what: &str) -> Result<Node, Diagnostic> {
    match &shape.value {
        Value::Seq(items) if items.len() >= 2 => Ok(Node { value: Value::Seq(items[1..].to_vec()), span: shape.span }),
        Value::Seq(_) => Err(Diagnostic::error(
            Code::InvalidValue,
            format!("`{what}` must have a batch axis and at least one more, like [null, 28, 28, 1]"),
        )
        .at(shape.span)
        .with_help("build the model with `keras.Input(shape=…)` giving at least one per-example size")),
        _ => Err(Diagnostic::error(
            Code::WrongType,
            format!("`{what}` must be a list like [null, 28, 28, 1], found {}", shape.kind_name()),
        )
        .at(shape.span)
        .with_help("a batch shape is a list: `null` for the batch axis, then the per-example sizes")),
    }
}

fn unknown_key(key: &Node, place: &str, known: &[&str]) -> Diagnostic {
    let name = match key.as_str() {
        Some(name) => format!("`{name}`"),
        None => key.kind_name().to_string(),
    };
    Diagnostic::error(Code::UnknownKey, format!("unknown key {name} in {place}"))
        .at_labelled(key.span, "not a Keras model key")
        .with_help(format!("the keys here are {}", list(known)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn parse(text: &str) -> (Option<ModelConfig>, Diagnostics) {
        let file = SourceFile::new("model.json", text);
        super::super::parse(&file)
    }

    fn messages(diagnostics: &Diagnostics) -> Vec<&str> {
        diagnostics.iter().map(|diagnostic| diagnostic.message.as_str()).collect()
    }

    fn dims(node: &Node) -> Vec<Value> {
        node.as_seq().unwrap_or_default().iter().map(|item| item.value.clone()).collect()
    }

    const MINIMAL: &str = r#"{
  "module": "keras",
  "class_name": "Sequential",
  "config": {
    "name": "tiny",
    "trainable": true,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
    "layers": [
      {"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28, 1], "name": "input_layer"}},
      {"class_name": "Flatten", "config": {"name": "flatten"}},
      {"class_name": "Dense", "config": {"name": "dense", "units": 10}}
    ],
    "build_input_shape": [null, 5]
  },
  "registered_name": null,
  "compile_config": {}
}"#;

    #[test]
    fn a_minimal_sequential_model_converts() {
        let (config, diagnostics) = parse(MINIMAL);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let Some(config) = config else { panic!("no config") };
        assert_eq!(config.name.and_then(|name| name.as_str().map(str::to_string)), Some("tiny".to_string()));
        assert_eq!(config.layers.len(), 2);
        assert_eq!(config.layers[1].get("class_name").and_then(Node::as_str), Some("Dense"));
    }

    #[test]
    fn the_input_layer_batch_shape_gives_the_input_without_its_batch_axis() {
        let (config, _) = parse(MINIMAL);
        let Some(input) = config.and_then(|config| config.input) else { panic!("no input") };
        assert_eq!(dims(&input), vec![Value::Int(28), Value::Int(28), Value::Int(1)]);
        let start = MINIMAL.find("[null, 28").unwrap_or_default();
        assert_eq!(input.span.start, start);
        let first_dim = input.as_seq().map(|items| items[0].span.start);
        assert_eq!(first_dim, MINIMAL.find("28,"));
    }

    #[test]
    fn build_input_shape_gives_the_input_without_an_input_layer() {
        let text = r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [{"class_name": "Dense",
            "config": {"units": 3}}], "build_input_shape": [null, 7]}}"#;
        let (config, diagnostics) = parse(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let Some(input) = config.and_then(|config| config.input) else { panic!("no input") };
        assert_eq!(dims(&input), vec![Value::Int(7)]);
    }

    #[test]
    fn keras_2_batch_input_shape_is_read() {
        let text = r#"{"class_name": "Sequential", "keras_version": "2.15.0", "backend": "tensorflow",
            "config": {"name": "m", "layers": [{"class_name": "InputLayer", "config":
            {"batch_input_shape": [null, 4, 2]}}, {"class_name": "Flatten", "config": {}}]}}"#;
        let (config, diagnostics) = parse(text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let Some(input) = config.and_then(|config| config.input) else { panic!("no input") };
        assert_eq!(dims(&input), vec![Value::Int(4), Value::Int(2)]);
    }

    #[test]
    fn a_subclassed_model_is_rejected_at_its_class_name() {
        let text = r#"{"class_name": "MyModel", "config": {"name": "m", "layers": []}}"#;
        let (config, diagnostics) = parse(text);
        assert!(config.is_none());
        assert_eq!(diagnostics.len(), 1);
        assert!(diagnostics[0].message.contains("`MyModel`"), "{}", diagnostics[0].message);
        assert!(diagnostics[0].message.contains("only Sequential and Functional"), "{}", diagnostics[0].message);
        let span = diagnostics[0].primary.as_ref().map(|label| label.span.start);
        assert_eq!(span, text.find("\"MyModel\""));
    }

    #[test]
    fn missing_layers_are_an_error() {
        let (_, diagnostics) = parse(r#"{"class_name": "Sequential", "config": {"name": "m"}}"#);
        assert_eq!(messages(&diagnostics), vec!["this Keras model has no `layers` list"]);
        let (_, diagnostics) = parse(
            r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [{"class_name": "InputLayer",
            "config": {"batch_shape": [null, 3]}}]}}"#,
        );
        assert_eq!(messages(&diagnostics), vec!["this Keras model has no layers"]);
        let (_, diagnostics) = parse(r#"{"class_name": "Sequential"}"#);
        assert_eq!(messages(&diagnostics), vec!["this Keras model has no `config`"]);
    }

    #[test]
    fn unknown_model_keys_are_errors_with_a_location() {
        let text = r#"{"class_name": "Sequential", "extra": 1, "config": {"name": "m", "shuffle": true,
            "layers": [{"class_name": "Flatten", "config": {}}]}}"#;
        let (_, diagnostics) = parse(text);
        assert_eq!(
            messages(&diagnostics),
            vec![
                "unknown key `extra` in a Keras model document",
                "unknown key `shuffle` in a Sequential model's `config`"
            ]
        );
        let span = diagnostics[1].primary.as_ref().map(|label| label.span.start);
        assert_eq!(span, text.find("\"shuffle\""));
    }

    #[test]
    fn an_input_layer_after_other_layers_is_an_error() {
        let text = r#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Flatten", "config": {}},
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 3]}}]}}"#;
        let (_, diagnostics) = parse(text);
        assert_eq!(messages(&diagnostics), vec!["an `InputLayer` can only be the first layer"]);
    }

    #[test]
    fn a_batch_shape_without_per_example_axes_is_an_error() {
        let text = r#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer",
            "config": {"batch_shape": [null]}}, {"class_name": "Flatten", "config": {}}]}}"#;
        let (_, diagnostics) = parse(text);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, Code::InvalidValue);
    }
}
