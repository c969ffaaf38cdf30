//! Statistics and histograms of a tensor's bytes, streamed: the caller feeds the bytes in
//! pieces of any size, in order, and gets every statistic (and, for 8- and 16-bit dtypes, the
//! histogram) from one pass.
//!
//! The data is cut into blocks of [`BLOCK_ELEMENTS`] counted from the tensor's first element,
//! whatever the pieces; each block's count, range, mean and sum of squared deviations come from
//! [`kernel::block_moments`], and the blocks are merged in order with Chan et al.'s pairwise
//! update. Blocks run in parallel, but the merge order is fixed, so the result does not depend
//! on the thread count or on how the bytes were cut. A histogram needs the range first: for 8-
//! and 16-bit dtypes the pass also counts every bit pattern (a table of 256 or 65,536 counts) and
//! the histogram is made from that table; wider dtypes are binned by a [`Binner`] in a second
//! pass. Memory is one piece, one table and a few blocks' worth of values, whatever the size.

use super::element::element_bytes;
use super::kernel::{self, Binning, BlockMoments, Decoder};
use rayon::prelude::*;
use safetensors::Dtype;

/// Elements per block: the unit of parallel work and of the fixed merge order.
pub const BLOCK_ELEMENTS: usize = 64 * 1024;
/// Blocks handed to the thread pool at once.
const BLOCKS_PER_ROUND: usize = 256;

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

    fn of_block(block: BlockMoments) -> TensorStats {
        TensorStats {
            count: block.count,
            finite: block.finite,
            mean: block.mean,
            sum_squared_deviations: block.squared_deviations,
            min: block.min,
            max: block.max,
            zeros: block.zeros,
            nan: block.nan,
            inf: block.count - block.finite - block.nan,
        }
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

/// One tensor being measured: feed its bytes in order, then [`Measurement::finish`].
pub struct Measurement {
    decoder: Decoder,
    stats: TensorStats,
    /// The start of a block not yet complete.
    carry: Vec<u8>,
    /// Counts by bit pattern, when a histogram is wanted and the dtype is 8 or 16 bits wide.
    codes: Option<CodeCounts>,
}

/// Counts by bit pattern: one `u32` table per thread (so threads never share a counter),
/// added into `u64` totals before any could overflow and at the end.
struct CodeCounts {
    totals: Vec<u64>,
    /// Per thread; for 16-bit codes two interleaved tables (see `kernel::count_codes`).
    tables: Vec<Vec<u32>>,
    /// Elements counted into `tables` since they were last added to `totals`.
    pending: u64,
}

/// Spare `u32` tables: a 16-bit tensor's tables are 512 KiB each, and a checkpoint has hundreds
/// of tensors, so they are reused rather than allocated (and faulted in) again.
static SPARE_TABLES: std::sync::Mutex<Vec<Vec<u32>>> = std::sync::Mutex::new(Vec::new());
/// Spare tables kept at most.
const MAX_SPARE_TABLES: usize = 8;

impl CodeCounts {
    fn new(width: usize) -> CodeCounts {
        CodeCounts { totals: vec![0; 1 << (8 * width)], tables: Vec::new(), pending: 0 }
    }

    /// `count` zeroed tables of `length`.
    fn ensure_tables(&mut self, count: usize, length: usize) {
        while self.tables.len() < count {
            let spare = SPARE_TABLES.lock().ok().and_then(|mut spare| spare.pop());
            let table = match spare {
                Some(mut table) if table.len() == length => {
                    table.fill(0);
                    table
                }
                _ => vec![0; length],
            };
            self.tables.push(table);
        }
    }

    /// Adds the tables into the totals and zeroes them.
    fn flush(&mut self) {
        let codes = self.totals.len();
        for table in &mut self.tables {
            for (index, count) in table.iter_mut().enumerate() {
                self.totals[index % codes] += u64::from(*count);
                *count = 0;
            }
        }
        self.pending = 0;
    }

    fn into_totals(mut self) -> Vec<u64> {
        self.flush();
        if let Ok(mut spare) = SPARE_TABLES.lock() {
            let room = MAX_SPARE_TABLES.saturating_sub(spare.len());
            spare.extend(self.tables.drain(..).take(room));
        }
        self.totals
    }
}

/// What one pass found: the statistics, and the counts by bit pattern if they were taken.
#[derive(Clone, Debug)]
pub struct Measured {
    pub stats: TensorStats,
    decoder: Decoder,
    codes: Option<Vec<u64>>,
}

impl Measurement {
    /// A measurement of a `dtype` tensor; `None` for a dtype without decodable values. With
    /// `histogram`, 8- and 16-bit dtypes also count their bit patterns.
    pub fn new(dtype: Dtype, histogram: bool) -> Option<Measurement> {
        let decoder = Decoder::of(dtype)?;
        let codes = (histogram && decoder.width() <= 2).then(|| CodeCounts::new(decoder.width()));
        Some(Measurement { decoder, stats: TensorStats::EMPTY, carry: Vec::new(), codes })
    }

    /// Adds the next bytes of the tensor (any length; an element may be split between calls).
    pub fn feed(&mut self, mut bytes: &[u8]) {
        let block_bytes = BLOCK_ELEMENTS * self.decoder.width();
        if !self.carry.is_empty() {
            let take = (block_bytes - self.carry.len()).min(bytes.len());
            self.carry.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.carry.len() < block_bytes {
                return;
            }
            let carry = std::mem::take(&mut self.carry);
            self.process(&carry);
            self.carry = carry;
            self.carry.clear();
        }
        let whole = bytes.len() / block_bytes * block_bytes;
        for round in bytes[..whole].chunks(block_bytes * BLOCKS_PER_ROUND) {
            self.process(round);
        }
        self.carry.extend_from_slice(&bytes[whole..]);
    }

    /// Whole blocks (or the tensor's last, shorter one), in parallel, merged in order.
    fn process(&mut self, bytes: &[u8]) {
        let block_bytes = BLOCK_ELEMENTS * self.decoder.width();
        let decoder = self.decoder;
        let blocks: Vec<BlockMoments> = match &mut self.codes {
            None => bytes.par_chunks(block_bytes).map(|block| kernel::block_moments(decoder, block)).collect(),
            Some(codes) => {
                let width = decoder.width();
                let blocks: Vec<&[u8]> = bytes.chunks(block_bytes).collect();
                let groups = rayon::current_num_threads().clamp(1, blocks.len().max(1));
                let table_length = codes.totals.len() * if width == 2 { 2 } else { 1 };
                if codes.pending + (bytes.len() / width) as u64 > u64::from(u32::MAX) {
                    codes.flush();
                }
                codes.ensure_tables(groups, table_length);
                codes.pending += (bytes.len() / width) as u64;
                // Contiguous runs of blocks, one per thread; counts are integers, so any split
                // gives the same totals, and the moments keep their block order.
                let per_group = blocks.len().div_ceil(groups).max(1);
                let parts: Vec<Vec<BlockMoments>> = codes
                    .tables
                    .par_iter_mut()
                    .zip(blocks.par_chunks(per_group))
                    .map(|(table, group)| {
                        group
                            .iter()
                            .map(|block| {
                                kernel::count_codes(width, block, table);
                                kernel::block_moments(decoder, block)
                            })
                            .collect()
                    })
                    .collect();
                parts.into_iter().flatten().collect()
            }
        };
        self.stats = blocks.into_iter().map(TensorStats::of_block).fold(self.stats, TensorStats::merge);
    }

    /// The statistics, after the last bytes were fed.
    pub fn finish(mut self) -> Measured {
        if !self.carry.is_empty() {
            let carry = std::mem::take(&mut self.carry);
            self.process(&carry);
        }
        Measured { stats: self.stats, decoder: self.decoder, codes: self.codes.map(CodeCounts::into_totals) }
    }
}

impl Measured {
    /// The histogram from the counts by bit pattern; `None` when they were not taken (then a
    /// [`Binner`] pass makes it) or when there is no finite value.
    pub fn histogram(&self, bins: usize) -> Option<Histogram> {
        let codes = self.codes.as_ref()?;
        let binning = binning_of(&self.stats, bins)?;
        let mut counts = vec![0u64; binning.bins];
        for (code, &count) in codes.iter().enumerate() {
            if count > 0 {
                let value = self.decoder.value_of_code(code as u64);
                if value.is_finite() {
                    counts[binning.bin_of(value)] += count;
                }
            }
        }
        Some(Histogram { low: binning.low, high: binning.high, counts })
    }

    /// True when a histogram needs a second pass over the bytes (a [`Binner`]).
    pub fn needs_binner(&self) -> bool {
        self.codes.is_none() && self.stats.finite > 0
    }
}

fn binning_of(stats: &TensorStats, bins: usize) -> Option<Binning> {
    (stats.finite > 0 && stats.min.is_finite() && stats.max.is_finite())
        .then(|| Binning::new(stats.min, stats.max, bins))
}

/// The second pass of a histogram for dtypes wider than 16 bits: feed the bytes again.
pub struct Binner {
    decoder: Decoder,
    binning: Binning,
    counts: Vec<u64>,
    carry: Vec<u8>,
}

impl Binner {
    /// `None` for a dtype without values or a tensor without finite values.
    pub fn new(dtype: Dtype, stats: &TensorStats, bins: usize) -> Option<Binner> {
        let binning = binning_of(stats, bins)?;
        Some(Binner { decoder: Decoder::of(dtype)?, binning, counts: vec![0; binning.bins], carry: Vec::new() })
    }

    /// Adds the next bytes (any length; an element may be split between calls).
    pub fn feed(&mut self, mut bytes: &[u8]) {
        let width = self.decoder.width();
        if !self.carry.is_empty() {
            let take = (width - self.carry.len()).min(bytes.len());
            self.carry.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.carry.len() < width {
                return;
            }
            let carry = std::mem::take(&mut self.carry);
            kernel::bin_values(self.decoder, &carry, &self.binning, &mut self.counts);
        }
        let whole = bytes.len() / width * width;
        let (decoder, binning, bins) = (self.decoder, self.binning, self.counts.len());
        // Counts are integers: any split and order give the same sums.
        let counts = bytes[..whole]
            .par_chunks(BLOCK_ELEMENTS * width)
            .fold(
                || vec![0u64; bins],
                |mut counts, block| {
                    kernel::bin_values(decoder, block, &binning, &mut counts);
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
        self.counts.iter_mut().zip(counts).for_each(|(sum, count)| *sum += count);
        self.carry.extend_from_slice(&bytes[whole..]);
    }

    pub fn finish(self) -> Histogram {
        Histogram { low: self.binning.low, high: self.binning.high, counts: self.counts }
    }
}

/// Statistics of `bytes` read as little-endian `dtype` elements; `None` for a dtype without
/// decodable values.
pub fn statistics(dtype: Dtype, bytes: &[u8]) -> Option<TensorStats> {
    let mut measurement = Measurement::new(dtype, false)?;
    measurement.feed(bytes);
    Some(measurement.finish().stats)
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
/// stats.max]`. `None` for a dtype without values or no finite value.
pub fn histogram(dtype: Dtype, bytes: &[u8], stats: &TensorStats, bins: usize) -> Option<Histogram> {
    element_bytes(dtype)?;
    let mut binner = Binner::new(dtype, stats, bins)?;
    binner.feed(bytes);
    Some(binner.finish())
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

    /// Values with a spread of magnitudes, NaN, infinities and zeros, as `dtype` bytes.
    fn mixed_bytes(dtype: Dtype, count: usize) -> Vec<u8> {
        (0..count)
            .flat_map(|i| {
                let value = match i % 1009 {
                    0 => f32::NAN,
                    1 => f32::INFINITY,
                    2 | 3 => 0.0,
                    k => ((k * 7919) % 2003) as f32 / 97.0 - 10.0,
                };
                match dtype {
                    Dtype::BF16 => half::bf16::from_f32(value).to_le_bytes().to_vec(),
                    Dtype::F16 => half::f16::from_f32(value).to_le_bytes().to_vec(),
                    _ => value.to_le_bytes().to_vec(),
                }
            })
            .collect()
    }

    fn measure_in_pieces(dtype: Dtype, bytes: &[u8], piece: usize, histogram: bool) -> Measured {
        let mut measurement = Measurement::new(dtype, histogram).expect("a dtype with values");
        for part in bytes.chunks(piece) {
            measurement.feed(part);
        }
        measurement.finish()
    }

    #[test]
    fn pieces_and_thread_counts_do_not_change_a_bit() {
        for dtype in [Dtype::F32, Dtype::BF16, Dtype::F16] {
            let bytes = mixed_bytes(dtype, 5 * BLOCK_ELEMENTS + 1234);
            let whole = measure_in_pieces(dtype, &bytes, bytes.len(), true);
            for piece in [1, 3, 4096, BLOCK_ELEMENTS * 2 + 5, 7 * BLOCK_ELEMENTS] {
                assert_eq!(measure_in_pieces(dtype, &bytes, piece, true).stats, whole.stats, "{dtype:?} {piece}");
            }
            assert_eq!(measure_in_pieces(dtype, &bytes, 4096, false).stats, whole.stats, "{dtype:?}");
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
                let measured = pool.install(|| measure_in_pieces(dtype, &bytes, 1 << 20, true));
                assert_eq!(measured.stats, whole.stats, "{dtype:?} on {threads} threads");
            }
            let nan = (0..5 * BLOCK_ELEMENTS + 1234).filter(|i| i % 1009 == 0).count() as u64;
            let inf = (0..5 * BLOCK_ELEMENTS + 1234).filter(|i| i % 1009 == 1).count() as u64;
            assert_eq!((whole.stats.nan, whole.stats.inf), (nan, inf), "{dtype:?}");
        }
    }

    #[test]
    fn histograms_from_bit_patterns_equal_binning_every_value() {
        for dtype in [Dtype::BF16, Dtype::F16, Dtype::I8, Dtype::U16] {
            let bytes: Vec<u8> = match dtype {
                Dtype::I8 => (0..10_000u32).map(|i| (i * 37 % 251) as u8).collect(),
                Dtype::U16 => (0..10_000u32).flat_map(|i| ((i * 7919) as u16).to_le_bytes()).collect(),
                _ => mixed_bytes(dtype, 3 * BLOCK_ELEMENTS),
            };
            let measured = measure_in_pieces(dtype, &bytes, 1000, true);
            assert!(!measured.needs_binner());
            for bins in [1, 7, 24] {
                let from_codes = measured.histogram(bins).expect("finite values");
                let binned = histogram(dtype, &bytes, &measured.stats, bins).expect("finite values");
                assert_eq!(from_codes, binned, "{dtype:?} {bins}");
                assert_eq!(from_codes.counts.iter().sum::<u64>(), measured.stats.finite);
            }
        }
        let f32_bytes = mixed_bytes(Dtype::F32, 1000);
        let measured = measure_in_pieces(Dtype::F32, &f32_bytes, 1000, true);
        assert!(measured.needs_binner() && measured.histogram(4).is_none());
    }
}
