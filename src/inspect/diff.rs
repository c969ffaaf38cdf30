//! Comparing two sets of tensors: names present on one side only, dtype and shape
//! differences, and per tensor the largest absolute and relative differences, checked against
//! a tolerance as numpy's `isclose` does (`|a − b| ≤ atol + rtol·|b|`, `b` the reference).
//!
//! Both `initc diff` and `initc verify` feed a [`Comparator`] the two tensors' bytes piece by
//! piece, in blocks compared in parallel (equal bytes are skipped at memory speed); every
//! result is a count or a maximum, so neither the pieces nor the threads change it.
//! [`diff_tensors`] does the same for tensors held in memory.

use super::file::TensorData;
use super::kernel::{self, BlockDifference, Decoder};
use super::parallel::{BlockBytes, for_each_block};
use super::report::printable;
use safetensors::Dtype;
use serde::Serialize;
use std::collections::HashMap;

/// `|a − b| ≤ absolute + relative·|b|`. The default (both 0) asks for exact equality.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tolerance {
    pub absolute: f64,
    pub relative: f64,
}

/// What comparing two same-named tensors found.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorDifference {
    /// Different shapes: the values are not compared.
    Shape,
    /// The values, element by element. `max_abs` and `max_rel` are over every element;
    /// `worst` is the flat index of the largest absolute difference.
    Values { count: u64, mismatched: u64, max_abs: f64, max_rel: f64, worst: Option<u64> },
    /// A dtype without decodable values on both sides: compared byte for byte.
    Bytes { equal: bool },
    /// One side has decodable values and the other not.
    Incomparable,
}

/// One tensor present on both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorComparison {
    pub name: String,
    pub dtypes: (String, String),
    pub shapes: (Vec<usize>, Vec<usize>),
    pub difference: TensorDifference,
}

impl TensorComparison {
    /// Same dtype, same shape, and every value within the tolerance.
    pub fn is_equal(&self) -> bool {
        self.dtypes.0 == self.dtypes.1
            && match self.difference {
                TensorDifference::Values { mismatched, .. } => mismatched == 0,
                TensorDifference::Bytes { equal } => equal,
                TensorDifference::Shape | TensorDifference::Incomparable => false,
            }
    }
}

/// The whole comparison.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiffReport {
    /// Names on the left only, in left order.
    pub only_left: Vec<String>,
    /// Names on the right only, in right order.
    pub only_right: Vec<String>,
    /// Tensors on both sides, in left order.
    pub compared: Vec<TensorComparison>,
    pub tolerance: Tolerance,
}

impl DiffReport {
    pub fn is_equal(&self) -> bool {
        self.only_left.is_empty() && self.only_right.is_empty() && self.compared.iter().all(TensorComparison::is_equal)
    }
}

/// The comparison of two same-named tensors' values, fed their bytes piece by piece.
pub struct Comparator {
    mode: Mode,
    tolerance: Tolerance,
    /// Elements compared so far.
    done: u64,
    mismatched: u64,
    max_abs: f64,
    max_rel: f64,
    worst: Option<u64>,
    equal_bytes: bool,
}

enum Mode {
    Values { left: Decoder, right: Decoder, same_dtype: bool },
    Bytes,
}

/// Elements per parallel block of a comparison (the results do not depend on it).
const BLOCK_ELEMENTS: usize = 64 * 1024;

impl Comparator {
    /// How two tensors with these dtypes and shapes compare: `Err` with the difference when the
    /// headers settle it (different shapes, values on one side only), else a comparator to feed.
    pub fn start(
        left: (Dtype, &[usize]),
        right: (Dtype, &[usize]),
        tolerance: Tolerance,
    ) -> Result<Comparator, TensorDifference> {
        if left.1 != right.1 {
            return Err(TensorDifference::Shape);
        }
        let mode = match (Decoder::of(left.0), Decoder::of(right.0)) {
            (Some(left_decoder), Some(right_decoder)) => {
                Mode::Values { left: left_decoder, right: right_decoder, same_dtype: left.0 == right.0 }
            }
            (None, None) => Mode::Bytes,
            _ => return Err(TensorDifference::Incomparable),
        };
        Ok(Comparator {
            mode,
            tolerance,
            done: 0,
            mismatched: 0,
            max_abs: 0.0,
            max_rel: 0.0,
            worst: None,
            equal_bytes: left.0 == right.0,
        })
    }

    /// Bytes of one element on each side, to cut both sides at the same element (1 and 1 when
    /// the tensors are compared byte for byte).
    pub fn widths(&self) -> (usize, usize) {
        match self.mode {
            Mode::Values { left, right, .. } => (left.width(), right.width()),
            Mode::Bytes => (1, 1),
        }
    }

    /// Compares the next elements: `left` and `right` hold the same number of whole elements.
    pub fn feed(&mut self, left: &[u8], right: &[u8]) {
        let (left_width, right_width) = self.widths();
        let count = (left.len() / left_width).min(right.len() / right_width);
        let blocks = count.div_ceil(BLOCK_ELEMENTS);
        let fed: Result<(), std::convert::Infallible> = self.feed_blocks(0..blocks, BLOCK_ELEMENTS, |block, _, _| {
            let (start, end) = (block * BLOCK_ELEMENTS, ((block + 1) * BLOCK_ELEMENTS).min(count));
            Ok((
                BlockBytes::Borrowed(&left[start * left_width..end * left_width]),
                BlockBytes::Borrowed(&right[start * right_width..end * right_width]),
            ))
        });
        let Ok(()) = fed;
    }

    /// Compares the next blocks of `elements_per_block` elements (the last may be shorter):
    /// `fill(i, left, right)` gives both sides' bytes of block `i` (counted from the first block
    /// of this call), each borrowed or read into its buffer on the thread that then compares
    /// them. Blocks run in parallel.
    pub fn feed_blocks<'w, E: Send>(
        &mut self,
        blocks: std::ops::Range<usize>,
        elements_per_block: usize,
        fill: impl Fn(usize, &mut Vec<u8>, &mut Vec<u8>) -> Result<(BlockBytes<'w>, BlockBytes<'w>), E> + Sync,
    ) -> Result<(), E> {
        let mode = match self.mode {
            Mode::Bytes => None,
            Mode::Values { left, right, same_dtype } => Some((left, right, same_dtype)),
        };
        let tolerance = self.tolerance;
        let first = blocks.start;
        // Per block: its elements, the difference, and whether the bytes were equal.
        let (_, results) = for_each_block(
            blocks,
            || (Vec::new(), Vec::new()),
            |(a, b): &mut (Vec<u8>, Vec<u8>), index| {
                let (left_bytes, right_bytes) = fill(index, a, b)?;
                let (a, b) = (left_bytes.or_buffer(a), right_bytes.or_buffer(b));
                Ok(match mode {
                    None => (a.len().min(b.len()) as u64, BlockDifference::default(), a == b),
                    Some((left, right, same_dtype)) => {
                        let count = (a.len() / left.width()).min(b.len() / right.width()) as u64;
                        // Equal bytes of one dtype are equal values (NaN included).
                        let difference = if same_dtype && a == b {
                            BlockDifference::default()
                        } else {
                            kernel::block_difference((left, a), (right, b), tolerance.absolute, tolerance.relative)
                        };
                        (count, difference, true)
                    }
                })
            },
        )?;
        let mut elements = 0;
        for (index, (count, difference, equal_bytes)) in results {
            elements += count;
            self.equal_bytes &= equal_bytes;
            self.mismatched += difference.mismatched;
            self.max_rel = self.max_rel.max(difference.max_rel);
            // On equal absolute differences the earlier element stays the worst.
            if difference.max_abs > self.max_abs {
                self.max_abs = difference.max_abs;
                let block_start = self.done + ((index - first) * elements_per_block) as u64;
                self.worst = difference.worst.map(|at| block_start + at as u64);
            }
        }
        self.done += elements;
        Ok(())
    }

    pub fn finish(self) -> TensorDifference {
        match self.mode {
            Mode::Bytes => TensorDifference::Bytes { equal: self.equal_bytes },
            Mode::Values { .. } => TensorDifference::Values {
                count: self.done,
                mismatched: self.mismatched,
                max_abs: self.max_abs,
                max_rel: self.max_rel,
                worst: self.worst,
            },
        }
    }
}

impl TensorComparison {
    /// The comparison of `name`, with both sides' dtypes and shapes.
    pub fn new(
        name: &str,
        left: (Dtype, &[usize]),
        right: (Dtype, &[usize]),
        difference: TensorDifference,
    ) -> TensorComparison {
        TensorComparison {
            name: name.to_string(),
            dtypes: (format!("{:?}", left.0), format!("{:?}", right.0)),
            shapes: (left.1.to_vec(), right.1.to_vec()),
            difference,
        }
    }
}

/// Compares two same-named tensors held in memory.
pub fn compare_tensors(left: &TensorData<'_>, right: &TensorData<'_>, tolerance: Tolerance) -> TensorComparison {
    let sides = ((left.dtype, left.shape.as_slice()), (right.dtype, right.shape.as_slice()));
    let difference = match Comparator::start(sides.0, sides.1, tolerance) {
        Err(difference) => difference,
        Ok(mut comparator) => {
            comparator.feed(&left.bytes, &right.bytes);
            comparator.finish()
        }
    };
    TensorComparison::new(&left.name, sides.0, sides.1, difference)
}

/// Which names are on one side only, and the (left, right) index pairs of the names on both,
/// in left order.
pub fn match_names<'a>(
    left: impl IntoIterator<Item = &'a str>,
    right: impl IntoIterator<Item = &'a str> + Clone,
) -> (Vec<String>, Vec<String>, Vec<(usize, usize)>) {
    let right_by_name: HashMap<&str, usize> = right.clone().into_iter().enumerate().map(|(i, n)| (n, i)).collect();
    let (mut only_left, mut pairs) = (Vec::new(), Vec::new());
    let mut left_set = std::collections::HashSet::new();
    for (index, name) in left.into_iter().enumerate() {
        left_set.insert(name);
        match right_by_name.get(name) {
            Some(&right_index) => pairs.push((index, right_index)),
            None => only_left.push(name.to_string()),
        }
    }
    let only_right = right.into_iter().filter(|name| !left_set.contains(name)).map(str::to_string).collect();
    (only_left, only_right, pairs)
}

/// Compares the tensors named `left_names` (loaded on demand by `load_left(index)`) with
/// `right`, by name, all in memory.
pub fn diff_tensors<'l>(
    left_names: &[String],
    mut load_left: impl FnMut(usize) -> TensorData<'l>,
    right: &[TensorData<'_>],
    tolerance: Tolerance,
) -> DiffReport {
    let (only_left, only_right, pairs) =
        match_names(left_names.iter().map(String::as_str), right.iter().map(|tensor| tensor.name.as_str()));
    let compared =
        pairs.into_iter().map(|(left, right_index)| compare_tensors(&load_left(left), &right[right_index], tolerance));
    DiffReport { only_left, only_right, compared: compared.collect(), tolerance }
}

/// A flat index as a multi-index of `shape`, row-major.
fn unravel(mut flat: u64, shape: &[usize]) -> Vec<u64> {
    let mut index = vec![0u64; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        let dim = dim.max(1) as u64;
        *slot = flat % dim;
        flat /= dim;
    }
    index
}

fn list(values: &[impl std::fmt::Display]) -> String {
    format!("[{}]", values.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
}

fn sci(value: f64) -> String {
    if value == 0.0 { "0".to_string() } else { format!("{value:.3e}") }
}

/// The report as text: one line per name on one side only and per tensor that differs, then
/// a summary line and `equal` or `different`. `left` and `right` name the two sides.
pub fn diff_text(report: &DiffReport, left: &str, right: &str) -> String {
    let mut out = String::new();
    for name in &report.only_left {
        out.push_str(&format!("only in {left}: {}\n", printable(name)));
    }
    for name in &report.only_right {
        out.push_str(&format!("only in {right}: {}\n", printable(name)));
    }
    let (mut max_abs, mut max_rel) = (0.0f64, 0.0f64);
    for comparison in &report.compared {
        let mut notes = Vec::new();
        if comparison.dtypes.0 != comparison.dtypes.1 {
            notes.push(format!("dtype {} vs {}", comparison.dtypes.0, comparison.dtypes.1));
        }
        match &comparison.difference {
            TensorDifference::Shape => {
                notes.push(format!("shape {} vs {}", list(&comparison.shapes.0), list(&comparison.shapes.1)));
            }
            TensorDifference::Incomparable => notes.push("values not comparable".to_string()),
            TensorDifference::Bytes { equal: false } => notes.push("bytes differ".to_string()),
            TensorDifference::Bytes { equal: true } => {}
            TensorDifference::Values { count, mismatched, max_abs: abs, max_rel: rel, worst } => {
                max_abs = max_abs.max(*abs);
                max_rel = max_rel.max(*rel);
                if *mismatched > 0 {
                    let at = worst.map(|flat| format!(" at {}", list(&unravel(flat, &comparison.shapes.0))));
                    notes.push(format!(
                        "{mismatched} of {count} values differ; max abs diff {}{}, max rel diff {}",
                        sci(*abs),
                        at.unwrap_or_default(),
                        sci(*rel)
                    ));
                }
            }
        }
        if !comparison.is_equal() {
            out.push_str(&format!("{}: {}\n", printable(&comparison.name), notes.join("; ")));
        }
    }
    let equal = report.compared.iter().filter(|c| c.is_equal()).count();
    out.push_str(&format!(
        "{} compared: {equal} equal, {} different, max abs diff {}, max rel diff {}; {} only in {left}, {} only in {right}\n",
        report.compared.len(),
        report.compared.len() - equal,
        sci(max_abs),
        sci(max_rel),
        report.only_left.len(),
        report.only_right.len(),
    ));
    out.push_str(if report.is_equal() { "equal\n" } else { "different\n" });
    out
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    equal: bool,
    atol: f64,
    rtol: f64,
    only_in_a: &'a [String],
    only_in_b: &'a [String],
    tensors: Vec<JsonComparison<'a>>,
}

#[derive(Serialize)]
struct JsonComparison<'a> {
    name: &'a str,
    equal: bool,
    dtype: [&'a str; 2],
    shape: [&'a [usize]; 2],
    mismatched: Option<u64>,
    max_abs: Option<f64>,
    max_rel: Option<f64>,
    worst_index: Option<Vec<u64>>,
}

/// `{"equal", "atol", "rtol", "only_in_a", "only_in_b", "tensors": [{"name", "equal",
/// "dtype": [a, b], "shape": [a, b], "mismatched", "max_abs", "max_rel", "worst_index"}]}`;
/// infinite differences are `null`.
pub fn diff_json(report: &DiffReport) -> String {
    let tensors = report
        .compared
        .iter()
        .map(|comparison| {
            let values = match &comparison.difference {
                TensorDifference::Values { mismatched, max_abs, max_rel, worst, .. } => {
                    Some((*mismatched, *max_abs, *max_rel, worst.map(|flat| unravel(flat, &comparison.shapes.0))))
                }
                _ => None,
            };
            JsonComparison {
                name: &comparison.name,
                equal: comparison.is_equal(),
                dtype: [&comparison.dtypes.0, &comparison.dtypes.1],
                shape: [&comparison.shapes.0, &comparison.shapes.1],
                mismatched: values.as_ref().map(|v| v.0),
                max_abs: values.as_ref().map(|v| v.1),
                max_rel: values.as_ref().map(|v| v.2),
                worst_index: values.and_then(|v| v.3),
            }
        })
        .collect();
    let json = JsonDiff {
        equal: report.is_equal(),
        atol: report.tolerance.absolute,
        rtol: report.tolerance.relative,
        only_in_a: &report.only_left,
        only_in_b: &report.only_right,
        tensors,
    };
    let mut text = serde_json::to_string_pretty(&json).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::Dtype;

    fn tensor(name: &str, shape: &[usize], values: &[f32]) -> TensorData<'static> {
        TensorData {
            name: name.to_string(),
            dtype: Dtype::F32,
            shape: shape.to_vec(),
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>().into(),
        }
    }

    fn diff(left: &[TensorData<'static>], right: &[TensorData<'static>], tolerance: Tolerance) -> DiffReport {
        let names: Vec<String> = left.iter().map(|t| t.name.clone()).collect();
        diff_tensors(&names, |index| left[index].clone(), right, tolerance)
    }

    #[test]
    fn identical_sets_are_equal_exactly() {
        let set = [tensor("a", &[2], &[1.0, f32::NAN]), tensor("b", &[], &[0.5])];
        let report = diff(&set, &set, Tolerance::default());
        assert!(report.is_equal(), "{report:?}");
        assert!(diff_text(&report, "A", "B").ends_with("equal\n"));
    }

    #[test]
    fn value_differences_respect_the_tolerance() {
        let left = [tensor("w", &[2, 2], &[1.0, 2.0, 3.0, 4.0])];
        let right = [tensor("w", &[2, 2], &[1.0, 2.0, 3.0, 4.001])];
        let exact = diff(&left, &right, Tolerance::default());
        assert!(!exact.is_equal());
        let TensorDifference::Values { mismatched, max_abs, worst, .. } = exact.compared[0].difference else {
            panic!("values compared");
        };
        assert_eq!((mismatched, worst), (1, Some(3)));
        assert!((max_abs - 0.001).abs() < 1e-6);
        let text = diff_text(&exact, "A", "B");
        assert!(text.contains("w: 1 of 4 values differ; max abs diff") && text.contains("at [1, 1]"), "{text}");
        assert!(diff(&left, &right, Tolerance { absolute: 2e-3, relative: 0.0 }).is_equal());
        assert!(diff(&left, &right, Tolerance { absolute: 0.0, relative: 1e-3 }).is_equal());
        assert!(!diff(&left, &right, Tolerance { absolute: 0.0, relative: 1e-5 }).is_equal());
    }

    #[test]
    fn names_shapes_and_dtypes() {
        let left = [tensor("a", &[2], &[1.0, 2.0]), tensor("only_left", &[1], &[0.0])];
        let mut right = vec![tensor("a", &[1, 2], &[1.0, 2.0]), tensor("only_right", &[1], &[0.0])];
        let report = diff(&left, &right, Tolerance::default());
        assert_eq!(
            (report.only_left.clone(), report.only_right.clone()),
            (vec!["only_left".into()], vec!["only_right".into()])
        );
        assert_eq!(report.compared[0].difference, TensorDifference::Shape);
        right[0] = TensorData {
            dtype: Dtype::F64,
            bytes: [1.0f64, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>().into(),
            ..tensor("a", &[2], &[])
        };
        let report = diff(&left[..1], &right[..1], Tolerance::default());
        assert!(!report.is_equal(), "a dtype change is a difference");
        assert!(diff_text(&report, "A", "B").contains("a: dtype F32 vs F64\n"));
        let json: serde_json::Value = serde_json::from_str(&diff_json(&report)).expect("valid JSON");
        assert_eq!(json["tensors"][0]["mismatched"], 0);
        assert_eq!(json["equal"], false);
    }

    #[test]
    fn a_nan_or_an_infinity_on_one_side_is_never_within_the_tolerance() {
        let numbers = [tensor("w", &[3], &[1.0, 2.0, 3.0])];
        for other in [[f32::NAN, 2.0, 3.0], [1.0, f32::INFINITY, 3.0], [1.0, 2.0, f32::NEG_INFINITY]] {
            let other = [tensor("w", &[3], &other)];
            for (left, right) in [(&numbers, &other), (&other, &numbers)] {
                for tolerance in [Tolerance::default(), Tolerance { absolute: 1e300, relative: 10.0 }] {
                    let report = diff(left, right, tolerance);
                    assert!(!report.is_equal(), "{left:?} vs {right:?} within {tolerance:?}");
                }
            }
        }
        let nan = [tensor("w", &[2], &[f32::NAN, f32::INFINITY])];
        assert!(diff(&nan, &nan, Tolerance::default()).is_equal());
    }

    #[test]
    fn nan_against_a_number_is_an_infinite_difference() {
        use super::kernel::difference;
        assert_eq!(difference(f64::NAN, 1.0), (f64::INFINITY, f64::INFINITY));
        assert_eq!(difference(1.0, f64::NAN), (f64::INFINITY, f64::INFINITY));
        assert_eq!(difference(f64::NAN, f64::NAN), (0.0, 0.0));
        assert_eq!(difference(f64::INFINITY, f64::INFINITY), (0.0, 0.0));
        assert_eq!(difference(f64::INFINITY, f64::NEG_INFINITY), (f64::INFINITY, f64::INFINITY));
        assert_eq!(difference(1.0, f64::INFINITY), (f64::INFINITY, f64::INFINITY));
        assert_eq!(difference(1.0, 0.0), (1.0, f64::INFINITY));
        assert_eq!(difference(3.0, -1.0), (4.0, 4.0));
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
    }

    #[test]
    fn pieces_do_not_change_a_comparison() {
        let count = 3 * BLOCK_ELEMENTS + 77;
        let left: Vec<f32> = (0..count).map(|i| (i % 1000) as f32).collect();
        let mut right = left.clone();
        for &at in &[5, BLOCK_ELEMENTS + 3, 2 * BLOCK_ELEMENTS + 9, count - 1] {
            right[at] += 0.5;
        }
        right[BLOCK_ELEMENTS + 3] += 0.5;
        let (a, b) = (tensor("w", &[count], &left), tensor("w", &[count], &right));
        let whole = compare_tensors(&a, &b, Tolerance::default()).difference;
        assert_eq!(
            whole,
            TensorDifference::Values {
                count: count as u64,
                mismatched: 4,
                max_abs: 1.0,
                max_rel: 0.5 / 5.5,
                worst: Some(BLOCK_ELEMENTS as u64 + 3)
            }
        );
        for piece in [1, 999, BLOCK_ELEMENTS + 1] {
            let mut comparator =
                Comparator::start((Dtype::F32, &[count]), (Dtype::F32, &[count]), Tolerance::default())
                    .unwrap_or_else(|_| panic!("comparable"));
            for (x, y) in a.bytes.chunks(piece * 4).zip(b.bytes.chunks(piece * 4)) {
                comparator.feed(x, y);
            }
            assert_eq!(comparator.finish(), whole, "pieces of {piece}");
        }
    }
}
