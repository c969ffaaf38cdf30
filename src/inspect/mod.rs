//! Weight inspection: per-tensor statistics, histograms, the values an initializer label
//! implies, comparisons between two sets of tensors, and histogram figures (SVG, PNG).
//!
//! Everything here is a pure computation over byte slices that the caller owns (pieces of a
//! file that [`crate::cli`] maps, or reads into reused buffers): nothing opens files or prints.
//! Statistics and comparisons are fed a tensor piece by piece, in one pass, and work in fixed
//! blocks, in parallel but merged in a fixed order, so memory does not grow with the tensor and
//! the numbers depend neither on the pieces nor on the thread count.
//! [`specs/inspect.md`](../../specs/inspect.md) describes the commands built on this module.

mod diff;
mod element;
mod file;
mod kernel;
mod parallel;
mod plot;
mod report;
mod stats;

pub use crate::initializers::{Density, Expectation, expectation_for_label};
pub use diff::{
    Comparator, DiffReport, TensorComparison, TensorDifference, Tolerance, compare_tensors, diff_json, diff_tensors,
    diff_text, match_names,
};
pub use element::{element_bytes, has_values};
pub use file::{
    FileHeader, LENGTH_PREFIX_BYTES, ShardIndex, TensorData, TensorEntry, WeightFile, header_length, parse_header,
    parse_shard_index,
};
pub use parallel::BlockBytes;
pub use plot::{MAX_PANELS, compact_number, png_figure, svg_figure};
pub use report::{TensorReport, inspect_json, inspect_text, printable, terminal_histogram};
pub use stats::{BLOCK_ELEMENTS, Binner, Histogram, Measured, Measurement, TensorStats, histogram, statistics};
