//! Sweep throughput: configurations priced per second (`cargo bench --bench sweep`).
//!
//! - `write-csv`: the default sweep columns streamed as CSV (what `aim-sim sweep --format csv`
//!   does: pricing, formatting on the workers, writing in order) to `io::sink`, on every core
//!   and on one;
//! - `refined-hf/write-csv/10k`: the same under the fitted `hf` profile, whose rows carry
//!   their 80 % intervals;
//! - `rows`: the rows collected ([`sweep::run`], what plots use);
//! - the mixed grid of earlier figures: 1,000 frame counts × 10 schedules.
//!
//! Criterion reports the throughput in elements (configurations) per second. Target (issue
//! 13): `refined/write-csv/10k` at 200,000 or more on 2 cores (235,000 measured on the
//! 2-core VM, README "Speed"). Issue 25 asks 600,000: 517,000 measured on 2 cores at a load
//! average of 6 (445,000 on one job; before its second pass 287,000 and 327,000 in the same
//! session), 2026-12-05, README "Speed"; not shown on an idle machine.

use aim_sim::report::TextFormat;
use aim_sim::spec::Spec;
use aim_sim::sweep::{self, Axes, Grid, GridSpec, Sweep};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;

const SCHEDULES: &str =
    "none,linear,fastv,pdrop,vtw,sparsevlm-192,aim-late,aim-aggressive,fastvid,merge-only";

fn grid(cost_model: &str, axes: Axes) -> Grid {
    grid_with(&["--cost-model", cost_model], axes)
}

fn grid_with(flags: &[&str], axes: Axes) -> Grid {
    let spec = GridSpec {
        base: Spec::from_flags(flags).expect("valid flags"),
        axes,
    };
    Grid::new(&spec).expect("valid grid")
}

/// `--frames 1:1000 --text-tokens 100:109 --schedule linear`: 10,000 configurations, the
/// shape of the README's 100,000-configuration command.
fn frames_by_text(cost_model: &str) -> Grid {
    frames_by_text_with(&["--cost-model", cost_model])
}

fn frames_by_text_with(flags: &[&str]) -> Grid {
    grid_with(
        flags,
        Axes {
            frames: Some("1:1000".into()),
            text_tokens: Some("100:109".into()),
            schedule: Some("linear".into()),
            ..Axes::default()
        },
    )
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    let all_cores = sweep::default_jobs();
    // A fitted profile adds three 80 % intervals per row (Student's t: computed once per
    // degrees of freedom, not per row, which once made this 5× slower than without them).
    let hf: &[&str] = &["--framework", "hf", "--gpu", "a100-80g"];
    for (name, flags, jobs) in [
        (
            "refined/write-csv/10k",
            &["--cost-model", "refined"][..],
            all_cores,
        ),
        (
            "refined/write-csv/10k/1-job",
            &["--cost-model", "refined"][..],
            1,
        ),
        (
            "llm-viewer/write-csv/10k",
            &["--cost-model", "llm-viewer"][..],
            all_cores,
        ),
        ("refined-hf/write-csv/10k", hf, all_cores),
    ] {
        let g = frames_by_text_with(flags);
        let s = Sweep::prepare(&g).expect("valid sweep");
        group.throughput(Throughput::Elements(g.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                s.write(
                    TextFormat::Csv,
                    jobs,
                    &mut std::io::sink(),
                    Path::new("sink"),
                    |_| {},
                )
                .expect("sweep runs")
            })
        });
    }
    {
        let g = frames_by_text("refined");
        group.throughput(Throughput::Elements(g.len() as u64));
        group.bench_function("refined/rows/10k", |b| {
            b.iter(|| black_box(sweep::run(&g, |_| {}).expect("sweep runs")))
        });
    }
    for (name, cost_model, frames) in [
        ("llm-viewer/10k_configs", "llm-viewer", "1:1000"),
        ("llm-viewer/1k_configs", "llm-viewer", "1:100"),
        ("refined/10k_configs", "refined", "1:1000"),
    ] {
        let g = grid(
            cost_model,
            Axes {
                frames: Some(frames.into()),
                schedule: Some(SCHEDULES.into()),
                ..Axes::default()
            },
        );
        group.throughput(Throughput::Elements(g.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(sweep::run(&g, |_| {}).expect("sweep runs")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
