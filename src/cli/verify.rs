//! `initc verify model.yaml --golden FILE`: compiles the config in memory, one tensor at a
//! time (no file is written), and compares it with a golden file as `initc diff` does.
//! Exit 0 when equal within the tolerance, 1 when not, 2 on any error (the config's included).

use super::diff::{ComparisonArgs, diff_generated};
use super::inspect::read_failed;
use super::weights::WeightFiles;
use super::{ModelArgs, Outcome, load_plan};
use crate::inspect::TensorData;
use crate::plan::TensorSpec;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The expected weights (a safetensors file, a checkpoint directory or its index).
    #[arg(long, value_name = "FILE")]
    pub golden: PathBuf,
    #[command(flatten)]
    pub comparison: ComparisonArgs,
}

/// One tensor's values as `write_safetensors` would write them.
fn generated(spec: &TensorSpec, seed: u64) -> TensorData<'static> {
    let values = crate::init::generate(spec, seed);
    let bytes: Vec<u8> = values.iter().flat_map(|value| value.to_le_bytes()).collect();
    TensorData {
        name: spec.name.clone(),
        dtype: safetensors::Dtype::F32,
        shape: spec.shape.clone(),
        bytes: bytes.into(),
    }
}

pub fn run(args: &VerifyArgs) -> ExitCode {
    let tolerance = match args.comparison.tolerance() {
        Ok(tolerance) => tolerance,
        Err(code) => return code,
    };
    // A config that does not compile is an error here, not a difference.
    let plan = match load_plan(&args.model) {
        Ok((plan, _)) => plan,
        Err(_) => return Outcome::Failure.into(),
    };
    let report = WeightFiles::open(&args.golden).and_then(|golden| {
        let names: Vec<String> = plan.tensors.iter().map(|spec| spec.name.clone()).collect();
        let generate = |index| generated(&plan.tensors[index], plan.seed);
        diff_generated(&names, generate, &golden, tolerance, args.comparison.quiet)
    });
    match report {
        Ok(report) => args.comparison.finish(
            &report,
            &args.model.config.display().to_string(),
            &args.golden.display().to_string(),
        ),
        Err(error) => read_failed(error),
    }
}
