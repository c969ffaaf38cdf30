//! MT19937 as torch's CPU generator runs it (`ATen/core/MT19937RNGEngine.h`): seeded with the
//! low 32 bits of the seed by the reference `init_genrand`, regenerated a whole state at a time.

const STATE_WORDS: usize = 624;
const SHIFT_WORDS: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

#[derive(Clone)]
pub struct Mt19937 {
    state: [u32; STATE_WORDS],
    /// The next word of `state` to temper; `STATE_WORDS` when the state must be regenerated.
    next: usize,
}

impl Mt19937 {
    /// torch's `manual_seed(seed)`: only the low 32 bits of the seed matter.
    pub fn new(seed: u64) -> Mt19937 {
        let mut state = [0u32; STATE_WORDS];
        state[0] = (seed & 0xffff_ffff) as u32;
        for index in 1..STATE_WORDS {
            let previous = state[index - 1];
            state[index] = 1_812_433_253u32.wrapping_mul(previous ^ (previous >> 30)).wrapping_add(index as u32);
        }
        Mt19937 { state, next: STATE_WORDS }
    }

    /// The next 32-bit output.
    #[inline(always)]
    pub fn next_u32(&mut self) -> u32 {
        if self.next == STATE_WORDS {
            self.regenerate();
        }
        let mut y = self.state[self.next];
        self.next += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// torch's `random64()`: the first draw is the high half.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let high = self.next_u32();
        let low = self.next_u32();
        (u64::from(high) << 32) | u64::from(low)
    }

    fn regenerate(&mut self) {
        let twist = |upper: u32, lower: u32| {
            let mixed = (upper & UPPER_MASK) | (lower & LOWER_MASK);
            (mixed >> 1) ^ if lower & 1 == 1 { MATRIX_A } else { 0 }
        };
        for index in 0..STATE_WORDS {
            let following = self.state[(index + 1) % STATE_WORDS];
            self.state[index] = self.state[(index + SHIFT_WORDS) % STATE_WORDS] ^ twist(self.state[index], following);
        }
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The C++ standard's check value: the 10000th output of `std::mt19937` (seed 5489).
    #[test]
    fn ten_thousandth_output_of_the_default_seed() {
        let mut engine = Mt19937::new(5489);
        let last = (0..10_000).map(|_| engine.next_u32()).last();
        assert_eq!(last, Some(4_123_659_995));
    }

    #[test]
    fn only_the_low_32_bits_of_the_seed_matter() {
        let mut low = Mt19937::new(7);
        let mut high = Mt19937::new((1 << 32) | 7);
        for _ in 0..1000 {
            assert_eq!(low.next_u32(), high.next_u32());
        }
    }
}
