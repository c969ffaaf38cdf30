//! `initc verify model.yaml --golden FILE`: compiles the config in memory, one tensor at a
//! time (no file is written), and compares it with a golden file as `initc diff` does.
//! Exit 0 when equal within the tolerance, 1 when not, 2 on any error (the config's included).

use super::diff::{ComparisonArgs, diff_generated};
use super::inspect::read_failed;
use super::weights::WeightFiles;
use super::{ModelArgs, Outcome, load_plan};
use crate::inspect::TensorData;
use crate::plan::{DType, TensorSpec};
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

/// One tensor's bytes as `write_safetensors` writes them, in the tensor's own dtype (`--dtype`,
/// or torch's `I64` counter).
fn generated(spec: &TensorSpec, seed: u64) -> TensorData<'static> {
    let bytes = super::memory_budget::bytes_or_exit(spec, seed);
    TensorData {
        name: spec.name.clone(),
        dtype: stored_dtype(spec.dtype),
        shape: spec.shape.clone(),
        bytes: bytes.into(),
    }
}

fn stored_dtype(dtype: DType) -> safetensors::Dtype {
    match dtype {
        DType::F32 => safetensors::Dtype::F32,
        DType::F16 => safetensors::Dtype::F16,
        DType::BF16 => safetensors::Dtype::BF16,
        DType::F64 => safetensors::Dtype::F64,
        DType::I64 => safetensors::Dtype::I64,
        DType::I32 => safetensors::Dtype::I32,
    }
}

pub fn run(args: &VerifyArgs) -> ExitCode {
    let tolerance = match args.comparison.tolerance() {
        Ok(tolerance) => tolerance,
        Err(code) => return code,
    };
    // A config that does not compile is an error here, not a difference.
    let Ok((plan, file)) = load_plan(&args.model) else { return Outcome::Failure.into() };
    if super::memory_budget::check(&plan, &file, super::memory_budget::Purpose::Verify).is_err() {
        return Outcome::Failure.into();
    }
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
