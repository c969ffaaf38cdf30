//! `output-too-large` (E0602): the safetensors file would be larger than allowed.
//!
//! **What:** an error when the output file (header and data, exactly as `compile` writes it)
//! would take more bytes than `--max-size`, or, by default, than the free space of the
//! filesystem it is written to. Checked before anything is generated.
//!
//! **Why:** a GPT-sized config is a one-character edit away from hundreds of gigabytes;
//! finding out after an hour of generating, from a full disk, is the worst time.
//!
//! **Example:**
//! ```yaml
//! # initc lint model.yaml --max-size 1G
//! vars: {d: 65536}
//! input: [d]
//! layers: [{dense: {units: d}}]   # 17 GB of kernel
//! ```
//! Shrink the model, write somewhere with more room, or raise `--max-size`.

use crate::Stages;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::lint::LintOptions;
use crate::plan::Plan;

/// The most bytes the output may take, and where that limit comes from (for the message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputBudget {
    pub bytes: u64,
    /// e.g. "`--max-size 1G`" or "the free space in `out/`".
    pub source: String,
}

/// The size of the safetensors file `compile` writes for `plan`: the 8-byte length, the header
/// padded to a multiple of 8, and the data. `None` if it overflows or cannot be laid out.
pub fn output_bytes(plan: &Plan) -> Option<u64> {
    let header = crate::emit::header_json(plan).len() as u64;
    if header == 0 {
        return None;
    }
    let data = plan.tensors.iter().try_fold(0u64, |total, tensor| {
        let elements = tensor.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d as u64))?;
        total.checked_add(elements.checked_mul(tensor.dtype.size_bytes() as u64)?)
    })?;
    8u64.checked_add(header.div_ceil(8) * 8)?.checked_add(data)
}

/// Parses a size: bytes (`1500`), or a number with a unit: `k`, `M`, `G`, `T` (powers of 1000,
/// an optional `B` after them) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024). Case-insensitive.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        _ => return None,
    };
    let bytes = (number * factor).round();
    (bytes.is_finite() && bytes >= 0.0 && bytes <= u64::MAX as f64).then_some(bytes as u64)
}

/// A byte count for people: `512 B`, `1.5 kB`, `17.2 GB` (powers of 1000).
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

pub fn check(stages: &Stages, options: &LintOptions) -> Diagnostics {
    let Some(budget) = &options.output_budget else { return Vec::new() };
    too_large(stages.plan, budget).into_iter().collect()
}

/// E0602 when `plan`'s output would not fit in `budget`; `compile` asks this before it writes.
pub fn too_large(plan: &Plan, budget: &OutputBudget) -> Option<Diagnostic> {
    let bytes = output_bytes(plan)?;
    if bytes <= budget.bytes {
        return None;
    }
    let message = format!(
        "the output would take {} ({bytes} bytes), more than {} ({} bytes)",
        size_text(bytes),
        budget.source,
        budget.bytes
    );
    let mut diagnostic = Diagnostic::of(Code::OutputTooLarge, message);
    if let Some(largest) = plan.tensors.iter().max_by_key(|tensor| tensor.element_count()) {
        let size = size_text((largest.element_count() as u64).saturating_mul(largest.dtype.size_bytes() as u64));
        diagnostic = diagnostic.at_labelled(
            largest.origin,
            format!("the largest tensor, `{}` {:?}, takes {size}", largest.name, largest.shape),
        );
    }
    Some(diagnostic.with_help("shrink the model, write where there is more room, or raise `--max-size`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("1500"), Some(1500));
        assert_eq!(parse_size("1.5k"), Some(1500));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("3 MB"), Some(3_000_000));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size("5 parsecs"), None);
        assert_eq!(parse_size("1e999"), None);
    }

    #[test]
    fn sizes_print_in_decimal_units() {
        assert_eq!(size_text(999), "999 B");
        assert_eq!(size_text(17_179_869_184), "17.2 GB");
    }
}
