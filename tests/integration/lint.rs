//! `initc lint` and `initc explain` as UI tests: every config under `tests/lint` is linted, and
//! its rendered findings must equal `<case>.out` (and `<case>.json`, `<case>.sarif` for the
//! cases in [`MACHINE_FORMAT_CASES`]). Re-bless with `INITC_BLESS=1`; CI never writes them.

use crate::support::{assert_no_failures, check_golden, config_args, initc, repo, text, yaml_files};
use initc::diagnostic::Code;
use serde_json::Value;
use std::path::Path;

/// Cases whose JSON and SARIF renderings are golden files too.
const MACHINE_FORMAT_CASES: [&str; 4] =
    ["many_findings", "errors_and_warnings_together", "missing_second_file", "bad_input_override"];

fn lint_dir() -> std::path::PathBuf {
    repo().join("tests/lint")
}

/// Runs `initc lint` on one case with its `# initc-args:` and an optional `--format`.
fn lint_case(config: &Path, format: Option<&str>) -> std::process::Output {
    let name = config.file_name().and_then(|s| s.to_str()).unwrap_or_default();
    let extra = config_args(config);
    let mut args = vec!["lint", name];
    args.extend(extra.iter().map(String::as_str));
    if let Some(format) = format {
        args.extend(["--format", format]);
    }
    initc(&lint_dir(), &args)
}

/// The exit code the rendered findings call for: 2 for an unreadable file or a bad command
/// line, 1 for errors (or warnings with `--deny-warnings`), else 0.
fn expected_exit_code(rendered: &str, args: &[String]) -> i32 {
    if rendered.contains("error[E0101]") || rendered.contains("error[E0601]") {
        2
    } else if rendered.contains("\nerror[")
        || rendered.starts_with("error[")
        || (args.iter().any(|a| a == "--deny-warnings") && rendered.contains("warning["))
    {
        1
    } else {
        0
    }
}

#[test]
fn lint_cases_match_their_expected_output() {
    let configs = yaml_files(&lint_dir());
    assert!(configs.len() >= 40, "tests/lint should hold at least 40 cases, has {}", configs.len());
    let mut failures = Vec::new();
    for config in &configs {
        let name = config.file_name().and_then(|s| s.to_str()).unwrap_or_default();
        let output = lint_case(config, None);
        let stdout = text(&output.stdout);
        let stderr = text(&output.stderr);
        if stdout.contains("panicked") || stderr.contains("panicked") {
            failures.push(format!("{name}: initc panicked:\n{stderr}"));
        }
        if !stderr.is_empty() {
            failures.push(format!("{name}: lint printed to stderr:\n{stderr}"));
        }
        let expected_code = expected_exit_code(&stdout, &config_args(config));
        if output.status.code() != Some(expected_code) {
            failures.push(format!("{name}: expected exit code {expected_code}, got {}", output.status));
        }
        failures.extend(check_golden(&config.with_extension("out"), &stdout));
    }
    assert_no_failures(failures);
}

#[test]
fn json_and_sarif_renderings_match_their_golden_files() {
    let mut failures = Vec::new();
    for case in MACHINE_FORMAT_CASES {
        let config = lint_dir().join(format!("{case}.yaml"));
        for format in ["json", "sarif"] {
            let output = lint_case(&config, Some(format));
            failures.extend(check_golden(&config.with_extension(format), &text(&output.stdout)));
        }
    }
    assert_no_failures(failures);
}

#[test]
fn every_code_appears_in_some_expected_output() {
    let mut rendered = String::new();
    for dir in [repo().join("tests/golden/err"), lint_dir()] {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "stderr" || ext == "out") {
                rendered.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let missing: Vec<&str> =
        Code::ALL.iter().map(|code| code.as_str()).filter(|code| !rendered.contains(&format!("[{code}]"))).collect();
    assert!(missing.is_empty(), "no case under tests/golden/err or tests/lint shows {missing:?}");
}

/// The JSON rendering has every field the format promises, with the right types.
#[test]
fn json_output_has_every_field() {
    let output = lint_case(&lint_dir().join("many_findings.yaml"), Some("json"));
    let document: Value = serde_json::from_slice(&output.stdout).expect("lint --format json prints JSON");
    let diagnostics = document["diagnostics"].as_array().expect("a `diagnostics` array");
    assert!(diagnostics.len() >= 4);
    for diagnostic in diagnostics {
        for key in ["code", "severity", "message", "file", "help"] {
            assert!(diagnostic[key].is_string(), "`{key}` in {diagnostic}");
        }
        for key in ["line", "column", "end_line", "end_column"] {
            assert!(diagnostic[key].as_u64().is_some_and(|n| n >= 1), "`{key}` in {diagnostic}");
        }
        assert!(["error", "warning", "note"].contains(&diagnostic["severity"].as_str().unwrap_or_default()));
    }
}

/// SARIF 2.1.0 as GitHub code scanning reads it: the required properties of the log, run,
/// tool driver, rules and results, each result's rule listed, and well-formed regions.
#[test]
fn sarif_output_is_structurally_valid() {
    for case in MACHINE_FORMAT_CASES {
        let output = lint_case(&lint_dir().join(format!("{case}.yaml")), Some("sarif"));
        let log: Value = serde_json::from_slice(&output.stdout).expect("lint --format sarif prints JSON");
        assert_eq!(log["version"], "2.1.0", "{case}");
        assert!(log["$schema"].as_str().is_some_and(|s| s.contains("sarif")), "{case}");
        let runs = log["runs"].as_array().expect("`runs`");
        assert_eq!(runs.len(), 1);
        let driver = &runs[0]["tool"]["driver"];
        assert_eq!(driver["name"], "initc");
        assert!(driver["informationUri"].as_str().is_some_and(|uri| uri.starts_with("https://")));
        let rules = driver["rules"].as_array().expect("`rules`");
        assert_eq!(rules.len(), Code::ALL.len());
        let rule_ids: Vec<&str> = rules.iter().filter_map(|rule| rule["id"].as_str()).collect();
        for rule in rules {
            assert!(rule["shortDescription"]["text"].as_str().is_some_and(|text| !text.is_empty()));
        }
        let results = runs[0]["results"].as_array().expect("`results`");
        assert!(!results.is_empty(), "{case}");
        for result in results {
            let rule_id = result["ruleId"].as_str().expect("`ruleId`");
            let index = result["ruleIndex"].as_u64().expect("`ruleIndex`") as usize;
            assert_eq!(rule_ids.get(index), Some(&rule_id), "ruleIndex points at the rule");
            assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap_or_default()));
            assert!(result["message"]["text"].as_str().is_some_and(|text| !text.is_empty()));
            for location in result["locations"].as_array().into_iter().flatten() {
                let physical = &location["physicalLocation"];
                assert!(physical["artifactLocation"]["uri"].as_str().is_some_and(|uri| !uri.contains('\\')));
                if let Some(region) = physical.get("region") {
                    let field = |key: &str| region[key].as_u64().unwrap_or(0);
                    assert!(field("startLine") >= 1 && field("startColumn") >= 1, "{region}");
                    assert!((field("endLine"), field("endColumn")) > (field("startLine"), field("startColumn")));
                }
            }
        }
    }
}

#[test]
fn lint_reads_several_files_and_reports_each() {
    let output = initc(&lint_dir(), &["lint", "unused_var.yaml", "constant_kernel_zeros.yaml", "clean_model.yaml"]);
    assert_eq!(output.status.code(), Some(0), "warnings alone do not fail");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("--> unused_var.yaml:3:3") && stdout.contains("--> constant_kernel_zeros.yaml:3:"));
    let denied = initc(&lint_dir(), &["lint", "--deny-warnings", "unused_var.yaml", "clean_model.yaml"]);
    assert_eq!(denied.status.code(), Some(1));
}

#[test]
fn explain_prints_every_code() {
    for code in Code::ALL {
        let output = initc(&repo(), &["explain", code.as_str()]);
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{}", code.as_str());
        assert!(stdout.starts_with(&format!("{}: {}", code.as_str(), code.title())), "{stdout}");
        assert!(stdout.contains("Why: ") && stdout.contains("Fix: ") && stdout.contains("```"), "{stdout}");
    }
    let lowercase = initc(&repo(), &["explain", "w0706"]);
    assert_eq!(lowercase.status.code(), Some(0));
}

#[test]
fn explain_rejects_an_unknown_code_with_a_suggestion() {
    let output = initc(&repo(), &["explain", "E0410"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("`E0410` is not an initc diagnostic code"), "{stderr}");
    assert!(stderr.contains("did you mean"), "{stderr}");
    let nonsense = initc(&repo(), &["explain", "banana"]);
    assert_eq!(nonsense.status.code(), Some(2));
}

#[test]
fn lint_without_a_file_is_a_usage_error() {
    assert_eq!(initc(&repo(), &["lint"]).status.code(), Some(2));
    assert_eq!(initc(&repo(), &["lint", "x.yaml", "--format", "xml"]).status.code(), Some(2));
}

/// Issue 10, defect 7: a clean config gets one line saying so, unless `--quiet`; JSON and SARIF
/// are unchanged.
#[test]
fn lint_says_so_when_a_config_is_clean() {
    let output = initc(&lint_dir(), &["lint", "clean_model.yaml", "unused_var.yaml"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("no problems found in clean_model.yaml\n"), "{stdout}");
    assert!(!stdout.contains("no problems found in unused_var.yaml"), "{stdout}");
    let quiet = initc(&lint_dir(), &["lint", "--quiet", "clean_model.yaml"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stdout.is_empty(), "{}", text(&quiet.stdout));
    let json = initc(&lint_dir(), &["lint", "clean_model.yaml", "--format", "json"]);
    assert!(!text(&json.stdout).contains("no problems found"), "{}", text(&json.stdout));
}

/// Issue 10, defect 8: links in an explanation are shown as the spec's path and section.
#[test]
fn explain_renders_links_for_a_terminal() {
    let output = initc(&repo(), &["explain", "E0401"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout.contains("specs/config.md, section \"Built-in names\""), "{stdout}");
    for code in Code::ALL {
        let stdout = text(&initc(&repo(), &["explain", code.as_str()]).stdout);
        assert!(!stdout.contains("](") && !stdout.contains("../"), "{}: a raw link:\n{stdout}", code.as_str());
    }
}

/// Issue 10, defect 6: every message in every error golden (compile's and lint's) has a help line.
#[test]
fn every_golden_message_has_a_help_line() {
    let mut missing = Vec::new();
    for (dir, extension) in [(repo().join("tests/golden/err"), "stderr"), (lint_dir(), "out")] {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != extension) {
                continue;
            }
            let rendered = std::fs::read_to_string(&path).unwrap_or_default();
            missing.extend(messages_without_help(&rendered).into_iter().map(|message| {
                format!("{}: {message}", path.file_name().and_then(|n| n.to_str()).unwrap_or_default())
            }));
        }
    }
    assert!(missing.is_empty(), "{} message(s) without a help line:\n{}", missing.len(), missing.join("\n"));
}

/// The header line of each rendered diagnostic in `rendered` that has no `= help:` line.
fn messages_without_help(rendered: &str) -> Vec<String> {
    let is_header = |line: &str| {
        ["error[", "warning[", "note["].iter().any(|start| line.starts_with(start)) && line.contains("]: ")
    };
    let mut missing = Vec::new();
    let mut current: Option<(&str, bool)> = None;
    for line in rendered.lines() {
        if is_header(line) {
            if let Some((header, false)) = current {
                missing.push(header.to_string());
            }
            current = Some((line, false));
        } else if line.trim_start().starts_with("= help: ")
            && let Some((_, helped)) = current.as_mut()
        {
            *helped = true;
        }
    }
    if let Some((header, false)) = current {
        missing.push(header.to_string());
    }
    missing
}

#[test]
fn the_help_line_check_finds_a_message_without_one() {
    let rendered = "error[E0208]: bad\n --> a.yaml:1:1\n  |\n  = help: fix it\n\nerror[E0202]: worse\n --> a.yaml:2:1\n\nwarning[W0702]: unused\n";
    assert_eq!(messages_without_help(rendered), ["error[E0202]: worse", "warning[W0702]: unused"]);
}
