//! `initc compile` (and the bare `initc model.yaml -o out`): writes the safetensors file
//! atomically — a temporary file beside the target, validated, then renamed over it — or, with
//! `--max-shard-size`, a directory of Hugging Face shards and their index, all renamed into place
//! only once every one of them is written (`output_set.rs`). Refuses an output that would
//! replace its own input. Shows a progress bar on a terminal for long compiles.

use super::output_set::{self, OutputSet};
use super::weights::Progress;
use super::{ModelArgs, Outcome, api, io_reason, print_diagnostics};
use crate::diagnostic::{Code, Diagnostic};
use crate::emit::{self, ShardLayout};
use crate::plan::Plan;
use clap::Args;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct CompileArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Where to write the weights: a safetensors file, or with `--max-shard-size` a directory.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Split the weights into Hugging Face shards of at most this much tensor data each, written
    /// into the directory `-o` with `model.safetensors.index.json`: e.g. `5GB` (5·10^9 bytes, as
    /// huggingface_hub reads it), `200M`, `2GiB` (2^31 bytes), or a number of bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_shard_size)]
    pub max_shard_size: Option<u64>,
    /// Write only shard K (1-based) and the index, byte-identical to the full run's.
    #[arg(long, value_name = "K", requires = "max_shard_size")]
    pub shard: Option<usize>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Refuse an output larger than this, in the sizes `--max-shard-size` takes (`500M`, `2GiB`);
    /// by default, the free space where it is written. Checked before anything is generated.
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
}

fn parse_shard_size(text: &str) -> Result<u64, String> {
    match emit::parse_size(text) {
        Some(size) if size > 0 => Ok(size),
        _ => Err(format!(
            "`{text}` is not a size: use bytes or a number with a unit, `k`/`KB`, `M`/`MB`, `G`/`GB` (powers of \
             1000) or `KiB`, `MiB`, `GiB` (powers of 1024), e.g. `5GB` or `2GiB`"
        )),
    }
}

/// A file the compile reads, which its output must not replace.
pub(super) struct Input {
    pub path: PathBuf,
    pub role: &'static str,
}

/// Where and how the weights are written.
pub(super) struct WriteOptions<'a> {
    pub output: &'a Path,
    pub max_shard_size: Option<u64>,
    pub shard: Option<usize>,
    pub quiet: bool,
}

pub fn run(args: &CompileArgs) -> ExitCode {
    // Before any file is created: a signal from now on removes what this run wrote.
    super::signals::install();
    let max_size = match super::lint::max_size(args.max_size.as_deref()) {
        Ok(max_size) => max_size,
        Err(diagnostic) => {
            print_diagnostics(&vec![diagnostic], None);
            return Outcome::Failure.into();
        }
    };
    let prepared = match super::prepare_printing(&args.model) {
        Ok(prepared) => prepared,
        Err(outcome) => return outcome.into(),
    };
    let options = api::SaveOptions {
        output: &args.output,
        max_shard_size: args.max_shard_size,
        shard: args.shard,
        max_size,
        quiet: args.quiet,
    };
    match api::save(&prepared, &options) {
        Ok(()) => Outcome::Success.into(),
        Err(failure) => failure.report().into(),
    }
}

/// Writes the plan: one file, or shards (and config.json for a Hugging Face config) into a
/// directory.
pub(super) fn write(
    plan: &Plan,
    options: &WriteOptions,
    pretrained: Option<&super::Pretrained>,
    inputs: &[Input],
) -> Result<(), Diagnostic> {
    match (options.max_shard_size, pretrained) {
        (None, None) => write_single(plan, options.output, inputs, options.quiet),
        (max_shard_size, pretrained) => {
            let max_shard_size = max_shard_size.unwrap_or(u64::MAX);
            let directory = Directory { path: options.output, pretrained };
            write_sharded(plan, directory, max_shard_size, options.shard, inputs, options.quiet)
        }
    }
}

/// The tensors of each safetensors file this run writes: all in one file, or the shards
/// (`--shard K` alone). Empty when the shards cannot be laid out; writing reports why.
pub(super) fn files_to_write(plan: &Plan, max_shard_size: Option<u64>, shard: Option<usize>) -> Vec<Vec<usize>> {
    let Some(max_shard_size) = max_shard_size else { return vec![(0..plan.tensors.len()).collect()] };
    let Ok(layout) = emit::shard_layout(plan, max_shard_size) else { return Vec::new() };
    selected_shards(&layout, shard)
        .map_or(Vec::new(), |shards| shards.into_iter().map(|shard| shard.tensors.clone()).collect())
}

/// Every shard, or shard K alone (1-based) for `--shard K`.
fn selected_shards(layout: &ShardLayout, only: Option<usize>) -> Result<Vec<&emit::Shard>, Diagnostic> {
    let Some(k) = only else { return Ok(layout.shards.iter().collect()) };
    match k.checked_sub(1).and_then(|index| layout.shards.get(index)) {
        Some(shard) => Ok(vec![shard]),
        None => Err(Diagnostic::error(
            Code::BadCliValue,
            format!("`--shard {k}`: the model has {} shard(s) at this size", layout.shards.len()),
        )
        .with_help(format!("give a shard number from 1 to {}", layout.shards.len()))),
    }
}

fn io_failure(shown: &str, what: &str, error: &std::io::Error) -> Diagnostic {
    if let Some(diagnostic) = super::memory_budget::out_of_memory(error) {
        return diagnostic;
    }
    Diagnostic::error(Code::Io, format!("cannot {what} `{shown}`: {}", io_reason(error)))
        .with_help("check that the directory exists and is writable")
}

/// The output file may be created or replaced: it is not a directory, a device or other special
/// file (a rename would replace the device node itself), nor a file this compile reads.
fn check_target(target: &Path, inputs: &[Input]) -> Result<(), Diagnostic> {
    let shown = target.display().to_string();
    let Ok(found) = std::fs::symlink_metadata(target) else { return Ok(()) };
    if found.is_dir() {
        return Err(Diagnostic::error(Code::Io, format!("`{shown}` is a directory")).with_help(
            "give a file name, e.g. `-o weights.safetensors`, or shards with `--max-shard-size 5GB -o DIR/`",
        ));
    }
    let Ok(followed) = std::fs::metadata(target) else { return Ok(()) };
    if !followed.is_file() {
        return Err(Diagnostic::error(
            Code::Io,
            format!("`{shown}` is {}, not a regular file", super::file_kind(&followed.file_type())),
        )
        .with_help("initc writes a new file and renames it over the output: give the path of a file"));
    }
    match inputs.iter().find(|input| output_set::same_file(target, &input.path)) {
        Some(input) => {
            let named = input.path.display().to_string();
            let also = if named == shown { String::new() } else { format!(" (`{named}`)") };
            Err(Diagnostic::error(Code::Io, format!("refusing to write to `{shown}`: it is {}{also}", input.role))
                .with_help("give another output path, e.g. `-o weights.safetensors`"))
        }
        None => Ok(()),
    }
}

/// The directory a path given for a file lies in, `.` for a bare name.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn write_single(plan: &Plan, path: &Path, inputs: &[Input], quiet: bool) -> Result<(), Diagnostic> {
    let shown = path.display().to_string();
    let directory = directory_of(path);
    if path.as_os_str().to_string_lossy().ends_with(std::path::is_separator) {
        return Err(Diagnostic::error(Code::Io, format!("`{shown}` names a directory, not a file")).with_help(
            "give a file name, e.g. `-o weights.safetensors`, or shards with `--max-shard-size 5GB -o DIR/`",
        ));
    }
    check_target(path, inputs)?;
    match std::fs::metadata(directory) {
        Ok(found) if found.is_dir() => {}
        Ok(found) => {
            return Err(Diagnostic::error(
                Code::Io,
                format!(
                    "cannot write `{shown}`: `{}` is {}, not a directory",
                    directory.display(),
                    super::file_kind(&found.file_type())
                ),
            )
            .with_help("give a path in an existing directory"));
        }
        Err(_) => {
            return Err(Diagnostic::error(
                Code::Io,
                format!("cannot write `{shown}`: the directory `{}` does not exist", directory.display()),
            )
            .with_help("create the directory first, or give a path in an existing one"));
        }
    }
    let all: Vec<usize> = (0..plan.tensors.len()).collect();
    let mut progress = Progress::new(emit::output_size(plan, &all).map_or(0, |size| size.total()), quiet);
    let mut set = OutputSet::in_directory(directory);
    let file = set.create(path.to_path_buf()).map_err(|error| io_failure(&shown, "write", &error))?;
    write_file(file, &shown, |mut out| {
        emit::write_safetensors_with_progress(plan, &mut out, &mut |bytes| progress.advance(bytes))
    })?;
    progress.finish();
    set.commit().map_err(|(target, error)| io_failure(&target.display().to_string(), "write", &error))
}

/// The directory `-o` names for shards, or for a Hugging Face checkpoint (the weights, with
/// config.json beside them, and transformers' own index when sharded).
struct Directory<'a> {
    path: &'a Path,
    pretrained: Option<&'a super::Pretrained>,
}

/// The file transformers reads a model's config from.
const PRETRAINED_CONFIG: &str = "config.json";

fn write_sharded(
    plan: &Plan,
    output: Directory,
    max_shard_size: u64,
    only: Option<usize>,
    inputs: &[Input],
    quiet: bool,
) -> Result<(), Diagnostic> {
    let directory = output.path;
    let shown = directory.display().to_string();
    let layout = emit::shard_layout(plan, max_shard_size).map_err(|error| {
        Diagnostic::error(Code::Io, format!("cannot lay out the shards: {}", io_reason(&error)))
            .with_help("check the tensor names and sizes with `initc summary`")
    })?;
    let selected = selected_shards(&layout, only)?;
    // `out/`, `out/.` and `out` are one directory; `file/` would otherwise look missing.
    let directory: PathBuf = directory.components().collect();
    let exists = match std::fs::metadata(&directory) {
        Ok(found) if found.is_dir() => true,
        Ok(found) => {
            return Err(Diagnostic::error(
                Code::Io,
                format!("`{shown}` is {}, not a directory", super::file_kind(&found.file_type())),
            )
            .with_help("with `--max-shard-size` or a Hugging Face config.json, `-o` names a directory"));
        }
        Err(_) => false,
    };
    let index = layout.is_sharded().then(|| match output.pretrained {
        Some(_) => layout.pretrained_index_json(plan),
        None => layout.index_json(plan),
    });
    let mut targets: Vec<PathBuf> = selected.iter().map(|shard| directory.join(&shard.file_name)).collect();
    let mut texts: Vec<&str> = Vec::new();
    if let Some((name, text)) = &index {
        targets.push(directory.join(name));
        texts.push(text);
    }
    if let Some(pretrained) = output.pretrained {
        targets.push(directory.join(PRETRAINED_CONFIG));
        texts.push(&pretrained.config_json);
    }
    for target in &targets {
        check_target(target, inputs)?;
    }
    let mut set = if exists {
        OutputSet::in_directory(&directory)
    } else {
        OutputSet::creating_directory(&directory).map_err(|error| io_failure(&shown, "create the directory", &error))?
    };
    write_shards(plan, &mut set, &selected, &targets, &texts, quiet)?;
    set.commit().map_err(|(target, error)| io_failure(&target.display().to_string(), "write", &error))
}

/// Every selected shard and then the text files (the index, config.json) (`targets`, in that
/// order) into the set's temporary files; the caller renames them into place once all are written
/// and validated.
fn write_shards(
    plan: &Plan,
    set: &mut OutputSet,
    selected: &[&emit::Shard],
    targets: &[PathBuf],
    texts: &[&str],
    quiet: bool,
) -> Result<(), Diagnostic> {
    let total =
        selected.iter().map(|shard| emit::output_size(plan, &shard.tensors).map_or(0, |size| size.total())).sum();
    let mut progress = Progress::new(total, quiet);
    // torch's stream is placed once for all the shards.
    let torch = crate::init::TorchTensors::draw(plan);
    for (shard, target) in selected.iter().zip(targets) {
        let shown = target.display().to_string();
        let file = set.create(target.clone()).map_err(|error| io_failure(&shown, "write", &error))?;
        write_file(file, &shown, |mut out| {
            emit::write_shard(plan, torch.as_ref(), shard, &mut out, &mut |bytes| progress.advance(bytes))
        })?;
    }
    progress.finish();
    for (target, text) in targets.iter().skip(selected.len()).zip(texts) {
        let shown = target.display().to_string();
        let mut file = set.create(target.clone()).map_err(|error| io_failure(&shown, "write", &error))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|error| io_failure(&shown, "write", &error))?;
    }
    Ok(())
}

/// Writes through `write` into `file` (a new temporary file), checks it is a valid safetensors
/// file and syncs it.
fn write_file(
    file: &File,
    shown: &str,
    write: impl FnOnce(&mut dyn emit::Sink) -> std::io::Result<()>,
) -> Result<(), Diagnostic> {
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
    validate(file).map_err(|error| io_failure(shown, "validate what was written to", &error))?;
    file.sync_all().map_err(|error| io_failure(shown, "write", &error))
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
