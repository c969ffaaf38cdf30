//! `rng: torch`: every draw torch makes, from one MT19937 stream in torch's order (the plan's
//! `torch_steps`: each module's constructor in model order, then the config's own initializers,
//! or a template's replay). Most calls are a `uniform_` or `normal_` whose every element comes
//! from fixed words of the stream ([`Call`]): for those, one pass moves an engine along the
//! stream without tempering a word, placing each call and keeping copies of the engine (2.5 KB
//! each) on a grid inside the calls that give a tensor its values; the values are then made
//! window by window, in parallel, from the nearest copy, when the writer asks for them. A draw
//! that is discarded costs only the pass. What depends on the values (`trunc_normal_`'s
//! redraws, a small `normal_`'s cached pair) is drawn in the pass itself and held whole.
//! A tensor no step fills (fixed values) is left to `TensorData`.

use crate::plan::torch_rng::TorchStep;
use crate::plan::{DType, Plan, TensorSpec};
use crate::random::torch::half::{TorchHalf, round_into};
use crate::random::torch::{Call, Mt19937, TorchDtype, TorchFloat, TorchGenerator, TorchInit, TorchValues};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::Mutex;

/// Copies of the engine are kept every this many words inside a call that gives values, or
/// every power-of-two multiple of it that keeps their count under `MAX_SNAPSHOTS`.
const SNAPSHOT_WORDS: u64 = 1 << 17;
const MAX_SNAPSHOTS: u64 = 1 << 14;
/// Bytes of one copy of the engine.
const SNAPSHOT_BYTES: u64 = std::mem::size_of::<Mt19937>() as u64;
/// Copies of the engine where recent windows ended, where the next window most likely starts.
const CURSORS: usize = 4;

/// The drawn tensors of a plan under `rng: torch`, by plan index.
pub struct TorchTensors {
    tensors: Vec<Option<Drawn>>,
    /// Engines at chosen stream positions, in stream order.
    snapshots: Vec<Mt19937>,
    /// Engines where recent windows ended.
    cursors: Mutex<Vec<Mt19937>>,
    /// Words between snapshots inside a call.
    spacing: u64,
    seed: u64,
}

/// How a tensor's values are made.
enum Drawn {
    /// The call that gives its values, starting `start` words into the stream, then the
    /// config's fill (a `padding_idx` row).
    /// Its `len` elements are elements `offset..` of the call (a slice of a fused call).
    Call { start: u64, call: Call, offset: usize, len: usize, dtype: DType, fill: Option<(Range<usize>, f64)> },
    /// Drawn whole in the pass: little-endian bytes, `size` per element.
    Bytes { bytes: Vec<u8>, size: usize },
}

/// The windowed call a step is (or is a slice of), when it is one.
fn step_call(step: &TorchStep) -> Option<Call> {
    let call = windowed(&step.init, &step.shape, step.dtype)?;
    Some(Call { len: step.part.map_or(call.len, |part| part.call_len), ..call }).filter(Call::is_windowed)
}

/// The words of the windowed calls that give values, each counted once.
fn giving_words(plan: &Plan, calls: &[Option<Call>], giving: &[bool]) -> u64 {
    let steps = plan.torch_steps.iter().zip(calls).zip(giving);
    steps.fold(0u64, |sum, ((step, call), gives)| {
        let first_part = step.part.is_none_or(|part| part.offset == 0);
        let words = call.filter(|_| *gives && first_part).map_or(0, |call| call.words(words_per_value(step.dtype)));
        sum.saturating_add(words)
    })
}

/// One draw as a windowed call, when it is one.
fn windowed(init: &TorchInit, shape: &[usize], dtype: DType) -> Option<Call> {
    if !matches!(dtype, DType::F32 | DType::F64 | DType::F16 | DType::BF16) {
        return None;
    }
    let kernel = init.kernel(shape).ok()??;
    // Half and BFloat16 compute in f32 and round each value.
    let whole_chunks = matches!(dtype, DType::F16 | DType::BF16);
    Some(Call { kernel, len: shape.iter().product(), whole_chunks }).filter(Call::is_windowed)
}

fn words_per_value(dtype: DType) -> u64 {
    if dtype == DType::F64 { <f64 as TorchFloat>::WORDS } else { <f32 as TorchFloat>::WORDS }
}

/// For each step, whether it gives its tensor's values (the last step of each tensor).
fn giving_steps(plan: &Plan) -> Vec<bool> {
    let mut last = vec![None; plan.tensors.len()];
    for (position, step) in plan.torch_steps.iter().enumerate() {
        if let Some(slot) = step.tensor.and_then(|index| last.get_mut(index)) {
            *slot = Some(position);
        }
    }
    let mut giving = vec![false; plan.torch_steps.len()];
    for position in last.into_iter().flatten() {
        giving[position] = true;
    }
    giving
}

/// The words between snapshots for a plan whose value-giving calls draw `words` words.
fn spacing(words: u64) -> u64 {
    let mut spacing = SNAPSHOT_WORDS;
    while words / spacing > MAX_SNAPSHOTS {
        spacing *= 2;
    }
    spacing
}

/// The memory `TorchTensors::draw` holds for `plan`: what it draws whole (twice for
/// `trunc_normal_`'s redraws) and its copies of the engine. A pure function of the plan.
pub fn held_bytes(plan: &Plan) -> u64 {
    if plan.rng != crate::tensor::Rng::Torch {
        return 0;
    }
    let giving = giving_steps(plan);
    let calls: Vec<Option<Call>> = plan.torch_steps.iter().map(step_call).collect();
    let windowed_words = giving_words(plan, &calls, &giving);
    let (mut whole, mut windowed_calls) = (0u64, 0u64);
    for ((step, call), &gives) in plan.torch_steps.iter().zip(&calls).zip(&giving) {
        if !gives {
            continue;
        }
        let bytes = (step.shape.iter().product::<usize>() as u64).saturating_mul(step.dtype.size_bytes() as u64);
        match call {
            Some(_) => windowed_calls += 1,
            None if matches!(step.init, TorchInit::TruncNormal { .. }) => whole = whole.saturating_add(bytes * 2),
            None => whole = whole.saturating_add(bytes),
        }
    }
    let grid = windowed_words / spacing(windowed_words);
    let snapshots = grid.saturating_add(windowed_calls).saturating_add(CURSORS as u64);
    whole.saturating_add(snapshots.saturating_mul(SNAPSHOT_BYTES))
}

impl TorchTensors {
    /// Places every draw of the plan in the stream (drawing only what depends on values);
    /// `None` under `rng: philox`.
    pub fn draw(plan: &Plan) -> Option<TorchTensors> {
        if plan.rng != crate::tensor::Rng::Torch {
            return None;
        }
        let giving = giving_steps(plan);
        let calls: Vec<Option<Call>> = plan.torch_steps.iter().map(step_call).collect();
        let spacing = spacing(giving_words(plan, &calls, &giving));
        let mut pass =
            Pass { generator: TorchGenerator::manual_seed(plan.seed), wanted: Vec::new(), taken: Vec::new() };
        let mut tensors: Vec<Option<Drawn>> = (0..plan.tensors.len()).map(|_| None).collect();
        // Words the steps so far draw: where the next call starts; and the current call's start.
        let (mut position, mut call_start) = (0u64, 0u64);
        // The call whose snapshot grid is wanted, and a call drawn whole that parts slice.
        let mut grid_for = None;
        let mut whole: Option<TorchValues> = None;
        for ((step, call), &gives) in plan.torch_steps.iter().zip(&calls).zip(&giving) {
            let spec = step.tensor.and_then(|index| plan.tensors.get(index)).filter(|_| gives);
            let fill = spec.and_then(|spec| fill_of(spec, step.fill));
            let len: usize = step.shape.iter().product();
            let offset = step.part.map_or(0, |part| part.offset);
            let ends_call = step.part.is_none_or(|part| offset + len >= part.call_len);
            if offset == 0 {
                call_start = position;
            }
            match call {
                Some(call) => {
                    let words = call.words(words_per_value(step.dtype));
                    if let (Some(index), Some(_)) = (step.tensor, spec) {
                        if grid_for != Some(call_start) {
                            pass.wanted.extend((0..words.div_ceil(spacing)).map(|cell| call_start + cell * spacing));
                            grid_for = Some(call_start);
                        }
                        let dtype = step.dtype;
                        tensors[index] = Some(Drawn::Call { start: call_start, call: *call, offset, len, dtype, fill });
                    }
                    if ends_call {
                        position = call_start + words;
                    }
                }
                None => {
                    if offset == 0 {
                        pass.advance_to(position);
                        let shape = step.part.map_or_else(|| step.shape.clone(), |part| vec![part.call_len]);
                        whole = drawn(&mut pass.generator, &step.init, &shape, step.dtype);
                        position = pass.generator.engine().position();
                    }
                    let values = whole.as_ref().map(|values| values.slice(offset..offset + len));
                    if let (Some(index), Some(mut values)) = (step.tensor.filter(|_| spec.is_some()), values) {
                        if let Some((range, value)) = fill {
                            values.fill(range, value);
                        }
                        tensors[index] =
                            Some(Drawn::Bytes { bytes: values.to_le_bytes(), size: step.dtype.size_bytes() });
                    }
                }
            }
        }
        pass.advance_to(position);
        Some(TorchTensors { tensors, snapshots: pass.taken, cursors: Mutex::new(Vec::new()), spacing, seed: plan.seed })
    }

    /// Whether the tensor `index` is drawn from torch's stream (else its values are fixed).
    pub fn contains(&self, index: usize) -> bool {
        matches!(self.tensors.get(index), Some(Some(_)))
    }

    /// Elements `first..first + out.len() / size` of tensor `index` as little-endian bytes of its
    /// dtype, parallel inside; `false` (and `out` untouched) for a tensor not drawn from the stream.
    pub fn fill_bytes(&self, index: usize, first: usize, out: &mut [u8]) -> bool {
        match self.tensors.get(index) {
            Some(Some(Drawn::Bytes { bytes, size })) => {
                let start = first.saturating_mul(*size).min(bytes.len());
                let end = start.saturating_add(out.len()).min(bytes.len());
                out[..end - start].copy_from_slice(&bytes[start..end]);
                true
            }
            Some(Some(Drawn::Call { start, call, offset, len, dtype, fill })) => {
                let count = (out.len() / dtype.size_bytes()).min(len.saturating_sub(first));
                let (out, first) = (&mut out[..count * dtype.size_bytes()], offset + first);
                match dtype {
                    DType::F64 => self.fill_call::<f64, 8>(*start, call, first, out),
                    DType::F16 => self.fill_call::<half::f16, 2>(*start, call, first, out),
                    DType::BF16 => self.fill_call::<half::bf16, 2>(*start, call, first, out),
                    _ => self.fill_call::<f32, 4>(*start, call, first, out),
                }
                let first = first - offset;
                if let Some((range, value)) = fill {
                    fill_range(*dtype, range, *value, first, out);
                }
                true
            }
            _ => false,
        }
    }

    /// The elements `first..` of `call` (whose first word is `start`) into `out`, in pieces that
    /// begin on the snapshot grid, each from the nearest engine.
    fn fill_call<T: Windowed<N>, const N: usize>(&self, start: u64, call: &Call, first: usize, out: &mut [u8]) {
        let count = (out.len() / N).min(call.len.saturating_sub(first));
        let words = T::WORDS;
        // Elements per grid cell: a multiple of 16, so that pieces start on 16-chunks.
        let cell = (self.spacing / words) as usize;
        let mut pieces = Vec::new();
        let mut piece_first = first;
        while piece_first < first + count {
            let next = ((piece_first / cell + 1) * cell).min(first + count);
            pieces.push(piece_first..next);
            piece_first = next;
        }
        let mut slices = Vec::with_capacity(pieces.len());
        let mut rest = &mut out[..count * N];
        for piece in &pieces {
            let (now, later) = rest.split_at_mut(piece.len() * N);
            slices.push(now);
            rest = later;
        }
        pieces.into_par_iter().zip(slices).for_each(|(piece, bytes)| {
            let mut engine = self.engine_at(start + call.start_word(piece.start, words));
            T::fill_window(call, &mut engine, piece.start, bytes);
            self.keep_cursor(engine);
        });
    }

    /// An engine at stream position `word`: the nearest snapshot or cursor before it, moved on.
    fn engine_at(&self, word: u64) -> Mt19937 {
        let after = self.snapshots.partition_point(|engine| engine.position() <= word);
        let snapshot = after.checked_sub(1).and_then(|index| self.snapshots.get(index));
        let cursors = self.cursors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let cursor = cursors.iter().filter(|engine| engine.position() <= word).max_by_key(|engine| engine.position());
        let nearest = match (snapshot, cursor) {
            (Some(snapshot), Some(cursor)) if cursor.position() > snapshot.position() => Some(cursor),
            (Some(snapshot), _) => Some(snapshot),
            (None, cursor) => cursor,
        };
        let mut engine = nearest.cloned().unwrap_or_else(|| Mt19937::new(self.seed));
        drop(cursors);
        engine.skip(word - engine.position().min(word));
        engine
    }

    fn keep_cursor(&self, engine: Mt19937) {
        let mut cursors = self.cursors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cursors.len() == CURSORS {
            cursors.remove(0);
        }
        cursors.push(engine);
    }
}

/// The pass along the stream: the generator, and the snapshots wanted and taken.
struct Pass {
    generator: TorchGenerator,
    /// Stream positions to keep a copy of the engine at, ascending.
    wanted: Vec<u64>,
    taken: Vec<Mt19937>,
}

impl Pass {
    /// Moves the generator on to `position`, copying the engine at each wanted position on the way.
    fn advance_to(&mut self, position: u64) {
        let engine = self.generator.engine();
        for &wanted in &self.wanted {
            engine.skip(wanted.saturating_sub(engine.position()));
            self.taken.push(engine.clone());
        }
        self.wanted.clear();
        engine.skip(position - engine.position().min(position));
    }
}

/// The config's fill of `spec` after a step, when the step applies it.
fn fill_of(spec: &TensorSpec, applies: bool) -> Option<(Range<usize>, f64)> {
    spec.fill.as_ref().filter(|_| applies).map(|fill| (fill.range.clone(), fill.value))
}

/// Sets the elements of `range` inside the window `first..` of `out` to `value`.
fn fill_range(dtype: DType, range: &Range<usize>, value: f64, first: usize, out: &mut [u8]) {
    let size = dtype.size_bytes();
    let count = out.len() / size;
    let (start, end) = (range.start.max(first), range.end.min(first + count));
    if start >= end {
        return;
    }
    let encoded: Vec<u8> = match dtype {
        DType::F64 => value.to_le_bytes().to_vec(),
        DType::F16 => half::f16::from_f32(value as f32).to_le_bytes().to_vec(),
        DType::BF16 => half::bf16::from_f32(value as f32).to_le_bytes().to_vec(),
        _ => (value as f32).to_le_bytes().to_vec(),
    };
    for slot in out[(start - first) * size..(end - first) * size].chunks_exact_mut(size) {
        slot.copy_from_slice(&encoded);
    }
}

/// A dtype a windowed call is made into, `N` bytes per value.
trait Windowed<const N: usize> {
    /// Words of the stream per uniform.
    const WORDS: u64;
    /// Elements `first..` of `call` as little-endian bytes, `engine` at `first`'s start word.
    fn fill_window(call: &Call, engine: &mut Mt19937, first: usize, out: &mut [u8]);
}

/// f32 and f64: made in place where `out` is aligned (every bit pattern is a value), else made
/// and then encoded.
fn fill_float<T: TorchFloat, const N: usize>(
    call: &Call,
    engine: &mut Mt19937,
    first: usize,
    out: &mut [u8],
    encode: impl Fn(T) -> [u8; N],
) {
    // SAFETY: every bit pattern is an f32 or f64; only an aligned, whole middle is used.
    let (head, values, tail) = unsafe { out.align_to_mut::<T>() };
    if cfg!(target_endian = "little") && head.is_empty() && tail.is_empty() {
        call.fill(engine, first, values);
        return;
    }
    let mut values = vec![T::default(); out.len() / N];
    call.fill(engine, first, &mut values);
    for (slot, value) in out.as_chunks_mut::<N>().0.iter_mut().zip(values) {
        *slot = encode(value);
    }
}

impl Windowed<4> for f32 {
    const WORDS: u64 = <f32 as TorchFloat>::WORDS;

    fn fill_window(call: &Call, engine: &mut Mt19937, first: usize, out: &mut [u8]) {
        fill_float::<f32, 4>(call, engine, first, out, f32::to_le_bytes);
    }
}

impl Windowed<8> for f64 {
    const WORDS: u64 = <f64 as TorchFloat>::WORDS;

    fn fill_window(call: &Call, engine: &mut Mt19937, first: usize, out: &mut [u8]) {
        fill_float::<f64, 8>(call, engine, first, out, f64::to_le_bytes);
    }
}

/// Half and BFloat16: made in f32, then rounded.
fn fill_half<H: TorchHalf>(
    call: &Call,
    engine: &mut Mt19937,
    first: usize,
    out: &mut [u8],
    encode: impl Fn(H) -> [u8; 2],
) {
    let count = out.len() / 2;
    let mut drawn = vec![0.0f32; count];
    call.fill(engine, first, &mut drawn);
    let mut values = vec![H::default(); count];
    round_into(&call.kernel, &drawn, &mut values);
    for (slot, value) in out.as_chunks_mut::<2>().0.iter_mut().zip(values) {
        *slot = encode(value);
    }
}

impl Windowed<2> for half::f16 {
    const WORDS: u64 = <f32 as TorchFloat>::WORDS;

    fn fill_window(call: &Call, engine: &mut Mt19937, first: usize, out: &mut [u8]) {
        fill_half::<half::f16>(call, engine, first, out, half::f16::to_le_bytes);
    }
}

impl Windowed<2> for half::bf16 {
    const WORDS: u64 = <f32 as TorchFloat>::WORDS;

    fn fill_window(call: &Call, engine: &mut Mt19937, first: usize, out: &mut [u8]) {
        fill_half::<half::bf16>(call, engine, first, out, half::bf16::to_le_bytes);
    }
}

/// A step drawn in full from `generator` (its values depend on what it draws).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    /// A plan under `rng: torch` with discarded module defaults, windowed calls spanning several
    /// snapshot cells, `trunc_normal_`, small `normal_`s (the generator's cached pair) and a
    /// fixed tensor.
    fn plan(dtype: crate::tensor::DType) -> Plan {
        let config = "name: windows\nrng: torch\ninput: [700]\nlayers:\n\
            - dense: {units: 513, kernel_initializer: glorot_uniform}\n\
            - dense: {units: 7, bias_initializer: \"random_normal(stddev=0.5)\"}\n\
            - dense: {units: 600, kernel_initializer: \"random_normal(stddev=0.02)\"}\n\
            - dense: {units: 5, kernel_initializer: truncated_normal, bias_initializer: \"random_normal(stddev=2.0)\"}\n\
            - dense: {units: 401, kernel_initializer: he_normal, bias_initializer: ones}\n";
        let file = SourceFile::new("windows.yaml".to_string(), config.to_string());
        let overrides = crate::resolve::Overrides { layout: crate::tensor::Layout::Torch, dtype, ..Default::default() };
        let (plan, diagnostics) = crate::compile_plan(&file, &overrides);
        assert!(plan.is_some(), "{diagnostics:?}");
        plan.unwrap_or_else(|| unreachable!())
    }

    /// Every step drawn in order from one generator, as torch runs them: the reference.
    fn sequential(plan: &Plan) -> Vec<Option<Vec<u8>>> {
        let mut generator = TorchGenerator::manual_seed(plan.seed);
        let mut bytes = vec![None; plan.tensors.len()];
        let mut whole = None;
        for step in &plan.torch_steps {
            // A fused call is drawn whole at its first slice.
            let offset = step.part.map_or(0, |part| part.offset);
            if offset == 0 {
                let shape = step.part.map_or_else(|| step.shape.clone(), |part| vec![part.call_len]);
                whole = drawn(&mut generator, &step.init, &shape, step.dtype);
            }
            let len: usize = step.shape.iter().product();
            let values = whole.as_ref().map(|values| values.slice(offset..offset + len));
            if let (Some(index), Some(mut values)) = (step.tensor, values) {
                if let Some((range, value)) = fill_of(&plan.tensors[index], step.fill) {
                    values.fill(range, value);
                }
                bytes[index] = Some(values.to_le_bytes());
            }
        }
        bytes
    }

    #[test]
    fn any_window_of_any_tensor_equals_drawing_every_step_in_order() {
        for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
            let plan = plan(dtype);
            let reference = sequential(&plan);
            let torch = TorchTensors::draw(&plan).unwrap_or_else(|| unreachable!());
            assert!(reference.iter().filter(|bytes| bytes.is_some()).count() >= 8);
            for (index, expected) in reference.iter().enumerate() {
                assert_eq!(torch.contains(index), expected.is_some(), "{}", plan.tensors[index].name);
                let Some(expected) = expected else { continue };
                let size = plan.tensors[index].dtype.size_bytes();
                let len = expected.len() / size;
                let mut whole = vec![0u8; expected.len()];
                assert!(torch.fill_bytes(index, 0, &mut whole));
                assert!(whole == *expected, "{} whole", plan.tensors[index].name);
                // Windows in an order a writer would not use, across cell edges and the tail.
                let edges = [len / 2, 1, len.saturating_sub(20), 131_072, 131_055, 65_536, 0, len - 1];
                for first in edges.into_iter().filter(|&first| first < len) {
                    for count in [1, 17, 1000, 140_000] {
                        let count = count.min(len - first);
                        let mut window = vec![0u8; count * size];
                        torch.fill_bytes(index, first, &mut window);
                        let expected = &expected[first * size..(first + count) * size];
                        assert!(window == expected, "{} {first}+{count}", plan.tensors[index].name);
                    }
                }
            }
        }
    }

    #[test]
    fn what_is_held_is_what_is_drawn_whole_and_the_copies() {
        let plan = plan(crate::tensor::DType::F32);
        let torch = TorchTensors::draw(&plan).unwrap_or_else(|| unreachable!());
        let whole: u64 = torch
            .tensors
            .iter()
            .flatten()
            .map(|drawn| match drawn {
                Drawn::Bytes { bytes, .. } => bytes.len() as u64,
                Drawn::Call { .. } => 0,
            })
            .sum();
        let held = held_bytes(&plan);
        assert!(held >= whole + torch.snapshots.len() as u64 * SNAPSHOT_BYTES, "{held}");
        assert!(held <= 2 * whole + (torch.snapshots.len() as u64 + 32) * SNAPSHOT_BYTES, "{held}");
    }
}
