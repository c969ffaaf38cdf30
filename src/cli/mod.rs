//! The command line: argument parsing, reading and writing files, printing. The only module
//! that does I/O. Exit codes: 0 success, 1 the input has errors, 2 usage or I/O errors.

mod compile;
mod diff;
#[cfg(target_os = "linux")]
mod direct;
mod explain;
mod external_files;
mod inspect;
mod lint;
mod schema;
mod summary;
mod verify;
mod weights;

use crate::diagnostic::{Code, Diagnostic, Diagnostics, render_human};
use crate::plan::attach_external;
use crate::plan::layout::Layout;
use crate::resolve::Overrides;
use crate::source::SourceFile;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(crate) use external_files::ExternalFiles;

#[derive(Parser, Debug)]
#[command(
    name = "initc",
    version,
    about = "Compile a model config (YAML) into initialised weights (safetensors)",
    after_help = "`initc model.yaml -o weights.safetensors` is short for `initc compile model.yaml -o weights.safetensors`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile a config into a safetensors file.
    Compile(compile::CompileArgs),
    /// Print the Keras-style summary of a config (nothing is generated).
    Summary(summary::SummaryArgs),
    /// Report every problem in configs, with warnings and notes on likely mistakes.
    Lint(lint::LintArgs),
    /// Explain a diagnostic code, e.g. `initc explain E0401`.
    Explain(explain::ExplainArgs),
    /// Print statistics (and histograms) of every tensor of a safetensors file or checkpoint.
    Inspect(inspect::InspectArgs),
    /// Compare two safetensors files tensor by tensor (exit 0 equal, 1 different, 2 error).
    Diff(diff::DiffArgs),
    /// Compile a config in memory and compare it with a golden file (exit 0, 1 or 2 as `diff`).
    Verify(verify::VerifyArgs),
    /// Print the JSON Schema of the config language, for YAML editors.
    Schema(schema::SchemaArgs),
}

/// Options every command that reads a config takes.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// The model config (YAML).
    pub config: PathBuf,
    #[command(flatten)]
    pub overrides: OverrideArgs,
}

/// Command-line values that change what a config compiles to (`lint` takes them too).
#[derive(Args, Debug, Clone)]
pub struct OverrideArgs {
    /// Seed for every random initializer (overrides `seed:` in the config).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Per-example input shape, e.g. `128,64` (overrides `input:` in the config).
    #[arg(long, value_name = "D1,D2,…")]
    pub input: Option<String>,
    /// Override a var from the config's `vars:` (repeatable), e.g. `--set n_layer=24`.
    #[arg(long, value_name = "NAME=EXPR")]
    pub set: Vec<String>,
    /// Tensor names and layouts: Keras's (`dense.kernel`, (in, out)) or PyTorch's
    /// (`dense.weight`, (out, in); RNN gates in torch's order).
    #[arg(long, value_enum, default_value_t = LayoutArg::Keras)]
    pub layout: LayoutArg,
    /// Element type of every tensor: values are drawn in f64 and rounded to nearest-even into it.
    #[arg(long, value_name = "f32|f16|bf16|f64", default_value = "f32", value_parser = parse_dtype)]
    pub dtype: crate::plan::DType,
}

fn parse_dtype(text: &str) -> Result<crate::plan::DType, String> {
    crate::plan::DType::parse(text).ok_or_else(|| format!("`{text}` is not one of f32, f16, bf16, f64"))
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LayoutArg {
    Keras,
    Torch,
}

const SUBCOMMANDS: [&str; 9] = ["compile", "summary", "lint", "explain", "inspect", "diff", "verify", "schema", "help"];

pub fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `initc model.yaml -o out` is `initc compile model.yaml -o out`.
    if let Some(first) = args.get(1).and_then(|arg| arg.to_str())
        && !first.starts_with('-')
        && !SUBCOMMANDS.contains(&first)
    {
        args.insert(1, "compile".into());
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Compile(args) => compile::run(&args),
        Command::Summary(args) => summary::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Schema(args) => schema::run(&args),
    }
}

/// How a command ended: success, errors in the input, or a usage/I/O failure.
pub enum Outcome {
    Success,
    InputErrors,
    Failure,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        match outcome {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::InputErrors => ExitCode::from(1),
            Outcome::Failure => ExitCode::from(2),
        }
    }
}

/// Reads a config file; I/O and encoding problems are printed as diagnostics.
pub fn read_source(path: &Path) -> Result<SourceFile, Outcome> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| {
        let diagnostic = Diagnostic::error(Code::Io, format!("cannot read `{name}`: {}", io_reason(&error)))
            .with_help("check the path and that the file is readable");
        print_diagnostics(&vec![diagnostic], None);
        Outcome::Failure
    })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let diagnostic = Diagnostic::error(
            Code::Encoding,
            format!("`{name}` is not UTF-8 text (invalid byte at offset {})", error.utf8_error().valid_up_to()),
        )
        .with_help("save the config as UTF-8");
        print_diagnostics(&vec![diagnostic], None);
        Outcome::InputErrors
    })?;
    Ok(SourceFile::new(name, text))
}

/// The OS error text without Rust's "(os error N)" suffix.
pub fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Writes a command's result to stdout. A reader that went away (`initc schema | head`) ends the
/// output quietly instead of panicking as `print!` would.
pub fn print_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// Prints diagnostics to stderr; true when any is an error.
pub fn print_diagnostics(diagnostics: &Diagnostics, file: Option<&SourceFile>) -> bool {
    for diagnostic in diagnostics {
        eprint!("{}", render_human(diagnostic, file));
    }
    diagnostics.iter().any(Diagnostic::is_error)
}

impl OverrideArgs {
    /// The overrides this command line gives, or a diagnostic for a malformed value.
    pub fn overrides(&self) -> Result<Overrides, Diagnostic> {
        let input = self.input.as_deref().map(parse_shape).transpose()?;
        let sets = self.set.iter().map(|assignment| parse_set(assignment)).collect::<Result<_, _>>()?;
        let layout = match self.layout {
            LayoutArg::Keras => Layout::Keras,
            LayoutArg::Torch => Layout::Torch,
        };
        Ok(Overrides { seed: self.seed, input, sets, layout, dtype: self.dtype })
    }
}

fn parse_set(assignment: &str) -> Result<(String, String), Diagnostic> {
    match assignment.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() && !value.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(Diagnostic::error(Code::BadCliValue, format!("`--set {assignment}` is not of the form NAME=EXPR"))
            .with_help("e.g. `--set n_layer=24` or `--set d_ff=\"4 * d_model\"`")),
    }
}

fn parse_shape(text: &str) -> Result<Vec<usize>, Diagnostic> {
    text.split(',')
        .map(|part| match part.trim().parse::<usize>() {
            Ok(size) if size > 0 => Ok(size),
            _ => Err(Diagnostic::error(
                Code::BadCliValue,
                format!("`--input {text}`: `{}` is not a positive size", part.trim()),
            )
            .with_help("give the per-example shape as comma-separated sizes, e.g. `--input 128,64`")),
        })
        .collect()
}

/// Reads the config and runs the pipeline up to the plan, printing diagnostics.
pub fn load_plan(args: &ModelArgs) -> Result<(crate::plan::Plan, SourceFile), Outcome> {
    let overrides = args.overrides.overrides().map_err(|diagnostic| {
        print_diagnostics(&vec![diagnostic], None);
        Outcome::Failure
    })?;
    let file = read_source(&args.config)?;
    let (plan, diagnostics) = crate::compile_plan(&file, &overrides);
    let failed = print_diagnostics(&diagnostics, Some(&file));
    let mut plan = match plan {
        Some(plan) if !failed => plan,
        _ => return Err(Outcome::InputErrors),
    };
    let directory = args.config.parent().unwrap_or(Path::new(""));
    let mut external = ExternalFiles::new(directory);
    let diagnostics = attach_external(&mut plan, &mut external.reader());
    if print_diagnostics(&diagnostics, Some(&file)) {
        // A source that changed while it was read is an I/O failure, not a mistake in the config.
        return Err(if external.read_failed() { Outcome::Failure } else { Outcome::InputErrors });
    }
    Ok((plan, file))
}
