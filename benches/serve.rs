//! `serve`'s speed targets (issue 26): 10,000 requests simulated in ≤ 1 s on one core, and a
//! `--find-max-rate` search in ≤ 10 s. LLaVA-OV-7B, 32 frames, 100 text and 64 output tokens,
//! H100 with the hf profile, near its saturation rate.

use aim_sim::serve::{find_max_rate, Arrivals, Dist, Limits, Server, Slo};
use aim_sim::spec::Spec;
use aim_sim::Scenario;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn scenario(schedule: &str) -> Scenario {
    let spec = Spec::from_flags(&[
        "--gpu",
        "h100",
        "--framework",
        "hf",
        "--frames",
        "32",
        "--text-tokens",
        "100",
        "--schedule",
        schedule,
    ])
    .expect("valid flags");
    Scenario::from_spec(&spec).expect("valid scenario")
}

fn arrivals(rate: f64, n: u64) -> Arrivals {
    Arrivals {
        rate_per_s: rate,
        requests: Some(n),
        duration_s: None,
        frames: Dist::Fixed { value: 32 },
        text_tokens: Dist::Fixed { value: 100 },
        output_tokens: Dist::Fixed { value: 64 },
        seed: 0,
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("serve");
    g.sample_size(10);
    for (schedule, rate) in [("none", 5.0), ("linear", 24.0)] {
        let base = scenario(schedule);
        let reqs = arrivals(rate, 10_000).generate().unwrap();
        g.bench_function(
            format!("{schedule}: 10,000 requests (target ≤ 1 s)"),
            |b| {
                b.iter(|| {
                    let mut s = Server::new(&base, Limits::default()).unwrap();
                    s.run(black_box(&reqs), Slo::default(), Some(rate)).unwrap()
                })
            },
        );
        let slo = Slo {
            ttft_s: Some(2.0),
            tpot_s: None,
            attainment: 0.9,
        };
        g.bench_function(
            format!("{schedule}: --find-max-rate, 1000 requests (target ≤ 10 s)"),
            |b| {
                b.iter(|| {
                    let mut s = Server::new(&base, Limits::default()).unwrap();
                    find_max_rate(&mut s, &arrivals(1.0, 1000), slo).unwrap()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
