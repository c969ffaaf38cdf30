//! orthogonal(gain): Keras 3 `random_initializers.py` `Orthogonal.__call__`: QR of a standard
//! normal (max(rows, cols) × min(rows, cols)) matrix, Q's columns multiplied by sign(diag R),
//! transposed if rows < cols, reshaped, times gain.
//!
//! The QR is a plain scalar Householder factorisation in f64, written here rather than taken
//! from faer/BLAS because those dispatch on CPU features and so give platform-dependent bits.
//! Work is split over columns only: each column's arithmetic runs in a fixed order on one
//! thread, so the result does not depend on the thread count.

use rayon::prelude::*;

use super::sampler::Sampler;
use super::stream::Stream;

/// Below this many multiply-adds per reflector application, stay on one thread.
const PARALLEL_WORK_THRESHOLD: usize = 1 << 16;

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

/// Q of the reduced QR of the column-major `tall × short` matrix `a` (tall ≥ short), with
/// column k multiplied by sign(R[k][k]) as Keras does: this makes Q independent of the
/// Householder sign convention (it is the Q whose R has a positive diagonal). Following Keras's
/// `ops.sign`, sign(0) = 0: a column with R[k][k] = 0 (rank-deficient `a`, probability zero for
/// normal draws) comes out as zeros.
fn sign_corrected_q(mut a: Vec<f64>, tall: usize, short: usize) -> Vec<f64> {
    let mut reflectors: Vec<Option<Reflector>> = Vec::with_capacity(short);
    let mut diagonal = Vec::with_capacity(short);
    for k in 0..short {
        let (done, remaining) = a.split_at_mut((k + 1) * tall);
        let column = &done[k * tall + k..];
        let norm = column.iter().map(|x| x * x).sum::<f64>().sqrt();
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
        apply_to_columns(&reflector, k, remaining, tall);
        reflectors.push(Some(reflector));
        diagonal.push(alpha);
    }

    // Q = H₀·H₁·…·H₍short−1₎ · I[:, :short], accumulated right to left; H_k leaves columns < k alone.
    let mut q = vec![0.0f64; tall * short];
    for k in 0..short {
        q[k * tall + k] = 1.0;
    }
    for (k, reflector) in reflectors.iter().enumerate().rev() {
        if let Some(reflector) = reflector {
            apply_to_columns(reflector, k, &mut q[k * tall..], tall);
        }
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

/// H = I − τ·v·vᵀ with τ = 2/(vᵀv), acting on rows `k..` of a column.
struct Reflector {
    direction: Vec<f64>,
    tau: f64,
}

impl Reflector {
    fn new(direction: Vec<f64>) -> Reflector {
        let squared_norm: f64 = direction.iter().map(|x| x * x).sum();
        Reflector { direction, tau: 2.0 / squared_norm }
    }

    /// `tail` is rows `k..` of one column.
    fn apply(&self, tail: &mut [f64]) {
        let dot: f64 = self.direction.iter().zip(tail.iter()).map(|(v, x)| v * x).sum();
        let factor = self.tau * dot;
        for (x, v) in tail.iter_mut().zip(&self.direction) {
            *x -= factor * v;
        }
    }
}

/// Apply the reflector of step `k` to every whole column in `columns` (column-major, `tall` rows).
fn apply_to_columns(reflector: &Reflector, k: usize, columns: &mut [f64], tall: usize) {
    let work = columns.len() / tall * (tall - k);
    if work < PARALLEL_WORK_THRESHOLD {
        columns.chunks_mut(tall).for_each(|column| reflector.apply(&mut column[k..]));
    } else {
        columns.par_chunks_mut(tall).for_each(|column| reflector.apply(&mut column[k..]));
    }
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
