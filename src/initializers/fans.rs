//! A tensor's fans (Keras 3 `compute_fans`) and the matrix Keras flattens it to for
//! `orthogonal` and `identity`.

/// Fan-in and fan-out of a tensor, as Keras 3's `compute_fans` defines them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fans {
    pub fan_in: f64,
    pub fan_out: f64,
}

impl Fans {
    /// Keras 3 `compute_fans`: rank 0 → (1, 1); rank 1 → (n, n); rank 2 → (rows, cols);
    /// rank ≥ 3 (a kernel `(k…, in, out)`) → (in·∏k, out·∏k).
    pub fn of_shape(shape: &[usize]) -> Fans {
        let (fan_in, fan_out) = match shape {
            [] => (1.0, 1.0),
            [n] => (*n as f64, *n as f64),
            [rows, cols] => (*rows as f64, *cols as f64),
            [kernel @ .., fan_in, fan_out] => {
                let receptive: f64 = kernel.iter().map(|&k| k as f64).product();
                (*fan_in as f64 * receptive, *fan_out as f64 * receptive)
            }
        };
        Fans { fan_in, fan_out }
    }
}

/// Keras's flattening to a matrix, `(∏shape[:-1], shape[-1])`; a rank-0 shape reads as 1 × 1.
pub(super) fn matrix_view(shape: &[usize]) -> (usize, usize) {
    match shape.split_last() {
        Some((&cols, leading)) => (leading.iter().product(), cols),
        None => (1, 1),
    }
}

/// `matrix_view` in `f64`, so that no shape (one read from any file) can overflow the product.
pub(super) fn matrix_size(shape: &[usize]) -> (f64, f64) {
    match shape.split_last() {
        Some((&cols, rows)) => (rows.iter().map(|&dim| dim as f64).product(), cols as f64),
        None => (1.0, 1.0),
    }
}
