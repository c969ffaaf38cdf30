//! `torch.nn.init.orthogonal_(gain)` from torch's own input matrix: `normal_(0, 1)` on a
//! `rows × cols` matrix in the tensor's dtype (`rows = shape[0]`, `cols` the rest; transposed when
//! `rows < cols`), then Q of its QR, column k times sign(R[k][k]), transposed back, times `gain`.
//! torch's QR is LAPACK's (`geqrf`/`orgqr`, MKL here), whose bits depend on the library, its SIMD
//! paths and thread count; initc computes the same Q by Householder QR in f64 and rounds it into
//! the dtype, so the values equal torch's only within a tolerance (`specs/rng.md`), while the
//! generator advances exactly as torch's does.

use super::dtype::TorchDtype;
use super::generator::TorchGenerator;
use super::init_functions::TorchInitError;
use rayon::prelude::*;

/// Columns of work below which the trailing update runs on one thread.
const PARALLEL_WORK: usize = 1 << 15;

/// Fills `out` (a tensor of `shape`) as `orthogonal_` does.
pub fn orthogonal_<T: TorchDtype>(
    generator: &mut TorchGenerator,
    shape: &[usize],
    out: &mut [T],
    gain: f64,
) -> Result<(), TorchInitError> {
    if shape.len() < 2 {
        return Err(TorchInitError::FewerThanTwoDimensions);
    }
    if out.is_empty() {
        return Ok(());
    }
    let rows = shape[0];
    let cols = out.len() / rows;
    let mut drawn = vec![T::default(); out.len()];
    T::normal_(generator, &mut drawn, 0.0, 1.0);
    if !T::HAS_QR {
        return Err(TorchInitError::NoQr);
    }
    // The tall matrix A (m ≥ n) as its n columns: the drawn matrix's columns when it is tall,
    // its rows when it is wide (`flattened.t_()`).
    let (m, n) = (rows.max(cols), rows.min(cols));
    let mut columns: Vec<Vec<f64>> = if rows >= cols {
        (0..cols).map(|col| (0..rows).map(|row| drawn[row * cols + col].to_f64()).collect()).collect()
    } else {
        drawn.chunks_exact(cols).map(|row| row.iter().map(|value| value.to_f64()).collect()).collect()
    };
    let q = q_with_positive_r(&mut columns, m, n);
    // `copy_` into the tensor's dtype, then `mul_(gain)` in it.
    let gain = T::from_f64(gain).to_f64();
    for (row, values) in out.chunks_exact_mut(cols).enumerate() {
        for (col, slot) in values.iter_mut().enumerate() {
            let value = if rows >= cols { q[col][row] } else { q[row][col] };
            *slot = T::from_f64(T::from_f64(value).to_f64() * gain);
        }
    }
    Ok(())
}

/// Q (`m × n`, as columns) of the QR of the `m × n` matrix `a` (as columns, overwritten), each
/// column times the sign of R's diagonal element (0 for a zero one, as `Tensor.sign`).
fn q_with_positive_r(a: &mut [Vec<f64>], m: usize, n: usize) -> Vec<Vec<f64>> {
    let mut reflectors: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut signs = Vec::with_capacity(n);
    for k in 0..n {
        let (done, rest) = a.split_at_mut(k + 1);
        let column = &done[k][k..];
        let norm = dot(column, column).sqrt();
        // R[k][k] = alpha: the reflection sends the column to alpha·e1, away from its sign.
        let alpha = if column[0] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = column.to_vec();
        v[0] -= alpha;
        let length = dot(&v, &v).sqrt();
        if length > 0.0 {
            v.iter_mut().for_each(|x| *x /= length);
        }
        signs.push(if alpha > 0.0 {
            1.0
        } else if alpha < 0.0 {
            -1.0
        } else {
            0.0
        });
        let reflect = |column: &mut Vec<f64>| reflect(&v, &mut column[k..]);
        if (m - k) * rest.len() >= PARALLEL_WORK {
            rest.par_iter_mut().for_each(reflect);
        } else {
            rest.iter_mut().for_each(reflect);
        }
        reflectors.push(v);
    }
    // Q = H_0 ⋯ H_{n−1} applied to the first n columns of the identity, last reflector first:
    // H_k touches only rows k.. of columns k.. .
    let mut q: Vec<Vec<f64>> = (0..n)
        .map(|col| {
            let mut column = vec![0.0; m];
            column[col] = 1.0;
            column
        })
        .collect();
    for (k, v) in reflectors.iter().enumerate().rev() {
        let reflect = |column: &mut Vec<f64>| reflect(v, &mut column[k..]);
        if (m - k) * (n - k) >= PARALLEL_WORK {
            q[k..].par_iter_mut().for_each(reflect);
        } else {
            q[k..].iter_mut().for_each(reflect);
        }
    }
    for (column, sign) in q.iter_mut().zip(signs) {
        column.iter_mut().for_each(|x| *x *= sign);
    }
    q
}

/// `x ← (I − 2·v·vᵀ)·x` for a unit (or zero) `v`.
fn reflect(v: &[f64], x: &mut [f64]) {
    let scale = 2.0 * dot(v, x);
    x.iter_mut().zip(v).for_each(|(value, v)| *value -= scale * v);
}

/// `a · b` with eight partial sums, which the compiler can keep in SIMD registers (one sum in
/// order cannot be vectorised); the order is fixed, so the result is the same on every run.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    let mut sums = [0.0f64; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (a, b) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            sums[lane] += a[lane] * b[lane];
        }
    }
    sums.iter().sum::<f64>() + tail
}
