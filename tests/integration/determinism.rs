//! The product promise: same config + seed ⇒ the same bytes, whatever the run, thread count or
//! layer order; a different seed changes every random tensor.

use crate::support::{header_and_hashes, initc_with_env, text};
use std::collections::HashMap;
use std::path::Path;

const CONFIG: &str = "\
input: [12, 40]
layers:
  - conv1d: {filters: 8, kernel_size: 3, name: conv}
  - flatten
  - dense: {units: 300, name: wide, kernel_initializer: glorot_normal, bias_initializer: random_normal}
  - dense: {units: 64, name: ortho, kernel_initializer: orthogonal}
  - dense: {units: 33, name: trunc, kernel_initializer: \"truncated_normal(stddev=sqrt(1 / fan_in))\"}
  - dense: {units: 5, name: uniform, kernel_initializer: lecun_uniform}
";

/// Compiles `config` and returns tensor name → SHA-256 of its bytes, plus the file bytes.
fn compile(dir: &Path, config: &str, args: &[&str], env: &[(&str, &str)]) -> (HashMap<String, String>, Vec<u8>) {
    std::fs::write(dir.join("model.yaml"), config).expect("write config");
    let output = initc_with_env(dir, &[&["model.yaml", "-o", "out.safetensors"], args].concat(), env);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let bytes = std::fs::read(dir.join("out.safetensors")).expect("output");
    let (_, hashes) = header_and_hashes(&bytes);
    let map = hashes
        .lines()
        .filter_map(|line| line.split_once("  ").map(|(hash, name)| (name.to_string(), hash.to_string())))
        .collect();
    (map, bytes)
}

#[test]
fn same_bytes_on_every_run_and_thread_count() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (_, reference) = compile(dir.path(), CONFIG, &["--seed", "11"], &[]);
    for threads in ["1", "2", "3", "8"] {
        let (_, bytes) = compile(dir.path(), CONFIG, &["--seed", "11"], &[("RAYON_NUM_THREADS", threads)]);
        assert!(bytes == reference, "RAYON_NUM_THREADS={threads} changed the output");
    }
}

#[test]
fn a_tensor_does_not_depend_on_other_layers() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (alone, _) = compile(dir.path(), CONFIG, &[], &[]);
    let extended = CONFIG.replace("layers:\n", "layers:\n  - dropout: {rate: 0.1}\n")
        + "  - dense: {units: 7, name: extra, kernel_initializer: he_normal}\n";
    let (with_more, _) = compile(dir.path(), &extended, &[], &[]);
    for (name, hash) in &alone {
        assert_eq!(with_more.get(name), Some(hash), "{name} changed when unrelated layers were added");
    }
}

#[test]
fn the_seed_changes_every_random_tensor_and_nothing_else() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (seed_0, _) = compile(dir.path(), CONFIG, &[], &[]);
    let (seed_1, _) = compile(dir.path(), CONFIG, &["--seed", "1"], &[]);
    let (config_seed_1, _) = compile(dir.path(), &format!("seed: 1\n{CONFIG}"), &[], &[]);
    assert_eq!(seed_1, config_seed_1, "`--seed 1` and `seed: 1` must agree");
    let constant = ["conv.bias", "ortho.bias", "trunc.bias", "uniform.bias"];
    for (name, hash) in &seed_0 {
        if constant.contains(&name.as_str()) {
            assert_eq!(seed_1.get(name), Some(hash), "{name} is constant and must not change");
        } else {
            assert_ne!(seed_1.get(name), Some(hash), "{name} is random and must change with the seed");
        }
    }
}

#[test]
fn an_explicit_initializer_seed_repeats_values_as_in_keras() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = "input: [10]\nlayers:\n  - dense: {units: 4, kernel_initializer: \"random_normal(seed=5)\"}\n  - dense: {units: 4, input_dim: 4}\n  - dense: {units: 4, kernel_initializer: {RandomNormal: {seed: 5}}}\n";
    let (hashes, _) = compile(dir.path(), config, &[], &[]);
    assert!(hashes.contains_key("dense_1.kernel"));
    // dense.kernel is (10, 4) and dense_2.kernel is (4, 4): the same stream, so the shorter is a prefix.
    let (_, bytes) = compile(dir.path(), config, &["--seed", "99"], &[]);
    let tensors = safetensors::SafeTensors::deserialize(&bytes).expect("valid");
    let first = tensors.tensor("dense.kernel").expect("dense.kernel");
    let third = tensors.tensor("dense_2.kernel").expect("dense_2.kernel");
    assert_eq!(&first.data()[..third.data().len()], third.data());
    let (hashes_99, _) = compile(dir.path(), config, &["--seed", "99"], &[]);
    assert_eq!(hashes.get("dense.kernel"), hashes_99.get("dense.kernel"), "an explicit seed ignores --seed");
}
