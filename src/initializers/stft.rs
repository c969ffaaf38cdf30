//! stft(side, window, scaling, periodic): Keras 3 `constant_initializers.py` `STFT`
//! (`STFTInitializer`), the kernels of `STFTSpectrogram`: for a tensor `(frame_length, 1, bins)`,
//! element `(t, 0, f)` is `cos(−2π·t·f / n)` (side `real`) or `sin(…)` (side `imag`), with
//! `n = (bins − 1)·2`, times the window's `w[t]` and divided by the window's scale (`density`:
//! `sqrt(Σ w²)`, `spectrum`: `Σ |w|`, `none`: 1). The windows are scipy's `get_window(name,
//! frame_length, fftbins=periodic)`: `hann`, `hamming`, `blackman` (cosine sums), `bartlett`,
//! `boxcar`, or `none` (no window, no scale). Keras computes in the tensor's dtype step by step;
//! initc in f64 with the angle reduced exactly (`t·f mod n`) and rounds once, so the two agree to
//! the dtype's rounding of a few operations.

use super::range::RangeCheck;
use super::{Arguments, Density, Expectation, Family, FamilyDef, Fans, Form, Initializer, Param, ParamKind, Target};
use crate::diagnostic::{Code, Diagnostic};
use crate::random::{Sampling, Stream};
use std::collections::TryReserveError;
use std::f64::consts::PI;

/// The windows initc computes, as scipy names them.
const WINDOWS: &[&str] = &["hann", "hamming", "blackman", "bartlett", "boxcar", "none"];

pub const DEF: FamilyDef = FamilyDef {
    family: Family::Stft,
    name: "stft",
    class_names: &["STFT", "STFTInitializer"],
    params: &[
        Param { name: "side", kind: ParamKind::Word("real", &["real", "imag"]) },
        Param { name: "window", kind: ParamKind::Word("hann", WINDOWS) },
        Param { name: "scaling", kind: ParamKind::Word("density", &["density", "spectrum", "none"]) },
        Param { name: "periodic", kind: ParamKind::Word("false", &["false", "true"]) },
    ],
    evaluate,
};

/// Which part of the complex exponential a kernel holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Real,
    Imag,
}

/// How the windowed kernel is normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scaling {
    /// Divided by the window's L2 norm.
    Density,
    /// Divided by the window's L1 norm.
    Spectrum,
    None,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stft {
    pub side: Side,
    /// scipy's window name, `None` for no window.
    pub window: Option<&'static str>,
    pub scaling: Scaling,
    pub periodic: bool,
}

fn evaluate(arguments: &Arguments, shape: &[usize]) -> Result<Initializer, Diagnostic> {
    let stft = Stft {
        side: if arguments.word("side") == Some("imag") { Side::Imag } else { Side::Real },
        window: arguments.word("window").filter(|window| *window != "none"),
        scaling: match arguments.word("scaling") {
            Some("spectrum") => Scaling::Spectrum,
            Some("none") => Scaling::None,
            _ => Scaling::Density,
        },
        periodic: arguments.word("periodic") == Some("true"),
    };
    let &[frames, 1, bins] = shape else {
        arguments.refuse(|| {
            Diagnostic::error(
                Code::WrongRank,
                format!("`stft` needs a tensor of shape (frame_length, 1, fft_length // 2 + 1), found {shape:?}"),
            )
            .at(arguments.call_span())
            .with_help("use it on the kernels of an `stft_spectrogram` layer")
        })?;
        return Ok(Initializer::Stft(stft));
    };
    arguments.require(bins >= 2, || {
        Diagnostic::error(
            Code::InvalidInitArgument,
            format!("`stft` needs at least 2 frequency bins (fft_length ≥ 2), found {bins}"),
        )
        .at(arguments.call_span())
        .with_help("with one bin Keras divides by (bins − 1)·2 = 0; give `fft_length` of 2 or more")
    })?;
    arguments.require(stft.scale(frames) > 0.0, || {
        Diagnostic::error(
            Code::InvalidInitArgument,
            format!(
                "the `{}` window of length {frames} is all zeros, so scaling by it divides by 0",
                stft.window.unwrap_or("none")
            ),
        )
        .at(arguments.span_of("window"))
        .with_help("use a longer frame, another window, or `scaling: null`")
    })?;
    Ok(Initializer::Stft(stft))
}

/// scipy's `general_cosine` coefficients of a cosine-sum window.
fn cosine_terms(window: &str) -> Option<&'static [f64]> {
    match window {
        "hann" => Some(&[0.5, 0.5]),
        "hamming" => Some(&[0.54, 0.46]),
        "blackman" => Some(&[0.42, 0.5, 0.08]),
        _ => None,
    }
}

impl Stft {
    /// Window element `t` of `frames` (scipy: a periodic window is the symmetric one of
    /// `frames + 1` cut to `frames`; a window of one element is `[1]`).
    fn window_value(&self, t: usize, frames: usize) -> f64 {
        let Some(window) = self.window else { return 1.0 };
        if frames <= 1 || window == "boxcar" {
            return 1.0;
        }
        let span = if self.periodic { frames } else { frames - 1 } as f64;
        let position = t as f64 / span;
        if let Some(terms) = cosine_terms(window) {
            // scipy evaluates cos(k·(−π + 2π·t/span)) = (−1)^k cos(2πk·t/span).
            return terms
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                    sign * a * libm::cos(2.0 * PI * k as f64 * position)
                })
                .sum();
        }
        // bartlett: a triangle from 0 up to 1 at the middle and back to 0.
        if position <= 0.5 { 2.0 * position } else { 2.0 - 2.0 * position }
    }

    /// What the windowed kernel is divided by.
    fn scale(&self, frames: usize) -> f64 {
        if self.window.is_none() {
            return 1.0;
        }
        let values = (0..frames).map(|t| self.window_value(t, frames));
        match self.scaling {
            Scaling::Density => values.map(|w| w * w).sum::<f64>().sqrt(),
            Scaling::Spectrum => values.map(f64::abs).sum(),
            Scaling::None => 1.0,
        }
    }

    /// The kernel's element `index` of a `(frames, 1, bins)` tensor.
    fn value(&self, index: usize, frames: usize, bins: usize, scale: f64) -> f64 {
        let (t, f) = (index / bins, index % bins);
        let period = (bins.max(2) - 1) * 2;
        // The angle −2π·t·f/n, reduced exactly to one period first.
        let turns = ((t as u128 * f as u128) % period as u128) as f64 / period as f64;
        let angle = -2.0 * PI * turns;
        let wave = match self.side {
            Side::Real => libm::cos(angle),
            Side::Imag => libm::sin(angle),
        };
        wave * self.window_value(t, frames) / scale
    }

    /// `(frames, bins)` of a tensor shape, whatever its rank (a label read back is taken as
    /// written).
    fn frames_and_bins(shape: &[usize]) -> (usize, usize) {
        (shape.first().copied().unwrap_or(1), shape.last().copied().unwrap_or(1).max(1))
    }

    fn values(&self, shape: &[usize]) -> impl Iterator<Item = f64> + '_ {
        let (frames, bins) = Self::frames_and_bins(shape);
        let scale = self.scale(frames);
        (0..frames * bins).map(move |index| self.value(index, frames, bins, scale))
    }
}

impl Form for Stft {
    fn check_range(&self, range: &RangeCheck, _: Fans) -> Result<(), Diagnostic> {
        // |cos| ≤ 1 and every window value is at most 1, so a value is at most 1 / scale, and the
        // scale of a window that is not all zeros is at least its largest value (≥ 1/frames²).
        range.magnitude("window", 1.0)
    }

    fn sampling(&self, tensor: Target, _: &dyn Fn() -> Stream) -> Result<Sampling, TryReserveError> {
        let (frames, bins) = Self::frames_and_bins(tensor.shape);
        let (form, scale) = (self.clone(), self.scale(frames));
        Ok(Sampling::Indexed(Box::new(move |index| form.value(index, frames, bins, scale))))
    }

    fn expectation(&self, shape: &[usize]) -> Option<Expectation> {
        let (mut count, mut sum, mut low, mut high) = (0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        for value in self.values(shape) {
            count += 1.0;
            sum += value;
            low = low.min(value);
            high = high.max(value);
        }
        if count == 0.0 {
            return Some(Expectation::constant(0.0));
        }
        let mean = sum / count;
        let variance = self.values(shape).map(|value| (value - mean) * (value - mean)).sum::<f64>() / count;
        Some(Expectation {
            mean,
            std: variance.sqrt(),
            bounds: Some((low, high)),
            sigma: None,
            density: Density::Bounded { low, high },
            fill: None,
        })
    }
}
