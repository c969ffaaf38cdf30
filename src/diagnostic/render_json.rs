//! Renders diagnostics as one JSON document: `{"diagnostics": [{code, severity, message, file,
//! line, column, end_line, end_column, help}]}`, for editors and scripts.

use super::{Diagnostic, FileReport, Region};
use serde::Serialize;

#[derive(Serialize)]
struct Document<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// One diagnostic; the location fields are null when it has no place in a file.
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    help: Option<&'a str>,
}

fn json_diagnostic<'a>(report: &FileReport<'a>, diagnostic: &'a Diagnostic) -> JsonDiagnostic<'a> {
    let region = Region::of(diagnostic, report.source);
    JsonDiagnostic {
        code: diagnostic.code.as_str(),
        severity: diagnostic.severity.as_str(),
        message: &diagnostic.message,
        file: report.path,
        line: region.map(|r| r.line),
        column: region.map(|r| r.column),
        end_line: region.map(|r| r.end_line),
        end_column: region.map(|r| r.end_column),
        help: diagnostic.help.as_deref(),
    }
}

/// The diagnostics of every file, pretty-printed (2-space indent) with a trailing newline.
pub fn render_json(reports: &[FileReport]) -> String {
    let diagnostics = reports
        .iter()
        .flat_map(|report| report.diagnostics.iter().map(move |diagnostic| json_diagnostic(report, diagnostic)))
        .collect();
    let mut text = serde_json::to_string_pretty(&Document { diagnostics }).unwrap_or_default();
    text.push('\n');
    text
}
