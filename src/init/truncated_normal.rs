//! truncated_normal(mean, stddev): Keras 3 `random_initializers.py` `TruncatedNormal`
//! (`random.truncated_normal`): a normal draw, redrawn while more than 2·stddev from the mean.

use super::sampler::Sampler;

pub fn sampler(mean: f64, stddev: f64) -> Sampler {
    Sampler::TruncatedNormal { mean, stddev }
}

#[cfg(test)]
mod tests {
    use super::super::ks::{assert_fits, ks_statistic, normal_cdf, samples, truncated_normal_cdf};
    use super::*;

    #[test]
    fn stays_within_two_standard_deviations() {
        let (mean, stddev) = (1.0, 0.5);
        let values = samples(sampler(mean, stddev), 3);
        // 2σ plus the f32 rounding of the result.
        let bound = 2.0 * stddev * (1.0 + 1e-6);
        assert!(values.iter().all(|&v| (f64::from(v) - mean).abs() <= bound));
    }

    #[test]
    fn follows_the_truncated_normal_distribution() {
        let (mean, stddev) = (-0.2, 0.05);
        let values = samples(sampler(mean, stddev), 13);
        assert_fits(&values, |x| truncated_normal_cdf((x - mean) / stddev));
    }

    #[test]
    fn ks_test_rejects_an_untruncated_normal_as_truncated() {
        // The power check: the test must be able to tell the two apart.
        let values = samples(Sampler::Normal { mean: 0.0, stddev: 1.0 }, 13);
        let statistic = ks_statistic(&values, truncated_normal_cdf);
        assert!(statistic > super::super::ks::critical_value(values.len()), "D = {statistic}");
        // And the normal fits its own CDF, so the rejection is about the truncation.
        assert_fits(&values, normal_cdf);
    }
}
