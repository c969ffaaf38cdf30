//! Renders diagnostics as SARIF 2.1.0, the format GitHub code scanning reads: one run whose
//! tool driver lists every code as a rule, and one result per diagnostic. The driver has no
//! version, so that the golden files do not change with every release.

use super::{Code, Diagnostic, FileReport, Region, Severity};
use serde::Serialize;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Where to read about initc: the package's repository, else its documentation of the codes.
const INFORMATION_URI: &str = match option_env!("CARGO_PKG_REPOSITORY") {
    Some(uri) if !uri.is_empty() => uri,
    _ => "https://docs.rs/initc",
};

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    short_description: Text,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<SarifRegion>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

/// SARIF's name for a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A path as a relative URI reference: forward slashes, spaces and `%` escaped.
fn uri(path: &str) -> String {
    path.replace('\\', "/").replace('%', "%25").replace(' ', "%20")
}

fn result(report: &FileReport, diagnostic: &Diagnostic) -> SarifResult {
    let message = match &diagnostic.help {
        Some(help) => format!("{}\nhelp: {help}", diagnostic.message),
        None => diagnostic.message.clone(),
    };
    let locations = report
        .path
        .map(|path| Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: uri(path) },
                region: Region::of(diagnostic, report.source).map(|region| SarifRegion {
                    start_line: region.line,
                    start_column: region.column,
                    end_line: region.end_line,
                    end_column: region.end_column,
                }),
            },
        })
        .into_iter()
        .collect();
    SarifResult {
        rule_id: diagnostic.code.as_str(),
        rule_index: Code::ALL.iter().position(|&code| code == diagnostic.code).unwrap_or_default(),
        level: level(diagnostic.severity),
        message: Text { text: message },
        locations,
    }
}

/// One SARIF log for every file's diagnostics, pretty-printed with a trailing newline.
pub fn render_sarif(reports: &[FileReport]) -> String {
    let rules = Code::ALL
        .iter()
        .map(|&code| Rule {
            id: code.as_str(),
            short_description: Text { text: code.title().to_string() },
            default_configuration: Configuration { level: level(code.severity()) },
        })
        .collect();
    let results = reports
        .iter()
        .flat_map(|report| report.diagnostics.iter().map(move |diagnostic| result(report, diagnostic)))
        .collect();
    let driver = Driver { name: "initc", information_uri: INFORMATION_URI, rules };
    let log = Log { schema: SCHEMA, version: "2.1.0", runs: vec![Run { tool: Tool { driver }, results }] };
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
