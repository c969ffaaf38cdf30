//! Criterion benchmarks of what `inspect` and `diff` compute, on tensors held in memory: the
//! statistics of 2^26 elements in each float dtype (one pass; 8- and 16-bit dtypes count bit
//! patterns, which also gives their histogram), the histogram pass of the wider ones, and the
//! comparison of two equal-shaped tensors that differ. Reading the file is left out:
//! BENCHMARKS.md times whole processes for that (`benches/inspect_speed.sh`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use initc::inspect::{Comparator, Tolerance, histogram, statistics};
use safetensors::Dtype;
use std::hint::black_box;

const ELEMENTS: usize = 1 << 26;

/// `ELEMENTS` normal-looking values (a sum of four uniforms, σ ≈ 0.02) as `dtype` bytes.
fn tensor(dtype: Dtype, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut bytes = Vec::with_capacity(ELEMENTS * 8);
    for _ in 0..ELEMENTS {
        let value = (uniform() + uniform() + uniform() + uniform() - 2.0) * 0.035;
        match dtype {
            Dtype::F64 => bytes.extend_from_slice(&value.to_le_bytes()),
            Dtype::F32 => bytes.extend_from_slice(&(value as f32).to_le_bytes()),
            Dtype::F16 => bytes.extend_from_slice(&half::f16::from_f64(value).to_le_bytes()),
            _ => bytes.extend_from_slice(&half::bf16::from_f64(value).to_le_bytes()),
        }
    }
    bytes
}

fn inspect(c: &mut Criterion) {
    let mut group = c.benchmark_group("inspect");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ELEMENTS as u64));
    for dtype in [Dtype::BF16, Dtype::F16, Dtype::F32, Dtype::F64] {
        let bytes = tensor(dtype, 1);
        let name = format!("{dtype:?}");
        group.bench_with_input(BenchmarkId::new("statistics", &name), &bytes, |b, bytes| {
            b.iter(|| statistics(dtype, black_box(bytes)))
        });
        if matches!(dtype, Dtype::F32 | Dtype::F64) {
            let stats = statistics(dtype, &bytes).expect("a float dtype");
            group.bench_with_input(BenchmarkId::new("histogram_pass", &name), &bytes, |b, bytes| {
                b.iter(|| histogram(dtype, black_box(bytes), &stats, 20))
            });
        }
        let other = tensor(dtype, 2);
        let shape = [ELEMENTS];
        let shape = &shape[..];
        group.bench_with_input(BenchmarkId::new("diff", &name), &(&bytes, &other), |b, (left, right)| {
            b.iter(|| {
                let Ok(mut comparator) =
                    Comparator::start((dtype, shape), (dtype, shape), Tolerance { absolute: 1e-6, relative: 1e-5 })
                else {
                    return;
                };
                comparator.feed(black_box(left), black_box(right));
                black_box(comparator.finish());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, inspect);
criterion_main!(benches);
