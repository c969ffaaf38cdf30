//! Per-tensor Philox streams: key derivation and block addressing (see `specs/rng.md`). The
//! conversions from words to numbers are in `kernel.rs`.

use sha2::{Digest, Sha256};

use super::philox::philox4x32_10;

/// Domain tag hashed in front of every key; bump the version if the derivation ever changes.
const DOMAIN_TAG: &[u8] = b"initc.philox4x32.v1\0";

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

    pub fn key(&self) -> [u32; 2] {
        self.key
    }

    pub fn counter_high(&self) -> [u32; 2] {
        self.counter_high
    }

    /// The four words of block `index`.
    pub fn block(&self, index: u64) -> [u32; 4] {
        let counter = [index as u32, (index >> 32) as u32, self.counter_high[0], self.counter_high[1]];
        philox4x32_10(counter, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_depends_on_seed_and_name() {
        let base = Stream::derive(7, "dense.kernel");
        assert_eq!(base, Stream::derive(7, "dense.kernel"));
        assert_ne!(base, Stream::derive(8, "dense.kernel"));
        assert_ne!(base, Stream::derive(7, "dense.bias"));
    }
}
