//! `initc compile` (and the bare `initc model.yaml -o out`): writes the safetensors file
//! atomically — a temporary file beside the target, validated, then renamed over it.

use super::{ModelArgs, Outcome, io_reason, load_plan, print_diagnostics};
use crate::diagnostic::{Code, Diagnostic};
use crate::emit;
use clap::Args;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct CompileArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Where to write the weights (safetensors).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(args: &CompileArgs) -> ExitCode {
    let plan = match load_plan(&args.model) {
        Ok((plan, _)) => plan,
        Err(outcome) => return outcome.into(),
    };
    match write_atomically(&args.output, |out| emit::write_safetensors(&plan, out)) {
        Ok(()) => Outcome::Success.into(),
        Err(diagnostic) => {
            print_diagnostics(&vec![diagnostic], None);
            Outcome::Failure.into()
        }
    }
}

/// Writes through `write` into a temporary file in the target's directory, checks it is a
/// valid safetensors file, and renames it over `path`. On any error the temporary file is
/// removed and `path` is untouched.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> std::io::Result<()>,
) -> Result<(), Diagnostic> {
    let shown = path.display().to_string();
    let failure = |what: &str, error: std::io::Error| {
        Diagnostic::error(Code::Io, format!("cannot {what} `{shown}`: {}", io_reason(&error)))
            .with_help("check that the directory exists and is writable")
    };
    if path.is_dir() {
        return Err(Diagnostic::error(Code::Io, format!("`{shown}` is a directory"))
            .with_help("give a file name, e.g. `-o weights.safetensors`"));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temporary = tempfile::Builder::new()
        .prefix(".initc-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(|error| failure("write", error))?;
    {
        let mut out = BufWriter::with_capacity(1 << 20, temporary.as_file());
        write(&mut out).map_err(|error| failure("write", error))?;
        out.flush().map_err(|error| failure("write", error))?;
    }
    validate(temporary.as_file()).map_err(|error| failure("validate what was written to", error))?;
    temporary.as_file().sync_all().map_err(|error| failure("write", error))?;
    temporary.persist(path).map_err(|error| failure("write", error.error))?;
    Ok(())
}

/// Re-reads the written file with the safetensors crate, which checks the header and that the
/// data length matches it. Memory-mapped, so a large file is not read into memory.
fn validate(file: &File) -> std::io::Result<()> {
    // SAFETY: the file is our private temporary file; nothing else writes it while it is mapped.
    let map = unsafe { memmap2::Mmap::map(file)? };
    safetensors::SafeTensors::read_metadata(&map).map(|_| ()).map_err(|error| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the written file is not valid safetensors: {error}"),
        )
    })
}
