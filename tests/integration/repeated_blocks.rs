//! A repeated block whose entries never mention `i` is resolved once and copied: every copy must
//! give what resolving it on its own gives (the same summary, tensors and bytes as the block
//! written out copy by copy), and the limits on entries and text must stop it where they did.

use super::support::{initc, text};
use std::fs;
use std::path::Path;

/// The entries of one copy, indented under `layers:` of a block.
const ENTRIES: &str = "
        - dense: {units: 12, activation: relu, kernel_initializer: he_uniform, bias_initializer: \"constant(value=0.1)\"}
        - block: {name: inner, layers: [{layer_normalization: {}}, {dense: {units: 6, use_bias: false}}]}
        - param: {name: scale, shape: [6], initializer: \"random_normal(stddev=vars_scale)\"}";

/// A residual block needs its input's shape back (6); without `residual`, the model's input is
/// 5 wide, so the first copy is built on 5 and the others on the 6 the copy before gives.
fn head(residual: bool) -> String {
    let input = if residual { 6 } else { 5 };
    format!("name: copies\nseed: 7\ninput: [{input}]\nvars: {{vars_scale: 0.25}}\nlayers:\n")
}

fn repeated(count: usize, residual: bool) -> String {
    format!(
        "{}  - block:\n      name: \"h.{{i}}\"\n      repeat: {count}\n      residual: {residual}\n      layers:{ENTRIES}\n",
        head(residual)
    )
}

fn written_out(count: usize, residual: bool) -> String {
    let mut config = head(residual);
    for copy in 0..count {
        config.push_str(&format!(
            "  - block:\n      name: \"h.{copy}\"\n      residual: {residual}\n      layers:{ENTRIES}\n"
        ));
    }
    config
}

/// What `initc` prints and writes for `config`: the summary, its JSON, and the weights' bytes.
fn results(dir: &Path, name: &str, config: &str) -> (String, String, Vec<u8>) {
    fs::write(dir.join(name), config).expect("write config");
    let summary = initc(dir, &["summary", name]);
    assert_eq!(summary.status.code(), Some(0), "{name}: {}", text(&summary.stderr));
    let json = initc(dir, &["summary", "--format", "json", name]);
    let weights = format!("{name}.safetensors");
    let compiled = initc(dir, &[name, "-o", &weights, "--quiet"]);
    assert_eq!(compiled.status.code(), Some(0), "{name}: {}", text(&compiled.stderr));
    let bytes = fs::read(dir.join(&weights)).expect("read weights");
    (text(&summary.stdout), text(&json.stdout), bytes)
}

#[test]
fn copies_resolved_once_equal_the_block_written_out() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    // Without `residual`, each shared layer is built again for the shapes it is given.
    for residual in [true, false] {
        let (summary, json, bytes) = results(dir, "repeated.yaml", &repeated(5, residual));
        let (expected_summary, expected_json, expected_bytes) = results(dir, "written.yaml", &written_out(5, residual));
        assert_eq!(summary, expected_summary);
        assert_eq!(json, expected_json);
        assert!(bytes == expected_bytes, "the weights differ");
        assert!(summary.contains("h.4.scale (Param) "), "{summary}");
    }
}

#[test]
fn the_entry_limit_stops_copies_at_the_entry_that_passes_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    // Two entries a copy: the 50,000th copy's second entry is the 100,001st entry.
    let config = "input: [4]\nlayers:\n  - block:\n      name: \"b{i}\"\n      repeat: 60000\n      layers:\n        - dense: {units: 4}\n        - dropout: {rate: 0.1}\n";
    fs::write(dir.join("many.yaml"), config).expect("write config");
    let output = initc(dir, &["many.yaml", "-o", "many.safetensors"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error[E0505]: the model has more than 100000 layers, params and blocks"), "{stderr}");
    assert!(stderr.contains("many.yaml:8:11"), "{stderr}");
    assert_eq!(stderr.matches("error[").count(), 1, "{stderr}");
    assert!(!dir.join("many.safetensors").exists());
}
