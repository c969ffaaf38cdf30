//! MT19937 as torch's CPU generator runs it (`ATen/core/MT19937RNGEngine.h`): seeded with the
//! low 32 bits of the seed by the reference `init_genrand`, regenerated a whole state at a time.
//! A clone is a snapshot: generation can restart from it anywhere later in the stream.

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
    /// How many times the state has been regenerated: with `next`, the stream position.
    regenerations: u64,
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
        Mt19937 { state, next: STATE_WORDS, regenerations: 0 }
    }

    /// How many 32-bit words have been drawn since seeding.
    pub fn position(&self) -> u64 {
        (self.regenerations * STATE_WORDS as u64 + self.next as u64).saturating_sub(STATE_WORDS as u64)
    }

    /// The next 32-bit output.
    #[inline(always)]
    pub fn next_u32(&mut self) -> u32 {
        if self.next == STATE_WORDS {
            self.regenerate();
        }
        let word = temper(self.state[self.next]);
        self.next += 1;
        word
    }

    /// torch's `random64()`: the first draw is the high half.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        let high = self.next_u32();
        let low = self.next_u32();
        (u64::from(high) << 32) | u64::from(low)
    }

    /// `out.len()` outputs in order, as `next_u32` gives them, a state's worth at a time.
    pub fn fill(&mut self, out: &mut [u32]) {
        let mut done = 0;
        self.raw_runs(out.len(), |raw| {
            for (slot, &word) in out[done..done + raw.len()].iter_mut().zip(raw) {
                *slot = temper(word);
            }
            done += raw.len();
        });
    }

    /// Gives the state words behind the next `count` outputs, untempered ([`temper`] makes them
    /// outputs), in runs of at most a state, and moves past them.
    #[inline(always)]
    pub fn raw_runs(&mut self, count: usize, mut each: impl FnMut(&[u32])) {
        let mut remaining = count;
        while remaining > 0 {
            if self.next == STATE_WORDS {
                self.regenerate();
            }
            let run = remaining.min(STATE_WORDS - self.next);
            each(&self.state[self.next..self.next + run]);
            self.next += run;
            remaining -= run;
        }
    }

    /// Moves `words` outputs on without tempering them: a regeneration per 624 words.
    pub fn skip(&mut self, words: u64) {
        let mut remaining = self.next as u64 + words;
        while remaining > STATE_WORDS as u64 {
            self.regenerate();
            remaining -= STATE_WORDS as u64;
        }
        self.next = remaining as usize;
    }

    fn regenerate(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            fn wide(state: &mut [u32; STATE_WORDS]) {
                twist_all(state);
            }
            // SAFETY: the CPU has AVX2.
            unsafe { wide(&mut self.state) };
            self.next = 0;
            self.regenerations += 1;
            return;
        }
        twist_all(&mut self.state);
        self.next = 0;
        self.regenerations += 1;
    }
}

/// The recurrence over a whole state, in three runs without a modulo, so that each run
/// vectorises: the first reads words 397 ahead (old), the second words 227 behind (already
/// new), the last wraps around.
#[inline(always)]
fn twist_all(state: &mut [u32; STATE_WORDS]) {
    #[inline(always)]
    fn twist(upper: u32, lower: u32) -> u32 {
        let mixed = (upper & UPPER_MASK) | (lower & LOWER_MASK);
        (mixed >> 1) ^ (0u32.wrapping_sub(lower & 1) & MATRIX_A)
    }
    for index in 0..STATE_WORDS - SHIFT_WORDS {
        state[index] = state[index + SHIFT_WORDS] ^ twist(state[index], state[index + 1]);
    }
    for index in STATE_WORDS - SHIFT_WORDS..STATE_WORDS - 1 {
        state[index] = state[index + SHIFT_WORDS - STATE_WORDS] ^ twist(state[index], state[index + 1]);
    }
    let last = STATE_WORDS - 1;
    state[last] = state[SHIFT_WORDS - 1] ^ twist(state[last], state[0]);
}

/// MT19937's output tempering of one state word.
#[inline(always)]
pub fn temper(word: u32) -> u32 {
    let mut y = word;
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^ (y >> 18)
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

    /// `fill` and `skip` give the words `next_u32` gives, from any position, and `position`
    /// counts them.
    #[test]
    fn fill_and_skip_agree_with_one_word_at_a_time() {
        let mut reference = Mt19937::new(3);
        let words: Vec<u32> = (0..5000).map(|_| reference.next_u32()).collect();
        for (start, skip, count) in [(0, 0, 5000), (0, 624, 10), (1, 623, 700), (623, 1, 1), (10, 1871, 1300)] {
            let mut engine = Mt19937::new(3);
            let mut head = vec![0u32; start];
            engine.fill(&mut head);
            assert_eq!(head, words[..start]);
            engine.skip(skip as u64);
            assert_eq!(engine.position(), (start + skip) as u64);
            let mut out = vec![0u32; count.min(5000 - start - skip)];
            engine.fill(&mut out);
            assert_eq!(out, words[start + skip..start + skip + out.len()], "start {start}, skip {skip}");
            assert_eq!(engine.position(), (start + skip + out.len()) as u64);
        }
    }
}
