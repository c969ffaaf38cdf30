//! identity(gain): Keras 3 `constant_initializers.py` `Identity`: `gain * eye(rows, cols)`,
//! a possibly rectangular matrix with `gain` on the main diagonal.

/// Element `index` of the row-major `rows × cols` matrix (`cols ≥ 1`). Rank 2 is validated
/// upstream; for any other rank the caller passes the `∏shape[:-1] × shape[-1]` view.
pub fn value(index: usize, cols: usize, gain: f64) -> f64 {
    if index / cols == index % cols { gain } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn puts_gain_on_the_main_diagonal_only() {
        for (rows, cols) in [(3, 3), (2, 4), (4, 2), (1, 1), (0, 3)] {
            for r in 0..rows {
                for c in 0..cols {
                    let expected = if r == c { 1.5 } else { 0.0 };
                    assert_eq!(value(r * cols + c, cols, 1.5), expected, "{rows}x{cols} at ({r}, {c})");
                }
            }
        }
    }
}
