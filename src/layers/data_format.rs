//! `data_format` for the layers without weights that take either channel order (UpSampling,
//! Resizing, CenterCrop, the adaptive pools, SpatialDropout): where the channels sit in a
//! per-example shape. Keras's default (`null`) is `channels_last`.

use super::spatial::{axes_text, shape_text};
use crate::args::Args;
use crate::diagnostic::{Code, Diagnostic};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    ChannelsLast,
    ChannelsFirst,
}

/// Reads `data_format` (`channels_last` or `channels_first`, any case).
pub fn data_format_either(args: &mut Args) -> DataFormat {
    let word = args.word_or("data_format", &["channels_last", "channels_first"], "channels_last");
    if word.value == "channels_first" { DataFormat::ChannelsFirst } else { DataFormat::ChannelsLast }
}

impl DataFormat {
    /// The spatial lengths and the channels of `input`, when it has exactly `rank + 1` axes.
    pub fn split(self, input: &[usize], rank: usize) -> Option<(Vec<usize>, usize)> {
        if input.len() != rank + 1 {
            return None;
        }
        match self {
            DataFormat::ChannelsLast => Some((input[..rank].to_vec(), input[rank])),
            DataFormat::ChannelsFirst => Some((input[1..].to_vec(), input[0])),
        }
    }

    /// A per-example shape from its spatial lengths and channels.
    pub fn join(self, spatial: &[usize], channels: usize) -> Vec<usize> {
        match self {
            DataFormat::ChannelsLast => spatial.iter().copied().chain([channels]).collect(),
            DataFormat::ChannelsFirst => [channels].into_iter().chain(spatial.iter().copied()).collect(),
        }
    }

    /// The error for an input that does not have `rank` spatial axes plus channels.
    pub fn wrong_rank(self, name: &str, rank: usize, input: &[usize]) -> Diagnostic {
        let axes = match self {
            DataFormat::ChannelsLast => axes_text(rank).to_string(),
            DataFormat::ChannelsFirst => {
                let spatial = axes_text(rank).trim_end_matches(", channels");
                format!("channels, {spatial}")
            }
        };
        Diagnostic::error(
            Code::WrongInputRank,
            format!("`{name}` needs a rank-{} input ({axes}), found {}", rank + 1, shape_text(input)),
        )
        .with_help(format!("put a `reshape` before it, or give `input:` as [{axes}]"))
    }
}
