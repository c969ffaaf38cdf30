//! `rng: torch`: every tensor torch would draw, drawn from one MT19937 stream in torch's order
//! (each module's constructor in model order, then the config's own initializers), held as the
//! bytes the writer copies. The plan says what each tensor draws (`plan::torch_rng`); tensors
//! with fixed values are left to `TensorData`.

use crate::plan::{DType, Plan, TensorSpec};
use crate::random::torch::{TorchFloat, TorchGenerator, TorchInit, TorchValues};

/// The drawn tensors of a plan under `rng: torch`, by plan index.
pub struct TorchTensors {
    bytes: Vec<Option<Vec<u8>>>,
}

impl TorchTensors {
    /// Draws the plan's tensors; `None` under `rng: philox`.
    pub fn draw(plan: &Plan) -> Option<TorchTensors> {
        if plan.rng != crate::tensor::Rng::Torch || plan.torch_draws.len() != plan.tensors.len() {
            return None;
        }
        let mut generator = TorchGenerator::manual_seed(plan.seed);
        let mut values: Vec<Option<TorchValues>> = vec![None; plan.tensors.len()];
        let pairs = || plan.tensors.iter().zip(&plan.torch_draws).enumerate();
        for (index, (spec, draw)) in pairs() {
            if let Some(init) = draw.construction {
                values[index] = drawn(&mut generator, &init, spec);
            }
        }
        for (index, (spec, draw)) in pairs() {
            if let Some(init) = draw.after {
                values[index] = drawn(&mut generator, &init, spec).map(|mut tensor| {
                    // The config's fill (a `padding_idx` row) applies after its initializer.
                    if let Some(fill) = &spec.fill {
                        tensor.fill(fill.range.clone(), fill.value);
                    }
                    tensor
                });
            }
        }
        let bytes = values
            .into_iter()
            .zip(&plan.torch_draws)
            .map(|(tensor, draw)| if draw.fixed { None } else { tensor.map(|tensor| tensor.to_le_bytes()) })
            .collect();
        Some(TorchTensors { bytes })
    }

    /// Tensor `index`'s bytes (taken: the writer makes each tensor once); `None` for one with
    /// fixed values.
    pub fn take(&mut self, index: usize) -> Option<Vec<u8>> {
        self.bytes.get_mut(index).and_then(Option::take)
    }

    /// Tensor `index`'s bytes, kept.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.bytes.get(index).and_then(Option::as_deref)
    }
}

fn drawn(generator: &mut TorchGenerator, init: &TorchInit, spec: &TensorSpec) -> Option<TorchValues> {
    fn typed<T: TorchFloat + Default>(
        generator: &mut TorchGenerator,
        init: &TorchInit,
        spec: &TensorSpec,
    ) -> Option<TorchValues> {
        let mut values = vec![T::default(); spec.element_count()];
        // The plan admitted only what can be drawn: an error here is a tensor torch refuses.
        init.fill(generator, &spec.shape, &mut values).ok()?;
        Some(T::values(values))
    }
    match spec.dtype {
        DType::F32 => typed::<f32>(generator, init, spec),
        DType::F64 => typed::<f64>(generator, init, spec),
        _ => None,
    }
}
