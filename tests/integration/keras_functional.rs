//! Keras functional models against Keras itself: every `tests/keras/functional/<name>.json`
//! (recorded by `tools/record_keras.py` from `keras.applications` and hand-written models) either
//! imports with Keras's summary byte for byte, Keras's rows and connections, and Keras's weight
//! names and shapes, or is refused with the one layer class initc lacks. Each model is in exactly
//! one of the two lists, so none is skipped silently.

use crate::support::{initc, repo, text};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Models whose every layer initc supports.
const SUPPORTED: &[&str] = &[
    "densenet121",
    "inceptionv3",
    "merge_layers",
    "nested_model",
    "padding_cropping",
    "residual_mlp",
    "resnet101",
    "resnet152",
    "resnet50",
    "resnet50v2",
    "resnet_small",
    "shared_layer",
    "transformer_block",
    "two_input",
    "two_output",
    "vgg16",
    "vgg19",
];

/// Models with a layer class initc does not have yet, and the first such class.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("convnexttiny", "Normalization"),
    ("efficientnetb0", "Rescaling"),
    ("mobilenetv2", "ReLU"),
    ("nasnetmobile", "SeparableConv2D"),
    ("xception", "SeparableConv2D"),
];

/// Models refused for another reason than a missing layer class, and a phrase of the error.
const REFUSED: &[(&str, &str)] = &[
    // Its default input is (None, None, 3): sizes only `--input` can give.
    ("mobilenetv3small", "expected a number, found null"),
];

fn dir() -> PathBuf {
    repo().join("tests/keras/functional")
}

fn models() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("tests/keras/functional")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json") && !name.ends_with(".expected.json"))
        .map(|name| name.trim_end_matches(".json").to_string())
        .collect();
    names.sort();
    names
}

fn read_json(path: &Path) -> Value {
    let content = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&content).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn every_recorded_model_is_listed_once() {
    let mut listed: Vec<&str> = SUPPORTED.to_vec();
    listed.extend(UNSUPPORTED.iter().map(|(name, _)| *name));
    listed.extend(REFUSED.iter().map(|(name, _)| *name));
    listed.sort_unstable();
    let models = models();
    assert_eq!(listed, models.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn supported_models_print_keras_summary_byte_for_byte() {
    let mut failures = Vec::new();
    for name in SUPPORTED {
        let expected = std::fs::read_to_string(dir().join(format!("{name}.summary.txt"))).expect("summary.txt");
        let output = initc(&dir(), &["summary", &format!("{name}.json")]);
        if !output.status.success() {
            failures.push(format!("{name}: summary failed:\n{}", text(&output.stderr)));
        } else if text(&output.stdout) != expected {
            failures.push(format!("{name}: differs\n--- Keras\n{expected}\n--- initc\n{}", text(&output.stdout)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn supported_models_have_keras_rows_and_connections() {
    let mut failures = Vec::new();
    for name in SUPPORTED {
        let expected = read_json(&dir().join(format!("{name}.expected.json")));
        let output = initc(&dir(), &["summary", &format!("{name}.json"), "--format", "json"]);
        let actual: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        for key in ["name", "total_params", "trainable_params", "non_trainable_params"] {
            if actual[key] != expected[key] {
                failures.push(format!("{name}: `{key}` is {}, Keras says {}", actual[key], expected[key]));
            }
        }
        let empty = Vec::new();
        let rows = actual["layers"].as_array().unwrap_or(&empty);
        let keras_rows = expected["layers"].as_array().unwrap_or(&empty);
        if rows.len() != keras_rows.len() {
            failures.push(format!("{name}: {} rows, Keras has {}", rows.len(), keras_rows.len()));
        }
        for (row, keras) in rows.iter().zip(keras_rows) {
            for key in ["name", "type", "output_shape", "params"] {
                if row[key] != keras[key] {
                    failures
                        .push(format!("{name}: `{}` {key} is {}, Keras says {}", keras["name"], row[key], keras[key]));
                }
            }
            let connected = row.get("connected_to").cloned().unwrap_or(Value::Array(Vec::new()));
            if connected != keras["connected_to"] {
                failures.push(format!(
                    "{name}: `{}` is connected to {connected}, Keras says {}",
                    keras["name"], keras["connected_to"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The tensors of a safetensors file, read from its header only.
fn header_tensors(path: &Path) -> BTreeMap<String, Vec<u64>> {
    let mut file = std::fs::File::open(path).expect("output file");
    let mut length = [0u8; 8];
    file.read_exact(&mut length).expect("header length");
    let mut header = vec![0u8; u64::from_le_bytes(length) as usize];
    file.read_exact(&mut header).expect("header");
    let header: Value = serde_json::from_slice(&header).expect("header JSON");
    let entries = header.as_object().cloned().unwrap_or_default();
    entries
        .into_iter()
        .filter(|(name, _)| name != "__metadata__")
        .map(|(name, entry)| {
            let shape = entry["shape"].as_array().map(|dims| dims.iter().filter_map(Value::as_u64).collect());
            (name, shape.unwrap_or_default())
        })
        .collect()
}

#[test]
fn supported_models_compile_to_keras_weight_names_and_shapes() {
    let out_dir = tempfile::tempdir().expect("temporary directory");
    let mut failures = Vec::new();
    for name in SUPPORTED {
        let expected = read_json(&dir().join(format!("{name}.expected.json")));
        let keras: BTreeMap<String, Vec<u64>> = expected["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|layer| layer["weights"].as_array().cloned().unwrap_or_default())
            .map(|weight| {
                let path = weight["path"].as_str().unwrap_or_default().replace('/', ".");
                let shape = weight["shape"].as_array().map(|dims| dims.iter().filter_map(Value::as_u64).collect());
                (path, shape.unwrap_or_default())
            })
            .collect();
        // bf16 halves what the largest (VGG19, 144 M values) writes.
        let out = out_dir.path().join(format!("{name}.safetensors"));
        let output =
            initc(&dir(), &["compile", &format!("{name}.json"), "-o", out.to_str().expect("UTF-8"), "--dtype", "bf16"]);
        if !output.status.success() {
            failures.push(format!("{name}: compile failed:\n{}", text(&output.stderr)));
            continue;
        }
        let written = header_tensors(&out);
        std::fs::remove_file(&out).ok();
        if written != keras {
            let missing: Vec<&String> = keras.keys().filter(|k| !written.contains_key(*k)).take(5).collect();
            let extra: Vec<&String> = written.keys().filter(|k| !keras.contains_key(*k)).take(5).collect();
            let reshaped: Vec<&String> = keras
                .iter()
                .filter(|(k, v)| written.get(*k).is_some_and(|w| w != *v))
                .map(|(k, _)| k)
                .take(5)
                .collect();
            failures.push(format!("{name}: missing {missing:?}, unexpected {extra:?}, other shapes {reshaped:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unsupported_models_are_refused_naming_the_class() {
    let mut failures = Vec::new();
    for (name, class) in UNSUPPORTED {
        let output = initc(&dir(), &["summary", &format!("{name}.json")]);
        let stderr = text(&output.stderr);
        let expected = format!("error[E0204]: unknown layer type `{class}`");
        if output.status.code() != Some(1) || !stderr.contains(&expected) {
            failures.push(format!("{name}: expected exit 1 with `{expected}`, got {}:\n{stderr}", output.status));
        }
    }
    for (name, phrase) in REFUSED {
        let output = initc(&dir(), &["summary", &format!("{name}.json")]);
        let stderr = text(&output.stderr);
        if output.status.code() != Some(1) || !stderr.contains(phrase) || !stderr.contains(&format!("{name}.json:")) {
            failures
                .push(format!("{name}: expected exit 1 with `{phrase}` at a line, got {}:\n{stderr}", output.status));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The YAML twins of the hand-written models print the same summary as Keras.
#[test]
fn graph_examples_print_keras_summary() {
    let mut failures = Vec::new();
    for name in ["residual_mlp", "two_input", "two_output", "resnet_small", "shared_layer", "nested_model"] {
        let expected = std::fs::read_to_string(dir().join(format!("{name}.summary.txt"))).expect("summary.txt");
        let output = initc(&repo(), &["summary", &format!("examples/{name}.yaml")]);
        if text(&output.stdout) != expected {
            failures.push(format!(
                "{name}.yaml: differs\n--- Keras\n{expected}\n--- initc\n{}{}",
                text(&output.stdout),
                text(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
