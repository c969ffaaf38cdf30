//! `stft_spectrogram`: the short-time Fourier transform of a signal as two strided 1-D
//! convolutions (Keras 3 `STFTSpectrogram`, `keras/src/layers/preprocessing/stft_spectrogram.py`).
//!
//! Input `(time, channels)` (`channels_first`: `(channels, time)`). Weights `real_kernel`
//! (unless `mode: imag`) and `imag_kernel` (unless `mode: real`), each
//! `(frame_length, 1, fft_length // 2 + 1)`, initialised by the `stft` family with the layer's
//! window, scaling and periodicity. Output: `(frames, channels · bins)` (`bins` doubled for
//! `mode: stft`), frames by convolution arithmetic with `frame_step`'s stride and `padding`;
//! `expand_dims` gives `(frames, bins, channels)` (`channels_first`: `(channels · bins, frames)`
//! and `(channels, frames, bins)`).

use super::data_format::{DataFormat, data_format_either};
use super::spatial::{Window, shape_text};
use super::torch::TorchTensor;
use super::{Built, DefaultArgument, Layer, LayerType, UnaryLayer, Weight};
use crate::args::{ArgKind, Args, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::initializers::Family;

pub const TYPE: LayerType = LayerType {
    name: "stft_spectrogram",
    class_name: "STFTSpectrogram",
    arguments: &[
        "mode",
        "frame_length",
        "frame_step",
        "fft_length",
        "window",
        "periodic",
        "scaling",
        "padding",
        "expand_dims",
        "data_format",
    ],
    parse,
    torch,
};

const MODES: [&str; 7] = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"];
/// The windows the `stft` initializer computes (scipy's names).
const WINDOWS: [&str; 5] = ["hann", "hamming", "blackman", "bartlett", "boxcar"];

/// Torch has no STFT module with weights (`torch.stft` is a function).
fn torch(_: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    Err("PyTorch has no STFT module with weights (`torch.stft` is a function of fixed kernels)".to_string())
}

#[derive(Debug)]
struct StftSpectrogram {
    mode: &'static str,
    frame_length: Spanned<usize>,
    frame_step: usize,
    bins: usize,
    /// `None` for no window.
    window: Option<&'static str>,
    periodic: bool,
    scaling: &'static str,
    padding: &'static str,
    expand_dims: bool,
    data_format: DataFormat,
}

/// `window:` a scipy window name, or null for none; an array of values is refused.
fn window_argument(args: &mut Args) -> Option<Option<&'static str>> {
    if args.is_null("window") {
        args.take("window");
        return Some(None);
    }
    if let Some(node) = args.take_as("window", ArgKind::Any)
        && node.as_str().is_none()
    {
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "a window given as values is not supported")
                .at(node.span)
                .with_help(format!("name one of scipy's windows: {}, or null", WINDOWS.join(", "))),
        );
        return None;
    }
    Some(Some(args.word_or("window", &WINDOWS, "hann").value))
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let mode = args.word_or("mode", &MODES, "log").value;
    let frame_length = args.optional_count("frame_length", 1);
    let frame_step = args.optional_count("frame_step", 1);
    let fft_length = args.optional_count("fft_length", 1);
    let window = window_argument(args);
    let periodic = args.bool_or("periodic", false);
    let scaling = if args.is_null("scaling") {
        args.take("scaling");
        "none"
    } else {
        args.word_or("scaling", &["density", "spectrum"], "density").value
    };
    let padding = args.word_or("padding", &["valid", "same"], "valid").value;
    let expand_dims = args.bool_or("expand_dims", false);
    let data_format = data_format_either(args);
    let frame_length = frame_length.unwrap_or(Spanned { value: 256, span: args.layer_span });
    if let Some(step) = &frame_step
        && step.value > frame_length.value
    {
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`frame_step` ({}) is greater than `frame_length` ({})", step.value, frame_length.value),
            )
            .at(step.span)
            .with_help("give a `frame_step` from 1 to `frame_length`"),
        );
        return None;
    }
    if frame_step.is_none() && frame_length.value < 2 {
        args.diagnostics.push(
            Diagnostic::error(Code::InvalidValue, "`frame_step` defaults to `frame_length // 2`, which is 0 here")
                .at(frame_length.span)
                .with_help("give `frame_step: 1`, or a `frame_length` of 2 or more"),
        );
        return None;
    }
    let fft_length = match fft_length {
        Some(fft) if fft.value < frame_length.value => {
            args.diagnostics.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`fft_length` ({}) is less than `frame_length` ({})", fft.value, frame_length.value),
                )
                .at(fft.span)
                .with_help("give an `fft_length` of at least `frame_length` (a power of two is best)"),
            );
            return None;
        }
        Some(fft) => fft.value,
        // Keras: the smallest power of two at least frame_length.
        None => frame_length.value.next_power_of_two(),
    };
    if fft_length < 2 {
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                "an STFT of one sample has one frequency bin, which Keras divides by zero",
            )
            .at(frame_length.span)
            .with_help("give `frame_length` or `fft_length` of 2 or more"),
        );
        return None;
    }
    Some(Box::new(StftSpectrogram {
        mode,
        frame_step: frame_step.map_or(frame_length.value / 2, |step| step.value),
        frame_length,
        bins: fft_length / 2 + 1,
        window: window?,
        periodic,
        scaling,
        padding,
        expand_dims,
        data_format,
    }))
}

impl StftSpectrogram {
    fn kernel(&self, name: &'static str, side: &'static str) -> Weight {
        let arguments = vec![
            ("side", DefaultArgument::Word(side)),
            ("window", DefaultArgument::Word(self.window.unwrap_or("none"))),
            ("scaling", DefaultArgument::Word(self.scaling)),
            ("periodic", DefaultArgument::Word(if self.periodic { "true" } else { "false" })),
        ];
        Weight::new(name, vec![self.frame_length.value, 1, self.bins], "", Family::Stft)
            .with_default_arguments(arguments)
    }
}

impl UnaryLayer for StftSpectrogram {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let Some((time, channels)) = self.data_format.split(input, 1) else {
            return Err(self.data_format.wrong_rank("stft_spectrogram", 1, input));
        };
        let window = Window {
            size: Spanned { value: vec![self.frame_length.value], span: self.frame_length.span },
            strides: vec![self.frame_step],
            dilation: vec![1],
            padding: self.padding,
        };
        let frames = window.output(&time, "`frame_length`")?[0];
        let bins = if self.mode == "stft" { self.bins * 2 } else { self.bins };
        let output_shape = match (self.expand_dims, self.data_format) {
            (false, DataFormat::ChannelsLast) => vec![frames, channels * bins],
            (false, DataFormat::ChannelsFirst) => vec![channels * bins, frames],
            (true, DataFormat::ChannelsLast) => vec![frames, bins, channels],
            (true, DataFormat::ChannelsFirst) => vec![channels, frames, bins],
        };
        if output_shape.contains(&0) {
            return Err(Diagnostic::error(
                Code::EmptyOutput,
                format!(
                    "`stft_spectrogram` gives an empty output {} for input {}",
                    shape_text(&output_shape),
                    shape_text(input)
                ),
            )
            .with_help("give the input at least one channel"));
        }
        let mut weights = Vec::new();
        if self.mode != "imag" {
            weights.push(self.kernel("real_kernel", "real"));
        }
        if self.mode != "real" {
            weights.push(self.kernel("imag_kernel", "imag"));
        }
        Ok(Built { output_shape, weights })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::build;

    #[test]
    fn arguments_keras_refuses_are_errors() {
        let error = |arguments: &str| build("stft_spectrogram", arguments, &[100, 1]).err().unwrap_or_default();
        assert!(error("{frame_length: 8, frame_step: 9}").contains("greater than `frame_length`"));
        assert!(error("{frame_length: 8, fft_length: 4}").contains("less than `frame_length`"));
        assert!(error("{frame_length: 1}").contains("which is 0 here"));
        assert!(error("{frame_length: 1, frame_step: 1}").contains("one frequency bin"));
        assert!(error("{frame_length: 8, window: [1, 2]}").contains("given as values"));
        assert!(error("{frame_length: 8, window: kaiser}").contains("`window` must be one of"));
        assert!(error("{frame_length: 200}").contains("larger than its input"));
    }
}
