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
    // Hugging Face configs are `NAME.config.json` (other `.json` files there are `--vars` files).
    let mut configs = yaml_files(&dir);
    let hugging_face = std::fs::read_dir(&dir).expect("tests/golden/err").filter_map(|entry| entry.ok());
    configs
        .extend(hugging_face.map(|entry| entry.path()).filter(|path| path.to_string_lossy().ends_with(".config.json")));
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

/// A command of a README ```` ```console ```` block and what it must print.
#[derive(Debug, PartialEq)]
struct ReadmeExample {
    /// The 1-based README line of the `$` line.
    line: usize,
    arguments: Vec<String>,
    expected: Vec<String>,
}

/// Every `$ initc …` (or `$ cargo run --release -- …`) line of every ```` ```console ```` block,
/// with the lines after it up to the next `$` line or the end of the block.
fn readme_examples(readme: &str) -> Result<Vec<ReadmeExample>, String> {
    let mut examples: Vec<ReadmeExample> = Vec::new();
    let mut in_console = false;
    for (index, line) in readme.lines().enumerate() {
        let trimmed = line.trim_end();
        if !in_console {
            in_console = trimmed == "```console";
            continue;
        }
        if trimmed == "```" {
            in_console = false;
        } else if let Some(command) = trimmed.strip_prefix("$ ") {
            let arguments = command
                .strip_prefix("initc ")
                .or_else(|| command.strip_prefix("cargo run --release -- "))
                .ok_or_else(|| format!("README line {}: a console command must run initc: {command}", index + 1))?;
            examples.push(ReadmeExample { line: index + 1, arguments: shell_words(arguments)?, expected: Vec::new() });
        } else {
            let example =
                examples.last_mut().ok_or_else(|| format!("README line {}: output before a `$` line", index + 1))?;
            example.expected.push(trimmed.to_string());
        }
    }
    if in_console {
        return Err("README: a ```console block is not closed".to_string());
    }
    Ok(examples)
}

/// Splits a command line as a shell would for the simple cases the README uses: words
/// separated by spaces, `'…'` and `"…"` quoting.
fn shell_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for character in text.chars() {
        match (quote, character) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(character);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in `{text}`"));
    }
    words.extend(word);
    Ok(words)
}

/// Whether `actual` is `expected`, where an expected line `...` stands for any number of lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..])),
        Some((first, rest)) => {
            actual.split_first().is_some_and(|(line, after)| line == first && lines_match(rest, after))
        }
    }
}

#[test]
fn readme_console_examples_print_what_the_readme_shows() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let examples = readme_examples(&readme).unwrap_or_else(|error| panic!("{error}"));
    assert!(examples.len() >= 3, "the README should show at least 3 tested examples, has {}", examples.len());
    let mut failures = Vec::new();
    for example in &examples {
        let arguments: Vec<&str> = example.arguments.iter().map(String::as_str).collect();
        let output = initc(&repo(), &arguments);
        let printed = format!("{}{}", text(&output.stdout), text(&output.stderr));
        let printed: Vec<&str> = printed.lines().map(str::trim_end).collect();
        if !lines_match(&example.expected, &printed) {
            failures.push(format!(
                "README line {}: `initc {}` printed:\n{}\n--- the README shows:\n{}",
                example.line,
                example.arguments.join(" "),
                printed.join("\n"),
                example.expected.join("\n")
            ));
        }
    }
    assert_no_failures(failures);
}

#[test]
fn the_readme_harness_reads_blocks_and_matches_excerpts() {
    let readme = "text\n```console\n$ initc summary 'a b.yaml' --set \"x=1 + 2\"\nModel\n...\n end\n$ cargo run --release -- lint m.yaml\n```\n```text\n$ initc not run\n```\n";
    let examples = readme_examples(readme).expect("parsed");
    assert_eq!(
        examples,
        [
            ReadmeExample {
                line: 3,
                arguments: vec!["summary".into(), "a b.yaml".into(), "--set".into(), "x=1 + 2".into()],
                expected: vec!["Model".into(), "...".into(), " end".into()],
            },
            ReadmeExample { line: 7, arguments: vec!["lint".into(), "m.yaml".into()], expected: vec![] },
        ]
    );
    assert!(readme_examples("```console\n$ ls\n```\n").is_err(), "only initc commands");
    assert!(readme_examples("```console\n$ initc x\n").is_err(), "an unclosed block");
    let expected: Vec<String> = ["a", "...", "d"].map(String::from).to_vec();
    let cases: &[(&[&str], bool)] = &[
        (&["a", "d"], true),
        (&["a", "b", "c", "d"], true),
        (&["a", "b", "c"], false),
        (&["x", "d"], false),
        (&["a", "d", "e"], false),
    ];
    for (actual, matches) in cases {
        assert_eq!(lines_match(&expected, actual), *matches, "{actual:?}");
    }
    assert!(lines_match(&[], &[]) && !lines_match(&[], &["extra"]));
}

/// The README's list of supported layer classes is the layer catalogue.
#[test]
fn readme_lists_exactly_the_supported_layers() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = readme.find("<!-- supported-layers").expect("the README marks the supported-layers list");
    let end = readme[start..].find("<!-- end supported-layers -->").expect("the list's end marker") + start;
    let listed = &readme[start..end];
    let listed = &listed[listed.find("-->").map_or(0, |at| at + 3)..];
    let mut in_readme: Vec<&str> = listed.split('`').skip(1).step_by(2).collect();
    in_readme.sort_unstable();
    let mut catalogue: Vec<&str> = initc::layers::LAYER_TYPES.iter().map(|layer| layer.class_name).collect();
    catalogue.sort_unstable();
    assert_eq!(in_readme, catalogue);
    assert!(readme.contains(&format!("initc knows {} Keras layer classes", catalogue.len())));
}
