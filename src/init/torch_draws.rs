//! `rng: torch`: every draw torch makes, from one MT19937 stream in torch's order (the plan's
//! `torch_steps`: each module's constructor in model order, then the config's own initializers,
//! or a template's replay), the tensors held as the bytes the writer copies. A tensor no step
//! fills (fixed values) is left to `TensorData`.

use crate::plan::{DType, Plan};
use crate::random::torch::{TorchDtype, TorchGenerator, TorchInit, TorchValues};

/// The drawn tensors of a plan under `rng: torch`, by plan index.
pub struct TorchTensors {
    bytes: Vec<Option<Vec<u8>>>,
}

impl TorchTensors {
    /// Draws the plan's tensors in the plan's order; `None` under `rng: philox`.
    pub fn draw(plan: &Plan) -> Option<TorchTensors> {
        if plan.rng != crate::tensor::Rng::Torch {
            return None;
        }
        let mut generator = TorchGenerator::manual_seed(plan.seed);
        let mut values: Vec<Option<TorchValues>> = vec![None; plan.tensors.len()];
        for step in &plan.torch_steps {
            let drawn = drawn(&mut generator, &step.init, &step.shape, step.dtype);
            let Some(index) = step.tensor else { continue };
            let Some(spec) = plan.tensors.get(index) else { continue };
            values[index] = drawn.map(|mut tensor| {
                // The config's fill (a `padding_idx` row) applies after its initializer.
                if let Some(fill) = spec.fill.as_ref().filter(|_| step.fill) {
                    tensor.fill(fill.range.clone(), fill.value);
                }
                tensor
            });
        }
        let bytes = values.into_iter().map(|tensor| tensor.map(|tensor| tensor.to_le_bytes())).collect();
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

fn drawn(generator: &mut TorchGenerator, init: &TorchInit, shape: &[usize], dtype: DType) -> Option<TorchValues> {
    fn typed<T: TorchDtype>(generator: &mut TorchGenerator, init: &TorchInit, shape: &[usize]) -> Option<TorchValues> {
        let mut values = vec![T::default(); shape.iter().product()];
        // The plan admitted only what can be drawn: an error here is a tensor torch refuses.
        init.fill(generator, shape, &mut values).ok()?;
        Some(T::values(values))
    }
    match dtype {
        DType::F32 => typed::<f32>(generator, init, shape),
        DType::F64 => typed::<f64>(generator, init, shape),
        DType::F16 => typed::<half::f16>(generator, init, shape),
        DType::BF16 => typed::<half::bf16>(generator, init, shape),
        _ => None,
    }
}
