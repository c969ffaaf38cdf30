//! `initc inspect`, `initc diff` and `initc verify` on real files: compiled from configs,
//! written by the `safetensors` crate (F16, BF16, F64, integers), and sharded by hand.

use crate::support::{initc, text};
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde_json::Value;
use std::collections::HashMap;
use std::fs;
use std::path::Path;

const CONFIG: &str = "\
name: probe
seed: 3
input: [12]
layers:
  - dense: {units: 16, kernel_initializer: he_normal, bias_initializer: \"constant(0.1)\"}
  - dense: {units: 8, kernel_initializer: glorot_uniform}
  - dense: {units: 4, kernel_initializer: {random_normal: {stddev: 0.02}}, bias_initializer: ones}
";

/// A temporary directory holding `model.yaml` and its compiled `model.safetensors`.
fn compiled() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(dir.path().join("model.yaml"), CONFIG).expect("write config");
    let output = initc(dir.path(), &["model.yaml", "-o", "model.safetensors"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    dir
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let output = initc(dir, args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", text(&output.stdout)))
}

/// (name, dtype, shape, raw bytes) of a safetensors file.
type Entry = (String, Dtype, Vec<usize>, Vec<u8>);

fn entries(bytes: &[u8]) -> Vec<Entry> {
    let file = safetensors::SafeTensors::deserialize(bytes).expect("valid safetensors");
    let mut entries: Vec<Entry> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.dtype(), view.shape().to_vec(), view.data().to_vec()))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

fn write_file(path: &Path, entries: &[Entry], metadata: Option<HashMap<String, String>>) {
    let views: Vec<(String, TensorView<'_>)> = entries
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            (name.clone(), TensorView::new(*dtype, shape.clone(), bytes).expect("consistent tensor"))
        })
        .collect();
    let bytes = safetensors::serialize(views, metadata).expect("serializes");
    fs::write(path, bytes).expect("write safetensors");
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|value| value.to_le_bytes()).collect()
}

/// Mean, population std, min, max and fraction of zeros, the plain way.
fn plain_stats(values: &[f64]) -> [f64; 5] {
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    let std = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count).sqrt();
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let zeros = values.iter().filter(|&&v| v == 0.0).count() as f64 / count;
    [mean, std, min, max, zeros]
}

fn assert_stats_match(entry: &Value, values: &[f64]) {
    let expected = plain_stats(values);
    for (key, want) in ["mean", "std", "min", "max", "zeros"].iter().zip(expected) {
        let got = entry[key].as_f64().unwrap_or(f64::NAN);
        assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{} {key}: {got} vs {want}", entry["name"]);
    }
    assert_eq!(entry["params"].as_u64(), Some(values.len() as u64));
}

fn decode(dtype: Dtype, bytes: &[u8]) -> Vec<f64> {
    match dtype {
        Dtype::F32 => bytes.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect(),
        Dtype::F16 => bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f64()).collect(),
        Dtype::BF16 => bytes.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f64()).collect(),
        Dtype::F64 => bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect(),
        Dtype::I32 => bytes.chunks_exact(4).map(|b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect(),
        other => panic!("the test does not decode {other:?}"),
    }
}

#[test]
fn inspect_text_lists_every_tensor_with_its_initializer() {
    let dir = compiled();
    let output = initc(dir.path(), &["inspect", "model.safetensors"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("name") && lines[0].contains("std") && lines[0].contains("zeros"), "{stdout}");
    for name in ["dense.kernel", "dense.bias", "dense_1.kernel", "dense_1.bias", "dense_2.kernel", "dense_2.bias"] {
        assert!(lines.iter().any(|line| line.starts_with(&format!("{name} "))), "{name} missing:\n{stdout}");
    }
    assert!(stdout.contains("    he_normal: expected mean 0, std 0.408248"), "{stdout}");
    assert!(stdout.contains("    constant(value=0.1): expected mean 0.1, std 0, bounds [0.1, 0.1]"), "{stdout}");
    assert!(stdout.ends_with("6 tensors, 380 parameters\n"), "{stdout}");
    assert!(!stdout.contains('│'), "no histogram without --hist");
    assert!(output.stderr.is_empty());
}

#[test]
fn inspect_json_statistics_equal_an_independent_computation() {
    let dir = compiled();
    let json = json_of(dir.path(), &["inspect", "model.safetensors", "--format", "json"]);
    let bytes = fs::read(dir.path().join("model.safetensors")).expect("compiled file");
    let entries = entries(&bytes);
    let listed = json.as_array().expect("an array");
    assert_eq!(listed.len(), entries.len());
    let names: Vec<&str> = listed.iter().filter_map(|entry| entry["name"].as_str()).collect();
    assert_eq!(
        names,
        ["dense.kernel", "dense.bias", "dense_1.kernel", "dense_1.bias", "dense_2.kernel", "dense_2.bias"]
    );
    for (name, dtype, shape, data) in &entries {
        let entry = listed.iter().find(|entry| entry["name"] == name.as_str()).expect("listed");
        assert_eq!(entry["dtype"], "F32");
        assert_eq!(entry["shape"], serde_json::json!(shape));
        assert_eq!((entry["nan"].as_u64(), entry["inf"].as_u64()), (Some(0), Some(0)));
        assert_stats_match(entry, &decode(*dtype, data));
    }
    let kernel = &listed[0];
    assert_eq!(kernel["initializer"], "he_normal");
    let expected_std = (2.0f64 / 12.0).sqrt();
    assert!((kernel["expected_std"].as_f64().unwrap_or(0.0) - expected_std).abs() < 1e-15);
    let sigma = expected_std / 0.879_625_661_034_239_8;
    assert!((kernel["expected_sigma"].as_f64().unwrap_or(0.0) - sigma).abs() < 1e-12);
    assert!((kernel["expected_max"].as_f64().unwrap_or(0.0) - 2.0 * sigma).abs() < 1e-12);
    let glorot = &listed[2];
    let limit = (6.0f64 / (16.0 + 8.0)).sqrt();
    assert!((glorot["expected_max"].as_f64().unwrap_or(0.0) - limit).abs() < 1e-15, "{glorot}");
    assert!(glorot["max"].as_f64().unwrap_or(f64::INFINITY) <= limit);
    assert_eq!(listed[4]["initializer"], "random_normal(mean=0, stddev=0.02)");
    assert_eq!(listed[5]["expected_mean"], 1.0);
    assert!(kernel.get("histogram").is_none());
}

#[test]
fn inspect_hist_draws_terminal_bars_and_json_counts() {
    let dir = compiled();
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--hist", "--bins", "10"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    // Three random kernels with 10 bins, three constant biases with a single bin.
    assert_eq!(stdout.matches('│').count(), 3 * 10 + 3, "{stdout}");
    let json = json_of(dir.path(), &["inspect", "model.safetensors", "--hist", "--bins", "10", "--format", "json"]);
    for entry in json.as_array().expect("array") {
        let counts = entry["histogram"]["counts"].as_array().expect("histogram counts");
        let total: u64 = counts.iter().filter_map(Value::as_u64).sum();
        assert_eq!(Some(total), entry["params"].as_u64(), "{}", entry["name"]);
    }
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--bins", "0"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn inspect_plot_writes_svg_with_a_panel_per_tensor_and_png() {
    let dir = compiled();
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--plot", "figure.svg"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let svg = fs::read_to_string(dir.path().join("figure.svg")).expect("the SVG was written");
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "{svg}");
    assert_eq!(svg.matches("<g class=\"panel\"").count(), 6);
    for name in ["dense.kernel", "dense_2.bias"] {
        assert!(svg.contains(&format!("<title>{name}</title>")), "{name}");
    }
    // XML-ish: every opened element is closed or self-closing.
    let opened = svg.matches('<').count() - svg.matches("</").count() - svg.matches("<?").count();
    let closed = svg.matches("</").count() + svg.matches("/>").count();
    assert_eq!(opened, closed, "unbalanced markup");
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--plot", "figure.png"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let png = fs::read(dir.path().join("figure.png")).expect("the PNG was written");
    assert!(png.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]));
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--plot", "figure.gif"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains(".svg or .png"));
    assert!(!dir.path().join("figure.gif").exists());
}

#[test]
fn inspect_reads_files_other_tools_write_in_every_float_width() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let values: Vec<f32> = (0..50).map(|i| (i as f32 - 20.0) / 8.0).collect();
    let f16: Vec<u8> = values.iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()).collect();
    let bf16: Vec<u8> = values.iter().flat_map(|&v| half::bf16::from_f32(v * 3.0).to_le_bytes()).collect();
    let f64_bytes: Vec<u8> = values.iter().flat_map(|&v| (f64::from(v) * 1e-3).to_le_bytes()).collect();
    let i32_bytes: Vec<u8> = (0..6i32).flat_map(|v| (v - 2).to_le_bytes()).collect();
    let tensors: Vec<Entry> = vec![
        ("half".into(), Dtype::F16, vec![5, 10], f16),
        ("brain".into(), Dtype::BF16, vec![50], bf16),
        ("double".into(), Dtype::F64, vec![2, 5, 5], f64_bytes),
        ("steps".into(), Dtype::I32, vec![6], i32_bytes),
        ("complex".into(), Dtype::C64, vec![2], vec![0; 16]),
        ("plain".into(), Dtype::F32, vec![2], f32_bytes(&[f32::NAN, 1.0])),
    ];
    write_file(&dir.path().join("other.safetensors"), &tensors, None);
    let json = json_of(dir.path(), &["inspect", "other.safetensors", "--format", "json"]);
    let listed = json.as_array().expect("array");
    assert_eq!(listed.len(), tensors.len());
    for (name, dtype, _, data) in &tensors[..4] {
        let entry = listed.iter().find(|entry| entry["name"] == name.as_str()).expect("listed");
        assert_eq!(entry["dtype"], format!("{dtype:?}"));
        assert!(entry.get("initializer").is_none());
        assert_stats_match(entry, &decode(*dtype, data));
    }
    let complex = listed.iter().find(|entry| entry["name"] == "complex").expect("listed");
    assert!(complex["mean"].is_null() && complex["nan"].is_null(), "{complex}");
    assert_eq!(complex["params"], 2);
    let plain = listed.iter().find(|entry| entry["name"] == "plain").expect("listed");
    assert_eq!((plain["nan"].as_u64(), plain["mean"].as_f64()), (Some(1), Some(1.0)));
    let output = initc(dir.path(), &["inspect", "other.safetensors", "--hist", "--plot", "other.png"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn inspect_reads_a_sharded_checkpoint_as_one_model() {
    let dir = compiled();
    let bytes = fs::read(dir.path().join("model.safetensors")).expect("compiled file");
    let all = entries(&bytes);
    let (first, second): (Vec<Entry>, Vec<Entry>) =
        all.iter().cloned().partition(|entry| entry.0.starts_with("dense."));
    let sharded = dir.path().join("sharded");
    fs::create_dir(&sharded).expect("create directory");
    let metadata: HashMap<String, String> = safetensors::SafeTensors::read_metadata(&bytes)
        .ok()
        .and_then(|(_, header)| header.metadata().clone())
        .unwrap_or_default();
    write_file(&sharded.join("model-00001-of-00002.safetensors"), &first, Some(metadata.clone()));
    write_file(&sharded.join("model-00002-of-00002.safetensors"), &second, Some(metadata));
    let weight_map: serde_json::Map<String, Value> = first
        .iter()
        .map(|entry| (entry.0.clone(), Value::from("model-00001-of-00002.safetensors")))
        .chain(second.iter().map(|entry| (entry.0.clone(), Value::from("model-00002-of-00002.safetensors"))))
        .collect();
    let index = serde_json::json!({"metadata": {"total_size": 1808}, "weight_map": weight_map});
    fs::write(sharded.join("model.safetensors.index.json"), index.to_string()).expect("write index");

    let whole = json_of(dir.path(), &["inspect", "model.safetensors", "--format", "json"]);
    let from_directory = json_of(dir.path(), &["inspect", "sharded", "--format", "json"]);
    let from_index = json_of(dir.path(), &["inspect", "sharded/model.safetensors.index.json", "--format", "json"]);
    assert_eq!(from_directory, from_index);
    let by_name = |json: &Value| -> HashMap<String, Value> {
        json.as_array()
            .into_iter()
            .flatten()
            .map(|entry| (entry["name"].as_str().unwrap_or_default().to_string(), entry.clone()))
            .collect()
    };
    assert_eq!(by_name(&whole), by_name(&from_directory), "the shards hold the same tensors and labels");
    let output = initc(dir.path(), &["diff", "model.safetensors", "sharded"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));

    // An index naming a shard that is missing, or a tensor its shard lacks, is an error.
    let mut broken = index.clone();
    broken["weight_map"]["dense.kernel"] = Value::from("model-00002-of-00002.safetensors");
    fs::write(sharded.join("model.safetensors.index.json"), broken.to_string()).expect("write index");
    let output = initc(dir.path(), &["inspect", "sharded"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("does not hold it"), "{}", text(&output.stderr));
    broken["weight_map"]["dense.kernel"] = Value::from("model-00003-of-00002.safetensors");
    fs::write(sharded.join("model.safetensors.index.json"), broken.to_string()).expect("write index");
    assert_eq!(initc(dir.path(), &["inspect", "sharded"]).status.code(), Some(2));
}

#[test]
fn inspect_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(dir.path().join("junk.safetensors"), b"\x10\0\0\0\0\0\0\0not json at all!").expect("write junk");
    for path in ["junk.safetensors", "missing.safetensors", "."] {
        let output = initc(dir.path(), &["inspect", path]);
        assert_eq!(output.status.code(), Some(2), "{path}");
        let stderr = text(&output.stderr);
        assert!(stderr.starts_with("error[E0101]") && !stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn diff_reports_equality_values_names_and_shapes() {
    let dir = compiled();
    let bytes = fs::read(dir.path().join("model.safetensors")).expect("compiled file");
    let base = entries(&bytes);
    let output = initc(dir.path(), &["diff", "model.safetensors", "model.safetensors"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).ends_with("equal\n"));

    // One value nudged by 1e-4.
    let mut nudged = base.clone();
    let kernel = nudged.iter_mut().find(|entry| entry.0 == "dense_1.kernel").expect("present");
    let value = f32::from_le_bytes([kernel.3[4], kernel.3[5], kernel.3[6], kernel.3[7]]) + 1e-4;
    kernel.3[4..8].copy_from_slice(&value.to_le_bytes());
    write_file(&dir.path().join("nudged.safetensors"), &nudged, None);
    let output = initc(dir.path(), &["diff", "model.safetensors", "nudged.safetensors"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("dense_1.kernel: 1 of 128 values differ; max abs diff") && stdout.contains("at [0, 1]"),
        "{stdout}"
    );
    assert!(stdout.ends_with("different\n"), "{stdout}");
    let within = initc(dir.path(), &["diff", "model.safetensors", "nudged.safetensors", "--atol", "2e-4"]);
    assert_eq!(within.status.code(), Some(0), "{}", text(&within.stdout));
    let relative = initc(dir.path(), &["diff", "model.safetensors", "nudged.safetensors", "--rtol", "1e-9"]);
    assert_eq!(relative.status.code(), Some(1));
    let json = initc(dir.path(), &["diff", "model.safetensors", "nudged.safetensors", "--format", "json"]);
    let json: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(json["equal"], false);
    let row = json["tensors"].as_array().into_iter().flatten().find(|t| t["name"] == "dense_1.kernel").cloned();
    assert_eq!(row.map(|row| row["worst_index"].clone()), Some(serde_json::json!([0, 1])));

    // A tensor missing on one side, another reshaped.
    let mut changed: Vec<Entry> = base.iter().filter(|entry| entry.0 != "dense_2.bias").cloned().collect();
    let bias = changed.iter_mut().find(|entry| entry.0 == "dense.bias").expect("present");
    bias.2 = vec![4, 4];
    changed.push(("extra".into(), Dtype::F32, vec![1], f32_bytes(&[0.0])));
    write_file(&dir.path().join("changed.safetensors"), &changed, None);
    let output = initc(dir.path(), &["diff", "model.safetensors", "changed.safetensors"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("only in model.safetensors: dense_2.bias\n"), "{stdout}");
    assert!(stdout.contains("only in changed.safetensors: extra\n"), "{stdout}");
    assert!(stdout.contains("dense.bias: shape [16] vs [4, 4]\n"), "{stdout}");

    for args in [
        &["diff", "model.safetensors", "missing.safetensors"][..],
        &["diff", "model.safetensors", "model.safetensors", "--atol", "-1"],
        &["diff", "model.safetensors", "model.safetensors", "--rtol", "nan"],
        &["diff", "model.safetensors"],
    ] {
        assert_eq!(initc(dir.path(), args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn verify_compiles_in_memory_and_compares_with_the_golden_file() {
    let dir = compiled();
    let pass = initc(dir.path(), &["verify", "model.yaml", "--golden", "model.safetensors"]);
    assert_eq!(pass.status.code(), Some(0), "{}{}", text(&pass.stdout), text(&pass.stderr));
    assert!(text(&pass.stdout).ends_with("equal\n"));
    let fail = initc(dir.path(), &["verify", "model.yaml", "--golden", "model.safetensors", "--seed", "4"]);
    assert_eq!(fail.status.code(), Some(1));
    let stdout = text(&fail.stdout);
    assert!(stdout.contains("dense.kernel: 192 of 192 values differ"), "{stdout}");
    assert!(!stdout.contains("dense.bias:"), "constant tensors do not depend on the seed: {stdout}");

    let output = initc(dir.path(), &["compile", "model.yaml", "--seed", "4", "-o", "seed4.safetensors"]);
    assert_eq!(output.status.code(), Some(0));
    let seeded = initc(dir.path(), &["verify", "model.yaml", "--seed", "4", "--golden", "seed4.safetensors"]);
    assert_eq!(seeded.status.code(), Some(0), "{}", text(&seeded.stdout));
    let wider = initc(dir.path(), &["verify", "model.yaml", "--input", "13", "--golden", "model.safetensors"]);
    assert_eq!(wider.status.code(), Some(1));
    assert!(text(&wider.stdout).contains("dense.kernel: shape [13, 16] vs [12, 16]"), "{}", text(&wider.stdout));
    assert!(fs::read_dir(dir.path()).expect("list").count() == 3, "verify writes no file");

    fs::write(dir.path().join("bad.yaml"), "input: [4]\nlayers:\n  - dense: {units: 0}\n").expect("write config");
    for args in [
        &["verify", "bad.yaml", "--golden", "model.safetensors"][..],
        &["verify", "model.yaml", "--golden", "missing.safetensors"],
        &["verify", "model.yaml"],
    ] {
        let output = initc(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stderr));
    }
}

/// Runs initc and fails (killing it) if it has not finished within `seconds`: for inputs that
/// used to block forever.
fn initc_within(dir: &Path, args: &[&str], seconds: u64) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_initc"))
        .current_dir(dir)
        .args(args)
        .env_remove("RAYON_NUM_THREADS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("initc starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().expect("waits").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("initc {args:?} still ran after {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// The SVG's structure, not its pixels: per panel its title, every text in document order
/// (header lines, axis names, tick labels, legend) and how many of each element it holds.
fn svg_structure(svg: &str) -> String {
    let document = roxmltree::Document::parse(svg).unwrap_or_else(|error| panic!("not XML ({error}):\n{svg}"));
    let mut out = String::new();
    for panel in document.descendants().filter(|node| node.attribute("class") == Some("panel")) {
        let title = panel.children().find(|node| node.has_tag_name("title")).and_then(|node| node.text());
        out.push_str(&format!("panel {}\n", title.unwrap_or("(no title)")));
        let texts: Vec<&str> = panel
            .descendants()
            .filter(|node| node.has_tag_name("text"))
            .filter_map(|node| node.text())
            .map(str::trim)
            .collect();
        out.push_str(&format!("  text: {}\n", texts.join(" | ")));
        let mut counts = std::collections::BTreeMap::new();
        for node in panel.descendants().filter(|node| node.is_element()) {
            *counts.entry(node.tag_name().name()).or_insert(0) += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(name, count)| format!("{name} {count}")).collect();
        out.push_str(&format!("  elements: {}\n", counts.join(", ")));
    }
    out
}

#[test]
fn inspect_plot_svg_structure_matches_its_golden_file() {
    let dir = compiled();
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--plot", "figure.svg", "--bins", "8"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let svg = fs::read_to_string(dir.path().join("figure.svg")).expect("the SVG was written");
    let structure = svg_structure(&svg);
    // What a reader needs is there: the initializer whole, its expected values, axis ticks.
    assert!(structure.contains("initializer: random_normal(mean=0, stddev=0.02)"), "{structure}");
    assert!(structure.contains("expected: mean 0, std 0.02"), "{structure}");
    assert!(structure.contains("| value |") && structure.contains("share of values"), "{structure}");
    let golden = crate::support::repo().join("tests/golden/plot/probe.structure.txt");
    crate::support::assert_no_failures(crate::support::check_golden(&golden, &structure).into_iter().collect());
    // The PNG is the same figure as a raster.
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--plot", "figure.png", "--bins", "8"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let png = fs::read(dir.path().join("figure.png")).expect("the PNG was written");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let reader = decoder.read_info().expect("a valid PNG");
    let (width, height) = svg
        .split_once("width=\"")
        .and_then(|(_, rest)| rest.split_once("\" height=\""))
        .and_then(|(width, rest)| Some((width.parse().ok()?, rest.split_once('"')?.0.parse().ok()?)))
        .expect("the SVG's size");
    assert_eq!((reader.info().width, reader.info().height), (width, height));
}

#[test]
fn inspect_plot_picks_tensors_and_caps_the_panels() {
    let dir = compiled();
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--plot", "few.svg", "--max-panels", "2"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("the figure shows the first 2 of 6 tensors"), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().filter(|line| line.starts_with("dense")).count(), 6, "all in the table");
    let svg = fs::read_to_string(dir.path().join("few.svg")).expect("written");
    assert_eq!(svg.matches("<g class=\"panel\"").count(), 2);
    let output =
        initc(dir.path(), &["inspect", "model.safetensors", "--plot", "one.svg", "--tensors", "dense_1.*", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("dense_1.kernel") && !stdout.contains("dense.kernel"), "{stdout}");
    assert!(stdout.ends_with("2 tensors, 136 parameters\n"), "{stdout}");
    let svg = fs::read_to_string(dir.path().join("one.svg")).expect("written");
    assert!(svg.contains("<title>dense_1.kernel</title>") && svg.contains("<title>dense_1.bias</title>"));
    assert_eq!(svg.matches("<g class=\"panel\"").count(), 2);
    for (pattern, message) in [("nothing.*", "no tensor of `model.safetensors` matches"), ("[", "is not a pattern")] {
        let output = initc(dir.path(), &["inspect", "model.safetensors", "--tensors", pattern]);
        assert_eq!(output.status.code(), Some(2), "{pattern}");
        assert!(text(&output.stderr).contains(message), "{}", text(&output.stderr));
    }
}

#[cfg(unix)]
#[test]
fn a_failed_plot_leaves_the_existing_figure_as_it_was() {
    let dir = compiled();
    let old = "<svg>the figure of an earlier run, which must survive</svg>\n".repeat(200);
    fs::write(dir.path().join("figure.svg"), &old).expect("write");
    // A file-size limit makes the write fail part-way, as a full disk does.
    let script = format!(
        "trap '' XFSZ; ulimit -f 8; exec '{}' inspect model.safetensors --plot figure.svg",
        env!("CARGO_BIN_EXE_initc")
    );
    let output =
        std::process::Command::new("sh").current_dir(dir.path()).args(["-c", &script]).output().expect("sh runs");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("cannot write `figure.svg`"), "{}", text(&output.stderr));
    assert_eq!(fs::read_to_string(dir.path().join("figure.svg")).expect("still there"), old);
    let names: Vec<String> = fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|entry| entry.ok().map(|entry| entry.file_name().to_string_lossy().into_owned()))
        .collect();
    assert!(!names.iter().any(|name| name.ends_with(".tmp")), "no temporary file left: {names:?}");
    // Into a directory that does not exist: an error, and nothing created.
    let output = initc(dir.path(), &["inspect", "model.safetensors", "--plot", "missing/figure.png"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!dir.path().join("missing").exists());
}

#[cfg(unix)]
#[test]
fn fifos_directories_and_empty_paths_are_refused_not_waited_on() {
    let dir = compiled();
    let status = std::process::Command::new("mkfifo").arg(dir.path().join("pipe")).status().expect("mkfifo");
    assert!(status.success());
    let output = initc_within(dir.path(), &["inspect", "pipe"], 20);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`pipe` is a FIFO, not a regular file"), "{}", text(&output.stderr));
    for (source, message) in [
        ("pipe", "`pipe` is a FIFO, not a regular file"),
        ("sub", "`sub` is a directory, not a regular file"),
        ("", "`path` is empty: name a safetensors file"),
    ] {
        fs::create_dir_all(dir.path().join("sub")).expect("mkdir");
        let config = format!(
            "input: [2]\nlayers:\n  - dense: {{units: 2, kernel_initializer: \"from_file(path='{source}', tensor='w')\"}}\n"
        );
        fs::write(dir.path().join("from.yaml"), config).expect("write");
        let output = initc_within(dir.path(), &["compile", "from.yaml", "-o", "from.safetensors"], 20);
        assert_eq!(output.status.code(), Some(1), "{source:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains(message), "{source:?}: {}", text(&output.stderr));
        assert!(!dir.path().join("from.safetensors").exists());
    }
    // A shard that is a directory.
    let sharded = dir.path().join("sharded");
    fs::create_dir_all(sharded.join("shard.safetensors")).expect("mkdir");
    let index = serde_json::json!({"weight_map": {"w": "shard.safetensors"}});
    fs::write(sharded.join("model.safetensors.index.json"), index.to_string()).expect("write index");
    let output = initc(dir.path(), &["inspect", "sharded"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("`shard.safetensors` is a directory, not a regular file"),
        "{}",
        text(&output.stderr)
    );
}

#[cfg(unix)]
#[test]
fn an_index_may_not_lead_outside_its_directory_through_a_link() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let outside = dir.path().join("outside.safetensors");
    write_file(&outside, &[("w".into(), Dtype::F32, vec![1], f32_bytes(&[1.0]))], None);
    let sharded = dir.path().join("sharded");
    fs::create_dir(&sharded).expect("mkdir");
    std::os::unix::fs::symlink(&outside, sharded.join("model-1.safetensors")).expect("symlink");
    let index = serde_json::json!({"weight_map": {"w": "model-1.safetensors"}});
    fs::write(sharded.join("model.safetensors.index.json"), index.to_string()).expect("write index");
    let output = initc(dir.path(), &["inspect", "sharded"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("shard `model-1.safetensors` is a link to") && stderr.contains("outside"), "{stderr}");
    // A link that stays inside the directory is fine.
    fs::rename(&outside, sharded.join("real.safetensors")).expect("move");
    fs::remove_file(sharded.join("model-1.safetensors")).expect("remove link");
    std::os::unix::fs::symlink("real.safetensors", sharded.join("model-1.safetensors")).expect("symlink");
    let output = initc(dir.path(), &["inspect", "sharded"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn names_are_escaped_for_the_terminal_and_duplicates_named() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let hostile = "evil\u{1b}]0;title\u{7}\u{1b}[2J";
    write_file(&dir.path().join("a.safetensors"), &[(hostile.into(), Dtype::F32, vec![1], f32_bytes(&[1.0]))], None);
    write_file(&dir.path().join("b.safetensors"), &[(hostile.into(), Dtype::F32, vec![1], f32_bytes(&[2.0]))], None);
    let output = initc(dir.path(), &["inspect", "a.safetensors"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'), "{stdout:?}");
    assert!(stdout.contains("evil\\u{1b}]0;title\\u{7}\\u{1b}[2J"), "{stdout}");
    let output = initc(dir.path(), &["diff", "a.safetensors", "b.safetensors"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(!text(&output.stdout).contains('\u{1b}'), "{:?}", text(&output.stdout));
    // JSON escapes them itself, and keeps the name exact.
    let json = json_of(dir.path(), &["inspect", "a.safetensors", "--format", "json"]);
    assert_eq!(json[0]["name"], hostile);

    // A header that lists a name twice (the JSON stays valid; serde would keep the last).
    let header = r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0; 8]);
    fs::write(dir.path().join("twice.safetensors"), bytes).expect("write");
    let output = initc(dir.path(), &["inspect", "twice.safetensors"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("lists tensor `w` twice"), "{}", text(&output.stderr));
}

#[test]
fn statistics_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // Several statistics blocks, an odd tail, NaN and Inf, in three dtypes.
    let count = 3 * 65_536 + 101;
    let values: Vec<f32> = (0..count)
        .map(|i| match i % 5003 {
            7 => f32::NAN,
            8 => f32::NEG_INFINITY,
            k => ((k * 7919) % 10_007) as f32 / 1000.0 - 5.0,
        })
        .collect();
    let bf16: Vec<u8> = values.iter().flat_map(|&v| half::bf16::from_f32(v).to_le_bytes()).collect();
    let f64_bytes: Vec<u8> = values.iter().flat_map(|&v| (f64::from(v) * 1.1).to_le_bytes()).collect();
    let tensors: Vec<Entry> = vec![
        ("f32".into(), Dtype::F32, vec![count], f32_bytes(&values)),
        ("bf16".into(), Dtype::BF16, vec![count], bf16),
        ("f64".into(), Dtype::F64, vec![count], f64_bytes),
    ];
    write_file(&dir.path().join("w.safetensors"), &tensors, None);
    let args = ["inspect", "w.safetensors", "--format", "json", "--hist"];
    let runs: Vec<Value> = ["1", "2", "3"]
        .iter()
        .map(|threads| {
            let output = crate::support::initc_with_env(dir.path(), &args, &[("RAYON_NUM_THREADS", threads)]);
            assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
            serde_json::from_slice(&output.stdout).expect("JSON")
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
    for entry in runs[0].as_array().expect("array") {
        assert_eq!(entry["nan"], (count / 5003 + 1) as u64, "{}", entry["name"]);
        let counts = entry["histogram"]["counts"].as_array().expect("histogram");
        let total: u64 = counts.iter().filter_map(Value::as_u64).sum();
        assert_eq!(total, count as u64 - 2 * (count / 5003 + 1) as u64, "{}", entry["name"]);
    }
}

/// The binary maps the files it inspects: a file truncated while it is read must give the
/// "changed while it was read" error and exit 2 (from the length check before a window, or from
/// the SIGBUS handler inside one), never a death by signal. The truncation comes after a delay
/// that sweeps the read, with one thread so that the read takes a while.
#[test]
fn a_file_truncated_while_it_is_inspected_or_diffed_is_reported_not_a_crash() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // 64 MiB of F32: 256 blocks, 4 windows.
    let values: Vec<u8> = (0..16u32 << 20).flat_map(|i| ((i % 1000) as f32).to_le_bytes()).collect();
    let original = dir.path().join("original.safetensors");
    write_file(&original, &[("w".to_string(), Dtype::F32, vec![16 << 20], values)], None);
    let header_end =
        8 + u64::from_le_bytes(fs::read(&original).expect("read")[..8].try_into().expect("8 bytes")) + 4096;
    let mut changed = 0;
    for delay_ms in (0..40).step_by(2) {
        for command in [&["inspect", "w.safetensors"][..], &["diff", "w.safetensors", "original.safetensors"]] {
            let path = dir.path().join("w.safetensors");
            fs::copy(&original, &path).expect("copy");
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_initc"))
                .current_dir(dir.path())
                .args(command)
                .env("RAYON_NUM_THREADS", "1")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("initc starts");
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            fs::OpenOptions::new().write(true).open(&path).and_then(|file| file.set_len(header_end)).expect("truncate");
            let output = child.wait_with_output().expect("output");
            let stderr = text(&output.stderr);
            match output.status.code() {
                Some(0) => {}
                Some(2) => {
                    assert!(stderr.starts_with("error[E0101]") && stderr.contains("help:"), "{stderr}");
                    changed += usize::from(stderr.contains("`w.safetensors` changed while it was read"));
                }
                other => panic!("{command:?} after {delay_ms} ms: status {other:?} ({:?})\n{stderr}", output.status),
            }
        }
    }
    assert!(changed > 0, "no run saw the truncation: the sweep of delays missed every read");
}
