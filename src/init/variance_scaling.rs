//! variance_scaling(scale, mode, distribution): Keras 3 `random_initializers.py`
//! `VarianceScaling.__call__`. glorot_*, he_* and lecun_* arrive here already expanded.

use super::sampler::Sampler;
use crate::plan::{Distribution, FanMode, Fans};

/// Standard deviation of a standard normal truncated to [−2, 2]; Keras divides by it so the
/// truncated draw has the requested variance. Keras's literal verbatim (it rounds to this f64).
#[allow(clippy::excessive_precision)]
const TRUNCATED_STDDEV_CORRECTION: f64 = 0.879_625_661_034_239_78;

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

#[cfg(test)]
mod tests {
    use super::super::ks::{assert_fits, normal_cdf, samples, truncated_normal_cdf, uniform_cdf};
    use super::*;

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
