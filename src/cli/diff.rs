//! `initc diff A B`: compares two safetensors files (or sharded checkpoints) tensor by
//! tensor, reading both a piece at a time. Exit 0 when equal within the tolerance, 1 when not,
//! 2 on error. The tolerance options, the reading of a golden file against tensors generated in
//! memory, and the printing are shared with `initc verify`.

use super::Outcome;
use super::inspect::{OutputFormat, fail, read_failed};
use super::weights::{CHUNK_BYTES, Piece, Progress, ReadError, WeightFiles, read_ahead};
use crate::inspect::{self, Comparator, DiffReport, TensorComparison, TensorData, TensorDifference, Tolerance};
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
        for (flag, value) in [("--atol", self.atol), ("--rtol", self.rtol)] {
            if !value.is_finite() || value < 0.0 {
                return Err(fail(
                    format!("`{flag} {value}` is not a tolerance"),
                    "give a finite number ≥ 0, e.g. 1e-6",
                ));
            }
        }
        Ok(Tolerance { absolute: self.atol, relative: self.rtol })
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

/// Elements compared per request: about `CHUNK_BYTES` of both sides together, in whole blocks
/// of 16 Ki elements.
fn elements_per_request(widths: (usize, usize)) -> u64 {
    const BLOCK: u64 = 16 * 1024;
    (CHUNK_BYTES as u64 / (widths.0 + widths.1) as u64 / BLOCK).max(1) * BLOCK
}

/// One pair's requests: element ranges of both tensors.
struct PairPlan {
    pair: usize,
    elements: u64,
    per_request: u64,
    widths: (usize, usize),
    left: usize,
    right: usize,
}

/// Compares two sets of tensors read from files, by name, every pair's pieces read ahead
/// together.
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
    let mut results: Vec<Option<TensorComparison>> = Vec::with_capacity(pairs.len());
    let mut comparators: Vec<Option<Comparator>> = Vec::with_capacity(pairs.len());
    let mut plans = Vec::new();
    for (pair, &(left_index, right_index)) in pairs.iter().enumerate() {
        let (a, b) = (&left.tensors[left_index].entry, &right.tensors[right_index].entry);
        match Comparator::start((a.dtype, &a.shape), (b.dtype, &b.shape), tolerance) {
            Err(difference) => {
                results.push(Some(TensorComparison::new(
                    &a.name,
                    (a.dtype, &a.shape),
                    (b.dtype, &b.shape),
                    difference,
                )));
                comparators.push(None);
            }
            Ok(comparator) => {
                let widths = comparator.widths();
                let elements = (a.length / widths.0 as u64).min(b.length / widths.1 as u64);
                plans.push(PairPlan {
                    pair,
                    elements,
                    per_request: elements_per_request(widths),
                    widths,
                    left: left_index,
                    right: right_index,
                });
                results.push(None);
                comparators.push(Some(comparator));
            }
        }
    }
    let total = plans.iter().map(|plan| plan.elements * (plan.widths.0 + plan.widths.1) as u64).sum();
    let requests = plans.iter().flat_map(|plan| {
        (0..plan.elements).step_by(plan.per_request as usize).map(move |start| {
            let end = (start + plan.per_request).min(plan.elements);
            let (left_width, right_width) = (plan.widths.0 as u64, plan.widths.1 as u64);
            let pieces: Vec<Piece<'_>> = left
                .pieces(plan.left, start * left_width, end * left_width, u64::MAX)
                .chain(right.pieces(plan.right, start * right_width, end * right_width, u64::MAX))
                .collect();
            ((plan.pair, ((end - start) * left_width) as usize), pieces)
        })
    });
    let mut progress = Progress::new(total, quiet);
    read_ahead(requests, &mut progress, |(pair, split), bytes| {
        if let Some(comparator) = &mut comparators[pair] {
            comparator.feed(&bytes[..split], &bytes[split..]);
        }
        Ok(())
    })?;
    progress.finish();
    let compared = pairs
        .iter()
        .zip(results)
        .zip(comparators)
        .map(|((&(left_index, right_index), result), comparator)| {
            let (a, b) = (&left.tensors[left_index].entry, &right.tensors[right_index].entry);
            let difference = match (result, comparator) {
                (Some(result), _) => return result,
                (None, Some(comparator)) => comparator.finish(),
                (None, None) => TensorDifference::Incomparable,
            };
            TensorComparison::new(&a.name, (a.dtype, &a.shape), (b.dtype, &b.shape), difference)
        })
        .collect();
    Ok(DiffReport { only_left, only_right, compared, tolerance })
}

/// Compares tensors made in memory one at a time (`load_left(index)` for `left_names[index]`)
/// with a golden set read from files, by name; each golden tensor is read ahead in pieces while
/// the previous piece is compared.
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
                let widths = comparator.widths();
                let elements = (generated.bytes.len() / widths.0).min((golden.length / widths.1 as u64) as usize);
                let per_request = elements_per_request(widths) as usize;
                let requests = (0..elements).step_by(per_request).map(|start| {
                    let end = (start + per_request).min(elements);
                    let pieces =
                        right.pieces(right_index, (start * widths.1) as u64, (end * widths.1) as u64, u64::MAX);
                    ((start, end), pieces.collect::<Vec<_>>())
                });
                read_ahead(requests, &mut progress, |(start, end), bytes| {
                    comparator.feed(&generated.bytes[start * widths.0..end * widths.0], bytes);
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
