//! `initc lint FILE…`: every problem in each config — the errors compile would report plus the
//! lint rules' warnings and notes — as rustc-style text, JSON or SARIF on stdout. Exit code 0
//! without errors (warnings alone pass, unless `--deny-warnings`), 1 with errors, 2 when a file
//! cannot be read or the command line is wrong. Nothing is generated or written.

use super::{ExternalFiles, Outcome, io_reason};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, FileReport, Severity, render_human, render_json, render_sarif};
use crate::lint::{LintOptions, OutputBudget, parse_size, size_text};
use crate::plan::attach_external;
use crate::source::SourceFile;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct LintArgs {
    /// The model configs (YAML) to check.
    #[arg(required = true, value_name = "FILE")]
    pub configs: Vec<PathBuf>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit code 1) on warnings too, not only on errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// The largest output allowed, e.g. `500M` or `2GiB` (default: the free space where the
    /// output would be written).
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
    /// Where the output would be written, for the free-space check (default: beside the config).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub overrides: super::OverrideArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// One config's findings, and whether it could be read at all.
struct Checked {
    path: String,
    source: Option<SourceFile>,
    diagnostics: Diagnostics,
    unreadable: bool,
}

pub fn run(args: &LintArgs) -> ExitCode {
    let mut checked = Vec::with_capacity(args.configs.len());
    let mut usage_error = false;
    match command_line(args) {
        Ok((overrides, max_size)) => {
            for path in &args.configs {
                checked.push(check_file(path, &overrides, max_size, args.output.as_deref()));
            }
        }
        Err(diagnostic) => {
            usage_error = true;
            checked.push(Checked {
                path: String::new(),
                source: None,
                diagnostics: vec![diagnostic],
                unreadable: true,
            });
        }
    }
    let reports: Vec<FileReport> = checked
        .iter()
        .map(|c| FileReport {
            path: (!usage_error).then_some(c.path.as_str()),
            source: c.source.as_ref(),
            diagnostics: &c.diagnostics,
        })
        .collect();
    let text = match args.format {
        Format::Human => reports.iter().flat_map(|r| r.diagnostics.iter().map(|d| render_human(d, r.source))).collect(),
        Format::Json => render_json(&reports),
        Format::Sarif => render_sarif(&reports),
    };
    super::print_stdout(&text);
    let all = checked.iter().flat_map(|c| &c.diagnostics);
    let failing = |d: &Diagnostic| d.is_error() || (args.deny_warnings && d.severity == Severity::Warning);
    if checked.iter().any(|c| c.unreadable) {
        Outcome::Failure.into()
    } else if all.clone().any(failing) {
        Outcome::InputErrors.into()
    } else {
        Outcome::Success.into()
    }
}

/// The overrides and the `--max-size` limit, or a diagnostic for a malformed value.
fn command_line(args: &LintArgs) -> Result<(crate::resolve::Overrides, Option<u64>), Diagnostic> {
    let overrides = args.overrides.overrides()?;
    let max_size = match &args.max_size {
        None => None,
        Some(text) => Some(parse_size(text).ok_or_else(|| {
            Diagnostic::error(Code::BadCliValue, format!("`--max-size {text}` is not a size"))
                .with_help("give bytes or a number with a unit, e.g. `--max-size 500M` or `--max-size 2GiB`")
        })?),
    };
    Ok((overrides, max_size))
}

fn check_file(
    path: &Path,
    overrides: &crate::resolve::Overrides,
    max_size: Option<u64>,
    output: Option<&Path>,
) -> Checked {
    let shown = path.display().to_string();
    let source = match read(path, &shown) {
        Ok(source) => source,
        Err((diagnostic, unreadable)) => {
            return Checked { path: shown, source: None, diagnostics: vec![*diagnostic], unreadable };
        }
    };
    let directory = path.parent().unwrap_or(Path::new(""));
    let options = LintOptions { output_budget: budget(max_size, output, directory) };
    let (plan, mut diagnostics) = crate::lint::lint(&source, overrides, &options);
    if let Some(mut plan) = plan {
        diagnostics.extend(attach_external(&mut plan, &mut ExternalFiles::new(directory).reader()));
        crate::sort_and_dedupe(&mut diagnostics);
    }
    Checked { path: shown, source: Some(source), diagnostics, unreadable: false }
}

/// Reads a config. An unreadable file is an I/O failure (exit 2); bad encoding is an input error.
fn read(path: &Path, shown: &str) -> Result<SourceFile, (Box<Diagnostic>, bool)> {
    let bytes = super::read_config(path).map_err(|error| {
        let diagnostic = Diagnostic::error(Code::Io, format!("cannot read `{shown}`: {}", io_reason(&error)))
            .with_help("check the path and that the file is readable");
        (Box::new(diagnostic), true)
    })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let diagnostic =
            Diagnostic::error(Code::Encoding, format!("`{shown}` is not UTF-8 text (invalid byte at offset {offset})"))
                .with_help("save the config as UTF-8");
        (Box::new(diagnostic), false)
    })?;
    Ok(SourceFile::new(shown, text))
}

/// The output budget: `--max-size`, else the free space of the directory the output would be
/// written to (`--output`'s, else the config's). No budget when the free space is unknown.
pub(crate) fn budget(max_size: Option<u64>, output: Option<&Path>, config_directory: &Path) -> Option<OutputBudget> {
    if let Some(bytes) = max_size {
        return Some(OutputBudget { bytes, source: format!("`--max-size` {}", size_text(bytes)) });
    }
    let directory = match output.map(|output| output.parent().unwrap_or(Path::new(""))) {
        Some(parent) => parent,
        None => config_directory,
    };
    let directory = if directory.as_os_str().is_empty() { Path::new(".") } else { directory };
    let bytes = free_space(directory)?;
    Some(OutputBudget { bytes, source: format!("the free space in `{}`", directory.display()) })
}

/// The bytes available to this user on the filesystem holding `directory`.
pub(crate) fn free_space(directory: &Path) -> Option<u64> {
    fs4::available_space(directory).ok()
}
