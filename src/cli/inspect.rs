//! `initc inspect`: statistics (and histograms) of every tensor of a safetensors file or a
//! sharded checkpoint directory, read memory-mapped. Also home of [`MappedWeights`], the
//! reader `diff` and `verify` share.

use super::{Outcome, io_reason, print_diagnostics};
use crate::diagnostic::{Code, Diagnostic};
use crate::inspect::{self, HistogramPanel, TensorData, TensorReport, WeightFile};
use clap::{Args, ValueEnum};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The index file Hugging Face writes beside the shards of a sharded checkpoint.
const SHARD_INDEX_NAME: &str = "model.safetensors.index.json";
/// The single file a checkpoint directory holds when it is not sharded.
const SINGLE_FILE_NAME: &str = "model.safetensors";
/// Prefix of initc's per-tensor metadata keys.
const INITIALIZER_KEY_PREFIX: &str = "initc.initializer.";
/// Bins of the histograms `--hist` prints and `--plot` draws, unless `--bins` says otherwise.
const DEFAULT_BINS: u16 = 24;

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// A safetensors file, a sharded checkpoint directory (with model.safetensors.index.json),
    /// or the index file itself.
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Add a histogram per tensor (drawn in the terminal; `histogram` in JSON).
    #[arg(long)]
    pub hist: bool,
    /// Histogram bins.
    #[arg(long, default_value_t = DEFAULT_BINS, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub bins: u16,
    /// Write a grid of histograms, one panel per tensor, to this file (`.svg` or `.png`).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// The memory maps behind a file or a sharded checkpoint; the tensors borrow from them.
pub(super) struct MappedWeights {
    /// (path as shown, map), one per file, shards in name order.
    maps: Vec<(String, memmap2::Mmap)>,
    /// For a sharded checkpoint: tensor → shard, from the index.
    weight_map: Option<std::collections::BTreeMap<String, String>>,
}

/// The tensors of a [`MappedWeights`], in file (then data) order, and the merged metadata.
pub(super) struct LoadedWeights<'a> {
    pub tensors: Vec<TensorData<'a>>,
    pub metadata: HashMap<String, String>,
}

fn map_file(path: &Path) -> Result<memmap2::Mmap, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|error| format!("cannot read `{shown}`: {}", io_reason(&error)))?;
    // SAFETY: the map is read-only and lives only while this command runs; a file changed
    // underneath it by another process could give wrong values, never unsafety here.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .map_err(|error| format!("cannot read `{shown}`: {}", io_reason(&error)))?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

impl MappedWeights {
    /// Opens a safetensors file, a directory holding `model.safetensors.index.json` (or a
    /// single `model.safetensors`), or an index file.
    pub(super) fn open(path: &Path) -> Result<MappedWeights, String> {
        let index = if path.is_dir() {
            let index = path.join(SHARD_INDEX_NAME);
            if index.is_file() {
                index
            } else if path.join(SINGLE_FILE_NAME).is_file() {
                return MappedWeights::open(&path.join(SINGLE_FILE_NAME));
            } else {
                return Err(format!(
                    "`{}` is a directory without `{SHARD_INDEX_NAME}` or `{SINGLE_FILE_NAME}`",
                    path.display()
                ));
            }
        } else if path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.ends_with(".index.json")) {
            path.to_path_buf()
        } else {
            let map = map_file(path)?;
            return Ok(MappedWeights { maps: vec![(path.display().to_string(), map)], weight_map: None });
        };
        let text = std::fs::read_to_string(&index)
            .map_err(|error| format!("cannot read `{}`: {}", index.display(), io_reason(&error)))?;
        let parsed = inspect::parse_shard_index(&text).map_err(|error| format!("`{}`: {error}", index.display()))?;
        let directory = index.parent().unwrap_or(Path::new(""));
        let maps = parsed
            .shards
            .iter()
            .map(|shard| map_file(&directory.join(shard)).map(|map| (shard.clone(), map)))
            .collect::<Result<_, _>>()?;
        Ok(MappedWeights { maps, weight_map: Some(parsed.weight_map) })
    }

    /// Parses every file; checks that each tensor the index lists is in its shard and that no
    /// name appears in two shards.
    pub(super) fn load(&self) -> Result<LoadedWeights<'_>, String> {
        let mut tensors = Vec::new();
        let mut metadata = HashMap::new();
        let mut shard_of: HashMap<String, &str> = HashMap::new();
        for (shown, map) in &self.maps {
            let file = WeightFile::parse(map).map_err(|error| format!("`{shown}` is {error}"))?;
            for tensor in file.tensors {
                if shard_of.insert(tensor.name.clone(), shown).is_some() {
                    return Err(format!(
                        "tensor `{}` appears in more than one shard (again in `{shown}`)",
                        tensor.name
                    ));
                }
                tensors.push(tensor);
            }
            for (key, value) in file.metadata {
                metadata.entry(key).or_insert(value);
            }
        }
        if let Some(weight_map) = &self.weight_map {
            for (name, shard) in weight_map {
                if shard_of.get(name) != Some(&shard.as_str()) {
                    return Err(format!("the index puts tensor `{name}` in `{shard}`, which does not hold it"));
                }
            }
        }
        Ok(LoadedWeights { tensors, metadata })
    }
}

/// Opens and parses `path`, printing a diagnostic on failure.
pub(super) fn with_weights<T>(path: &Path, use_weights: impl FnOnce(LoadedWeights<'_>) -> T) -> Result<T, Outcome> {
    let failed = |message: String| {
        let diagnostic = Diagnostic::error(Code::Io, message)
            .with_help("give a safetensors file, a checkpoint directory, or its model.safetensors.index.json");
        print_diagnostics(&vec![diagnostic], None);
        Outcome::Failure
    };
    let mapped = MappedWeights::open(path).map_err(failed)?;
    let loaded = mapped.load().map_err(failed)?;
    Ok(use_weights(loaded))
}

/// Prints a diagnostic for a failure that is not about an input file's contents.
pub(super) fn fail(message: String, help: &str) -> ExitCode {
    print_diagnostics(&vec![Diagnostic::error(Code::Io, message).with_help(help)], None);
    Outcome::Failure.into()
}

enum PlotFormat {
    Svg,
    Png,
}

pub fn run(args: &InspectArgs) -> ExitCode {
    let plot_format = match &args.plot {
        None => None,
        Some(path) => match path.extension().and_then(|ext| ext.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("svg") => Some(PlotFormat::Svg),
            Some("png") => Some(PlotFormat::Png),
            _ => {
                let message = format!("`--plot {}`: the figure's file name must end in .svg or .png", path.display());
                return fail(message, "e.g. `--plot histograms.svg`");
            }
        },
    };
    let bins = (args.hist || args.plot.is_some()).then_some(usize::from(args.bins));
    let measured = with_weights(&args.path, |weights| {
        weights
            .tensors
            .iter()
            .map(|tensor| {
                let label = weights.metadata.get(&format!("{INITIALIZER_KEY_PREFIX}{}", tensor.name));
                TensorReport::measure(tensor, label.map(String::as_str), bins)
            })
            .collect::<Vec<_>>()
    });
    let mut reports = match measured {
        Ok(reports) => reports,
        Err(outcome) => return outcome.into(),
    };
    if let (Some(path), Some(format)) = (&args.plot, plot_format) {
        let panels: Vec<HistogramPanel> = reports.iter().map(panel).collect();
        let bytes = match format {
            PlotFormat::Svg => Ok(inspect::svg_figure(&panels).into_bytes()),
            PlotFormat::Png => inspect::png_figure(&panels),
        };
        let written = bytes.and_then(|bytes| {
            std::fs::write(path, bytes)
                .map_err(|error| format!("cannot write `{}`: {}", path.display(), io_reason(&error)))
        });
        if let Err(message) = written {
            return fail(message, "check that the directory exists and is writable");
        }
    }
    if !args.hist {
        reports.iter_mut().for_each(|report| report.histogram = None);
    }
    match args.format {
        OutputFormat::Text => super::print_stdout(&inspect::inspect_text(&reports)),
        OutputFormat::Json => super::print_stdout(&inspect::inspect_json(&reports)),
    }
    Outcome::Success.into()
}

/// A figure panel: the name as title; dtype, shape, mean and std under it.
fn panel(report: &TensorReport) -> HistogramPanel {
    let shape = report.shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
    let moments = report
        .stats
        .filter(|stats| stats.finite > 0)
        .map(|stats| {
            format!(" mean {} std {}", inspect::compact_number(stats.mean), inspect::compact_number(stats.std()))
        })
        .unwrap_or_default();
    HistogramPanel {
        title: report.name.clone(),
        subtitle: format!("{} [{shape}]{moments}", report.dtype),
        histogram: report.histogram.clone(),
    }
}
