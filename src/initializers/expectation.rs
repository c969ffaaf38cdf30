//! What an initializer implies about a tensor's values: the expected mean and standard
//! deviation, the bounds the values stay within, for truncated normals the σ before truncation,
//! and the density `inspect` draws over a histogram. Each family gives its own
//! (`Form::expectation`); `expectation_for_label` reads a label initc wrote back into the family's
//! evaluated form. Fans are Keras 3's `compute_fans` of the tensor's shape.

use super::label::{parse_fill, parse_label};
use super::{Arguments, FAMILIES};
use crate::random::{TRUNCATED_STDDEV_CORRECTION, TRUNCATION_BOUND};

/// The distribution an initializer draws from, summarised. For random initializers the mean
/// and std are those of the distribution; the measured ones differ by sampling error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expectation {
    pub mean: f64,
    pub std: f64,
    /// The values lie in `[low, high]` (uniform limits, the 2σ truncation, a constant).
    pub bounds: Option<(f64, f64)>,
    /// A truncated normal's σ before truncation (its std after truncation is `std`).
    pub sigma: Option<f64>,
    /// The shape of the values' distribution, for drawing it over a histogram.
    pub density: Density,
    /// A constant fill: `(value, fraction)` of the elements set to `value` after drawing.
    pub fill: Option<(f64, f64)>,
}

/// The distribution of an initializer's values (before any constant fill).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Density {
    Normal {
        mean: f64,
        std: f64,
    },
    /// A normal of σ `sigma` cut at `[low, high]` (Keras: mean ± 2σ) and renormalised.
    Truncated {
        mean: f64,
        sigma: f64,
        low: f64,
        high: f64,
    },
    Uniform {
        low: f64,
        high: f64,
    },
    /// Every value is `value`.
    Constant {
        value: f64,
    },
    /// Only the bounds are known (an orthogonal matrix's entries).
    Bounded {
        low: f64,
        high: f64,
    },
}

impl Density {
    /// The probability density at `x`, `None` where it has none (a constant, only bounds).
    pub fn at(&self, x: f64) -> Option<f64> {
        let normal = |x: f64, mean: f64, std: f64| {
            let z = (x - mean) / std;
            (-0.5 * z * z).exp() / (std * (2.0 * std::f64::consts::PI).sqrt())
        };
        match *self {
            Density::Normal { mean, std } if std > 0.0 => Some(normal(x, mean, std)),
            Density::Truncated { mean, sigma, low, high } if sigma > 0.0 => {
                let inside = normal_cdf(high, mean, sigma) - normal_cdf(low, mean, sigma);
                Some(if (low..=high).contains(&x) && inside > 0.0 { normal(x, mean, sigma) / inside } else { 0.0 })
            }
            Density::Uniform { low, high } if high > low => {
                Some(if (low..=high).contains(&x) { 1.0 / (high - low) } else { 0.0 })
            }
            _ => None,
        }
    }

    /// The probability of a value in `[from, to]`, `None` where there is no density (a
    /// constant, only bounds). This is what a histogram bin should hold, however wide the bin.
    pub fn mass(&self, from: f64, to: f64) -> Option<f64> {
        let clamp = |value: f64, low: f64, high: f64| value.max(low).min(high);
        match *self {
            Density::Normal { mean, std } if std > 0.0 => {
                Some((normal_cdf(to, mean, std) - normal_cdf(from, mean, std)).max(0.0))
            }
            Density::Truncated { mean, sigma, low, high } if sigma > 0.0 => {
                let inside = normal_cdf(high, mean, sigma) - normal_cdf(low, mean, sigma);
                let (from, to) = (clamp(from, low, high), clamp(to, low, high));
                let part = normal_cdf(to, mean, sigma) - normal_cdf(from, mean, sigma);
                Some(if inside > 0.0 { (part / inside).max(0.0) } else { 0.0 })
            }
            Density::Uniform { low, high } if high > low => {
                Some(((clamp(to, low, high) - clamp(from, low, high)) / (high - low)).max(0.0))
            }
            _ => None,
        }
    }
}

/// P(X ≤ x) for a normal of `mean` and `std`.
fn normal_cdf(x: f64, mean: f64, std: f64) -> f64 {
    0.5 * libm::erfc(-(x - mean) / (std * std::f64::consts::SQRT_2))
}

impl Expectation {
    pub(super) fn constant(value: f64) -> Expectation {
        Expectation {
            mean: value,
            std: 0.0,
            bounds: Some((value, value)),
            sigma: None,
            density: Density::Constant { value },
            fill: None,
        }
    }

    pub(super) fn uniform(low: f64, high: f64) -> Expectation {
        Expectation {
            mean: (low + high) / 2.0,
            std: (high - low) / 12f64.sqrt(),
            bounds: Some((low, high)),
            sigma: None,
            density: Density::Uniform { low, high },
            fill: None,
        }
    }

    pub(super) fn normal(mean: f64, std: f64) -> Expectation {
        Expectation { mean, std, bounds: None, sigma: None, density: Density::Normal { mean, std }, fill: None }
    }

    /// Keras's truncated normal: σ before truncation, cut at mean ± 2σ.
    pub(super) fn truncated(mean: f64, sigma: f64) -> Expectation {
        let (low, high) = (mean - TRUNCATION_BOUND * sigma, mean + TRUNCATION_BOUND * sigma);
        Expectation {
            mean,
            std: sigma * TRUNCATED_STDDEV_CORRECTION,
            bounds: Some((low, high)),
            sigma: Some(sigma),
            density: Density::Truncated { mean, sigma, low, high },
            fill: None,
        }
    }

    /// Only the moments and the bounds are known (an orthogonal matrix's entries).
    pub(super) fn bounded(mean: f64, std: f64, low: f64, high: f64) -> Expectation {
        Expectation {
            mean,
            std,
            bounds: Some((low, high)),
            sigma: None,
            density: Density::Bounded { low, high },
            fill: None,
        }
    }

    /// `count` of `total` elements overwritten with `value`.
    pub(super) fn with_fill(self, value: f64, count: f64, total: f64) -> Expectation {
        if total <= 0.0 || count <= 0.0 {
            return self;
        }
        let filled = count.min(total) / total;
        let kept = 1.0 - filled;
        let mean = kept * self.mean + filled * value;
        let second_moment = kept * (self.std * self.std + self.mean * self.mean) + filled * value * value;
        let bounds =
            self.bounds.map(|(low, high)| if kept == 0.0 { (value, value) } else { (low.min(value), high.max(value)) });
        Expectation {
            mean,
            std: (second_moment - mean * mean).max(0.0).sqrt(),
            bounds,
            sigma: if kept == 0.0 { None } else { self.sigma },
            density: if kept == 0.0 { Density::Constant { value } } else { self.density },
            fill: (kept > 0.0).then_some((value, filled)),
        }
    }
}

/// The expectation an initializer label implies for a tensor of `shape`; `None` for labels it
/// cannot interpret (`from_file`, an unknown name, malformed arguments). The label is read back
/// into its family's arguments as written, evaluated without the checks for sense a config's
/// arguments get, and asked for its expectation.
pub fn expectation_for_label(label: &str, shape: &[usize]) -> Option<Expectation> {
    let label = parse_label(label)?;
    let def = FAMILIES.iter().find(|def| def.name == label.name)?;
    let arguments = Arguments::of_label(def, &label.arguments)?;
    let base = (def.evaluate)(&arguments, shape).ok()?.form()?.expectation(shape)?;
    if label.rest.is_empty() {
        return Some(base);
    }
    let (value, count) = parse_fill(label.rest)?;
    Some(base.with_fill(value, count as f64, shape.iter().map(|&dim| dim as f64).product()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(label: &str, shape: &[usize]) -> Expectation {
        match expectation_for_label(label, shape) {
            Some(expectation) => expectation,
            None => panic!("no expectation for `{label}`"),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    #[test]
    fn named_initializers_use_keras_fans() {
        // Conv1D kernel (3, 64, 16): fan_in = 192, fan_out = 48.
        let he = expect("he_uniform", &[3, 64, 16]);
        let limit = (6.0f64 / 192.0).sqrt();
        assert_eq!(he.bounds, Some((-limit, limit)));
        assert!(close(he.std, (2.0f64 / 192.0).sqrt()));
        let glorot = expect("glorot_normal(seed=12)", &[100, 50]);
        assert!(close(glorot.std, (1.0f64 / 75.0).sqrt()));
        assert!(close(glorot.sigma.unwrap_or_default(), (1.0f64 / 75.0).sqrt() / TRUNCATED_STDDEV_CORRECTION));
        let lecun = expect("lecun_normal", &[8]);
        assert!(close(lecun.std, (1.0f64 / 8.0).sqrt()));
    }

    #[test]
    fn variance_scaling_arguments_are_read() {
        let uniform = expect("variance_scaling(scale=0.5, mode=fan_avg, distribution=uniform)", &[10, 30]);
        assert!(close(uniform.std, (0.5f64 / 20.0).sqrt()));
        let normal = expect("variance_scaling(scale=2, mode=fan_out, distribution=untruncated_normal)", &[10, 30]);
        assert!(close(normal.std, (2.0f64 / 30.0).sqrt()));
        assert_eq!(normal.bounds, None);
        let truncated = expect("variance_scaling(scale=2, mode=fan_in, distribution=normal)", &[10, 30]);
        assert!(close(truncated.std, (2.0f64 / 10.0).sqrt()));
        assert!(expectation_for_label("variance_scaling(mode=sideways)", &[2, 2]).is_none());
    }

    #[test]
    fn plain_distributions_and_constants() {
        assert_eq!(expect("random_normal(mean=0.5, stddev=0.01)", &[4]), Expectation::normal(0.5, 0.01));
        let uniform = expect("random_uniform(minval=0, maxval=2)", &[4]);
        assert_eq!((uniform.mean, uniform.bounds), (1.0, Some((0.0, 2.0))));
        let truncated = expect("truncated_normal(mean=0, stddev=0.5)", &[4]);
        assert_eq!(truncated.bounds, Some((-1.0, 1.0)));
        assert!(close(truncated.std, 0.5 * TRUNCATED_STDDEV_CORRECTION));
        assert_eq!(expect("constant(value=-0.1)", &[4]), Expectation::constant(-0.1));
        assert_eq!(expect("ones", &[]), Expectation::constant(1.0));
    }

    #[test]
    fn identity_orthogonal_and_fills() {
        let identity = expect("identity(gain=2)", &[4, 4]);
        assert!(close(identity.mean, 0.5));
        assert!(close(identity.std, (1.0f64 - 0.25).sqrt()));
        let orthogonal = expect("orthogonal(gain=1)", &[64, 8]);
        assert!(close(orthogonal.std, (8.0f64 / 512.0).sqrt()));
        let lstm_bias = expect("zeros; 1[16..32]", &[64]);
        assert!(close(lstm_bias.mean, 0.25));
        assert_eq!(lstm_bias.bounds, Some((0.0, 1.0)));
        assert_eq!((lstm_bias.density, lstm_bias.fill), (Density::Constant { value: 0.0 }, Some((1.0, 0.25))));
        assert_eq!(expect("ones; 0[0..4]", &[4]).density, Density::Constant { value: 0.0 });
    }

    #[test]
    fn densities_integrate_to_one() {
        let integral = |density: Density, low: f64, high: f64| {
            let steps = 200_000;
            let width = (high - low) / steps as f64;
            (0..steps).map(|i| density.at(low + (i as f64 + 0.5) * width).unwrap_or(f64::NAN) * width).sum::<f64>()
        };
        for label in ["he_normal", "random_normal(mean=1, stddev=0.5)", "glorot_uniform", "truncated_normal(stddev=2)"]
        {
            let expectation = expect(label, &[30, 20]);
            let total = integral(expectation.density, expectation.mean - 10.0, expectation.mean + 10.0);
            assert!((total - 1.0).abs() < 1e-4, "{label}: {total}");
        }
        for label in ["he_normal", "glorot_uniform", "truncated_normal(mean=1, stddev=2)"] {
            let density = expect(label, &[30, 20]).density;
            let total = density.mass(-100.0, 100.0).unwrap_or(f64::NAN);
            assert!((total - 1.0).abs() < 1e-12, "{label}: {total}");
            let half = density.mass(-100.0, expect(label, &[30, 20]).mean).unwrap_or(f64::NAN);
            assert!((half - 0.5).abs() < 1e-12, "{label}: {half}");
        }
        assert_eq!(expect("orthogonal", &[4, 4]).density.at(0.0), None);
        assert_eq!(expect("constant(value=2)", &[4]).density.at(2.0), None);
    }

    #[test]
    fn uninterpretable_labels_give_nothing() {
        assert!(expectation_for_label(r#"from_file(path="a, b).safetensors", tensor="x")"#, &[2]).is_none());
        assert!(expectation_for_label("my_custom", &[2]).is_none());
        assert!(expectation_for_label("random_normal(stddev=oops)", &[2]).is_none());
        assert!(expectation_for_label("random_normal(stddev=1", &[2]).is_none());
        assert!(expectation_for_label("", &[2]).is_none());
    }
}
