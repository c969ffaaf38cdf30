//! The range check every family makes: each value an initializer can produce must be finite in
//! the tensor's dtype. The largest magnitude it reaches (a constant or gain; a uniform's bounds; a
//! normal's mean plus its reach in standard deviations) must not exceed the dtype's largest
//! finite value; otherwise the tensor would hold infinities, or a uniform clamped to the dtype's
//! largest value everywhere. `specs/initializers.md` states the rule.

use super::{Fans, InitCall, Initializer};
use crate::diagnostic::{Code, Diagnostic};
use crate::tensor::DType;

/// How many standard deviations from the mean a normal draw can land: initc's Box–Muller takes
/// its radius from a uniform no smaller than 2^-53, so |z| ≤ sqrt(−2 ln 2^-53) ≈ 8.57.
pub const NORMAL_REACH: f64 = 8.6;

/// Checks `initializer`, as `call` gave it, for a tensor with these fans in `dtype`.
pub fn check_range(initializer: &Initializer, call: &InitCall, fans: Fans, dtype: DType) -> Result<(), Diagnostic> {
    match initializer.form() {
        Some(form) => form.check_range(&RangeCheck { call, dtype, largest: dtype.largest() }, fans),
        None => Ok(()),
    }
}

/// One tensor's range check: the dtype's limit, and the call whose arguments the errors point at.
pub struct RangeCheck<'a> {
    call: &'a InitCall,
    dtype: DType,
    largest: f64,
}

impl RangeCheck<'_> {
    /// Whether a magnitude fits; false for an infinite or NaN one too.
    pub fn within(&self, reach: f64) -> bool {
        reach <= self.largest
    }

    /// The error for argument `name`, with `what` saying what reaches too far.
    pub fn too_large(&self, name: &str, what: String) -> Diagnostic {
        let dtype = self.dtype;
        let type_name = dtype.safetensors_name().to_ascii_lowercase();
        let argument = self.call.args.iter().find(|(n, _)| *n == name).map(|(_, expr)| expr.span());
        Diagnostic::error(
            Code::InvalidInitArgument,
            format!("{what}, beyond the range of {type_name} (±{})", shown(self.largest)),
        )
        .at(argument.unwrap_or(self.call.span))
        .with_help(match dtype {
            DType::F64 => format!("lower `{name}`"),
            _ => format!("lower `{name}`, or compile with a wider `--dtype` (f64 holds up to {:e})", f64::MAX),
        })
    }

    /// Argument `name`'s own magnitude must fit (a constant, a gain, a bound, a mean).
    pub fn magnitude(&self, name: &str, value: f64) -> Result<(), Diagnostic> {
        if self.within(value.abs()) {
            Ok(())
        } else {
            Err(self.too_large(name, format!("`{name}` is {}", shown(value))))
        }
    }

    /// A normal of `mean` and `stddev` whose draws land within `reach` standard deviations.
    pub fn normal(&self, mean: f64, stddev: f64, reach: f64) -> Result<(), Diagnostic> {
        self.magnitude("mean", mean)?;
        let extreme = mean.abs() + reach * stddev;
        if self.within(extreme) {
            return Ok(());
        }
        // Past f64's range, the sum is shown unevaluated.
        let sum = if extreme.is_finite() {
            shown(extreme)
        } else {
            format!("{} + {reach}·{}", shown(mean.abs()), shown(stddev))
        };
        Err(self.too_large("stddev", format!("values reach |`mean`| + {reach}·`stddev` = {sum}")))
    }

    /// The call's span, for an error about the arguments together.
    pub fn call_span(&self) -> crate::source::Span {
        self.call.span
    }
}

/// A number in a message: plain when short, else in scientific notation.
pub fn shown(value: f64) -> String {
    if !value.is_finite() {
        return "infinity".to_string();
    }
    if value == 0.0 || (1e-4..1e16).contains(&value.abs()) { format!("{value}") } else { format!("{value:e}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_reach_covers_the_largest_draw() {
        // The Box–Muller radius at its smallest uniform, 2^-53 (`random::kernel`).
        let largest_draw = (-2.0 * 2f64.powi(-53).ln()).sqrt();
        assert!(largest_draw <= NORMAL_REACH && NORMAL_REACH - largest_draw < 0.05, "{largest_draw}");
    }

    #[test]
    fn numbers_in_messages_are_plain_when_short() {
        let cases = [(65504.0, "65504"), (1e300, "1e300"), (-1e39, "-1e39"), (0.5, "0.5"), (f64::INFINITY, "infinity")];
        for (value, expected) in cases {
            assert_eq!(shown(value), expected);
        }
    }
}
