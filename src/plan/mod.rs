//! The plan: a flat, fully resolved list of tensor specs (name, shape, dtype, initializer, fans,
//! origin), plus the per-layer rows of the summary. `init` and `emit` only ever see a plan.

mod build;
mod external;
pub mod layout;
mod open_sizes;
mod rows;
mod torch_hf;
pub mod torch_rng;

pub use crate::layers::ConstantFill;
pub use crate::tensor::{DType, Layout};
pub use build::build_plan;
pub use external::{ExternalTensor, attach_external};
pub use open_sizes::{OPEN_SIZE, mark_open_sizes};
pub use rows::{summary_rows, summary_rows_in};

pub use crate::initializers::{Distribution, FanMode, Fans, Initializer};
use crate::source::Span;

/// One tensor of the output file, with everything needed to generate its values.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSpec {
    /// `<layer>.<weight>`, e.g. `dense_1.kernel`.
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub initializer: Initializer,
    /// The initializer as the user wrote it, canonicalised (`he_uniform`, `random_normal(mean=0, stddev=0.05)`).
    /// Borrowed when it is a family's name alone (most tensors: a graph has 100,000).
    pub initializer_label: std::borrow::Cow<'static, str>,
    pub fans: Fans,
    pub trainable: bool,
    /// Elements overwritten with a constant after initialisation. Boxed, as `layout` is: few
    /// tensors have one, and a graph has 100,000 specs.
    pub fill: Option<Box<ConstantFill>>,
    /// How the stored tensor derives from its logical one (`--layout torch`); `None` when they
    /// are the same.
    pub layout: Option<Box<layout::StoredLayout>>,
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

    /// The specs whose initializers make this tensor's values: its logical parts when it is
    /// stored in another layout, else itself.
    pub fn value_specs(&self) -> impl Iterator<Item = &TensorSpec> {
        let parts = self.layout.as_ref().map(|layout| layout.parts.iter().map(|part| &part.spec));
        parts.into_iter().flatten().chain(self.layout.is_none().then_some(self))
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
    /// What each call consumes, as Keras's functional summary shows it (`dense[0][0]`); inline
    /// for two (a graph's summary has 100,000 rows, most consuming one or two tensors).
    pub connected_to: smallvec::SmallVec<[String; 2]>,
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
    /// The generator random tensors are drawn from.
    pub rng: crate::tensor::Rng,
    /// Under `rng: torch`, every draw torch makes, in its order; empty otherwise.
    pub torch_steps: Vec<torch_rng::TorchStep>,
    pub layers: Vec<LayerRow>,
    pub summary_style: SummaryStyle,
    pub tensors: Vec<TensorSpec>,
    /// The names and layouts the tensors are stored in (`--layout`).
    pub layout: Layout,
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
        for tensor in self.tensors.iter_mut().filter(|tensor| !tensor.dtype.is_integer()) {
            tensor.dtype = dtype;
            for part in tensor.layout.iter_mut().flat_map(|layout| layout.parts.iter_mut()) {
                part.spec.dtype = dtype;
            }
        }
    }
}
