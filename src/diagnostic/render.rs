//! Renders diagnostics as rustc-style text: header, location, source line, caret underline, help.

use super::{Diagnostic, Label};
use crate::source::SourceFile;
use std::fmt::Write;

/// Renders one diagnostic against the file it points into.
pub fn render_human(diagnostic: &Diagnostic, file: Option<&SourceFile>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}[{}]: {}", diagnostic.severity.as_str(), diagnostic.code.as_str(), diagnostic.message);
    match (file, &diagnostic.primary) {
        (Some(file), Some(primary)) => {
            let width = gutter_width(file, diagnostic);
            let at = file.line_col(primary.span.start);
            let _ = writeln!(out, "{:width$}--> {}:{}:{}", "", file.name(), at.line, at.column);
            let _ = writeln!(out, "{:width$} |", "");
            let mut shown_line = None;
            render_label(&mut out, file, primary, '^', width, &mut shown_line);
            for label in &diagnostic.secondary {
                render_label(&mut out, file, label, '-', width, &mut shown_line);
            }
            if let Some(help) = &diagnostic.help {
                let _ = writeln!(out, "{:width$} |", "");
                let _ = writeln!(out, "{:width$} = help: {help}", "");
            }
        }
        (Some(file), None) => {
            let _ = writeln!(out, " --> {}", file.name());
            if let Some(help) = &diagnostic.help {
                let _ = writeln!(out, "  = help: {help}");
            }
        }
        (None, _) => {
            if let Some(help) = &diagnostic.help {
                let _ = writeln!(out, "  = help: {help}");
            }
        }
    }
    // A blank line between diagnostics, as rustc prints them.
    out.push('\n');
    out
}

fn gutter_width(file: &SourceFile, diagnostic: &Diagnostic) -> usize {
    let last_line = diagnostic
        .primary
        .iter()
        .chain(&diagnostic.secondary)
        .map(|label| file.line_col(label.span.start).line)
        .max()
        .unwrap_or(1);
    last_line.to_string().len()
}

/// One source line with the label's span underlined (clipped to the line it starts on). A label
/// on the line just shown only adds its underline.
fn render_label(
    out: &mut String,
    file: &SourceFile,
    label: &Label,
    mark: char,
    width: usize,
    shown_line: &mut Option<usize>,
) {
    let start = file.line_col(label.span.start);
    let end = file.line_col(label.span.end);
    let text = file.line_text(start.line);
    let line_chars = text.chars().count();
    let underline_end = if end.line == start.line { end.column } else { line_chars + 1 };
    let underline = underline_end.saturating_sub(start.column).max(1);
    if *shown_line != Some(start.line) {
        let _ = writeln!(out, "{:>width$} | {}", start.line, text.replace('\t', " "));
        *shown_line = Some(start.line);
    }
    let pad = " ".repeat(start.column - 1);
    let marks = mark.to_string().repeat(underline);
    let message = if label.message.is_empty() { String::new() } else { format!(" {}", label.message) };
    let _ = writeln!(out, "{:width$} | {pad}{marks}{message}", "");
}
