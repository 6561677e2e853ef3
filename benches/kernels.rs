//! Criterion benchmarks of the kernels' CPU references and, when a GPU is present, of the CUDA
//! kernels themselves (timed with CUDA events through `Device::time_runs`).
//!
//! Sizes are the AIM default (LLaVA-OV-7B, 32 frames × 196 tokens, hidden 3584, 28 heads / 4 KV
//! heads of 128, 1668 tokens at the pruning layer), except the fused importance's CPU path,
//! benchmarked at n = 512: it recomputes Q·Kᵀ in each of its 6 passes, about 61 GFLOP at
//! n = 1668 (seconds per call on a CPU; the GPU is where that trade pays, docs/kernels.md).
//!
//! `cargo bench --bench kernels`; without a GPU the GPU group prints why it is skipped.

use aim_sim::kernels::gpu::{self, Device};
use aim_sim::kernels::rng::SplitMix64;
use aim_sim::kernels::{cpu, AttnShape, PAGERANK_ITERATIONS, PAGERANK_TEMPERATURE};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

const HIDDEN: usize = 3584;

fn shape(heads: usize, tokens: usize) -> AttnShape {
    AttnShape {
        heads,
        kv_heads: heads.min(4),
        tokens,
        head_dim: 128,
    }
}

fn cpu_references(c: &mut Criterion) {
    let mut rng = SplitMix64::new(1);
    let mut group = c.benchmark_group("cpu");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));

    let frames = rng.normal_vec(32 * 196 * HIDDEN);
    group.bench_function("merge_pass 32x196x3584 r=98", |b| {
        b.iter(|| cpu::merge_pass(black_box(&frames), 32, 196, HIDDEN, 98).unwrap())
    });
    group.bench_function("merge_frames 32x196x3584 ->49", |b| {
        b.iter(|| cpu::merge_frames(black_box(&frames), 32, 196, HIDDEN, 49).unwrap())
    });

    let s = shape(28, 1668);
    let q = rng.normal_vec(s.q_len());
    let k = rng.normal_vec(s.kv_len());
    let logits = cpu::causal_logits(&q, &k, &s).unwrap();
    group.bench_function("pagerank_from_logits H=28 n=1668", |b| {
        b.iter(|| {
            cpu::pagerank_from_logits(
                black_box(&logits),
                28,
                1668,
                PAGERANK_TEMPERATURE,
                PAGERANK_ITERATIONS,
            )
            .unwrap()
        })
    });

    let v = rng.normal_vec(s.kv_len());
    group.bench_function("attention_causal H=28/4 n=1668 d=128", |b| {
        b.iter(|| cpu::attention_causal(black_box(&q), &k, &v, &s).unwrap())
    });
    drop(logits);

    let s = shape(28, 512);
    let q = rng.normal_vec(s.q_len());
    let k = rng.normal_vec(s.kv_len());
    group.bench_function("pagerank_from_qk (fused) H=28/4 n=512 d=128", |b| {
        b.iter(|| {
            cpu::pagerank_from_qk(
                black_box(&q),
                &k,
                &s,
                PAGERANK_TEMPERATURE,
                PAGERANK_ITERATIONS,
            )
            .unwrap()
        })
    });

    let hidden = rng.normal_vec(1668 * HIDDEN);
    let scores = rng.normal_vec(1668);
    group.bench_function("select_and_gather n=1668 keep=1372 width=3584", |b| {
        b.iter(|| {
            cpu::select_and_gather(black_box(&hidden), HIDDEN, &scores, 50..1618, 1372).unwrap()
        })
    });
    group.finish();
}

/// Times `iters` runs of `run` with CUDA events (L2 flushed before each run).
fn gpu_time(
    dev: &Device,
    iters: u64,
    run: impl FnMut() -> Result<(), aim_sim::kernels::KernelError>,
) -> Duration {
    let times = dev
        .time_runs(run, 0, iters as usize)
        .expect("timed GPU runs");
    Duration::from_secs_f64(times.iter().sum())
}

fn gpu_kernels(c: &mut Criterion) {
    let dev = match Device::open(0) {
        Ok(dev) => dev,
        Err(e) => {
            println!("skipping GPU benchmarks: {e}");
            return;
        }
    };
    dev.load_all().expect("kernels compile and load");
    let mut rng = SplitMix64::new(2);
    let bf16 = |rng: &mut SplitMix64, len: usize| -> Vec<half::bf16> {
        (0..len)
            .map(|_| half::bf16::from_f32(rng.normal()))
            .collect()
    };
    let mut group = c.benchmark_group("gpu");

    let x = dev.upload(&bf16(&mut rng, 32 * 196 * HIDDEN)).unwrap();
    let mut merge = gpu::MergeFrames::<half::bf16>::new(&dev, 32, 196, HIDDEN, 49).unwrap();
    group.bench_function("merge 32x196x3584 ->49 bf16", |b| {
        b.iter_custom(|iters| gpu_time(&dev, iters, || merge.run(&dev, &x)))
    });

    let s = shape(28, 1668);
    let q = dev.upload(&bf16(&mut rng, s.q_len())).unwrap();
    let k = dev.upload(&bf16(&mut rng, s.kv_len())).unwrap();
    let v = dev.upload(&bf16(&mut rng, s.kv_len())).unwrap();
    let mut flash = gpu::FlashAttention::<half::bf16>::new(&dev, s).unwrap();
    group.bench_function("attention flash H=28/4 n=1668 d=128 bf16", |b| {
        b.iter_custom(|iters| gpu_time(&dev, iters, || flash.run(&dev, &q, &k, &v)))
    });
    let mut eager = gpu::EagerAttention::<half::bf16>::new(&dev, s).unwrap();
    group.bench_function("attention eager H=28/4 n=1668 d=128 bf16", |b| {
        b.iter_custom(|iters| gpu_time(&dev, iters, || eager.run(&dev, &q, &k, &v)))
    });
    let mut materialised =
        gpu::PageRankMaterialised::new(&dev, 28, 1668, PAGERANK_TEMPERATURE, PAGERANK_ITERATIONS)
            .unwrap();
    group.bench_function("importance materialised H=28 n=1668", |b| {
        b.iter_custom(|iters| gpu_time(&dev, iters, || materialised.run(&dev, &eager.logits)))
    });
    let mut fused =
        gpu::PageRankFused::<half::bf16>::new(&dev, s, PAGERANK_TEMPERATURE, PAGERANK_ITERATIONS)
            .unwrap();
    group.bench_function("importance fused H=28/4 n=1668 d=128 bf16", |b| {
        b.iter_custom(|iters| gpu_time(&dev, iters, || fused.run(&dev, &q, &k)))
    });
    let hidden = dev.upload(&bf16(&mut rng, 1668 * HIDDEN)).unwrap();
    let mut prune = gpu::Prune::<half::bf16>::new(&dev, 1668, HIDDEN, 50..1618, 1372).unwrap();
    group.bench_function("prune n=1668 keep=1372 width=3584 bf16", |b| {
        b.iter_custom(|iters| gpu_time(&dev, iters, || prune.run(&dev, &hidden, fused.score())))
    });
    group.finish();
}

criterion_group!(benches, cpu_references, gpu_kernels);
criterion_main!(benches);
