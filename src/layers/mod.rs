//! The layer catalogue: one file per layer type, each parsing its arguments and computing its
//! output shape and weights from an input shape, with Keras 3 semantics and defaults.

mod activation;
mod batch_normalization;
mod conv;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod global_pooling;
mod layer_normalization;
mod pooling;
mod recurrent;
mod reshape;
mod spatial;
pub mod torch;
pub use spatial::shape_text;

use crate::args::Args;
use crate::diagnostic::Diagnostic;
use std::fmt::Debug;

/// A range of a tensor's elements set to a constant after its initializer ran (Keras LSTM's
/// `unit_forget_bias` sets the forget gate's slice of the bias to ones).
#[derive(Clone, Debug, PartialEq)]
pub struct ConstantFill {
    pub range: std::ops::Range<usize>,
    pub value: f64,
}

/// A weight a layer creates once it knows its input shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Weight {
    /// Keras's variable name: `kernel`, `bias`, …
    pub name: &'static str,
    pub shape: Vec<usize>,
    /// The layer argument that sets its initializer (`kernel_initializer`).
    pub initializer_argument: &'static str,
    /// Keras's default for that argument.
    pub default_initializer: &'static str,
    /// False for statistics a layer keeps but does not train (batch norm's moving mean).
    pub trainable: bool,
    /// Elements set to a constant after the initializer ran.
    pub fill: Option<ConstantFill>,
}

impl Weight {
    /// A trainable weight initialised by `argument`, `default` unless the config says otherwise.
    pub fn new(name: &'static str, shape: Vec<usize>, argument: &'static str, default: &'static str) -> Weight {
        Weight {
            name,
            shape,
            initializer_argument: argument,
            default_initializer: default,
            trainable: true,
            fill: None,
        }
    }
}

/// What a layer produces for a given input shape (shapes exclude the batch dimension).
#[derive(Clone, Debug, PartialEq)]
pub struct Built {
    pub output_shape: Vec<usize>,
    pub weights: Vec<Weight>,
}

/// How many inputs a layer consumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    AtLeast(usize),
}

impl Arity {
    pub fn accepts(self, count: usize) -> bool {
        match self {
            Arity::Exactly(n) => count == n,
            Arity::AtLeast(n) => count >= n,
        }
    }

    /// `1 input`, `2 inputs`, `at least 2 inputs`.
    pub fn text(self) -> String {
        let (prefix, n) = match self {
            Arity::Exactly(n) => ("", n),
            Arity::AtLeast(n) => ("at least ", n),
        };
        format!("{prefix}{n} input{}", if n == 1 { "" } else { "s" })
    }
}

/// A layer with its arguments parsed, waiting for its input shapes (deferred initialisation).
pub trait Layer: Debug + Send + Sync {
    /// How many inputs it takes; `build` is only called with a count this accepts.
    fn arity(&self) -> Arity;
    /// Output shape and weights for `inputs` (no batch dimension). Errors carry a span when the
    /// layer knows which argument is at fault; the caller points the rest at the layer.
    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic>;
}

/// A layer of one input, which is most of them.
pub trait UnaryLayer: Debug + Send + Sync {
    /// Output shape and weights for `input` (no batch dimension).
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic>;
}

impl<T: UnaryLayer> Layer for T {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        self.build_one(&inputs[0])
    }
}

/// A layer type: its names and how to read its arguments.
pub struct LayerType {
    /// The snake_case name used in configs and for auto-naming (`max_pooling1d`).
    pub name: &'static str,
    /// The Keras class name (`MaxPooling1D`).
    pub class_name: &'static str,
    /// Every argument the type takes besides the common ones (`name`, `trainable`, …).
    pub arguments: &'static [&'static str],
    /// Reads the arguments; `None` when they had errors (reported into `args`).
    pub parse: fn(&mut Args) -> Option<Box<dyn Layer>>,
    /// Its weights' names and layouts in the equivalent PyTorch module (`--layout torch`).
    pub torch: torch::TorchMapping,
}

impl std::fmt::Debug for LayerType {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.class_name)
    }
}

/// Arguments every layer takes (Keras's base `Layer`).
pub const COMMON_ARGUMENTS: [&str; 5] = ["name", "trainable", "input_shape", "input_dim", "share"];

/// Every layer type, sorted by config name (messages list them in this order).
pub static LAYER_TYPES: &[LayerType] = &[
    activation::TYPE,
    pooling::AVERAGE_POOLING1D,
    pooling::AVERAGE_POOLING2D,
    pooling::AVERAGE_POOLING3D,
    batch_normalization::TYPE,
    conv::CONV1D,
    conv::CONV2D,
    conv::CONV3D,
    dense::TYPE,
    dropout::TYPE,
    embedding::TYPE,
    flatten::TYPE,
    global_pooling::GLOBAL_AVERAGE_POOLING1D,
    global_pooling::GLOBAL_AVERAGE_POOLING2D,
    global_pooling::GLOBAL_AVERAGE_POOLING3D,
    global_pooling::GLOBAL_MAX_POOLING1D,
    global_pooling::GLOBAL_MAX_POOLING2D,
    global_pooling::GLOBAL_MAX_POOLING3D,
    recurrent::GRU,
    layer_normalization::TYPE,
    recurrent::LSTM,
    pooling::MAX_POOLING1D,
    pooling::MAX_POOLING2D,
    pooling::MAX_POOLING3D,
    reshape::TYPE,
    recurrent::SIMPLE_RNN,
];

/// Looks a layer type up by its snake_case or Keras class name.
pub fn find(name: &str) -> Option<&'static LayerType> {
    LAYER_TYPES.iter().find(|t| t.name == name || t.class_name == name)
}

/// Keras 3's activation names (`keras.activations`), for checking `activation:`.
pub const ACTIVATIONS: [&str; 31] = [
    "celu",
    "elu",
    "exponential",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
];

/// Reads an optional `activation:` (null means linear), checking the name.
pub fn activation_argument(args: &mut Args, required: bool) -> Option<String> {
    if required {
        args.require("activation", "relu")?;
    }
    named_activation_argument(args, "activation")
}

/// Reads an optional activation under another name (`recurrent_activation:`), checking it.
pub fn named_activation_argument(args: &mut Args, name: &str) -> Option<String> {
    use crate::diagnostic::{Code, did_you_mean};
    let activation = args.string(name);
    args.note(name, crate::args::ArgKind::Activation);
    let activation = activation?;
    if ACTIVATIONS.contains(&activation.value.as_str()) {
        return Some(activation.value);
    }
    let mut diagnostic =
        Diagnostic::error(Code::InvalidValue, format!("unknown activation `{}`", activation.value)).at(activation.span);
    diagnostic = match did_you_mean(&activation.value, ACTIVATIONS) {
        Some(similar) => diagnostic.with_help(format!("did you mean `{similar}`?")),
        None => {
            diagnostic.with_help("Keras activations include `relu`, `tanh`, `sigmoid`, `softmax`, `gelu`, `linear`")
        }
    };
    args.diagnostics.push(diagnostic);
    None
}
