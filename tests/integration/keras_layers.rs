//! The Keras layer catalogue against Keras itself: every model in `tests/keras/layers/`
//! (recorded by `tools/record_keras.py` from `tools/keras_layers/`, a few layer classes each)
//! prints Keras's summary byte for byte, has Keras's rows, connections and totals, and compiles
//! to Keras's weight names and shapes. There is no list to keep: a recorded model is a test.

use crate::keras_check::{models, row_differences, summary_differences, weight_differences};
use crate::support::repo;
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
