//! `initc verify model.yaml --golden FILE`: compiles the config in memory, one tensor at a
//! time (no file is written), and compares it with a golden file as `initc diff` does.
//! Exit 0 when equal within the tolerance, 1 when not, 2 on any error (the config's included).

use super::diff::ComparisonArgs;
use super::{ModelArgs, Outcome, api};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(mut_arg("rtol", |arg| arg.help("Relative tolerance, as a fraction of the golden file's value")))]
#[command(mut_arg("atol", |arg| arg.help("Absolute tolerance: values are equal when |compiled − golden| ≤ atol + rtol·|golden|")))]
pub struct VerifyArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The expected weights (a safetensors file, a checkpoint directory or its index).
    #[arg(long, value_name = "FILE")]
    pub golden: PathBuf,
    #[command(flatten)]
    pub comparison: ComparisonArgs,
}

pub fn run(args: &VerifyArgs) -> ExitCode {
    let tolerance = match args.comparison.tolerance() {
        Ok(tolerance) => tolerance,
        Err(code) => return code,
    };
    // A config that does not compile is an error here, not a difference.
    let prepared = match super::prepare_printing(&args.model) {
        Ok(prepared) => prepared,
        Err(_) => return Outcome::Failure.into(),
    };
    match api::verify(&prepared, &args.golden, tolerance, args.comparison.quiet) {
        Ok(report) => args.comparison.finish(
            &report,
            &args.model.config.display().to_string(),
            &args.golden.display().to_string(),
        ),
        Err(failure) => failure.report().into(),
    }
}
