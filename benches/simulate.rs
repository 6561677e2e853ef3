//! One full simulation of the design card's configuration (LLaVA-OV-7B, 28 layers, AIM linear
//! schedule, A100). Target (issue 2): well under 0.1 ms per 28-layer configuration.

use aim_sim::cli::Cli;
use aim_sim::cost::Context;
use aim_sim::scenario::Scenario;
use aim_sim::sim;
use clap::Parser;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn headline() -> Scenario {
    let cli = Cli::parse_from([
        "aim-sim",
        "--tokens",
        "6272",
        "--schedule",
        "linear",
        "--gpu",
        "a100",
    ]);
    Scenario::from_args(&cli.sim).expect("valid scenario")
}

fn bench(c: &mut Criterion) {
    let scenario = headline();
    c.bench_function(
        "simulate llava-ov-7b linear a100 (schedule + baseline)",
        |b| b.iter(|| sim::simulate(black_box(&scenario)).unwrap()),
    );
    let plan = scenario.plan().unwrap();
    let ctx = Context {
        model: &scenario.model,
        gpu: &scenario.gpu,
        options: &scenario.options,
    };
    let cost_model = scenario.cost_model.implementation();
    c.bench_function("one 28-layer prefill (cost model run only)", |b| {
        b.iter(|| cost_model.run(black_box(&ctx), black_box(&plan.layer_tokens)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
