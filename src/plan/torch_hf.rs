//! `rng: torch` for Hugging Face templates: the draws transformers 5.24 makes, in its order, when
//! `torch.manual_seed(seed); AutoModelForCausalLM.from_config(config)` builds the model. Only
//! templates whose order is replayed here are accepted; `torch_rng` refuses the others.

use super::torch_rng::TorchStep;
use super::{Initializer, TensorSpec};
use crate::random::torch::TorchInit;
use crate::random::torch::init_functions::{FanMode, Nonlinearity};

/// The draws of the template `model_name` whose tensors are `tensors`, when initc replays it and
/// the tensors are exactly the ones it expects.
pub fn replay(model_name: &str, tensors: &[TensorSpec]) -> Option<Vec<TorchStep>> {
    match model_name {
        "gpt2" => gpt2(tensors),
        "llama" | "mistral" | "qwen2" | "qwen3" => decoder_of_linears(tensors),
        _ => None,
    }
}

/// The (`nn.Embedding` | `nn.Linear` | norm) decoders (`LlamaForCausalLM` and its kin in
/// transformers 5.24), whose `_init_weights` is `PreTrainedModel`'s:
/// 1. The base model's constructors in state-dict order: `model.embed_tokens` N(0, 1) (its
///    `padding_idx` row zeroed), every `nn.Linear` `kaiming_uniform_(a=√5)` then, with a bias,
///    `U(±1/√in)`; norms draw nothing.
/// 2. The base model's `post_init`, children first (the same order): the embedding N(σ) (row
///    zeroed again), every linear weight N(σ), biases zero.
/// 3. `lm_head`: `kaiming_uniform_(a=√5)`, then N(σ); both discarded when tied.
fn decoder_of_linears(tensors: &[TensorSpec]) -> Option<Vec<TorchStep>> {
    let find = |name: &str| tensors.iter().position(|spec| spec.name == name);
    let embed = find("model.embed_tokens.weight")?;
    let head = find("lm_head.weight");
    let sigma = normal_stddev(&tensors[embed])?;
    let kaiming =
        TorchInit::KaimingUniform { mode: FanMode::FanIn, nonlinearity: Nonlinearity::LeakyRelu(5.0f64.sqrt()) };
    let normal = |std: f64| TorchInit::Normal { mean: 0.0, std };
    let step = |tensor: Option<usize>, reference: usize, init: TorchInit, fill: bool| TorchStep {
        tensor,
        shape: tensors[reference].shape.clone(),
        dtype: tensors[reference].dtype,
        init,
        fill,
    };
    let (mut construction, mut post_init) = (Vec::new(), Vec::new());
    for (index, spec) in tensors.iter().enumerate() {
        if index == embed {
            construction.push(step(Some(index), index, normal(1.0), true));
            post_init.push(step(Some(index), index, normal(sigma), true));
        } else if Some(index) == head {
        } else if spec.shape.len() == 2 && spec.name.ends_with(".weight") {
            // A linear weight: N(σ) in the template, as `_init_weights` draws it.
            if normal_stddev(spec).is_none_or(|stddev| stddev != sigma) {
                return None;
            }
            construction.push(step(None, index, kaiming, false));
            post_init.push(step(Some(index), index, normal(sigma), false));
        } else if let Some(weight) = spec.name.strip_suffix(".bias").and_then(|stem| find(&format!("{stem}.weight"))) {
            // A linear bias: drawn by the constructor, zeroed by `_init_weights`.
            let fan_in = *tensors[weight].shape.get(1)?;
            if spec.initializer.is_random() || tensors[weight].shape.len() != 2 {
                return None;
            }
            let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
            construction.push(step(None, index, TorchInit::Uniform { from: -bound, to: bound }, false));
        } else if spec.initializer.is_random() {
            return None;
        }
    }
    if let Some(head) = head
        && normal_stddev(&tensors[head]) != Some(sigma)
    {
        return None;
    }
    let mut steps = construction;
    steps.extend(post_init);
    // The head is `(vocab, hidden)` like the embedding, drawn even when tied.
    steps.push(step(head, head.unwrap_or(embed), kaiming, false));
    steps.push(step(head, head.unwrap_or(embed), normal(sigma), false));
    Some(steps)
}

/// The standard deviation of a `random_normal(mean=0)` tensor without its own seed.
fn normal_stddev(spec: &TensorSpec) -> Option<f64> {
    match &spec.initializer {
        Initializer::RandomNormal(normal) if normal.mean == 0.0 && normal.seed.is_none() => Some(normal.stddev),
        _ => None,
    }
}

/// `GPT2LMHeadModel` (transformers 5.24, `modeling_gpt2.py`):
/// 1. `GPT2Model.__init__`: `wte` and `wpe` (`nn.Embedding`: N(0, 1)), then per block the four
///    `Conv1D` weights (`c_attn`, `attn.c_proj`, `c_fc`, `mlp.c_proj`: N(0, 0.02) each).
/// 2. Its `post_init` initialises children first: `wte`, `wpe` N(σ); per block `c_attn` N(r),
///    `attn.c_proj` N(r), then the attention module redraws `attn.c_proj` N(r/√(2·n_layer)); the
///    same for `c_fc` and `mlp.c_proj`. σ = `initializer_range or 0.02`, r = `initializer_range`.
/// 3. `lm_head` (`nn.Linear(bias=False)`): `kaiming_uniform_(a=√5)`, then the head model's
///    `post_init`: N(σ). When tied, both draws are discarded (the head is `wte`).
fn gpt2(tensors: &[TensorSpec]) -> Option<Vec<TorchStep>> {
    let find = |name: &str| tensors.iter().position(|spec| spec.name == name);
    let (wte, wpe) = (find("transformer.wte.weight")?, find("transformer.wpe.weight")?);
    let sigma = normal_stddev(&tensors[wte])?;
    let mut blocks = Vec::new();
    while let Some(c_attn) = find(&format!("transformer.h.{}.attn.c_attn.weight", blocks.len())) {
        let block = format!("transformer.h.{}", blocks.len());
        let attn_proj = find(&format!("{block}.attn.c_proj.weight"))?;
        let c_fc = find(&format!("{block}.mlp.c_fc.weight"))?;
        let mlp_proj = find(&format!("{block}.mlp.c_proj.weight"))?;
        blocks.push([c_attn, attn_proj, c_fc, mlp_proj]);
    }
    let range = normal_stddev(&tensors[*blocks.first()?.first()?])?;
    let residual = range / (2.0 * blocks.len() as f64).sqrt();
    let head = find("lm_head.weight");
    // Every other tensor must be a fixed one (norms, biases): nothing else draws.
    let drawn: Vec<usize> = [wte, wpe].into_iter().chain(blocks.iter().flatten().copied()).chain(head).collect();
    let expected_normal = |index: usize| {
        let expected = if index == wte || index == wpe || Some(index) == head {
            sigma
        } else if blocks.iter().any(|block| block[1] == index || block[3] == index) {
            residual
        } else {
            range
        };
        normal_stddev(&tensors[index]).is_some_and(|stddev| (stddev - expected).abs() <= 1e-12 * expected.abs())
    };
    let others_fixed =
        tensors.iter().enumerate().all(|(index, spec)| drawn.contains(&index) || !spec.initializer.is_random());
    if !others_fixed || !drawn.iter().all(|&index| expected_normal(index)) {
        return None;
    }
    let wte_shape = tensors[wte].shape.clone();
    let step = |tensor: Option<usize>, shape: Option<&[usize]>, init: TorchInit| {
        let reference = &tensors[tensor.unwrap_or(wte)];
        TorchStep {
            tensor,
            shape: shape.map_or_else(|| reference.shape.clone(), <[usize]>::to_vec),
            dtype: reference.dtype,
            init,
            fill: false,
        }
    };
    let normal = |std: f64| TorchInit::Normal { mean: 0.0, std };
    let mut steps = vec![step(Some(wte), None, normal(1.0)), step(Some(wpe), None, normal(1.0))];
    for block in &blocks {
        steps.extend(block.iter().map(|&index| step(Some(index), None, normal(0.02))));
    }
    steps.push(step(Some(wte), None, normal(sigma)));
    steps.push(step(Some(wpe), None, normal(sigma)));
    for &[c_attn, attn_proj, c_fc, mlp_proj] in &blocks {
        steps.push(step(Some(c_attn), None, normal(range)));
        steps.push(step(Some(attn_proj), None, normal(range)));
        steps.push(step(Some(attn_proj), None, normal(residual)));
        steps.push(step(Some(c_fc), None, normal(range)));
        steps.push(step(Some(mlp_proj), None, normal(range)));
        steps.push(step(Some(mlp_proj), None, normal(residual)));
    }
    // The head is `(vocab, n_embd)` like `wte`, drawn even when tied.
    let kaiming =
        TorchInit::KaimingUniform { mode: FanMode::FanIn, nonlinearity: Nonlinearity::LeakyRelu(5.0f64.sqrt()) };
    steps.push(step(head, Some(&wte_shape), kaiming));
    steps.push(step(head, Some(&wte_shape), normal(sigma)));
    Some(steps)
}
