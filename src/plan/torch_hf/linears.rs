//! Models made of `nn.Embedding`, `nn.Linear`, norms and (fused) mixture-of-experts blocks
//! whose `_init_weights` is `PreTrainedModel`'s: the Llama family, GPT-NeoX, BERT.

use super::{Draws, TorchStep, linear_bias, linear_weight, normal};
use crate::plan::torch_rng::Part;

/// Where a model's tensors sit in transformers' module tree.
pub(super) struct Layout<'a> {
    /// The `nn.Embedding` weights; the first one's N(σ) gives σ (`initializer_range or 0.02`).
    pub embeddings: &'a [&'a str],
    /// The prefix of the base model (`model.`), a `PreTrainedModel` of its own that is built and
    /// initialised (its `post_init`) before the head's modules are built; `""` when the whole
    /// model is one.
    pub base: &'a str,
    /// The head's `nn.Linear` whose weight is tied to the first embedding: built and initialised
    /// even when tied, its draws then discarded (and the template leaves it out).
    pub tied_head: Option<TiedHead<'a>>,
    /// The expert projections (gate, up, down) of a mixture-of-experts block, held per expert
    /// on disk (`experts.{e}.<name>.weight`) and fused in transformers.
    pub experts: Option<[&'a str; 3]>,
}

/// A head `nn.Linear` tied to the input embedding.
pub(super) struct TiedHead<'a> {
    pub weight: &'a str,
    /// Its own bias, when it has one (BERT's decoder).
    pub bias: Option<&'a str>,
}

/// The draws of one `PreTrainedModel`: its constructors, then its `post_init`.
#[derive(Default)]
struct Stage {
    construction: Vec<TorchStep>,
    post_init: Vec<TorchStep>,
}

/// The draws of the model, in transformers' order:
/// 1. The base model's constructors, in module order: every embedding N(0, 1) (its
///    `padding_idx` row zeroed), every `nn.Linear` `kaiming_uniform_(a=√5)` then, with a bias,
///    `U(±1/√in)`; norms, routers and fused experts (`torch.empty`) draw nothing.
/// 2. The base model's `post_init`, children first (the same order): embeddings and linear
///    weights N(σ) (the row zeroed again), routers N(σ), each expert block's fused `gate_up_proj`
///    N(σ) then `down_proj` N(σ); biases zero, norms constant.
/// 3. The head's modules the same way (their constructors, then the head model's `post_init`),
///    the tied head's draws included.
pub(super) fn replay(draws: &Draws, layout: &Layout) -> Result<Vec<TorchStep>, String> {
    let embeddings = layout.embeddings.iter().map(|name| draws.require(name)).collect::<Result<Vec<_>, _>>()?;
    let sigma = draws.normal_stddev(embeddings[0])?;
    let model = Model { draws, layout, embeddings: &embeddings, sigma };
    let (base, head): (Vec<usize>, Vec<usize>) =
        (0..draws.tensors.len()).partition(|&index| draws.name(index).starts_with(layout.base));
    let mut head_stage = model.stage(&head)?;
    if let Some(tied) = &layout.tied_head
        && draws.find(tied.weight).is_none()
    {
        // `(vocab, hidden)` like the embedding, with a `(vocab)` bias.
        let like = embeddings[0];
        let shape = draws.shape(like);
        head_stage.construction.push(draws.discarded(like, shape, linear_weight()));
        if tied.bias.is_some_and(|bias| draws.find(bias).is_none()) {
            head_stage.construction.push(draws.discarded(like, &shape[..1], linear_bias(shape[1])));
        }
        head_stage.post_init.push(draws.discarded(like, shape, normal(sigma)));
    }
    let mut steps = Vec::new();
    for stage in [model.stage(&base)?, head_stage] {
        steps.extend(stage.construction);
        steps.extend(stage.post_init);
    }
    Ok(steps)
}

/// A template read as `Layout` says.
struct Model<'a> {
    draws: &'a Draws<'a>,
    layout: &'a Layout<'a>,
    embeddings: &'a [usize],
    sigma: f64,
}

impl Model<'_> {
    /// The draws of the modules holding `tensors` (in module order), one `PreTrainedModel`.
    fn stage(&self, tensors: &[usize]) -> Result<Stage, String> {
        let draws = self.draws;
        let mut stage = Stage::default();
        // Tensors drawn with an earlier one (a bias with its weight, an expert with its block).
        let mut done = vec![false; draws.tensors.len()];
        for &index in tensors {
            if done[index] {
                continue;
            }
            let name = draws.name(index);
            if self.embeddings.contains(&index) {
                draws.expect_normal(index, self.sigma)?;
                stage.construction.push(draws.filled(index, normal(1.0)));
                stage.post_init.push(draws.filled(index, normal(self.sigma)));
            } else if let Some((_, experts)) = self.experts_of(name) {
                experts.iter().flatten().for_each(|&expert| done[expert] = true);
                stage.post_init.extend(self.fused_experts(&experts)?);
            } else if self.is_router(name) {
                draws.expect_normal(index, self.sigma)?;
                stage.post_init.push(draws.of(index, normal(self.sigma)));
            } else if draws.shape(index).len() == 2 && name.ends_with(".weight") {
                draws.expect_normal(index, self.sigma)?;
                stage.construction.push(draws.of(index, linear_weight()));
                // The bias is drawn right after its weight, wherever the template lists it.
                let stem = &name[..name.len() - ".weight".len()];
                if let Some(bias) = draws.find(&format!("{stem}.bias")) {
                    draws.expect_fixed(bias)?;
                    stage.construction.push(draws.discarded(
                        bias,
                        draws.shape(bias),
                        linear_bias(draws.shape(index)[1]),
                    ));
                    done[bias] = true;
                }
                stage.post_init.push(draws.of(index, normal(self.sigma)));
            } else {
                draws.expect_fixed(index)?;
            }
        }
        Ok(stage)
    }

    /// Whether `name` is a mixture-of-experts router (`<block>.gate.weight` beside
    /// `<block>.experts.0.…`): a `torch.empty` parameter that only `_init_weights` draws.
    fn is_router(&self, name: &str) -> bool {
        let Some([gate, ..]) = self.layout.experts else { return false };
        name.strip_suffix(".gate.weight")
            .is_some_and(|block| self.draws.find(&format!("{block}.experts.0.{gate}.weight")).is_some())
    }

    /// The expert block `name` belongs to: its stem (`….experts`) and every expert's (gate, up,
    /// down) tensors.
    fn experts_of<'n>(&self, name: &'n str) -> Option<(&'n str, Vec<[usize; 3]>)> {
        let names = self.layout.experts?;
        let (block, _) = name.split_once(".experts.")?;
        let stem = &name[..block.len() + ".experts".len()];
        let expert = |e: usize| -> Option<[usize; 3]> {
            let find = |projection: &str| self.draws.find(&format!("{stem}.{e}.{projection}.weight"));
            Some([find(names[0])?, find(names[1])?, find(names[2])?])
        };
        let experts: Vec<[usize; 3]> = (0..).map_while(expert).collect();
        (!experts.is_empty()).then_some((stem, experts))
    }

    /// The `post_init` draws of one fused expert block: `gate_up_proj` `(E, 2·I, H)` N(σ), then
    /// `down_proj` `(E, H, I)` N(σ). Expert `e`'s gate, up and down are contiguous slices of
    /// them: each fused call is one call whose slices are the experts' tensors (`Part`s).
    fn fused_experts(&self, experts: &[[usize; 3]]) -> Result<Vec<TorchStep>, String> {
        let draws = self.draws;
        for &index in experts.iter().flatten() {
            draws.expect_normal(index, self.sigma)?;
        }
        let gate_up: Vec<usize> = experts.iter().flat_map(|&[gate, up, _]| [gate, up]).collect();
        let down: Vec<usize> = experts.iter().map(|&[_, _, down]| down).collect();
        let mut steps = Vec::new();
        for fused in [gate_up, down] {
            let sizes: Vec<usize> = fused.iter().map(|&index| draws.shape(index).iter().product()).collect();
            let call_len = sizes.iter().sum();
            let mut offset = 0;
            for (&index, size) in fused.iter().zip(sizes) {
                let part = Some(Part { call_len, offset });
                steps.push(TorchStep { part, ..draws.of(index, normal(self.sigma)) });
                offset += size;
            }
        }
        Ok(steps)
    }
}
