//! The three distributions behind every random initializer, and the chunked, parallel fill that
//! keeps element i a function of (stream, i) alone. Mapping documented in `specs/rng.md`.

use rayon::prelude::*;

use super::stream::{Stream, standard_normal_pair, unit_interval};

/// Elements per parallel work item. Even, so a chunk never splits a Philox block's pair.
const CHUNK_ELEMENTS: usize = 1 << 14;

/// Truncated normal candidates use block `(attempt << 48) | (i / 2)`: 16 attempt bits above 48
/// index bits (no tensor has 2^49 elements). After this many rejections (probability
/// 0.0455^65536) the element falls back to the mean rather than looping forever.
const TRUNCATION_ATTEMPTS: u64 = 1 << 16;
const ATTEMPT_SHIFT: u32 = 48;
/// Keras truncates at two standard deviations.
const TRUNCATION_BOUND: f64 = 2.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Uniform on [low, high), also after rounding to f32.
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

impl Sampler {
    /// Fill `out` (element 0 is element 0 of the tensor). Parallel, bit-identical to serial.
    pub fn fill(&self, stream: &Stream, out: &mut [f32]) {
        if out.len() <= CHUNK_ELEMENTS {
            self.fill_chunk(stream, 0, out);
        } else {
            out.par_chunks_mut(CHUNK_ELEMENTS).enumerate().for_each(|(chunk_index, chunk)| {
                self.fill_chunk(stream, (chunk_index * CHUNK_ELEMENTS) as u64, chunk);
            });
        }
    }

    /// Fill the elements `first..first + chunk.len()`; `first` must be even.
    fn fill_chunk(&self, stream: &Stream, first: u64, chunk: &mut [f32]) {
        let first_block = first / 2;
        match *self {
            Sampler::Uniform { low, high } => {
                let bounds = UniformBounds::new(low, high);
                for (offset, pair) in chunk.chunks_mut(2).enumerate() {
                    let words = stream.block(first_block + offset as u64);
                    write_pair(pair, bounds.map(unit_interval(words[0], words[1])), || {
                        bounds.map(unit_interval(words[2], words[3]))
                    });
                }
            }
            Sampler::Normal { mean, stddev } => {
                for (offset, pair) in chunk.chunks_mut(2).enumerate() {
                    let (even, odd) = standard_normal_pair(stream.block(first_block + offset as u64));
                    write_pair(pair, (mean + stddev * even) as f32, || (mean + stddev * odd) as f32);
                }
            }
            Sampler::TruncatedNormal { mean, stddev } => {
                for (offset, pair) in chunk.chunks_mut(2).enumerate() {
                    let block_index = first_block + offset as u64;
                    // Attempt 0 serves both elements of the pair; only rejected ones go on alone.
                    let (even, odd) = standard_normal_pair(stream.block(block_index));
                    let accept = |z: f64, parity: u64| {
                        if z.abs() < TRUNCATION_BOUND { z } else { redraw_truncated(stream, block_index, parity) }
                    };
                    write_pair(pair, (mean + stddev * accept(even, 0)) as f32, || {
                        (mean + stddev * accept(odd, 1)) as f32
                    });
                }
            }
        }
    }
}

/// Write the even element, and the odd one if the pair is complete (the tensor's last pair may
/// hold one element). The odd value is computed lazily so a half pair does no extra work.
fn write_pair(pair: &mut [f32], even: f32, odd: impl FnOnce() -> f32) {
    if let Some(slot) = pair.first_mut() {
        *slot = even;
    }
    if let Some(slot) = pair.get_mut(1) {
        *slot = odd();
    }
}

/// Attempts 1, 2, … for one element of the pair at `block_index`; `parity` picks cos (0) or sin (1).
fn redraw_truncated(stream: &Stream, block_index: u64, parity: u64) -> f64 {
    for attempt in 1..TRUNCATION_ATTEMPTS {
        let (even, odd) = standard_normal_pair(stream.block((attempt << ATTEMPT_SHIFT) | block_index));
        let z = if parity == 0 { even } else { odd };
        if z.abs() < TRUNCATION_BOUND {
            return z;
        }
    }
    0.0
}

/// Maps u ∈ [0, 1) to [low, high) and keeps the f32 result inside [f32(low), f32(high)).
#[derive(Clone, Copy, Debug)]
struct UniformBounds {
    low: f64,
    width: f64,
    low_f32: f32,
    /// The largest f32 below f32(high); rounding `low + width·u` to f32 may reach f32(high).
    below_high_f32: f32,
}

impl UniformBounds {
    fn new(low: f64, high: f64) -> UniformBounds {
        UniformBounds { low, width: high - low, low_f32: low as f32, below_high_f32: (high as f32).next_down() }
    }

    fn map(&self, unit: f64) -> f32 {
        let value = (self.low + self.width * unit) as f32;
        // `max` last: if the bounds collapse to one f32, the lower bound wins.
        value.min(self.below_high_f32).max(self.low_f32)
    }
}
