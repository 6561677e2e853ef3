//! Criterion benchmarks of the framework fit (issue 24 item 7: `fit` and cross-validation are
//! quadratic in rows; 504 rows took 108 s). One full fit of the `hf` rows of the shipped data
//! set (13 rows, 12 deterministic starts) and its leave-one-source-out (3 source groups).
//!
//! Target: a full `aim-sim fit reference/measurements.toml` (95 rows, with leave-one-row-out
//! and leave-one-source-out) in under 10 s in a release build. `cargo bench --bench fit`.

use aim_sim::check::{fit, Measurements, MEASUREMENTS_TOML};
use aim_sim::framework::Framework;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn fits(c: &mut Criterion) {
    let m = Measurements::parse(MEASUREMENTS_TOML, "reference", "reference".into())
        .expect("the shipped data set parses");
    let base = Framework::load("hf").expect("the hf profile");
    let rows = fit::record(&m, "hf", &base).expect("hf rows record");
    let mut g = c.benchmark_group("fit");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("hf 13 rows, full fit", |b| {
        b.iter(|| fit::fit_rows(black_box(&rows), &base).expect("fits"))
    });
    g.bench_function("hf, fit + leave-one-row-out + leave-one-source-out", |b| {
        b.iter(|| fit::fit(black_box(&m), &["hf".to_string()], "bench").expect("fits"))
    });
    g.finish();
}

criterion_group!(benches, fits);
criterion_main!(benches);
