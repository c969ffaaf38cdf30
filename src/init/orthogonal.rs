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

/// Reflectors applied to each column while it is in cache, in one pass over the matrix.
const PANEL: usize = 48;

/// Q of the reduced QR of the column-major `tall × short` matrix `a` (tall ≥ short), with
/// column k multiplied by sign(R[k][k]) as Keras does: this makes Q independent of the
/// Householder sign convention (it is the Q whose R has a positive diagonal). Following Keras's
/// `ops.sign`, sign(0) = 0: a column with R[k][k] = 0 (rank-deficient `a`, probability zero for
/// normal draws) comes out as zeros.
///
/// Blocked by panels of `PANEL` reflectors for cache reuse, but every column still sees exactly
/// the same reflectors in the same order as in the textbook right-looking loop (ascending while
/// factoring, descending while forming Q), so the blocking does not change a bit.
fn sign_corrected_q(mut a: Vec<f64>, tall: usize, short: usize) -> Vec<f64> {
    let mut reflectors: Vec<Option<Reflector>> = Vec::with_capacity(short);
    let mut diagonal = Vec::with_capacity(short);
    for k0 in (0..short).step_by(PANEL) {
        let k1 = (k0 + PANEL).min(short);
        // Factor the panel's columns, updating only the rest of the panel.
        for k in k0..k1 {
            let (done, remaining) = a.split_at_mut((k + 1) * tall);
            let column = &done[k * tall + k..];
            let norm = dot(column, column).sqrt();
            if norm == 0.0 {
                // Nothing below the diagonal to annihilate and R[k][k] = 0: no reflection.
                reflectors.push(None);
                diagonal.push(0.0);
                continue;
            }
            // α = −sign(x₀)·‖x‖ avoids cancellation in v₀ = x₀ − α.
            let alpha = if column[0] >= 0.0 { -norm } else { norm };
            let mut direction = column.to_vec();
            direction[0] -= alpha;
            let reflector = Reflector::new(direction);
            for later in remaining[..(k1 - k - 1) * tall].chunks_mut(tall) {
                reflector.apply(&mut later[k..]);
            }
            reflectors.push(Some(reflector));
            diagonal.push(alpha);
        }
        // The panel's reflectors, in order, to every column after it.
        let panel = &reflectors[k0..k1];
        for_each_column(&mut a[k1 * tall..], tall, |_, column| {
            for (offset, reflector) in panel.iter().enumerate() {
                if let Some(reflector) = reflector {
                    reflector.apply(&mut column[k0 + offset..]);
                }
            }
        });
    }

    // Q = H₀·H₁·…·H₍short−1₎ · I[:, :short], accumulated right to left; H_k leaves columns < k
    // alone, so column j sees H_j, H_(j−1), …, H₀ in that order.
    let mut q = vec![0.0f64; tall * short];
    for k in 0..short {
        q[k * tall + k] = 1.0;
    }
    let panels: Vec<usize> = (0..short).step_by(PANEL).collect();
    for &k0 in panels.iter().rev() {
        let k1 = (k0 + PANEL).min(short);
        let panel = &reflectors[k0..k1];
        for_each_column(&mut q[k0 * tall..], tall, |offset, column| {
            let j = k0 + offset;
            for (index, reflector) in panel.iter().enumerate().rev() {
                if let Some(reflector) = reflector
                    && k0 + index <= j
                {
                    reflector.apply(&mut column[k0 + index..]);
                }
            }
        });
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

/// Runs `work(index, column)` on every whole column of `columns` (column-major, `tall` rows),
/// in parallel when there is enough of it. Columns are independent: the result is the same.
fn for_each_column(columns: &mut [f64], tall: usize, work: impl Fn(usize, &mut [f64]) + Sync) {
    if columns.len() * PANEL < PARALLEL_WORK_THRESHOLD {
        columns.chunks_mut(tall).enumerate().for_each(|(index, column)| work(index, column));
    } else {
        columns.par_chunks_mut(tall).enumerate().for_each(|(index, column)| work(index, column));
    }
}

/// Σ aᵢ·bᵢ in a fixed order: eight running sums, sum l over the elements i ≡ l (mod 8) of the
/// first 8·⌊n/8⌋ in order, combined as ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)), then the remaining
/// elements added in order. Vectorises at any SIMD width with the same bits.
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

/// H = I − τ·v·vᵀ with τ = 2/(vᵀv), acting on rows `k..` of a column.
struct Reflector {
    direction: Vec<f64>,
    tau: f64,
}

impl Reflector {
    fn new(direction: Vec<f64>) -> Reflector {
        let squared_norm = dot(&direction, &direction);
        Reflector { direction, tau: 2.0 / squared_norm }
    }

    /// `tail` is rows `k..` of one column: x ← x − (τ·(v·x))·v. In the widest SIMD the CPU
    /// has: the lanes change how many operations run at once, never which or in what order.
    fn apply(&self, tail: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the feature the function enables.
                return unsafe { apply_avx512(self, tail) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: as above.
                return unsafe { apply_avx2(self, tail) };
            }
        }
        apply_inline(self, tail);
    }
}

#[inline(always)]
fn apply_inline(reflector: &Reflector, tail: &mut [f64]) {
    let factor = reflector.tau * dot(&reflector.direction, tail);
    for (x, v) in tail.iter_mut().zip(&reflector.direction) {
        *x -= factor * v;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn apply_avx2(reflector: &Reflector, tail: &mut [f64]) {
    apply_inline(reflector, tail);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn apply_avx512(reflector: &Reflector, tail: &mut [f64]) {
    apply_inline(reflector, tail);
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
