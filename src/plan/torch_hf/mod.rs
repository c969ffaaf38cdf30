//! `rng: torch` for Hugging Face templates: the draws transformers 5.24 makes, in its order, when
//! `torch.manual_seed(seed); AutoModel….from_config(config)` builds the model. Only templates
//! whose order is replayed here are accepted; `torch_rng` refuses the others with the reason.

mod gpt2;
mod linears;
mod t5;

use std::collections::HashMap;

use super::torch_rng::TorchStep;
use super::{Initializer, TensorSpec};
use crate::random::torch::TorchInit;
use crate::random::torch::init_functions::{FanMode, Nonlinearity};
use linears::{Layout, TiedHead};

/// The templates whose draws are replayed, as the help line lists them.
pub const REPLAYED: &str = "bert, bert_for_masked_lm, gemma, gemma2, gemma3_text, gpt2, gpt_neox, granite, llama, \
                            mistral, mixtral, olmo2, phi3, qwen2, qwen3, qwen3_moe, starcoder2 and t5";

/// The draws of the template `model_name` whose tensors are `tensors`, or why they are not
/// replayed; `None` for a model that is no replayed template.
pub fn replay(model_name: &str, tensors: &[TensorSpec]) -> Option<Result<Vec<TorchStep>, String>> {
    let decoder = |experts| Layout {
        embeddings: &["model.embed_tokens.weight"],
        base: "model.",
        tied_head: Some(TiedHead { weight: "lm_head.weight", bias: None }),
        experts,
    };
    let draws = Draws::new(tensors);
    Some(match model_name {
        "gpt2" => gpt2::replay(&draws),
        "llama" | "mistral" | "qwen2" | "qwen3" | "olmo2" | "granite" | "phi3" | "starcoder2" | "gemma" | "gemma2"
        | "gemma3_text" => linears::replay(&draws, &decoder(None)),
        "mixtral" => linears::replay(&draws, &decoder(Some(["w1", "w3", "w2"]))),
        "qwen3_moe" => linears::replay(&draws, &decoder(Some(["gate_proj", "up_proj", "down_proj"]))),
        "gpt_neox" => linears::replay(
            &draws,
            &Layout {
                embeddings: &["gpt_neox.embed_in.weight"],
                base: "gpt_neox.",
                tied_head: Some(TiedHead { weight: "embed_out.weight", bias: None }),
                experts: None,
            },
        ),
        "bert" => linears::replay(
            &draws,
            &Layout {
                embeddings: &[
                    "embeddings.word_embeddings.weight",
                    "embeddings.position_embeddings.weight",
                    "embeddings.token_type_embeddings.weight",
                ],
                base: "",
                tied_head: None,
                experts: None,
            },
        ),
        "bert_for_masked_lm" => linears::replay(
            &draws,
            &Layout {
                embeddings: &[
                    "bert.embeddings.word_embeddings.weight",
                    "bert.embeddings.position_embeddings.weight",
                    "bert.embeddings.token_type_embeddings.weight",
                ],
                base: "bert.",
                tied_head: Some(TiedHead {
                    weight: "cls.predictions.decoder.weight",
                    bias: Some("cls.predictions.decoder.bias"),
                }),
                experts: None,
            },
        ),
        "t5" => t5::replay(&draws),
        _ => return None,
    })
}

/// A template's tensors, and the steps that draw them.
struct Draws<'a> {
    tensors: &'a [TensorSpec],
    by_name: HashMap<&'a str, usize>,
}

impl<'a> Draws<'a> {
    fn new(tensors: &'a [TensorSpec]) -> Draws<'a> {
        let by_name = tensors.iter().enumerate().map(|(index, spec)| (spec.name.as_str(), index)).collect();
        Draws { tensors, by_name }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// `find`, or why the template is not the one expected.
    fn require(&self, name: &str) -> Result<usize, String> {
        self.find(name).ok_or_else(|| format!("the template has no `{name}`"))
    }

    fn name(&self, index: usize) -> &str {
        &self.tensors[index].name
    }

    fn shape(&self, index: usize) -> &[usize] {
        &self.tensors[index].shape
    }

    /// A draw whose values tensor `index` keeps (until a later step draws it again).
    fn of(&self, index: usize, init: TorchInit) -> TorchStep {
        let spec = &self.tensors[index];
        TorchStep { tensor: Some(index), shape: spec.shape.clone(), dtype: spec.dtype, init, fill: false, part: None }
    }

    /// `of`, then the tensor's fill (an embedding's `padding_idx` row set to zero).
    fn filled(&self, index: usize, init: TorchInit) -> TorchStep {
        TorchStep { fill: true, ..self.of(index, init) }
    }

    /// A draw torch makes for a tensor the file does not hold (a tied head, a stack's own
    /// embedding replaced by the shared one), of `shape` in tensor `like`'s dtype.
    fn discarded(&self, like: usize, shape: &[usize], init: TorchInit) -> TorchStep {
        TorchStep {
            tensor: None,
            shape: shape.to_vec(),
            dtype: self.tensors[like].dtype,
            init,
            fill: false,
            part: None,
        }
    }

    /// The standard deviation of tensor `index`, a `random_normal(mean=0)` without its own seed.
    fn normal_stddev(&self, index: usize) -> Result<f64, String> {
        match &self.tensors[index].initializer {
            Initializer::RandomNormal(normal) if normal.mean == 0.0 && normal.seed.is_none() => Ok(normal.stddev),
            _ => Err(format!(
                "`{}` is `{}`, not the template's `random_normal`",
                self.name(index),
                self.tensors[index].initializer_label
            )),
        }
    }

    /// `normal_stddev`, which must be `expected`.
    fn expect_normal(&self, index: usize, expected: f64) -> Result<(), String> {
        let stddev = self.normal_stddev(index)?;
        if stddev == expected {
            Ok(())
        } else {
            Err(format!("`{}` has stddev {stddev}, but transformers draws it with {expected}", self.name(index)))
        }
    }

    /// Tensor `index` must draw nothing in the template (a norm, a bias, a buffer).
    fn expect_fixed(&self, index: usize) -> Result<(), String> {
        if self.tensors[index].initializer.is_random() {
            Err(format!(
                "`{}` is random (`{}`), but transformers' `_init_weights` sets it to a constant",
                self.name(index),
                self.tensors[index].initializer_label
            ))
        } else {
            Ok(())
        }
    }
}

/// `N(0, std)`.
fn normal(std: f64) -> TorchInit {
    TorchInit::Normal { mean: 0.0, std }
}

/// `nn.Linear.reset_parameters`'s weight draw: `kaiming_uniform_(a=√5)`.
fn linear_weight() -> TorchInit {
    TorchInit::KaimingUniform { mode: FanMode::FanIn, nonlinearity: Nonlinearity::LeakyRelu(5.0f64.sqrt()) }
}

/// `nn.Linear.reset_parameters`'s bias draw: `U(±1/√fan_in)` (0 for no inputs).
fn linear_bias(fan_in: usize) -> TorchInit {
    let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
    TorchInit::Uniform { from: -bound, to: bound }
}
