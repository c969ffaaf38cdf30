//! Configs built to exhaust the stack, time or memory of name resolution (long chains and
//! cycles of vars and custom initializers, calls with 200,000 arguments, vars times `repeat`),
//! values the output dtype cannot hold, and names safetensors reserves. Each must end, in every
//! command, in the right result or one clear diagnostic. The inputs are generated here; each
//! case runs in well under a second since the fixes (before them: stack overflows, hours).

use crate::support::{initc, text};
use std::fs;
use std::path::Path;
use std::process::Output;

/// Writes `content` to `dir/name` and runs `initc <args…> name` there.
fn run(dir: &Path, name: &str, content: &str, args: &[&str]) -> Output {
    fs::write(dir.join(name), content).expect("write config");
    let mut full: Vec<&str> = args.to_vec();
    full.push(name);
    initc(dir, &full)
}

/// The first 3,000 characters of a (possibly huge) output, for assertion messages.
fn shown(bytes: &[u8]) -> String {
    text(bytes).chars().take(3_000).collect()
}

/// Everything a run printed (`lint` prints its findings on stdout, the others on stderr).
fn printed(output: &Output) -> String {
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

/// Checks a run ended with `code` and no panic or abort.
fn assert_exit(output: &Output, code: i32, what: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{what}: {}", shown(&output.stderr));
    assert!(!stderr.contains("panicked") && !stderr.contains("overflow"), "{what}: {}", shown(&output.stderr));
}

/// `v0: v1, v1: v2, …, v(n-1): 1`: each var uses the next, so resolving `v0` walks the chain.
fn var_chain(n: usize) -> String {
    let mut config = String::from("input: [4]\nvars:\n");
    for k in 0..n - 1 {
        config.push_str(&format!("  v{k}: v{}\n", k + 1));
    }
    config.push_str(&format!("  v{}: 3\nlayers:\n  - dense: {{units: v0}}\n", n - 1));
    config
}

/// `i0: zeros, i1: i0, …`, the last one used by the layer.
fn initializer_chain(n: usize) -> String {
    let mut config = String::from("input: [4]\ninitializers:\n  i0: \"constant(0.5)\"\n");
    for k in 1..n {
        config.push_str(&format!("  i{k}: i{}\n", k - 1));
    }
    config.push_str(&format!("layers:\n  - dense: {{units: 2, kernel_initializer: i{}}}\n", n - 1));
    config
}

#[test]
fn a_chain_of_100000_vars_compiles_in_every_command() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let config = var_chain(100_000);
    let summary = run(dir, "chain.yaml", &config, &["summary"]);
    assert_exit(&summary, 0, "summary");
    // `units: v0` = 3, with 4 inputs: 4·3 + 3 parameters.
    assert!(text(&summary.stdout).contains("Total params: 15 "), "{}", shown(&summary.stdout));
    // `lint` follows every var's uses too (W0702), also without recursion.
    let lint = initc(dir, &["lint", "chain.yaml"]);
    assert_exit(&lint, 0, "lint");
    assert!(!text(&lint.stdout).contains("W0702"), "{}", shown(&lint.stdout));
    let compile = initc(dir, &["compile", "chain.yaml", "-o", "chain.safetensors"]);
    assert_exit(&compile, 0, "compile");
    let verify = initc(dir, &["verify", "chain.yaml", "--golden", "chain.safetensors"]);
    assert_exit(&verify, 0, "verify");

    // Defined in the other order (each var uses the one before), the same.
    let mut backwards = String::from("input: [4]\nvars:\n  v0: 3\n");
    for k in 1..100_000 {
        backwards.push_str(&format!("  v{k}: v{}\n", k - 1));
    }
    backwards.push_str("layers:\n  - dense: {units: v99999}\n");
    let summary = run(dir, "backwards.yaml", &backwards, &["summary"]);
    assert_exit(&summary, 0, "summary of the backward chain");
    assert!(text(&summary.stdout).contains("Total params: 15 "), "{}", shown(&summary.stdout));
}

#[test]
fn a_cycle_of_10000_vars_is_reported_once_naming_a_few() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let mut config = String::from("input: [4]\nvars:\n");
    for k in 0..10_000 {
        config.push_str(&format!("  v{k}: v{}\n", (k + 1) % 10_000));
    }
    config.push_str("  w: v5 + 1\nlayers:\n  - dense: {units: w}\n");
    for command in [&["summary"][..], &["lint"], &["compile", "-o", "out.safetensors"]] {
        let output = run(dir, "cycle.yaml", &config, command);
        let command = command[0];
        assert_exit(&output, 1, command);
        let stderr = printed(&output);
        let expected =
            "error[E0305]: vars refer to each other in a cycle: v0 → v1 → v2 → v3 → v4 → … → v9999 → v0 (10000 vars)";
        assert_eq!(stderr.matches("error[").count(), 1, "{command}: {}", shown(&output.stderr));
        assert!(stderr.contains(expected), "{command}: {}", shown(&output.stderr));
        assert_eq!(stderr.matches("part of the cycle").count(), 5, "{command}: {}", shown(&output.stderr));
    }
}

#[test]
fn chains_and_cycles_of_custom_initializers_resolve_in_linear_time() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let config = initializer_chain(100_000);
    for command in ["summary", "lint"] {
        let output = run(dir, "chain.yaml", &config, &[command]);
        assert_exit(&output, 0, command);
        assert!(!text(&output.stdout).contains("W0701"), "{command}: {}", shown(&output.stdout));
    }
    let compile = initc(dir, &["compile", "chain.yaml", "-o", "chain.safetensors"]);
    assert_exit(&compile, 0, "compile");
    let verify = initc(dir, &["verify", "chain.yaml", "--golden", "chain.safetensors"]);
    assert_exit(&verify, 0, "verify");
    let inspect = initc(dir, &["inspect", "chain.safetensors"]);
    assert!(text(&inspect.stdout).contains("constant(value=0.5)"), "{}", shown(&inspect.stdout));

    // A cycle of 10,000, entered from a definition outside it and from the layer.
    let mut cycle = String::from("input: [4]\ninitializers:\n  outside: i7\n");
    for k in 0..10_000 {
        cycle.push_str(&format!("  i{k}: i{}\n", (k + 1) % 10_000));
    }
    cycle.push_str("layers:\n  - dense: {units: 2, kernel_initializer: i3}\n");
    for command in ["summary", "lint"] {
        let output = run(dir, "cycle.yaml", &cycle, &[command]);
        assert_exit(&output, 1, command);
        let stderr = printed(&output);
        let expected = "error[E0402]: custom initializers refer to each other in a cycle: \
                        i0 → i1 → i2 → i3 → i4 → … → i9999 → i0 (10000 initializers)";
        assert_eq!(stderr.matches("error[").count(), 1, "{command}: {}", shown(&output.stderr));
        assert!(stderr.contains(expected), "{command}: {}", shown(&output.stderr));
        // At the member defined first.
        assert!(stderr.contains("cycle.yaml:4:3"), "{command}: {}", shown(&output.stderr));
    }
}

#[test]
fn a_call_with_200000_arguments_is_refused_at_the_first_too_many() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    // The call is not even read to its end: the syntax error after the 200,000th argument is
    // never reached (reading it all took 35 s, and then reported the syntax error first).
    let arguments = vec!["1"; 200_000].join(", ");
    let prefix = "  - dense: {units: 2, kernel_initializer: \"random_normal(";
    let config = format!("input: [4]\nlayers:\n{prefix}{arguments}, +)\"}}\n");
    let output = run(dir, "wide.yaml", &config, &["summary"]);
    assert_exit(&output, 1, "summary");
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error[E0403]: too many arguments: `random_normal` takes at most 3"), "{stderr}");
    // At the 4th argument: after "1, 1, 1, ".
    let column = prefix.chars().count() + "1, 1, 1, ".len() + 1;
    assert!(stderr.contains(&format!("wide.yaml:3:{column}\n")), "{}", shown(&output.stderr));
    assert_eq!(stderr.matches("error[").count(), 1, "{}", shown(&output.stderr));

    // A custom initializer takes none: refused at its first, with the whole call underlined.
    let config = format!(
        "input: [4]\ninitializers:\n  mine: zeros\nlayers:\n  - dense: {{units: 2, kernel_initializer: \"mine({arguments})\"}}\n"
    );
    let output = run(dir, "custom.yaml", &config, &["lint"]);
    assert_exit(&output, 1, "lint");
    assert!(printed(&output).contains("error[E0403]: custom initializer `mine` takes no arguments"));
    // In an expression, `max` takes any number: 200,000 are read and evaluated.
    let config = format!("input: [4]\nlayers:\n  - dense: {{units: \"max({arguments}, 2)\"}}\n");
    let output = run(dir, "max.yaml", &config, &["summary"]);
    assert_exit(&output, 0, "summary");
    assert!(text(&output.stdout).contains("Total params: 10 "), "{}", shown(&output.stdout));
}

#[test]
fn many_vars_in_many_repeated_blocks_share_one_table() {
    // 50,000 vars in scope in each of 50,000 copies: copying the table per copy held
    // 2.5·10^9 entries.
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let mut config = String::from("input: [4]\nvars:\n");
    for k in 0..50_000 {
        config.push_str(&format!("  v{k}: {k}\n"));
    }
    config
        .push_str("layers:\n  - block: {name: \"b{i}\", repeat: 50000, layers: [{dense: {units: \"v3 + i - i\"}}]}\n");
    let output = run(dir, "wide.yaml", &config, &["summary"]);
    assert_exit(&output, 0, "summary");
    assert!(text(&output.stdout).contains("b49999.dense (Dense)"), "{}", shown(&output.stdout));
    // Every var is used by `lint`'s reckoning only if named; 49,999 are not.
    let output = initc(dir, &["lint", "--format", "json", "wide.yaml"]);
    assert_exit(&output, 0, "lint");
    assert_eq!(text(&output.stdout).matches("\"W0702\"").count(), 49_999);
}

#[test]
fn big_expressions_repeated_are_refused_by_the_text_budget() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    // 200 KB of expression, parsed and evaluated again in each of 1,000 copies (12 s), or
    // shared by a custom initializer that 100,000 copies use.
    let wide = format!("max({})", vec!["1"; 100_000].join(","));
    let repeated = format!(
        "input: [4]\nlayers:\n  - block: {{name: \"b{{i}}\", repeat: 1000, layers: [{{dense: {{units: \"{wide}\"}}}}]}}\n"
    );
    let shared = format!(
        "input: [4]\ninitializers:\n  big: \"random_normal(stddev={wide})\"\nlayers:\n  - block: {{name: \"b{{i}}\", repeat: 100000, layers: [{{dense: {{units: 2, kernel_initializer: big}}}}]}}\n"
    );
    for (name, config) in [("repeated.yaml", repeated), ("shared.yaml", shared)] {
        let output = run(dir, name, &config, &["summary"]);
        assert_exit(&output, 1, name);
        let stderr = text(&output.stderr);
        let expected = "error[E0505]: the model's layers hold more than 4 MiB of text once `repeat:` copies and uses of custom initializers are counted";
        assert!(stderr.starts_with(expected), "{}", shown(&output.stderr));
        assert_eq!(stderr.matches("error[").count(), 1, "{}", shown(&output.stderr));
    }
    // Once, it is fine.
    let once = format!("input: [4]\nlayers:\n  - dense: {{units: \"{wide}\"}}\n");
    assert_exit(&run(dir, "once.yaml", &once, &["summary"]), 0, "once");
}

#[test]
fn many_broken_custom_initializers_are_each_reported_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let mut config = String::from("input: [4]\ninitializers:\n");
    for k in 0..50_000 {
        config.push_str(&format!("  c{k}: zz{k}\n"));
    }
    config.push_str("layers:\n  - dense: {units: 2, kernel_initializer: c7}\n");
    let output = run(dir, "broken.yaml", &config, &["summary"]);
    assert_exit(&output, 1, "summary");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.matches("error[E0401]").count(), 50_000);
    assert_eq!(stderr.matches("unknown initializer `zz7`").count(), 1);
}

/// Each initializer and dtype whose values the dtype cannot hold, and the argument blamed.
const OUT_OF_RANGE: [(&str, &str, &str); 9] = [
    ("constant(1e300)", "f32", "`value` is 1e300, beyond the range of f32 (±3.4028234663852886e38)"),
    ("constant(70000)", "f16", "`value` is 70000, beyond the range of f16 (±65504)"),
    ("constant(-1e39)", "bf16", "`value` is -1e39, beyond the range of bf16 (±3.3895313892515355e38)"),
    ("random_normal(stddev=1e308)", "f32", "values reach |`mean`| + 8.6·`stddev` = 0 + 8.6·1e308, beyond"),
    ("truncated_normal(mean=1e4, stddev=3e4)", "f16", "values reach |`mean`| + 2·`stddev` = 70000"),
    ("orthogonal(gain=1e308)", "f32", "`gain` is 1e308"),
    ("variance_scaling(scale=1e308)", "f32", "with `scale` 1e308 and a fan of 4, values reach"),
    ("random_uniform(-1e308, 1e308)", "f32", "`minval` is -1e308"),
    ("random_uniform(-1e308, 1e308)", "f64", "the interval from -1e308 to 1e308 is wider than a 64-bit float can hold"),
];

#[test]
fn values_the_dtype_cannot_hold_are_refused_at_the_initializer() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    for (initializer, dtype, message) in OUT_OF_RANGE {
        let config = format!("input: [4]\nlayers:\n  - dense: {{units: 2, kernel_initializer: \"{initializer}\"}}\n");
        let what = format!("{initializer} in {dtype}");
        let compile = run(dir, "range.yaml", &config, &["compile", "--dtype", dtype, "-o", "out.safetensors"]);
        assert_exit(&compile, 1, &what);
        let stderr = text(&compile.stderr);
        assert!(stderr.starts_with("error[E0404]: ") && stderr.contains(message), "{what}: {stderr}");
        // At the argument (or the call), on the layer's line.
        assert!(stderr.contains(" --> range.yaml:3:"), "{what}: {stderr}");
        assert!(stderr.contains("= help: "), "{what}: {stderr}");
        assert!(!dir.join("out.safetensors").exists(), "{what} wrote a file");
        let lint = initc(dir, &["lint", "--dtype", dtype, "range.yaml"]);
        assert_exit(&lint, 1, &what);
        assert!(printed(&lint).contains(message), "{what}: {}", printed(&lint));
    }
    // At the edges, the values are written, finite and within the reach the rule computes.
    for (initializer, dtype, reach) in [
        ("constant(65504)", "f16", 65504.0),
        ("random_normal(stddev=7000)", "f16", 8.6 * 7000.0),
        ("truncated_normal(stddev=30000)", "f16", 60000.0),
        ("random_uniform(-3e38, 3e38)", "f32", 3e38),
        ("variance_scaling(scale=1e76, distribution=uniform)", "f32", (3e76f64 / 4.0).sqrt()),
        ("random_uniform(-8e307, 8e307)", "f64", 8e307),
    ] {
        let config = format!("input: [4]\nlayers:\n  - dense: {{units: 2, kernel_initializer: \"{initializer}\"}}\n");
        let what = format!("{initializer} in {dtype}");
        let compile = run(dir, "edge.yaml", &config, &["compile", "--dtype", dtype, "-o", "edge.safetensors"]);
        assert_exit(&compile, 0, &what);
        let inspect = initc(dir, &["inspect", "--format", "json", "edge.safetensors"]);
        assert_exit(&inspect, 0, &what);
        let report: serde_json::Value = serde_json::from_slice(&inspect.stdout).expect("JSON");
        let kernel = report.as_array().and_then(|tensors| tensors.iter().find(|t| t["name"] == "dense.kernel"));
        let kernel = kernel.unwrap_or_else(|| panic!("{what}: no kernel in {report}"));
        assert_eq!(kernel["inf"], 0, "{what}: {kernel}");
        assert_eq!(kernel["nan"], 0, "{what}: {kernel}");
        let largest = kernel["max"].as_f64().unwrap_or(f64::NAN).max(-kernel["min"].as_f64().unwrap_or(f64::NAN));
        assert!(largest <= reach * 1.001, "{what}: {kernel}");
    }
}

#[test]
fn a_tensor_named_metadata_is_refused_at_its_name_in_every_command() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let config = "input: [4]\nlayers:\n  - dense: {units: 2}\n  - param:\n      name: __metadata__\n      shape: [2]\n";
    for args in [&["summary"][..], &["lint"], &["compile", "-o", "out.safetensors"]] {
        let output = run(dir, "reserved.yaml", config, args);
        assert_exit(&output, 1, args[0]);
        let stderr = printed(&output);
        assert!(stderr.contains("error[E0208]: a tensor cannot be named `__metadata__`"), "{args:?}: {stderr}");
        assert!(stderr.contains(" --> reserved.yaml:5:13"), "{args:?}: {stderr}");
        assert!(stderr.contains("= help: "), "{args:?}: {stderr}");
        assert!(!dir.join("out.safetensors").exists());
    }
    // Inside a block it is `<block>.__metadata__`, an ordinary name.
    let nested = "layers:\n  - block: {name: b, layers: [{param: {name: __metadata__, shape: [2]}}]}\n";
    let output = run(dir, "nested.yaml", nested, &["summary"]);
    assert_exit(&output, 0, "summary");
}

#[test]
fn input_sizes_above_2_53_are_refused_from_the_command_line_as_from_the_config() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let config = "input: [4]\nlayers: [flatten]\n";
    let output = run(dir, "input.yaml", config, &["summary", "--input", "3,9007199254740993"]);
    assert_exit(&output, 1, "summary");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("error[E0505]: a dimension of `--input` is too large: 9007199254740993"), "{stderr}");
    assert!(stderr.contains("= help: sizes are at most 2^53 (9007199254740992)"), "{stderr}");
    let output = run(dir, "input.yaml", "input: [3, 9007199254740993]\nlayers: [flatten]\n", &["summary"]);
    assert!(text(&output.stderr).contains("error[E0505]"), "{}", text(&output.stderr));
    // 2^53 itself is allowed by both.
    let output = initc(dir, &["summary", "--input", "9007199254740992", "input.yaml"]);
    assert_exit(&output, 0, "summary");
}
