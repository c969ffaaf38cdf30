//! Comparing two sets of tensors: names present on one side only, dtype and shape
//! differences, and per tensor the largest absolute and relative differences, checked against
//! a tolerance as numpy's `isclose` does (`|a − b| ≤ atol + rtol·|b|`, `b` the reference).
//!
//! Both `initc diff` and `initc verify` go through [`diff_tensors`]; the left side is loaded
//! one tensor at a time by a closure, so `verify` can generate each tensor only when it is
//! compared.

use super::element::{decode_block, element_bytes};
use super::file::TensorData;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Elements compared per block.
const BLOCK_ELEMENTS: usize = 64 * 1024;

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

/// Running result over a block of elements.
#[derive(Clone, Copy, Debug, Default)]
struct Partial {
    mismatched: u64,
    max_abs: f64,
    max_rel: f64,
    worst: Option<u64>,
}

impl Partial {
    /// Keeps the larger maxima; on equal absolute differences the earlier index wins.
    fn merge(self, other: Partial) -> Partial {
        let take_other = other.max_abs > self.max_abs || (self.worst.is_none() && other.worst.is_some());
        Partial {
            mismatched: self.mismatched + other.mismatched,
            max_abs: self.max_abs.max(other.max_abs),
            max_rel: self.max_rel.max(other.max_rel),
            worst: if take_other { other.worst } else { self.worst },
        }
    }
}

/// The absolute and relative difference of `a` against the reference `b`. Equal values
/// (NaN and NaN, the same infinity) differ by 0; a NaN against anything else by infinity.
fn difference(a: f64, b: f64) -> (f64, f64) {
    if a == b || (a.is_nan() && b.is_nan()) {
        return (0.0, 0.0);
    }
    let absolute = if a.is_nan() || b.is_nan() { f64::INFINITY } else { (a - b).abs() };
    let absolute = if absolute.is_nan() { f64::INFINITY } else { absolute };
    let relative = if b == 0.0 || !b.is_finite() { f64::INFINITY } else { absolute / b.abs() };
    (absolute, relative)
}

fn compare_values(left: &TensorData<'_>, right: &TensorData<'_>, tolerance: Tolerance) -> TensorDifference {
    let (Some(left_width), Some(right_width)) = (element_bytes(left.dtype), element_bytes(right.dtype)) else {
        return TensorDifference::Incomparable;
    };
    let count = (left.bytes.len() / left_width).min(right.bytes.len() / right_width);
    let blocks = count.div_ceil(BLOCK_ELEMENTS);
    let partials: Vec<Partial> = (0..blocks)
        .into_par_iter()
        .map(|block| {
            let start = block * BLOCK_ELEMENTS;
            let end = (start + BLOCK_ELEMENTS).min(count);
            let (mut a, mut b) = (Vec::with_capacity(end - start), Vec::with_capacity(end - start));
            decode_block(left.dtype, &left.bytes[start * left_width..end * left_width], &mut a);
            decode_block(right.dtype, &right.bytes[start * right_width..end * right_width], &mut b);
            let mut partial = Partial::default();
            for (offset, (&a, &b)) in a.iter().zip(&b).enumerate() {
                let (absolute, relative) = difference(a, b);
                if absolute > tolerance.absolute + tolerance.relative * b.abs() {
                    partial.mismatched += 1;
                }
                if absolute > partial.max_abs || (partial.worst.is_none() && absolute > 0.0) {
                    partial.max_abs = absolute;
                    partial.worst = Some((start + offset) as u64);
                }
                partial.max_rel = partial.max_rel.max(relative);
            }
            partial
        })
        .collect();
    let total = partials.into_iter().fold(Partial::default(), Partial::merge);
    TensorDifference::Values {
        count: count as u64,
        mismatched: total.mismatched,
        max_abs: total.max_abs,
        max_rel: total.max_rel,
        worst: total.worst,
    }
}

/// Compares two same-named tensors.
pub fn compare_tensors(left: &TensorData<'_>, right: &TensorData<'_>, tolerance: Tolerance) -> TensorComparison {
    let difference = if left.shape != right.shape {
        TensorDifference::Shape
    } else if element_bytes(left.dtype).is_none() && element_bytes(right.dtype).is_none() {
        TensorDifference::Bytes { equal: left.dtype == right.dtype && left.bytes == right.bytes }
    } else {
        compare_values(left, right, tolerance)
    };
    TensorComparison {
        name: left.name.clone(),
        dtypes: (format!("{:?}", left.dtype), format!("{:?}", right.dtype)),
        shapes: (left.shape.clone(), right.shape.clone()),
        difference,
    }
}

/// Compares the tensors named `left_names` (loaded on demand by `load_left(index)`) with
/// `right`, by name.
pub fn diff_tensors<'l>(
    left_names: &[String],
    mut load_left: impl FnMut(usize) -> TensorData<'l>,
    right: &[TensorData<'_>],
    tolerance: Tolerance,
) -> DiffReport {
    let right_by_name: HashMap<&str, &TensorData<'_>> =
        right.iter().map(|tensor| (tensor.name.as_str(), tensor)).collect();
    let mut report = DiffReport { tolerance, ..DiffReport::default() };
    for (index, name) in left_names.iter().enumerate() {
        match right_by_name.get(name.as_str()) {
            Some(right) => report.compared.push(compare_tensors(&load_left(index), right, tolerance)),
            None => report.only_left.push(name.clone()),
        }
    }
    let left_set: std::collections::HashSet<&str> = left_names.iter().map(String::as_str).collect();
    report.only_right =
        right.iter().filter(|tensor| !left_set.contains(tensor.name.as_str())).map(|t| t.name.clone()).collect();
    report
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
        out.push_str(&format!("only in {left}: {name}\n"));
    }
    for name in &report.only_right {
        out.push_str(&format!("only in {right}: {name}\n"));
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
            out.push_str(&format!("{}: {}\n", comparison.name, notes.join("; ")));
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
    fn nan_against_a_number_is_an_infinite_difference() {
        assert_eq!(difference(f64::NAN, 1.0), (f64::INFINITY, f64::INFINITY));
        assert_eq!(difference(f64::INFINITY, f64::INFINITY), (0.0, 0.0));
        assert_eq!(difference(1.0, 0.0), (1.0, f64::INFINITY));
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
    }
}
