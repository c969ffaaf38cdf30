//! `truncation-never-binds` (W0705): a truncated normal so narrow that f32 cannot tell its
//! bounds apart, so truncation never changes a value and every element equals the mean.
//!
//! **What:** warns when a truncated normal (`truncated_normal`, or a `variance_scaling`,
//! `glorot_normal`, `he_normal` or `lecun_normal` drawing from one) has bounds
//! `mean ± 2·stddev` that round to the same f32. The rule is exact: a draw lies between the
//! bounds, f32 rounding is monotonic, so every element rounds to that one value.
//!
//! **Why:** the config asks for a random tensor and gets a constant one: truncation, the
//! stddev and the seed all have no effect on the output, and the units of the layer start
//! identical (see `constant-kernel`). It usually means a stddev written with the wrong
//! exponent (`1e-9` for `1e-3`), or a mean so large that the spread is below its f32 spacing.
//!
//! **Example:**
//! ```yaml
//! layers:
//!   - dense: {units: 8, bias_initializer: "truncated_normal(mean=1, stddev=1e-9)"}
//! ```
//! Every bias is exactly `1.0`. Use `stddev` well above the f32 spacing at the mean (about
//! `6e-8` at 1), or write `constant(value=1)` if a constant is meant.
//!
//! A truncated normal with a sensible stddev always binds in practice (about 4.6% of draws fall
//! outside 2σ and are redrawn), so no other case is reported.

use crate::Stages;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::initializers::{Distribution, Initializer, TruncatedNormal, VarianceScaling};
use crate::lint::LintOptions;
use crate::random::TRUNCATED_STDDEV_CORRECTION;

pub fn check(stages: &Stages, _options: &LintOptions) -> Diagnostics {
    let mut found = Vec::new();
    for tensor in &stages.plan.tensors {
        let (mean, stddev) = match tensor.initializer {
            Initializer::TruncatedNormal(TruncatedNormal { mean, stddev, .. }) => (mean, stddev),
            Initializer::VarianceScaling(VarianceScaling {
                scale,
                mode,
                distribution: Distribution::TruncatedNormal,
                ..
            }) => (0.0, (scale / mode.fan(tensor.fans).max(1.0)).sqrt() / TRUNCATED_STDDEV_CORRECTION),
            _ => continue,
        };
        let (low, high) = ((mean - 2.0 * stddev) as f32, (mean + 2.0 * stddev) as f32);
        if low != high {
            continue;
        }
        let spacing = f64::from(low.abs().next_up()) - f64::from(low.abs());
        found.push(
            Diagnostic::of(
                Code::TruncationNeverBinds,
                format!(
                    "`{}`: the truncation bounds {mean} ± {:e} round to one f32, so every element is {low}",
                    tensor.name,
                    2.0 * stddev
                ),
            )
            .at_labelled(tensor.origin, format!("`{}`", tensor.initializer_label))
            .with_help(format!(
                "use a stddev well above the f32 spacing at the mean ({spacing:.1e}), or `constant(value={low})` if a constant is meant"
            )),
        );
    }
    found
}
