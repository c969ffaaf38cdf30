//! Criterion benchmarks of the safetensors writer in memory: GPT-2 small (examples/gpt2.yaml,
//! 124M parameters) generated and written a chunk at a time into `io::sink()`, in f32 and bf16,
//! and as 200 MB shards. Disk speed is left out: BENCHMARKS.md times whole processes for that.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use initc::plan::{DType, Plan};
use initc::resolve::Overrides;
use initc::source::SourceFile;
use std::hint::black_box;

fn gpt2_plan() -> Plan {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/gpt2.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let overrides = Overrides::default();
    match initc::compile_plan(&SourceFile::new("gpt2.yaml", text), &overrides) {
        (Some(plan), _) => plan,
        (None, diagnostics) => panic!("examples/gpt2.yaml does not compile: {diagnostics:?}"),
    }
}

fn writer(c: &mut Criterion) {
    let mut group = c.benchmark_group("write_gpt2");
    group.sample_size(10);
    for dtype in [DType::F32, DType::BF16] {
        let mut plan = gpt2_plan();
        plan.set_dtype(dtype);
        let all: Vec<usize> = (0..plan.tensors.len()).collect();
        group.throughput(Throughput::Bytes(initc::emit::output_size(&plan, &all).map_or(0, |size| size.total())));
        group.bench_with_input(BenchmarkId::new("single", dtype.safetensors_name()), &plan, |b, plan| {
            b.iter(|| initc::emit::write_safetensors(plan, &mut black_box(std::io::sink())))
        });
        if dtype == DType::F32 {
            let layout = initc::emit::shard_layout(&plan, 200_000_000).expect("layout");
            group.bench_with_input(BenchmarkId::new("shards_200MB", dtype.safetensors_name()), &plan, |b, plan| {
                b.iter(|| {
                    for shard in &layout.shards {
                        let _ =
                            initc::emit::write_shard(plan, None, shard, &mut black_box(std::io::sink()), &mut |_| {});
                    }
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, writer);
criterion_main!(benches);
