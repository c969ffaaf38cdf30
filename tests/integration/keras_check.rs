//! Checks of one recorded Keras model (`<dir>/<name>.json`, `.expected.json`, `.summary.txt`, as
//! `tools/record_keras.py` writes them) against initc: the summary byte for byte, every row and
//! connection, and the compiled weights' names and shapes. Each returns what differs.

use crate::support::{initc, text};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The recorded models of a folder (`<name>.json`, not `<name>.expected.json`), sorted.
pub fn models(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json") && !name.ends_with(".expected.json"))
        .map(|name| name.trim_end_matches(".json").to_string())
        .collect();
    names.sort();
    names
}

pub fn read_json(path: &Path) -> Value {
    let content = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&content).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn expected(dir: &Path, name: &str) -> Value {
    read_json(&dir.join(format!("{name}.expected.json")))
}

/// `initc summary` against `model.summary()`'s text.
pub fn summary_differences(dir: &Path, name: &str) -> Option<String> {
    let path = dir.join(format!("{name}.summary.txt"));
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let output = initc(dir, &["summary", &format!("{name}.json")]);
    if !output.status.success() {
        Some(format!("{name}: summary failed:\n{}", text(&output.stderr)))
    } else if text(&output.stdout) != expected {
        Some(format!("{name}: differs\n--- Keras\n{expected}\n--- initc\n{}", text(&output.stdout)))
    } else {
        None
    }
}

/// `initc summary --format json` against Keras's rows, connections and totals.
pub fn row_differences(dir: &Path, name: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let expected = expected(dir, name);
    let output = initc(dir, &["summary", &format!("{name}.json"), "--format", "json"]);
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
                failures.push(format!("{name}: `{}` {key} is {}, Keras says {}", keras["name"], row[key], keras[key]));
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
    failures
}

/// The tensors of a safetensors file, read from its header only.
fn header_tensors(path: &Path) -> BTreeMap<String, (Vec<u64>, String)> {
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
            (name, (shape.unwrap_or_default(), entry["dtype"].as_str().unwrap_or_default().to_string()))
        })
        .collect()
}

/// The safetensors dtype of a Keras integer dtype (Keras records only those: floats follow `--dtype`).
fn safetensors_dtype(keras: &str) -> String {
    match keras {
        "int32" => "I32".to_string(),
        "int64" => "I64".to_string(),
        other => other.to_string(),
    }
}

/// `initc compile` (bf16, to halve what the largest models write) against Keras's weight paths
/// (`/` read as `.`) and shapes.
pub fn weight_differences(dir: &Path, name: &str, out_dir: &Path) -> Option<String> {
    weight_differences_by(dir, name, out_dir, |path| path.replace('/', "."))
}

/// [`weight_differences`] with Keras's weight paths read by `path_of` (e.g. without the name
/// scopes of a model's Python code, which its JSON does not record).
pub fn weight_differences_by(dir: &Path, name: &str, out_dir: &Path, path_of: fn(&str) -> String) -> Option<String> {
    let expected = expected(dir, name);
    let keras: BTreeMap<String, (Vec<u64>, Option<String>)> = expected["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|layer| layer["weights"].as_array().cloned().unwrap_or_default())
        .map(|weight| {
            let path = path_of(weight["path"].as_str().unwrap_or_default());
            let shape = weight["shape"].as_array().map(|dims| dims.iter().filter_map(Value::as_u64).collect());
            (path, (shape.unwrap_or_default(), weight["dtype"].as_str().map(safetensors_dtype)))
        })
        .collect();
    let out: PathBuf = out_dir.join(format!("{name}.safetensors"));
    let output =
        initc(dir, &["compile", &format!("{name}.json"), "-o", out.to_str().expect("UTF-8"), "--dtype", "bf16"]);
    if !output.status.success() {
        return Some(format!("{name}: compile failed:\n{}", text(&output.stderr)));
    }
    let written = header_tensors(&out);
    std::fs::remove_file(&out).ok();
    // A dtype Keras records (an integer counter's) must be the file's; floats follow `--dtype`.
    let differs = |(shape, dtype): &(Vec<u64>, Option<String>), (written_shape, written_dtype): &(Vec<u64>, String)| {
        shape != written_shape || dtype.as_ref().is_some_and(|dtype| dtype != written_dtype)
    };
    let missing: Vec<&String> = keras.keys().filter(|k| !written.contains_key(*k)).take(5).collect();
    let extra: Vec<&String> = written.keys().filter(|k| !keras.contains_key(*k)).take(5).collect();
    let reshaped: Vec<&String> =
        keras.iter().filter(|(k, v)| written.get(*k).is_some_and(|w| differs(v, w))).map(|(k, _)| k).take(5).collect();
    if missing.is_empty() && extra.is_empty() && reshaped.is_empty() {
        return None;
    }
    Some(format!("{name}: missing {missing:?}, unexpected {extra:?}, other shapes or dtypes {reshaped:?}"))
}
