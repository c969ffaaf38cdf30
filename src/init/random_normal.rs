//! random_normal(mean, stddev): Keras 3 `random_initializers.py` `RandomNormal`
//! (`random.normal(shape, mean, stddev)`), drawn by Box–Muller (`specs/rng.md`).

use super::sampler::Sampler;

pub fn sampler(mean: f64, stddev: f64) -> Sampler {
    Sampler::Normal { mean, stddev }
}

#[cfg(test)]
mod tests {
    use super::super::ks::{assert_fits, normal_cdf, samples};
    use super::*;

    #[test]
    fn follows_the_normal_distribution() {
        let (mean, stddev) = (0.3, 0.05);
        let values = samples(sampler(mean, stddev), 11);
        assert_fits(&values, |x| normal_cdf((x - mean) / stddev));
    }
}
