//! random_uniform(minval, maxval): Keras 3 `random_initializers.py` `RandomUniform`
//! (`random.uniform(shape, minval, maxval)`), uniform on [minval, maxval).

use super::range::{RangeCheck, shown};
use super::{Arguments, Expectation, Family, FamilyDef, Fans, Form, Initializer, Param, Randomness, Target};
use crate::diagnostic::{Code, Diagnostic};
use crate::random::{Sampler, Sampling, Stream};
use std::collections::TryReserveError;

pub const DEF: FamilyDef = FamilyDef {
    family: Family::RandomUniform,
    name: "random_uniform",
    class_names: &["RandomUniform", "uniform"],
    params: &[Param::number("minval", -0.05), Param::number("maxval", 0.05), Param::SEED],
    evaluate,
};

fn evaluate(arguments: &Arguments, _: &[usize]) -> Result<Initializer, Diagnostic> {
    let (minval, maxval) = (arguments.number("minval"), arguments.number("maxval"));
    // A NaN passes here (the range check stops it).
    if minval >= maxval {
        arguments.refuse(|| {
            Diagnostic::error(
                Code::InvalidInitArgument,
                format!("`minval` ({minval}) must be less than `maxval` ({maxval})"),
            )
            .at(arguments.span_of("minval"))
            .with_note_at(arguments.span_of("maxval"), "maxval")
            .with_help("swap them, or widen the interval")
        })?;
    }
    Ok(Initializer::RandomUniform(RandomUniform { minval, maxval, seed: arguments.seed() }))
}

#[derive(Clone, Debug, PartialEq)]
pub struct RandomUniform {
    pub minval: f64,
    pub maxval: f64,
    pub seed: Option<u64>,
}

impl RandomUniform {
    pub fn sampler(&self) -> Sampler {
        Sampler::Uniform { low: self.minval, high: self.maxval }
    }
}

impl Form for RandomUniform {
    fn randomness(&self) -> Randomness {
        Randomness::Drawn { seed: self.seed }
    }

    fn check_range(&self, range: &RangeCheck, _: Fans) -> Result<(), Diagnostic> {
        let (minval, maxval) = (self.minval, self.maxval);
        range.magnitude("minval", minval)?;
        range.magnitude("maxval", maxval)?;
        // The draw is minval + (maxval − minval)·u, computed in f64.
        if !(maxval - minval).is_finite() {
            return Err(Diagnostic::error(
                Code::InvalidInitArgument,
                format!(
                    "the interval from {} to {} is wider than a 64-bit float can hold",
                    shown(minval),
                    shown(maxval)
                ),
            )
            .at(range.call_span())
            .with_help("narrow the interval"));
        }
        Ok(())
    }

    fn sampling(&self, _: Target, _: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        Ok(Sampling::Draws(self.sampler()))
    }

    fn expectation(&self, _: &[usize]) -> Option<Expectation> {
        Some(Expectation::uniform(self.minval, self.maxval))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::ks::{assert_fits, samples, uniform_cdf};

    fn sampler(minval: f64, maxval: f64) -> Sampler {
        RandomUniform { minval, maxval, seed: None }.sampler()
    }

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
