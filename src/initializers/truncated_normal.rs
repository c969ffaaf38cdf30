//! truncated_normal(mean, stddev): Keras 3 `random_initializers.py` `TruncatedNormal`
//! (`random.truncated_normal`): a normal draw, redrawn while more than 2·stddev from the mean.

use super::range::RangeCheck;
use super::{Arguments, Expectation, Family, FamilyDef, Fans, Form, Initializer, Randomness, Target};
use crate::diagnostic::Diagnostic;
use crate::random::{Sampler, Sampling, Stream, TRUNCATION_BOUND};
use std::collections::TryReserveError;

pub const DEF: FamilyDef = FamilyDef {
    family: Family::TruncatedNormal,
    name: "truncated_normal",
    class_names: &["TruncatedNormal"],
    // Keras's arguments and defaults are `RandomNormal`'s.
    params: super::random_normal::DEF.params,
    evaluate,
};

fn evaluate(arguments: &Arguments, _: &[usize]) -> Result<Initializer, Diagnostic> {
    let (mean, stddev) = (arguments.number("mean"), arguments.positive("stddev")?);
    Ok(Initializer::TruncatedNormal(TruncatedNormal { mean, stddev, seed: arguments.seed() }))
}

/// `stddev` is the σ before truncation, as in Keras.
#[derive(Clone, Debug, PartialEq)]
pub struct TruncatedNormal {
    pub mean: f64,
    pub stddev: f64,
    pub seed: Option<u64>,
}

impl TruncatedNormal {
    pub fn sampler(&self) -> Sampler {
        Sampler::TruncatedNormal { mean: self.mean, stddev: self.stddev }
    }
}

impl Form for TruncatedNormal {
    fn randomness(&self) -> Randomness {
        Randomness::Drawn { seed: self.seed }
    }

    fn check_range(&self, range: &RangeCheck, _: Fans) -> Result<(), Diagnostic> {
        range.normal(self.mean, self.stddev, TRUNCATION_BOUND)
    }

    fn sampling(&self, _: Target, _: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        Ok(Sampling::Draws(self.sampler()))
    }

    fn expectation(&self, _: &[usize]) -> Option<Expectation> {
        Some(Expectation::truncated(self.mean, self.stddev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::ks::{self, assert_fits, ks_statistic, normal_cdf, samples, truncated_normal_cdf};

    fn sampler(mean: f64, stddev: f64) -> Sampler {
        TruncatedNormal { mean, stddev, seed: None }.sampler()
    }

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
        assert!(statistic > ks::critical_value(values.len()), "D = {statistic}");
        // And the normal fits its own CDF, so the rejection is about the truncation.
        assert_fits(&values, normal_cdf);
    }
}
