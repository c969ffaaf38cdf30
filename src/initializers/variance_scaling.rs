//! variance_scaling(scale, mode, distribution): Keras 3 `random_initializers.py`
//! `VarianceScaling.__call__`, and its named forms `GlorotNormal`, `GlorotUniform`, `HeNormal`,
//! `HeUniform`, `LecunNormal` and `LecunUniform` (each a `VarianceScaling` with fixed arguments,
//! as their Keras constructors write it).

use super::range::{NORMAL_REACH, RangeCheck, shown};
use super::{Arguments, Expectation, Family, FamilyDef, Fans, Form, Initializer, Param, ParamKind, Randomness, Target};
use crate::diagnostic::Diagnostic;
use crate::random::{Sampler, Sampling, Stream, TRUNCATED_STDDEV_CORRECTION, TRUNCATION_BOUND};
use std::collections::TryReserveError;

pub const DEF: FamilyDef = FamilyDef {
    family: Family::VarianceScaling,
    name: "variance_scaling",
    class_names: &["VarianceScaling"],
    params: &[
        Param::number("scale", 1.0),
        Param { name: "mode", kind: ParamKind::Word("fan_in", &FanMode::NAMES) },
        Param { name: "distribution", kind: ParamKind::Word("truncated_normal", &Distribution::NAMES) },
        Param::SEED,
        Param::FAN_BASED[1],
        Param::FAN_BASED[2],
    ],
    evaluate,
};

/// A named form: only `seed` (and Keras's null axes) as arguments.
const fn named(family: Family, name: &'static str, class_names: &'static [&'static str]) -> FamilyDef {
    FamilyDef { family, name, class_names, params: &Param::FAN_BASED, evaluate }
}

pub const GLOROT_NORMAL: FamilyDef = named(Family::GlorotNormal, "glorot_normal", &["GlorotNormal"]);
pub const GLOROT_UNIFORM: FamilyDef = named(Family::GlorotUniform, "glorot_uniform", &["GlorotUniform"]);
pub const HE_NORMAL: FamilyDef = named(Family::HeNormal, "he_normal", &["HeNormal"]);
pub const HE_UNIFORM: FamilyDef = named(Family::HeUniform, "he_uniform", &["HeUniform"]);
pub const LECUN_NORMAL: FamilyDef = named(Family::LecunNormal, "lecun_normal", &["LecunNormal"]);
pub const LECUN_UNIFORM: FamilyDef = named(Family::LecunUniform, "lecun_uniform", &["LecunUniform"]);

fn evaluate(arguments: &Arguments, _: &[usize]) -> Result<Initializer, Diagnostic> {
    use {Distribution::*, FanMode::*};
    let (scale, mode, distribution) = match arguments.family() {
        Family::GlorotNormal => (1.0, FanAvg, TruncatedNormal),
        Family::GlorotUniform => (1.0, FanAvg, Uniform),
        Family::HeNormal => (2.0, FanIn, TruncatedNormal),
        Family::HeUniform => (2.0, FanIn, Uniform),
        Family::LecunNormal => (1.0, FanIn, TruncatedNormal),
        Family::LecunUniform => (1.0, FanIn, Uniform),
        _ => {
            let mode = arguments.word("mode").and_then(FanMode::parse).unwrap_or(FanIn);
            let distribution = arguments.word("distribution").and_then(Distribution::parse).unwrap_or(TruncatedNormal);
            (arguments.positive("scale")?, mode, distribution)
        }
    };
    Ok(Initializer::VarianceScaling(VarianceScaling { scale, mode, distribution, seed: arguments.seed() }))
}

/// Which fan `variance_scaling` divides its scale by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    FanIn,
    FanOut,
    FanAvg,
}

impl FanMode {
    pub const NAMES: [&'static str; 3] = ["fan_in", "fan_out", "fan_avg"];

    pub fn parse(word: &str) -> Option<FanMode> {
        match word.to_ascii_lowercase().as_str() {
            "fan_in" => Some(FanMode::FanIn),
            "fan_out" => Some(FanMode::FanOut),
            "fan_avg" => Some(FanMode::FanAvg),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The fan this mode selects.
    pub fn fan(self, fans: Fans) -> f64 {
        match self {
            FanMode::FanIn => fans.fan_in,
            FanMode::FanOut => fans.fan_out,
            FanMode::FanAvg => (fans.fan_in + fans.fan_out) / 2.0,
        }
    }
}

/// The distribution `variance_scaling` draws from. Keras reads `"normal"` as truncated normal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distribution {
    TruncatedNormal,
    UntruncatedNormal,
    Uniform,
}

impl Distribution {
    pub const NAMES: [&'static str; 4] = ["truncated_normal", "untruncated_normal", "uniform", "normal"];

    pub fn parse(word: &str) -> Option<Distribution> {
        match word.to_ascii_lowercase().as_str() {
            "truncated_normal" | "normal" => Some(Distribution::TruncatedNormal),
            "untruncated_normal" => Some(Distribution::UntruncatedNormal),
            "uniform" => Some(Distribution::Uniform),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct VarianceScaling {
    pub scale: f64,
    pub mode: FanMode,
    pub distribution: Distribution,
    pub seed: Option<u64>,
}

/// scale /= max(1, fan); truncated_normal: σ = sqrt(scale)/0.8796…, cut at 2σ;
/// untruncated_normal: σ = sqrt(scale); uniform: U(−sqrt(3·scale), sqrt(3·scale)).
pub fn sampler(scale: f64, mode: FanMode, distribution: Distribution, fans: Fans) -> Sampler {
    let scale = scale / mode.fan(fans).max(1.0);
    match distribution {
        Distribution::TruncatedNormal => {
            Sampler::TruncatedNormal { mean: 0.0, stddev: scale.sqrt() / TRUNCATED_STDDEV_CORRECTION }
        }
        Distribution::UntruncatedNormal => Sampler::Normal { mean: 0.0, stddev: scale.sqrt() },
        Distribution::Uniform => {
            let limit = (3.0 * scale).sqrt();
            Sampler::Uniform { low: -limit, high: limit }
        }
    }
}

impl Form for VarianceScaling {
    fn randomness(&self) -> Randomness {
        Randomness::Drawn { seed: self.seed }
    }

    fn check_range(&self, range: &RangeCheck, fans: Fans) -> Result<(), Diagnostic> {
        // As it is drawn: variance = scale / max(1, fan).
        let fan = self.mode.fan(fans).max(1.0);
        let variance = self.scale / fan;
        let reach = match self.distribution {
            Distribution::Uniform => (3.0 * variance).sqrt(),
            Distribution::TruncatedNormal => TRUNCATION_BOUND * variance.sqrt() / TRUNCATED_STDDEV_CORRECTION,
            Distribution::UntruncatedNormal => NORMAL_REACH * variance.sqrt(),
        };
        if range.within(reach) {
            return Ok(());
        }
        // Written only for the message: every tensor passes through here.
        let formula = match self.distribution {
            Distribution::Uniform => "sqrt(3·scale/fan)".to_string(),
            Distribution::TruncatedNormal => format!("{TRUNCATION_BOUND}·sqrt(scale/fan)/0.8796"),
            Distribution::UntruncatedNormal => format!("{NORMAL_REACH}·sqrt(scale/fan)"),
        };
        let what = format!(
            "with `scale` {} and a fan of {}, values reach {formula} = {}",
            shown(self.scale),
            shown(fan),
            shown(reach)
        );
        Err(range.too_large("scale", what))
    }

    fn sampling(&self, tensor: Target, _: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        Ok(Sampling::Draws(sampler(self.scale, self.mode, self.distribution, tensor.fans)))
    }

    fn expectation(&self, shape: &[usize]) -> Option<Expectation> {
        let variance = self.scale / self.mode.fan(Fans::of_shape(shape)).max(1.0);
        Some(match self.distribution {
            Distribution::TruncatedNormal => Expectation::truncated(0.0, variance.sqrt() / TRUNCATED_STDDEV_CORRECTION),
            Distribution::UntruncatedNormal => Expectation::normal(0.0, variance.sqrt()),
            Distribution::Uniform => {
                let limit = (3.0 * variance).sqrt();
                Expectation::uniform(-limit, limit)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::ks::{assert_fits, normal_cdf, samples, truncated_normal_cdf, uniform_cdf};

    const FANS: Fans = Fans { fan_in: 496.0, fan_out: 64.0 };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 4.0 * f64::EPSILON * b.abs()
    }

    #[test]
    fn he_uniform_limit_is_sqrt_six_over_fan_in() {
        let Sampler::Uniform { low, high } = sampler(2.0, FanMode::FanIn, Distribution::Uniform, FANS) else {
            panic!("expected a uniform sampler");
        };
        assert!(close(high, (6.0f64 / 496.0).sqrt()), "{high}");
        assert_eq!(low, -high);
    }

    #[test]
    fn each_mode_selects_its_fan() {
        let cases = [(FanMode::FanIn, 496.0), (FanMode::FanOut, 64.0), (FanMode::FanAvg, 280.0)];
        for (mode, fan) in cases {
            let Sampler::Normal { mean, stddev } = sampler(1.0, mode, Distribution::UntruncatedNormal, FANS) else {
                panic!("expected a normal sampler");
            };
            assert_eq!(mean, 0.0);
            assert!(close(stddev, (1.0f64 / fan).sqrt()), "{mode:?}: {stddev}");
        }
    }

    #[test]
    fn truncated_stddev_is_corrected_and_small_fans_are_clamped_to_one() {
        let tiny = Fans { fan_in: 0.0, fan_out: 0.5 };
        let Sampler::TruncatedNormal { stddev, .. } = sampler(2.0, FanMode::FanIn, Distribution::TruncatedNormal, tiny)
        else {
            panic!("expected a truncated normal sampler");
        };
        assert!(close(stddev, 2.0f64.sqrt() / TRUNCATED_STDDEV_CORRECTION));
    }

    #[test]
    fn each_distribution_passes_kolmogorov_smirnov() {
        let scale = 2.0;
        let variance = scale / 496.0;
        let truncated = samples(sampler(scale, FanMode::FanIn, Distribution::TruncatedNormal, FANS), 21);
        let sigma = variance.sqrt() / TRUNCATED_STDDEV_CORRECTION;
        assert_fits(&truncated, |x| truncated_normal_cdf(x / sigma));

        let normal = samples(sampler(scale, FanMode::FanIn, Distribution::UntruncatedNormal, FANS), 22);
        assert_fits(&normal, |x| normal_cdf(x / variance.sqrt()));

        let uniform = samples(sampler(scale, FanMode::FanIn, Distribution::Uniform, FANS), 23);
        let limit = (3.0 * variance).sqrt();
        assert_fits(&uniform, |x| uniform_cdf(x, -limit, limit));
    }

    #[test]
    fn truncated_draw_has_the_requested_variance() {
        let values = samples(sampler(1.0, FanMode::FanIn, Distribution::TruncatedNormal, FANS), 24);
        let n = values.len() as f64;
        let variance = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / n;
        let expected = 1.0 / 496.0;
        assert!((variance / expected - 1.0).abs() < 0.02, "variance {variance} vs {expected}");
    }
}
