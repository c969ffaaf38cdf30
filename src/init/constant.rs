//! zeros, ones and constant(value): Keras 3 `constant_initializers.py` (`Zeros`, `Ones`,
//! `Constant`: `cast(value, dtype) * ones(shape)`), no randomness.

/// Every element is `value` rounded to f32.
pub fn fill(value: f64, out: &mut [f32]) {
    out.fill(value as f32);
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn fills_every_element_with_the_rounded_value() {
        for value in [0.0, 1.0, -2.5, 0.1] {
            let mut out = vec![7.0f32; 5];
            fill(value, &mut out);
            assert!(out.iter().all(|&v| v == value as f32));
        }
    }
}
