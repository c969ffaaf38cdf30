//! `initc inspect`: statistics (and histograms, and a figure of them) of every tensor of a
//! safetensors file or a sharded checkpoint directory, read once, a block at a time (see
//! [`super::weights`]). Also the printing of read errors `diff` and `verify` share.

use super::weights::{Progress, ReadError, WeightFiles, in_rounds};
use super::{Outcome, io_reason, print_diagnostics};
use crate::diagnostic::{Code, Diagnostic};
use crate::inspect::{self, Binner, BlockBytes, Measurement, TensorReport};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Prefix of initc's per-tensor metadata keys.
const INITIALIZER_KEY_PREFIX: &str = "initc.initializer.";
/// Bins of the histograms `--hist` prints and `--plot` draws, unless `--bins` says otherwise.
const DEFAULT_BINS: u16 = 24;
/// Panels `--plot` draws at most, unless `--max-panels` says otherwise.
const DEFAULT_MAX_PANELS: u16 = 24;

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// A safetensors file, a sharded checkpoint directory (with model.safetensors.index.json),
    /// or the index file itself.
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Add a histogram per tensor (drawn in the terminal; `histogram` in JSON).
    #[arg(long)]
    pub hist: bool,
    /// Histogram bins.
    #[arg(long, default_value_t = DEFAULT_BINS, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub bins: u16,
    /// Only the tensors whose names match this pattern (`*` any characters, `?` one, `[ab]` one
    /// of); repeat it for several. E.g. `--tensors 'model.layers.0.*'`.
    #[arg(long, value_name = "PATTERN")]
    pub tensors: Vec<String>,
    /// Write a figure of the histograms to this file (`.svg` or `.png`): one panel per tensor,
    /// with the density its initializer implies, for at most `--max-panels` tensors.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Panels `--plot` draws at most (the first tensors listed; pick others with `--tensors`).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PANELS,
          value_parser = clap::value_parser!(u16).range(1..=inspect::MAX_PANELS as i64))]
    pub max_panels: u16,
    /// No progress bar and no notes on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Prints a diagnostic for a failure that is not about an input file's contents.
pub(super) fn fail(message: String, help: &str) -> ExitCode {
    print_diagnostics(&vec![Diagnostic::error(Code::Io, message).with_help(help)], None);
    Outcome::Failure.into()
}

/// Prints a read error (exit 2).
pub(super) fn read_failed(error: ReadError) -> ExitCode {
    print_diagnostics(&vec![error.diagnostic()], None);
    Outcome::Failure.into()
}

#[derive(Clone, Copy)]
enum PlotFormat {
    Svg,
    Png,
}

pub fn run(args: &InspectArgs) -> ExitCode {
    let plot = match &args.plot {
        None => None,
        Some(path) => match path.extension().and_then(|ext| ext.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("svg") => Some((path, PlotFormat::Svg)),
            Some("png") => Some((path, PlotFormat::Png)),
            _ => {
                let message = format!("`--plot {}`: the figure's file name must end in .svg or .png", path.display());
                return fail(message, "e.g. `--plot histograms.svg`");
            }
        },
    };
    let patterns: Result<Vec<glob::Pattern>, _> =
        args.tensors.iter().map(|text| glob::Pattern::new(text).map_err(|error| (text, error))).collect();
    let patterns = match patterns {
        Ok(patterns) => patterns,
        Err((text, error)) => {
            return fail(
                format!("`--tensors {text}` is not a pattern: {}", error.msg),
                "`*` matches any characters, `?` one, `[ab]` one of a and b; e.g. `--tensors 'layers.0.*'`",
            );
        }
    };
    let weights = match WeightFiles::open(&args.path) {
        Ok(weights) => weights,
        Err(error) => return read_failed(error),
    };
    let selected = select(&weights, &patterns);
    if selected.is_empty() && !patterns.is_empty() {
        let example = weights.tensors.first().map(|tensor| inspect::printable(&tensor.entry.name).into_owned());
        return fail(
            format!("no tensor of `{}` matches `--tensors {}`", args.path.display(), args.tensors.join(" --tensors ")),
            &match example {
                Some(example) => format!("names look like `{example}`; `*` matches any characters"),
                None => "the file holds no tensor".to_string(),
            },
        );
    }
    let bins = (args.hist || plot.is_some()).then_some(usize::from(args.bins));
    let mut reports = match measure(&weights, &selected, bins, args.quiet) {
        Ok(reports) => reports,
        Err(error) => return read_failed(error),
    };
    if let Some((path, format)) = plot {
        let panels = &reports[..reports.len().min(usize::from(args.max_panels))];
        if panels.len() < reports.len() && !args.quiet {
            eprintln!(
                "note: the figure shows the first {} of {} tensors; choose others with `--tensors PATTERN` or raise `--max-panels`",
                panels.len(),
                reports.len()
            );
        }
        let bytes = match format {
            PlotFormat::Svg => inspect::svg_figure(panels).map(String::into_bytes),
            PlotFormat::Png => inspect::png_figure(panels),
        };
        let written = bytes.and_then(|bytes| write_atomically(path, &bytes));
        if let Err(message) = written {
            return fail(message, "check that the directory exists and is writable, and that the disk has room");
        }
    }
    if !args.hist {
        reports.iter_mut().for_each(|report| report.histogram = None);
    }
    match args.format {
        OutputFormat::Text => super::print_stdout(&inspect::inspect_text(&reports)),
        OutputFormat::Json => super::print_stdout(&inspect::inspect_json(&reports)),
    }
    Outcome::Success.into()
}

/// Indices of the tensors matching any pattern (all without patterns), in listing order.
fn select(weights: &WeightFiles, patterns: &[glob::Pattern]) -> Vec<usize> {
    (0..weights.tensors.len())
        .filter(|&index| {
            patterns.is_empty() || patterns.iter().any(|pattern| pattern.matches(&weights.tensors[index].entry.name))
        })
        .collect()
}

/// Blocks per round, the unit of progress: about 4 to 32 MiB.
const BLOCKS_PER_ROUND: usize = 64;
/// Rounds are longer when bit patterns are counted: each parallel split adds a table of 65,536
/// counts into the totals once per round.
const BLOCKS_PER_ROUND_COUNTING: usize = 256;

/// Measures the `selected` tensors: one pass each, a second for the histogram of a dtype wider
/// than 16 bits (usually still in the page cache).
fn measure(
    weights: &WeightFiles,
    selected: &[usize],
    bins: Option<usize>,
    quiet: bool,
) -> Result<Vec<TensorReport>, ReadError> {
    let total: u64 = selected
        .iter()
        .map(|&index| {
            let entry = &weights.tensors[index].entry;
            match inspect::element_bytes(entry.dtype) {
                Some(width) if bins.is_some() && width > 2 => 2 * entry.length,
                Some(_) => entry.length,
                None => 0,
            }
        })
        .sum();
    let mut progress = Progress::new(total, quiet);
    let mut reports = Vec::with_capacity(selected.len());
    for &index in selected {
        let entry = &weights.tensors[index].entry;
        let (stats, histogram) = match Measurement::new(entry.dtype) {
            None => (None, None),
            Some(mut measurement) => {
                let per_round = if measurement.counts_codes() { BLOCKS_PER_ROUND_COUNTING } else { BLOCKS_PER_ROUND };
                let block_bytes = measurement.block_bytes() as u64;
                read_blocks(weights, index, block_bytes, per_round, &mut progress, |blocks, fill| {
                    measurement.feed_blocks(blocks, fill)
                })?;
                let measured = measurement.finish();
                let histogram = match bins {
                    Some(bins) if measured.needs_binner() => match Binner::new(entry.dtype, &measured.stats, bins) {
                        Some(mut binner) => {
                            let block_bytes = binner.block_bytes() as u64;
                            read_blocks(
                                weights,
                                index,
                                block_bytes,
                                BLOCKS_PER_ROUND,
                                &mut progress,
                                |blocks, fill| binner.feed_blocks(blocks, fill),
                            )?;
                            Some(binner.finish())
                        }
                        None => None,
                    },
                    Some(bins) => measured.histogram(bins),
                    None => None,
                };
                (Some(measured.stats), histogram)
            }
        };
        let label = weights.metadata.get(&format!("{INITIALIZER_KEY_PREFIX}{}", entry.name));
        reports.push(TensorReport::new(
            &entry.name,
            entry.dtype,
            &entry.shape,
            stats,
            label.map(String::as_str),
            histogram,
        ));
    }
    progress.finish();
    Ok(reports)
}

/// Hands `feed` tensor `index`'s blocks of `block_bytes` in rounds, with the function that gives
/// a block's bytes (from the round's mapping, or read into the thread's buffer), and advances
/// the progress bar.
fn read_blocks(
    weights: &WeightFiles,
    index: usize,
    block_bytes: u64,
    per_round: usize,
    progress: &mut Progress,
    mut feed: impl FnMut(std::ops::Range<usize>, &Fill<'_>) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let length = weights.tensors[index].entry.length;
    let blocks = length.div_ceil(block_bytes) as usize;
    in_rounds(blocks, per_round, |round| {
        let (from, to) = (round.start as u64 * block_bytes, (round.end as u64 * block_bytes).min(length));
        let window = weights.window(index, from, to)?;
        let fill = |block: usize, buffer: &mut Vec<u8>| {
            let start = block as u64 * block_bytes;
            weights.block(index, window.as_ref().map(|window| (window, from)), start, start + block_bytes, buffer)
        };
        feed(round.clone(), &fill)?;
        progress.advance(to - from);
        Ok(())
    })
}

/// Gives block `i`'s bytes, borrowed from a mapping or read into the buffer.
type Fill<'w> = dyn Fn(usize, &mut Vec<u8>) -> Result<BlockBytes<'w>, ReadError> + Sync + 'w;

/// Writes `bytes` to `path` through a temporary file in the same directory, synced and then
/// renamed over it: a failure (a full disk, say) leaves an existing file as it was and no new one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let shown = path.display();
    if path.is_dir() {
        return Err(format!("cannot write `{shown}`: it is a directory"));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let cannot = |error: std::io::Error| format!("cannot write `{shown}`: {}", io_reason(&error));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".initc-").suffix(".tmp");
    // The figure keeps an existing file's permissions; a new one gets the usual 0644 (less the umask).
    match std::fs::metadata(path) {
        Ok(existing) => {
            builder.permissions(existing.permissions());
        }
        #[cfg(unix)]
        Err(_) => {
            builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        }
        #[cfg(not(unix))]
        Err(_) => {}
    }
    let mut temporary = builder.tempfile_in(directory).map_err(cannot)?;
    if let Ok(existing) = std::fs::metadata(path) {
        // Exactly, past the umask.
        let _ = temporary.as_file().set_permissions(existing.permissions());
    }
    temporary.write_all(bytes).and_then(|()| temporary.as_file().sync_all()).map_err(cannot)?;
    temporary.persist(path).map_err(|error| cannot(error.error))?;
    Ok(())
}
