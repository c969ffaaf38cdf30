//! `initc schema` against real configs, the fuzz corpus replayed without a fuzzer, and inputs
//! built to exhaust time or memory (deep expressions, huge shapes and repeats, alias bombs),
//! which must end in a diagnostic.

use crate::support::{initc, repo, text, yaml_files};
use initc::resolve::Overrides;
use initc::source::SourceFile;
use std::fs;
use std::path::Path;

#[path = "../../fuzz/src/lib.rs"]
mod fuzz_targets;

fn validator() -> jsonschema::Validator {
    let schema = initc::schema::schema();
    jsonschema::draft7::new(&schema).unwrap_or_else(|error| panic!("the schema does not compile: {error}"))
}

/// The schema's complaints about a config, empty when it is valid.
fn schema_errors(validator: &jsonschema::Validator, name: &str, text: &str) -> Vec<String> {
    let file = SourceFile::new(name, text);
    let node = initc::config::parse_yaml(&file).unwrap_or_else(|error| panic!("{name}: {}", error.message));
    let instance = initc::schema::to_json(&file, &node);
    validator.iter_errors(&instance).map(|error| format!("{} at {}", error, error.instance_path())).collect()
}

#[test]
fn schema_command_prints_the_schema() {
    let output = initc(&repo(), &["schema"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the schema is JSON");
    assert_eq!(printed, initc::schema::schema());
    assert_eq!(printed["$schema"], "http://json-schema.org/draft-07/schema#");
    assert!(jsonschema::meta::is_valid(&printed), "the schema is not a valid draft-07 schema");
}

#[test]
fn every_example_and_golden_config_validates_against_the_schema() {
    let validator = validator();
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in ["examples", "tests/golden/ok"] {
        for path in yaml_files(&repo().join(dir)) {
            let content = fs::read_to_string(&path).expect("read config");
            let errors = schema_errors(&validator, &path.display().to_string(), &content);
            if !errors.is_empty() {
                failures.push(format!("{}:\n  {}", path.display(), errors.join("\n  ")));
            }
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} configs found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_schema_rejects_what_the_parser_rejects() {
    let validator = validator();
    let cases = [
        "input: [4]\nlayers:\n  - dense: {unit: 3}\n",
        "input: [4]\nlayers:\n  - dense: {units: 3, activation: rleu}\n",
        "input: [4]\nlayers:\n  - dense\n",
        "input: [4]\nlayers:\n  - dense: {units: 0}\n",
        "input: [4]\nlayers:\n  - dense: {units: 3, use_bias: 1}\n",
        "input: [4]\nlayers:\n  - denser: {units: 3}\n",
        "input: [4]\nlayers:\n  - flatten: {kernel_initializer: zeros}\n",
        "input: [4]\nlayers:\n  - dense: {units: 3, kernel_initializer: {random_normal: {stdev: 1}}}\n",
        "input: [4]\nlayers:\n  - dense: {units: 3, kernel_initializer: {class_name: Zeros, config: {value: 1}}}\n",
        "input: [4, 3]\nlayers:\n  - conv1d: {filters: 2, kernel_size: [3, 3]}\n",
        "input: [4, 3]\nlayers:\n  - conv1d: {filters: 2, kernel_size: 3, padding: full}\n",
        "input: [4]\nlayers:\n  - class_name: Dense\n    config: {units: 3, unit: 4}\n",
        "input: [4]\nlayers:\n  - block: {layers: [flatten], repeats: 2}\n",
        "input: [4]\nlayers:\n  - param: {name: w}\n",
        "input: [4]\nlayer:\n  - flatten\n",
        "input: [4]\nlayers: []\n",
        "input: [4]\nvars: {fan_in: 3}\nlayers: [flatten]\n",
        "input: [4]\ninitializers: {zeros: ones}\nlayers: [flatten]\n",
        "input: [4]\nlayers:\n  - dense: {units: 3, kernel_initializer: {class_name: Sequential, config: {layers: []}}}\n",
        "inputs: {x: [4]}\nlayers:\n  - dense: {units: 3, inputs: []}\n",
        "inputs: {x: [4]}\nlayers:\n  - dense: {units: 3, calls: []}\n",
    ];
    for case in cases {
        let errors = schema_errors(&validator, "case.yaml", case);
        assert!(!errors.is_empty(), "the schema accepts:\n{case}");
        let (plan, diagnostics) = initc::compile_plan(&SourceFile::new("case.yaml", case), &Overrides::default());
        assert!(plan.is_none() && diagnostics.iter().any(|d| d.is_error()), "the parser accepts:\n{case}");
    }
    // Case-insensitive words, expressions and nulls are accepted, as by the parser.
    let accepted = "input: [\"2 * 4\", 3]\nvars: {k: 3}\nlayers:\n  - conv1d: {filters: k, kernel_size: 3, padding: SAME, \
                    strides: null, kernel_initializer: \"variance_scaling(2, FAN_IN)\"}\n  - dense: {units: 2.0, \
                    bias_initializer: {VarianceScaling: {mode: Fan_Avg}}}\n";
    assert_eq!(schema_errors(&validator, "ok.yaml", accepted), Vec::<String>::new());
    let (plan, diagnostics) = initc::compile_plan(&SourceFile::new("ok.yaml", accepted), &Overrides::default());
    assert!(plan.is_some(), "{diagnostics:?}");
}

/// Runs every file of `fuzz/corpus/<target>` through `run`.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = repo().join("fuzz/corpus").join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    files.sort();
    for path in &files {
        run(&fs::read(path).expect("read corpus file"));
    }
    files.len()
}

#[test]
fn the_fuzz_corpus_replays_without_panic() {
    assert!(replay("config", fuzz_targets::config) > 50);
    assert!(replay("expression", fuzz_targets::expression) > 20);
    assert!(replay("resolver", fuzz_targets::resolver) >= 12);
}

/// The resolver target's seeds build the hostile configs they are named for, and each ends as
/// it should.
#[test]
fn the_resolver_seeds_build_what_they_are_named_for() {
    let cases = [
        ("var_chain_forward", "v19998: 3\n", None),
        ("var_chain_backward", "v19998: v19997 + 0\n", None),
        ("var_cycle", "v19998: v0 * 1\n", Some("E0305")),
        ("initializer_chain_forward", "i19998: \"constant(0.5)\"\n", None),
        ("initializer_cycle", "i19998: i0\n", Some("E0402")),
        ("wide_call", "random_normal(1, 1, 1, 1, ", Some("E0403")),
        ("range_and_reserved", "name: __metadata__", Some("E0208")),
        ("repeat_and_set", "repeat: 2000, ", None),
        ("repeat_wide", "repeat: 2000, ", Some("E0505")),
    ];
    for (seed, holds, error) in cases {
        let data = fs::read(repo().join("fuzz/corpus/resolver").join(seed)).expect("read seed");
        let (text, overrides) = fuzz_targets::resolver_config(&data);
        assert!(text.contains(holds), "{seed} does not hold {holds:?}:\n{}", &text[..text.len().min(2_000)]);
        let (plan, diagnostics) = initc::compile_plan(&SourceFile::new(seed, text), &overrides);
        let codes: Vec<&str> = diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code.as_str()).collect();
        match error {
            None => assert!(plan.is_some() && codes.is_empty(), "{seed}: {codes:?}"),
            Some(code) => assert!(codes.contains(&code), "{seed}: {codes:?}"),
        }
    }
}

/// Runs `initc compile` on `content` and returns its stderr, checking it failed with a diagnostic.
fn refused(dir: &Path, name: &str, content: &str, code: &str) -> String {
    fs::write(dir.join(name), content).expect("write config");
    let output = initc(dir, &["compile", name, "-o", "out.safetensors"]);
    let stderr = text(&output.stderr);
    let shown: String = stderr.chars().take(2_000).collect();
    assert_eq!(output.status.code(), Some(1), "{name}: {shown}");
    assert!(stderr.contains(&format!("error[{code}]")), "{name} should fail with {code}:\n{shown}");
    assert!(!stderr.contains("panicked"), "{name}: {shown}");
    assert!(!dir.join("out.safetensors").exists(), "{name} left a file behind");
    stderr
}

#[test]
fn deep_expressions_huge_shapes_and_repeats_end_in_a_diagnostic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    refused(dir, "deep_parens.yaml", &format!("input: [4]\nlayers:\n  - dense: {{units: \"{deep}\"}}\n"), "E0301");
    let negations = format!("{}1", "-".repeat(10_000));
    refused(dir, "negations.yaml", &format!("input: [4]\nlayers:\n  - dense: {{units: \"{negations}\"}}\n"), "E0301");
    let calls = format!("{}1{}", "sqrt(".repeat(10_000), ")".repeat(10_000));
    let init = format!(
        "input: [4]\nlayers:\n  - dense: {{units: 2, kernel_initializer: \"random_normal(stddev={calls})\"}}\n"
    );
    refused(dir, "deep_calls.yaml", &init, "E0301");
    // A 10,000-term sum is a 10,000-deep tree too.
    let long = vec!["1"; 10_000].join(" + ");
    refused(dir, "long_sum.yaml", &format!("input: [4]\nlayers:\n  - dense: {{units: \"{long}\"}}\n"), "E0301");

    let huge = "input: [9007199254740992, 9007199254740992]\nlayers:\n  - dense: {units: 9007199254740992}\n";
    refused(dir, "huge_shape.yaml", huge, "E0505");
    refused(dir, "too_large_dim.yaml", "input: [100000000000000000000000]\nlayers: [flatten]\n", "E0505");
    refused(dir, "huge_param.yaml", "layers:\n  - param: {name: w, shape: [4294967296, 4294967296]}\n", "E0505");

    let repeat = "input: [4]\nlayers:\n  - block: {name: \"b{i}\", repeat: 1000000000, layers: [flatten]}\n";
    let stderr = refused(dir, "repeat.yaml", repeat, "E0505");
    assert!(stderr.contains("`repeat` is too large"), "{stderr}");
    let nested = "input: [4]\nlayers:\n  - block:\n      name: \"a{i}\"\n      repeat: 100000\n      layers:\n        - block: {name: \"b{i}\", repeat: 100000, layers: [flatten]}\n";
    let stderr = refused(dir, "nested_repeat.yaml", nested, "E0505");
    assert!(stderr.contains("more than 100000"), "{stderr}");
}

#[test]
fn deep_blocks_and_alias_bombs_inside_layers_end_in_a_diagnostic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let dir = dir.path();
    let mut nested = String::from("flatten");
    for _ in 0..1_000 {
        nested = format!("{{block: {{layers: [{nested}]}}}}");
    }
    refused(dir, "deep_block.yaml", &format!("input: [4]\nlayers: [{nested}]\n"), "E0104");

    let mut bomb = String::from(
        "input: [4]\nlayers:\n  - block: {name: b0, layers: &a0 [flatten, flatten, flatten, flatten, flatten, flatten, flatten, flatten, flatten, flatten]}\n",
    );
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("  - block: {{name: b{i}, layers: &a{i} [{refs}]}}\n"));
    }
    refused(dir, "alias_bomb.yaml", &bomb, "E0104");
    // Aliases to repeated blocks, each small enough for the YAML budget, multiply through `repeat`.
    let mut repeated =
        String::from("input: [4]\nlayers:\n  - block: &r0 {name: \"r{i}\", repeat: 1000, layers: [flatten]}\n");
    for i in 1..6 {
        repeated.push_str(&format!(
            "  - block: &r{i} {{name: \"s{i}_{{i}}\", repeat: 1000, layers: [{{block: *r{}}}]}}\n",
            i - 1
        ));
    }
    refused(dir, "repeat_aliases.yaml", &repeated, "E0505");
}
