//! The LLM examples describe the real architectures: GPT-2's tensor list is exactly what
//! transformers writes, and the Llama config has Llama 3 8B's parameter count.

use crate::support::{initc, repo, text};

#[test]
fn gpt2_tensors_are_those_transformers_writes() {
    let reference_path = repo().join("../shared/reference/gpt2-small-transformers.tsv");
    let reference = std::fs::read_to_string(&reference_path)
        .unwrap_or_else(|error| panic!("{} is needed beside the repo: {error}", reference_path.display()));
    let mut expected: Vec<(String, String)> = reference
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("name\t"))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[0].to_string(), fields[1].replace(' ', ""))
        })
        .collect();
    expected.sort();
    // The golden header is checked against a real compile by `every_example_compiles…`.
    let header = std::fs::read_to_string(repo().join("tests/golden/examples/gpt2.header.json")).expect("golden header");
    let header: serde_json::Value = serde_json::from_str(&header).expect("header JSON");
    let mut actual: Vec<(String, String)> = header
        .as_object()
        .expect("object")
        .iter()
        .filter(|(name, _)| *name != "__metadata__")
        .map(|(name, info)| {
            assert_eq!(info["dtype"], "F32", "{name}");
            (name.clone(), info["shape"].to_string())
        })
        .collect();
    actual.sort();
    assert_eq!(actual.len(), 148);
    assert_eq!(actual, expected);
}

#[test]
fn llama_sizes_match_the_published_models() {
    let examples = repo().join("examples");
    let total = |args: &[&str]| {
        let output = initc(&examples, &[&["summary", "llama.yaml", "--format", "json"], args].concat());
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON summary");
        summary["total_params"].as_u64().expect("total")
    };
    // Llama 3 8B: 8,030,261,248 parameters.
    assert_eq!(total(&[]), 8_030_261_248);
    // Llama 3.2 1B's shape with an untied head: 1,235,814,400 + 128,256 × 2,048.
    assert_eq!(total(&["--set", "d_model=2048", "--set", "n_layer=16", "--set", "d_ff=8192"]), 1_498_482_688);
}
