//! identity(gain): Keras 3 `constant_initializers.py` `Identity`: `gain * eye(rows, cols)`,
//! a possibly rectangular matrix with `gain` on the main diagonal.

/// `out` is the row-major `rows × cols` matrix; rank 2 is validated upstream, so for any other
/// rank the caller passes ∏shape[:-1] × shape[-1] and this still cannot go out of bounds.
pub fn fill(rows: usize, cols: usize, gain: f64, out: &mut [f32]) {
    out.fill(0.0);
    for diagonal in 0..rows.min(cols) {
        if let Some(slot) = out.get_mut(diagonal * cols + diagonal) {
            *slot = gain as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn puts_gain_on_the_main_diagonal_only() {
        for (rows, cols) in [(3, 3), (2, 4), (4, 2), (1, 1), (0, 3)] {
            let mut out = vec![9.0f32; rows * cols];
            fill(rows, cols, 1.5, &mut out);
            for r in 0..rows {
                for c in 0..cols {
                    let expected = if r == c { 1.5 } else { 0.0 };
                    assert_eq!(out[r * cols + c], expected, "{rows}x{cols} at ({r}, {c})");
                }
            }
        }
    }
}
