//! The command line: argument parsing, reading and writing files, printing. The only module
//! that does I/O. Exit codes: 0 success, 1 the input has errors, 2 usage or I/O errors.

pub mod api;
mod compile;
mod diff;
#[cfg(target_os = "linux")]
mod direct;
mod explain;
mod external_files;
mod inspect;
mod lint;
mod memory_budget;
mod output_set;
mod schema;
#[cfg_attr(not(unix), allow(dead_code))]
mod signals;
mod summary;
mod templates;
mod verify;
mod weights;
mod window;

use crate::diagnostic::{Code, Diagnostic, Diagnostics, render_human};
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
    about = "Compile a model config (YAML, or a Keras model JSON) into initialised weights (safetensors)",
    after_help = "`initc model.yaml -o weights.safetensors` is short for `initc compile model.yaml -o weights.safetensors`.\n\
                  A config file named like a subcommand (`summary`) needs the long form or a path: \
                  `initc compile summary -o weights.safetensors` or `initc ./summary -o weights.safetensors`."
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
    /// List the Hugging Face templates (`initc compile config.json -o DIR/`), or print one.
    Templates(templates::TemplatesArgs),
}

/// Options every command that reads a config takes.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// The model config: YAML, or the JSON of a Keras `Sequential` model (`model.to_json()`).
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
    /// Element type of every tensor, each value rounded to nearest-even into it (normals of f32,
    /// f16 and bf16 tensors are drawn in f32, everything else in f64: specs/rng.md).
    #[arg(long, value_name = "f32|f16|bf16|f64", value_parser = parse_dtype)]
    pub dtype: Option<crate::plan::DType>,
    /// Vars from a JSON or YAML file (e.g. a Hugging Face config.json): each key that names a var
    /// under `vars:` gives it that value (nested keys as `outer.inner`); `--set` applies after.
    #[arg(long, value_name = "FILE")]
    pub vars: Option<PathBuf>,
    /// The template that builds a Hugging Face config.json's model, instead of the shipped one
    /// for its `model_type` (`initc templates` lists those).
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// The generator (overrides `rng:` in the config): initc's per-tensor Philox streams, or torch
    /// 2.15's `torch.manual_seed` stream drawn as torch's modules draw it (with `--layout torch`).
    #[arg(long, value_enum)]
    pub rng: Option<RngArg>,
}

fn parse_dtype(text: &str) -> Result<crate::plan::DType, String> {
    crate::plan::DType::parse(text).ok_or_else(|| format!("`{text}` is not one of f32, f16, bf16, f64"))
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LayoutArg {
    Keras,
    Torch,
    Flax,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RngArg {
    Philox,
    Torch,
}

impl RngArg {
    pub fn rng(self) -> crate::tensor::Rng {
        match self {
            RngArg::Philox => crate::tensor::Rng::Philox,
            RngArg::Torch => crate::tensor::Rng::Torch,
        }
    }
}

const SUBCOMMANDS: [&str; 10] =
    ["compile", "summary", "lint", "explain", "inspect", "diff", "verify", "schema", "templates", "help"];

/// How the first argument is read: a subcommand, the config of the bare form `initc FILE -o OUT`
/// (short for `initc compile FILE -o OUT`), or a mistyped subcommand.
#[derive(Debug, PartialEq, Eq)]
enum FirstArgument<'a> {
    /// A subcommand, an option (`--help`), or nothing: clap reads it as it is.
    AsIs,
    /// A config file: `compile` goes before it.
    Config,
    /// No such file, and close to a subcommand's name.
    Mistyped { typed: &'a str, meant: &'static str },
}

/// A subcommand's name always means the subcommand, even when a file of that name exists
/// (`initc compile summary -o OUT` or `initc ./summary -o OUT` compile such a file). Anything else
/// is a config, unless it is a word of letters, no such file exists, and it is a near miss of a
/// subcommand's name.
fn first_argument<'a>(first: Option<&'a str>, exists: impl Fn(&str) -> bool) -> FirstArgument<'a> {
    let Some(first) = first else { return FirstArgument::AsIs };
    if first.starts_with('-') || SUBCOMMANDS.contains(&first) {
        return FirstArgument::AsIs;
    }
    // A path (`./summary`, `model.yaml`) is never a subcommand, mistyped or not.
    if first.chars().all(|c| c.is_ascii_alphabetic())
        && !exists(first)
        && let Some(meant) = crate::diagnostic::did_you_mean(first, SUBCOMMANDS)
    {
        return FirstArgument::Mistyped { typed: first, meant };
    }
    FirstArgument::Config
}

pub fn main() -> ExitCode {
    // The binary maps the weights files it reads (see `window.rs`); a host process keeps `pread`.
    window::map_weights_files();
    run(std::env::args_os().collect())
}

/// Runs the command line `args` (the program's name first), as the `initc` binary and the
/// Python package's `initc` command do.
pub fn run(mut args: Vec<std::ffi::OsString>) -> ExitCode {
    let reading = match args.get(1).map(|arg| arg.to_str()) {
        // A path that is not UTF-8 is no subcommand's name.
        Some(None) => FirstArgument::Config,
        first => first_argument(first.flatten(), |path| Path::new(path).exists()),
    };
    match reading {
        FirstArgument::AsIs => {}
        // `initc model.yaml -o out` is `initc compile model.yaml -o out`.
        FirstArgument::Config => args.insert(1, "compile".into()),
        FirstArgument::Mistyped { typed, meant } => {
            let diagnostic =
                Diagnostic::error(Code::BadCliValue, format!("unknown subcommand `{typed}` — did you mean `{meant}`?"))
                    .with_help(format!(
                        "the subcommands are {}; a config file is compiled with `initc FILE -o OUT`",
                        crate::config::list(&SUBCOMMANDS)
                    ));
            print_diagnostics(&vec![diagnostic], None);
            return Outcome::Failure.into();
        }
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
        Command::Templates(args) => templates::run(&args),
    }
}

/// The number a command's exit code stands for (`ExitCode` does not say), for a caller that is
/// not the process's `main`.
pub fn exit_status(code: ExitCode) -> u8 {
    (0..=u8::MAX).find(|&status| ExitCode::from(status) == code).unwrap_or(u8::MAX)
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
    config_source(path, &path.display().to_string()).map_err(|diagnostic| {
        let outcome = if diagnostic.code == Code::Io { Outcome::Failure } else { Outcome::InputErrors };
        print_diagnostics(&vec![diagnostic], None);
        outcome
    })
}

/// A config file's text, shown as `name`; an unreadable file is E0101 (`Code::Io`), one that is
/// not UTF-8 `Code::Encoding`.
pub fn config_source(path: &Path, name: &str) -> Result<SourceFile, Diagnostic> {
    let bytes = read_config(path).map_err(|error| {
        let help = match error.kind() {
            std::io::ErrorKind::InvalidInput => "give the path of a YAML or Keras JSON file",
            std::io::ErrorKind::FileTooLarge => "a config is text of at most 64 MiB: check the path",
            _ => "check the path and that the file is readable",
        };
        Diagnostic::error(Code::Io, format!("cannot read `{name}`: {}", io_reason(&error))).with_help(help)
    })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        Diagnostic::error(Code::Encoding, format!("`{name}` is not UTF-8 text (invalid byte at offset {offset})"))
            .with_help("save the config as UTF-8")
    })?;
    Ok(SourceFile::new(name.to_string(), text))
}

/// The most bytes read as a config: far more than any real config, far less than memory.
pub const MAX_CONFIG_BYTES: u64 = 64 << 20;

/// A config's bytes. Only a regular file is read (a FIFO would wait for a writer forever, a
/// device such as `/dev/zero` never ends), and at most `MAX_CONFIG_BYTES` of it, counted while
/// reading since a file may grow. The errors say which (`InvalidInput`, `FileTooLarge`).
pub fn read_config(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    // Checked before opening too: opening some devices already does something.
    let kind = std::fs::metadata(path)?.file_type();
    if !kind.is_file() {
        return Err(not_a_regular_file(&kind));
    }
    let file = open_without_blocking(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(not_a_regular_file(&kind));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "it is larger than 64 MiB, the most initc reads as a config",
        ));
    }
    Ok(bytes)
}

fn not_a_regular_file(kind: &std::fs::FileType) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("it is {}, not a regular file", file_kind(kind)))
}

/// Opens a file for reading without waiting: a FIFO with no writer opens at once (on Linux), so
/// the caller can look at what it opened.
pub fn open_without_blocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, rustix::fs::OFlags::NONBLOCK.bits() as i32);
    options.open(path)
}

/// What a file is, for messages: "a directory", "a FIFO", …
pub fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
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
    write_stdout(|out| out.write_all(text.as_bytes()));
}

/// Prints what `write` writes to stdout. As with `print_stdout`, a closed pipe (`| head`) ends
/// the output quietly.
pub fn write_stdout(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = write(&mut stdout).and_then(|()| stdout.flush());
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
            LayoutArg::Flax => Layout::Flax,
        };
        let dtype = self.dtype.unwrap_or(crate::plan::DType::F32);
        Ok(Overrides { seed: self.seed, rng: self.rng.map(RngArg::rng), input, sets, vars: Vec::new(), layout, dtype })
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

/// A Hugging Face config.json being compiled through its template.
pub struct Pretrained {
    /// The config.json's text, written beside the weights unchanged.
    pub config_json: String,
}

/// Why a config could not be made ready: the diagnostic, the file it points into, and whether a
/// file could not be read at all or an option is malformed (exit 2) rather than the input being
/// wrong (exit 1).
pub struct NotReady {
    pub diagnostic: Box<Diagnostic>,
    pub file: Option<Box<SourceFile>>,
    pub unreadable: bool,
}

impl NotReady {
    fn of(diagnostic: Diagnostic, file: Option<&SourceFile>) -> NotReady {
        let unreadable = diagnostic.code == Code::Io;
        NotReady { diagnostic: Box::new(diagnostic), file: file.cloned().map(Box::new), unreadable }
    }

    /// Prints the diagnostic; the outcome to exit with.
    pub fn report(self) -> Outcome {
        print_diagnostics(&vec![*self.diagnostic], self.file.as_deref());
        if self.unreadable { Outcome::Failure } else { Outcome::InputErrors }
    }
}

/// The config to compile and how: `file` itself, or for a Hugging Face config.json (a JSON
/// mapping with `model_type`) the template of its model type with the config's keys as vars and
/// its dtype; then a `--vars` file's keys.
pub fn model_source(
    file: SourceFile,
    args: &OverrideArgs,
) -> Result<(SourceFile, Overrides, Option<Pretrained>), NotReady> {
    // A malformed option is a usage error (exit 2), as clap's own are.
    let mut overrides =
        args.overrides().map_err(|diagnostic| NotReady { unreadable: true, ..NotReady::of(diagnostic, None) })?;
    let mut compiled = file;
    let mut pretrained = None;
    let looks_like_json = compiled.text().trim_start_matches('\u{feff}').trim_start().starts_with('{');
    let root = if looks_like_json { crate::config::parse_yaml(&compiled).ok() } else { None };
    match root.as_ref().and_then(|root| crate::config::hf::read(&compiled, root).map(|found| (root, found))) {
        Some((root, found)) => {
            let config = found.map_err(|diagnostic| NotReady::of(diagnostic, Some(&compiled)))?;
            if args.dtype.is_none() {
                overrides.dtype = pretrained_dtype(&compiled, root, config.dtype.as_deref())?;
            }
            let template = match &args.template {
                Some(path) => config_source(path, &path.display().to_string())
                    .map_err(|diagnostic| NotReady::of(diagnostic, None))?,
                None => {
                    let template = crate::config::hf::template_for(&config, root)
                        .map_err(|diagnostic| NotReady::of(diagnostic, Some(&compiled)))?;
                    SourceFile::new(format!("templates/hf/{}.yaml", template.name), template.text)
                }
            };
            overrides.vars = config.vars;
            pretrained = Some(Pretrained { config_json: compiled.text().to_string() });
            compiled = template;
        }
        None if args.template.is_some() => {
            return Err(NotReady::of(
                Diagnostic::error(
                    Code::BadCliValue,
                    format!("`--template` is for a Hugging Face config.json, and `{}` is not one", compiled.name()),
                )
                .with_help("a Hugging Face config.json is a JSON mapping with a `model_type`; for any other config, give its vars with `--vars FILE`"),
                None,
            ));
        }
        None => {}
    }
    if let Some(path) = &args.vars {
        let vars_file =
            config_source(path, &path.display().to_string()).map_err(|diagnostic| NotReady::of(diagnostic, None))?;
        let vars =
            crate::config::read_vars(&vars_file).map_err(|diagnostic| NotReady::of(diagnostic, Some(&vars_file)))?;
        overrides.vars.extend(vars);
    }
    Ok((compiled, overrides, pretrained))
}

/// The dtype a config.json asks for (`dtype`, or 4.x's `torch_dtype`); float32 when it names none,
/// as transformers builds the model then.
fn pretrained_dtype(
    file: &SourceFile,
    root: &crate::config::Node,
    dtype: Option<&str>,
) -> Result<crate::plan::DType, NotReady> {
    let Some(name) = dtype else { return Ok(crate::plan::DType::F32) };
    match name {
        "float32" | "float16" | "bfloat16" | "float64" => crate::plan::DType::parse(name).ok_or_else(|| {
            NotReady::of(Diagnostic::error(Code::InvalidValue, format!("unknown dtype `{name}`")), None)
        }),
        _ => {
            let span = root.get("dtype").or_else(|| root.get("torch_dtype")).map_or(root.span, |node| node.span);
            let diagnostic = Diagnostic::error(Code::InvalidValue, format!("initc cannot write the dtype \"{name}\""))
                .at(span)
                .with_help("the dtypes initc writes are float32, bfloat16, float16 and float64; or give `--dtype`");
            Err(NotReady::of(diagnostic, Some(file)))
        }
    }
}

/// Reads the config and runs the pipeline up to the plan ([`api::prepare`]), printing its
/// diagnostics, warnings included.
pub fn prepare_printing(args: &ModelArgs) -> Result<api::Prepared, Outcome> {
    let request =
        api::Request { config: api::ConfigInput::Path(args.config.clone()), overrides: args.overrides.clone() };
    let prepared = api::prepare(&request).map_err(api::Failure::report)?;
    print_diagnostics(&prepared.warnings, Some(&prepared.file));
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_argument_is_a_subcommand_a_config_or_a_typo() {
        let existing = ["model.yaml", "summary", "sumary", "dir/lint"];
        let exists = |path: &str| existing.contains(&path);
        let cases: &[(Option<&str>, FirstArgument)] = &[
            (None, FirstArgument::AsIs),
            (Some("--help"), FirstArgument::AsIs),
            (Some("-V"), FirstArgument::AsIs),
            (Some("summary"), FirstArgument::AsIs),
            (Some("help"), FirstArgument::AsIs),
            (Some("model.yaml"), FirstArgument::Config),
            (Some("missing.yaml"), FirstArgument::Config),
            (Some("frobnicate"), FirstArgument::Config),
            // A file that exists is a config, however close to a subcommand its name is.
            (Some("sumary"), FirstArgument::Config),
            (Some("./summary"), FirstArgument::Config),
            (Some("dir/lint"), FirstArgument::Config),
            (Some("sumary.yaml"), FirstArgument::Config),
            (Some("lnit"), FirstArgument::Mistyped { typed: "lnit", meant: "lint" }),
            (Some("complie"), FirstArgument::Mistyped { typed: "complie", meant: "compile" }),
            (Some("Summary"), FirstArgument::Mistyped { typed: "Summary", meant: "summary" }),
        ];
        for (first, expected) in cases {
            assert_eq!(&first_argument(*first, exists), expected, "{first:?}");
        }
        assert_eq!(
            first_argument(Some("sumary"), |_| false),
            FirstArgument::Mistyped { typed: "sumary", meant: "summary" }
        );
    }
}
