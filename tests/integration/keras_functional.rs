//! Keras functional models against Keras itself: every `tests/keras/functional/<name>.json`
//! (recorded by `tools/record_keras.py` from `keras.applications` and hand-written models) either
//! imports with Keras's summary byte for byte, Keras's rows and connections, and Keras's weight
//! names and shapes (by layer and weight name alone where Keras adds name scopes the JSON lacks),
//! or is refused with the one layer class initc lacks. Each model is in exactly
//! one of the two lists, so none is skipped silently.

use crate::keras_check::{models, row_differences, summary_differences, weight_differences, weight_differences_by};
use crate::support::{initc, repo, text};
use std::path::PathBuf;

/// Models whose every layer initc supports.
const SUPPORTED: &[&str] = &[
    "convnexttiny",
    "densenet121",
    "efficientnetb0",
    "inceptionv3",
    "merge_layers",
    "mobilenetv2",
    "mobilenetv3small",
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
    "xception",
];

/// Models with a layer class initc does not have yet, and the first such class.
const UNSUPPORTED: &[(&str, &str)] = &[];

/// Models whose every layer initc supports, but whose Keras weight paths carry name scopes of
/// the Python code that built them (`normal_A_block_0/adjust_block/…/adjust_bn_0/beta`), which
/// the JSON does not record: their weights are compared by layer and weight name alone.
const NAME_SCOPED: &[&str] = &["nasnetmobile"];

/// Models refused for another reason than a missing layer class, and a phrase of the error.
const REFUSED: &[(&str, &str)] = &[];

fn dir() -> PathBuf {
    repo().join("tests/keras/functional")
}

#[test]
fn every_recorded_model_is_listed_once() {
    let mut listed: Vec<&str> = SUPPORTED.to_vec();
    listed.extend(UNSUPPORTED.iter().map(|(name, _)| *name));
    listed.extend(REFUSED.iter().map(|(name, _)| *name));
    listed.extend(NAME_SCOPED);
    listed.sort_unstable();
    let models = models(&dir());
    assert_eq!(listed, models.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn supported_models_print_keras_summary_byte_for_byte() {
    let failures: Vec<String> =
        SUPPORTED.iter().chain(NAME_SCOPED).filter_map(|name| summary_differences(&dir(), name)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn supported_models_have_keras_rows_and_connections() {
    let failures: Vec<String> =
        SUPPORTED.iter().chain(NAME_SCOPED).flat_map(|name| row_differences(&dir(), name)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn supported_models_compile_to_keras_weight_names_and_shapes() {
    let out_dir = tempfile::tempdir().expect("temporary directory");
    let failures: Vec<String> =
        SUPPORTED.iter().filter_map(|name| weight_differences(&dir(), name, out_dir.path())).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The last two parts of a Keras weight path: the layer's name and the weight's.
fn layer_and_weight(path: &str) -> String {
    let parts: Vec<&str> = path.rsplitn(3, '/').collect();
    match parts.as_slice() {
        [weight, layer, ..] => format!("{layer}.{weight}"),
        _ => path.to_string(),
    }
}

#[test]
fn name_scoped_models_compile_to_keras_weights_by_layer_and_weight_name() {
    let out_dir = tempfile::tempdir().expect("temporary directory");
    let failures: Vec<String> = NAME_SCOPED
        .iter()
        .filter_map(|name| weight_differences_by(&dir(), name, out_dir.path(), layer_and_weight))
        .collect();
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
