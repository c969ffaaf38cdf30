//! The one diagnostic type every stage reports with, and its renderers.
//!
//! Helpers build span-less diagnostics; the caller that knows where the problem is attaches
//! the span with [`Diagnostic::at`] (the typst way). Rendering happens once, at the boundary.

mod code;
mod explain;
mod render;
mod render_json;
mod render_sarif;

pub use code::Code;
pub use explain::{explanation, explanation_for_terminal};
pub use render::render_human;
pub use render_json::render_json;
pub use render_sarif::render_sarif;

use crate::source::{SourceFile, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A span with a short message shown under it.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub primary: Option<Label>,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }

    /// A diagnostic with the severity its code's letter gives (`E`, `W`, `N`).
    pub fn of(code: Code, message: impl Into<String>) -> Self {
        Diagnostic { severity: code.severity(), ..Diagnostic::error(code, message) }
    }

    /// Points the diagnostic at `span`, unless it already points somewhere more precise.
    pub fn at(mut self, span: Span) -> Self {
        if self.primary.is_none() {
            self.primary = Some(Label { span, message: String::new() });
        }
        self
    }

    /// Points the diagnostic at `span` with a label under it.
    pub fn at_labelled(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label { span, message: label.into() });
        self
    }

    /// Adds a secondary label ("first defined here").
    pub fn with_note_at(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label { span, message: message.into() });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics a stage collected while it kept going.
pub type Diagnostics = Vec<Diagnostic>;

/// The diagnostics of one input, for the renderers that report several files at once.
pub struct FileReport<'a> {
    /// The path as given on the command line; `None` for problems with no file (a bad flag).
    pub path: Option<&'a str>,
    /// The file's text, when it could be read, to turn spans into lines and columns.
    pub source: Option<&'a SourceFile>,
    pub diagnostics: &'a [Diagnostic],
}

/// Where a span starts and ends, 1-based; the end column is exclusive (the character after).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Region {
    /// The region of a diagnostic's primary span in `source`, if it has both.
    pub fn of(diagnostic: &Diagnostic, source: Option<&SourceFile>) -> Option<Region> {
        let (source, primary) = (source?, diagnostic.primary.as_ref()?);
        let start = source.line_col(primary.span.start);
        let end = source.line_col(primary.span.end.max(primary.span.start));
        let end_column = if end == start { end.column + 1 } else { end.column };
        Some(Region { line: start.line, column: start.column, end_line: end.line, end_column })
    }
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&word_lower, &candidate.to_ascii_lowercase()), candidate))
        .filter(|&(distance, candidate)| distance <= (candidate.len().max(word.len()) / 3).max(1))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Edit distance over characters, a swap of two neighbours counting as one edit (optimal string
/// alignment), so that `lnit` is one typo from `lint`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut above: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let substitution = above[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            row[j] = (above[j] + 1).min(row[j - 1] + 1).min(substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut above);
        std::mem::swap(&mut above, &mut row);
    }
    above[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_near_misses_only() {
        let names = ["glorot_uniform", "glorot_normal", "he_uniform", "zeros"];
        assert_eq!(did_you_mean("glorot_unifrom", names), Some("glorot_uniform"));
        assert_eq!(did_you_mean("zero", names), Some("zeros"));
        assert_eq!(did_you_mean("banana", names), None);
        assert_eq!(did_you_mean("lnit", ["lint", "explain"]), Some("lint"));
    }

    #[test]
    fn edit_distance_counts_a_swap_as_one_edit() {
        let cases = [("", "", 0), ("abc", "", 3), ("", "ab", 2), ("lnit", "lint", 1), ("kitten", "sitting", 3)];
        for (a, b, expected) in cases {
            assert_eq!(edit_distance(a, b), expected, "{a} {b}");
            assert_eq!(edit_distance(b, a), expected, "{b} {a}");
        }
        assert_eq!(edit_distance("ca", "abc"), 3);
    }
}
