//! Statistics and histograms of a tensor's bytes, streamed: the caller feeds the bytes in
//! pieces of any size, in order, and gets every statistic (and, for 8- and 16-bit dtypes, the
//! histogram) from one pass.
//!
//! The data is cut into blocks of [`BLOCK_ELEMENTS`] counted from the tensor's first element,
//! whatever the pieces; each block's count, range, mean and sum of squared deviations come from
//! [`kernel::block_moments`], and the blocks are merged in order with Chan et al.'s pairwise
//! update. Blocks run in parallel, but the merge order is fixed, so the result does not depend
//! on the thread count or on how the bytes were cut. 8- and 16-bit dtypes are not measured block
//! by block: the pass only counts every bit pattern (a table of 256 or 65,536 counts), and the
//! statistics and the histogram are both made from that table at the end (one scattered
//! increment per element instead of the moments' sweeps and then the count). A histogram needs
//! the range first, so wider dtypes are binned by a [`Binner`] in a second pass. Memory is one
//! piece, one table and a few blocks' worth of values, whatever the size.

use super::element::element_bytes;
use super::kernel::{self, Binning, BlockMoments, Decoder};
use super::parallel::{BlockBytes, for_each_block};
use safetensors::Dtype;

/// Elements per block: the unit of parallel work and of the fixed merge order.
pub const BLOCK_ELEMENTS: usize = 64 * 1024;

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
    /// The start of a block not yet complete (for [`Measurement::feed`]).
    carry: Vec<u8>,
    /// Blocks fed so far.
    blocks: usize,
    /// Counts by bit pattern, for a dtype 8 or 16 bits wide (the statistics come from them).
    codes: Option<Vec<u64>>,
}

/// What one pass found: the statistics, and the counts by bit pattern if they were taken.
#[derive(Clone, Debug)]
pub struct Measured {
    pub stats: TensorStats,
    decoder: Decoder,
    codes: Option<Vec<u64>>,
}

/// Spare `u32` count tables: a 16-bit tensor's are 1 MiB each and every parallel split needs
/// one, so they are reused rather than allocated (and faulted in) again.
static SPARE_TABLES: std::sync::Mutex<Vec<Vec<u32>>> = std::sync::Mutex::new(Vec::new());
/// Spare tables kept at most.
const MAX_SPARE_TABLES: usize = 8;

/// A zeroed table of `length` counts.
fn take_table(length: usize) -> Vec<u32> {
    match SPARE_TABLES.lock().ok().and_then(|mut spare| spare.pop()) {
        Some(mut table) if table.len() == length => {
            table.fill(0);
            table
        }
        _ => vec![0; length],
    }
}

fn give_back(table: Vec<u32>) {
    if let Ok(mut spare) = SPARE_TABLES.lock()
        && spare.len() < MAX_SPARE_TABLES
    {
        spare.push(table);
    }
}

impl Measurement {
    /// A measurement of a `dtype` tensor; `None` for a dtype without decodable values. 8- and
    /// 16-bit dtypes count their bit patterns, histogram or not, so that their statistics do not
    /// depend on whether one is wanted; wider dtypes get their histogram from a [`Binner`].
    pub fn new(dtype: Dtype) -> Option<Measurement> {
        let decoder = Decoder::of(dtype)?;
        let codes = (decoder.width() <= 2).then(|| vec![0u64; 1 << (8 * decoder.width())]);
        Some(Measurement { decoder, stats: TensorStats::EMPTY, carry: Vec::new(), blocks: 0, codes })
    }

    /// Bytes of a block: every block of a tensor but its last holds exactly this many.
    pub fn block_bytes(&self) -> usize {
        BLOCK_ELEMENTS * self.decoder.width()
    }

    /// True when bit patterns are counted (then larger rounds of blocks pay off: every parallel
    /// split of a round adds a whole table into the totals).
    pub fn counts_codes(&self) -> bool {
        self.codes.is_some()
    }

    /// Adds the tensor's blocks `blocks` (block `i` is bytes `[i·block_bytes, (i+1)·block_bytes)`,
    /// the last one possibly shorter), which must follow the blocks fed before. `fill(i, buffer)`
    /// gives block `i`'s bytes, borrowed or read into `buffer` on the thread that then computes
    /// on them (while they are still in that core's cache); blocks run in parallel, merged in
    /// order.
    pub fn feed_blocks<'w, E: Send>(
        &mut self,
        blocks: std::ops::Range<usize>,
        fill: impl Fn(usize, &mut Vec<u8>) -> Result<BlockBytes<'w>, E> + Sync,
    ) -> Result<(), E> {
        let decoder = self.decoder;
        let width = decoder.width();
        let table_length =
            self.codes.as_ref().map(|codes| codes.len() * if width == 2 { kernel::TABLES_16 } else { 1 });
        let count = blocks.len();
        let (states, moments) = for_each_block(
            blocks,
            || (Vec::new(), table_length.map(take_table)),
            |(buffer, table), index| {
                let buffer = fill(index, buffer)?.or_buffer(buffer);
                Ok(match table {
                    Some(table) => {
                        kernel::count_codes(width, buffer, table);
                        None
                    }
                    None => Some(kernel::block_moments(decoder, buffer)),
                })
            },
        )?;
        for (_, table) in states {
            if let (Some(codes), Some(table)) = (&mut self.codes, table) {
                // Interleaved tables for 16-bit codes (see `kernel::count_codes`).
                for part in table.chunks(codes.len()) {
                    codes.iter_mut().zip(part).for_each(|(total, &count)| *total += u64::from(count));
                }
                give_back(table);
            }
        }
        self.stats = moments
            .into_iter()
            .filter_map(|(_, block)| block.map(TensorStats::of_block))
            .fold(self.stats, TensorStats::merge);
        self.blocks += count;
        Ok(())
    }

    /// Adds the next bytes of a tensor held in memory (any length; an element or a block may be
    /// split between calls).
    pub fn feed(&mut self, mut bytes: &[u8]) {
        let block_bytes = self.block_bytes();
        if !self.carry.is_empty() {
            let take = (block_bytes - self.carry.len()).min(bytes.len());
            self.carry.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.carry.len() < block_bytes {
                return;
            }
            let carry = std::mem::take(&mut self.carry);
            self.feed_whole(&carry);
            self.carry = carry;
            self.carry.clear();
        }
        let whole = bytes.len() / block_bytes * block_bytes;
        self.feed_whole(&bytes[..whole]);
        self.carry.extend_from_slice(&bytes[whole..]);
    }

    /// Blocks in memory (whole ones, or the tensor's last).
    fn feed_whole(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let block_bytes = self.block_bytes();
        let first = self.blocks;
        let count = bytes.len().div_ceil(block_bytes);
        let fed: Result<(), std::convert::Infallible> = self.feed_blocks(first..first + count, |index, _| {
            let start = (index - first) * block_bytes;
            Ok(BlockBytes::Borrowed(&bytes[start..(start + block_bytes).min(bytes.len())]))
        });
        let Ok(()) = fed;
    }

    /// The statistics, after the last bytes were fed.
    pub fn finish(mut self) -> Measured {
        if !self.carry.is_empty() {
            let carry = std::mem::take(&mut self.carry);
            self.feed_whole(&carry);
        }
        let stats = match &self.codes {
            Some(codes) => stats_of_codes(self.decoder, codes),
            None => self.stats,
        };
        Measured { stats, decoder: self.decoder, codes: self.codes }
    }
}

/// The statistics of the elements counted in `codes` (`codes[c]` elements have the bits `c`),
/// from the table alone: the sum in code order, then the deviations from its mean, whose
/// residual corrects the rounding of that mean (as [`kernel::block_moments`] does per block).
/// A count times an 8- or 16-bit float is exact in `f64` below 2^42 elements.
fn stats_of_codes(decoder: Decoder, codes: &[u64]) -> TensorStats {
    let mut stats = TensorStats::EMPTY;
    let (mut sum, mut min, mut max) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    let present = || {
        codes
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(code, &count)| (decoder.value_of_code(code as u64), count))
    };
    for (value, count) in present() {
        stats.count += count;
        if value.is_nan() {
            stats.nan += count;
        } else if value.is_infinite() {
            stats.inf += count;
        } else {
            stats.finite += count;
            stats.zeros += if value == 0.0 { count } else { 0 };
            sum += value * count as f64;
            min = min.min(value);
            max = max.max(value);
        }
    }
    if stats.finite == 0 {
        return stats;
    }
    let finite = stats.finite as f64;
    let mean = sum / finite;
    let (mut deviations, mut residual) = (0.0f64, 0.0f64);
    for (value, count) in present().filter(|(value, _)| value.is_finite()) {
        let deviation = value - mean;
        deviations += deviation * deviation * count as f64;
        residual += deviation * count as f64;
    }
    stats.mean = mean + residual / finite;
    stats.sum_squared_deviations = (deviations - residual * residual / finite).max(0.0);
    stats.min = min;
    stats.max = max;
    stats
}

impl Measurement {
    #[cfg(test)]
    fn moments_by_block(dtype: Dtype) -> Option<Measurement> {
        let mut measurement = Measurement::new(dtype)?;
        measurement.codes = None;
        Some(measurement)
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

    /// Bytes of a block, as [`Measurement::block_bytes`].
    pub fn block_bytes(&self) -> usize {
        BLOCK_ELEMENTS * self.decoder.width()
    }

    /// Adds blocks read by `fill`, as [`Measurement::feed_blocks`] does (counts are integers,
    /// so neither the order nor the split changes them).
    pub fn feed_blocks<'w, E: Send>(
        &mut self,
        blocks: std::ops::Range<usize>,
        fill: impl Fn(usize, &mut Vec<u8>) -> Result<BlockBytes<'w>, E> + Sync,
    ) -> Result<(), E> {
        let (decoder, binning, bins) = (self.decoder, self.binning, self.counts.len());
        let (states, _) = for_each_block(
            blocks,
            || (vec![0u64; bins], Vec::new()),
            |(counts, buffer), index| {
                let bytes = fill(index, buffer)?.or_buffer(buffer);
                kernel::bin_values(decoder, bytes, &binning, counts);
                Ok(())
            },
        )?;
        // Counts are integers: neither the thread nor the order changes their sums.
        for (counts, _) in states {
            self.counts.iter_mut().zip(counts).for_each(|(sum, count)| *sum += count);
        }
        Ok(())
    }

    /// Adds the next bytes of a tensor held in memory (any length).
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
        let block_bytes = self.block_bytes();
        let fed: Result<(), std::convert::Infallible> = self.feed_blocks(0..whole.div_ceil(block_bytes), |index, _| {
            Ok(BlockBytes::Borrowed(&bytes[index * block_bytes..((index + 1) * block_bytes).min(whole)]))
        });
        let Ok(()) = fed;
        self.carry.extend_from_slice(&bytes[whole..]);
    }

    pub fn finish(self) -> Histogram {
        Histogram { low: self.binning.low, high: self.binning.high, counts: self.counts }
    }
}

/// Statistics of `bytes` read as little-endian `dtype` elements; `None` for a dtype without
/// decodable values.
pub fn statistics(dtype: Dtype, bytes: &[u8]) -> Option<TensorStats> {
    let mut measurement = Measurement::new(dtype)?;
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

    fn measure_in_pieces(dtype: Dtype, bytes: &[u8], piece: usize) -> Measured {
        let mut measurement = Measurement::new(dtype).expect("a dtype with values");
        for part in bytes.chunks(piece) {
            measurement.feed(part);
        }
        measurement.finish()
    }

    #[test]
    fn pieces_and_thread_counts_do_not_change_a_bit() {
        for dtype in [Dtype::F32, Dtype::BF16, Dtype::F16] {
            let bytes = mixed_bytes(dtype, 5 * BLOCK_ELEMENTS + 1234);
            let whole = measure_in_pieces(dtype, &bytes, bytes.len());
            for piece in [1, 3, 4096, BLOCK_ELEMENTS * 2 + 5, 7 * BLOCK_ELEMENTS] {
                assert_eq!(measure_in_pieces(dtype, &bytes, piece).stats, whole.stats, "{dtype:?} {piece}");
            }
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
                let measured = pool.install(|| measure_in_pieces(dtype, &bytes, 1 << 20));
                assert_eq!(measured.stats, whole.stats, "{dtype:?} on {threads} threads");
            }
            let nan = (0..5 * BLOCK_ELEMENTS + 1234).filter(|i| i % 1009 == 0).count() as u64;
            let inf = (0..5 * BLOCK_ELEMENTS + 1234).filter(|i| i % 1009 == 1).count() as u64;
            assert_eq!((whole.stats.nan, whole.stats.inf), (nan, inf), "{dtype:?}");
        }
    }

    /// Adversarial 8- and 16-bit tensors: NaN, ±Inf, ±0, subnormals, the extremes, a constant.
    fn adversarial_tensors() -> Vec<(Dtype, Vec<u8>)> {
        let halves = |values: &[f32], dtype: Dtype| -> Vec<u8> {
            values
                .iter()
                .flat_map(|&v| match dtype {
                    Dtype::BF16 => half::bf16::from_f32(v).to_le_bytes(),
                    _ => half::f16::from_f32(v).to_le_bytes(),
                })
                .collect()
        };
        let mut tensors = Vec::new();
        for dtype in [Dtype::BF16, Dtype::F16] {
            let tiny = if dtype == Dtype::BF16 { 1e-40 } else { 1e-7 };
            let big = if dtype == Dtype::BF16 { 3e38 } else { 65000.0 };
            let mixed: Vec<f32> = (0..3 * BLOCK_ELEMENTS + 5)
                .map(|i| match i % 13 {
                    0 => f32::NAN,
                    1 => f32::INFINITY,
                    2 => f32::NEG_INFINITY,
                    3 => -0.0,
                    4 => tiny,
                    5 => -tiny,
                    6 if i % 1000 == 6 => big,
                    _ => ((i * 7919) % 2003) as f32 / 97.0 - 10.0,
                })
                .collect();
            tensors.push((dtype, halves(&mixed, dtype)));
            tensors.push((dtype, halves(&vec![0.1; 2 * BLOCK_ELEMENTS + 3], dtype)));
            tensors.push((dtype, halves(&[f32::NAN, f32::INFINITY, tiny], dtype)));
            tensors.push((dtype, halves(&[f32::NAN; 7], dtype)));
            tensors.push((dtype, halves(&[1e4 + 1.0, 1e4 - 1.0, 1e4, 1e4], dtype)));
        }
        tensors.push((Dtype::I8, (0..70_000u32).map(|i| (i * 37 % 256) as u8).collect()));
        tensors.push((Dtype::U16, (0..70_000u32).flat_map(|i| ((i * 7919) as u16).to_le_bytes()).collect()));
        tensors.push((Dtype::F8_E4M3, (0..=255u8).cycle().take(10_000).collect()));
        tensors.push((Dtype::F8_E5M2, (0..=255u8).cycle().take(10_000).collect()));
        tensors
    }

    #[test]
    fn statistics_from_bit_patterns_agree_with_the_block_moments() {
        for (dtype, bytes) in adversarial_tensors() {
            let from_codes = measure_in_pieces(dtype, &bytes, 4099).stats;
            let mut by_block = Measurement::moments_by_block(dtype).expect("a dtype with values");
            by_block.feed(&bytes);
            let by_block = by_block.finish().stats;
            let counted = |s: &TensorStats| (s.count, s.finite, s.zeros, s.nan, s.inf);
            assert_eq!(counted(&from_codes), counted(&by_block), "{dtype:?}");
            let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            assert!(same(from_codes.min, by_block.min) && same(from_codes.max, by_block.max), "{dtype:?}");
            let close = |a: f64, b: f64, scale: f64| same(a, b) || (a - b).abs() <= 1e-12 * scale;
            let scale = from_codes.max.abs().max(from_codes.min.abs());
            assert!(close(from_codes.mean, by_block.mean, scale), "{dtype:?} {from_codes:?} {by_block:?}");
            assert!(close(from_codes.std(), by_block.std(), scale), "{dtype:?} {from_codes:?} {by_block:?}");
        }
    }

    #[test]
    fn a_constant_16_bit_tensor_has_its_value_as_mean_and_no_spread() {
        for dtype in [Dtype::BF16, Dtype::F16] {
            let value = half::f16::from_f32(0.1).to_f32();
            let bytes: Vec<u8> = (0..5 * BLOCK_ELEMENTS + 7)
                .flat_map(|_| match dtype {
                    Dtype::BF16 => half::bf16::from_f32(value).to_le_bytes(),
                    _ => half::f16::from_f32(value).to_le_bytes(),
                })
                .collect();
            let stats = statistics(dtype, &bytes).expect("a float dtype");
            let exact =
                Decoder::of(dtype).expect("decodes").value_of_code(u64::from(u16::from_le_bytes([bytes[0], bytes[1]])));
            assert_eq!((stats.mean, stats.std()), (exact, 0.0), "{dtype:?}");
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
            let measured = measure_in_pieces(dtype, &bytes, 1000);
            assert!(!measured.needs_binner());
            for bins in [1, 7, 24] {
                let from_codes = measured.histogram(bins).expect("finite values");
                let binned = histogram(dtype, &bytes, &measured.stats, bins).expect("finite values");
                assert_eq!(from_codes, binned, "{dtype:?} {bins}");
                assert_eq!(from_codes.counts.iter().sum::<u64>(), measured.stats.finite);
            }
        }
        let f32_bytes = mixed_bytes(Dtype::F32, 1000);
        let measured = measure_in_pieces(Dtype::F32, &f32_bytes, 1000);
        assert!(measured.needs_binner() && measured.histogram(4).is_none());
    }
}
