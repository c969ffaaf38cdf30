//! Per-tensor Philox streams: key derivation (see `specs/rng.md`) and the conversions from
//! counter blocks to uniform and standard normal numbers, all in f64 with `libm`
//! transcendentals so the bits do not depend on the platform's math library.

use sha2::{Digest, Sha256};

use super::philox::philox4x32_10;

/// Domain tag hashed in front of every key; bump the version if the derivation ever changes.
const DOMAIN_TAG: &[u8] = b"initc.philox4x32.v1\0";

/// 2^-53: the spacing of the 53-bit uniform grid.
const UNIT_STEP: f64 = 1.0 / 9_007_199_254_740_992.0;

/// An independent Philox stream: a key and the two fixed high counter words. Counter words 0
/// and 1 hold the 64-bit block index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stream {
    key: [u32; 2],
    counter_high: [u32; 2],
}

fn le_word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl Stream {
    /// h = SHA-256(tag ‖ seed as u64 LE ‖ name UTF-8); key = h[0..8], counter words 2,3 = h[8..16],
    /// each as little-endian u32.
    pub fn derive(seed: u64, name: &str) -> Stream {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN_TAG);
        hasher.update(seed.to_le_bytes());
        hasher.update(name.as_bytes());
        let digest = hasher.finalize();
        let bytes: &[u8] = digest.as_ref();
        Stream { key: [le_word(bytes, 0), le_word(bytes, 4)], counter_high: [le_word(bytes, 8), le_word(bytes, 12)] }
    }

    /// A stream from its parts, for pinning derivation results in tests.
    #[cfg(test)]
    pub const fn from_parts(key: [u32; 2], counter_high: [u32; 2]) -> Stream {
        Stream { key, counter_high }
    }

    /// The four words of block `index`.
    pub fn block(&self, index: u64) -> [u32; 4] {
        let counter = [index as u32, (index >> 32) as u32, self.counter_high[0], self.counter_high[1]];
        philox4x32_10(counter, self.key)
    }
}

/// The top 53 bits of the 64-bit word `high ‖ low`.
fn top_53_bits(high: u32, low: u32) -> u64 {
    ((u64::from(high) << 32) | u64::from(low)) >> 11
}

/// Uniform on [0, 1): k / 2^53.
pub fn unit_interval(high: u32, low: u32) -> f64 {
    top_53_bits(high, low) as f64 * UNIT_STEP
}

/// Uniform on (0, 1]: (k + 1) / 2^53, so the logarithm in Box–Muller never sees 0.
pub fn unit_interval_open_at_zero(high: u32, low: u32) -> f64 {
    (top_53_bits(high, low) + 1) as f64 * UNIT_STEP
}

/// Box–Muller on one block: u1 ∈ (0, 1] from words 0,1 and u2 ∈ [0, 1) from words 2,3 give
/// (r·cos θ, r·sin θ) with r = sqrt(−2 ln u1), θ = 2π·u2.
pub fn standard_normal_pair(block: [u32; 4]) -> (f64, f64) {
    let u1 = unit_interval_open_at_zero(block[0], block[1]);
    let u2 = unit_interval(block[2], block[3]);
    let radius = (-2.0 * libm::log(u1)).sqrt();
    let angle = std::f64::consts::TAU * u2;
    // libm::sincos runs the same musl kernels as libm::sin and libm::cos, in one range reduction.
    let (sine, cosine) = libm::sincos(angle);
    (radius * cosine, radius * sine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_interval_covers_its_ends() {
        assert_eq!(unit_interval(0, 0), 0.0);
        assert!(unit_interval(u32::MAX, u32::MAX) < 1.0);
        assert_eq!(unit_interval_open_at_zero(u32::MAX, u32::MAX), 1.0);
        assert_eq!(unit_interval_open_at_zero(0, 0), UNIT_STEP);
    }

    #[test]
    fn box_muller_is_finite_at_the_extremes() {
        for block in [[0, 0, 0, 0], [u32::MAX; 4], [0, 0, u32::MAX, u32::MAX]] {
            let (a, b) = standard_normal_pair(block);
            assert!(a.is_finite() && b.is_finite());
        }
    }

    #[test]
    fn sincos_matches_separate_sin_and_cos_bitwise() {
        // specs/rng.md defines the pair with sin and cos; sincos is only a faster route to them.
        for step in 0..200_000u64 {
            let angle = std::f64::consts::TAU * (step as f64 / 200_000.0);
            let (sine, cosine) = libm::sincos(angle);
            assert_eq!(sine.to_bits(), libm::sin(angle).to_bits(), "sin({angle})");
            assert_eq!(cosine.to_bits(), libm::cos(angle).to_bits(), "cos({angle})");
        }
    }

    #[test]
    fn derivation_depends_on_seed_and_name() {
        let base = Stream::derive(7, "dense.kernel");
        assert_eq!(base, Stream::derive(7, "dense.kernel"));
        assert_ne!(base, Stream::derive(8, "dense.kernel"));
        assert_ne!(base, Stream::derive(7, "dense.bias"));
    }
}
