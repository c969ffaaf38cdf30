//! Flax linen's parameter paths for layer weights (`--layout flax`), for the layers whose Flax
//! module keeps Keras's layouts and differs only in names: `nn.Dense` (`kernel` `(in, out)`),
//! `nn.Conv` (`kernel` `(k…, in/groups, out)`), `nn.Embed` (`embedding`) and `nn.LayerNorm`
//! (`scale`, `bias`). Every other layer with weights is refused, with the reason.

use super::Weight;
use super::torch::{TorchTensor, weight};

/// The Flax parameters of a layer of Keras class `class_name` with these (Keras) weights, named
/// inside the layer's module (`kernel`, `scale`), or why initc has no Flax layout for it.
pub fn flax_tensors(class_name: &str, weights: &[Weight]) -> Result<Vec<TorchTensor>, String> {
    if weights.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(reason) = weights.iter().find_map(|weight| weight.torch_refusal) {
        return Err(reason.to_string());
    }
    let mapping = match class_name {
        "Dense" | "Conv1D" | "Conv2D" | "Conv3D" => {
            vec![weight("kernel", "kernel", None), weight("bias", "bias", None)]
        }
        "Embedding" => vec![weight("embedding", "embeddings", None)],
        "LayerNormalization" => vec![weight("scale", "gamma", None), weight("bias", "beta", None)],
        _ => {
            return Err(format!(
                "`{class_name}` has no Flax layout in initc (only Dense, Conv1D–3D, Embedding and LayerNormalization have)"
            ));
        }
    };
    // Weights a layer does not have (no bias, no beta) have no Flax parameter either; a weight
    // the mapping does not name (a LoRA factor, a quantization scale) has no place in it.
    if let Some(unmapped) =
        weights.iter().find(|w| !mapping.iter().any(|tensor| tensor.source.logicals().any(|name| name == w.name)))
    {
        return Err(format!("its weight `{}` has no Flax layout in initc", unmapped.name));
    }
    let present = |logical: &str| weights.iter().any(|w| w.name == logical);
    Ok(mapping.into_iter().filter(|tensor| tensor.source.logicals().all(present)).collect())
}
