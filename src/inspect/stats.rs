//! One-pass, numerically stable statistics and histograms over a tensor's bytes.
//!
//! The data is cut into blocks of [`BLOCK_ELEMENTS`]; each block is decoded into a small
//! buffer, its mean and sum of squared deviations are computed in `f64` with two passes over
//! that (cache-resident) buffer, and the blocks are merged in order with Chan et al.'s
//! pairwise update. Blocks run in parallel, but the merge order is fixed, so the result does
//! not depend on the thread count. Memory use is one block per thread, whatever the tensor size.

use super::element::{decode_block, element_bytes};
use rayon::prelude::*;
use safetensors::Dtype;

/// Elements decoded at a time (512 KiB of `f64`).
const BLOCK_ELEMENTS: usize = 64 * 1024;

/// Statistics of a tensor's values. The moments and the range cover finite values only; NaN
/// and ±Inf are counted separately. `std` is the population standard deviation (numpy's
/// default `ddof=0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorStats {
    /// Every element, finite or not.
    pub count: u64,
    /// Finite elements, over which mean, std, min and max are taken.
    pub finite: u64,
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    sum_squared_deviations: f64,
    pub min: f64,
    pub max: f64,
    pub zeros: u64,
    pub nan: u64,
    pub inf: u64,
}

impl TensorStats {
    const EMPTY: TensorStats = TensorStats {
        count: 0,
        finite: 0,
        mean: f64::NAN,
        sum_squared_deviations: 0.0,
        min: f64::NAN,
        max: f64::NAN,
        zeros: 0,
        nan: 0,
        inf: 0,
    };

    /// Population standard deviation of the finite values; NaN when there are none.
    pub fn std(&self) -> f64 {
        if self.finite == 0 { f64::NAN } else { (self.sum_squared_deviations / self.finite as f64).sqrt() }
    }

    /// Fraction of elements that are exactly zero (±0); NaN for an empty tensor.
    pub fn zero_fraction(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.zeros as f64 / self.count as f64 }
    }

    fn of_block(values: &[f64]) -> TensorStats {
        let mut stats = TensorStats { count: values.len() as u64, ..TensorStats::EMPTY };
        let mut sum = 0.0;
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &value in values {
            if value.is_nan() {
                stats.nan += 1;
            } else if value.is_infinite() {
                stats.inf += 1;
            } else {
                stats.finite += 1;
                sum += value;
                min = min.min(value);
                max = max.max(value);
                if value == 0.0 {
                    stats.zeros += 1;
                }
            }
        }
        if stats.finite > 0 {
            let mean = sum / stats.finite as f64;
            let deviations: f64 = values.iter().filter(|v| v.is_finite()).map(|&v| (v - mean) * (v - mean)).sum();
            // The rounding error of `sum` shifts the mean; this term corrects the deviations for it.
            let residual: f64 = values.iter().filter(|v| v.is_finite()).map(|&v| v - mean).sum();
            stats.mean = mean + residual / stats.finite as f64;
            stats.sum_squared_deviations = (deviations - residual * residual / stats.finite as f64).max(0.0);
            stats.min = min;
            stats.max = max;
        }
        stats
    }

    /// Chan, Golub and LeVeque's pairwise combination of two partial results.
    fn merge(self, other: TensorStats) -> TensorStats {
        let finite = self.finite + other.finite;
        let (mean, sum_squared_deviations, min, max) = match (self.finite, other.finite) {
            (0, _) => (other.mean, other.sum_squared_deviations, other.min, other.max),
            (_, 0) => (self.mean, self.sum_squared_deviations, self.min, self.max),
            (left, right) => {
                let (left, right, total) = (left as f64, right as f64, finite as f64);
                let delta = other.mean - self.mean;
                let mean = self.mean + delta * right / total;
                let m2 =
                    self.sum_squared_deviations + other.sum_squared_deviations + delta * delta * left * right / total;
                (mean, m2, self.min.min(other.min), self.max.max(other.max))
            }
        };
        TensorStats {
            count: self.count + other.count,
            finite,
            mean,
            sum_squared_deviations,
            min,
            max,
            zeros: self.zeros + other.zeros,
            nan: self.nan + other.nan,
            inf: self.inf + other.inf,
        }
    }
}

/// Statistics of `bytes` read as little-endian `dtype` elements; `None` for a dtype without
/// decodable values.
pub fn statistics(dtype: Dtype, bytes: &[u8]) -> Option<TensorStats> {
    let width = element_bytes(dtype)?;
    let blocks: Vec<TensorStats> = bytes
        .par_chunks(BLOCK_ELEMENTS * width)
        .map_init(
            || Vec::with_capacity(BLOCK_ELEMENTS),
            |buffer, block| {
                buffer.clear();
                decode_block(dtype, block, buffer);
                TensorStats::of_block(buffer)
            },
        )
        .collect();
    Some(blocks.into_iter().fold(TensorStats::EMPTY, TensorStats::merge))
}

/// Counts of finite values in equal-width bins over `[low, high]` (the last bin is closed).
/// When `low == high` there is one bin holding every finite value.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub low: f64,
    pub high: f64,
    pub counts: Vec<u64>,
}

impl Histogram {
    /// The `[start, end]` of bin `index`.
    pub fn bin_range(&self, index: usize) -> (f64, f64) {
        let width = (self.high - self.low) / self.counts.len().max(1) as f64;
        (self.low + width * index as f64, self.low + width * (index + 1) as f64)
    }
}

/// The histogram of `bytes` as `dtype`, `bins` bins over the finite range `[stats.min,
/// stats.max]` (a second streaming pass). `None` for a dtype without values or no finite value.
pub fn histogram(dtype: Dtype, bytes: &[u8], stats: &TensorStats, bins: usize) -> Option<Histogram> {
    let width = element_bytes(dtype)?;
    if stats.finite == 0 || !stats.min.is_finite() || !stats.max.is_finite() {
        return None;
    }
    let (low, high) = (stats.min, stats.max);
    let bins = if high > low { bins.max(1) } else { 1 };
    let scale = bins as f64 / (high - low);
    let bin_of = |value: f64| -> usize {
        if bins == 1 {
            return 0;
        }
        // `as` saturates, and the last bin is closed on the right.
        (((value - low) * scale) as usize).min(bins - 1)
    };
    let counts = bytes
        .par_chunks(BLOCK_ELEMENTS * width)
        .map_init(
            || Vec::with_capacity(BLOCK_ELEMENTS),
            |buffer, block| {
                buffer.clear();
                decode_block(dtype, block, buffer);
                let mut counts = vec![0u64; bins];
                for &value in buffer.iter().filter(|v| v.is_finite()) {
                    counts[bin_of(value)] += 1;
                }
                counts
            },
        )
        .reduce(
            || vec![0u64; bins],
            |mut total, part| {
                total.iter_mut().zip(part).for_each(|(sum, count)| *sum += count);
                total
            },
        );
    Some(Histogram { low, high, counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn naive(values: &[f64]) -> (f64, f64) {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        (mean, variance.sqrt())
    }

    #[test]
    fn matches_the_textbook_formulas_across_many_blocks() {
        let values: Vec<f32> =
            (0..(3 * BLOCK_ELEMENTS + 17)).map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 3.0).collect();
        let stats = statistics(Dtype::F32, &bytes_of(&values)).expect("f32 has values");
        let wide: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        let (mean, std) = naive(&wide);
        assert!((stats.mean - mean).abs() < 1e-12, "{} vs {mean}", stats.mean);
        assert!((stats.std() - std).abs() < 1e-12, "{} vs {std}", stats.std());
        assert_eq!(stats.count, values.len() as u64);
        assert_eq!(stats.min, -3.0);
        assert_eq!(stats.max, 6.99f32 as f64);
    }

    #[test]
    fn is_stable_with_a_large_offset() {
        let values: Vec<f64> = (0..100_000).map(|i| 1e9 + (i % 2) as f64).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let stats = statistics(Dtype::F64, &bytes).expect("f64 has values");
        assert!((stats.std() - 0.5).abs() < 1e-9, "{}", stats.std());
        assert!((stats.mean - (1e9 + 0.5)).abs() < 1e-6);
    }

    #[test]
    fn counts_zeros_nan_and_inf_apart_from_the_moments() {
        let stats = statistics(Dtype::F32, &bytes_of(&[0.0, -0.0, 2.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY]))
            .expect("f32");
        assert_eq!((stats.count, stats.finite, stats.zeros, stats.nan, stats.inf), (6, 3, 2, 1, 2));
        assert!((stats.mean - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!((stats.min, stats.max), (0.0, 2.0));
        assert!((stats.zero_fraction() - 2.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn empty_and_opaque_tensors() {
        let stats = statistics(Dtype::F32, &[]).expect("f32");
        assert_eq!(stats.count, 0);
        assert!(stats.mean.is_nan() && stats.std().is_nan() && stats.zero_fraction().is_nan());
        assert!(statistics(Dtype::C64, &[0; 16]).is_none());
    }

    #[test]
    fn histogram_bins_cover_the_range_and_hold_every_finite_value() {
        let values: Vec<f32> = (0..=100).map(|i| i as f32).chain([f32::NAN]).collect();
        let bytes = bytes_of(&values);
        let stats = statistics(Dtype::F32, &bytes).expect("f32");
        let histogram = histogram(Dtype::F32, &bytes, &stats, 10).expect("finite values");
        assert_eq!(histogram.counts.iter().sum::<u64>(), 101);
        assert_eq!(histogram.counts[0], 10);
        assert_eq!(histogram.counts[9], 11, "the last bin is closed");
        assert_eq!(histogram.bin_range(9), (90.0, 100.0));
        let constant = bytes_of(&[0.4; 5]);
        let stats = statistics(Dtype::F32, &constant).expect("f32");
        assert_eq!(histogram_counts(&constant, &stats), vec![5]);
    }

    fn histogram_counts(bytes: &[u8], stats: &TensorStats) -> Vec<u64> {
        histogram(Dtype::F32, bytes, stats, 10).map(|h| h.counts).unwrap_or_default()
    }
}
