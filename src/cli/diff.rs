//! `initc diff A B`: compares two safetensors files (or sharded checkpoints) tensor by
//! tensor. Exit 0 when equal within the tolerance, 1 when not, 2 on error. The tolerance
//! options and the printing are shared with `initc verify`.

use super::Outcome;
use super::inspect::{OutputFormat, fail, with_weights};
use crate::inspect::{self, DiffReport, Tolerance};
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
    let report = with_weights(&args.a, |left| {
        with_weights(&args.b, |right| {
            let names: Vec<String> = left.tensors.iter().map(|tensor| tensor.name.clone()).collect();
            inspect::diff_tensors(&names, |index| left.tensors[index].clone(), &right.tensors, tolerance)
        })
    });
    match report {
        Ok(Ok(report)) => args.comparison.finish(&report, &args.a.display().to_string(), &args.b.display().to_string()),
        Ok(Err(outcome)) | Err(outcome) => outcome.into(),
    }
}
