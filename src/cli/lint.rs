//! `initc lint FILE…`: every problem in each config — the errors compile would report plus the
//! lint rules' warnings and notes — as rustc-style text, JSON or SARIF on stdout. Exit code 0
//! without errors (warnings alone pass, unless `--deny-warnings`), 1 with errors, 2 when a file
//! cannot be read or the command line is wrong. Nothing is generated or written.

use super::{Outcome, api};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, FileReport, Severity, render_human, render_json, render_sarif};
use crate::lint::OutputBudget;
use crate::source::SourceFile;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct LintArgs {
    /// The model configs to check (YAML, or Keras model JSON).
    #[arg(required = true, value_name = "FILE")]
    pub configs: Vec<PathBuf>,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit code 1) on warnings too, not only on errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Print nothing for a config without findings (else "no problems found in FILE").
    #[arg(short, long)]
    pub quiet: bool,
    /// The largest output allowed: bytes, or a number with a unit, `k`/`KB`, `M`/`MB`, `G`/`GB`
    /// (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024), e.g. `500M` or `2GiB` (default:
    /// the free space where the output would be written).
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
        Ok((_, max_size)) => {
            // With one file the process ends after its report: what it built need not be freed
            // (with several, each file's results are freed before the next is read).
            if args.configs.len() == 1 {
                crate::exit_after_run();
            }
            for path in &args.configs {
                checked.push(check_file(path, &args.overrides, max_size.clone(), args.output.as_deref()));
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
        Format::Human => reports.iter().map(|report| human(report, args.quiet || usage_error)).collect(),
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

/// One file's findings as text; a file without any says so in one line, as ruff and clippy do,
/// unless `quiet`.
fn human(report: &FileReport, quiet: bool) -> String {
    match (report.diagnostics.is_empty(), report.path) {
        (true, Some(path)) if !quiet => format!("no problems found in {path}\n"),
        _ => report.diagnostics.iter().map(|diagnostic| render_human(diagnostic, report.source)).collect(),
    }
}

/// The overrides and the `--max-size` limit, or a diagnostic for a malformed value.
fn command_line(args: &LintArgs) -> Result<(crate::resolve::Overrides, Option<OutputBudget>), Diagnostic> {
    let overrides = args.overrides.overrides()?;
    Ok((overrides, max_size(args.max_size.as_deref())?))
}

/// `--max-size` (of `lint` and `compile`) as a budget, or E0601 for a value that is not a size.
pub(crate) fn max_size(text: Option<&str>) -> Result<Option<OutputBudget>, Diagnostic> {
    let Some(text) = text else { return Ok(None) };
    match crate::emit::parse_size(text) {
        Some(bytes) => Ok(Some(OutputBudget { bytes, source: format!("`--max-size {}`", text.trim()) })),
        None => Err(Diagnostic::error(Code::BadCliValue, format!("`--max-size {text}` is not a size")).with_help(
            "give bytes or a number with a unit: `k`/`KB`, `M`/`MB`, `G`/`GB` (powers of 1000) or `KiB`, `MiB`, \
             `GiB` (powers of 1024), e.g. `--max-size 500M` or `--max-size 2GiB`",
        )),
    }
}

fn check_file(
    path: &Path,
    overrides: &super::OverrideArgs,
    max_size: Option<OutputBudget>,
    output: Option<&Path>,
) -> Checked {
    let request = api::Request { config: api::ConfigInput::Path(path.to_path_buf()), overrides: overrides.clone() };
    let linted = api::lint(&request, max_size, output);
    Checked {
        path: path.display().to_string(),
        source: linted.file,
        diagnostics: linted.diagnostics,
        unreadable: linted.unreadable,
    }
}

/// The output budget: `--max-size`, else the free space of the directory the output would be
/// written to (`--output`'s, else the config's). No budget when the free space is unknown.
pub(crate) fn budget(
    max_size: Option<OutputBudget>,
    output: Option<&Path>,
    config_directory: &Path,
) -> Option<OutputBudget> {
    if max_size.is_some() {
        return max_size;
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
