//! A random orthogonal matrix distributed as Keras 3's `Orthogonal` (the Q of
//! the QR of a standard normal matrix, column k times sign(R[k][k])), made as a product of
//! Householder reflections drawn directly from normals (Stewart 1980), transposed if rows < cols,
//! times gain.
//!
//! Why the reflections can be drawn directly: Householder QR of a normal matrix `a` makes H_0 from
//! a's first column; what H_0 leaves of the other columns (rows 1..) is again i.i.d. normal and
//! independent of H_0, because normal vectors are rotation invariant. So every reflector is made
//! from fresh normals with the same distribution, and Q costs half the arithmetic of a QR.
//!
//! The arithmetic is written here rather than taken from faer/BLAS, which dispatch on CPU
//! features and so give machine-dependent bits. Every sum has one fixed order, every
//! multiply-add is fused (IEEE 754 fusedMultiplyAdd: one rounding, the same result on every
//! machine, in software where there is no FMA unit), and each column is computed by one thread,
//! so the bits depend on neither the thread count nor the SIMD width. See specs/initializers.md.

use std::collections::TryReserveError;
use std::ops::{Add, Div, Mul, Neg, Sub};

use rayon::prelude::*;

use super::sampler::Sampler;
use super::stream::Stream;
use super::try_filled;
use crate::tensor::DType;

/// Rows per vector: every column is stored as whole vectors, padded with zeros below.
const LANES: usize = 16;
/// Reflectors per block reflector; a multiple of `LANES`, so every block starts on a whole vector.
const PANEL: usize = 64;
/// Columns of Q per parallel task (with one block's V, they stay in a core's L2 cache).
const GROUP_COLUMNS: usize = 32;
/// Normals drawn at a time into a reflector: a block's draws are never held whole (for a tall,
/// thin matrix they would be as large as Q).
const DRAW_WINDOW: usize = 1 << 18;

/// The precision the matrix is computed in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Precision {
    F32,
    F64,
}

impl Precision {
    /// f64 for an f64 tensor, else f32: the dtype Keras computes it in (its variable's dtype),
    /// and f32 holds more than f16 or bf16 can store.
    pub fn for_dtype(dtype: DType) -> Precision {
        if dtype == DType::F64 { Precision::F64 } else { Precision::F32 }
    }
}

/// A finished orthogonal tensor: Q (`max(rows, cols) × min(rows, cols)`, in the precision it was
/// computed in), read element by element as the row-major `rows × cols` result times `gain`.
/// It holds Q once, the size of the tensor (twice it for f16 and bf16, computed in f32), and
/// nothing else.
pub struct Orthogonal {
    q: Matrix,
    rows: usize,
    cols: usize,
    gain: f64,
}

enum Matrix {
    F32(Columns<f32>),
    F64(Columns<f64>),
}

impl Orthogonal {
    /// `rows` = ∏shape[:-1], `cols` = shape[-1]. Fails, instead of aborting, when Q or a block's
    /// workspace cannot be allocated (`working_memory` is what it needs).
    pub fn new(
        rows: usize,
        cols: usize,
        gain: f64,
        precision: Precision,
        stream: &Stream,
    ) -> Result<Orthogonal, TryReserveError> {
        let (tall, short) = (rows.max(cols), rows.min(cols));
        let draw =
            |first: u64, out: &mut [f32]| Sampler::Normal { mean: 0.0, stddev: 1.0 }.fill_from(stream, first, out);
        let q = match precision {
            Precision::F32 => Matrix::F32(q_matrix(tall, short, &draw, Simd::detect())?),
            Precision::F64 => Matrix::F64(q_matrix(tall, short, &draw, Simd::detect())?),
        };
        Ok(Orthogonal { q, rows, cols, gain })
    }

    /// Element `index` of the row-major result, as `fill` gives it.
    pub fn value(&self, index: usize) -> f64 {
        let cols = self.cols.max(1);
        let (row, col) = (index / cols, index % cols);
        let (r, c) = if self.rows >= self.cols { (row, col) } else { (col, row) };
        match &self.q {
            Matrix::F32(q) => self.gain * q.get(r, c).to_f64(),
            Matrix::F64(q) => self.gain * q.get(r, c).to_f64(),
        }
    }

    /// Elements `start..start + values.len()` of the row-major result: `gain · Q[r][c]` (tall)
    /// or `gain · Q[c][r]` (wide), in f64 (rounded into the dtype by the caller).
    pub fn fill(&self, start: usize, values: &mut [f64]) {
        match &self.q {
            Matrix::F32(q) => self.fill_from(q, start, values),
            Matrix::F64(q) => self.fill_from(q, start, values),
        }
    }

    fn fill_from<T: Real>(&self, q: &Columns<T>, start: usize, values: &mut [f64]) {
        let cols = self.cols.max(1);
        let (mut row, mut col) = (start / cols, start % cols);
        for slot in values {
            let (r, c) = if self.rows >= self.cols { (row, col) } else { (col, row) };
            *slot = self.gain * q.get(r, c).to_f64();
            col += 1;
            if col == cols {
                (row, col) = (row + 1, 0);
            }
        }
    }
}

/// The float type the matrix is computed in.
trait Real:
    Copy
    + Send
    + Sync
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + 'static
{
    const ZERO: Self;
    const ONE: Self;
    const TWO: Self;
    /// `self · a + b` with one rounding.
    fn fused(self, a: Self, b: Self) -> Self;
    fn sqrt(self) -> Self;
    fn from_f32(value: f32) -> Self;
    fn to_f64(self) -> f64;
}

/// `Real` for a primitive float: `fused` is its `mul_add`.
macro_rules! real {
    ($float:ty) => {
        impl Real for $float {
            const ZERO: $float = 0.0;
            const ONE: $float = 1.0;
            const TWO: $float = 2.0;
            #[inline(always)]
            fn fused(self, a: $float, b: $float) -> $float {
                self.mul_add(a, b)
            }
            #[inline(always)]
            fn sqrt(self) -> $float {
                <$float>::sqrt(self)
            }
            #[inline(always)]
            fn from_f32(value: f32) -> $float {
                <$float>::from(value)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
        }
    };
}

real!(f32);
real!(f64);

/// `LANES` consecutive rows of a column, aligned to a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Lanes<T>([T; LANES]);

impl<T: Real> Lanes<T> {
    const ZERO: Lanes<T> = Lanes([T::ZERO; LANES]);
}

/// A column-major matrix whose columns are `stride` vectors each.
struct Columns<T> {
    data: Vec<Lanes<T>>,
    stride: usize,
}

impl<T: Real> Columns<T> {
    /// Zero outside the matrix.
    fn get(&self, row: usize, col: usize) -> T {
        self.data.get(col * self.stride + row / LANES).map_or(T::ZERO, |vector| vector.0[row % LANES])
    }
}

/// The most bytes `Orthogonal::new` holds for a `rows × cols` matrix: Q (columns padded to whole
/// vectors) and its signs, and while one block is applied the next one being prepared: two
/// blocks' V (at most `PANEL` padded columns each), T, τ and signs (one block if there is only
/// one), and one window of draws (the f32 values and the bytes they are decoded from).
pub fn working_memory(rows: usize, cols: usize, precision: Precision) -> u64 {
    let (tall, short) = (rows.max(cols) as u64, rows.min(cols) as u64);
    if short == 0 {
        return 0;
    }
    let element = match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    let padded = tall.div_ceil(LANES as u64).saturating_mul(LANES as u64);
    let width = short.min(PANEL as u64);
    let q = padded.saturating_mul(short).saturating_add(short).saturating_mul(element);
    let block = padded.saturating_mul(width).saturating_add(width * width + 2 * width).saturating_mul(element);
    let blocks = if short > PANEL as u64 { 2 } else { 1 };
    let draws = tall.min(DRAW_WINDOW as u64) * 2 * 4;
    q.saturating_add(block.saturating_mul(blocks)).saturating_add(draws)
}

/// `draw(first, out)` fills `out` with the normals `first..` of the tensor's stream.
type Draw<'a> = dyn Fn(u64, &mut [f32]) + Sync + 'a;

/// Normals drawn for reflectors `0..k`: reflector `k` takes the next `tall − k`.
fn draws_before(tall: usize, k: usize) -> u64 {
    let (tall, k) = (tall as u64, k as u64);
    k * tall - k * k.saturating_sub(1) / 2
}

/// Q = H_0·H_1·…·H_(short−1)·I[:, :short] with column k times sign(α_k), column-major
/// `tall × short`. `draw(first, out)` fills `out` with the normals `first..` of the stream.
///
/// Reflector k is made from the normals `x` (rows k..tall): α = −sign(x₀)·‖x‖, v = x with
/// v₀ = x₀ − α, τ = 2/(v·v), H_k = I − τ·v·vᵀ; R[k][k] would be α. Reflectors are gathered in
/// blocks of `PANEL` as H_k0·…·H_(k1−1) = I − V·T·Vᵀ and applied to Q from the last block to the
/// first (each touches only rows and columns k0.. of Q), in parallel over groups of columns.
/// Every buffer that grows with the matrix is allocated fallibly.
fn q_matrix<T: Real>(tall: usize, short: usize, draw: &Draw<'_>, simd: Simd) -> Result<Columns<T>, TryReserveError> {
    let stride = tall.div_ceil(LANES);
    let mut q = Columns { data: try_filled(stride.checked_mul(short), Lanes::<T>::ZERO)?, stride };
    for k in 0..short {
        q.data[k * stride + k / LANES].0[k % LANES] = T::ONE;
    }
    let mut signs = try_filled(Some(short), T::ZERO)?;
    let block_of = |k0: usize| simd.prepare::<T>(tall, k0, (k0 + PANEL).min(short), draw).map(|block| (k0, block));
    // Blocks last to first; the next block is drawn while this one is applied.
    let mut starts = (0..short).step_by(PANEL).rev();
    let mut next = starts.next().map(block_of).transpose()?;
    while let Some((k0, block)) = next {
        signs[k0..k0 + block.width].copy_from_slice(&block.signs);
        let first_vector = k0 / LANES;
        let columns = &mut q.data[k0 * stride..];
        next = rayon::join(
            || starts.next().map(block_of).transpose(),
            || {
                columns
                    .par_chunks_mut(stride * GROUP_COLUMNS)
                    .for_each(|group| simd.apply(&block, group, stride, first_vector))
            },
        )
        .0?;
    }
    q.data.par_chunks_mut(stride).zip(signs.par_iter()).for_each(|(column, &sign)| {
        for vector in column {
            vector.0.iter_mut().for_each(|x| *x = *x * sign);
        }
    });
    Ok(q)
}

/// One block reflector H_k0·…·H_(k1−1) = I − V·T·Vᵀ acting on rows `k0..`.
struct Block<T> {
    /// Vectors per column of V (rows k0.. of the padded column).
    stride: usize,
    width: usize,
    /// `width` columns; column l is v_(k0+l), zero above its row l.
    v: Vec<Lanes<T>>,
    /// `width × width` row-major, upper triangular.
    t: Vec<T>,
    /// sign(α) per reflector: the sign correction of Q's column (0 for an all-zero draw).
    signs: Vec<T>,
}

/// V, T and the signs of reflectors `k0..k1`, drawing each reflector's normals (reflector after
/// reflector, `DRAW_WINDOW` at a time).
/// T follows LAPACK's dlarft: T[l][l] = τ_l, T[p][l] = −τ_l·Σ_{q=p}^{l−1} T[p][q]·(v_q·v_l).
#[inline(always)]
fn prepare<T: Real>(tall: usize, k0: usize, k1: usize, draw: &Draw<'_>) -> Result<Block<T>, TryReserveError> {
    let stride = tall.div_ceil(LANES) - k0 / LANES;
    let width = k1 - k0;
    let mut v = try_filled(stride.checked_mul(width), Lanes::<T>::ZERO)?;
    let mut taus = vec![T::ZERO; width];
    let mut signs = vec![T::ZERO; width];
    let mut window = try_filled(Some(DRAW_WINDOW.min(tall - k0)), 0.0f32)?;
    for l in 0..width {
        let column = &mut v[l * stride..(l + 1) * stride];
        let (first, count) = (draws_before(tall, k0 + l), tall - k0 - l);
        let mut done = 0;
        while done < count {
            let x = &mut window[..(count - done).min(DRAW_WINDOW)];
            draw(first + done as u64, x);
            for (offset, &value) in x.iter().enumerate() {
                let row = l + done + offset;
                column[row / LANES].0[row % LANES] = T::from_f32(value);
            }
            done += x.len();
        }
        let norm = dot(column, column).sqrt();
        if norm == T::ZERO {
            // An all-zero draw (probability zero): no reflection, and a zero column, as Keras's
            // sign(0) = 0 gives for a rank-deficient matrix.
            continue;
        }
        let head = &mut column[l / LANES].0[l % LANES];
        let alpha = if *head >= T::ZERO { -norm } else { norm };
        *head = *head - alpha;
        taus[l] = T::TWO / dot(column, column);
        signs[l] = if alpha > T::ZERO { T::ONE } else { -T::ONE };
    }
    let mut t = vec![T::ZERO; width * width];
    for l in 0..width {
        let column = &v[l * stride..(l + 1) * stride];
        // A loop, not a closure: a closure would be compiled without the caller's FMA feature.
        let mut z = Vec::with_capacity(l);
        for p in 0..l {
            z.push(dot(&v[p * stride..(p + 1) * stride], column));
        }
        for p in 0..l {
            let mut sum = T::ZERO;
            for q in p..l {
                sum = t[p * width + q].fused(z[q], sum);
            }
            t[p * width + l] = -taus[l] * sum;
        }
        t[l * width + l] = taus[l];
    }
    Ok(Block { stride, width, v, t, signs })
}

/// Applies I − V·T·Vᵀ to rows `k0..` of every column of `group` (columns of `q_stride` vectors,
/// rows k0.. starting at vector `first_vector`): W = Vᵀ·C, W ← −T·W, C ← C + V·W. The kernels
/// work on `N × N` tiles (4 with AVX-512's 32 registers, 3 with AVX2, 2 in the portable build);
/// the tile size changes which entries are computed together, never how any one is computed
/// (the SIMD-vs-portable test compares all three).
#[inline(always)]
fn apply<T: Real, const N: usize>(block: &Block<T>, group: &mut [Lanes<T>], q_stride: usize, first_vector: usize) {
    let (stride, width) = (block.stride, block.width);
    let columns = group.len() / q_stride;
    let view = Tile { v: &block.v, stride, q_stride, first_vector, columns };

    let mut w = vec![T::ZERO; width * columns];
    let mut l0 = 0;
    while l0 < width {
        let full = width - l0 >= N;
        let mut c0 = 0;
        while c0 < columns {
            let wide = columns - c0 >= N;
            match (full, wide) {
                (true, true) => view.dots::<N, N>(group, l0, c0, &mut w),
                (true, false) => view.dots::<N, 1>(group, l0, c0, &mut w),
                (false, true) => view.dots::<1, N>(group, l0, c0, &mut w),
                (false, false) => view.dots::<1, 1>(group, l0, c0, &mut w),
            }
            c0 += if wide { N } else { 1 };
        }
        l0 += if full { N } else { 1 };
    }

    // −T·W, row l: Σ_{q≥l} T[l][q]·W[q], q ascending, then negated (exact).
    let mut tw = vec![T::ZERO; width * columns];
    for l in 0..width {
        let out = &mut tw[l * columns..(l + 1) * columns];
        for q in l..width {
            let factor = block.t[l * width + q];
            for (slot, &x) in out.iter_mut().zip(&w[q * columns..(q + 1) * columns]) {
                *slot = factor.fused(x, *slot);
            }
        }
        out.iter_mut().for_each(|x| *x = -*x);
    }

    // Rows outer: a few rows of V stay in L1 while every column passes.
    let mut g = 0;
    while g < stride {
        let tall = stride - g >= N;
        let mut c0 = 0;
        while c0 < columns {
            let wide = columns - c0 >= N;
            match (tall, wide) {
                (true, true) => view.update::<N, N>(group, &tw, width, g, c0),
                (true, false) => view.update::<N, 1>(group, &tw, width, g, c0),
                (false, true) => view.update::<1, N>(group, &tw, width, g, c0),
                (false, false) => view.update::<1, 1>(group, &tw, width, g, c0),
            }
            c0 += if wide { N } else { 1 };
        }
        g += if tall { N } else { 1 };
    }
}

/// The shapes `apply`'s kernels index by.
struct Tile<'a, T> {
    v: &'a [Lanes<T>],
    stride: usize,
    q_stride: usize,
    first_vector: usize,
    columns: usize,
}

impl<T: Real> Tile<'_, T> {
    /// The rows k0.. of column `c` of the group.
    #[inline(always)]
    fn column<'g>(&self, group: &'g [Lanes<T>], c: usize) -> &'g [Lanes<T>] {
        &group[c * self.q_stride + self.first_vector..(c + 1) * self.q_stride]
    }

    /// W[l][c] = v_l·c_c for reflectors `l0..l0+R` × columns `c0..c0+C`, each exactly `dot`.
    #[inline(always)]
    fn dots<const R: usize, const C: usize>(&self, group: &[Lanes<T>], l0: usize, c0: usize, w: &mut [T]) {
        // No `array::from_fn` in the kernels: it is not inlined, so it would run without the
        // caller's SIMD features and copy through memory.
        let n = self.stride;
        let mut vs: [&[Lanes<T>]; R] = [&[]; R];
        for (r, slot) in vs.iter_mut().enumerate() {
            *slot = &self.v[(l0 + r) * n..(l0 + r + 1) * n];
        }
        let mut cs: [&[Lanes<T>]; C] = [&[]; C];
        for (c, slot) in cs.iter_mut().enumerate() {
            *slot = &self.column(group, c0 + c)[..n];
        }
        let mut sums = [[Lanes::<T>::ZERO; C]; R];
        for g in 0..n {
            let mut x = [Lanes::<T>::ZERO; C];
            for c in 0..C {
                x[c] = cs[c][g];
            }
            for r in 0..R {
                let y = vs[r][g];
                for c in 0..C {
                    for m in 0..LANES {
                        sums[r][c].0[m] = y.0[m].fused(x[c].0[m], sums[r][c].0[m]);
                    }
                }
            }
        }
        for r in 0..R {
            for c in 0..C {
                w[(l0 + r) * self.columns + c0 + c] = reduce(sums[r][c]);
            }
        }
    }

    /// Vectors `g..g+G` of columns `c0..c0+C`: x ← fused(V[i][l], TW[l][c], x) for l ascending.
    #[inline(always)]
    fn update<const G: usize, const C: usize>(
        &self,
        group: &mut [Lanes<T>],
        tw: &[T],
        width: usize,
        g: usize,
        c0: usize,
    ) {
        let base = |c: usize| (c0 + c) * self.q_stride + self.first_vector + g;
        let mut acc = [[Lanes::<T>::ZERO; G]; C];
        for c in 0..C {
            acc[c].copy_from_slice(&group[base(c)..base(c) + G]);
        }
        for l in 0..width {
            let mut y = [Lanes::<T>::ZERO; G];
            y.copy_from_slice(&self.v[l * self.stride + g..l * self.stride + g + G]);
            for c in 0..C {
                let factor = tw[l * self.columns + c0 + c];
                for i in 0..G {
                    for m in 0..LANES {
                        acc[c][i].0[m] = y[i].0[m].fused(factor, acc[c][i].0[m]);
                    }
                }
            }
        }
        for c in 0..C {
            group[base(c)..base(c) + G].copy_from_slice(&acc[c]);
        }
    }
}

/// Σ aᵢ·bᵢ over whole vectors: lane m sums the rows ≡ m (mod 16) in ascending order with fused
/// multiply-adds, then `reduce`.
#[inline(always)]
fn dot<T: Real>(a: &[Lanes<T>], b: &[Lanes<T>]) -> T {
    let mut sums = Lanes::<T>::ZERO;
    for (x, y) in a.iter().zip(b) {
        for m in 0..LANES {
            sums.0[m] = x.0[m].fused(y.0[m], sums.0[m]);
        }
    }
    reduce(sums)
}

/// The 16 lane sums added pairwise: (s0+s1), (s2+s3), …, then those pairs' sums, and so on.
#[inline(always)]
fn reduce<T: Real>(sums: Lanes<T>) -> T {
    let s = sums.0;
    let pairs: [T; 8] = std::array::from_fn(|i| s[2 * i] + s[2 * i + 1]);
    let quads: [T; 4] = std::array::from_fn(|i| pairs[2 * i] + pairs[2 * i + 1]);
    (quads[0] + quads[1]) + (quads[2] + quads[3])
}

/// The instruction set the kernels are compiled for, chosen once per matrix. Only speed differs:
/// every operation and its order is the same.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Simd {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Simd {
    fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("fma") {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    return Simd::Avx512;
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    return Simd::Avx2;
                }
            }
        }
        Simd::Portable
    }

    fn prepare<T: Real>(self, tall: usize, k0: usize, k1: usize, draw: &Draw<'_>) -> Result<Block<T>, TryReserveError> {
        match self {
            Simd::Portable => prepare(tall, k0, k1, draw),
            // SAFETY: `detect` chose these only where the CPU has the features they enable.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { x86::prepare_avx2(tall, k0, k1, draw) },
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { x86::prepare_avx512(tall, k0, k1, draw) },
        }
    }

    fn apply<T: Real>(self, block: &Block<T>, group: &mut [Lanes<T>], q_stride: usize, first_vector: usize) {
        match self {
            Simd::Portable => apply::<T, 2>(block, group, q_stride, first_vector),
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { x86::apply_avx2(block, group, q_stride, first_vector) },
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { x86::apply_avx512(block, group, q_stride, first_vector) },
        }
    }
}

/// The kernels compiled with AVX2 or AVX-512 and the FMA instructions (`fused` becomes one
/// instruction instead of a library call).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Block, Draw, Lanes, Real, TryReserveError, apply, prepare};

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn prepare_avx2<T: Real>(
        tall: usize,
        k0: usize,
        k1: usize,
        draw: &Draw<'_>,
    ) -> Result<Block<T>, TryReserveError> {
        prepare(tall, k0, k1, draw)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub(super) fn prepare_avx512<T: Real>(
        tall: usize,
        k0: usize,
        k1: usize,
        draw: &Draw<'_>,
    ) -> Result<Block<T>, TryReserveError> {
        prepare(tall, k0, k1, draw)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn apply_avx2<T: Real>(block: &Block<T>, group: &mut [Lanes<T>], q_stride: usize, first: usize) {
        apply::<T, 3>(block, group, q_stride, first)
    }

    #[target_feature(enable = "avx512f,fma")]
    pub(super) fn apply_avx512<T: Real>(block: &Block<T>, group: &mut [Lanes<T>], q_stride: usize, first: usize) {
        apply::<T, 4>(block, group, q_stride, first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::ks;

    /// The whole row-major result.
    fn values(rows: usize, cols: usize, gain: f64, precision: Precision, stream: &Stream) -> Vec<f64> {
        let mut values = vec![0.0; rows * cols];
        Orthogonal::new(rows, cols, gain, precision, stream).expect("memory").fill(0, &mut values);
        values
    }

    fn normals(stream: &Stream) -> impl Fn(u64, &mut [f32]) + Sync + '_ {
        move |first, out| Sampler::Normal { mean: 0.0, stddev: 1.0 }.fill_from(stream, first, out)
    }

    fn q_bits<T: Real>(tall: usize, short: usize, seed: u64, simd: Simd) -> Vec<u64> {
        let stream = Stream::derive(seed, "orthogonal.bits");
        let q = q_matrix::<T>(tall, short, &normals(&stream), simd).expect("memory");
        (0..short).flat_map(|c| (0..tall).map(move |r| (r, c))).map(|(r, c)| q.get(r, c).to_f64().to_bits()).collect()
    }

    /// Gram matrix of the rows (wide) or columns (tall) of a row-major matrix.
    fn gram(values: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        let (size, other) = (rows.min(cols), rows.max(cols));
        let value = |i: usize, t: usize| if rows >= cols { values[t * cols + i] } else { values[i * cols + t] };
        let mut product = vec![0.0; size * size];
        for i in 0..size {
            for j in 0..size {
                product[i * size + j] = (0..other).map(|t| value(i, t) * value(j, t)).sum();
            }
        }
        product
    }

    #[test]
    fn is_orthogonal_times_gain_in_both_precisions() {
        // (rows × cols, gain, precision, tolerance): square, tall, wide, conv kernels flattened,
        // and sizes spanning several blocks with ragged edges.
        let cases = [
            ((8, 8), 1.0, Precision::F32, 1e-5),
            ((20, 5), 1.0, Precision::F32, 1e-5),
            ((5, 20), 2.0, Precision::F32, 4e-5),
            ((3 * 4, 5), 0.5, Precision::F64, 1e-12),
            ((3 * 3 * 4, 6), 1.0, Precision::F64, 1e-12),
            ((203, 150), 1.0, Precision::F32, 2e-5),
            ((150, 203), 1.0, Precision::F64, 1e-12),
        ];
        for ((rows, cols), gain, precision, tolerance) in cases {
            let out = values(rows, cols, gain, precision, &Stream::derive(5, "orthogonal"));
            let size = rows.min(cols);
            let product = gram(&out, rows, cols);
            for i in 0..size {
                for j in 0..size {
                    let expected = if i == j { gain * gain } else { 0.0 };
                    let error = (product[i * size + j] - expected).abs();
                    assert!(error < tolerance, "{rows}x{cols} {precision:?}: ({i},{j}) off by {error}");
                }
            }
        }
    }

    #[test]
    fn entries_of_three_by_three_matrices_are_uniform_as_for_haar_matrices() {
        // A column of a Haar-distributed orthogonal 3 × 3 matrix is uniform on the sphere S², so
        // each entry is uniform on [−1, 1] (Archimedes). Each of the 9 entries over 4000 seeds
        // passes a Kolmogorov–Smirnov test against that CDF; a missing sign correction would
        // make Q[0][0] ≤ 0 always, and a biased reflector would skew the last column.
        let seeds = 4000;
        let matrices: Vec<Vec<f64>> = (0..seeds)
            .map(|seed| values(3, 3, 1.0, Precision::F64, &Stream::derive(seed, "orthogonal.haar")))
            .collect();
        let uniform = |x: f64| ks::uniform_cdf(x, -1.0, 1.0);
        for entry in 0..9 {
            let samples: Vec<f32> = matrices.iter().map(|m| m[entry] as f32).collect();
            let statistic = ks::ks_statistic(&samples, uniform);
            let critical = ks::critical_value(samples.len());
            assert!(statistic < critical, "entry {entry}: D = {statistic} ≥ {critical}");
        }
        // Power: the same test rejects entries that are not uniform (the absolute values).
        let absolute: Vec<f32> = matrices.iter().map(|m| m[0].abs() as f32).collect();
        let statistic = ks::ks_statistic(&absolute, uniform);
        assert!(statistic > 0.4, "D = {statistic}");
    }

    #[test]
    fn determinant_sign_is_plus_or_minus_one_equally() {
        // Haar measure on O(3) gives det = +1 and −1 with probability ½ each.
        let positive = (0..2000u64)
            .filter(|&seed| {
                let m = values(3, 3, 1.0, Precision::F64, &Stream::derive(seed, "orthogonal.det"));
                let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
                    + m[2] * (m[3] * m[7] - m[4] * m[6]);
                det > 0.0
            })
            .count();
        // Binomial(2000, ½): mean 1000, σ ≈ 22.4; ±5σ.
        assert!((888..=1112).contains(&positive), "{positive} of 2000 positive");
    }

    #[test]
    fn zero_draw_gives_a_zero_column() {
        // Reflector 1's normals all zero: no reflection and a zero column 1, as Keras's
        // sign(0) = 0 gives for a rank-deficient matrix.
        let (tall, short) = (4, 3);
        let draw = |first: u64, out: &mut [f32]| {
            for (offset, slot) in out.iter_mut().enumerate() {
                let index = first + offset as u64;
                let in_reflector_one = (draws_before(tall, 1)..draws_before(tall, 2)).contains(&index);
                *slot = if in_reflector_one { 0.0 } else { 1.0 + index as f32 };
            }
        };
        let q = q_matrix::<f64>(tall, short, &draw, Simd::Portable).expect("memory");
        assert!((0..tall).all(|r| q.get(r, 1) == 0.0));
        for c in [0, 2] {
            let norm: f64 = (0..tall).map(|r| q.get(r, c) * q.get(r, c)).sum();
            assert!((norm - 1.0).abs() < 1e-12, "column {c}: {norm}");
        }
    }

    #[test]
    fn any_window_reads_the_same_elements_as_the_whole() {
        for (rows, cols) in [(7, 5), (5, 7), (16, 16)] {
            let matrix = Orthogonal::new(rows, cols, 1.5, Precision::F32, &Stream::derive(2, "orthogonal.windows"))
                .expect("memory");
            let mut whole = vec![0.0; rows * cols];
            matrix.fill(0, &mut whole);
            for (index, &value) in whole.iter().enumerate() {
                assert_eq!(matrix.value(index).to_bits(), value.to_bits(), "{rows}x{cols} element {index}");
            }
            for (start, len) in [(0, 1), (3, 9), (cols - 1, 2), (rows * cols - 4, 4)] {
                let mut window = vec![0.0; len];
                matrix.fill(start, &mut window);
                assert_eq!(window, whole[start..start + len], "{rows}x{cols} {start}+{len}");
            }
        }
    }

    #[test]
    fn working_memory_is_q_and_two_blocks() {
        // (rows, cols, precision, bytes): Q padded to whole vectors plus its signs, the blocks'
        // V, T, τ and signs, and a window of draws (f32 values and their bytes).
        let cases = [
            // 16384²: Q (16384² + 16384)·4, two blocks (16384·64 + 64² + 2·64)·4, draws 16384·8.
            (16384, 16384, Precision::F32, 1_073_807_360 + 2 * 4_211_200 + 131_072),
            // A tall, thin matrix has one block, as large as Q; draws are a window of 2^18.
            (4_194_304, 16, Precision::F32, 268_435_520 + 268_436_608 + 2_097_152),
            // Wide is tall transposed; 3 rows pad to 16, in f64.
            (3, 5, Precision::F64, (16 * 3 + 3) * 8 + (16 * 3 + 9 + 6) * 8 + 5 * 8),
            (0, 7, Precision::F32, 0),
        ];
        for (rows, cols, precision, bytes) in cases {
            assert_eq!(working_memory(rows, cols, precision), bytes, "{rows}x{cols} {precision:?}");
        }
        // A square f32 matrix from 4096² up needs at most 1.25 times its tensor (the two blocks
        // in flight are 2·64 columns: a quarter of Q at 512²).
        for n in [4096usize, 8192, 16384, 65536] {
            let tensor = (n * n * 4) as f64;
            let ratio = working_memory(n, n, Precision::F32) as f64 / tensor;
            assert!(ratio <= 1.25, "{n}²: {ratio}");
        }
        // Sizes past memory saturate instead of wrapping.
        assert_eq!(working_memory(usize::MAX, usize::MAX, Precision::F64), u64::MAX);
    }

    #[test]
    fn draws_are_consecutive_per_reflector() {
        assert_eq!(draws_before(5, 0), 0);
        assert_eq!(draws_before(5, 1), 5);
        assert_eq!(draws_before(5, 2), 9);
        assert_eq!(draws_before(5, 5), 15);
    }

    #[test]
    fn simd_and_portable_paths_give_the_same_bits() {
        // Odd sizes exercise every remainder: rows not a multiple of 16, a last block narrower
        // than PANEL, column groups not a multiple of the kernels' widths.
        for (tall, short) in [(203, 101), (130, 130), (61, 59), (1, 1), (17, 3)] {
            let simd = Simd::detect();
            assert_eq!(q_bits::<f32>(tall, short, 3, simd), q_bits::<f32>(tall, short, 3, Simd::Portable));
            assert_eq!(q_bits::<f64>(tall, short, 3, simd), q_bits::<f64>(tall, short, 3, Simd::Portable));
            #[cfg(target_arch = "x86_64")]
            if simd == Simd::Avx512 && std::arch::is_x86_feature_detected!("avx2") {
                assert_eq!(q_bits::<f32>(tall, short, 3, Simd::Avx2), q_bits::<f32>(tall, short, 3, Simd::Portable));
            }
        }
    }

    #[test]
    fn large_matrices_match_bitwise_across_thread_counts() {
        let (rows, cols) = (300, 260);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            pool.install(|| {
                let out = values(rows, cols, 1.0, Precision::F32, &Stream::derive(1, "big"));
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            })
        };
        assert_eq!(run(1), run(4));
    }
}
