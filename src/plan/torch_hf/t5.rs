//! `T5ForConditionalGeneration` (transformers 5.24, `modeling_t5.py`): two stacks that are
//! `PreTrainedModel`s of their own, and an `_init_weights` that draws every projection twice.

use super::{Draws, TorchStep, linear_weight, normal};

/// The draws of `T5ForConditionalGeneration`, f = `initializer_factor`:
/// 1. `shared` (`nn.Embedding`): N(0, 1).
/// 2. Per stack (encoder, then decoder), a `T5Stack` built and then its `post_init`:
///    - constructors: its own `embed_tokens` N(0, 1) (later replaced by `shared`), every
///      projection `kaiming_uniform_(a=√5)`, block 0's `relative_attention_bias` N(0, 1);
///    - `post_init`, children first: `embed_tokens` N(f); per attention or feed-forward module
///      its children's default N(f) (`PreTrainedModel._init_weights`: T5Config has no
///      `initializer_range`), then the module's own scaled draws of the same tensors — the
///      template's stds: q N(f·(D·d_kv)^-½), k, v, the bias N(f·D^-½), o N(f·(heads·d_kv)^-½),
///      wi N(f·D^-½), wo N(f·d_ff^-½).
/// 3. `lm_head` (always tied): `kaiming_uniform_(a=√5)`.
/// 4. The model's `post_init`: `shared` N(f), `lm_head` N(f), then the model's own `shared` N(f).
pub(super) fn replay(draws: &Draws) -> Result<Vec<TorchStep>, String> {
    let shared = draws.require("shared.weight")?;
    let factor = draws.normal_stddev(shared)?;
    let vocab = draws.shape(shared);
    if let Some(head) = draws.find("lm_head.weight") {
        return Err(format!("`{}`: transformers' T5 always ties the head", draws.name(head)));
    }
    let outside = |i: usize| i != shared && !["encoder.", "decoder."].iter().any(|s| draws.name(i).starts_with(s));
    for index in (0..draws.tensors.len()).filter(|&i| outside(i)) {
        draws.expect_fixed(index)?;
    }
    let mut steps = vec![draws.of(shared, normal(1.0))];
    for stack in ["encoder.", "decoder."] {
        let tensors: Vec<usize> = (0..draws.tensors.len()).filter(|&i| draws.name(i).starts_with(stack)).collect();
        let mut drawn = Vec::new();
        steps.push(draws.discarded(shared, vocab, normal(1.0)));
        for &index in &tensors {
            if draws.name(index).ends_with(".relative_attention_bias.weight") {
                steps.push(draws.of(index, normal(1.0)));
            } else if draws.shape(index).len() == 2 {
                steps.push(draws.of(index, linear_weight()));
            } else {
                draws.expect_fixed(index)?;
                continue;
            }
            drawn.push(index);
        }
        steps.push(draws.discarded(shared, vocab, normal(factor)));
        // Consecutive tensors of one module (`….SelfAttention`, `….DenseReluDense`).
        let module = |index: usize| draws.name(index).rsplitn(3, '.').nth(2).unwrap_or_default().to_string();
        for children in drawn.chunk_by(|&a, &b| module(a) == module(b)) {
            steps.extend(children.iter().map(|&child| draws.of(child, normal(factor))));
            for &child in children {
                steps.push(draws.of(child, normal(draws.normal_stddev(child)?)));
            }
        }
    }
    steps.push(draws.discarded(shared, vocab, linear_weight()));
    steps.push(draws.of(shared, normal(factor)));
    steps.push(draws.discarded(shared, vocab, normal(factor)));
    steps.push(draws.of(shared, normal(factor)));
    Ok(steps)
}
