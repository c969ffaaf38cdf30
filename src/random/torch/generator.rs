//! torch's CPU generator (`CPUGeneratorImpl`): the MT19937 engine plus the second value of the
//! last small-tensor Box–Muller pair, kept for the next small `normal_`; and the two dtypes
//! torch's kernels compute in.

use super::mt19937::{Mt19937, temper};
use super::normal;
#[cfg(target_arch = "x86_64")]
use super::normal_avx2;

/// The default CPU generator after `torch.manual_seed(seed)`.
#[derive(Clone)]
pub struct TorchGenerator {
    engine: Mt19937,
    /// `next_double_normal_sample`: only `manual_seed` clears it besides its own use.
    cached_normal: Option<f64>,
}

impl TorchGenerator {
    pub fn manual_seed(seed: u64) -> TorchGenerator {
        TorchGenerator { engine: Mt19937::new(seed), cached_normal: None }
    }

    /// `random()`: one 32-bit draw.
    #[inline(always)]
    pub fn random(&mut self) -> u32 {
        self.engine.next_u32()
    }

    /// `random64()`: two 32-bit draws, the first the high half.
    #[inline(always)]
    pub fn random64(&mut self) -> u64 {
        self.engine.next_u64()
    }

    /// The MT19937 stream itself, for the kernels that draw words a block at a time.
    pub fn engine(&mut self) -> &mut Mt19937 {
        &mut self.engine
    }

    pub(super) fn take_cached_normal(&mut self) -> Option<f64> {
        self.cached_normal.take()
    }

    pub(super) fn cache_normal(&mut self, value: f64) {
        self.cached_normal = Some(value);
    }
}

/// `$name` runs `$inline` compiled with FMA where the CPU has it, so that `mul_add` is one
/// instruction rather than a call into libm's `fma`; both are exact, so the bits are the same.
macro_rules! with_fma {
    ($name:ident, $inline:path, ($($argument:ident: $type:ty),*)) => {
        fn $name($($argument: $type),*) {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("fma") {
                #[target_feature(enable = "avx2,fma")]
                fn fused($($argument: $type),*) {
                    $inline($($argument),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2 and FMA.
                    return unsafe { fused($($argument),*) };
                }
            }
            $inline($($argument),*)
        }
    };
}

with_fma!(uniforms_f32, fill_uniforms_f32, (raw: &[u32], out: &mut [f32], from: f32, to: f32));
with_fma!(uniforms_f64, fill_uniforms_f64, (words: &[u32], out: &mut [f64], from: f64, to: f64));
with_fma!(normals_f32_scalar, fill_normals::<f32>, (data: &mut [f32], mean: f32, std: f32));
with_fma!(normals_f64, fill_normals::<f64>, (data: &mut [f64], mean: f64, std: f64));

/// f64 words are drawn a block at a time into a buffer on the stack.
const BLOCK_WORDS: usize = 2048;

/// `uniform_real_distribution<float>`'s x on [0, 1): the low 24 bits of one draw, exact in f32
/// (through i32, which converts in one instruction).
#[inline(always)]
fn unit_f32(word: u32) -> f32 {
    (word & 0x00ff_ffff) as i32 as f32 * (1.0 / (1u32 << 24) as f32)
}

/// `uniform_real_distribution<double>`'s x on [0, 1): the low 53 bits of a 64-bit draw, exact in
/// f64.
#[inline(always)]
pub(super) fn unit_f64(random: u64) -> f64 {
    (random & ((1u64 << 53) - 1)) as i64 as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `out` filled with uniforms on [from, to) from one state word each, tempered here
/// (`v == to` becomes `from`).
#[inline(always)]
fn fill_uniforms_f32(raw: &[u32], out: &mut [f32], from: f32, to: f32) {
    for (slot, &word) in out.iter_mut().zip(raw) {
        let value = unit_f32(temper(word)).mul_add(to - from, from);
        *slot = if value == to { from } else { value };
    }
}

/// `out` filled with uniforms on [from, to) from two words each, the first the high half.
#[inline(always)]
fn fill_uniforms_f64(words: &[u32], out: &mut [f64], from: f64, to: f64) {
    for (slot, pair) in out.iter_mut().zip(words.chunks_exact(2)) {
        let value = unit_f64((u64::from(pair[0]) << 32) | u64::from(pair[1])).mul_add(to - from, from);
        *slot = if value == to { from } else { value };
    }
}

/// Box–Muller on each 16 elements of `data` in place.
#[inline(always)]
fn fill_normals<T: TorchFloat>(data: &mut [T], mean: T, std: T) {
    for chunk in data.chunks_exact_mut(16) {
        T::normal_fill_16(chunk, mean, std);
    }
}

/// A dtype torch computes in (its `opmath_t`): f32 or f64.
pub trait TorchFloat: Copy + Default + PartialOrd + Send + Sync + 'static {
    /// Round an f64 (a Python float) into the dtype.
    fn from_f64(value: f64) -> Self;
    fn to_f64(self) -> f64;
    /// `NormalFill16`: 16 uniforms in place to 16 normals.
    fn normal_fill_16(data: &mut [Self], mean: Self, std: Self);
    /// `uniform_` on `out` with bounds already in the dtype (`value == to` becomes `from`),
    /// from the engine's next words.
    fn uniforms(engine: &mut Mt19937, out: &mut [Self], from: Self, to: Self);
    /// `normal_fill_16` on each 16 elements of `data`.
    fn normals(data: &mut [Self], mean: Self, std: Self);
    /// 32-bit words one uniform takes.
    const WORDS: u64;
    /// Wraps a filled vector.
    fn values(values: Vec<Self>) -> TorchValues;
}

impl TorchFloat for f32 {
    fn from_f64(value: f64) -> f32 {
        value as f32
    }

    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    #[inline(always)]
    fn normal_fill_16(data: &mut [f32], mean: f32, std: f32) {
        normal::fill_16_f32(data, mean, std);
    }

    const WORDS: u64 = 1;

    fn uniforms(engine: &mut Mt19937, out: &mut [f32], from: f32, to: f32) {
        let mut done = 0;
        engine.raw_runs(out.len(), |raw| {
            uniforms_f32(raw, &mut out[done..done + raw.len()], from, to);
            done += raw.len();
        });
    }

    fn normals(data: &mut [f32], mean: f32, std: f32) {
        #[cfg(target_arch = "x86_64")]
        if normal_avx2::available() {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { normal_avx2::fill_16s(data, mean, std) };
        }
        normals_f32_scalar(data, mean, std);
    }

    fn values(values: Vec<f32>) -> TorchValues {
        TorchValues::F32(values)
    }
}

impl TorchFloat for f64 {
    fn from_f64(value: f64) -> f64 {
        value
    }

    fn to_f64(self) -> f64 {
        self
    }

    #[inline(always)]
    fn normal_fill_16(data: &mut [f64], mean: f64, std: f64) {
        normal::fill_16_f64(data, mean, std);
    }

    const WORDS: u64 = 2;

    fn uniforms(engine: &mut Mt19937, out: &mut [f64], from: f64, to: f64) {
        let mut words = [0u32; BLOCK_WORDS];
        for chunk in out.chunks_mut(BLOCK_WORDS / 2) {
            let words = &mut words[..chunk.len() * 2];
            engine.fill(words);
            uniforms_f64(words, chunk, from, to);
        }
    }

    fn normals(data: &mut [f64], mean: f64, std: f64) {
        normals_f64(data, mean, std);
    }

    fn values(values: Vec<f64>) -> TorchValues {
        TorchValues::F64(values)
    }
}

/// A tensor's values in the dtype torch made them in.
#[derive(Clone, Debug, PartialEq)]
pub enum TorchValues {
    F32(Vec<f32>),
    F64(Vec<f64>),
    F16(Vec<::half::f16>),
    BF16(Vec<::half::bf16>),
}

impl TorchValues {
    /// Little-endian bytes, as safetensors and `tensor.numpy().tobytes()` store them.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            TorchValues::F32(values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            TorchValues::F64(values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            TorchValues::F16(values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            TorchValues::BF16(values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            TorchValues::F32(values) => values.len(),
            TorchValues::F64(values) => values.len(),
            TorchValues::F16(values) => values.len(),
            TorchValues::BF16(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets elements `range` to zero (`weight[padding_idx].fill_(0)`).
    pub fn zero(&mut self, range: std::ops::Range<usize>) {
        self.fill(range, 0.0);
    }

    /// The elements of `range` that exist (a slice of a fused call's values).
    pub fn slice(&self, range: std::ops::Range<usize>) -> TorchValues {
        let len = self.len();
        let range = range.start.min(len)..range.end.min(len);
        match self {
            TorchValues::F32(values) => TorchValues::F32(values[range].to_vec()),
            TorchValues::F64(values) => TorchValues::F64(values[range].to_vec()),
            TorchValues::F16(values) => TorchValues::F16(values[range].to_vec()),
            TorchValues::BF16(values) => TorchValues::BF16(values[range].to_vec()),
        }
    }

    /// Sets the elements of `range` that exist to `value`, rounded into the dtype.
    pub fn fill(&mut self, range: std::ops::Range<usize>, value: f64) {
        let len = self.len();
        let range = range.start.min(len)..range.end.min(len);
        match self {
            TorchValues::F32(values) => values[range].fill(value as f32),
            TorchValues::F64(values) => values[range].fill(value),
            TorchValues::F16(values) => values[range].fill(::half::f16::from_f32(value as f32)),
            TorchValues::BF16(values) => values[range].fill(::half::bf16::from_f32(value as f32)),
        }
    }
}
