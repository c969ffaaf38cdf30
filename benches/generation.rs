//! Criterion benchmarks of generation in memory: one tensor's bytes per initializer family and
//! dtype, through `init::TensorData::fill_bytes` (parallel over the rayon pool), and orthogonal.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use initc::init::TensorData;
use initc::initializers::{
    Distribution, FanMode, Fans, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
};
use initc::plan::{DType, Initializer, TensorSpec};
use initc::source::Span;
use std::hint::black_box;

/// 2^26 = 67,108,864 values, the size `peers.py gen normal 67108864` fills.
const ELEMENTS: usize = 1 << 26;

fn spec(shape: &[usize], initializer: Initializer, dtype: DType) -> TensorSpec {
    TensorSpec {
        name: "bench.kernel".to_string(),
        shape: shape.to_vec(),
        dtype,
        initializer,
        initializer_label: "".into(),
        fans: Fans::of_shape(shape),
        trainable: true,
        fill: None,
        layout: None,
        counted: true,
        origin: Span::new(0, 0),
    }
}

fn families() -> Vec<(&'static str, Initializer)> {
    vec![
        ("normal", Initializer::RandomNormal(RandomNormal { mean: 0.0, stddev: 1.0, seed: None })),
        ("uniform", Initializer::RandomUniform(RandomUniform { minval: -1.0, maxval: 1.0, seed: None })),
        ("truncated_normal", Initializer::TruncatedNormal(TruncatedNormal { mean: 0.0, stddev: 0.02, seed: None })),
        (
            "glorot_uniform",
            Initializer::VarianceScaling(VarianceScaling {
                scale: 1.0,
                mode: FanMode::FanAvg,
                distribution: Distribution::Uniform,
                seed: None,
            }),
        ),
        ("zeros", Initializer::Zeros),
    ]
}

fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ELEMENTS as u64));
    for (name, initializer) in families() {
        for dtype in [DType::F32, DType::BF16] {
            if dtype == DType::BF16 && name != "normal" {
                continue;
            }
            let spec = spec(&[ELEMENTS / 4096, 4096], initializer.clone(), dtype);
            let mut bytes = vec![0u8; ELEMENTS * dtype.size_bytes()];
            group.bench_with_input(BenchmarkId::new(name, dtype.safetensors_name()), &spec, |b, spec| {
                b.iter(|| {
                    let data = TensorData::new(spec, 42).expect("memory");
                    data.fill_bytes(0, black_box(&mut bytes));
                })
            });
        }
    }
    group.finish();
}

fn orthogonal(c: &mut Criterion) {
    let mut group = c.benchmark_group("orthogonal");
    group.sample_size(10);
    for n in [512usize, 1024, 4096] {
        let spec = spec(&[n, n], Initializer::Orthogonal(Orthogonal { gain: 1.0, seed: None }), DType::F32);
        group.bench_with_input(BenchmarkId::from_parameter(n), &spec, |b, spec| {
            b.iter(|| black_box(TensorData::new(spec, 42).expect("memory").len()))
        });
    }
    group.finish();
}

/// `rng: torch`'s `normal_` stream: an `nn.Embedding(16384, 4096)`, whose constructor is
/// exactly `weight.normal_()` on 2^26 f32 values (the peer's `x.normal_()`), placed in the stream
/// and made into memory as `compile` and the Python package make it.
fn torch_normal(c: &mut Criterion) {
    let config =
        "name: torch_normal\nrng: torch\ninput: [8]\nlayers:\n  - embedding: {input_dim: 16384, output_dim: 4096}\n";
    let file = initc::source::SourceFile::new("torch_normal.yaml".to_string(), config.to_string());
    let overrides = initc::resolve::Overrides { layout: initc::tensor::Layout::Torch, ..Default::default() };
    let (plan, diagnostics) = initc::compile_plan(&file, &overrides);
    let plan = plan.unwrap_or_else(|| panic!("the bench config compiles: {diagnostics:?}"));
    assert_eq!(plan.tensors[0].element_count(), ELEMENTS);
    let mut bytes = vec![0u8; ELEMENTS * 4];
    let mut group = c.benchmark_group("torch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ELEMENTS as u64));
    group.bench_function("normal_/F32", |b| {
        b.iter(|| {
            let torch = initc::init::TorchTensors::draw(&plan).expect("rng: torch");
            assert!(torch.fill_bytes(0, 0, black_box(&mut bytes)));
        })
    });
    group.bench_function("mt19937_skip", |b| {
        b.iter(|| {
            let mut engine = initc::random::torch::Mt19937::new(0);
            engine.skip(black_box(ELEMENTS as u64));
            black_box(engine.position())
        })
    });
    group.finish();
}

criterion_group!(benches, generation, orthogonal, torch_normal);
criterion_main!(benches);
