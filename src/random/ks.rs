//! Test support: one-sample Kolmogorov–Smirnov test against an exact CDF, at α = 0.001.

use super::sampler::Sampler;
use super::stream::Stream;

pub const SAMPLE_COUNT: usize = 100_000;

/// `SAMPLE_COUNT` values of `sampler` from a fixed stream.
pub fn samples(sampler: Sampler, seed: u64) -> Vec<f32> {
    let mut values = vec![0.0f32; SAMPLE_COUNT];
    sampler.fill(&Stream::derive(seed, "ks.samples"), &mut values);
    values
}

/// Standard normal CDF Φ(x) = erfc(−x/√2)/2.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// CDF of the standard normal truncated to [−2, 2]: (Φ(x) − Φ(−2)) / (Φ(2) − Φ(−2)).
pub fn truncated_normal_cdf(x: f64) -> f64 {
    let (below, above) = (normal_cdf(-2.0), normal_cdf(2.0));
    ((normal_cdf(x) - below) / (above - below)).clamp(0.0, 1.0)
}

pub fn uniform_cdf(x: f64, low: f64, high: f64) -> f64 {
    ((x - low) / (high - low)).clamp(0.0, 1.0)
}

/// Asymptotic critical value of D at α = 0.001.
pub fn critical_value(n: usize) -> f64 {
    1.949 / (n as f64).sqrt()
}

/// D = sup |F_n(x) − F(x)|.
pub fn ks_statistic(values: &[f32], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            ((i + 1) as f64 / n - f).max(f - i as f64 / n)
        })
        .fold(0.0, f64::max)
}

pub fn assert_fits(values: &[f32], cdf: impl Fn(f64) -> f64) {
    let statistic = ks_statistic(values, cdf);
    let critical = critical_value(values.len());
    assert!(statistic < critical, "KS D = {statistic} ≥ {critical}");
}
