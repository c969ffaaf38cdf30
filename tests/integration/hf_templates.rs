//! Every Hugging Face case of tests/hf, compiled by `initc compile CASE/config.json`, against what
//! transformers itself wrote for it (CASE/expected.json, recorded by tools/record_hf.py): the files,
//! their metadata format, the index byte for byte, the tensor names, shapes and dtypes, and per seed
//! every tensor's constants and zero rows exactly and its mean and std within sampling error.

use crate::support::{initc, repo, text};
use safetensors::SafeTensors;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How many standard errors a statistic may differ by: the bound tools/check_hf_spec.py uses.
const STANDARD_ERRORS: f64 = 5.0;
/// The recorder keeps statistics to 7 significant digits (tools/record_hf.py, STAT_DIGITS).
const RECORDED_DIGITS: usize = 7;

/// One tensor as initc wrote it: its dtype as the safetensors header names it, shape and values.
struct Written {
    dtype: String,
    shape: Vec<usize>,
    values: Vec<f64>,
    file: String,
}

/// The statistics tools/record_hf.py records for a tensor, computed the same way (f64, ddof 0).
struct Statistics {
    count: usize,
    mean: f64,
    std: f64,
    zeros: f64,
    ones: f64,
    constant: Option<f64>,
    zero_rows: Vec<usize>,
}

#[test]
fn every_hugging_face_case_matches_what_transformers_writes() {
    let cases = case_directories();
    assert!(!cases.is_empty(), "no cases in tests/hf");
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|case| {
            let name = case.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            check_case(case).into_iter().map(move |failure| format!("{name}: {failure}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} failure(s) over {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Every file of templates/hf is shipped (`initc templates` lists it and prints it as it is) and
/// held to a recording: some case's config.json picks it (its model type, and for a model type
/// with several templates its class).
#[test]
fn every_shipped_template_is_listed_printed_and_recorded() {
    let listing = initc(&repo(), &["templates"]);
    assert_eq!(listing.status.code(), Some(0), "{}", text(&listing.stderr));
    let rows: Vec<Vec<String>> = text(&listing.stdout)
        .lines()
        .skip(1)
        .take_while(|line| !line.is_empty())
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect();
    let picked: Vec<(String, Vec<String>)> = case_directories()
        .iter()
        .map(|case| {
            let config = read_json(&case.join("config.json"));
            (config["model_type"].as_str().unwrap_or_default().to_string(), strings(&config["architectures"]))
        })
        .collect();
    let directory = repo().join("templates").join("hf");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .expect("templates/hf")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    files.sort();
    assert_eq!(files.len(), rows.len(), "templates/hf and `initc templates` differ: {rows:?}");
    for file in files {
        let name = file.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        let row = rows.iter().find(|row| row.get(2) == Some(&name));
        let Some([model_type, class, _]) = row.map(Vec::as_slice) else { panic!("`initc templates` lacks {name}") };
        let printed = initc(&repo(), &["templates", &name]);
        let shipped = std::fs::read_to_string(&file).expect("template text");
        assert_eq!(text(&printed.stdout), shipped, "`initc templates {name}`");
        let first_of_its_type = rows.iter().find(|row| row.first() == Some(model_type)) == row;
        let recorded = picked
            .iter()
            .any(|(picked_type, classes)| picked_type == model_type && (classes.contains(class) || first_of_its_type));
        assert!(recorded, "no case in tests/hf picks the template {name} ({model_type}, {class})");
    }
}

/// The directories of tests/hf that hold a recording, sorted.
fn case_directories() -> Vec<PathBuf> {
    let root = repo().join("tests").join("hf");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", root.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.join("expected.json").is_file())
        .collect();
    cases.sort();
    cases
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

/// Compiles the case once per recorded seed and compares every output with the recording.
fn check_case(case: &Path) -> Vec<String> {
    let expected = read_json(&case.join("expected.json"));
    let config = case.join("config.json");
    let seeds = expected["seeds"].as_array().expect("expected.json has seeds");
    let mut failures = Vec::new();
    for (seed_index, seed) in seeds.iter().enumerate() {
        let seed = seed.as_u64().expect("a seed is an integer").to_string();
        let dir = tempfile::tempdir().expect("temporary directory");
        let out = dir.path().join("out");
        let mut args = vec![
            "compile".to_string(),
            config.display().to_string(),
            "-o".to_string(),
            out.display().to_string(),
            "--seed".to_string(),
            seed.clone(),
        ];
        if let Some(size) = expected["save_pretrained_kwargs"]["max_shard_size"].as_str() {
            args.extend(["--max-shard-size".to_string(), size.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = initc(dir.path(), &args);
        if output.status.code() != Some(0) {
            failures.push(format!("seed {seed}: {args:?} exited {:?}: {}", output.status.code(), text(&output.stderr)));
            continue;
        }
        let seed_failures = check_output(&out, &config, &expected, seed_index);
        failures.extend(seed_failures.into_iter().map(|failure| format!("seed {seed}: {failure}")));
    }
    failures
}

/// Compares one compiled directory with the recording, for the seed at `seed_index`.
fn check_output(out: &Path, config: &Path, expected: &Value, seed_index: usize) -> Vec<String> {
    let mut failures = Vec::new();
    if std::fs::read(out.join("config.json")).ok() != std::fs::read(config).ok() {
        failures.push("DIR/config.json is not the input config.json byte for byte".to_string());
    }
    let files: Vec<String> = strings(&expected["files"]);
    let index = &expected["index"];
    let mut want_listing = files.clone();
    want_listing.push("config.json".to_string());
    if !index.is_null() {
        want_listing.push("model.safetensors.index.json".to_string());
    }
    want_listing.sort();
    let listing = listing(out);
    if listing != want_listing {
        failures.push(format!("the directory holds {listing:?}, transformers writes {want_listing:?}"));
        return failures;
    }
    if !index.is_null() {
        failures.extend(check_index(out, index));
    }
    let mut written = BTreeMap::new();
    for file in &files {
        let bytes = std::fs::read(out.join(file)).expect("a listed file");
        let format = metadata_format(&bytes);
        let want_format = expected["metadata"][file]["format"].as_str().map(str::to_string);
        if format != want_format {
            failures.push(format!("{file}: metadata format {format:?}, transformers writes {want_format:?}"));
        }
        written.extend(read_tensors(&bytes, file));
    }
    if let Some(weight_map) = index["weight_map"].as_object() {
        for (name, tensor) in &written {
            if weight_map.get(name).and_then(Value::as_str) != Some(tensor.file.as_str()) {
                failures.push(format!("{name} is in {}, the index says {:?}", tensor.file, weight_map.get(name)));
            }
        }
    }
    let tensors = expected["tensors"].as_array().expect("expected.json has tensors");
    let want_names: Vec<&str> = tensors.iter().filter_map(|tensor| tensor["name"].as_str()).collect();
    let names: Vec<&str> = written.keys().map(String::as_str).collect();
    if names != want_names {
        let only_initc: Vec<_> = names.iter().filter(|name| !want_names.contains(name)).collect();
        let only_transformers: Vec<_> = want_names.iter().filter(|name| !names.contains(name)).collect();
        failures
            .push(format!("tensor names differ: only initc {only_initc:?}, only transformers {only_transformers:?}"));
    }
    for tensor in tensors {
        let name = tensor["name"].as_str().unwrap_or_default();
        if let Some(written) = written.get(name) {
            failures.extend(check_tensor(name, written, tensor, seed_index));
        }
    }
    failures
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The index is `json.dumps(index, indent=2, sort_keys=True) + "\n"` of the recorded one.
fn check_index(out: &Path, index: &Value) -> Vec<String> {
    let mut want = String::new();
    python_json(index, 0, &mut want);
    want.push('\n');
    let got = std::fs::read_to_string(out.join("model.safetensors.index.json")).unwrap_or_default();
    if got == want {
        return Vec::new();
    }
    vec![format!("model.safetensors.index.json differs from transformers':\n--- transformers\n{want}--- initc\n{got}")]
}

/// Python's `json.dumps(value, indent=2, sort_keys=True)` for the values an index holds.
fn python_json(value: &Value, depth: usize, out: &mut String) {
    let inner = "  ".repeat(depth + 1);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (position, key) in keys.iter().enumerate() {
                out.push_str(&inner);
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push_str(": ");
                python_json(&map[*key], depth + 1, out);
                out.push_str(if position + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (position, item) in items.iter().enumerate() {
                out.push_str(&inner);
                python_json(item, depth + 1, out);
                out.push_str(if position + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(depth));
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The `format` entry of a safetensors file's `__metadata__`.
fn metadata_format(bytes: &[u8]) -> Option<String> {
    let length = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let header: Value = serde_json::from_slice(bytes.get(8..8 + length)?).ok()?;
    header["__metadata__"]["format"].as_str().map(str::to_string)
}

fn read_tensors(bytes: &[u8], file: &str) -> Vec<(String, Written)> {
    let tensors = SafeTensors::deserialize(bytes).unwrap_or_else(|error| panic!("{file}: not safetensors: {error}"));
    tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let dtype = format!("{:?}", view.dtype());
            let values = decode(&dtype, view.data());
            (name, Written { dtype, shape: view.shape().to_vec(), values, file: file.to_string() })
        })
        .collect()
}

/// Little-endian values widened exactly to f64 (bf16 is the top half of an f32).
fn decode(dtype: &str, data: &[u8]) -> Vec<f64> {
    match dtype {
        "F32" => data.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect(),
        "BF16" => data
            .chunks_exact(2)
            .map(|b| f64::from(f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16)))
            .collect(),
        "F16" => data.chunks_exact(2).map(|b| half_to_f64(u16::from_le_bytes([b[0], b[1]]))).collect(),
        "F64" => data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect(),
        other => panic!("unexpected dtype {other}"),
    }
}

fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits >> 15 == 1 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + fraction / 1024.0) * 2f64.powi(exponent - 15),
    }
}

fn statistics(shape: &[usize], values: &[f64]) -> Statistics {
    let count = values.len();
    let n = count.max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / n).sqrt();
    let zeros = values.iter().filter(|value| **value == 0.0).count() as f64 / n;
    let ones = values.iter().filter(|value| **value == 1.0).count() as f64 / n;
    let constant = values.first().copied().filter(|first| values.iter().all(|value| value == first));
    let zero_rows = if shape.len() >= 2 && shape[0] > 0 {
        let row = count / shape[0];
        (0..shape[0]).filter(|index| values[index * row..(index + 1) * row].iter().all(|value| *value == 0.0)).collect()
    } else {
        Vec::new()
    };
    Statistics { count, mean, std, zeros, ones, constant, zero_rows }
}

/// A value kept to the recorder's significant digits, as Python's `float(f"{value:.7g}")`.
fn recorded(value: f64) -> f64 {
    format!("{value:.*e}", RECORDED_DIGITS - 1).parse().unwrap_or(value)
}

fn check_tensor(name: &str, written: &Written, tensor: &Value, seed_index: usize) -> Vec<String> {
    let mut failures = Vec::new();
    let want_shape: Vec<usize> = tensor["shape"]
        .as_array()
        .map(|dims| dims.iter().filter_map(Value::as_u64).map(|dim| dim as usize).collect())
        .unwrap_or_default();
    let want_dtype = tensor["dtype"].as_str().unwrap_or_default();
    if written.shape != want_shape || written.dtype != want_dtype {
        failures.push(format!(
            "{name}: {:?} {}, transformers writes {want_shape:?} {want_dtype}",
            written.shape, written.dtype
        ));
        return failures;
    }
    let want = &tensor["stats"][seed_index];
    let got = statistics(&written.shape, &written.values);
    let number = |key: &str| want[key].as_f64().unwrap_or(f64::NAN);
    if got.count as f64 != number("count") {
        failures.push(format!("{name}: {} values, transformers {}", got.count, want["count"]));
    }
    match (want["constant"].as_bool(), got.constant) {
        (Some(true), Some(value)) if value == number("value") => {}
        (Some(true), value) => {
            failures.push(format!("{name}: {value:?}, transformers writes the constant {}", want["value"]))
        }
        (_, Some(value)) => failures.push(format!("{name}: the constant {value}, transformers draws values")),
        _ => {}
    }
    for (key, value) in [("zeros", got.zeros), ("ones", got.ones)] {
        if recorded(value) != number(key) {
            failures
                .push(format!("{name}: a fraction {value} of the values is exactly {key}, transformers {}", want[key]));
        }
    }
    let want_zero_rows: Vec<usize> = want["zero_rows"]
        .as_array()
        .map(|rows| rows.iter().filter_map(Value::as_u64).map(|row| row as usize).collect())
        .unwrap_or_default();
    if got.zero_rows != want_zero_rows {
        failures.push(format!("{name}: zero rows {:?}, transformers {want_zero_rows:?}", got.zero_rows));
    }
    if got.constant.is_none() {
        // Two independent samples of n values from one distribution of std σ: their means differ by
        // σ·√(2/n) and their stds by σ/√n in standard error; σ is the recorded std. The last term
        // allows for the recording's rounding to 7 significant digits.
        let n = got.count as f64;
        let sigma = number("std");
        let rounding = |value: f64| value.abs() * 10f64.powi(1 - RECORDED_DIGITS as i32);
        let mean_bound = STANDARD_ERRORS * sigma * (2.0 / n).sqrt() + rounding(number("mean"));
        let std_bound = STANDARD_ERRORS * sigma / n.sqrt() + rounding(sigma);
        if (got.mean - number("mean")).abs() > mean_bound {
            failures.push(format!(
                "{name}: mean {:.6e}, transformers {:.6e} (bound {mean_bound:.2e})",
                got.mean,
                number("mean")
            ));
        }
        if (got.std - sigma).abs() > std_bound {
            failures.push(format!("{name}: std {:.6e}, transformers {sigma:.6e} (bound {std_bound:.2e})", got.std));
        }
    }
    failures
}

/// `--template FILE` compiles that file instead of the shipped template (the same text gives the
/// same bytes); it is refused for a config that is no config.json, and `initc templates` refuses
/// a name it does not ship.
#[test]
fn a_template_of_ones_own_replaces_the_shipped_one() {
    let out = tempfile::tempdir().expect("temporary directory");
    let template = out.path().join("mine.yaml");
    let shipped = initc(&repo(), &["templates", "llama"]);
    std::fs::write(&template, &shipped.stdout).expect("write the template");
    let config = "tests/hf/llama/config.json";
    let (built_in, own) = (out.path().join("built_in"), out.path().join("own"));
    let built_in_run = initc(&repo(), &["compile", config, "-o", built_in.to_str().unwrap_or_default()]);
    let own_run = initc(
        &repo(),
        &[
            "compile",
            config,
            "-o",
            own.to_str().unwrap_or_default(),
            "--template",
            template.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!((built_in_run.status.code(), own_run.status.code()), (Some(0), Some(0)), "{}", text(&own_run.stderr));
    let read = |dir: &Path| std::fs::read(dir.join("model.safetensors")).expect("model.safetensors");
    assert_eq!(read(&built_in), read(&own));

    let refused = initc(&repo(), &["summary", "examples/mnist_cnn.yaml", "--template", "mine.yaml"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("`--template` is for a Hugging Face config.json"),
        "{}",
        text(&refused.stderr)
    );
    let unknown = initc(&repo(), &["templates", "lama"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("did you mean `llama`?"), "{}", text(&unknown.stderr));
}

/// `initc lint` finds nothing in any recorded config.json: no template has an unused var or a
/// rule it breaks.
#[test]
fn every_recorded_config_json_lints_clean() {
    for case in case_directories() {
        let config = case.join("config.json");
        let output = initc(&repo(), &["lint", config.to_str().unwrap_or_default()]);
        let printed = text(&output.stdout);
        assert!(
            output.status.code() == Some(0) && printed.starts_with("no problems found"),
            "{}: {printed}{}",
            config.display(),
            text(&output.stderr)
        );
    }
}
