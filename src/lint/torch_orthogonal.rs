//! `torch-orthogonal-tolerance` (N0707): an `orthogonal` tensor under `rng: torch`, whose values
//! equal torch's `orthogonal_` only within a tolerance, not byte for byte.
//!
//! **What:** notes each tensor that `rng: torch` draws with torch's `orthogonal_`. Its input is
//! torch's exactly (the `normal_` matrix, and every later tensor's draws from the same generator
//! state), but torch then runs LAPACK's QR, whose bits depend on the LAPACK build, its SIMD
//! paths and the thread count. initc computes the same Q in f64 and rounds it: measured against
//! torch 2.15 (MKL), every value is within 1e-5·|gain| of torch's in f32 and 1e-13·|gain| in f64
//! (torch itself differs by up to 4e-6 between one and two threads). Every other tensor of the
//! file is still byte-equal to torch's.
//!
//! **Why:** the point of `rng: torch` is torch's exact bytes; this tensor has torch's values to
//! float tolerance instead, so a byte comparison (`cmp`, a checksum, `verify` without a
//! tolerance) against a torch checkpoint fails on it.
//!
//! **Example:**
//! ```yaml
//! rng: torch
//! input: [16]
//! layers:
//!   - dense: {units: 32, kernel_initializer: orthogonal}
//! ```
//! Compare it with a tolerance (`initc verify … --rng torch --atol 1e-5`), or use an initializer
//! torch reproduces bit for bit if the bytes matter.

use crate::Stages;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::lint::LintOptions;
use crate::random::torch::TorchInit;
use crate::tensor::{DType, Rng};

/// The largest difference measured from torch's `orthogonal_`, per unit of gain.
pub fn tolerance(dtype: DType) -> f64 {
    if dtype == DType::F64 { 1e-13 } else { 1e-5 }
}

pub fn check(stages: &Stages, _options: &LintOptions) -> Diagnostics {
    let plan = &stages.plan;
    if plan.rng != Rng::Torch {
        return Vec::new();
    }
    let mut found = Vec::new();
    for step in &plan.torch_steps {
        let (TorchInit::Orthogonal { gain }, Some(index)) = (step.init, step.tensor) else { continue };
        let Some(tensor) = plan.tensors.get(index) else { continue };
        let bound = tolerance(tensor.dtype) * gain.abs();
        found.push(
            Diagnostic::of(
                Code::TorchOrthogonal,
                format!(
                    "`{}`: torch's `orthogonal_` runs LAPACK's QR, so its values equal torch's only within {bound:e}, not byte for byte",
                    tensor.name
                ),
            )
            .at_labelled(tensor.origin, format!("`{}`", tensor.initializer_label))
            .with_help(format!(
                "the input matrix and every other tensor are torch's exact draws; compare with a tolerance (`initc verify --rng torch --atol {bound:e}`), or use an initializer torch reproduces bit for bit"
            )),
        );
    }
    found
}
