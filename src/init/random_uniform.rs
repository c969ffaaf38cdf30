//! random_uniform(minval, maxval): Keras 3 `random_initializers.py` `RandomUniform`
//! (`random.uniform(shape, minval, maxval)`), uniform on [minval, maxval).

use super::sampler::Sampler;

pub fn sampler(minval: f64, maxval: f64) -> Sampler {
    Sampler::Uniform { low: minval, high: maxval }
}

#[cfg(test)]
mod tests {
    use super::super::ks::{assert_fits, samples, uniform_cdf};
    use super::*;

    #[test]
    fn stays_within_minval_inclusive_maxval_exclusive() {
        for (minval, maxval) in [(-0.05, 0.05), (0.0, 1.0), (1.0, 1.0000001), (-3.0, -2.0)] {
            let values = samples(sampler(minval, maxval), 5);
            let (low, high) = (minval as f32, maxval as f32);
            assert!(values.iter().all(|&v| v >= low && v < high), "[{minval}, {maxval})");
        }
    }

    #[test]
    fn follows_the_uniform_distribution() {
        let (minval, maxval) = (-0.05, 0.05);
        let values = samples(sampler(minval, maxval), 12);
        assert_fits(&values, |x| uniform_cdf(x, minval, maxval));
    }
}
