//! orthogonal(gain): Keras 3 `random_initializers.py` `Orthogonal.__call__`: QR of a standard
//! normal (max(rows, cols) × min(rows, cols)) matrix, Q's columns multiplied by sign(diag R),
//! transposed if rows < cols, reshaped, times gain.
//!
//! The QR is a Householder factorisation in f64, written here rather than taken from faer/BLAS
//! because those dispatch on CPU features and so give platform-dependent bits. Work is split over
//! columns only, and each column's arithmetic (dot products in a fixed 8-lane order) runs on one
//! thread, so the result depends on neither the thread count nor the SIMD width.

use rayon::prelude::*;

use super::sampler::Sampler;
use super::stream::Stream;

/// Below this many multiply-adds per panel application, stay on one thread.
const PARALLEL_WORK_THRESHOLD: usize = 1 << 18;

/// `rows` = ∏shape[:-1], `cols` = shape[-1]; the row-major `rows × cols` result times `gain`,
/// in f64 (rounded into the dtype by the caller). Empty if either side is 0.
pub fn values(rows: usize, cols: usize, gain: f64, stream: &Stream) -> Vec<f64> {
    let (tall, short) = (rows.max(cols), rows.min(cols));
    if short == 0 {
        return Vec::new();
    }
    // `a` is exactly what random_normal(0, 1) of shape (tall, short) gives on this stream in f32.
    let mut normals = vec![0.0f32; tall * short];
    Sampler::Normal { mean: 0.0, stddev: 1.0 }.fill(stream, &mut normals);
    let mut column_major = vec![0.0f64; tall * short];
    for (index, &value) in normals.iter().enumerate() {
        let (row, col) = (index / short, index % short);
        column_major[col * tall + row] = f64::from(value);
    }
    drop(normals);
    let q = sign_corrected_q(column_major, tall, short);
    let mut out = vec![0.0f64; rows * cols];
    for row in 0..rows {
        for col in 0..cols {
            // Tall: out = Q (tall = rows). Wide: out = Qᵀ (tall = cols), so out[r][c] = Q[c][r].
            let q_index = if rows >= cols { col * tall + row } else { row * tall + col };
            out[row * cols + col] = gain * q[q_index];
        }
    }
    out
}

/// Reflectors per block reflector (compact WY panel).
const PANEL: usize = 48;
/// Columns per parallel task when applying a block reflector.
const TASK_COLUMNS: usize = 16;
/// Rows of V swept over a task's columns at a time, for cache reuse (a multiple of 8).
const ROW_BLOCK: usize = 256;

/// One panel's block reflector H_k0·…·H_(k1−1) = I − V·T·Vᵀ on rows `k0..tall`.
struct Block {
    /// `rows × width` column-major; column l is reflector k0+l's v (zero above row l).
    v: Vec<f64>,
    /// `width × width` row-major, upper triangular.
    t: Vec<f64>,
    rows: usize,
    width: usize,
}

/// Q of the reduced QR of the column-major `tall × short` matrix `a` (tall ≥ short), with
/// column k multiplied by sign(R[k][k]) as Keras does: this makes Q independent of the
/// Householder sign convention (it is the Q whose R has a positive diagonal). Following Keras's
/// `ops.sign`, sign(0) = 0: a column with R[k][k] = 0 (rank-deficient `a`, probability zero for
/// normal draws) comes out as zeros.
///
/// Compact-WY blocked Householder (see specs/initializers.md for the exact summation orders):
/// each panel of `PANEL` columns is factored column by column, its reflectors are gathered into
/// I − V·T·Vᵀ, and that is applied to the trailing columns as W = Vᵀ·C, W ← Tᵀ·W, C ← C − V·W.
/// Q is then I[:, :short] with the block reflectors applied last to first (W ← T·W). Every
/// column's arithmetic is fixed and done by one thread, so neither the thread count nor the
/// grouping of columns changes a bit.
fn sign_corrected_q(a: Vec<f64>, tall: usize, short: usize) -> Vec<f64> {
    sign_corrected_q_with(a, tall, short, false)
}

/// `portable`: skip the run-time SIMD dispatch (the same bits, for the test that checks so).
fn sign_corrected_q_with(mut a: Vec<f64>, tall: usize, short: usize, portable: bool) -> Vec<f64> {
    let mut blocks: Vec<(usize, Block)> = Vec::new();
    let mut diagonal = Vec::with_capacity(short);
    for k0 in (0..short).step_by(PANEL) {
        let k1 = (k0 + PANEL).min(short);
        let (rows, width) = (tall - k0, k1 - k0);
        let mut v = vec![0.0f64; rows * width];
        let mut taus = vec![0.0f64; width];
        for k in k0..k1 {
            let (done, remaining) = a.split_at_mut((k + 1) * tall);
            let column = &done[k * tall + k..];
            let norm = dot(column, column).sqrt();
            if norm == 0.0 {
                // Nothing below the diagonal to annihilate and R[k][k] = 0: no reflection
                // (v = 0, τ = 0).
                diagonal.push(0.0);
                continue;
            }
            // α = −sign(x₀)·‖x‖ avoids cancellation in v₀ = x₀ − α.
            let alpha = if column[0] >= 0.0 { -norm } else { norm };
            let direction = &mut v[(k - k0) * rows + (k - k0)..(k - k0 + 1) * rows];
            direction.copy_from_slice(column);
            direction[0] -= alpha;
            let tau = 2.0 / dot(direction, direction);
            for later in remaining[..(k1 - k - 1) * tall].chunks_mut(tall) {
                let tail = &mut later[k..];
                let factor = tau * dot(direction, tail);
                for (x, d) in tail.iter_mut().zip(direction.iter()) {
                    *x -= factor * d;
                }
            }
            taus[k - k0] = tau;
            diagonal.push(alpha);
        }
        let block = Block { t: triangular_factor(&v, rows, width, &taus), v, rows, width };
        if k1 < short {
            apply_block(&block, true, &mut a[k1 * tall..], tall, portable);
        }
        blocks.push((k0, block));
    }
    drop(a);

    let mut q = vec![0.0f64; tall * short];
    for k in 0..short {
        q[k * tall + k] = 1.0;
    }
    for (k0, block) in blocks.iter().rev() {
        apply_block(block, false, &mut q[k0 * tall..], tall, portable);
    }
    for (column, &r_kk) in q.chunks_mut(tall).zip(&diagonal) {
        let sign = if r_kk > 0.0 {
            1.0
        } else if r_kk < 0.0 {
            -1.0
        } else {
            0.0
        };
        column.iter_mut().for_each(|x| *x *= sign);
    }
    q
}

/// T with H_0·…·H_(w−1) = I − V·T·Vᵀ: T[l][l] = τ_l, z_p = dot(v_p, v_l) for p < l, and
/// T[p][l] = −τ_l·(Σ_{q=p}^{l−1} T[p][q]·z_q), q ascending.
fn triangular_factor(v: &[f64], rows: usize, width: usize, taus: &[f64]) -> Vec<f64> {
    let mut t = vec![0.0f64; width * width];
    for l in 0..width {
        let column = &v[l * rows..(l + 1) * rows];
        let z: Vec<f64> = (0..l).map(|p| dot(&v[p * rows..(p + 1) * rows], column)).collect();
        for p in 0..l {
            let mut sum = 0.0;
            for q in p..l {
                sum += t[p * width + q] * z[q];
            }
            t[p * width + l] = -taus[l] * sum;
        }
        t[l * width + l] = taus[l];
    }
    t
}

/// Applies the block reflector (`transpose`: I − V·Tᵀ·Vᵀ, else I − V·T·Vᵀ) to rows
/// `tall − rows..` of every whole column of `columns`, in parallel over groups of columns.
fn apply_block(block: &Block, transpose: bool, columns: &mut [f64], tall: usize, portable: bool) {
    let apply_dispatch = |block: &Block, transpose: bool, chunk: &mut [f64], tall: usize| {
        if portable {
            apply_chunk(block, transpose, chunk, tall)
        } else {
            apply_dispatch(block, transpose, chunk, tall)
        }
    };
    let work = columns.len() / tall * block.rows * block.width;
    if work < PARALLEL_WORK_THRESHOLD {
        columns.chunks_mut(tall * TASK_COLUMNS).for_each(|chunk| apply_dispatch(block, transpose, chunk, tall));
    } else {
        columns.par_chunks_mut(tall * TASK_COLUMNS).for_each(|chunk| apply_dispatch(block, transpose, chunk, tall));
    }
}

fn apply_dispatch(block: &Block, transpose: bool, chunk: &mut [f64], tall: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the feature the function enables.
            return unsafe { apply_avx512(block, transpose, chunk, tall) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { apply_avx2(block, transpose, chunk, tall) };
        }
    }
    apply_chunk(block, transpose, chunk, tall);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn apply_avx2(block: &Block, transpose: bool, chunk: &mut [f64], tall: usize) {
    apply_chunk(block, transpose, chunk, tall);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn apply_avx512(block: &Block, transpose: bool, chunk: &mut [f64], tall: usize) {
    apply_chunk(block, transpose, chunk, tall);
}

type Lanes = [f64; 8];

/// One group of columns: W = Vᵀ·C (each entry exactly `dot`'s order), W ← Tᵀ·W or T·W, C −= V·W.
#[inline(always)]
fn apply_chunk(block: &Block, transpose: bool, chunk: &mut [f64], tall: usize) {
    let (v, rows, width) = (&block.v[..], block.rows, block.width);
    let ncols = chunk.len() / tall;
    let k0 = tall - rows;
    let full = rows / 8 * 8;
    // Lane sums of dot(v_l, c_j), index j·width + l.
    let mut lanes = vec![[0.0f64; 8]; ncols * width];
    for r0 in (0..full).step_by(ROW_BLOCK) {
        let r1 = (r0 + ROW_BLOCK).min(full);
        let mut l0 = 0;
        while l0 < width {
            let mut j0 = 0;
            if l0 + 4 <= width {
                while j0 + 4 <= ncols {
                    dots_kernel::<4, 4>(v, rows, l0, chunk, tall, k0, j0, r0, r1, width, &mut lanes);
                    j0 += 4;
                }
                while j0 < ncols {
                    dots_kernel::<4, 1>(v, rows, l0, chunk, tall, k0, j0, r0, r1, width, &mut lanes);
                    j0 += 1;
                }
                l0 += 4;
            } else {
                while j0 < ncols {
                    dots_kernel::<1, 1>(v, rows, l0, chunk, tall, k0, j0, r0, r1, width, &mut lanes);
                    j0 += 1;
                }
                l0 += 1;
            }
        }
    }
    let mut w = vec![0.0f64; ncols * width];
    for j in 0..ncols {
        let column = &chunk[j * tall + k0..(j + 1) * tall];
        for l in 0..width {
            let s = &lanes[j * width + l];
            let mut total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
            for i in full..rows {
                total += v[l * rows + i] * column[i];
            }
            w[j * width + l] = total;
        }
        let t = &block.t;
        let raw: Vec<f64> = w[j * width..(j + 1) * width].to_vec();
        for l in 0..width {
            let mut sum = 0.0;
            if transpose {
                for p in 0..=l {
                    sum += t[p * width + l] * raw[p];
                }
            } else {
                for q in l..width {
                    sum += t[l * width + q] * raw[q];
                }
            }
            w[j * width + l] = sum;
        }
    }
    for r0 in (0..full).step_by(ROW_BLOCK) {
        let r1 = (r0 + ROW_BLOCK).min(full);
        let mut j0 = 0;
        while j0 + 8 <= ncols {
            update_kernel::<8>(v, rows, width, chunk, tall, k0, j0, &w, r0, r1);
            j0 += 8;
        }
        while j0 < ncols {
            update_kernel::<1>(v, rows, width, chunk, tall, k0, j0, &w, r0, r1);
            j0 += 1;
        }
    }
    for j in 0..ncols {
        for i in full..rows {
            let mut x = chunk[j * tall + k0 + i];
            for l in 0..width {
                x -= v[l * rows + i] * w[j * width + l];
            }
            chunk[j * tall + k0 + i] = x;
        }
    }
}

/// Lane sums for reflectors `l0..l0+R` × columns `j0..j0+C` over rows `r0..r1` (whole 8-blocks):
/// lane m accumulates the rows ≡ m (mod 8) in ascending order, as `dot` does.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn dots_kernel<const R: usize, const C: usize>(
    v: &[f64],
    rows: usize,
    l0: usize,
    chunk: &[f64],
    tall: usize,
    k0: usize,
    j0: usize,
    r0: usize,
    r1: usize,
    width: usize,
    lanes: &mut [Lanes],
) {
    let mut s = [[[0.0f64; 8]; C]; R];
    for r in 0..R {
        for c in 0..C {
            s[r][c] = lanes[(j0 + c) * width + l0 + r];
        }
    }
    let vs: [&[f64]; R] = std::array::from_fn(|r| &v[(l0 + r) * rows + r0..(l0 + r) * rows + r1]);
    let cs: [&[f64]; C] = std::array::from_fn(|c| &chunk[(j0 + c) * tall + k0 + r0..(j0 + c) * tall + k0 + r1]);
    let n = r1 - r0;
    let mut i = 0;
    // Every slice below spans exactly 8 elements inside a padded column, so each conversion to
    // `Lanes` is infallible; the sizes come from the matrix shape, never from input text.
    while i < n {
        let x: [Lanes; C] = std::array::from_fn(|c| cs[c][i..i + 8].try_into().unwrap());
        for r in 0..R {
            let y: Lanes = vs[r][i..i + 8].try_into().unwrap();
            for c in 0..C {
                for m in 0..8 {
                    s[r][c][m] += y[m] * x[c][m];
                }
            }
        }
        i += 8;
    }
    for r in 0..R {
        for c in 0..C {
            lanes[(j0 + c) * width + l0 + r] = s[r][c];
        }
    }
}

/// Rows `r0..r1` (whole 8-blocks) of columns `j0..j0+C`: x ← x − v_0·w_0 − v_1·w_1 − …, l ascending.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn update_kernel<const C: usize>(
    v: &[f64],
    rows: usize,
    width: usize,
    chunk: &mut [f64],
    tall: usize,
    k0: usize,
    j0: usize,
    w: &[f64],
    r0: usize,
    r1: usize,
) {
    let mut i = r0;
    while i < r1 {
        let mut acc: [Lanes; C] =
            std::array::from_fn(|c| chunk[(j0 + c) * tall + k0 + i..(j0 + c) * tall + k0 + i + 8].try_into().unwrap());
        for l in 0..width {
            let y: Lanes = v[l * rows + i..l * rows + i + 8].try_into().unwrap();
            for c in 0..C {
                let wl = w[(j0 + c) * width + l];
                for m in 0..8 {
                    acc[c][m] -= y[m] * wl;
                }
            }
        }
        for c in 0..C {
            chunk[(j0 + c) * tall + k0 + i..(j0 + c) * tall + k0 + i + 8].copy_from_slice(&acc[c]);
        }
        i += 8;
    }
}

/// Σ aᵢ·bᵢ in a fixed order: eight running sums, sum l over the elements i ≡ l (mod 8) of the
/// first 8·⌊n/8⌋ in order, combined as ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)), then the remaining
/// elements added in order.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut sums = [0.0f64; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_rest, b_rest) = (a_chunks.remainder(), b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    let mut total = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]));
    for (x, y) in a_rest.iter().zip(b_rest) {
        total += x * y;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(rows: usize, cols: usize, gain: f64, stream: &Stream, out: &mut [f32]) {
        for (slot, value) in out.iter_mut().zip(values(rows, cols, gain, stream)) {
            *slot = value as f32;
        }
    }

    /// Gram matrix of the rows (wide) or columns (tall) of a row-major matrix.
    fn gram(values: &[f32], rows: usize, cols: usize) -> Vec<f64> {
        let value = |r: usize, c: usize| f64::from(values[r * cols + c]);
        let (size, other) = (rows.min(cols), rows.max(cols));
        let mut product = vec![0.0; size * size];
        for i in 0..size {
            for j in 0..size {
                product[i * size + j] = (0..other)
                    .map(|t| if rows >= cols { value(t, i) * value(t, j) } else { value(i, t) * value(j, t) })
                    .sum();
            }
        }
        product
    }

    #[test]
    fn is_orthogonal_times_gain() {
        // (shape as rows × cols, gain): square, tall, wide, and conv kernels flattened.
        let cases = [((8, 8), 1.0), ((20, 5), 1.0), ((5, 20), 2.0), ((3 * 4, 5), 0.5), ((3 * 3 * 4, 6), 1.0)];
        for ((rows, cols), gain) in cases {
            let mut out = vec![0.0f32; rows * cols];
            fill(rows, cols, gain, &Stream::derive(5, "orthogonal"), &mut out);
            let size = rows.min(cols);
            let product = gram(&out, rows, cols);
            for i in 0..size {
                for j in 0..size {
                    let expected = if i == j { gain * gain } else { 0.0 };
                    let error = (product[i * size + j] - expected).abs();
                    assert!(error < 1e-5, "{rows}x{cols} gain {gain}: ({i},{j}) off by {error}");
                }
            }
        }
    }

    #[test]
    fn r_has_a_positive_diagonal_as_in_keras() {
        // R = Qᵀ·A must have a positive diagonal after the sign correction.
        let (tall, short) = (7, 4);
        let stream = Stream::derive(9, "orthogonal.sign");
        let mut normals = vec![0.0f32; tall * short];
        Sampler::Normal { mean: 0.0, stddev: 1.0 }.fill(&stream, &mut normals);
        let mut q = vec![0.0f32; tall * short];
        fill(tall, short, 1.0, &stream, &mut q);
        for k in 0..short {
            let r_kk: f64 = (0..tall).map(|t| f64::from(q[t * short + k]) * f64::from(normals[t * short + k])).sum();
            assert!(r_kk > 0.0, "R[{k}][{k}] = {r_kk}");
        }
    }

    #[test]
    fn zero_diagonal_of_r_gives_a_zero_column() {
        // Column-major 3×2 with a zero second column: R[1][1] = 0, so sign 0 as in Keras.
        let q = sign_corrected_q(vec![2.0, 0.0, 0.0, 0.0, 0.0, 0.0], 3, 2);
        assert_eq!(&q[..3], &[1.0, 0.0, 0.0]);
        assert!(q[3..].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn simd_and_portable_paths_give_the_same_bits() {
        // Odd sizes exercise every remainder: rows not a multiple of 8, a last panel narrower
        // than PANEL, column groups not a multiple of the kernels' widths.
        for (tall, short) in [(203, 101), (130, 130), (61, 59)] {
            let mut normals = vec![0.0f32; tall * short];
            Sampler::Normal { mean: 0.0, stddev: 1.0 }.fill(&Stream::derive(3, "orthogonal.simd"), &mut normals);
            let a: Vec<f64> = normals.iter().map(|&x| f64::from(x)).collect();
            let simd = sign_corrected_q_with(a.clone(), tall, short, false);
            let portable = sign_corrected_q_with(a, tall, short, true);
            let bits = |q: &[f64]| q.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&simd), bits(&portable), "{tall}x{short}");
        }
    }

    #[test]
    fn large_matrices_match_bitwise_across_thread_counts() {
        let (rows, cols) = (300, 260);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            pool.install(|| {
                let mut out = vec![0.0f32; rows * cols];
                fill(rows, cols, 1.0, &Stream::derive(1, "big"), &mut out);
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            })
        };
        assert_eq!(run(1), run(4));
    }
}
