//! Golden files as data: every config under `tests/golden/ok` and `examples/` compiles, with its
//! summary (text and JSON), header and per-tensor SHA-256 beside it; every config under
//! `tests/golden/err` fails with exactly the rendered diagnostics beside it.

use crate::support::{
    assert_no_failures, check_golden, config_args, config_env, header_and_hashes, initc, initc_with_env, repo, text,
    yaml_files,
};
use std::path::Path;

#[test]
fn ok_configs_match_their_golden_files() {
    let dir = repo().join("tests/golden/ok");
    let mut failures = Vec::new();
    for config in yaml_files(&dir) {
        failures.extend(check_ok(&config, &dir));
    }
    assert_no_failures(failures);
}

#[test]
fn every_example_compiles_and_matches_its_golden_files() {
    let golden = repo().join("tests/golden/examples");
    let examples = yaml_files(&repo().join("examples"));
    assert!(examples.len() >= 2, "examples/ should hold the shipped examples");
    let mut failures = Vec::new();
    for config in examples {
        failures.extend(check_ok(&config, &golden));
    }
    assert_no_failures(failures);
}

/// Compiles one config and checks its four golden files in `golden`.
fn check_ok(config: &Path, golden: &Path) -> Vec<String> {
    let stem = config.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
    let dir = config.parent().unwrap_or(Path::new("."));
    let name = config.file_name().and_then(|s| s.to_str()).unwrap_or_default();
    let extra = config_args(config);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let out_dir = tempfile::tempdir().expect("temporary directory");
    let out = out_dir.path().join("weights.safetensors");
    let out_arg = out.to_str().expect("UTF-8 temp path");

    let mut failures = Vec::new();
    let compile = initc(dir, &[&["compile", name, "-o", out_arg], &extra[..]].concat());
    if !compile.status.success() {
        return vec![format!("{name}: compile failed ({}):\n{}", compile.status, text(&compile.stderr))];
    }
    if !compile.stdout.is_empty() {
        failures.push(format!("{name}: compile printed to stdout:\n{}", text(&compile.stdout)));
    }
    let bytes = std::fs::read(&out).expect("compiled file");
    let (header, hashes) = header_and_hashes(&bytes);
    failures.extend(check_golden(&golden.join(format!("{stem}.header.json")), &format!("{header}\n")));
    failures.extend(check_golden(&golden.join(format!("{stem}.sha256")), &hashes));
    for (format, suffix) in [("text", "summary.txt"), ("json", "summary.json")] {
        let summary = initc(dir, &[&["summary", name, "--format", format], &extra[..]].concat());
        if !summary.status.success() {
            failures.push(format!("{name}: summary --format {format} failed:\n{}", text(&summary.stderr)));
            continue;
        }
        failures.extend(check_golden(&golden.join(format!("{stem}.{suffix}")), &text(&summary.stdout)));
    }
    failures
}

#[test]
fn err_configs_fail_with_their_golden_diagnostics() {
    let dir = repo().join("tests/golden/err");
    let configs = yaml_files(&dir);
    assert!(configs.len() >= 20, "tests/golden/err should cover every kind of bad input");
    let mut failures = Vec::new();
    for config in configs {
        let name = config.file_name().and_then(|s| s.to_str()).unwrap_or_default();
        let extra = config_args(&config);
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let out_dir = tempfile::tempdir().expect("temporary directory");
        let out = out_dir.path().join("never.safetensors");
        let env = config_env(&config);
        let env: Vec<(&str, &str)> = env.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        let args = [&["compile", name, "-o", out.to_str().unwrap_or_default()], &extra[..]].concat();
        let output = initc_with_env(&dir, &args, &env);
        if output.status.code() != Some(1) {
            failures.push(format!("{name}: expected exit code 1, got {}", output.status));
        }
        if out.exists() || std::fs::read_dir(out_dir.path()).map(|d| d.count()).unwrap_or(0) != 0 {
            failures.push(format!("{name}: a failed run left a file behind"));
        }
        let stderr = text(&output.stderr);
        if stderr.contains("panicked") {
            failures.push(format!("{name}: initc panicked:\n{stderr}"));
        }
        failures.extend(check_golden(&config.with_extension("stderr"), &stderr));
    }
    assert_no_failures(failures);
}

/// The summary of the seeds' model equals what Keras 3 printed for it, byte for byte.
#[test]
fn summary_matches_the_keras_3_reference() {
    let reference_path = repo().join("../shared/reference/keras3-seed-model-summary.txt");
    let reference = std::fs::read_to_string(&reference_path)
        .unwrap_or_else(|error| panic!("{} is needed beside the repo: {error}", reference_path.display()));
    // The file continues with weight statistics after the summary's last line.
    let summary_end =
        reference.find(" Non-trainable params:").and_then(|at| reference[at..].find('\n').map(|n| at + n + 1));
    let expected = &reference[..summary_end.expect("the reference has a Non-trainable params line")];
    let output = initc(&repo().join("tests/golden/ok"), &["summary", "keras_seed_model.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), expected);
}
