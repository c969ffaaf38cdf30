//! One `uniform_` or `normal_` call on a contiguous tensor as a function of its place in the
//! stream: every element comes from fixed words after the call's first (a uniform from its own
//! one or two words; a normal, from 16 elements on, from its 16-chunk's, the last 16 slots from
//! 16 fresh uniforms when 16 does not divide the length). So any window of the tensor can be
//! generated from an engine positioned at the window's first word, in parallel and in any order.

use super::generator::TorchFloat;
use super::mt19937::Mt19937;
use super::normal::FILL;

/// What the call draws: `uniform_(from, to)` or `normal_(mean, std)`, arguments as Python
/// passes them (rounded into the dtype by the kernel).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kernel {
    Uniform { from: f64, to: f64 },
    Normal { mean: f64, std: f64 },
}

/// A call of `kernel` on `len` elements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Call {
    pub kernel: Kernel,
    pub len: usize,
    /// Half and BFloat16 (`normal_fill` on `opmath_t` f32) draw only whole 16-chunks in the
    /// first pass of `normal_`; f32 and f64 draw a uniform for every element.
    pub whole_chunks: bool,
}

impl Call {
    /// Whether the call's words are a fixed count at fixed places: every `uniform_`, and
    /// `normal_` from 16 elements (below, the generator's cached pair decides).
    pub fn is_windowed(&self) -> bool {
        match self.kernel {
            Kernel::Uniform { .. } => true,
            Kernel::Normal { .. } => self.len >= FILL || self.len == 0,
        }
    }

    /// Where the tail's 16 fresh uniforms take over: the length when 16 divides it.
    fn main_end(&self) -> usize {
        if self.len.is_multiple_of(FILL) { self.len } else { self.len - FILL }
    }

    /// The uniforms `normal_`'s first pass draws: where the tail's 16 begin.
    fn first_pass(&self) -> usize {
        if self.whole_chunks { self.len - self.len % FILL } else { self.len }
    }

    /// The words a windowed call draws, for `words_per_value` words per uniform.
    pub fn words(&self, words_per_value: u64) -> u64 {
        let values = match self.kernel {
            Kernel::Uniform { .. } => self.len,
            Kernel::Normal { .. } if self.len == 0 => 0,
            Kernel::Normal { .. } => self.first_pass() + if self.len.is_multiple_of(FILL) { 0 } else { FILL },
        };
        values as u64 * words_per_value
    }

    /// The word, counted from the call's first, where generating element `first` starts.
    pub fn start_word(&self, first: usize, words_per_value: u64) -> u64 {
        let value = match self.kernel {
            Kernel::Uniform { .. } => first,
            Kernel::Normal { .. } if first < self.main_end() => first - first % FILL,
            Kernel::Normal { .. } => self.first_pass(),
        };
        value as u64 * words_per_value
    }

    /// Elements `first..first + out.len()` of a windowed call, `engine` at `start_word(first)`.
    pub fn fill<T: TorchFloat>(&self, engine: &mut Mt19937, first: usize, out: &mut [T]) {
        let end = (first + out.len()).min(self.len);
        if first >= end {
            return;
        }
        let out = &mut out[..end - first];
        match self.kernel {
            Kernel::Uniform { from, to } => T::uniforms(engine, out, T::from_f64(from), T::from_f64(to)),
            Kernel::Normal { mean, std } => self.normals(engine, first, out, T::from_f64(mean), T::from_f64(std)),
        }
    }

    fn normals<T: TorchFloat>(&self, engine: &mut Mt19937, first: usize, out: &mut [T], mean: T, std: T) {
        let (zero, one) = (T::from_f64(0.0), T::from_f64(1.0));
        let end = first + out.len();
        let main_end = self.main_end();
        let mut block = [T::default(); FILL];
        // The chunks of the first pass: those inside the window made in place, a chunk the
        // window's edge cuts in `block`, of which the window keeps its part.
        let mut chunk = first - first % FILL;
        // Nothing of the first pass when the window lies in the tail's slots.
        let main_stop = if first < main_end { end.min(main_end) } else { chunk };
        while chunk < main_stop {
            let whole_stop = main_stop - main_stop % FILL;
            if chunk >= first && chunk < whole_stop {
                let values = &mut out[chunk - first..whole_stop - first];
                // Uniforms on [0, 1) never equal 1, so `uniforms`' replacement never applies.
                T::uniforms(engine, values, zero, one);
                T::normals(values, mean, std);
                chunk = whole_stop;
            } else {
                T::uniforms(engine, &mut block, zero, one);
                T::normals(&mut block, mean, std);
                let (from, to) = (first.max(chunk), main_stop.min(chunk + FILL));
                out[from - first..to - first].copy_from_slice(&block[from - chunk..to - chunk]);
                chunk += FILL;
            }
        }
        let tail_start = self.len - FILL;
        if main_end < self.len && end > tail_start {
            // The tail's uniforms follow the first pass's.
            let drawn = if first < main_end { chunk } else { self.first_pass() };
            engine.skip((self.first_pass() - drawn) as u64 * T::WORDS);
            T::uniforms(engine, &mut block, zero, one);
            T::normals(&mut block, mean, std);
            let from = first.max(tail_start);
            out[from - first..].copy_from_slice(&block[from - tail_start..end - tail_start]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole call made at once, from the seed.
    fn whole<T: TorchFloat>(call: Call, seed: u64) -> Vec<T> {
        let mut values = vec![T::default(); call.len];
        call.fill(&mut Mt19937::new(seed), 0, &mut values);
        values
    }

    /// Every window, generated from an engine skipped to its start word, equals the same
    /// elements of the whole call; and the whole call draws `words` words.
    fn check_windows<T: TorchFloat>(call: Call) {
        let reference = whole::<T>(call, 5);
        let mut engine = Mt19937::new(5);
        let mut values = vec![T::default(); call.len];
        call.fill(&mut engine, 0, &mut values);
        assert_eq!(engine.position(), call.words(T::WORDS), "{call:?}");
        let len = call.len;
        let windows = [(0, len), (1, len), (len / 2, len), (len.saturating_sub(17), len), (3, len.min(40))];
        for (start, stop) in windows.into_iter().chain((0..len.min(70)).map(|first| (first, len.min(first + 5)))) {
            if start >= stop {
                continue;
            }
            let mut engine = Mt19937::new(5);
            engine.skip(call.start_word(start, T::WORDS));
            let mut window = vec![T::default(); stop - start];
            call.fill(&mut engine, start, &mut window);
            let equal =
                window.iter().zip(&reference[start..stop]).all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits());
            assert!(equal, "{call:?}: window {start}..{stop}");
        }
    }

    #[test]
    fn any_window_equals_the_same_elements_of_the_whole_call() {
        for len in [0, 1, 16, 17, 31, 32, 33, 1000, 1024, 1025, 3000, 5003] {
            for kernel in [Kernel::Uniform { from: -2.0, to: 0.5 }, Kernel::Normal { mean: 0.5, std: 0.02 }] {
                for whole_chunks in [false, true] {
                    let call = Call { kernel, len, whole_chunks };
                    if call.is_windowed() {
                        check_windows::<f32>(call);
                        check_windows::<f64>(call);
                    }
                }
            }
        }
    }
}
