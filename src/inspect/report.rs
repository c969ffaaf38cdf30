//! `initc inspect`'s output: one report per tensor, rendered as a text table (with optional
//! terminal histograms) or as JSON. Names from files are escaped for the terminal.

use super::file::TensorData;
use super::stats::{Histogram, Measurement, TensorStats};
use crate::initializers::Expectation;
use serde::Serialize;

/// Everything `inspect` says about one tensor.
#[derive(Clone, Debug)]
pub struct TensorReport {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
    pub params: u64,
    /// `None` for a dtype without decodable values.
    pub stats: Option<TensorStats>,
    /// The initializer label from initc's metadata, if the file has one for this tensor.
    pub initializer: Option<String>,
    pub expectation: Option<Expectation>,
    pub histogram: Option<Histogram>,
}

impl TensorReport {
    /// The report of a tensor from what was measured; the expectation comes from the label.
    pub fn new(
        name: &str,
        dtype: safetensors::Dtype,
        shape: &[usize],
        stats: Option<TensorStats>,
        initializer: Option<&str>,
        histogram: Option<Histogram>,
    ) -> TensorReport {
        TensorReport {
            name: name.to_string(),
            dtype: format!("{dtype:?}"),
            shape: shape.to_vec(),
            params: shape.iter().fold(1u64, |product, &dim| product.saturating_mul(dim as u64)),
            stats,
            initializer: initializer.map(str::to_string),
            expectation: initializer.and_then(|label| crate::initializers::expectation_for_label(label, shape)),
            histogram,
        }
    }

    /// The report of a tensor held in memory, with a histogram of `bins` bins if asked.
    pub fn measure(tensor: &TensorData<'_>, initializer: Option<&str>, bins: Option<usize>) -> TensorReport {
        let measured = Measurement::new(tensor.dtype).map(|mut measurement| {
            measurement.feed(&tensor.bytes);
            measurement.finish()
        });
        let histogram = match (bins, &measured) {
            (Some(bins), Some(measured)) if measured.needs_binner() => {
                super::stats::histogram(tensor.dtype, &tensor.bytes, &measured.stats, bins)
            }
            (Some(bins), Some(measured)) => measured.histogram(bins),
            _ => None,
        };
        let stats = measured.map(|measured| measured.stats);
        TensorReport::new(&tensor.name, tensor.dtype, &tensor.shape, stats, initializer, histogram)
    }
}

/// `text` with control characters (and the invisible marks that reorder text) written as
/// `\u{…}` escapes, so that a name read from a file cannot move the cursor, change colours or
/// hide itself on a terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A number for a table cell: six decimals in the everyday range, scientific outside it,
/// `-` when undefined.
fn number(value: f64) -> String {
    if value.is_nan() {
        "-".to_string()
    } else if value == 0.0 {
        "0".to_string()
    } else if value.is_infinite() || !(1e-3..1e5).contains(&value.abs()) {
        format!("{value:.4e}")
    } else {
        format!("{value:.6}")
    }
}

/// A number in prose: the shortest form that reads back as the same `f64` when that is short,
/// else six significant digits.
fn short_number(value: f64) -> String {
    let shortest = value.to_string();
    if shortest.len() <= 9 || !value.is_finite() {
        return shortest;
    }
    let magnitude = value.abs().log10().floor();
    if (-4.0..6.0).contains(&magnitude) {
        let decimals = (5.0 - magnitude) as usize;
        let fixed = format!("{value:.decimals$}");
        fixed.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{value:.5e}")
    }
}

fn shape_text(shape: &[usize]) -> String {
    format!("[{}]", shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", "))
}

/// What the initializer implies, for the line under a tensor's row.
fn expectation_text(label: &str, expectation: Option<&Expectation>) -> String {
    let Some(expected) = expectation else { return format!("{label}: no expectation for this initializer") };
    let mut parts =
        vec![format!("mean {}", short_number(expected.mean)), format!("std {}", short_number(expected.std))];
    if let Some(sigma) = expected.sigma {
        parts.push(format!("σ {} before truncation", short_number(sigma)));
    }
    if let Some((low, high)) = expected.bounds {
        parts.push(format!("bounds [{}, {}]", short_number(low), short_number(high)));
    }
    format!("{label}: expected {}", parts.join(", "))
}

/// The text table: a header row, one row per tensor, the initializer's expectation under each
/// tensor that has one, a terminal histogram if measured, and a closing total.
pub fn inspect_text(reports: &[TensorReport]) -> String {
    let header = ["name", "dtype", "shape", "params", "mean", "std", "min", "max", "zeros", "nan", "inf"];
    let rows: Vec<[String; 11]> = reports
        .iter()
        .map(|report| {
            let stats = report.stats.as_ref();
            let statistic = |pick: fn(&TensorStats) -> f64| stats.map_or("-".to_string(), |s| number(pick(s)));
            [
                printable(&report.name).into_owned(),
                report.dtype.clone(),
                shape_text(&report.shape),
                report.params.to_string(),
                statistic(|s| s.mean),
                statistic(TensorStats::std),
                statistic(|s| s.min),
                statistic(|s| s.max),
                stats.map_or("-".to_string(), |s| {
                    let fraction = s.zero_fraction();
                    if fraction.is_nan() { "-".to_string() } else { format!("{:.2}%", fraction * 100.0) }
                }),
                stats.map_or("-".to_string(), |s| s.nan.to_string()),
                stats.map_or("-".to_string(), |s| s.inf.to_string()),
            ]
        })
        .collect();
    let mut widths: [usize; 11] = header.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let numeric = |column: usize| column >= 3;
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                let fill = " ".repeat(widths[column].saturating_sub(cell.chars().count()));
                if numeric(column) { format!("{fill}{cell}") } else { format!("{cell}{fill}") }
            })
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&header.map(str::to_string));
    for (report, row) in reports.iter().zip(&rows) {
        out.push_str(&line(row));
        if let Some(label) = &report.initializer {
            out.push_str(&format!("    {}\n", expectation_text(label, report.expectation.as_ref())));
        }
        if let Some(histogram) = &report.histogram {
            out.push_str(&terminal_histogram(histogram, 40));
        }
    }
    let total: u64 = reports.iter().map(|report| report.params).fold(0, u64::saturating_add);
    let plural = if reports.len() == 1 { "" } else { "s" };
    out.push_str(&format!("{} tensor{plural}, {total} parameters\n", reports.len()));
    out
}

/// A histogram as text, one line per bin: the bin's range, a bar scaled to `width` columns
/// (eighth blocks for the fraction), and the count.
pub fn terminal_histogram(histogram: &Histogram, width: usize) -> String {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let tallest = histogram.counts.iter().copied().max().unwrap_or(0).max(1);
    let ranges: Vec<(String, String)> = (0..histogram.counts.len())
        .map(|index| {
            let (start, end) = histogram.bin_range(index);
            (number(start), number(end))
        })
        .collect();
    let start_width = ranges.iter().map(|(start, _)| start.len()).max().unwrap_or(0);
    let end_width = ranges.iter().map(|(_, end)| end.len()).max().unwrap_or(0);
    let mut out = String::new();
    for ((start, end), &count) in ranges.iter().zip(&histogram.counts) {
        let eighths = (count as u128 * width as u128 * 8 / tallest as u128) as usize;
        let bar = format!("{}{}", "█".repeat(eighths / 8), EIGHTHS[eighths % 8]);
        out.push_str(&format!("      {start:>start_width$} .. {end:<end_width$} │{bar} {count}\n"));
    }
    out
}

/// One tensor in `inspect --format json`; key order is field order.
#[derive(Serialize)]
struct JsonReport<'a> {
    name: &'a str,
    dtype: &'a str,
    shape: &'a [usize],
    params: u64,
    mean: Option<f64>,
    std: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    zeros: Option<f64>,
    nan: Option<u64>,
    inf: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initializer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_std: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_sigma: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    histogram: Option<JsonHistogram<'a>>,
}

#[derive(Serialize)]
struct JsonHistogram<'a> {
    low: f64,
    high: f64,
    counts: &'a [u64],
}

/// `[{"name", "dtype", "shape", "params", "mean", "std", "min", "max", "zeros", "nan", "inf",
/// "initializer"?, "expected_mean"?, "expected_std"?, "expected_sigma"?, "expected_min"?,
/// "expected_max"?, "histogram"?}]`, pretty-printed with a trailing newline. Undefined
/// statistics (no values, no finite value) are `null`; `zeros` is a fraction.
pub fn inspect_json(reports: &[TensorReport]) -> String {
    let finite = |value: f64| value.is_finite().then_some(value);
    let entries: Vec<JsonReport<'_>> = reports
        .iter()
        .map(|report| {
            let stats = report.stats.as_ref();
            let expected = report.expectation.as_ref();
            JsonReport {
                name: &report.name,
                dtype: &report.dtype,
                shape: &report.shape,
                params: report.params,
                mean: stats.and_then(|s| finite(s.mean)),
                std: stats.and_then(|s| finite(s.std())),
                min: stats.and_then(|s| finite(s.min)),
                max: stats.and_then(|s| finite(s.max)),
                zeros: stats.and_then(|s| finite(s.zero_fraction())),
                nan: stats.map(|s| s.nan),
                inf: stats.map(|s| s.inf),
                initializer: report.initializer.as_deref(),
                expected_mean: expected.map(|e| e.mean),
                expected_std: expected.map(|e| e.std),
                expected_sigma: expected.and_then(|e| e.sigma),
                expected_min: expected.and_then(|e| e.bounds.map(|(low, _)| low)),
                expected_max: expected.and_then(|e| e.bounds.map(|(_, high)| high)),
                histogram: report.histogram.as_ref().map(|h| JsonHistogram {
                    low: h.low,
                    high: h.high,
                    counts: &h.counts,
                }),
            }
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::Dtype;

    fn report(values: &[f32], initializer: Option<&str>) -> TensorReport {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let tensor =
            TensorData { name: "dense.bias".into(), dtype: Dtype::F32, shape: vec![values.len()], bytes: bytes.into() };
        TensorReport::measure(&tensor, initializer, Some(4))
    }

    #[test]
    fn text_has_a_row_an_expectation_and_a_histogram() {
        let text = inspect_text(&[report(&[0.0, 0.5, 1.0, 1.0], Some("random_uniform(minval=0, maxval=1)"))]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("name"), "{text}");
        assert!(lines[1].starts_with("dense.bias  F32    [4]"), "{text}");
        assert!(lines[1].contains("25.00%"), "{text}");
        assert!(lines[2].contains("expected mean 0.5, std 0.288675") && lines[2].contains("bounds [0, 1]"), "{text}");
        assert!(text.contains("│"), "{text}");
        assert!(text.ends_with("1 tensor, 4 parameters\n"), "{text}");
    }

    #[test]
    fn json_has_the_documented_keys() {
        let text = inspect_json(&[report(&[1.0, 3.0], Some("zeros")), report(&[], None)]);
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let first = &parsed[0];
        assert_eq!(first["mean"], 2.0);
        assert_eq!(first["std"], 1.0);
        assert_eq!(first["initializer"], "zeros");
        assert_eq!(first["expected_std"], 0.0);
        assert_eq!(first["histogram"]["counts"].as_array().map(Vec::len), Some(4));
        assert!(parsed[1]["mean"].is_null());
        assert!(parsed[1].get("initializer").is_none());
    }

    #[test]
    fn control_characters_in_names_are_escaped_in_text() {
        assert_eq!(printable("dense.kernel"), "dense.kernel");
        assert_eq!(printable("a\u{1b}[31mb\n\u{202e}"), "a\\u{1b}[31mb\\u{a}\\u{202e}");
        let mut hostile = report(&[1.0], None);
        hostile.name = "x\u{1b}]0;pwned\u{7}".to_string();
        let text = inspect_text(&[hostile.clone()]);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
        assert!(text.contains("x\\u{1b}]0;pwned\\u{7}"), "{text}");
        assert!(inspect_json(&[hostile]).contains("x\\u001b]0;pwned\\u0007"));
    }
}
