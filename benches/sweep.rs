//! Sweep throughput: configurations priced per second (`cargo bench --bench sweep`).
//! 1,000 frame counts × 10 schedules = 10,000 configurations on LLaVA-OV-7B / A100, in each
//! cost model; criterion reports the throughput in elements (configurations) per second.

use aim_sim::spec::Spec;
use aim_sim::sweep::{self, Axes, Grid, GridSpec};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const SCHEDULES: &str =
    "none,linear,fastv,pdrop,vtw,sparsevlm-192,aim-late,aim-aggressive,fastvid,merge-only";

fn grid(cost_model: &str, frames: &str) -> Grid {
    let spec = GridSpec {
        base: Spec::from_flags(&["--cost-model", cost_model]).expect("valid flags"),
        axes: Axes {
            frames: Some(frames.into()),
            schedule: Some(SCHEDULES.into()),
            ..Axes::default()
        },
    };
    Grid::new(&spec).expect("valid grid")
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweep");
    for (name, cost_model, frames) in [
        ("llm-viewer/10k_configs", "llm-viewer", "1:1000"),
        ("llm-viewer/1k_configs", "llm-viewer", "1:100"),
        ("refined/10k_configs", "refined", "1:1000"),
    ] {
        let g = grid(cost_model, frames);
        group.throughput(Throughput::Elements(g.len() as u64));
        group.sample_size(20);
        group.bench_function(name, |b| {
            b.iter(|| black_box(sweep::run(&g, |_| {}).expect("sweep runs")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
