//! One full simulation of the design card's configuration (LLaVA-OV-7B, 28 layers, AIM linear
//! schedule, A100) in each cost model, with every operator and with totals only (a sweep row).
//! Target (issue 2): well under 0.1 ms per 28-layer configuration.

use aim_sim::scenario::Scenario;
use aim_sim::sim;
use aim_sim::spec::Spec;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn headline(cost_model: &str) -> Scenario {
    let spec = Spec::from_flags(&[
        "--tokens",
        "6272",
        "--schedule",
        "linear",
        "--gpu",
        "a100",
        "--cost-model",
        cost_model,
    ])
    .expect("valid flags");
    Scenario::from_spec(&spec).expect("valid scenario")
}

fn bench(c: &mut Criterion) {
    for cost_model in ["llm-viewer", "refined"] {
        let scenario = headline(cost_model);
        c.bench_function(
            &format!("{cost_model}: simulate (schedule + baseline)"),
            |b| b.iter(|| sim::simulate(black_box(&scenario)).unwrap()),
        );
        let plan = scenario.plan().unwrap();
        let ctx = scenario.context();
        let model = scenario.cost_model.implementation();
        c.bench_function(&format!("{cost_model}: one 28-layer prefill"), |b| {
            b.iter(|| model.run(black_box(&ctx), black_box(&plan.layer_tokens)))
        });
        c.bench_function(
            &format!("{cost_model}: totals only (schedule + baseline)"),
            |b| b.iter(|| sim::summarize(black_box(&scenario)).unwrap()),
        );
    }
    // Decode in closed form: a million steps cost what a handful do.
    let spec = Spec::from_flags(&["--frames", "32", "--gen-tokens", "1000000"]).expect("valid");
    let scenario = Scenario::from_spec(&spec).expect("valid scenario");
    c.bench_function("refined: simulate with 1,000,000 decode steps", |b| {
        b.iter(|| sim::simulate(black_box(&scenario)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
