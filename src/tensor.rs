//! How a tensor is stored: its element type and the naming and layout convention of the file.
//! Below the stages: the command line's options name them, `plan` and `emit` act on them.

/// Element type of a tensor in the output file. Values are computed in f64 and rounded to
/// nearest, ties to even, into the dtype (`specs/rng.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DType {
    #[default]
    F32,
    F16,
    BF16,
    F64,
    /// 64-bit integers: only torch's `num_batches_tracked` counter, never chosen by `--dtype`.
    I64,
    /// 32-bit integers: only Keras's `Normalization` `count` (Keras's `"int"` on the torch and
    /// jax backends), never chosen by `--dtype`.
    I32,
}

impl DType {
    pub const NAMES: [&'static str; 4] = ["f32", "f16", "bf16", "f64"];

    /// `f32`, `f16`, `bf16` or `f64` (case-insensitive; `float32`, `float16`, `bfloat16`, `float64` too).
    pub fn parse(word: &str) -> Option<DType> {
        match word.to_ascii_lowercase().as_str() {
            "f32" | "float32" => Some(DType::F32),
            "f16" | "float16" => Some(DType::F16),
            "bf16" | "bfloat16" => Some(DType::BF16),
            "f64" | "float64" => Some(DType::F64),
            _ => None,
        }
    }

    /// The dtype as the safetensors header spells it.
    pub fn safetensors_name(self) -> &'static str {
        match self {
            DType::F32 => "F32",
            DType::F16 => "F16",
            DType::BF16 => "BF16",
            DType::F64 => "F64",
            DType::I64 => "I64",
            DType::I32 => "I32",
        }
    }

    /// The largest finite value the dtype holds (the most negative is its negation).
    pub fn largest(self) -> f64 {
        match self {
            DType::F32 => f64::from(f32::MAX),
            // (2 − 2^-10) · 2^15 and (2 − 2^-7) · 2^127.
            DType::F16 => 65504.0,
            DType::BF16 => 3.389_531_389_251_535_5e38,
            DType::F64 => f64::MAX,
            DType::I64 => i64::MAX as f64,
            DType::I32 => f64::from(i32::MAX),
        }
    }

    /// Whether it holds integers (counters), which keep their type whatever `--dtype` says.
    pub fn is_integer(self) -> bool {
        matches!(self, DType::I64 | DType::I32)
    }

    pub fn size_bytes(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::F64 | DType::I64 => 8,
        }
    }
}

/// The generator random tensors are drawn from (`rng:` in the config, `--rng` on the command line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rng {
    /// initc's own: one Philox4x32-10 stream per tensor, the same bits on every platform.
    #[default]
    Philox,
    /// torch 2.15's CPU generator: one MT19937 stream for the whole model, drawn in the order
    /// `torch.manual_seed(seed)` and the modules' constructors draw.
    Torch,
}

impl Rng {
    /// The name in `rng:`, `--rng` and the file's `initc.rng` metadata.
    pub fn name(self) -> &'static str {
        match self {
            Rng::Philox => "philox4x32-10",
            Rng::Torch => "torch-mt19937",
        }
    }
}

/// The names and layouts tensors are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// Keras's: `<layer>.kernel` as `(in, out)`, the default.
    #[default]
    Keras,
    /// PyTorch's: `<layer>.weight` as `(out, in)`, RNN gates in torch's order.
    Torch,
    /// Flax linen's parameter paths: `<layer>/kernel` as `(in, out)`, `scale`, `embedding`.
    Flax,
}
