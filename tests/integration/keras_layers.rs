//! The Keras layer catalogue against Keras itself: every model in `tests/keras/layers/`
//! (recorded by `tools/record_keras.py` from `tools/keras_layers/`, a few layer classes each)
//! prints Keras's summary byte for byte, has Keras's rows, connections and totals, and compiles
//! to Keras's weight names and shapes. There is no list to keep: a recorded model is a test.

use crate::keras_check::{models, row_differences, summary_differences, weight_differences};
use crate::support::{initc, repo, text};
use std::path::PathBuf;

fn dir() -> PathBuf {
    repo().join("tests/keras/layers")
}

#[test]
fn layer_models_print_keras_summary_byte_for_byte() {
    let models = models(&dir());
    assert!(!models.is_empty(), "tests/keras/layers holds no recorded model");
    let failures: Vec<String> = models.iter().filter_map(|name| summary_differences(&dir(), name)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn layer_models_have_keras_rows_and_totals() {
    let failures: Vec<String> = models(&dir()).iter().flat_map(|name| row_differences(&dir(), name)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn layer_models_compile_to_keras_weight_names_and_shapes() {
    let out_dir = tempfile::tempdir().expect("temporary directory");
    let failures: Vec<String> =
        models(&dir()).iter().filter_map(|name| weight_differences(&dir(), name, out_dir.path())).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The YAML twins of the attention group's blocks print the same summary as Keras.
#[test]
fn attention_examples_print_keras_summary() {
    let mut failures = Vec::new();
    for name in ["transformer_encoder", "gpt_decoder"] {
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

/// The f32 values of tensor `name` in a safetensors file.
pub fn tensor_values(bytes: &[u8], name: &str) -> Vec<f32> {
    let length = u64::from_le_bytes(bytes[..8].try_into().expect("header length")) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + length]).expect("header JSON");
    let offsets = &header[name]["data_offsets"];
    let (start, end) = (offsets[0].as_u64().expect("start") as usize, offsets[1].as_u64().expect("end") as usize);
    bytes[8 + length + start..8 + length + end]
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes(chunk.try_into().expect("4 bytes")))
        .collect()
}

/// Kolmogorov–Smirnov D of `values` against the uniform distribution on [−limit, limit].
fn uniform_ks(values: &[f32], limit: f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = ((x + limit) / (2.0 * limit)).clamp(0.0, 1.0);
            ((i + 1) as f64 / n - f).max(f - i as f64 / n)
        })
        .fold(0.0, f64::max)
}

/// Keras 3.15.1 gives each EinsumDense kernel of MultiHeadAttention the fans of its input and
/// output axes (`compute_fans(shape, input_axes, output_axes)`): a query kernel (64, 8, 32) is
/// glorot-uniform with fan_in 64 and fan_out 8·32 (sampled in Keras: σ 0.0788, against 0.0791
/// for those fans and 0.0510 for the shape's). The compiled kernel fits that distribution at
/// α = 0.001, and not the one of the shape's fans.
#[test]
fn attention_kernels_take_keras_axis_fans() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = "name: fans\ninputs:\n  x: [16, 64]\nlayers:\n  - multi_head_attention: {name: mha, num_heads: 8, key_dim: 32, inputs: [x, x]}\noutputs: [mha]\n";
    std::fs::write(dir.path().join("fans.yaml"), config).expect("config");
    let output = initc(dir.path(), &["compile", "fans.yaml", "-o", "fans.safetensors"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let bytes = std::fs::read(dir.path().join("fans.safetensors")).expect("weights");
    let critical = |n: usize| 1.949 / (n as f64).sqrt();
    for (tensor, fan_in, fan_out) in [("mha.query.kernel", 64.0, 256.0), ("mha.attention_output.kernel", 256.0, 64.0)] {
        let values = tensor_values(&bytes, tensor);
        let axis_fans = uniform_ks(&values, (6.0f64 / (fan_in + fan_out)).sqrt());
        let shape_fans = uniform_ks(&values, (6.0f64 / (8.0 * 64.0 + 8.0 * 32.0)).sqrt());
        assert!(axis_fans < critical(values.len()), "{tensor}: D = {axis_fans}");
        assert!(shape_fans > critical(values.len()), "{tensor}: the shape's fans fit too (D = {shape_fans})");
    }
}
