//! `mel_spectrogram`: a mel-scaled power spectrogram of a mono signal (Keras 3 `MelSpectrogram`,
//! `keras/src/layers/preprocessing/mel_spectrogram.py`). No weights; input `[samples]`, output
//! `[num_mel_bins, (samples + sequence_stride + 1) // sequence_stride]`, Keras's formula.

use super::spatial::shape_text;
use super::torch::no_weights;
use super::{Built, Layer, LayerType, UnaryLayer};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

pub const TYPE: LayerType = LayerType {
    name: "mel_spectrogram",
    class_name: "MelSpectrogram",
    arguments: &[
        "fft_length",
        "sequence_stride",
        "sequence_length",
        "window",
        "sampling_rate",
        "num_mel_bins",
        "min_freq",
        "max_freq",
        "power_to_db",
        "top_db",
        "mag_exp",
        "min_power",
        "ref_power",
    ],
    parse,
    torch: no_weights,
};

#[derive(Debug)]
struct MelSpectrogram {
    sequence_stride: usize,
    num_mel_bins: usize,
}

fn parse(args: &mut Args) -> Option<Box<dyn Layer>> {
    let fft_length = args.optional_count("fft_length", 1);
    let sequence_stride = args.optional_count("sequence_stride", 1);
    let sequence_length = args.optional_count("sequence_length", 1);
    let num_mel_bins = args.optional_count("num_mel_bins", 1);
    // The window and the sampling rate change values, not shapes.
    args.take("window");
    args.number_in_or("sampling_rate", 0.0, f64::INFINITY, 16000.0);
    args.bool_or("power_to_db", true);
    for (name, default) in
        [("min_freq", 20.0), ("top_db", 80.0), ("mag_exp", 2.0), ("min_power", 1e-10), ("ref_power", 1.0)]
    {
        args.number_in_or(name, 0.0, f64::INFINITY, default);
    }
    args.number_in_or("max_freq", 0.0, f64::INFINITY, 0.0);
    let fft_length = fft_length.map_or(2048, |n| n.value);
    if let Some(length) = sequence_length
        && length.value > fft_length
    {
        args.diagnostics.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`sequence_length` ({}) exceeds `fft_length` ({fft_length})", length.value),
            )
            .at(length.span)
            .with_help("`fft_length` must be at least `sequence_length`"),
        );
        return None;
    }
    Some(Box::new(MelSpectrogram {
        sequence_stride: sequence_stride.map_or(512, |n| n.value),
        num_mel_bins: num_mel_bins.map_or(128, |n| n.value),
    }))
}

impl UnaryLayer for MelSpectrogram {
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic> {
        let &[samples] = input else {
            return Err(Diagnostic::error(
                Code::WrongInputRank,
                format!("`mel_spectrogram` needs a mono signal `[samples]`, found {}", shape_text(input)),
            )
            .with_help("give the model an input such as `input: [16000]`"));
        };
        let frames = (samples + self.sequence_stride + 1) / self.sequence_stride;
        Ok(Built { output_shape: vec![self.num_mel_bins, frames], weights: Vec::new() })
    }
}
