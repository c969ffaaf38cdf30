//! `GPT2LMHeadModel` (transformers 5.24, `modeling_gpt2.py`), whose `Conv1D`s and scaled
//! residual projections draw in an order of their own.

use super::{Draws, TorchStep, linear_weight, normal};

/// The draws of `GPT2LMHeadModel`:
/// 1. `GPT2Model.__init__`: `wte` and `wpe` (`nn.Embedding`: N(0, 1)), then per block the four
///    `Conv1D` weights (`c_attn`, `attn.c_proj`, `c_fc`, `mlp.c_proj`: N(0, 0.02) each).
/// 2. Its `post_init` initialises children first: `wte`, `wpe` N(σ); per block `c_attn` N(r),
///    `attn.c_proj` N(r), then the attention module redraws `attn.c_proj` N(r/√(2·n_layer)); the
///    same for `c_fc` and `mlp.c_proj`. σ = `initializer_range or 0.02`, r = `initializer_range`.
/// 3. `lm_head` (`nn.Linear(bias=False)`): `kaiming_uniform_(a=√5)`, then the head model's
///    `post_init`: N(σ). When tied, both draws are discarded (the head is `wte`).
pub(super) fn replay(draws: &Draws) -> Result<Vec<TorchStep>, String> {
    let (wte, wpe) = (draws.require("transformer.wte.weight")?, draws.require("transformer.wpe.weight")?);
    let sigma = draws.normal_stddev(wte)?;
    let mut blocks = Vec::new();
    while let Some(c_attn) = draws.find(&format!("transformer.h.{}.attn.c_attn.weight", blocks.len())) {
        let block = format!("transformer.h.{}", blocks.len());
        let attn_proj = draws.require(&format!("{block}.attn.c_proj.weight"))?;
        let c_fc = draws.require(&format!("{block}.mlp.c_fc.weight"))?;
        let mlp_proj = draws.require(&format!("{block}.mlp.c_proj.weight"))?;
        blocks.push([c_attn, attn_proj, c_fc, mlp_proj]);
    }
    let first = *blocks.first().ok_or("the template has no block")?.first().ok_or("no block")?;
    let range = draws.normal_stddev(first)?;
    let residual = range / (2.0 * blocks.len() as f64).sqrt();
    let head = draws.find("lm_head.weight");
    // Every other tensor must be a fixed one (norms, biases): nothing else draws.
    let drawn: Vec<usize> = [wte, wpe].into_iter().chain(blocks.iter().flatten().copied()).chain(head).collect();
    for index in 0..draws.tensors.len() {
        if !drawn.contains(&index) {
            draws.expect_fixed(index)?;
            continue;
        }
        let expected = if index == wte || index == wpe || Some(index) == head {
            sigma
        } else if blocks.iter().any(|block| block[1] == index || block[3] == index) {
            residual
        } else {
            range
        };
        let stddev = draws.normal_stddev(index)?;
        if (stddev - expected).abs() > 1e-12 * expected.abs() {
            return Err(format!(
                "`{}` has stddev {stddev}, but transformers draws it with {expected}",
                draws.name(index)
            ));
        }
    }
    let mut steps = vec![draws.of(wte, normal(1.0)), draws.of(wpe, normal(1.0))];
    for block in &blocks {
        steps.extend(block.iter().map(|&index| draws.of(index, normal(0.02))));
    }
    steps.push(draws.of(wte, normal(sigma)));
    steps.push(draws.of(wpe, normal(sigma)));
    for &[c_attn, attn_proj, c_fc, mlp_proj] in &blocks {
        steps.push(draws.of(c_attn, normal(range)));
        steps.push(draws.of(attn_proj, normal(range)));
        steps.push(draws.of(attn_proj, normal(residual)));
        steps.push(draws.of(c_fc, normal(range)));
        steps.push(draws.of(mlp_proj, normal(range)));
        steps.push(draws.of(mlp_proj, normal(residual)));
    }
    // The head is `(vocab, n_embd)` like `wte`, drawn even when tied.
    let head_draw = |init| match head {
        Some(head) => draws.of(head, init),
        None => draws.discarded(wte, draws.shape(wte), init),
    };
    steps.push(head_draw(linear_weight()));
    steps.push(head_draw(normal(sigma)));
    Ok(steps)
}
