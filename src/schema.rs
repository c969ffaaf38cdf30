//! `initc schema`: a JSON Schema (draft-07) of the config language, for YAML editors. It is built
//! from the definitions the parser itself uses: the top-level keys, the layer catalogue with
//! each argument's kind as the parser reads it ([`resolve::layer_arguments`]), `param` and
//! `block`, the initializer families and their parameters, and the activations.

use crate::config::{KERAS_MODEL_CONFIG_KEYS, KERAS_MODEL_KEYS, Node, TOP_LEVEL_KEYS, Value};
use crate::layers::{ACTIVATIONS, LAYER_TYPES, LayerType};
use crate::resolve::{
    self, ArgKind, ArgumentInfo, FAMILIES, FamilyDef, KERAS_INITIALIZER_KEYS, KERAS_LAYER_KEYS, ParamKind, RESERVED,
};
use crate::source::SourceFile;
use serde_json::{Map, Value as Json, json};

/// The largest size the parser accepts (2^53).
const MAX_SIZE: u64 = 1 << 53;

/// The whole schema.
pub fn schema() -> Json {
    let mut definitions = Map::new();
    definitions.insert("size".into(), count(1));
    definitions.insert(
        "shape".into(),
        json!({
            "description": "A per-example shape without the batch axis: a list of sizes, or one size.",
            "anyOf": [{"$ref": "#/definitions/size"}, {"type": "array", "items": {"$ref": "#/definitions/size"}}],
        }),
    );
    definitions.insert(
        "input_shape".into(),
        json!({
            "description": "A model input's per-example shape: a list of sizes, where `null` leaves a size open \
                            (Keras's `None`), or one size.",
            "anyOf": [
                {"$ref": "#/definitions/size"},
                {"type": "array", "items": {"anyOf": [{"$ref": "#/definitions/size"}, {"type": "null"}]}},
            ],
        }),
    );
    definitions.insert(
        "number".into(),
        json!({"type": ["number", "string"], "description": "A number, or a string holding an expression."}),
    );
    definitions.insert("activation".into(), json!({"enum": ACTIVATIONS, "description": "A Keras 3 activation."}));
    definitions.insert("initializer".into(), initializer());
    definitions
        .insert("layers".into(), json!({"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/layer"}}));
    definitions.insert("layer".into(), layer());
    for layer_type in LAYER_TYPES {
        let arguments = resolve::layer_arguments(layer_type);
        let description = format!("The arguments of `{}` (Keras `{}`).", layer_type.name, layer_type.class_name);
        definitions.insert(arguments_name(layer_type.name), arguments_object(&arguments, &description));
    }
    definitions.insert(arguments_name("param"), arguments_object(&resolve::param_arguments(), "A raw tensor."));
    definitions.insert(
        arguments_name("block"),
        arguments_object(&resolve::block_arguments(), "A named group of entries, optionally repeated."),
    );
    let mut properties = Map::new();
    for key in TOP_LEVEL_KEYS {
        properties.insert(key.into(), top_level(key).unwrap_or_else(|| json!({})));
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "initc model config",
        "description": "A Keras-style model for initc: a stack of layers or a graph (see specs/config.md).",
        "type": "object",
        "definitions": definitions,
        "if": {"required": ["class_name"]},
        "then": keras_model(),
        "else": {"properties": properties, "required": ["layers"], "additionalProperties": false},
    })
}

/// The schema of one top-level key's value; `None` for a key this module does not describe
/// (a test keeps that from happening).
fn top_level(key: &str) -> Option<Json> {
    Some(match key {
        "name" => {
            json!({"type": "string", "minLength": 1, "default": "sequential", "description": "The model's name."})
        }
        "seed" => json!({
            "type": "integer", "minimum": 0, "maximum": u64::MAX, "default": 0,
            "description": "The global seed of every random initializer without its own `seed`.",
        }),
        "rng" => json!({
            "enum": ["philox", "torch"], "default": "philox",
            "description": "The generator: initc's per-tensor Philox streams, or torch 2.15's MT19937 in torch's draw order (needs the torch layout).",
        }),
        "input" => json!({"$ref": "#/definitions/input_shape"}),
        "inputs" => json!({
            "type": "object",
            "description": "Named model inputs: a shape, or `{shape, dtype}`.",
            "minProperties": 1,
            "additionalProperties": {
                "anyOf": [
                    {"$ref": "#/definitions/input_shape"},
                    {
                        "type": "object",
                        "properties": {"shape": {"$ref": "#/definitions/input_shape"}, "dtype": {"type": "string"}},
                        "required": ["shape"],
                        "additionalProperties": false,
                    }
                ]
            },
        }),
        "outputs" => json!({
            "description": "What the model returns: one name or a list of names (default: the last entry).",
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
            ]
        }),
        "vars" => json!({
            "type": ["object", "null"],
            "description": "Named values usable in every numeric field and initializer argument: numbers, expressions, null (no value), true/false, lists.",
            "propertyNames": {"not": {"enum": RESERVED}},
            "additionalProperties": {"anyOf": [
                {"$ref": "#/definitions/number"},
                {"type": ["null", "boolean"]},
                {"type": "array", "items": {"type": ["number", "string", "boolean", "null"]}}
            ]},
        }),
        "checks" => json!({
            "type": ["array", "null"],
            "description": "Conditions on the vars; a false one is an error showing its message.",
            "items": {
                "type": "object",
                "properties": {"check": {"type": ["string", "boolean", "number"]}, "message": {"type": "string"}},
                "required": ["check", "message"],
                "additionalProperties": false,
            },
        }),
        "initializers" => {
            let builtin: Vec<&str> = FAMILIES.iter().flat_map(family_names).collect();
            json!({
                "type": ["object", "null"],
                "description": "Custom initializer names.",
                "propertyNames": {"not": {"enum": builtin}},
                "additionalProperties": {"$ref": "#/definitions/initializer"},
            })
        }
        "layers" => json!({"$ref": "#/definitions/layers"}),
        _ => return None,
    })
}

/// What Keras's `model.to_json()` writes (read when the document has `class_name`).
fn keras_model() -> Json {
    let mut config = Map::new();
    for key in KERAS_MODEL_CONFIG_KEYS {
        config.insert(key.into(), json!({}));
    }
    config.insert("layers".into(), json!({"type": "array"}));
    let mut properties = Map::new();
    for key in KERAS_MODEL_KEYS {
        properties.insert(key.into(), json!({}));
    }
    properties.insert("config".into(), json!({"type": "object", "properties": config, "additionalProperties": false}));
    json!({"description": "A Keras model document.", "properties": properties, "additionalProperties": false})
}

fn arguments_name(entry: &str) -> String {
    format!("{entry}_arguments")
}

fn arguments_ref(entry: &str) -> Json {
    json!({"$ref": format!("#/definitions/{}", arguments_name(entry))})
}

/// The names a layer type goes by.
fn type_names(layer_type: &LayerType) -> [&'static str; 2] {
    [layer_type.name, layer_type.class_name]
}

fn has_required(arguments: &[ArgumentInfo]) -> bool {
    arguments.iter().any(|info| info.required)
}

/// A layer entry: a bare type name, a one-key map, or Keras's `{class_name, config}`.
fn layer() -> Json {
    let mut bare = Vec::new();
    let mut one_key = Map::new();
    let mut keras_conditions = Vec::new();
    for layer_type in LAYER_TYPES {
        let required = has_required(&resolve::layer_arguments(layer_type));
        if !required {
            bare.extend(type_names(layer_type));
        }
        let value = if required { arguments_ref(layer_type.name) } else { nullable(arguments_ref(layer_type.name)) };
        for name in type_names(layer_type) {
            one_key.insert(name.into(), value.clone());
        }
        keras_conditions.push(json!({
            "if": {"properties": {"class_name": {"enum": type_names(layer_type)}}, "required": ["class_name"]},
            "then": {"properties": {"config": value}},
        }));
    }
    one_key.insert("param".into(), arguments_ref("param"));
    one_key.insert("block".into(), arguments_ref("block"));
    let all_names: Vec<&str> = LAYER_TYPES.iter().flat_map(type_names).collect();
    let mut keras = Map::new();
    for key in KERAS_LAYER_KEYS {
        keras.insert(key.into(), json!({}));
    }
    keras.insert("class_name".into(), json!({"enum": all_names}));
    json!({
        "description": "A layer: a type name, a one-key map from the type to its arguments, `param`, `block`, or Keras's {class_name, config}.",
        "anyOf": [
            {"type": "string", "enum": bare},
            {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": one_key, "additionalProperties": false},
            {
                "type": "object", "required": ["class_name"], "properties": keras,
                "additionalProperties": false, "allOf": keras_conditions,
            },
            {
                "description": "A Keras model used as a layer (its `to_json()` entry).",
                "type": "object",
                "required": ["class_name", "config"],
                "properties": {
                    "class_name": {"enum": ["Sequential", "Functional", "Model"]},
                    "config": {"type": "object"},
                    "module": {}, "registered_name": {}, "build_config": {}, "compile_config": {},
                    "name": {"type": "string"}, "inbound_nodes": {"type": "array"},
                },
                "additionalProperties": false,
            },
        ],
    })
}

/// An argument map, closed: an unknown argument is an error, as in the parser.
fn arguments_object(arguments: &[ArgumentInfo], description: &str) -> Json {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for info in arguments {
        let schema = kind_schema(&info.kind);
        if info.required {
            required.push(info.name.clone());
            properties.insert(info.name.clone(), schema);
        } else {
            // A null argument counts as absent.
            properties.insert(info.name.clone(), nullable(schema));
        }
    }
    // Every entry may exist only when a condition holds (read before its arguments).
    properties.insert(
        "when".into(),
        json!({"type": ["boolean", "number", "string", "null"], "description": "The entry exists only when this holds."}),
    );
    json!({
        "type": "object", "description": description, "properties": properties,
        "required": required, "additionalProperties": false,
    })
}

/// The schema of a value of `kind`.
fn kind_schema(kind: &ArgKind) -> Json {
    match kind {
        ArgKind::Any => json!({}),
        ArgKind::Bool { default } => json!({"type": "boolean", "default": default}),
        ArgKind::Count { min } => count(*min),
        ArgKind::Sizes { rank } => json!({
            "anyOf": [count(1), {"type": "array", "items": count(1), "minItems": rank, "maxItems": rank}],
        }),
        ArgKind::Margins { rank, default } => {
            let pair = json!({"type": "array", "items": count(0), "minItems": 2, "maxItems": 2});
            let per_axis = if *rank == 1 {
                pair
            } else {
                let entry = json!({"anyOf": [count(0), pair]});
                json!({"type": "array", "items": entry, "minItems": rank, "maxItems": rank})
            };
            json!({"anyOf": [count(0), per_axis], "default": default})
        }
        ArgKind::Number { low, high, default } => {
            let mut schema = json!({"type": ["number", "string"]});
            if low.is_finite() {
                schema["minimum"] = json!(low);
            }
            if high.is_finite() {
                schema["maximum"] = json!(high);
            }
            if let Some(default) = default {
                schema["default"] = json!(default);
            }
            schema
        }
        ArgKind::Integer { default } => with_default(json!({"type": ["integer", "string"]}), default),
        ArgKind::Integers { min, default } => {
            let one = if *min == i64::MIN {
                json!({"type": ["integer", "string"]})
            } else {
                json!({"type": ["integer", "string"], "minimum": min})
            };
            with_default(json!({"anyOf": [one, {"type": "array", "items": one}]}), default)
        }
        ArgKind::Word { choices, default } => with_default(word(choices), default),
        ArgKind::Text => json!({"type": "string"}),
        ArgKind::Activation => json!({"$ref": "#/definitions/activation"}),
        ArgKind::Name => json!({"type": ["string", "integer"], "minLength": 1}),
        ArgKind::Calls => json!({
            "type": "array",
            "minItems": 1,
            "items": {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
                ]
            }
        }),
        ArgKind::Names => json!({
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
            ]
        }),
        ArgKind::Shape => json!({"$ref": "#/definitions/shape"}),
        ArgKind::Initializer => json!({"$ref": "#/definitions/initializer"}),
        ArgKind::Layers => json!({"$ref": "#/definitions/layers"}),
    }
}

fn with_default<T: serde::Serialize>(mut schema: Json, default: &Option<T>) -> Json {
    if let Some(default) = default {
        schema["default"] = json!(default);
    }
    schema
}

/// A whole number ≥ `min` (YAML `16` or `16.0`), or an expression.
fn count(min: i64) -> Json {
    json!({"type": ["integer", "string"], "minimum": min, "maximum": MAX_SIZE})
}

/// One of `choices`, in any case (editors complete the lowercase spelling).
fn word(choices: &[&str]) -> Json {
    let alternatives: Vec<String> = choices.iter().map(|choice| any_case(choice)).collect();
    json!({
        "type": "string",
        "anyOf": [{"enum": choices}, {"pattern": format!("^(?:{})$", alternatives.join("|"))}],
    })
}

/// A regular expression matching `word` in any ASCII case: `[Ff][Aa][Nn]_[Ii][Nn]`.
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            c if c.is_ascii_alphabetic() => format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()),
            c if c.is_ascii_alphanumeric() || c == '_' => c.to_string(),
            c => format!("\\{c}"),
        })
        .collect()
}

/// `schema` or null.
fn nullable(schema: Json) -> Json {
    if schema == json!({}) {
        return schema;
    }
    let simple = schema.get("type").is_some() && ["enum", "anyOf", "$ref"].iter().all(|key| schema.get(key).is_none());
    match (simple, schema) {
        (true, Json::Object(mut object)) => {
            let types = match object.remove("type") {
                Some(Json::Array(mut types)) => {
                    types.push(json!("null"));
                    types
                }
                Some(one) => vec![one, json!("null")],
                None => vec![json!("null")],
            };
            object.insert("type".into(), Json::Array(types));
            Json::Object(object)
        }
        (_, schema) => json!({"anyOf": [schema, {"type": "null"}]}),
    }
}

fn family_names(def: &FamilyDef) -> impl Iterator<Item = &'static str> {
    std::iter::once(def.name).chain(def.class_names.iter().copied())
}

/// An initializer: a name or call string, a one-key map from a built-in to its arguments, or
/// Keras's `{class_name, config}`.
fn initializer() -> Json {
    let names: Vec<&str> = FAMILIES.iter().flat_map(family_names).collect();
    let mut one_key = Map::new();
    let mut keras_conditions = Vec::new();
    for def in FAMILIES {
        let keywords = keyword_arguments(def);
        let positional: Vec<Json> = def.params.iter().map(|param| param_schema(param.kind)).collect();
        let mut forms = vec![json!({"type": "null"}), keywords.clone()];
        forms.push(match positional.is_empty() {
            true => json!({"type": "array", "maxItems": 0}),
            false => json!({"type": "array", "items": positional, "additionalItems": false}),
        });
        if let Some(first) = def.params.first() {
            forms.push(param_schema(first.kind));
        }
        for name in family_names(def) {
            one_key.insert(name.into(), json!({"anyOf": forms}));
        }
        keras_conditions.push(json!({
            "if": {"properties": {"class_name": {"enum": family_names(def).collect::<Vec<_>>()}}, "required": ["class_name"]},
            "then": {"properties": {"config": nullable(keywords)}},
        }));
    }
    let mut keras = Map::new();
    for key in KERAS_INITIALIZER_KEYS {
        keras.insert(key.into(), json!({}));
    }
    keras.insert("class_name".into(), json!({"enum": names}));
    json!({
        "description": "An initializer: a name (`he_uniform`, or a custom one), a call (`random_normal(stddev=0.02)`), a one-key map (`{constant: 0.1}`) or Keras's {class_name, config}.",
        "anyOf": [
            {"type": "string", "anyOf": [{"enum": names}, {"type": "string"}]},
            {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": one_key, "additionalProperties": false},
            {
                "type": "object", "required": ["class_name"], "properties": keras,
                "additionalProperties": false, "allOf": keras_conditions,
            },
        ],
    })
}

fn keyword_arguments(def: &FamilyDef) -> Json {
    let mut properties = Map::new();
    for param in def.params {
        properties.insert(param.name.into(), param_schema(param.kind));
    }
    json!({"type": "object", "properties": properties, "additionalProperties": false})
}

fn param_schema(kind: ParamKind) -> Json {
    match kind {
        ParamKind::Number(default) => json!({"type": ["number", "string"], "default": default}),
        ParamKind::Word(default, choices) => {
            let mut schema = word(choices);
            schema["default"] = json!(default);
            schema
        }
        ParamKind::Seed => json!({"type": ["number", "string", "null"], "minimum": 0}),
        ParamKind::NullOnly => json!({"type": "null"}),
        ParamKind::Text => json!({"type": "string"}),
    }
}

/// A YAML node as JSON, to validate a config against the schema as an editor reads it (YAML
/// 1.2: `n`, `yes`, `on` are strings, only `true`/`false` booleans). Non-string keys and
/// non-finite numbers, which JSON lacks, become strings.
pub fn to_json(file: &SourceFile, node: &Node) -> Json {
    let to_json = |node: &Node| to_json(file, node);
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(value) => match file.slice(node.span) {
            text if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") => json!(value),
            text => json!(text),
        },
        Value::Int(value) => match (i64::try_from(*value), u64::try_from(*value)) {
            (Ok(value), _) => json!(value),
            (_, Ok(value)) => json!(value),
            _ => json!(*value as f64),
        },
        Value::Float(value) if value.is_finite() => json!(value),
        Value::Float(value) => json!(value.to_string()),
        Value::Str(text) => json!(text),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, value)| {
                    let key = match to_json(key) {
                        Json::String(text) => text,
                        other => other.to_string(),
                    };
                    (key, to_json(value))
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_top_level_key_has_a_schema() {
        for key in TOP_LEVEL_KEYS {
            assert!(top_level(key).is_some(), "`{key}` has no schema");
        }
    }

    #[test]
    fn words_match_in_any_case() {
        assert_eq!(any_case("fan_in"), "[Ff][Aa][Nn]_[Ii][Nn]");
    }

    #[test]
    fn every_layer_type_has_its_arguments_defined() {
        let schema = schema();
        for layer_type in LAYER_TYPES {
            let definition = &schema["definitions"][arguments_name(layer_type.name)];
            assert!(definition["properties"]["name"].is_object(), "{}", layer_type.name);
        }
        let dense = &schema["definitions"]["dense_arguments"];
        assert_eq!(dense["required"], json!(["units"]));
        assert_eq!(dense["additionalProperties"], json!(false));
    }
}
