//! `torch.nn.init.trunc_normal_(mean, std, a, b)` as torch 2.15 runs it when the truncated mass
//! is above 0.3 (Keras's ±2σ has 0.954): a full-size `normal_`, then, while any value lies
//! outside `[a, b]` (the bounds rounded into the dtype), a whole new full-size `normal_` whose
//! values replace only the ones outside. Below 0.3 torch samples uniform proposals accepted by a
//! vectorised `log`, which initc does not reproduce.

use super::dtype::TorchDtype;
use super::generator::TorchGenerator;

/// torch takes the uniform-proposal path at or below this truncated mass.
pub const UNIFORM_PROPOSAL_MASS: f64 = 0.3;

/// The normal probability mass inside `[a, b]`, as torch computes it to choose its path.
pub fn truncated_mass(mean: f64, std: f64, a: f64, b: f64) -> f64 {
    let norm_cdf = |x: f64| (1.0 + libm::erf(x / std::f64::consts::SQRT_2)) / 2.0;
    norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
}

/// Whether initc reproduces `trunc_normal_` with these arguments (the normal-redraw path).
pub fn is_reproduced(mean: f64, std: f64, a: f64, b: f64) -> bool {
    truncated_mass(mean, std, a, b) > UNIFORM_PROPOSAL_MASS
}

/// Fills `out`; `None` (nothing drawn) when the arguments take the uniform-proposal path.
pub fn trunc_normal_<T: TorchDtype>(
    generator: &mut TorchGenerator,
    out: &mut [T],
    mean: f64,
    std: f64,
    a: f64,
    b: f64,
) -> Option<()> {
    if !is_reproduced(mean, std, a, b) {
        return None;
    }
    let (low, high) = (T::from_f64(a), T::from_f64(b));
    let outside = |value: T| value < low || value > high;
    T::normal_(generator, out, mean, std);
    let mut fresh = Vec::new();
    while out.iter().any(|&value| outside(value)) {
        fresh.clear();
        fresh.resize(out.len(), T::from_f64(0.0));
        T::normal_(generator, &mut fresh, mean, std);
        for (slot, &value) in out.iter_mut().zip(&fresh) {
            if outside(*slot) {
                *slot = value;
            }
        }
    }
    Some(())
}
