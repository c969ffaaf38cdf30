//! Keras import against Keras itself: every `tests/keras/<name>.json` (a Keras 3 `model.to_json()`,
//! recorded by `tools/record_keras.py`) must summarise to the shapes and parameter counts Keras
//! recorded in `<name>.expected.json`, compile, and print `<name>.summary.txt` byte for byte.

use crate::support::{initc, repo, text};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    repo().join("tests/keras")
}

/// The model files (`<name>.json`, not `<name>.expected.json`), sorted.
fn model_files() -> Vec<PathBuf> {
    let dir = fixtures_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".expected.json")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 2, "tests/keras should hold the recorded Keras models");
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default().to_string()
}

fn file_name(path: &Path) -> String {
    path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_string()
}

fn read_json(path: &Path) -> Result<Value, String> {
    let content = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    serde_json::from_str(&content).map_err(|error| format!("{} is not JSON: {error}", path.display()))
}

/// Every difference between initc's JSON summary and what Keras recorded, one line each.
fn summary_mismatches(model: &str, actual: &Value, expected: &Value) -> Vec<String> {
    let mut mismatches = Vec::new();
    for key in ["name", "total_params", "trainable_params", "non_trainable_params"] {
        if actual[key] != expected[key] {
            mismatches.push(format!("{model}: `{key}` is {}, Keras says {}", actual[key], expected[key]));
        }
    }
    let no_layers = Vec::new();
    let actual_layers = actual["layers"].as_array().unwrap_or(&no_layers);
    let expected_layers = expected["layers"].as_array().unwrap_or(&no_layers);
    if actual_layers.len() != expected_layers.len() {
        mismatches.push(format!("{model}: {} layers, Keras says {}", actual_layers.len(), expected_layers.len()));
    }
    for (index, (actual_layer, expected_layer)) in actual_layers.iter().zip(expected_layers).enumerate() {
        for key in ["name", "type", "output_shape", "params"] {
            if actual_layer[key] != expected_layer[key] {
                mismatches.push(format!(
                    "{model}: layer {index} ({}) `{key}` is {}, Keras says {}",
                    expected_layer["name"], actual_layer[key], expected_layer[key]
                ));
            }
        }
    }
    mismatches
}

#[test]
fn every_keras_model_summarises_as_keras_recorded() {
    let dir = fixtures_dir();
    let mut failures = Vec::new();
    for model in model_files() {
        let name = file_name(&model);
        let expected = match read_json(&dir.join(format!("{}.expected.json", stem(&model)))) {
            Ok(expected) => expected,
            Err(error) => {
                failures.push(error);
                continue;
            }
        };
        let summary = initc(&dir, &["summary", &name, "--format", "json"]);
        if !summary.status.success() {
            failures.push(format!("{name}: summary failed ({}):\n{}", summary.status, text(&summary.stderr)));
            continue;
        }
        match serde_json::from_slice::<Value>(&summary.stdout) {
            Ok(actual) => failures.extend(summary_mismatches(&name, &actual, &expected)),
            Err(error) => failures.push(format!("{name}: summary is not JSON: {error}")),
        }
    }
    assert!(failures.is_empty(), "{} Keras mismatch(es):\n\n{}", failures.len(), failures.join("\n\n"));
}

/// The element count of every tensor in a safetensors file.
fn tensor_elements(bytes: &[u8]) -> Result<u64, String> {
    let tensors = safetensors::SafeTensors::deserialize(bytes).map_err(|error| format!("not safetensors: {error}"))?;
    Ok(tensors.tensors().iter().map(|(_, view)| view.shape().iter().product::<usize>() as u64).sum())
}

#[test]
fn every_keras_model_compiles_to_as_many_weights_as_keras_counts() {
    let dir = fixtures_dir();
    let out_dir = tempfile::tempdir().expect("temporary directory");
    let mut failures = Vec::new();
    for model in model_files() {
        let name = file_name(&model);
        let out = out_dir.path().join(format!("{}.safetensors", stem(&model)));
        let out_arg = out.to_str().expect("UTF-8 temp path");
        let compile = initc(&dir, &["compile", &name, "-o", out_arg]);
        if !compile.status.success() {
            failures.push(format!("{name}: compile failed ({}):\n{}", compile.status, text(&compile.stderr)));
            continue;
        }
        let expected = read_json(&dir.join(format!("{}.expected.json", stem(&model))));
        let written = std::fs::read(&out).map_err(|error| format!("{name}: no output file: {error}"));
        match (expected, written.and_then(|bytes| tensor_elements(&bytes))) {
            (Ok(expected), Ok(elements)) if Some(elements) == expected["total_params"].as_u64() => {}
            (Ok(expected), Ok(elements)) => failures.push(format!(
                "{name}: the weights file holds {elements} values, Keras counts {}",
                expected["total_params"]
            )),
            (Err(error), _) | (_, Err(error)) => failures.push(error),
        }
    }
    assert!(failures.is_empty(), "{} compile failure(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn keras_summary_text_is_reproduced_byte_for_byte() {
    let dir = fixtures_dir();
    let mut checked = 0;
    let mut failures = Vec::new();
    for model in model_files() {
        let name = file_name(&model);
        let Ok(expected) = std::fs::read_to_string(dir.join(format!("{}.summary.txt", stem(&model)))) else {
            continue;
        };
        checked += 1;
        let summary = initc(&dir, &["summary", &name]);
        if !summary.status.success() {
            failures.push(format!("{name}: summary failed ({}):\n{}", summary.status, text(&summary.stderr)));
        } else if text(&summary.stdout) != expected {
            failures.push(format!(
                "{name}: summary differs from Keras's:\n--- Keras\n{expected}\n--- initc\n{}",
                text(&summary.stdout)
            ));
        }
    }
    assert!(checked >= 1, "tests/keras should hold at least one Keras summary text");
    assert!(failures.is_empty(), "{} summary mismatch(es):\n\n{}", failures.len(), failures.join("\n\n"));
}

/// Runs `initc summary` on a Keras JSON document written to a temporary file; returns stderr.
fn summary_error(document: &str) -> String {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("model.json"), document).expect("write model.json");
    let output = initc(dir.path(), &["summary", "model.json"]);
    assert!(!output.status.success(), "expected a failure, got:\n{}", text(&output.stdout));
    text(&output.stderr)
}

#[test]
fn an_unsupported_keras_layer_is_an_error_naming_its_class() {
    let stderr = summary_error(
        r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
  {"class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 3]}},
  {"module": "my_package", "class_name": "CustomBlock", "config": {"filters": 4, "kernel_size": 3}},
  {"class_name": "Flatten", "config": {}}
]}}"#,
    );
    assert!(stderr.contains("E0204") && stderr.contains("`CustomBlock`"), "{stderr}");
}
