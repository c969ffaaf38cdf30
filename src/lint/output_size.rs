//! `output-too-large` (E0602): the safetensors file would be larger than allowed.
//!
//! **What:** an error when the output file (header and data, exactly as `compile` writes it)
//! would take more bytes than `--max-size`, or, by default, than the free space of the
//! filesystem it is written to; and when its safetensors header would pass the 100,000,000
//! bytes readers accept (many long tensor names). Checked before anything is generated.
//!
//! **Why:** a GPT-sized config is a one-character edit away from hundreds of gigabytes;
//! finding out after an hour of generating, from a full disk, is the worst time.
//!
//! **Example:**
//! ```yaml
//! # initc lint model.yaml --max-size 1G
//! vars: {d: 65536}
//! input: [d]
//! layers: [{dense: {units: d}}]   # 16 GiB of kernel
//! ```
//! Shrink the model, write somewhere with more room, or raise `--max-size`.

use crate::Stages;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::emit::{MAX_HEADER_BYTES, count_text, output_size, size_text};
use crate::lint::LintOptions;
use crate::plan::Plan;

/// The most bytes the output may take, and where that limit comes from (for the message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputBudget {
    pub bytes: u64,
    /// e.g. "`--max-size 1G`" or "the free space in `out/`".
    pub source: String,
}

pub fn check(stages: &Stages, options: &LintOptions) -> Diagnostics {
    let every: Vec<usize> = (0..stages.plan.tensors.len()).collect();
    too_large(stages.plan, &[&every], options.output_budget.as_ref())
}

/// E0602 when the safetensors files holding `files` (each a list of tensor indices, one per file
/// `compile` writes) would have a header readers refuse, or would not fit in `budget` together.
/// `compile` asks this before it generates anything; sizes come from [`output_size`], the one
/// function that also sizes the progress bar. A plan that cannot be laid out gets no finding here:
/// the writer reports why.
pub fn too_large(plan: &Plan, files: &[&[usize]], budget: Option<&OutputBudget>) -> Diagnostics {
    let Ok(sizes) = files.iter().map(|tensors| output_size(plan, tensors)).collect::<Result<Vec<_>, _>>() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if let Some(header) = sizes.iter().map(|size| size.header).max().filter(|&header| header > MAX_HEADER_BYTES) {
        found.push(header_too_large(plan, header));
    }
    let bytes = sizes.iter().fold(0u64, |total, size| total.saturating_add(size.total()));
    if let Some(budget) = budget.filter(|budget| bytes > budget.bytes) {
        found.push(over_budget(plan, bytes, budget));
    }
    found
}

fn over_budget(plan: &Plan, bytes: u64, budget: &OutputBudget) -> Diagnostic {
    let message = format!(
        "the output would take {} ({} bytes), more than {} ({} bytes)",
        size_text(bytes),
        count_text(bytes),
        budget.source,
        count_text(budget.bytes)
    );
    let mut diagnostic = Diagnostic::of(Code::OutputTooLarge, message);
    if let Some(largest) = plan.tensors.iter().max_by_key(|tensor| tensor.element_count()) {
        let size = size_text((largest.element_count() as u64).saturating_mul(largest.dtype.size_bytes() as u64));
        diagnostic = diagnostic.at_labelled(
            largest.origin,
            format!("the largest tensor, `{}` {:?}, takes {size}", largest.name, largest.shape),
        );
    }
    diagnostic.with_help("shrink the model, write where there is more room, or raise `--max-size`")
}

/// Every tensor's name is written twice in the header (its entry and its initializer record), so
/// many long names can make a header the `safetensors` crate refuses to read.
fn header_too_large(plan: &Plan, header: u64) -> Diagnostic {
    let message = format!(
        "the safetensors header would take {} ({} bytes), more than the {} bytes ({}) safetensors readers accept",
        size_text(header),
        count_text(header),
        count_text(MAX_HEADER_BYTES),
        size_text(MAX_HEADER_BYTES)
    );
    let mut diagnostic = Diagnostic::of(Code::OutputTooLarge, message);
    if let Some(longest) = plan.tensors.iter().max_by_key(|tensor| tensor.name.len()) {
        diagnostic = diagnostic.at_labelled(
            longest.origin,
            format!(
                "this makes `{}`, a {}-byte name, one of {} tensors",
                shortened(&longest.name),
                count_text(longest.name.len() as u64),
                count_text(plan.tensors.len() as u64)
            ),
        );
    }
    diagnostic.with_help(
        "shorten the tensor names (each is written twice in the header), or split the output with `--max-shard-size`",
    )
}

/// A long name cut to its first 24 characters and `…`, for a label.
fn shortened(name: &str) -> String {
    match name.char_indices().nth(24) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::test_plans::{small_plan, tensor};

    fn budget(bytes: u64) -> OutputBudget {
        OutputBudget { bytes, source: format!("`--max-size {bytes}`") }
    }

    #[test]
    fn the_budget_counts_every_byte_of_every_file() {
        let plan = small_plan();
        let every: Vec<usize> = (0..plan.tensors.len()).collect();
        let exact = crate::emit::output_size(&plan, &every).expect("size").total();
        assert!(too_large(&plan, &[&every], Some(&budget(exact))).is_empty());
        let over = too_large(&plan, &[&every], Some(&budget(exact - 1)));
        assert_eq!(over.len(), 1);
        assert!(over[0].message.contains(&format!("({} bytes)", count_text(exact))), "{}", over[0].message);
        // Two files: two headers.
        let (first, rest) = every.split_at(1);
        let split = crate::emit::output_size(&plan, first).expect("size").total()
            + crate::emit::output_size(&plan, rest).expect("size").total();
        assert!(split > exact);
        assert!(too_large(&plan, &[first, rest], Some(&budget(split))).is_empty());
        assert_eq!(too_large(&plan, &[first, rest], Some(&budget(exact))).len(), 1);
        assert!(too_large(&plan, &[&every], None).is_empty());
    }

    #[test]
    fn a_header_readers_refuse_is_reported_without_a_budget() {
        let mut plan = small_plan();
        let long = "n".repeat(1_000);
        // 2 × 1,000 bytes of name per tensor: 60,000 tensors pass 100 MB.
        plan.tensors = (0..60_000).map(|i| tensor(&format!("{long}{i}"), &[1], "zeros", true)).collect();
        let every: Vec<usize> = (0..plan.tensors.len()).collect();
        let found = too_large(&plan, &[&every], None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.starts_with("the safetensors header would take"), "{}", found[0].message);
        assert!(found[0].help.as_deref().is_some_and(|help| help.contains("--max-shard-size")));
        // Split in two, each header fits.
        let (first, rest) = every.split_at(30_000);
        assert!(too_large(&plan, &[first, rest], None).is_empty());
    }
}
