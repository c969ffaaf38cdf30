//! Philox4x32-10, the counter-based block function of Salmon et al., "Parallel Random Numbers:
//! As Easy as 1, 2, 3" (SC'11), as implemented by Random123 (`philox4x32_R` with R = 10).
//!
//! A pure function of (counter, key): no state, so any block can be computed independently,
//! which is what makes generation independent of chunking and thread count.

/// Round multipliers (Random123 `PHILOX_M4x32_0`, `PHILOX_M4x32_1`).
const MULTIPLIER_0: u32 = 0xD251_1F53;
const MULTIPLIER_1: u32 = 0xCD9E_8D57;
/// Key schedule increments (Weyl sequence; golden ratio and sqrt(3) - 1 in 0.32 fixed point).
const KEY_BUMP_0: u32 = 0x9E37_79B9;
const KEY_BUMP_1: u32 = 0xBB67_AE85;
const ROUNDS: usize = 10;

/// High and low 32-bit halves of the 64-bit product `a * b`.
fn mul_hi_lo(a: u32, b: u32) -> (u32, u32) {
    let product = u64::from(a) * u64::from(b);
    ((product >> 32) as u32, product as u32)
}

fn round(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (hi0, lo0) = mul_hi_lo(MULTIPLIER_0, counter[0]);
    let (hi1, lo1) = mul_hi_lo(MULTIPLIER_1, counter[2]);
    [hi1 ^ counter[1] ^ key[0], lo1, hi0 ^ counter[3] ^ key[1], lo0]
}

/// One Philox4x32-10 block: ten rounds, the key bumped between consecutive rounds.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut state = counter;
    let mut round_key = key;
    for round_index in 0..ROUNDS {
        if round_index > 0 {
            round_key = [round_key[0].wrapping_add(KEY_BUMP_0), round_key[1].wrapping_add(KEY_BUMP_1)];
        }
        state = round(state, round_key);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::philox4x32_10;

    /// Random123 `tests/kat_vectors`, the three `philox4x32 10` lines: counter, key, expected.
    const KNOWN_ANSWERS: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        ([0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]),
        (
            [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
            [0xffffffff, 0xffffffff],
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
        ),
        (
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0],
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
        ),
    ];

    #[test]
    fn matches_random123_known_answers() {
        for (counter, key, expected) in KNOWN_ANSWERS {
            assert_eq!(philox4x32_10(counter, key), expected, "counter {counter:08x?} key {key:08x?}");
        }
    }
}
