//! The plan: a flat, fully resolved list of tensor specs (name, shape, dtype, initializer, fans,
//! origin), plus the per-layer rows of the summary. `init` and `emit` only ever see a plan.

mod build;
mod external;
pub mod layout;
mod rows;

pub use crate::layers::ConstantFill;
pub use crate::tensor::DType;
pub use build::build_plan;
pub use external::{ExternalTensor, attach_external};

use crate::source::Span;

/// Fan-in and fan-out of a tensor, as Keras 3's `compute_fans` defines them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fans {
    pub fan_in: f64,
    pub fan_out: f64,
}

impl Fans {
    /// Keras 3 `compute_fans`: rank 0 → (1, 1); rank 1 → (n, n); rank 2 → (rows, cols);
    /// rank ≥ 3 (a kernel `(k…, in, out)`) → (in·∏k, out·∏k).
    pub fn of_shape(shape: &[usize]) -> Fans {
        let (fan_in, fan_out) = match shape {
            [] => (1.0, 1.0),
            [n] => (*n as f64, *n as f64),
            [rows, cols] => (*rows as f64, *cols as f64),
            [kernel @ .., fan_in, fan_out] => {
                let receptive: f64 = kernel.iter().map(|&k| k as f64).product();
                (*fan_in as f64 * receptive, *fan_out as f64 * receptive)
            }
        };
        Fans { fan_in, fan_out }
    }
}

/// Which fan `variance_scaling` divides its scale by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    FanIn,
    FanOut,
    FanAvg,
}

impl FanMode {
    pub const NAMES: [&'static str; 3] = ["fan_in", "fan_out", "fan_avg"];

    pub fn parse(word: &str) -> Option<FanMode> {
        match word.to_ascii_lowercase().as_str() {
            "fan_in" => Some(FanMode::FanIn),
            "fan_out" => Some(FanMode::FanOut),
            "fan_avg" => Some(FanMode::FanAvg),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The fan this mode selects.
    pub fn fan(self, fans: Fans) -> f64 {
        match self {
            FanMode::FanIn => fans.fan_in,
            FanMode::FanOut => fans.fan_out,
            FanMode::FanAvg => (fans.fan_in + fans.fan_out) / 2.0,
        }
    }
}

/// The distribution `variance_scaling` draws from. Keras reads `"normal"` as truncated normal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distribution {
    TruncatedNormal,
    UntruncatedNormal,
    Uniform,
}

impl Distribution {
    pub const NAMES: [&'static str; 4] = ["truncated_normal", "untruncated_normal", "uniform", "normal"];

    pub fn parse(word: &str) -> Option<Distribution> {
        match word.to_ascii_lowercase().as_str() {
            "truncated_normal" | "normal" => Some(Distribution::TruncatedNormal),
            "untruncated_normal" => Some(Distribution::UntruncatedNormal),
            "uniform" => Some(Distribution::Uniform),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// A fully evaluated initializer: every argument is a number or an enum, checked for sense.
/// Named Keras initializers (glorot_uniform, he_normal, …) are `VarianceScaling` here; the
/// name the user wrote survives in [`TensorSpec::initializer_label`].
#[derive(Clone, Debug, PartialEq)]
pub enum Initializer {
    Zeros,
    Ones,
    Constant {
        value: f64,
    },
    RandomNormal {
        mean: f64,
        stddev: f64,
        seed: Option<u64>,
    },
    RandomUniform {
        minval: f64,
        maxval: f64,
        seed: Option<u64>,
    },
    TruncatedNormal {
        mean: f64,
        stddev: f64,
        seed: Option<u64>,
    },
    VarianceScaling {
        scale: f64,
        mode: FanMode,
        distribution: Distribution,
        seed: Option<u64>,
    },
    Orthogonal {
        gain: f64,
        seed: Option<u64>,
    },
    Identity {
        gain: f64,
    },
    /// A tensor of an existing safetensors file (warm start). `path` is as written in the
    /// config; the command line resolves it, checks the tensor and attaches its values.
    FromFile {
        path: String,
        tensor: String,
    },
    /// Values attached to a `FromFile` tensor: copied as they are.
    Copy(std::sync::Arc<[f32]>),
}

impl Initializer {
    /// The initializer's own `seed` argument, which (as in Keras) replaces the per-tensor stream.
    pub fn explicit_seed(&self) -> Option<u64> {
        match *self {
            Initializer::RandomNormal { seed, .. }
            | Initializer::RandomUniform { seed, .. }
            | Initializer::TruncatedNormal { seed, .. }
            | Initializer::VarianceScaling { seed, .. }
            | Initializer::Orthogonal { seed, .. } => seed,
            Initializer::Zeros
            | Initializer::Ones
            | Initializer::Constant { .. }
            | Initializer::Identity { .. }
            | Initializer::FromFile { .. }
            | Initializer::Copy(_) => None,
        }
    }

    pub fn is_random(&self) -> bool {
        !matches!(
            self,
            Initializer::Zeros
                | Initializer::Ones
                | Initializer::Constant { .. }
                | Initializer::Identity { .. }
                | Initializer::FromFile { .. }
                | Initializer::Copy(_)
        )
    }
}

/// One tensor of the output file, with everything needed to generate its values.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSpec {
    /// `<layer>.<weight>`, e.g. `dense_1.kernel`.
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub initializer: Initializer,
    /// The initializer as the user wrote it, canonicalised (`he_uniform`, `random_normal(mean=0, stddev=0.05)`).
    pub initializer_label: String,
    pub fans: Fans,
    pub trainable: bool,
    /// Elements overwritten with a constant after initialisation.
    pub fill: Option<ConstantFill>,
    /// How the stored tensor derives from its logical one (`--layout torch`); `None` when they
    /// are the same.
    pub layout: Option<layout::StoredLayout>,
    /// Whether the tensor is one of the model's parameters, counted in the summary's totals:
    /// false for what only torch's layout adds (the second RNN bias, batch norm's counter).
    pub counted: bool,
    /// Where the tensor comes from: the initializer value if one was given, else the layer.
    pub origin: Span,
}

impl TensorSpec {
    pub fn element_count(&self) -> usize {
        self.shape.iter().product()
    }
}

/// One row of the summary table.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerRow {
    pub name: String,
    /// Keras class name, e.g. `Conv1D`.
    pub class_name: &'static str,
    /// Output shape without the batch dimension; `None` when no input reaches the layer.
    pub output_shape: Option<Vec<usize>>,
    /// The outputs after the first, for a nested model with several.
    pub other_outputs: Vec<Vec<usize>>,
    /// A param's tensor shape, which its summary row shows in place of an output shape.
    pub param_shape: Option<Vec<usize>>,
    pub params: u64,
    /// What each call consumes, as Keras's functional summary shows it (`dense[0][0]`).
    pub connected_to: Vec<String>,
}

/// How the summary table looks, as Keras decides it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SummaryStyle {
    /// A Sequential model's: no input rows, three columns.
    #[default]
    Sequential,
    /// A functional model's: `InputLayer` rows, and a "Connected to" column unless the graph is
    /// a chain (Keras calls that "sequential-like").
    Functional { connections: bool },
}

/// A finished plan: what `init` generates and `emit` writes.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub model_name: String,
    pub seed: u64,
    pub layers: Vec<LayerRow>,
    pub summary_style: SummaryStyle,
    pub tensors: Vec<TensorSpec>,
}

impl Plan {
    pub fn total_params(&self) -> u64 {
        self.tensors.iter().filter(|t| t.counted).map(|t| t.element_count() as u64).sum()
    }

    pub fn trainable_params(&self) -> u64 {
        self.tensors.iter().filter(|t| t.counted && t.trainable).map(|t| t.element_count() as u64).sum()
    }

    /// Every tensor's dtype set to `dtype` (the command line's `--dtype`).
    pub fn set_dtype(&mut self, dtype: DType) {
        // Integer tensors (counters) keep their type.
        self.tensors.iter_mut().filter(|tensor| tensor.dtype != DType::I64).for_each(|tensor| tensor.dtype = dtype);
    }
}
