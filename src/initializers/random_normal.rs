//! random_normal(mean, stddev): Keras 3 `random_initializers.py` `RandomNormal`
//! (`random.normal(shape, mean, stddev)`), drawn by Box–Muller (`specs/rng.md`).

use super::range::{NORMAL_REACH, RangeCheck};
use super::{Arguments, Expectation, Family, FamilyDef, Fans, Form, Initializer, Param, Randomness, Target};
use crate::diagnostic::Diagnostic;
use crate::random::{Sampler, Sampling, Stream};
use std::collections::TryReserveError;

pub const DEF: FamilyDef = FamilyDef {
    family: Family::RandomNormal,
    name: "random_normal",
    class_names: &["RandomNormal", "normal"],
    params: &[Param::number("mean", 0.0), Param::number("stddev", 0.05), Param::SEED],
    evaluate,
};

fn evaluate(arguments: &Arguments, _: &[usize]) -> Result<Initializer, Diagnostic> {
    let (mean, stddev) = (arguments.number("mean"), arguments.positive("stddev")?);
    Ok(Initializer::RandomNormal(RandomNormal { mean, stddev, seed: arguments.seed() }))
}

#[derive(Clone, Debug, PartialEq)]
pub struct RandomNormal {
    pub mean: f64,
    pub stddev: f64,
    pub seed: Option<u64>,
}

impl RandomNormal {
    pub fn sampler(&self) -> Sampler {
        Sampler::Normal { mean: self.mean, stddev: self.stddev }
    }
}

impl Form for RandomNormal {
    fn randomness(&self) -> Randomness {
        Randomness::Drawn { seed: self.seed }
    }

    fn check_range(&self, range: &RangeCheck, _: Fans) -> Result<(), Diagnostic> {
        range.normal(self.mean, self.stddev, NORMAL_REACH)
    }

    fn sampling(&self, _: Target, _: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        Ok(Sampling::Draws(self.sampler()))
    }

    fn expectation(&self, _: &[usize]) -> Option<Expectation> {
        Some(Expectation::normal(self.mean, self.stddev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::ks::{assert_fits, normal_cdf, samples};

    #[test]
    fn follows_the_normal_distribution() {
        let (mean, stddev) = (0.3, 0.05);
        let values = samples(RandomNormal { mean, stddev, seed: None }.sampler(), 11);
        assert_fits(&values, |x| normal_cdf((x - mean) / stddev));
    }
}
