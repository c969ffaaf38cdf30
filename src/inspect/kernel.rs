//! The inner loops of statistics, histograms and comparisons over one block of raw bytes.
//!
//! Every dtype is decoded to `f64` element by element with branch-free code (`F16` by moving its
//! bits into an `f32` and scaling by 2^112, `BF16` by a shift, 8-bit floats through a 256-entry
//! table), and every sum runs in [`LANES`] fixed lanes that are added up in one order at the
//! end. The loops vectorise, and each is compiled three times (AVX-512, AVX2, portable) and
//! picked at run time; the SIMD width changes how many lanes run at once, never the order of an
//! operation, so every path gives the same bits.

use super::element::f8_e4m3;
use safetensors::Dtype;

/// Accumulator lanes of every sum: element `i` of a block goes to lane `i % LANES`.
const LANES: usize = 16;

/// Statistics of one block: counts, the range and the moments of its finite values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockMoments {
    pub count: u64,
    pub finite: u64,
    pub zeros: u64,
    pub nan: u64,
    /// Mean of the finite values (NaN when there are none).
    pub mean: f64,
    /// Sum of squared deviations of the finite values from `mean`.
    pub squared_deviations: f64,
    pub min: f64,
    pub max: f64,
}

/// How the elements of one dtype become `f64`. `Table` holds the value of every byte.
#[derive(Clone, Copy, Debug)]
pub enum Decoder {
    F64,
    F32,
    F16,
    Bf16,
    I64,
    U64,
    I32,
    U32,
    I16,
    U16,
    Table(&'static [f64; 256]),
}

/// Values of the 8-bit dtypes, by byte.
struct ByteTables {
    unsigned: [f64; 256],
    signed: [f64; 256],
    e5m2: [f64; 256],
    e4m3: [f64; 256],
}

fn byte_tables() -> &'static ByteTables {
    static TABLES: std::sync::OnceLock<ByteTables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = ByteTables { unsigned: [0.0; 256], signed: [0.0; 256], e5m2: [0.0; 256], e4m3: [0.0; 256] };
        for byte in 0..=255u8 {
            let index = usize::from(byte);
            tables.unsigned[index] = f64::from(byte);
            tables.signed[index] = f64::from(byte as i8);
            // E5M2 is the upper byte of an IEEE half.
            tables.e5m2[index] = f16_to_f64(u16::from(byte) << 8);
            tables.e4m3[index] = f8_e4m3(byte);
        }
        tables
    })
}

impl Decoder {
    /// The decoder of `dtype`, `None` for a dtype without values initc reads.
    pub fn of(dtype: Dtype) -> Option<Decoder> {
        Some(match dtype {
            Dtype::F64 => Decoder::F64,
            Dtype::F32 => Decoder::F32,
            Dtype::F16 => Decoder::F16,
            Dtype::BF16 => Decoder::Bf16,
            Dtype::I64 => Decoder::I64,
            Dtype::U64 => Decoder::U64,
            Dtype::I32 => Decoder::I32,
            Dtype::U32 => Decoder::U32,
            Dtype::I16 => Decoder::I16,
            Dtype::U16 => Decoder::U16,
            Dtype::BOOL | Dtype::U8 => Decoder::Table(&byte_tables().unsigned),
            Dtype::I8 => Decoder::Table(&byte_tables().signed),
            Dtype::F8_E5M2 => Decoder::Table(&byte_tables().e5m2),
            Dtype::F8_E4M3 => Decoder::Table(&byte_tables().e4m3),
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn width(self) -> usize {
        match self {
            Decoder::F64 | Decoder::I64 | Decoder::U64 => 8,
            Decoder::F32 | Decoder::I32 | Decoder::U32 => 4,
            Decoder::F16 | Decoder::Bf16 | Decoder::I16 | Decoder::U16 => 2,
            Decoder::Table(_) => 1,
        }
    }

    /// The value of the element whose bits are `code` (the low `8 · width` bits).
    pub fn value_of_code(self, code: u64) -> f64 {
        let bytes = code.to_le_bytes();
        let mut value = 0.0;
        self.decode_into(&bytes[..self.width()], std::slice::from_mut(&mut value));
        value
    }

    /// Decodes whole elements of `bytes` into `out` (one value per element; `out` may be longer).
    /// Inlined, so that it is compiled with the SIMD features of the loop that calls it.
    #[inline(always)]
    pub fn decode_into(self, bytes: &[u8], out: &mut [f64]) {
        match self {
            Decoder::F64 => decode::<8>(bytes, out, f64::from_le_bytes),
            Decoder::F32 => decode::<4>(bytes, out, |b| f64::from(f32::from_le_bytes(b))),
            Decoder::F16 => decode::<2>(bytes, out, |b| f16_to_f64(u16::from_le_bytes(b))),
            Decoder::Bf16 => {
                decode::<2>(bytes, out, |b| f64::from(f32::from_bits(u32::from(u16::from_le_bytes(b)) << 16)))
            }
            // 64-bit integers beyond 2^53 round to the nearest f64, which statistics can bear.
            Decoder::I64 => decode::<8>(bytes, out, |b| i64::from_le_bytes(b) as f64),
            Decoder::U64 => decode::<8>(bytes, out, |b| u64::from_le_bytes(b) as f64),
            Decoder::I32 => decode::<4>(bytes, out, |b| f64::from(i32::from_le_bytes(b))),
            Decoder::U32 => decode::<4>(bytes, out, |b| f64::from(u32::from_le_bytes(b))),
            Decoder::I16 => decode::<2>(bytes, out, |b| f64::from(i16::from_le_bytes(b))),
            Decoder::U16 => decode::<2>(bytes, out, |b| f64::from(u16::from_le_bytes(b))),
            Decoder::Table(table) => decode::<1>(bytes, out, |[b]| table[usize::from(b)]),
        }
    }
}

#[inline(always)]
fn decode<const W: usize>(bytes: &[u8], out: &mut [f64], convert: impl Fn([u8; W]) -> f64) {
    for (value, chunk) in out.iter_mut().zip(bytes.chunks_exact(W)) {
        let mut array = [0u8; W];
        array.copy_from_slice(chunk);
        *value = convert(array);
    }
}

/// An IEEE half as `f64`, exactly (see [`f16_to_f32`]).
#[inline(always)]
pub fn f16_to_f64(bits: u16) -> f64 {
    f64::from(f16_to_f32(bits))
}

/// An IEEE half as `f32`, exactly: its exponent and mantissa moved into an `f32` read as a
/// number 2^-112 too small (normal and subnormal halves alike), Inf and NaN kept by setting the
/// `f32`'s exponent to all ones.
#[inline(always)]
pub fn f16_to_f32(bits: u16) -> f32 {
    let bits = u32::from(bits);
    let sign = (bits & 0x8000) << 16;
    let magnitude = bits & 0x7fff;
    let scaled = f32::from_bits(magnitude << 13) * f32::from_bits(0x7780_0000);
    let special = f32::from_bits((magnitude << 13) | 0x7f80_0000);
    let unsigned = if magnitude >= 0x7c00 { special } else { scaled };
    f32::from_bits(unsigned.to_bits() | sign)
}

/// Elements decoded at a time inside a block (on the stack).
const STRIP: usize = 1024;

/// The statistics of `bytes` (whole elements): two sweeps over strips that stay in the cache,
/// the second for the deviations from the first's mean, with the rounding of that mean
/// corrected by the residual sum.
pub fn block_moments(decoder: Decoder, bytes: &[u8]) -> BlockMoments {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU has every feature the function enables.
            return unsafe { block_moments_avx512(decoder, bytes) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { block_moments_avx2(decoder, bytes) };
        }
    }
    block_moments_inline(decoder, bytes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn block_moments_avx512(decoder: Decoder, bytes: &[u8]) -> BlockMoments {
    block_moments_inline(decoder, bytes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn block_moments_avx2(decoder: Decoder, bytes: &[u8]) -> BlockMoments {
    block_moments_inline(decoder, bytes)
}

#[inline(always)]
fn block_moments_inline(decoder: Decoder, bytes: &[u8]) -> BlockMoments {
    match decoder {
        Decoder::F64 => moments::<8>(bytes, f64::from_le_bytes),
        // Floats that fit an f32: the first sweep in f32 lanes, twice as many per instruction.
        Decoder::F32 => narrow_moments::<4>(bytes, f32::from_le_bytes),
        Decoder::F16 => narrow_moments::<2>(bytes, |b| f16_to_f32(u16::from_le_bytes(b))),
        Decoder::Bf16 => narrow_moments::<2>(bytes, |b| f32::from_bits(u32::from(u16::from_le_bytes(b)) << 16)),
        Decoder::I64 => moments::<8>(bytes, |b| i64::from_le_bytes(b) as f64),
        Decoder::U64 => moments::<8>(bytes, |b| u64::from_le_bytes(b) as f64),
        Decoder::I32 => moments::<4>(bytes, |b| f64::from(i32::from_le_bytes(b))),
        Decoder::U32 => moments::<4>(bytes, |b| f64::from(u32::from_le_bytes(b))),
        Decoder::I16 => moments::<2>(bytes, |b| f64::from(i16::from_le_bytes(b))),
        Decoder::U16 => moments::<2>(bytes, |b| f64::from(u16::from_le_bytes(b))),
        Decoder::Table(table) => moments::<1>(bytes, |[b]| table[usize::from(b)]),
    }
}

/// Lane-wise accumulators of the first sweep.
struct FirstSweep {
    sum: [f64; LANES],
    min: [f64; LANES],
    max: [f64; LANES],
    finite: [u64; LANES],
    zeros: [u64; LANES],
    nan: [u64; LANES],
}

#[inline(always)]
fn moments<const W: usize>(bytes: &[u8], convert: impl Fn([u8; W]) -> f64 + Copy) -> BlockMoments {
    let count = bytes.len() / W;
    let bytes = &bytes[..count * W];
    let mut first = FirstSweep {
        sum: [0.0; LANES],
        min: [f64::INFINITY; LANES],
        max: [f64::NEG_INFINITY; LANES],
        finite: [0; LANES],
        zeros: [0; LANES],
        nan: [0; LANES],
    };
    if W == 8 {
        // 8-byte values decoded where they are read: for `f64` the strip would be a plain copy,
        // which cost as much as the sweep.
        let (elements, _) = bytes.as_chunks::<W>();
        let (groups, tail) = elements.as_chunks::<LANES>();
        for group in groups {
            for (lane, &element) in group.iter().enumerate() {
                first_sweep_lane(&mut first, lane, convert(element));
            }
        }
        for (lane, &element) in tail.iter().enumerate() {
            first_sweep_lane(&mut first, lane, convert(element));
        }
    } else {
        let mut strip = [0.0f64; STRIP];
        for piece in bytes.chunks(STRIP * W) {
            let values = &mut strip[..piece.len() / W];
            decode::<W>(piece, values, convert);
            let (groups, tail) = values.as_chunks::<LANES>();
            for group in groups {
                for (lane, &value) in group.iter().enumerate() {
                    first_sweep_lane(&mut first, lane, value);
                }
            }
            // A strip is a multiple of LANES long, so only the block's last strip has a tail.
            for (lane, &value) in tail.iter().enumerate() {
                first_sweep_lane(&mut first, lane, value);
            }
        }
    }
    let sum = first.sum.iter().fold(0.0, |total, &lane| total + lane);
    finish_moments::<W>(bytes, convert, count, sum, &first)
}

/// The second sweep of [`moments`], after the first found the lanes' counts and range and
/// their total `sum`.
#[inline(always)]
fn finish_moments<const W: usize>(
    bytes: &[u8],
    convert: impl Fn([u8; W]) -> f64 + Copy,
    count: usize,
    sum: f64,
    first: &FirstSweep,
) -> BlockMoments {
    let finite: u64 = first.finite.iter().sum();
    let nan: u64 = first.nan.iter().sum();
    let zeros: u64 = first.zeros.iter().sum();
    if finite == 0 {
        return BlockMoments {
            count: count as u64,
            finite,
            zeros,
            nan,
            mean: f64::NAN,
            squared_deviations: 0.0,
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let min = first.min.iter().fold(f64::INFINITY, |low, &lane| if lane < low { lane } else { low });
    let max = first.max.iter().fold(f64::NEG_INFINITY, |high, &lane| if lane > high { lane } else { high });
    let mean = sum / finite as f64;
    let (mut deviations, mut residual) = ([0.0f64; LANES], [0.0f64; LANES]);
    let mut strip = [0.0f64; STRIP];
    for piece in bytes.chunks(STRIP * W) {
        let values = &mut strip[..piece.len() / W];
        decode::<W>(piece, values, convert);
        let (groups, tail) = values.as_chunks::<LANES>();
        for group in groups {
            for (lane, &value) in group.iter().enumerate() {
                deviate(&mut deviations, &mut residual, lane, value, mean);
            }
        }
        for (lane, &value) in tail.iter().enumerate() {
            deviate(&mut deviations, &mut residual, lane, value, mean);
        }
    }
    let deviations = deviations.iter().fold(0.0, |total, &lane| total + lane);
    let residual = residual.iter().fold(0.0, |total, &lane| total + lane);
    // The rounding error of `sum` shifts the mean; the residual corrects both for it.
    BlockMoments {
        count: count as u64,
        finite,
        zeros,
        nan,
        // Values near ±f64::MAX overflow the sums: keep what is left meaningful.
        mean: if residual.is_finite() { mean + residual / finite as f64 } else { mean },
        squared_deviations: match deviations - residual * residual / finite as f64 {
            overflowed if overflowed.is_nan() => f64::INFINITY,
            squared => squared.max(0.0),
        },
        min,
        max,
    }
}

/// Adds a value's deviation from `mean` to a lane of the second sweep (nothing for a value
/// that is not finite).
#[inline(always)]
fn deviate(deviations: &mut [f64; LANES], residual: &mut [f64; LANES], lane: usize, value: f64, mean: f64) {
    let deviation = if value.abs() < f64::INFINITY { value - mean } else { 0.0 };
    deviations[lane] += deviation * deviation;
    residual[lane] += deviation;
}

#[inline(always)]
fn first_sweep_lane(first: &mut FirstSweep, lane: usize, value: f64) {
    // `abs() < ∞` is false for ±Inf and NaN.
    let finite = value.abs() < f64::INFINITY;
    first.sum[lane] += if finite { value } else { 0.0 };
    let low = if finite { value } else { f64::INFINITY };
    let high = if finite { value } else { f64::NEG_INFINITY };
    first.min[lane] = if low < first.min[lane] { low } else { first.min[lane] };
    first.max[lane] = if high > first.max[lane] { high } else { first.max[lane] };
    first.finite[lane] += u64::from(finite);
    first.zeros[lane] += u64::from(value == 0.0);
    first.nan[lane] += u64::from(value.is_nan());
}

/// [`moments`] for values that are `f32`s: the first sweep (sum, range, counts) runs in `f32`
/// lanes, its sums added into `f64` after every strip; it only has to find a mean close enough
/// for the second sweep, which runs in `f64` and whose residual corrects the mean exactly as in
/// [`moments`]. A strip whose `f32` sum overflows sends the block to [`moments`].
#[inline(always)]
fn narrow_moments<const W: usize>(bytes: &[u8], convert: impl Fn([u8; W]) -> f32 + Copy) -> BlockMoments {
    let count = bytes.len() / W;
    let bytes = &bytes[..count * W];
    let wide = |b: [u8; W]| f64::from(convert(b));
    let (mut sum, mut min, mut max) = ([0.0f64; LANES], [f32::INFINITY; LANES], [f32::NEG_INFINITY; LANES]);
    let (mut finite, mut zeros, mut nan) = ([0u64; LANES], [0u64; LANES], [0u64; LANES]);
    let mut strip = [0.0f32; STRIP];
    for piece in bytes.chunks(STRIP * W) {
        let values = &mut strip[..piece.len() / W];
        for (value, chunk) in values.iter_mut().zip(piece.chunks_exact(W)) {
            let mut array = [0u8; W];
            array.copy_from_slice(chunk);
            *value = convert(array);
        }
        let mut strip_sum = [0.0f32; LANES];
        let (mut strip_finite, mut strip_zeros, mut strip_nan) = ([0u32; LANES], [0u32; LANES], [0u32; LANES]);
        let (groups, tail) = values.as_chunks::<LANES>();
        let mut lane_step = |lane: usize, value: f32| {
            // `abs() < ∞` is false for ±Inf and NaN.
            let is_finite = value.abs() < f32::INFINITY;
            strip_sum[lane] += if is_finite { value } else { 0.0 };
            let low = if is_finite { value } else { f32::INFINITY };
            let high = if is_finite { value } else { f32::NEG_INFINITY };
            min[lane] = if low < min[lane] { low } else { min[lane] };
            max[lane] = if high > max[lane] { high } else { max[lane] };
            strip_finite[lane] += u32::from(is_finite);
            strip_zeros[lane] += u32::from(value == 0.0);
            #[allow(clippy::eq_op)]
            let is_nan = value != value;
            strip_nan[lane] += u32::from(is_nan);
        };
        for group in groups {
            for (lane, &value) in group.iter().enumerate() {
                lane_step(lane, value);
            }
        }
        for (lane, &value) in tail.iter().enumerate() {
            lane_step(lane, value);
        }
        for lane in 0..LANES {
            sum[lane] += f64::from(strip_sum[lane]);
            finite[lane] += u64::from(strip_finite[lane]);
            zeros[lane] += u64::from(strip_zeros[lane]);
            nan[lane] += u64::from(strip_nan[lane]);
        }
    }
    let finite_count: u64 = finite.iter().sum();
    let sum = sum.iter().fold(0.0, |total, &lane| total + lane);
    if finite_count > 0 && !sum.is_finite() {
        // Near f32::MAX: an f32 strip sum overflowed.
        return moments::<W>(bytes, wide);
    }
    let first = FirstSweep { sum: [0.0; LANES], min: min.map(f64::from), max: max.map(f64::from), finite, zeros, nan };
    finish_moments::<W>(bytes, wide, count, sum, &first)
}

/// Count tables a 16-bit tensor's codes go into, element `i` into table `i mod 2`: equal
/// neighbours (common: a normal tensor's values crowd a few hundred codes) then do not wait on
/// each other's store to the same counter.
pub const TABLES_16: usize = 2;
const CODES_16: usize = 1 << 16;

/// Adds the elements of `bytes` (1 or 2 bytes wide) to `counts`, indexed by their bits: one
/// table of 256 counts for bytes, [`TABLES_16`] tables of 65,536 after one another for 16 bits.
pub fn count_codes(width: usize, bytes: &[u8], counts: &mut [u32]) {
    match width {
        1 => {
            for &byte in bytes {
                counts[usize::from(byte)] += 1;
            }
        }
        _ => {
            // Whole tables of fixed length: a 16-bit index needs no bounds check.
            let (tables, _) = counts.as_chunks_mut::<CODES_16>();
            let [even, odd, ..] = tables else { return };
            // One 8-byte load for four codes.
            let mut quads = bytes.chunks_exact(8);
            for quad in &mut quads {
                let word = u64::from_le_bytes([quad[0], quad[1], quad[2], quad[3], quad[4], quad[5], quad[6], quad[7]]);
                even[(word & 0xFFFF) as usize] += 1;
                odd[((word >> 16) & 0xFFFF) as usize] += 1;
                even[((word >> 32) & 0xFFFF) as usize] += 1;
                odd[(word >> 48) as usize] += 1;
            }
            for pair in quads.remainder().chunks_exact(2) {
                even[usize::from(u16::from_le_bytes([pair[0], pair[1]]))] += 1;
            }
        }
    }
}

/// Adds the bin counts of the finite values of `bytes` to `counts` (`bins.bins` long).
pub fn bin_values(decoder: Decoder, bytes: &[u8], bins: &Binning, counts: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has the feature the function enables.
            return unsafe { bin_values_avx2(decoder, bytes, bins, counts) };
        }
    }
    bin_values_inline(decoder, bytes, bins, counts);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bin_values_avx2(decoder: Decoder, bytes: &[u8], bins: &Binning, counts: &mut [u64]) {
    bin_values_inline(decoder, bytes, bins, counts);
}

/// Interleaved count tables of a histogram: neighbours in the same bin do not wait on each
/// other's store.
const BIN_TABLES: usize = 8;

#[inline(always)]
fn bin_values_inline(decoder: Decoder, bytes: &[u8], bins: &Binning, counts: &mut [u64]) {
    match decoder {
        Decoder::F64 => bin::<8>(bytes, bins, counts, f64::from_le_bytes),
        Decoder::F32 => bin::<4>(bytes, bins, counts, |b| f64::from(f32::from_le_bytes(b))),
        Decoder::F16 => bin::<2>(bytes, bins, counts, |b| f16_to_f64(u16::from_le_bytes(b))),
        Decoder::Bf16 => {
            bin::<2>(bytes, bins, counts, |b| f64::from(f32::from_bits(u32::from(u16::from_le_bytes(b)) << 16)))
        }
        Decoder::I64 => bin::<8>(bytes, bins, counts, |b| i64::from_le_bytes(b) as f64),
        Decoder::U64 => bin::<8>(bytes, bins, counts, |b| u64::from_le_bytes(b) as f64),
        Decoder::I32 => bin::<4>(bytes, bins, counts, |b| f64::from(i32::from_le_bytes(b))),
        Decoder::U32 => bin::<4>(bytes, bins, counts, |b| f64::from(u32::from_le_bytes(b))),
        Decoder::I16 => bin::<2>(bytes, bins, counts, |b| f64::from(i16::from_le_bytes(b))),
        Decoder::U16 => bin::<2>(bytes, bins, counts, |b| f64::from(u16::from_le_bytes(b))),
        Decoder::Table(table) => bin::<1>(bytes, bins, counts, |[b]| table[usize::from(b)]),
    }
}

/// Slots (the bins and the one for values that are not finite) few enough to be counted by
/// comparing every element with every slot, in byte lanes, rather than by increments.
const COMPARED_SLOTS: usize = 32;
/// Elements compared with a slot at once: one vector of bytes (two with AVX2).
const COMPARE_LANES: usize = 64;
/// Groups of [`COMPARE_LANES`] counted before the byte counters (which hold 255) are added up.
const GROUPS_PER_FLUSH: usize = 255;

/// The slot of one element: its bin, or `bins.bins` when it is not finite.
#[inline(always)]
fn slot_of<const W: usize>(chunk: &[u8], bins: &Binning, convert: impl Fn([u8; W]) -> f64) -> usize {
    let mut array = [0u8; W];
    array.copy_from_slice(chunk);
    let value = convert(array);
    if value.abs() < f64::INFINITY { bins.bin_of(value) } else { bins.bins }
}

#[inline(always)]
fn bin<const W: usize>(bytes: &[u8], bins: &Binning, counts: &mut [u64], convert: impl Fn([u8; W]) -> f64 + Copy) {
    // One slot past the bins takes the values that are not finite.
    let slots = bins.bins + 1;
    if slots <= COMPARED_SLOTS {
        bin_by_comparison::<W>(bytes, bins, counts, convert);
    } else {
        bin_by_increment::<W>(bytes, bins, counts, convert);
    }
}

/// [`bin`] for any number of slots: an increment of a count table per element.
#[inline(always)]
fn bin_by_increment<const W: usize>(
    bytes: &[u8],
    bins: &Binning,
    counts: &mut [u64],
    convert: impl Fn([u8; W]) -> f64 + Copy,
) {
    let slots = bins.bins + 1;
    let mut indices = [0u32; STRIP];
    let mut tables = vec![0u32; BIN_TABLES * slots];
    // Parts small enough that no `u32` count can overflow.
    for part in bytes.chunks((1usize << 30) * W) {
        for piece in part.chunks(STRIP * W) {
            let length = piece.len() / W;
            for (index, chunk) in indices.iter_mut().zip(piece.chunks_exact(W)) {
                *index = slot_of::<W>(chunk, bins, convert) as u32;
            }
            let (groups, tail) = indices[..length].as_chunks::<BIN_TABLES>();
            for group in groups {
                for (table, &index) in group.iter().enumerate() {
                    tables[table * slots + index as usize] += 1;
                }
            }
            for &index in tail {
                tables[index as usize] += 1;
            }
        }
        for table in tables.chunks_exact_mut(slots) {
            for (total, count) in counts.iter_mut().zip(table.iter_mut()) {
                *total += u64::from(*count);
                *count = 0;
            }
        }
    }
}

/// [`bin`] for at most [`COMPARED_SLOTS`] slots: each element's slot goes into a byte, and every
/// slot counts the bytes equal to it in [`COMPARE_LANES`] byte counters, which vectorises (a
/// compare and a subtract per slot and vector) where increments of a table wait on each other.
#[inline(always)]
fn bin_by_comparison<const W: usize>(
    bytes: &[u8],
    bins: &Binning,
    counts: &mut [u64],
    convert: impl Fn([u8; W]) -> f64 + Copy,
) {
    let slots = bins.bins + 1;
    // Past the elements of a short strip: a slot that no bin has.
    const NO_SLOT: u8 = u8::MAX;
    let mut indices = [NO_SLOT; STRIP];
    let mut lanes = [[0u8; COMPARE_LANES]; COMPARED_SLOTS];
    let mut groups = 0;
    let add_up = |lanes: &mut [[u8; COMPARE_LANES]; COMPARED_SLOTS], counts: &mut [u64]| {
        // `counts` has no entry for the last slot (values that are not finite): it is dropped.
        for (count, lane) in counts.iter_mut().zip(lanes.iter()) {
            *count += lane.iter().map(|&n| u64::from(n)).sum::<u64>();
        }
        *lanes = [[0; COMPARE_LANES]; COMPARED_SLOTS];
    };
    for piece in bytes.chunks(STRIP * W) {
        let length = piece.len() / W;
        for (index, chunk) in indices.iter_mut().zip(piece.chunks_exact(W)) {
            *index = slot_of::<W>(chunk, bins, convert) as u8;
        }
        indices[length..].fill(NO_SLOT);
        let used = length.div_ceil(COMPARE_LANES);
        if groups + used > GROUPS_PER_FLUSH {
            add_up(&mut lanes, counts);
            groups = 0;
        }
        groups += used;
        let strip_groups = &indices.as_chunks::<COMPARE_LANES>().0[..used];
        // Slot by slot, so that a slot's counters stay in registers over the strip.
        for (slot, lane) in (0..slots as u8).zip(lanes.iter_mut()) {
            let mut counters = *lane;
            for group in strip_groups {
                for (counter, &index) in counters.iter_mut().zip(group) {
                    *counter += u8::from(index == slot);
                }
            }
            *lane = counters;
        }
    }
    add_up(&mut lanes, counts);
}

/// Equal-width bins over `[low, high]`, the last one closed.
#[derive(Clone, Copy, Debug)]
pub struct Binning {
    pub low: f64,
    pub high: f64,
    pub bins: usize,
    scale: f64,
}

impl Binning {
    /// `bins` bins over `[low, high]`; one bin when `low == high`.
    pub fn new(low: f64, high: f64, bins: usize) -> Binning {
        // Bin numbers go through i32.
        let bins = if high > low { bins.clamp(1, 1 << 24) } else { 1 };
        Binning { low, high, bins, scale: bins as f64 / (high - low) }
    }

    /// The bin of a finite `value` in `[low, high]`: the last bin is closed on the right, and a
    /// NaN position (one bin over a zero range) is bin 0. Written with comparisons, `floor` and
    /// the 2^52 trick instead of `as` (whose saturation keeps loops scalar), so loops vectorise.
    #[inline(always)]
    pub fn bin_of(&self, value: f64) -> usize {
        let position = (value - self.low) * self.scale;
        // A NaN position compares false and becomes 0.
        let position = if position > 0.0 { position } else { 0.0 };
        let last = (self.bins - 1) as f64;
        let position = if position < last { position } else { last };
        // A whole number below 2^52 is the low bits of itself plus 2^52.
        const TWO_TO_52: f64 = 4_503_599_627_370_496.0;
        ((position.floor() + TWO_TO_52).to_bits() & 0xffff_ffff) as usize
    }
}

/// Comparison of one block: elements outside the tolerance, the largest differences and the
/// first element with the largest absolute difference.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BlockDifference {
    pub mismatched: u64,
    pub max_abs: f64,
    pub max_rel: f64,
    /// Index in the block of the first element whose absolute difference is `max_abs` (> 0).
    pub worst: Option<usize>,
}

/// The absolute and relative difference of `a` against the reference `b`. Equal values
/// (NaN and NaN, the same infinity) differ by 0; a NaN against anything else, or an infinity
/// against anything but itself, by infinity.
#[inline(always)]
pub fn difference(a: f64, b: f64) -> (f64, f64) {
    // NaN is the only value unequal to itself.
    #[allow(clippy::eq_op)]
    let both_nan = a != a && b != b;
    let equal = a == b || both_nan;
    // `a − b` is NaN only when one side is NaN (or for equal infinities, caught above).
    let distance = (a - b).abs();
    #[allow(clippy::eq_op)]
    let absolute = if equal {
        0.0
    } else if distance != distance {
        f64::INFINITY
    } else {
        distance
    };
    let magnitude = b.abs();
    // `b` zero, infinite or NaN: no relative difference to speak of.
    let relative = if equal {
        0.0
    } else if magnitude > 0.0 && magnitude < f64::INFINITY {
        absolute / magnitude
    } else {
        f64::INFINITY
    };
    (absolute, relative)
}

/// True when `a` is outside the tolerance around the reference `b`: `|a − b| > atol + rtol·|b|`,
/// where an infinite difference (a NaN or an infinity on one side only) is always outside, as
/// numpy's `isclose` has it.
#[inline(always)]
pub fn outside(absolute: f64, b: f64, absolute_tolerance: f64, relative_tolerance: f64) -> bool {
    absolute == f64::INFINITY || absolute > absolute_tolerance + relative_tolerance * b.abs()
}

/// Compares `count` elements of `left` and `right` (each decoded by its own decoder).
pub fn block_difference(
    left: (Decoder, &[u8]),
    right: (Decoder, &[u8]),
    absolute_tolerance: f64,
    relative_tolerance: f64,
) -> BlockDifference {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            // SAFETY: the CPU has every feature the function enables.
            return unsafe { block_difference_avx512(left, right, absolute_tolerance, relative_tolerance) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("f16c") {
            // SAFETY: as above.
            return unsafe { block_difference_avx2(left, right, absolute_tolerance, relative_tolerance) };
        }
    }
    block_difference_inline::<false>(left, right, absolute_tolerance, relative_tolerance)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,f16c")]
fn block_difference_avx512(
    left: (Decoder, &[u8]),
    right: (Decoder, &[u8]),
    absolute_tolerance: f64,
    relative_tolerance: f64,
) -> BlockDifference {
    block_difference_inline::<true>(left, right, absolute_tolerance, relative_tolerance)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,f16c")]
fn block_difference_avx2(
    left: (Decoder, &[u8]),
    right: (Decoder, &[u8]),
    absolute_tolerance: f64,
    relative_tolerance: f64,
) -> BlockDifference {
    block_difference_inline::<true>(left, right, absolute_tolerance, relative_tolerance)
}

/// State of a comparison: counts and relative maxima per lane (element `i` of a block goes to
/// lane `i % LANES`), and the largest absolute difference with the block index of its first
/// element.
#[derive(Clone, Copy)]
struct DifferenceLanes {
    mismatched: [u64; LANES],
    max_rel: [f64; LANES],
    max_abs: f64,
    worst: Option<usize>,
}

/// Below this, a product `max_rel · |b|` may have lost its relative precision to underflow.
const SMALLEST_SUBNORMAL: f64 = f64::from_bits(1);

/// Elements of each side compared at a time: both sides' decoded strips stay well inside the
/// first-level cache.
const DIFFERENCE_STRIP: usize = 256;

/// Groups of [`LANES`] in a strip: one bit per group in a `u64`.
const _: () = assert!(DIFFERENCE_STRIP / LANES <= 64);

/// `F16C`: the function this is inlined into may use the x86 half-conversion instructions.
#[inline(always)]
fn block_difference_inline<const F16C: bool>(
    left: (Decoder, &[u8]),
    right: (Decoder, &[u8]),
    absolute_tolerance: f64,
    relative_tolerance: f64,
) -> BlockDifference {
    let tolerance = (absolute_tolerance, relative_tolerance);
    let mut lanes = DifferenceLanes { mismatched: [0; LANES], max_rel: [0.0; LANES], max_abs: 0.0, worst: None };
    // Both sides of one float dtype, the common case, are compared straight from their bytes.
    let whole_groups = match (left.0, right.0) {
        (Decoder::F64, Decoder::F64) => compare_bytes::<8>(left.1, right.1, f64::from_le_bytes, &mut lanes, tolerance),
        (Decoder::F32, Decoder::F32) => {
            compare_bytes::<4>(left.1, right.1, |b| f64::from(f32::from_le_bytes(b)), &mut lanes, tolerance)
        }
        #[cfg(target_arch = "x86_64")]
        (Decoder::F16, Decoder::F16) if F16C => {
            let sides = HardwareHalves { left: left.1, right: right.1 };
            compare_sides(&sides, 0..(left.1.len() / 2).min(right.1.len() / 2) / LANES, &mut lanes, tolerance)
        }
        (Decoder::F16, Decoder::F16) => {
            compare_bytes::<2>(left.1, right.1, |b| f16_to_f64(u16::from_le_bytes(b)), &mut lanes, tolerance)
        }
        (Decoder::Bf16, Decoder::Bf16) => compare_bytes::<2>(
            left.1,
            right.1,
            |b| f64::from(f32::from_bits(u32::from(u16::from_le_bytes(b)) << 16)),
            &mut lanes,
            tolerance,
        ),
        _ => 0,
    };
    compare_decoded(left, right, whole_groups * LANES, &mut lanes, tolerance);
    BlockDifference {
        mismatched: lanes.mismatched.iter().sum(),
        max_abs: lanes.max_abs,
        max_rel: lanes.max_rel.iter().fold(0.0f64, |high, &lane| high.max(lane)),
        worst: lanes.worst,
    }
}

/// Both sides' values, by group of [`LANES`] and by element, counted from the block's start.
trait Sides {
    fn group(&self, index: usize) -> ([f64; LANES], [f64; LANES]);
    fn element(&self, index: usize) -> (f64, f64);
}

/// Two sides of one dtype with `W`-byte elements, decoded where they are read.
struct SameDtype<'a, const W: usize, C> {
    left: &'a [u8],
    right: &'a [u8],
    convert: C,
}

impl<const W: usize, C: Fn([u8; W]) -> f64 + Copy> Sides for SameDtype<'_, W, C> {
    #[inline(always)]
    fn group(&self, index: usize) -> ([f64; LANES], [f64; LANES]) {
        let (mut a, mut b) = ([0.0f64; LANES], [0.0f64; LANES]);
        let bytes = index * LANES * W..(index + 1) * LANES * W;
        decode::<W>(&self.left[bytes.clone()], &mut a, self.convert);
        decode::<W>(&self.right[bytes], &mut b, self.convert);
        (a, b)
    }

    #[inline(always)]
    fn element(&self, index: usize) -> (f64, f64) {
        let value = |bytes: &[u8]| {
            let mut array = [0u8; W];
            array.copy_from_slice(&bytes[index * W..(index + 1) * W]);
            (self.convert)(array)
        };
        (value(self.left), value(self.right))
    }
}

/// Two sides of IEEE halves, converted by the CPU's F16C instructions (exactly, as
/// [`f16_to_f64`] does; a signalling NaN comes out quiet, which no comparison tells apart).
#[cfg(target_arch = "x86_64")]
struct HardwareHalves<'a> {
    left: &'a [u8],
    right: &'a [u8],
}

#[cfg(target_arch = "x86_64")]
impl HardwareHalves<'_> {
    /// Group `index` of `bytes` as `f64`s. Inlined only into functions that enable F16C.
    #[inline(always)]
    fn convert(bytes: &[u8], index: usize) -> [f64; LANES] {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm256_cvtph_ps, _mm256_storeu_ps};
        let bytes = &bytes[index * LANES * 2..(index + 1) * LANES * 2];
        let mut singles = [0.0f32; LANES];
        for (eight, out) in bytes.chunks_exact(16).zip(singles.chunks_exact_mut(8)) {
            // SAFETY: `eight` holds 16 bytes and `out` 8 floats (unaligned loads and stores);
            // `block_difference` picks this only on a CPU with F16C.
            unsafe {
                let halves = _mm_loadu_si128(eight.as_ptr().cast::<__m128i>());
                _mm256_storeu_ps(out.as_mut_ptr(), _mm256_cvtph_ps(halves));
            }
        }
        singles.map(f64::from)
    }
}

#[cfg(target_arch = "x86_64")]
impl Sides for HardwareHalves<'_> {
    #[inline(always)]
    fn group(&self, index: usize) -> ([f64; LANES], [f64; LANES]) {
        (HardwareHalves::convert(self.left, index), HardwareHalves::convert(self.right, index))
    }

    #[inline(always)]
    fn element(&self, index: usize) -> (f64, f64) {
        let half = |bytes: &[u8]| f16_to_f64(u16::from_le_bytes([bytes[2 * index], bytes[2 * index + 1]]));
        (half(self.left), half(self.right))
    }
}

/// A strip of both sides decoded, from block element `first` on.
struct Decoded<'a> {
    first: usize,
    a: &'a [[f64; LANES]],
    b: &'a [[f64; LANES]],
}

impl Sides for Decoded<'_> {
    #[inline(always)]
    fn group(&self, index: usize) -> ([f64; LANES], [f64; LANES]) {
        let at = index - self.first / LANES;
        (self.a[at], self.b[at])
    }

    #[inline(always)]
    fn element(&self, index: usize) -> (f64, f64) {
        let at = index - self.first;
        (self.a[at / LANES][at % LANES], self.b[at / LANES][at % LANES])
    }
}

/// Compares the whole groups of two same-dtype sides of `W`-byte elements from their bytes.
/// Returns how many groups it compared.
#[inline(always)]
fn compare_bytes<const W: usize>(
    left: &[u8],
    right: &[u8],
    convert: impl Fn([u8; W]) -> f64 + Copy,
    lanes: &mut DifferenceLanes,
    tolerance: (f64, f64),
) -> usize {
    let groups = (left.len() / W).min(right.len() / W) / LANES;
    let sides = SameDtype { left: &left[..groups * LANES * W], right: &right[..groups * LANES * W], convert };
    compare_sides(&sides, 0..groups, lanes, tolerance)
}

/// Compares the groups `groups` of `sides`, strip by strip, but for the block's first group
/// and any strip holding a non-finite difference, which [`compare_group`] compares. Returns
/// how many groups it compared.
#[inline(always)]
fn compare_sides(
    sides: &impl Sides,
    groups: std::ops::Range<usize>,
    lanes: &mut DifferenceLanes,
    tolerance: (f64, f64),
) -> usize {
    let mut start = groups.start;
    while start < groups.end {
        // The block's first group with every case handled and divided: the strips that follow
        // mark elements against its relative differences.
        let first = if start == 0 { 1 } else { start };
        let end = (first + DIFFERENCE_STRIP / LANES).min(groups.end);
        if start == 0 {
            let (a, b) = sides.group(0);
            compare_group(&a, &b, 0, lanes, tolerance);
        }
        let before = *lanes;
        if !compare_finite_strip(first..end, sides, lanes, tolerance) {
            *lanes = before;
            for index in first..end {
                let (a, b) = sides.group(index);
                compare_group(&a, &b, index * LANES, lanes, tolerance);
            }
        }
        start = end;
    }
    groups.len()
}

/// Compares the elements from `start` on, each side decoded by its own decoder into strips.
#[inline(always)]
fn compare_decoded(
    (left_decoder, left): (Decoder, &[u8]),
    (right_decoder, right): (Decoder, &[u8]),
    mut start: usize,
    lanes: &mut DifferenceLanes,
    tolerance: (f64, f64),
) {
    let count = (left.len() / left_decoder.width()).min(right.len() / right_decoder.width());
    let (left_width, right_width) = (left_decoder.width(), right_decoder.width());
    let (mut a, mut b) = ([0.0f64; DIFFERENCE_STRIP], [0.0f64; DIFFERENCE_STRIP]);
    while start < count {
        let length = DIFFERENCE_STRIP.min(count - start);
        left_decoder.decode_into(&left[start * left_width..(start + length) * left_width], &mut a);
        right_decoder.decode_into(&right[start * right_width..(start + length) * right_width], &mut b);
        // Equal values in the lanes past the end change nothing.
        let padded = length.next_multiple_of(LANES);
        a[length..padded].fill(0.0);
        b[length..padded].fill(0.0);
        let (a_groups, _) = a[..padded].as_chunks::<LANES>();
        let (b_groups, _) = b[..padded].as_chunks::<LANES>();
        let strip = Decoded { first: start, a: a_groups, b: b_groups };
        compare_sides(&strip, start / LANES..start / LANES + a_groups.len(), lanes, tolerance);
        start += length;
    }
}

/// Compares the groups `groups` (at most 64) of `sides` whose differences are all finite, the common case, in fewer
/// operations than [`compare_group`]: returns false, with `lanes` partly updated, when a
/// difference is not finite (a NaN or an infinity on either side, or an overflow).
///
/// The relative difference divides, which would be most of the loop's time; but a lane's
/// maximum only changes where `|a − b| > max_rel · |b|`, rare after the first elements. So the
/// strip marks where that may hold, with a product loosened by far more than its rounding (a
/// quotient that rounds above `max_rel` is one whose exact value is above it, as rounding is
/// monotonic), and divides only there, with [`difference`] itself, after the strip. Likewise
/// the strip keeps only lane maxima of the absolute difference, and looks for the first
/// element holding their maximum only when that beats the block's.
#[inline(always)]
fn compare_finite_strip(
    groups: std::ops::Range<usize>,
    sides: &impl Sides,
    lanes: &mut DifferenceLanes,
    (absolute_tolerance, relative_tolerance): (f64, f64),
) -> bool {
    let threshold = lanes.max_rel.map(|max_rel| max_rel * (1.0 - 1.0 / (1u64 << 50) as f64));
    let (mut candidates, mut finite, mut max_abs) = ([0u64; LANES], [1u64; LANES], [0.0f64; LANES]);
    // A local copy stays in registers.
    let mut mismatched = lanes.mismatched;
    for (bit, index) in groups.clone().enumerate() {
        let (a, b) = sides.group(index);
        #[allow(clippy::needless_range_loop)]
        for lane in 0..LANES {
            let absolute = (a[lane] - b[lane]).abs();
            // False for an infinity and for NaN.
            finite[lane] &= u64::from(absolute < f64::INFINITY);
            let magnitude = b[lane].abs();
            mismatched[lane] += u64::from(absolute > absolute_tolerance + relative_tolerance * magnitude);
            max_abs[lane] = if absolute > max_abs[lane] { absolute } else { max_abs[lane] };
            let candidate = (absolute > 0.0) & (absolute >= threshold[lane] * magnitude - SMALLEST_SUBNORMAL);
            candidates[lane] |= u64::from(candidate) << bit;
        }
    }
    if finite.contains(&0) {
        return false;
    }
    lanes.mismatched = mismatched;
    for (lane, &marked) in candidates.iter().enumerate() {
        let mut marked = marked;
        while marked != 0 {
            let bit = marked.trailing_zeros() as usize;
            marked &= marked - 1;
            let (a, b) = sides.element((groups.start + bit) * LANES + lane);
            let (_, relative) = difference(a, b);
            lanes.max_rel[lane] = lanes.max_rel[lane].max(relative);
        }
    }
    let strip_max = max_abs.iter().fold(0.0f64, |high, &lane| high.max(lane));
    // On equal maxima the earlier element stays the worst.
    if strip_max > lanes.max_abs {
        lanes.max_abs = strip_max;
        // The first element holding it, looked for only in the lanes that hold it.
        let first_in_lane = |lane: usize| {
            groups.clone().map(|group| group * LANES + lane).find(|&index| {
                let (a, b) = sides.element(index);
                (a - b).abs() == strip_max
            })
        };
        lanes.worst = (0..LANES).filter(|&lane| max_abs[lane] == strip_max).filter_map(first_in_lane).min();
    }
    true
}

/// Compares `a` and `b`, block elements `base..base + LANES`, with every case of
/// [`difference`] handled: NaNs, infinities, zeros.
#[inline(always)]
fn compare_group(
    a: &[f64; LANES],
    b: &[f64; LANES],
    base: usize,
    lanes: &mut DifferenceLanes,
    (absolute_tolerance, relative_tolerance): (f64, f64),
) {
    let mut absolute = [0.0f64; LANES];
    #[allow(clippy::needless_range_loop)]
    for lane in 0..LANES {
        let (distance, relative) = difference(a[lane], b[lane]);
        absolute[lane] = distance;
        lanes.mismatched[lane] += u64::from(outside(distance, b[lane], absolute_tolerance, relative_tolerance));
        let max_rel = lanes.max_rel[lane];
        lanes.max_rel[lane] = if relative > max_rel { relative } else { max_rel };
    }
    let group_max = absolute.iter().fold(0.0f64, |high, &lane| high.max(lane));
    if group_max > lanes.max_abs {
        lanes.max_abs = group_max;
        lanes.worst = absolute.iter().position(|&distance| distance == group_max).map(|at| base + at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_those_of_the_plain_formula() {
        let binning = Binning::new(-1.5, 2.25, 7);
        let plain = |value: f64| (((value - -1.5) * (7.0 / 3.75)) as usize).min(6);
        for step in 0..=10_000 {
            let value = -1.5 + 3.75 * step as f64 / 10_000.0;
            assert_eq!(binning.bin_of(value), plain(value), "{value}");
        }
        assert_eq!(binning.bin_of(2.25), 6, "the last bin is closed");
        assert_eq!(Binning::new(3.0, 3.0, 24).bin_of(3.0), 0);
        assert_eq!(Binning::new(0.0, f64::MAX, 24).bin_of(f64::MAX), 23);
    }

    #[test]
    fn halves_decode_exactly_with_the_bit_trick() {
        for bits in 0..=u16::MAX {
            let expected = half::f16::from_bits(bits).to_f64();
            let got = f16_to_f64(bits);
            assert!(got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()), "{bits:#06x}");
        }
    }

    #[test]
    fn the_f32_first_sweep_agrees_with_the_f64_one_and_falls_back_on_overflow() {
        let values: Vec<f32> = (0..70_000).map(|i| ((i * 7919) % 10_007) as f32 * 1e-3 + 1e4).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let narrow = narrow_moments::<4>(&bytes, f32::from_le_bytes);
        let wide = moments::<4>(&bytes, |b| f64::from(f32::from_le_bytes(b)));
        assert_eq!((narrow.finite, narrow.min, narrow.max), (wide.finite, wide.min, wide.max));
        assert!((narrow.mean - wide.mean).abs() <= 1e-12 * wide.mean.abs(), "{narrow:?} {wide:?}");
        let relative = (narrow.squared_deviations - wide.squared_deviations).abs() / wide.squared_deviations;
        assert!(relative < 1e-10, "{narrow:?} {wide:?}");
        // 64 values of 3e38 overflow an f32 sum; the block is measured in f64 instead.
        let huge: Vec<u8> = [3e38f32; 100].iter().flat_map(|v| v.to_le_bytes()).collect();
        let measured = block_moments(Decoder::F32, &huge);
        assert_eq!((measured.mean, measured.squared_deviations), (f64::from(3e38f32), 0.0));
    }

    #[test]
    fn moments_do_not_depend_on_the_simd_path() {
        let values: Vec<f32> = (0..5000).map(|i| ((i * 7919) % 1013) as f32 / 77.0 - 5.0).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let portable = block_moments_inline(Decoder::F32, &bytes);
        assert_eq!(block_moments(Decoder::F32, &bytes), portable);
        let (a, b) = (&bytes[..4000], &bytes[4000..]);
        let portable = block_difference_inline::<false>((Decoder::F32, a), (Decoder::F32, &bytes[..4000]), 0.0, 0.0);
        assert_eq!(portable, BlockDifference::default());
        let changed = block_difference((Decoder::F32, &bytes[..1000]), (Decoder::F32, b), 0.0, 0.0);
        assert_eq!(
            changed,
            block_difference_inline::<false>((Decoder::F32, &bytes[..1000]), (Decoder::F32, b), 0.0, 0.0)
        );
        assert!(changed.mismatched > 0 && changed.worst.is_some());
    }

    /// The comparison element by element, as [`difference`] and [`outside`] define it.
    fn compared_one_by_one(a: &[f64], b: &[f64], absolute: f64, relative: f64) -> BlockDifference {
        let mut result = BlockDifference::default();
        for (index, (&a, &b)) in a.iter().zip(b).enumerate() {
            let (distance, ratio) = difference(a, b);
            result.mismatched += u64::from(outside(distance, b, absolute, relative));
            if distance > result.max_abs {
                (result.max_abs, result.worst) = (distance, Some(index));
            }
            result.max_rel = result.max_rel.max(ratio);
        }
        result
    }

    #[test]
    fn comparisons_equal_the_element_by_element_definition() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let count = 3 * 16 * 1024 + 37;
        let base: Vec<f64> = (0..count).map(|_| uniform() - 0.5).collect();
        let noise: Vec<f64> = (0..count).map(|_| (uniform() - 0.5) * 1e-3).collect();
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1e-310, f64::MAX, -f64::MAX];
        let mut cases: Vec<(&str, Vec<f64>, Vec<f64>)> = Vec::new();
        cases.push(("independent", base.iter().map(|v| v * 3.0 + uniform()).collect(), base.clone()));
        cases.push(("close", base.iter().zip(&noise).map(|(v, n)| v + n).collect(), base.clone()));
        // Equal largest differences, in one strip and across strips: the first is the worst.
        let (mut few, mut reference) = (base.clone(), base.clone());
        for at in [300, 290, 700, 4000, count - 1] {
            (few[at], reference[at]) = (1.25, 1.0);
        }
        cases.push(("a few differ, ties", few, reference));
        let zeros: Vec<f64> = base.iter().enumerate().map(|(i, &v)| if i % 37 == 0 { 0.0 } else { v }).collect();
        cases.push(("zeros in the reference", base.iter().map(|v| v + 1e-4).collect(), zeros));
        // Ratios that grow by one ulp at a time: every element beats the last.
        let growing: Vec<f64> = (0..count).map(|i| 1.0 + f64::EPSILON * i as f64).collect();
        cases.push(("growing ratios", growing, vec![1.0; count]));
        let tiny: Vec<f64> = base.iter().map(|v| v * 1e-300).collect();
        cases.push(("subnormal products", tiny.iter().map(|v| v * 1.5).collect(), tiny));
        for (index, &special) in specials.iter().enumerate() {
            let mut left = base.clone();
            let mut right: Vec<f64> = base.iter().map(|v| v + 1e-3).collect();
            for at in (index * 131..count).step_by(4099) {
                left[at] = special;
                if index % 2 == 0 {
                    right[at] = special;
                }
            }
            cases.push(("specials", left, right));
        }
        type Encode = fn(f64) -> Vec<u8>;
        let encodings: [(Decoder, Encode); 4] = [
            (Decoder::F64, |v| v.to_le_bytes().to_vec()),
            (Decoder::F32, |v| (v as f32).to_le_bytes().to_vec()),
            (Decoder::F16, |v| half::f16::from_f64(v).to_le_bytes().to_vec()),
            (Decoder::Bf16, |v| half::bf16::from_f64(v).to_le_bytes().to_vec()),
        ];
        let decoded = |decoder: Decoder, bytes: &[u8]| {
            let mut values = vec![0.0; bytes.len() / decoder.width()];
            decoder.decode_into(bytes, &mut values);
            values
        };
        for (name, left, right) in &cases {
            for (left_encoding, right_encoding) in [(0, 0), (1, 1), (2, 2), (3, 3), (1, 3), (0, 2)] {
                let (left_decoder, encode_left) = encodings[left_encoding];
                let (right_decoder, encode_right) = encodings[right_encoding];
                let a: Vec<u8> = left.iter().flat_map(|&v| encode_left(v)).collect();
                let b: Vec<u8> = right.iter().flat_map(|&v| encode_right(v)).collect();
                for tolerance in [(0.0, 0.0), (1e-4, 1e-3)] {
                    for length in [count, 16, 5, 300] {
                        let (a, b) = (&a[..length * left_decoder.width()], &b[..length * right_decoder.width()]);
                        let expected = compared_one_by_one(
                            &decoded(left_decoder, a),
                            &decoded(right_decoder, b),
                            tolerance.0,
                            tolerance.1,
                        );
                        let sides = ((left_decoder, a), (right_decoder, b));
                        let what = format!("{name}, {left_decoder:?} vs {right_decoder:?}, {tolerance:?}, {length}");
                        assert_eq!(block_difference(sides.0, sides.1, tolerance.0, tolerance.1), expected, "{what}");
                        let portable = block_difference_inline::<false>(sides.0, sides.1, tolerance.0, tolerance.1);
                        assert_eq!(portable, expected, "{what}, portable");
                    }
                }
            }
        }
    }

    #[test]
    fn counting_by_comparison_equals_counting_by_increment() {
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1e-310, -1e-310, 1e-40, f64::MAX];
        let values: Vec<f64> = (0..40_000)
            .map(|i| if i % 97 < specials.len() { specials[i % 97] } else { ((i * 7919) % 4001) as f64 / 97.0 - 20.0 })
            .collect();
        let constant = vec![0.25f64; 20_000];
        for data in [&values, &constant] {
            let finite = || data.iter().copied().filter(|v| v.is_finite() && v.abs() < 1e300);
            let (low, high) = (finite().fold(f64::INFINITY, f64::min), finite().fold(f64::NEG_INFINITY, f64::max));
            let encodings: [(Decoder, Vec<u8>); 5] = [
                (Decoder::F64, data.iter().flat_map(|v| v.to_le_bytes()).collect()),
                (Decoder::F32, data.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect()),
                (Decoder::F16, data.iter().flat_map(|&v| half::f16::from_f64(v).to_le_bytes()).collect()),
                (Decoder::Bf16, data.iter().flat_map(|&v| half::bf16::from_f64(v).to_le_bytes()).collect()),
                (Decoder::I32, data.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect()),
            ];
            for (decoder, bytes) in &encodings {
                for bins in [1, 2, 7, 24, 31] {
                    let binning = Binning::new(low, high, bins);
                    let (mut compared, mut incremented) = (vec![0u64; bins], vec![0u64; bins]);
                    bin_values(*decoder, bytes, &binning, &mut compared);
                    let convert = |b: [u8; 8]| {
                        let mut value = 0.0;
                        decoder.decode_into(&b[..decoder.width()], std::slice::from_mut(&mut value));
                        value
                    };
                    // The increment path, element by element through the generic decoder.
                    for chunk in bytes.chunks_exact(decoder.width()) {
                        let mut padded = [0u8; 8];
                        padded[..chunk.len()].copy_from_slice(chunk);
                        bin_by_increment::<8>(&padded, &binning, &mut incremented, convert);
                    }
                    assert_eq!(compared, incremented, "{decoder:?} {bins} bins");
                }
            }
        }
    }
}
