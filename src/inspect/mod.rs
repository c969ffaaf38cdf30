//! Weight inspection: per-tensor statistics, histograms, the values an initializer label
//! implies, comparisons between two sets of tensors, and histogram figures (SVG, PNG).
//!
//! Everything here is a pure computation over byte slices that the caller owns (usually a
//! memory map opened by [`crate::cli`]): nothing opens files or prints. Statistics stream over
//! the data in fixed blocks, in parallel but merged in a fixed order, so a tensor never needs
//! a second copy in memory and the numbers do not depend on the thread count.
//! [`specs/inspect.md`](../../specs/inspect.md) describes the commands built on this module.

mod diff;
mod element;
mod expect;
mod file;
mod plot;
mod report;
mod stats;

pub use diff::{
    DiffReport, TensorComparison, TensorDifference, Tolerance, compare_tensors, diff_json, diff_tensors, diff_text,
};
pub use element::{decode_block, element_bytes, has_values};
pub use expect::{Expectation, expectation_for_label};
pub use file::{ShardIndex, TensorData, WeightFile, parse_shard_index};
pub use plot::{HistogramPanel, compact_number, png_figure, svg_figure};
pub use report::{TensorReport, inspect_json, inspect_text, terminal_histogram};
pub use stats::{Histogram, TensorStats, histogram, statistics};
