//! The three distributions behind every random initializer, generated a batch of Philox blocks
//! at a time (`kernel.rs`) and rounded into the output dtype. Element i is a function of
//! (stream, i) alone, so any window of a tensor can be generated on its own, in any order and on
//! any thread. Mapping documented in `specs/rng.md`.

use rayon::prelude::*;

use super::dtype;
use super::kernel::{self, LANES, Words};
use super::stream::Stream;
use crate::tensor::DType;

/// Elements per parallel work item.
pub const PIECE_ELEMENTS: usize = 1 << 14;

/// Truncated normal candidates use block `(attempt << 48) | (i / 2)`: 16 attempt bits above 48
/// index bits (no tensor has 2^49 elements). After this many rejections (probability
/// 0.0455^65536) the element falls back to the mean rather than looping forever.
const TRUNCATION_ATTEMPTS: u64 = 1 << 16;
const ATTEMPT_SHIFT: u32 = 48;
/// Keras truncates at two standard deviations.
pub const TRUNCATION_BOUND: f64 = 2.0;
/// Standard deviation of a standard normal truncated to [−TRUNCATION_BOUND, TRUNCATION_BOUND]; Keras
/// divides by it so that a truncated draw has the requested variance. Keras's literal verbatim (it
/// rounds to this f64).
#[allow(clippy::excessive_precision)]
pub const TRUNCATED_STDDEV_CORRECTION: f64 = 0.879_625_661_034_239_78;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Uniform on [low, high), also after rounding to the dtype.
    Uniform {
        low: f64,
        high: f64,
    },
    Normal {
        mean: f64,
        stddev: f64,
    },
    /// Normal, with draws beyond `TRUNCATION_BOUND` standard deviations redrawn.
    TruncatedNormal {
        mean: f64,
        stddev: f64,
    },
}

/// A sampler bound to a stream and a dtype, ready to fill any window of its tensor.
#[derive(Clone, Copy, Debug)]
pub struct Job {
    sampler: Sampler,
    stream: Stream,
    dtype: DType,
    /// Uniform only: the dtype values the result is clamped to, [low, below_high].
    low: f64,
    below_high: f64,
    /// Normals of f32, f16 and bf16 tensors: drawn in f32, four per block (else two per block,
    /// in f64).
    f32_normal: Option<F32Normal>,
}

#[derive(Clone, Copy, Debug)]
struct F32Normal {
    mean: f64,
    stddev: f64,
    truncated: bool,
}

impl Sampler {
    pub fn job(self, stream: Stream, dtype: DType) -> Job {
        let (low, below_high) = match self {
            Sampler::Uniform { low, high } => {
                (dtype::round(dtype, low), dtype::next_below(dtype, dtype::round(dtype, high)))
            }
            Sampler::Normal { .. } | Sampler::TruncatedNormal { .. } => (0.0, 0.0),
        };
        let f32_normal = match self {
            _ if dtype == DType::F64 => None,
            Sampler::Uniform { .. } => None,
            Sampler::Normal { mean, stddev } => Some(F32Normal { mean, stddev, truncated: false }),
            Sampler::TruncatedNormal { mean, stddev } => Some(F32Normal { mean, stddev, truncated: true }),
        };
        Job { sampler: self, stream, dtype, low, below_high, f32_normal }
    }

    /// f32 values of the whole tensor (tests).
    #[cfg(test)]
    pub fn fill(&self, stream: &Stream, out: &mut [f32]) {
        self.fill_from(stream, 0, out);
    }

    /// f32 values of elements `first..first + out.len()` (the orthogonal draw).
    pub fn fill_from(&self, stream: &Stream, first: u64, out: &mut [f32]) {
        let job = self.job(*stream, DType::F32);
        let mut bytes = vec![0u8; out.len() * 4];
        job.fill_bytes(first, &mut bytes);
        for (value, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *value = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
    }
}

impl Job {
    /// Elements `first..first + out.len() / size` as little-endian dtype bytes. Parallel over
    /// pieces of `PIECE_ELEMENTS`; bit-identical to a serial fill of any split.
    pub fn fill_bytes(&self, first: u64, out: &mut [u8]) {
        let size = self.dtype.size_bytes();
        if out.len() <= PIECE_ELEMENTS * size {
            self.fill_piece(first, out);
        } else {
            out.par_chunks_mut(PIECE_ELEMENTS * size).enumerate().for_each(|(index, piece)| {
                self.fill_piece(first + (index * PIECE_ELEMENTS) as u64, piece);
            });
        }
    }

    /// One piece on this thread, in the widest SIMD the CPU has. The features change only how
    /// many lanes run at once, never an operation or its order: the bits are the same.
    fn fill_piece(&self, first: u64, out: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                // SAFETY: the CPU has every feature the function enables.
                return unsafe { fill_piece_avx512(self, first, out) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { fill_piece_avx2(self, first, out) };
            }
        }
        fill_piece_portable(self, first, out);
    }

    /// Elements per Philox block: 4 for normals in f32, else 2.
    fn per_block(&self) -> u64 {
        if self.f32_normal.is_some() { 4 } else { 2 }
    }

    /// The final values (before dtype encoding) of the `per_block·LANES` elements of blocks
    /// `block..block + LANES`: element `per_block·block + j` is `values[j]`.
    /// `AVX512`: the caller runs with AVX-512F enabled, so the hand-vectorised rounds may run.
    #[inline(always)]
    fn batch<const AVX512: bool>(&self, block: u64, words: &mut Words, values: &mut [f64; 4 * LANES]) {
        let (key, high) = (self.stream.key(), self.stream.counter_high());
        #[cfg(target_arch = "x86_64")]
        if AVX512 {
            // SAFETY: only `fill_piece_avx512`, which requires AVX-512F, passes `true`.
            unsafe { kernel::philox_batch_avx512(key, high, block, words) };
        } else {
            kernel::philox_batch(key, high, block, words);
        }
        #[cfg(not(target_arch = "x86_64"))]
        kernel::philox_batch(key, high, block, words);
        if let Some(F32Normal { mean, stddev, truncated }) = self.f32_normal {
            let mut quads = [[0.0f32; LANES]; 4];
            kernel::normal_batch_f32(words, &mut quads);
            for lane in 0..LANES {
                for (position, quad) in quads.iter().enumerate() {
                    values[4 * lane + position] = mean + stddev * f64::from(quad[lane]);
                }
            }
            // Rejections (4.6 % of draws) are rare: a separate pass keeps the loop above vector code.
            if truncated {
                for lane in 0..LANES {
                    for (position, quad) in quads.iter().enumerate() {
                        if f64::from(quad[lane]).abs() >= TRUNCATION_BOUND {
                            let z = redraw_truncated_f32(&self.stream, block + lane as u64, position);
                            values[4 * lane + position] = mean + stddev * f64::from(z);
                        }
                    }
                }
            }
            return;
        }
        let mut even = [0.0f64; LANES];
        let mut odd = [0.0f64; LANES];
        match self.sampler {
            Sampler::Uniform { low, high } => {
                kernel::uniform_batch(words, &mut even, &mut odd);
                let width = high - low;
                let (floor, ceiling, dtype) = (self.low, self.below_high, self.dtype);
                // `max` last: if the bounds collapse to one value, the lower bound wins.
                let map = |u: f64| dtype::round(dtype, low + width * u).min(ceiling).max(floor);
                if dtype == DType::F32 {
                    // The same as `map`, with the rounding spelled out so the loop vectorises.
                    let map = |u: f64| f64::from((low + width * u) as f32).min(ceiling).max(floor);
                    for lane in 0..LANES {
                        values[2 * lane] = map(even[lane]);
                        values[2 * lane + 1] = map(odd[lane]);
                    }
                } else {
                    for lane in 0..LANES {
                        values[2 * lane] = map(even[lane]);
                        values[2 * lane + 1] = map(odd[lane]);
                    }
                }
            }
            Sampler::Normal { mean, stddev } => {
                kernel::normal_batch(words, &mut even, &mut odd);
                for lane in 0..LANES {
                    values[2 * lane] = mean + stddev * even[lane];
                    values[2 * lane + 1] = mean + stddev * odd[lane];
                }
            }
            Sampler::TruncatedNormal { mean, stddev } => {
                kernel::normal_batch(words, &mut even, &mut odd);
                for lane in 0..LANES {
                    let block_index = block + lane as u64;
                    // Attempt 0 serves both elements of the pair; only rejected ones go on alone.
                    if even[lane].abs() >= TRUNCATION_BOUND {
                        even[lane] = redraw_truncated(&self.stream, block_index, 0);
                    }
                    if odd[lane].abs() >= TRUNCATION_BOUND {
                        odd[lane] = redraw_truncated(&self.stream, block_index, 1);
                    }
                    values[2 * lane] = mean + stddev * even[lane];
                    values[2 * lane + 1] = mean + stddev * odd[lane];
                }
            }
        }
    }
}

#[inline(always)]
fn fill_piece_inline<const AVX512: bool>(job: &Job, first: u64, out: &mut [u8]) {
    let size = job.dtype.size_bytes();
    let count = out.len() / size;
    let mut words: Words = [[0u32; LANES]; 4];
    let mut values = [0.0f64; 4 * LANES];
    let per_block = job.per_block();
    let per_batch = per_block as usize * LANES;
    let mut done = 0usize;
    let mut block = first / per_block;
    while done < count {
        job.batch::<AVX512>(block, &mut words, &mut values);
        // Only the first batch can start inside a block.
        let skip = (first + done as u64 - per_block * block) as usize;
        let take = (per_batch - skip).min(count - done);
        dtype::encode(job.dtype, &values[skip..skip + take], &mut out[done * size..(done + take) * size]);
        done += take;
        block += LANES as u64;
    }
}

fn fill_piece_portable(job: &Job, first: u64, out: &mut [u8]) {
    fill_piece_inline::<false>(job, first, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fill_piece_avx2(job: &Job, first: u64, out: &mut [u8]) {
    fill_piece_inline::<false>(job, first, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn fill_piece_avx512(job: &Job, first: u64, out: &mut [u8]) {
    fill_piece_inline::<true>(job, first, out);
}

/// Attempts 1, 2, … for element `position` (0–3) of the f32 normals of block `block_index`.
fn redraw_truncated_f32(stream: &Stream, block_index: u64, position: usize) -> f32 {
    for attempt in 1..TRUNCATION_ATTEMPTS {
        let words = stream.block((attempt << ATTEMPT_SHIFT) | block_index);
        let pair = kernel::standard_normal_pair_f32(words[position & 2], words[(position & 2) + 1]);
        let z = if position & 1 == 0 { pair.0 } else { pair.1 };
        if f64::from(z).abs() < TRUNCATION_BOUND {
            return z;
        }
    }
    0.0
}

/// Attempts 1, 2, … for one element of the pair at `block_index`; `parity` picks cos (0) or sin (1).
fn redraw_truncated(stream: &Stream, block_index: u64, parity: u64) -> f64 {
    for attempt in 1..TRUNCATION_ATTEMPTS {
        let [w0, w1, w2, w3] = stream.block((attempt << ATTEMPT_SHIFT) | block_index);
        let (even, odd) = kernel::standard_normal_pair(w0, w1, w2, w3);
        let z = if parity == 0 { even } else { odd };
        if z.abs() < TRUNCATION_BOUND {
            return z;
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_sampler() -> [Sampler; 3] {
        [
            Sampler::Uniform { low: -0.5, high: 0.25 },
            Sampler::Normal { mean: 0.1, stddev: 2.0 },
            Sampler::TruncatedNormal { mean: 0.0, stddev: 1.0 },
        ]
    }

    #[test]
    fn every_window_and_every_path_give_the_same_bytes() {
        let stream = Stream::derive(3, "window");
        for dtype in [DType::F32, DType::F16, DType::BF16, DType::F64] {
            let size = dtype.size_bytes();
            for sampler in every_sampler() {
                let job = sampler.job(stream, dtype);
                let count = 3 * PIECE_ELEMENTS + 77;
                let mut whole = vec![0u8; count * size];
                job.fill_bytes(0, &mut whole);
                // Windows of odd and even starts and lengths, through each code path.
                for (first, len) in [(0, 1), (1, 1), (1, 130), (127, 300), (5000, PIECE_ELEMENTS + 3), (count - 3, 3)] {
                    let window = &whole[first * size..(first + len) * size];
                    let mut bytes = vec![0u8; len * size];
                    job.fill_bytes(first as u64, &mut bytes);
                    assert_eq!(bytes, window, "{sampler:?} {dtype:?} {first}+{len}");
                    fill_piece_portable(&job, first as u64, &mut bytes);
                    assert_eq!(bytes, window, "portable {sampler:?} {dtype:?} {first}+{len}");
                }
            }
        }
    }
}
