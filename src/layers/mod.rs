//! The layer catalogue: one file per layer type, each parsing its arguments and computing its
//! output shape and weights from an input shape, with Keras 3 semantics and defaults.

mod activation;
mod activations;
mod adaptive_pooling;
mod attention;
mod batch_normalization;
mod bidirectional;
mod category_encoding;
mod concatenate;
mod conv;
mod conv_lstm;
mod conv_transpose;
mod cropping;
mod data_format;
mod dense;
mod depthwise_conv;
mod dot;
mod dropout;
mod einsum_dense;
mod embedding;
mod flatten;
pub mod flax;
mod global_pooling;
mod group_normalization;
mod identity;
mod layer_normalization;
mod layer_scale;
mod mel_spectrogram;
mod merge;
mod multi_head_attention;
mod noise;
mod normalization;
mod permute;
mod pooling;
mod prelu;
mod recurrent;
mod repeat_vector;
mod rescaling;
mod reshape;
mod resizing;
mod reversible_embedding;
mod rms_normalization;
mod rnn;
mod separable_conv;
mod spatial;
mod spectral_normalization;
mod stft_spectrogram;
#[cfg(test)]
pub mod testing;
mod time_distributed;
pub mod torch;
mod unit_normalization;
mod up_sampling;
mod wrapped;
mod zero_padding;
pub use layer_scale::AUTO_NAMED_VARIABLE;
pub use merge::residual_add;

/// The type of the `add` that closes a residual block.
pub static RESIDUAL_ADD_TYPE: &LayerType = &merge::ADD;
pub use spatial::shape_text;

use crate::args::Args;
use crate::diagnostic::Diagnostic;
use crate::initializers::Family;
use std::borrow::Cow;
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
    /// Keras's variable name: `kernel`, `bias`, …; a wrapped layer's weights carry the inner
    /// layers' names too (`forward_lstm.lstm_cell.kernel`), as Keras's weight paths do.
    pub name: Cow<'static, str>,
    pub shape: Vec<usize>,
    /// The layer argument that sets its initializer (`kernel_initializer`).
    pub initializer_argument: &'static str,
    /// Keras's default for that argument, with the family's default parameters.
    pub default_initializer: Family,
    /// False for statistics a layer keeps but does not train (batch norm's moving mean).
    pub trainable: bool,
    /// Elements set to a constant after the initializer ran.
    pub fill: Option<ConstantFill>,
    /// For a wrapped layer's weight, the Keras class of that layer (whose torch mapping the
    /// wrapper's follows).
    pub wrapped_class: Option<&'static str>,
    /// `(fan_in, fan_out)` when Keras computes them from explicit input and output axes of the
    /// kernel rather than from its shape (`EinsumDense` passes them to variance scaling).
    pub fans: Option<(usize, usize)>,
    /// Why the layer this weight belongs to has no PyTorch layout, when only its build knows
    /// (an `EinsumDense` whose equation is not a plain matrix product).
    pub torch_refusal: Option<&'static str>,
    /// Arguments of the default initializer, where Keras's differ from the family's defaults
    /// (`SpectralNormalization`'s `truncated_normal(stddev=0.02)`, `STFTSpectrogram`'s window).
    pub default_arguments: Vec<(&'static str, DefaultArgument)>,
    /// The initializer a wrapped layer's config gives this weight (`Bidirectional`'s inner
    /// `LSTM(kernel_initializer=…)`), which the wrapper's own row does not hold.
    pub given_initializer: Option<crate::initializers::InitCall>,
    /// Its own element type (an integer counter), else the file's (`--dtype`).
    pub dtype: Option<crate::tensor::DType>,
}

/// One argument of a weight's default initializer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultArgument {
    Number(f64),
    /// A word parameter's value (`side=imag`).
    Word(&'static str),
}

impl Weight {
    /// A trainable weight initialised by `argument`, `default` unless the config says otherwise.
    pub fn new(name: &'static str, shape: Vec<usize>, argument: &'static str, default: Family) -> Weight {
        Weight {
            name: Cow::Borrowed(name),
            shape,
            initializer_argument: argument,
            default_initializer: default,
            trainable: true,
            fill: None,
            wrapped_class: None,
            fans: None,
            torch_refusal: None,
            default_arguments: Vec::new(),
            given_initializer: None,
            dtype: None,
        }
    }

    /// The same weight whose default initializer takes these arguments.
    pub fn with_default_arguments(self, arguments: Vec<(&'static str, DefaultArgument)>) -> Weight {
        Weight { default_arguments: arguments, ..self }
    }

    /// The same weight with fans Keras computes from explicit axes, not from the shape.
    pub fn with_fans(self, fan_in: usize, fan_out: usize) -> Weight {
        Weight { fans: Some((fan_in, fan_out)), ..self }
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
    /// [`Layer::build`] for the graph node named `node`, which a layer shared by many nodes may
    /// name in its messages (a residual block's `add` names its block).
    fn build_for(&self, _node: &str, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        self.build(inputs)
    }
    /// How many tensors each call returns: more than one for a recurrent layer with
    /// `return_state` (its states follow its output) or a `bidirectional` with `merge_mode:
    /// null`. Known from the arguments alone: `resolve` counts outputs before any shape is known.
    fn output_count(&self) -> usize {
        1
    }
    /// The shapes of the outputs after the first (`output_count() - 1` of them), for the
    /// `inputs` that built `built`.
    fn other_outputs(&self, _inputs: &[Vec<usize>], _built: &Built) -> Vec<Vec<usize>> {
        Vec::new()
    }
}

/// A layer of one input, which is most of them.
pub trait UnaryLayer: Debug + Send + Sync {
    /// Output shape and weights for `input` (no batch dimension).
    fn build_one(&self, input: &[usize]) -> Result<Built, Diagnostic>;
    /// [`Layer::output_count`].
    fn output_count(&self) -> usize {
        1
    }
    /// [`Layer::other_outputs`] for one input.
    fn other_outputs_of(&self, _input: &[usize], _built: &Built) -> Vec<Vec<usize>> {
        Vec::new()
    }
}

impl<T: UnaryLayer> Layer for T {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn build(&self, inputs: &[Vec<usize>]) -> Result<Built, Diagnostic> {
        self.build_one(&inputs[0])
    }

    fn output_count(&self) -> usize {
        UnaryLayer::output_count(self)
    }

    fn other_outputs(&self, inputs: &[Vec<usize>], built: &Built) -> Vec<Vec<usize>> {
        inputs.first().map_or_else(Vec::new, |input| self.other_outputs_of(input, built))
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
pub const COMMON_ARGUMENTS: [&str; 7] = ["name", "trainable", "input_shape", "input_dim", "share", "inputs", "calls"];

/// Every layer type, sorted by config name (messages list them in this order).
pub static LAYER_TYPES: &[LayerType] = &[
    activation::TYPE,
    noise::ACTIVITY_REGULARIZATION,
    adaptive_pooling::ADAPTIVE_AVERAGE_POOLING1D,
    adaptive_pooling::ADAPTIVE_AVERAGE_POOLING2D,
    adaptive_pooling::ADAPTIVE_AVERAGE_POOLING3D,
    adaptive_pooling::ADAPTIVE_MAX_POOLING1D,
    adaptive_pooling::ADAPTIVE_MAX_POOLING2D,
    adaptive_pooling::ADAPTIVE_MAX_POOLING3D,
    merge::ADD,
    attention::ADDITIVE_ATTENTION,
    noise::ALPHA_DROPOUT,
    attention::ATTENTION,
    merge::AVERAGE,
    pooling::AVERAGE_POOLING1D,
    pooling::AVERAGE_POOLING2D,
    pooling::AVERAGE_POOLING3D,
    batch_normalization::TYPE,
    bidirectional::TYPE,
    category_encoding::CATEGORY_ENCODING,
    resizing::CENTER_CROP,
    concatenate::TYPE,
    conv::CONV1D,
    conv_transpose::CONV1D_TRANSPOSE,
    conv::CONV2D,
    conv_transpose::CONV2D_TRANSPOSE,
    conv::CONV3D,
    conv_transpose::CONV3D_TRANSPOSE,
    conv_lstm::CONV_LSTM1D,
    conv_lstm::CONV_LSTM2D,
    conv_lstm::CONV_LSTM3D,
    cropping::CROPPING1D,
    cropping::CROPPING2D,
    cropping::CROPPING3D,
    dense::TYPE,
    depthwise_conv::DEPTHWISE_CONV1D,
    depthwise_conv::DEPTHWISE_CONV2D,
    category_encoding::DISCRETIZATION,
    dot::TYPE,
    dropout::TYPE,
    einsum_dense::TYPE,
    activations::ELU,
    embedding::TYPE,
    flatten::TYPE,
    noise::GAUSSIAN_DROPOUT,
    noise::GAUSSIAN_NOISE,
    global_pooling::GLOBAL_AVERAGE_POOLING1D,
    global_pooling::GLOBAL_AVERAGE_POOLING2D,
    global_pooling::GLOBAL_AVERAGE_POOLING3D,
    global_pooling::GLOBAL_MAX_POOLING1D,
    global_pooling::GLOBAL_MAX_POOLING2D,
    global_pooling::GLOBAL_MAX_POOLING3D,
    group_normalization::TYPE,
    multi_head_attention::GROUPED_QUERY_ATTENTION,
    recurrent::GRU,
    identity::IDENTITY,
    layer_normalization::TYPE,
    layer_scale::TYPE,
    activations::LEAKY_RE_LU,
    recurrent::LSTM,
    identity::MASKING,
    pooling::MAX_POOLING1D,
    pooling::MAX_POOLING2D,
    pooling::MAX_POOLING3D,
    merge::MAXIMUM,
    mel_spectrogram::TYPE,
    merge::MINIMUM,
    multi_head_attention::MULTI_HEAD_ATTENTION,
    merge::MULTIPLY,
    normalization::TYPE,
    prelu::TYPE,
    permute::TYPE,
    activations::RE_LU,
    repeat_vector::TYPE,
    rescaling::TYPE,
    reshape::TYPE,
    resizing::RESIZING,
    reversible_embedding::TYPE,
    rms_normalization::TYPE,
    rnn::TYPE,
    separable_conv::SEPARABLE_CONV1D,
    separable_conv::SEPARABLE_CONV2D,
    recurrent::SIMPLE_RNN,
    activations::SOFTMAX,
    noise::SPATIAL_DROPOUT1D,
    noise::SPATIAL_DROPOUT2D,
    noise::SPATIAL_DROPOUT3D,
    spectral_normalization::TYPE,
    stft_spectrogram::TYPE,
    merge::SUBTRACT,
    time_distributed::TYPE,
    unit_normalization::TYPE,
    up_sampling::UP_SAMPLING1D,
    up_sampling::UP_SAMPLING2D,
    up_sampling::UP_SAMPLING3D,
    zero_padding::ZERO_PADDING1D,
    zero_padding::ZERO_PADDING2D,
    zero_padding::ZERO_PADDING3D,
];

/// Names Keras exports a class under besides its own (`keras.layers.GroupQueryAttention` is
/// the class `GroupedQueryAttention`; JSON gives the export, the summary the class).
const CLASS_ALIASES: &[(&str, &str)] = &[("GroupQueryAttention", "GroupedQueryAttention")];

/// Looks a layer type up by its snake_case or Keras class name (or an exported alias).
pub fn find(name: &str) -> Option<&'static LayerType> {
    let name = CLASS_ALIASES.iter().find(|(alias, _)| *alias == name).map_or(name, |(_, class)| class);
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

#[cfg(test)]
mod tests {
    use super::{LAYER_TYPES, find, testing};
    use crate::initializers::find_family;

    /// A layer type, its arguments, an input, and its weights with the default initializer each
    /// had as a name before the defaults became typed.
    type Case = (&'static str, &'static str, &'static [usize], &'static [(&'static str, &'static str)]);

    #[rustfmt::skip]
    const DEFAULTS: &[Case] = &[
        ("activation", "{activation: relu}", &[4], &[]),
        ("average_pooling1d", "{}", &[4, 2], &[]),
        ("average_pooling2d", "{}", &[4, 4, 2], &[]),
        ("average_pooling3d", "{}", &[4, 4, 4, 2], &[]),
        ("batch_normalization", "{}", &[4], &[
            ("gamma", "ones"), ("beta", "zeros"), ("moving_mean", "zeros"), ("moving_variance", "ones"),
        ]),
        ("conv1d", "{filters: 2, kernel_size: 3}", &[5, 1], &[("kernel", "glorot_uniform"), ("bias", "zeros")]),
        ("conv2d", "{filters: 2, kernel_size: 3}", &[5, 5, 1], &[("kernel", "glorot_uniform"), ("bias", "zeros")]),
        ("conv3d", "{filters: 2, kernel_size: 3}", &[5, 5, 5, 1], &[("kernel", "glorot_uniform"), ("bias", "zeros")]),
        ("conv1d_transpose", "{filters: 2, kernel_size: 3}", &[5, 1], &[("kernel", "glorot_uniform"), ("bias", "zeros")]),
        ("conv2d_transpose", "{filters: 2, kernel_size: 3}", &[5, 5, 1], &[("kernel", "glorot_uniform"), ("bias", "zeros")]),
        ("conv3d_transpose", "{filters: 2, kernel_size: 3}", &[5, 5, 5, 1], &[
            ("kernel", "glorot_uniform"), ("bias", "zeros"),
        ]),
        ("conv_lstm2d", "{filters: 2, kernel_size: 3}", &[4, 5, 5, 1], &[
            ("conv_lstm_cell.kernel", "glorot_uniform"), ("conv_lstm_cell.recurrent_kernel", "orthogonal"),
            ("conv_lstm_cell.bias", "zeros"),
        ]),
        ("bidirectional", "{layer: {gru: {units: 2}}}", &[5, 3], &[
            ("forward_gru.gru_cell.kernel", "glorot_uniform"), ("forward_gru.gru_cell.recurrent_kernel", "orthogonal"),
            ("forward_gru.gru_cell.bias", "zeros"), ("backward_gru.gru_cell.kernel", "glorot_uniform"),
            ("backward_gru.gru_cell.recurrent_kernel", "orthogonal"), ("backward_gru.gru_cell.bias", "zeros"),
        ]),
        ("cropping1d", "{}", &[4, 2], &[]),
        ("cropping2d", "{}", &[4, 4, 2], &[]),
        ("cropping3d", "{}", &[4, 4, 4, 2], &[]),
        ("dense", "{units: 3}", &[4], &[("kernel", "glorot_uniform"), ("bias", "zeros")]),
        ("depthwise_conv2d", "{kernel_size: 3}", &[5, 5, 2], &[("kernel", "glorot_uniform"), ("bias", "zeros")]),
        ("dropout", "{rate: 0.5}", &[4], &[]),
        ("embedding", "{input_dim: 10, output_dim: 4}", &[7], &[("embeddings", "uniform")]),
        ("flatten", "{}", &[4, 2], &[]),
        ("global_average_pooling1d", "{}", &[4, 2], &[]),
        ("global_average_pooling2d", "{}", &[4, 4, 2], &[]),
        ("global_average_pooling3d", "{}", &[4, 4, 4, 2], &[]),
        ("global_max_pooling1d", "{}", &[4, 2], &[]),
        ("global_max_pooling2d", "{}", &[4, 4, 2], &[]),
        ("global_max_pooling3d", "{}", &[4, 4, 4, 2], &[]),
        ("gru", "{units: 2}", &[5, 3], &[
            ("gru_cell.kernel", "glorot_uniform"), ("gru_cell.recurrent_kernel", "orthogonal"), ("gru_cell.bias", "zeros"),
        ]),
        ("layer_normalization", "{}", &[4], &[("gamma", "ones"), ("beta", "zeros")]),
        ("lstm", "{units: 2}", &[5, 3], &[
            ("lstm_cell.kernel", "glorot_uniform"), ("lstm_cell.recurrent_kernel", "orthogonal"), ("lstm_cell.bias", "zeros"),
        ]),
        ("max_pooling1d", "{}", &[4, 2], &[]),
        ("max_pooling2d", "{}", &[4, 4, 2], &[]),
        ("max_pooling3d", "{}", &[4, 4, 4, 2], &[]),
        ("reshape", "{target_shape: [-1]}", &[4, 2], &[]),
        ("rnn", "{cell: {class_name: SimpleRNNCell, config: {units: 2}}}", &[5, 3], &[
            ("simple_rnn_cell.kernel", "glorot_uniform"), ("simple_rnn_cell.recurrent_kernel", "orthogonal"),
            ("simple_rnn_cell.bias", "zeros"),
        ]),
        ("separable_conv1d", "{filters: 2, kernel_size: 3}", &[5, 2], &[
            ("depthwise_kernel", "glorot_uniform"), ("pointwise_kernel", "glorot_uniform"), ("bias", "zeros"),
        ]),
        ("simple_rnn", "{units: 2}", &[5, 3], &[
            ("simple_rnn_cell.kernel", "glorot_uniform"), ("simple_rnn_cell.recurrent_kernel", "orthogonal"), ("simple_rnn_cell.bias", "zeros"),
        ]),
        ("p_re_lu", "{}", &[4, 2], &[("alpha", "zeros")]),
        ("group_normalization", "{groups: 2}", &[4], &[("gamma", "ones"), ("beta", "zeros")]),
        ("rms_normalization", "{}", &[4], &[("scale", "ones")]),
        ("normalization", "{}", &[4], &[("mean", "zeros"), ("variance", "ones"), ("count", "zeros")]),
        ("layer_scale", "{init_values: 0.1, projection_dim: 4}", &[4], &[("variable", "constant")]),
        ("time_distributed", "{layer: {dense: {units: 3}}}", &[5, 4], &[
            ("dense.kernel", "glorot_uniform"), ("dense.bias", "zeros"),
        ]),
        ("zero_padding1d", "{}", &[4, 2], &[]),
        ("zero_padding2d", "{}", &[4, 4, 2], &[]),
        ("zero_padding3d", "{}", &[4, 4, 4, 2], &[]),
    ];

    #[test]
    fn every_weight_default_is_the_family_its_old_name_meant() {
        for &(type_name, arguments, input, expected) in DEFAULTS {
            let built =
                testing::build(type_name, arguments, input).unwrap_or_else(|error| panic!("{type_name}: {error}"));
            let found: Vec<&str> = built.weights.iter().map(|w| w.name.as_ref()).collect();
            let names: Vec<&str> = expected.iter().map(|&(weight, _)| weight).collect();
            assert_eq!(found, names, "{type_name}: weights");
            for (weight, &(_, old_name)) in built.weights.iter().zip(expected) {
                let family = find_family(old_name).map(|def| def.family);
                assert_eq!(Some(weight.default_initializer), family, "{type_name}.{}: `{old_name}`", weight.name);
            }
        }
    }

    /// The config names a `## ` heading of specs/layers.md documents: its words outside
    /// backquotes (those are Keras class names), with `max_pooling1d/2d/3d` read as three names.
    fn documented_names(heading: &str) -> Vec<String> {
        let unquoted: Vec<&str> = heading.split('`').step_by(2).collect();
        let mut found = Vec::new();
        for word in unquoted.iter().flat_map(|text| text.split([',', ' '])).filter(|word| !word.is_empty()) {
            let mut parts = word.split('/');
            let first = parts.next().unwrap_or_default();
            found.push(first.to_string());
            // `1d/2d/3d`: the later parts replace the first one's `1d`.
            if let Some(stem) = first.strip_suffix("1d") {
                found.extend(parts.map(|suffix| format!("{stem}{suffix}")));
            }
        }
        found
    }

    #[test]
    fn every_layer_type_has_a_section_in_the_spec() {
        let spec = include_str!("../../specs/layers.md");
        let documented: Vec<String> =
            spec.lines().filter_map(|line| line.strip_prefix("## ")).flat_map(documented_names).collect();
        let missing: Vec<&str> =
            LAYER_TYPES.iter().map(|t| t.name).filter(|name| !documented.iter().any(|d| d == name)).collect();
        assert!(missing.is_empty(), "specs/layers.md has no section for {missing:?}");
    }

    #[test]
    fn the_catalogue_is_sorted_by_config_name_and_names_are_unique() {
        let names: Vec<&str> = LAYER_TYPES.iter().map(|t| t.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        for &(type_name, ..) in DEFAULTS {
            assert!(find(type_name).is_some(), "{type_name}");
        }
    }
}
