//! `initc compile` (and the bare `initc model.yaml -o out`): writes the safetensors file
//! atomically — a temporary file beside the target, validated, then renamed over it — or, with
//! `--max-shard-size`, a directory of Hugging Face shards and their index, all renamed into place
//! only once every one of them is written. Shows a progress bar on a terminal for long compiles.

use super::{ModelArgs, Outcome, io_reason, load_plan, print_diagnostics};
use crate::diagnostic::{Code, Diagnostic};
use crate::emit::{self, ShardLayout};
use crate::plan::Plan;
use clap::Args;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tempfile::NamedTempFile;

#[derive(Args, Debug)]
pub struct CompileArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Where to write the weights: a safetensors file, or with `--max-shard-size` a directory.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Split the weights into Hugging Face shards of at most this much tensor data each, written
    /// into the directory `-o` with `model.safetensors.index.json`: e.g. `5GB` (10^9 bytes),
    /// `200MB`, `2GiB` (2^30 bytes), or a number of bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_shard_size)]
    pub max_shard_size: Option<u64>,
    /// Write only shard K (1-based) and the index, byte-identical to the full run's.
    #[arg(long, value_name = "K", requires = "max_shard_size")]
    pub shard: Option<usize>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Refuse an output larger than this (`500MB`, `2GiB`); by default, the free space where it
    /// is written. Checked before anything is generated.
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
}

fn parse_shard_size(text: &str) -> Result<u64, String> {
    match emit::parse_size(text) {
        Some(size) if size > 0 => Ok(size),
        _ => Err(format!("`{text}` is not a size: use e.g. `5GB`, `200MB`, `2GiB` or a number of bytes")),
    }
}

pub fn run(args: &CompileArgs) -> ExitCode {
    let max_size = match args.max_size.as_deref().map(|text| (text, crate::lint::parse_size(text))) {
        None => None,
        Some((_, Some(bytes))) => Some(bytes),
        Some((text, None)) => {
            let diagnostic = Diagnostic::error(Code::BadCliValue, format!("`--max-size {text}` is not a size"))
                .with_help("give bytes or a number with a unit, e.g. `--max-size 500MB` or `--max-size 2GiB`");
            print_diagnostics(&vec![diagnostic], None);
            return Outcome::Failure.into();
        }
    };
    let (plan, file) = match load_plan(&args.model) {
        Ok(loaded) => loaded,
        Err(outcome) => return outcome.into(),
    };
    // Refused before anything is generated: `--max-size`, else the free space where it goes.
    if let Some(budget) = super::lint::budget(max_size, Some(&args.output), Path::new("."))
        && let Some(diagnostic) = crate::lint::too_large(&plan, &budget)
    {
        print_diagnostics(&vec![diagnostic], Some(&file));
        return Outcome::InputErrors.into();
    }
    if let Err(outcome) = super::memory_budget::check(&plan, &file, super::memory_budget::Purpose::Compile) {
        return outcome.into();
    }
    let result = match args.max_shard_size {
        None => write_single(&plan, &args.output, args.quiet),
        Some(max_shard_size) => write_sharded(&plan, &args.output, max_shard_size, args.shard, args.quiet),
    };
    match result {
        Ok(()) => Outcome::Success.into(),
        Err(diagnostic) => {
            let outcome = super::memory_budget::failure_outcome(&diagnostic);
            print_diagnostics(&vec![diagnostic], None);
            outcome.into()
        }
    }
}

fn io_failure(shown: &str, what: &str, error: &std::io::Error) -> Diagnostic {
    if let Some(diagnostic) = super::memory_budget::out_of_memory(error) {
        return diagnostic;
    }
    Diagnostic::error(Code::Io, format!("cannot {what} `{shown}`: {}", io_reason(error)))
        .with_help("check that the directory exists and is writable")
}

fn write_single(plan: &Plan, path: &Path, quiet: bool) -> Result<(), Diagnostic> {
    let shown = path.display().to_string();
    if path.is_dir() {
        return Err(Diagnostic::error(Code::Io, format!("`{shown}` is a directory")).with_help(
            "give a file name, e.g. `-o weights.safetensors`, or shards with `--max-shard-size 5GB -o DIR/`",
        ));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let all: Vec<usize> = (0..plan.tensors.len()).collect();
    let mut progress = Progress::new(emit::output_size(plan, &all), quiet);
    let temporary = write_temporary(directory, &shown, |mut out| {
        emit::write_safetensors_with_progress(plan, &mut out, &mut |bytes| progress.advance(bytes))
    })?;
    progress.finish();
    temporary.persist(path).map_err(|error| io_failure(&shown, "write", &error.error))?;
    Ok(())
}

fn write_sharded(
    plan: &Plan,
    directory: &Path,
    max_shard_size: u64,
    only: Option<usize>,
    quiet: bool,
) -> Result<(), Diagnostic> {
    let shown = directory.display().to_string();
    let layout = emit::shard_layout(plan, max_shard_size)
        .map_err(|error| Diagnostic::error(Code::Io, format!("cannot lay out the shards: {}", io_reason(&error))))?;
    let selected: Vec<&emit::Shard> = match only {
        None => layout.shards.iter().collect(),
        Some(k) => match k.checked_sub(1).and_then(|index| layout.shards.get(index)) {
            Some(shard) => vec![shard],
            None => {
                return Err(Diagnostic::error(
                    Code::BadCliValue,
                    format!("`--shard {k}`: the model has {} shard(s) at this size", layout.shards.len()),
                )
                .with_help(format!("give a shard number from 1 to {}", layout.shards.len())));
            }
        },
    };
    if directory.exists() && !directory.is_dir() {
        return Err(Diagnostic::error(Code::Io, format!("`{shown}` is not a directory"))
            .with_help("with `--max-shard-size`, `-o` names the directory the shards go into"));
    }
    let created = !directory.exists();
    if created {
        std::fs::create_dir_all(directory).map_err(|error| io_failure(&shown, "create the directory", &error))?;
    }
    let result = write_shards_then_rename(plan, directory, &layout, &selected, quiet);
    if result.is_err() && created {
        // Leave nothing new behind: the temporaries are already gone, so the directory is empty.
        let _ = std::fs::remove_dir(directory);
    }
    result
}

/// Every selected shard and the index into temporary files first; only when all are written and
/// validated are they renamed into place, so a failure leaves no new file.
fn write_shards_then_rename(
    plan: &Plan,
    directory: &Path,
    layout: &ShardLayout,
    selected: &[&emit::Shard],
    quiet: bool,
) -> Result<(), Diagnostic> {
    let total = selected.iter().map(|shard| emit::output_size(plan, &shard.tensors)).sum();
    let mut progress = Progress::new(total, quiet);
    let mut written: Vec<(NamedTempFile, PathBuf)> = Vec::new();
    for shard in selected {
        let target = directory.join(&shard.file_name);
        let shown = target.display().to_string();
        let temporary = write_temporary(directory, &shown, |mut out| {
            emit::write_shard(plan, shard, &mut out, &mut |bytes| progress.advance(bytes))
        })?;
        written.push((temporary, target));
    }
    progress.finish();
    if layout.is_sharded() {
        let (name, text) = layout.index_json(plan);
        let target = directory.join(name);
        let shown = target.display().to_string();
        let temporary = new_temporary(directory, &shown)?;
        let mut file = temporary.as_file();
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|error| io_failure(&shown, "write", &error))?;
        written.push((temporary, target));
    }
    let mut renamed: Vec<PathBuf> = Vec::new();
    for (temporary, target) in written {
        let existed = target.exists();
        if let Err(error) = temporary.persist(&target) {
            for path in &renamed {
                let _ = std::fs::remove_file(path);
            }
            return Err(io_failure(&target.display().to_string(), "write", &error.error));
        }
        if !existed {
            renamed.push(target);
        }
    }
    Ok(())
}

fn new_temporary(directory: &Path, shown: &str) -> Result<NamedTempFile, Diagnostic> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".initc-").suffix(".tmp");
    // A temporary file is private (0600); the finished weights are read by others (a cluster's
    // other jobs), so they get the usual 0644.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    builder.tempfile_in(directory).map_err(|error| io_failure(shown, "write", &error))
}

/// Writes through `write` into a temporary file in `directory`, checks it is a valid safetensors
/// file and syncs it. On any error the temporary file is removed.
fn write_temporary(
    directory: &Path,
    shown: &str,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<NamedTempFile, Diagnostic> {
    let temporary = new_temporary(directory, shown)?;
    let file = temporary.as_file();
    std::thread::scope(|scope| {
        // Past the page cache where the filesystem allows it: no copy of every byte by the CPU.
        #[cfg(target_os = "linux")]
        if let Some(mut out) = super::direct::DirectWriter::start(scope, file) {
            write(&mut out).map_err(|error| io_failure(shown, "write", &error))?;
            return out.finish().map_err(|error| io_failure(shown, "write", &error));
        }
        // Else writeback starts while the rest is still being generated, so the final sync is short.
        let (signal, requests) = std::sync::mpsc::sync_channel::<()>(1);
        scope.spawn(move || {
            for () in requests {
                // Errors surface in the final `sync_all` below.
                let _ = file.sync_data();
            }
        });
        let mut out = BufWriter::with_capacity(1 << 20, EarlySync { file, unsynced: 0, signal });
        write(&mut out).map_err(|error| io_failure(shown, "write", &error))?;
        out.flush().map_err(|error| io_failure(shown, "write", &error))
    })?;
    validate(temporary.as_file()).map_err(|error| io_failure(shown, "validate what was written to", &error))?;
    temporary.as_file().sync_all().map_err(|error| io_failure(shown, "write", &error))?;
    Ok(temporary)
}

/// Bytes written between two background syncs.
const SYNC_EVERY: u64 = 64 << 20;

/// A file writer that asks a background thread to sync the file every `SYNC_EVERY` bytes.
pub struct EarlySync<'a> {
    file: &'a File,
    unsynced: u64,
    signal: std::sync::mpsc::SyncSender<()>,
}

impl Write for EarlySync<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = (&mut &*self.file).write(bytes)?;
        self.unsynced += written as u64;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            // A sync already queued covers this one too.
            let _ = self.signal.try_send(());
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

/// A progress bar on stderr (bytes, rate, ETA) that appears only once a compile has run for
/// `SHOW_AFTER`, only when stderr is a terminal, and never with `--quiet`. Nothing on stdout.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    shown: bool,
}

const SHOW_AFTER: Duration = Duration::from_secs(1);

impl Progress {
    fn new(total: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::hidden());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, started: Instant::now(), shown: false }
    }

    fn advance(&mut self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
            if !self.shown && self.started.elapsed() >= SHOW_AFTER {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                self.shown = true;
            }
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
