//! `initc diff A B`: compares two safetensors files (or sharded checkpoints) tensor by
//! tensor, reading both a block at a time. Exit 0 when equal within the tolerance, 1 when not,
//! 2 on error. The tolerance options, the reading of a golden file against tensors generated in
//! memory, and the printing are shared with `initc verify`.

use super::Outcome;
use super::inspect::{OutputFormat, read_failed};
use super::weights::{Progress, ReadError, WeightFiles, in_rounds};
use crate::inspect::{self, BlockBytes, Comparator, DiffReport, TensorComparison, TensorData, Tolerance};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The first file (a safetensors file, a checkpoint directory or its index).
    pub a: PathBuf,
    /// The second file, the reference for relative differences.
    pub b: PathBuf,
    #[command(flatten)]
    pub comparison: ComparisonArgs,
}

/// How two sets of tensors are compared and the result printed.
#[derive(Args, Debug)]
pub struct ComparisonArgs {
    /// Absolute tolerance: values are equal when |a − b| ≤ atol + rtol·|b|.
    #[arg(long, default_value_t = 0.0, value_name = "X")]
    pub atol: f64,
    /// Relative tolerance (relative to the second file's value).
    #[arg(long, default_value_t = 0.0, value_name = "Y")]
    pub rtol: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

impl ComparisonArgs {
    /// The tolerance, or exit code 2 with a diagnostic if either is negative or not finite.
    pub(super) fn tolerance(&self) -> Result<Tolerance, ExitCode> {
        super::api::tolerance(self.atol, self.rtol).map_err(|diagnostic| {
            super::print_diagnostics(&vec![diagnostic], None);
            Outcome::Failure.into()
        })
    }

    /// Prints the report; 0 when equal, 1 when not.
    pub(super) fn finish(&self, report: &DiffReport, left: &str, right: &str) -> ExitCode {
        match self.format {
            OutputFormat::Text => super::print_stdout(&inspect::diff_text(report, left, right)),
            OutputFormat::Json => super::print_stdout(&inspect::diff_json(report)),
        }
        if report.is_equal() { ExitCode::SUCCESS } else { Outcome::InputErrors.into() }
    }
}

pub fn run(args: &DiffArgs) -> ExitCode {
    let tolerance = match args.comparison.tolerance() {
        Ok(tolerance) => tolerance,
        Err(code) => return code,
    };
    let opened = WeightFiles::open(&args.a).and_then(|left| Ok((left, WeightFiles::open(&args.b)?)));
    let report = opened.and_then(|(left, right)| diff_files(&left, &right, tolerance, args.comparison.quiet));
    match report {
        Ok(report) => args.comparison.finish(&report, &args.a.display().to_string(), &args.b.display().to_string()),
        Err(error) => read_failed(error),
    }
}

/// Elements compared per block (each side's bytes of a block are read by the thread that
/// compares them).
const ELEMENTS_PER_BLOCK: usize = 64 * 1024;
/// Blocks per round, the unit of progress.
const BLOCKS_PER_ROUND: usize = 32;

/// Compares two sets of tensors read from files, by name.
fn diff_files(
    left: &WeightFiles,
    right: &WeightFiles,
    tolerance: Tolerance,
    quiet: bool,
) -> Result<DiffReport, ReadError> {
    let names = |weights: &WeightFiles| weights.tensors.iter().map(|tensor| tensor.entry.name.clone()).collect();
    let (left_names, right_names): (Vec<String>, Vec<String>) = (names(left), names(right));
    let (only_left, only_right, pairs) =
        inspect::match_names(left_names.iter().map(String::as_str), right_names.iter().map(String::as_str));
    let total = pairs
        .iter()
        .map(|&(left_index, right_index)| {
            left.tensors[left_index].entry.length + right.tensors[right_index].entry.length
        })
        .sum();
    let mut progress = Progress::new(total, quiet);
    let mut compared = Vec::with_capacity(pairs.len());
    for (left_index, right_index) in pairs {
        let (a, b) = (&left.tensors[left_index].entry, &right.tensors[right_index].entry);
        let sides = ((a.dtype, a.shape.as_slice()), (b.dtype, b.shape.as_slice()));
        let difference = match Comparator::start(sides.0, sides.1, tolerance) {
            Err(difference) => difference,
            Ok(mut comparator) => {
                let (left_width, right_width) = comparator.widths();
                let elements = (a.length / left_width as u64).min(b.length / right_width as u64);
                let range = |block: usize, width: usize| {
                    let from = (block * ELEMENTS_PER_BLOCK * width) as u64;
                    (from, (from + (ELEMENTS_PER_BLOCK * width) as u64).min(elements * width as u64))
                };
                let blocks = elements.div_ceil(ELEMENTS_PER_BLOCK as u64) as usize;
                in_rounds(blocks, BLOCKS_PER_ROUND, |round| {
                    // The round's bytes of each side: its first block's start, its last block's end.
                    let span = |width| (range(round.start, width).0, range(round.end - 1, width).1);
                    let (left_span, right_span) = (span(left_width), span(right_width));
                    let left_window = left.window(left_index, left_span.0, left_span.1)?;
                    let right_window = right.window(right_index, right_span.0, right_span.1)?;
                    let fill = |block: usize, a: &mut Vec<u8>, b: &mut Vec<u8>| {
                        let (from, to) = range(block, left_width);
                        let a = left.block(left_index, left_window.as_ref().map(|w| (w, left_span.0)), from, to, a)?;
                        let (from, to) = range(block, right_width);
                        let b =
                            right.block(right_index, right_window.as_ref().map(|w| (w, right_span.0)), from, to, b)?;
                        Ok((a, b))
                    };
                    comparator.feed_blocks(round.clone(), ELEMENTS_PER_BLOCK, fill)?;
                    progress.advance(left_span.1 - left_span.0 + right_span.1 - right_span.0);
                    Ok(())
                })?;
                comparator.finish()
            }
        };
        compared.push(TensorComparison::new(&a.name, sides.0, sides.1, difference));
    }
    progress.finish();
    Ok(DiffReport { only_left, only_right, compared, tolerance })
}

/// Compares tensors made in memory one at a time (`load_left(index)` for `left_names[index]`)
/// with a golden set read from files, by name.
pub(super) fn diff_generated<'l>(
    left_names: &[String],
    mut load_left: impl FnMut(usize) -> TensorData<'l>,
    right: &WeightFiles,
    tolerance: Tolerance,
    quiet: bool,
) -> Result<DiffReport, ReadError> {
    let right_names: Vec<&str> = right.tensors.iter().map(|tensor| tensor.entry.name.as_str()).collect();
    let (only_left, only_right, pairs) =
        inspect::match_names(left_names.iter().map(String::as_str), right_names.iter().copied());
    let total = pairs.iter().map(|&(_, right_index)| right.tensors[right_index].entry.length).sum();
    let mut progress = Progress::new(total, quiet);
    let mut compared = Vec::with_capacity(pairs.len());
    for (left_index, right_index) in pairs {
        let generated = load_left(left_index);
        let golden = &right.tensors[right_index].entry;
        let sides = ((generated.dtype, generated.shape.as_slice()), (golden.dtype, golden.shape.as_slice()));
        let difference = match Comparator::start(sides.0, sides.1, tolerance) {
            Err(difference) => difference,
            Ok(mut comparator) => {
                let (left_width, right_width) = comparator.widths();
                let elements = (generated.bytes.len() / left_width).min((golden.length / right_width as u64) as usize);
                let range = |block: usize, width: usize| {
                    let from = block * ELEMENTS_PER_BLOCK * width;
                    (from, (from + ELEMENTS_PER_BLOCK * width).min(elements * width))
                };
                in_rounds(elements.div_ceil(ELEMENTS_PER_BLOCK), BLOCKS_PER_ROUND, |round| {
                    let span = (range(round.start, right_width).0 as u64, range(round.end - 1, right_width).1 as u64);
                    let window = right.window(right_index, span.0, span.1)?;
                    let fill = |block: usize, _: &mut Vec<u8>, b: &mut Vec<u8>| {
                        let (from, to) = range(block, left_width);
                        let a = BlockBytes::Borrowed(&generated.bytes[from..to]);
                        let (from, to) = range(block, right_width);
                        let b = right.block(
                            right_index,
                            window.as_ref().map(|w| (w, span.0)),
                            from as u64,
                            to as u64,
                            b,
                        )?;
                        Ok((a, b))
                    };
                    comparator.feed_blocks(round.clone(), ELEMENTS_PER_BLOCK, fill)?;
                    progress.advance(span.1 - span.0);
                    Ok(())
                })?;
                comparator.finish()
            }
        };
        compared.push(TensorComparison::new(&generated.name, sides.0, sides.1, difference));
    }
    progress.finish();
    Ok(DiffReport { only_left, only_right, compared, tolerance })
}
