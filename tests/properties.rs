//! Property-based tests (proptest): invariants over random valid runs, and every file parser
//! over random bytes (no panic, ever; an answer is Ok or a one-line Err).

use aim_sim::check::Measurements;
use aim_sim::cost::Bound;
use aim_sim::framework::Framework;
use aim_sim::hardware::Gpu;
use aim_sim::model::Model;
use aim_sim::presets::{self, Source};
use aim_sim::schedule::Schedule;
use aim_sim::sim;
use aim_sim::spec::Spec;
use aim_sim::Scenario;
use proptest::prelude::*;

const MODELS: &[&str] = &[
    "llava-ov-7b",
    "llava-ov-0.5b",
    "llava-1.5-7b",
    "internvl2.5-8b",
    "qwen3-vl-30b-a3b",
    "qwen3-vl-8b",
    "internvl3-8b",
];
const GPUS: &[&str] = &["a100", "h100", "l40s", "rtx4090", "a100-80g"];
const SCHEDULES: &[&str] = &[
    "none",
    "linear",
    "fastv",
    "pdrop",
    "vtw",
    "sparsevlm-192",
    "aim-image",
    "aim-prune-only",
    "merge-only",
    "fastvid",
    "visionzip-64",
];
const FRAMEWORKS: &[&str] = &["roofline", "trtllm", "hf", "hf-eager"];

/// Cases per property: `default` in CI; `AIM_SIM_PROPTEST_CASES=N` for a longer hunt.
fn cases(default: u32) -> u32 {
    std::env::var("AIM_SIM_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A random run as command-line flags.
fn flags() -> impl Strategy<Value = Vec<String>> {
    (
        (
            0..MODELS.len(),
            0..GPUS.len(),
            0..SCHEDULES.len(),
            1u64..48,
            1u64..300,
            1u64..3,
        ),
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just((16, 16)), Just((8, 8)), Just((4, 16)), Just((4, 8))],
            0..FRAMEWORKS.len(),
            any::<bool>(),
            prop_oneof![Just(0u64), 1u64..64],
        ),
    )
        .prop_map(
            |((m, g, s, frames, text, batch), (refined, eager, (w, a), fw, fused, gen))| {
                let mut f: Vec<String> = [
                    "--model",
                    MODELS[m],
                    "--gpu",
                    GPUS[g],
                    "--schedule",
                    SCHEDULES[s],
                    "--frames",
                    &frames.to_string(),
                    "--text-tokens",
                    &text.to_string(),
                    "--batch",
                    &batch.to_string(),
                    "--attention",
                    if eager { "eager" } else { "flash" },
                    "--w-bits",
                    &w.to_string(),
                    "--a-bits",
                    &a.to_string(),
                    "--cost-model",
                    if refined { "refined" } else { "llm-viewer" },
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                if refined {
                    f.extend(["--framework".into(), FRAMEWORKS[fw].into()]);
                    if fused {
                        f.extend(["--importance-kernel".into(), "fused".into()]);
                    }
                    if gen > 0 {
                        f.extend(["--gen-tokens".into(), gen.to_string()]);
                    }
                }
                f
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(96)))]

    /// Every valid run prices to finite, positive totals that are the sums of its operators,
    /// every operator takes at least its ideal roofline time, the JSON holds no null/NaN/inf,
    /// and a schedule slower than no reduction says so.
    #[test]
    fn valid_runs_keep_the_invariants(flags in flags()) {
        let refs: Vec<&str> = flags.iter().map(String::as_str).collect();
        let spec = Spec::from_flags(&refs).expect("flags parse");
        // Some combinations are input errors (merging more than a frame holds, ...): fine.
        let Ok(scenario) = Scenario::from_spec(&spec) else { return Ok(()); };
        let Ok(report) = sim::simulate(&scenario) else { return Ok(()); };
        let gpu = &scenario.gpu;
        let peak = if scenario.options.precision.uses_int8_peak() { gpu.int8_peak } else { gpu.fp16_peak };
        for run in [&report.run, &report.baseline] {
            let t = &run.totals;
            prop_assert!(t.flops.is_finite() && t.flops > 0.0, "{flags:?}");
            prop_assert!(t.time_s.is_finite() && t.time_s > 0.0, "{flags:?}");
            prop_assert!(t.bytes.is_finite() && t.bytes > 0.0, "{flags:?}");
            let ops: Vec<_> = run
                .stages
                .iter()
                .chain(run.layers.iter().flat_map(|l| &l.operators))
                .chain(&run.head)
                .collect();
            let time: f64 = ops.iter().map(|o| o.time_s).sum();
            let flops: f64 = ops.iter().map(|o| o.op.flops).sum();
            prop_assert!((time / t.time_s - 1.0).abs() < 1e-9, "{flags:?}: {time} vs {}", t.time_s);
            prop_assert!((flops / t.flops - 1.0).abs() < 1e-9, "{flags:?}");
            for l in &run.layers {
                let s: f64 = l.operators.iter().map(|o| o.time_s).sum();
                prop_assert!((s - l.time_s).abs() <= 1e-12 * l.time_s.max(1e-30) * 10.0 + 1e-18);
            }
            for o in &ops {
                // The roofline is a lower bound: no kernel beats peak compute or bandwidth.
                let floor = (o.op.flops / peak).max(o.bytes / gpu.bandwidth);
                prop_assert!(o.time_s >= floor * (1.0 - 1e-9), "{} {flags:?}: {} < {floor}", o.op.name, o.time_s);
                if o.bound == Bound::Compute && scenario.gpu.efficiency.is_none() && o.op.flops > 0.0 {
                    prop_assert!(o.op.flops / peak >= o.bytes / gpu.bandwidth * (1.0 - 1e-9));
                }
            }
        }
        if report.reduction.time < 1.0 - 1e-6 {
            prop_assert!(
                report.run.warnings.iter().any(|w| w.contains("time of no reduction")),
                "{flags:?}: {:?}", report.run.warnings
            );
        }
        let json = aim_sim::report::render(&report, aim_sim::report::TextFormat::Json).unwrap();
        prop_assert!(!json.contains("null") && !json.contains("NaN") && !json.contains("inf"), "{flags:?}");
    }
}

/// Text from arbitrary bytes, and text built from the parsers' own vocabulary (so some inputs
/// get past the syntax into the semantic checks).
fn texts() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "name = \"x\"\n",
        "bandwidth = ",
        "fp16_peak = ",
        "int8_peak = ",
        "memory = ",
        "onchip_buffer = ",
        "hidden_size = ",
        "num_heads = ",
        "num_layers = ",
        "intermediate_size = ",
        "vocab_size = ",
        "[merge]\n",
        "[prune]\n",
        "kind = \"linear\"\n",
        "start = ",
        "end = ",
        "keep = [",
        "]",
        "at = [",
        "[vision]\n",
        "[efficiency]\n",
        "matmul = ",
        "[params]\n",
        "[gpu.a100]\n",
        "[[measurement]]\n",
        "id = \"a\"\n",
        "frames = ",
        "measured_ms = ",
        "{",
        "}",
        "\"frames\": ",
        ",",
        "1e308",
        "-1",
        "0",
        "nan",
        "inf",
        "0.5",
        "18446744073709551615",
        "3",
        "\n",
        "\"",
        "[",
        "=",
        "spec",
        "\u{0}",
        "é",
    ]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        prop::collection::vec(words, 0..60).prop_map(|w| w.concat()),
    ]
}

fn source(text: &str, json: bool) -> Source {
    Source {
        origin: "fuzz".into(),
        text: text.into(),
        path: Some(
            if json {
                "fuzz/config.json"
            } else {
                "fuzz/x.toml"
            }
            .into(),
        ),
    }
}

/// An error is one line.
fn one_line<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        let text = e.to_string();
        prop_assert!(!text.contains('\n'), "{text}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn no_parser_panics_on_random_input(text in texts()) {
        one_line(Spec::parse(&text, "fuzz"))?;
        one_line(Gpu::from_source(&source(&text, false)))?;
        one_line(Model::from_source(&source(&text, false)))?;
        one_line(Model::from_source(&source(&text, true)))?;
        one_line(Schedule::from_source(&source(&text, false), "fuzz"))?;
        one_line(Framework::from_source(&source(&text, false)))?;
        one_line(Measurements::parse(&text, "fuzz", ".".into()))?;
        let _ = presets::describe(&text);
    }

    /// A spec that parses either resolves or is a one-line error, never a panic.
    #[test]
    fn parsed_specs_resolve_or_fail_cleanly(text in texts()) {
        if let Ok(spec) = Spec::parse(&text, "fuzz") {
            one_line(Scenario::from_spec(&spec).and_then(|s| sim::simulate(&s)))?;
        }
    }
}

proptest! {
    /// The source-weighted median (docs/accuracy.md's fairer forecast): one row per source is
    /// the plain median; it lies between the smallest and largest |error|; and repeating every
    /// row of one source k times changes nothing (a source's vote does not grow with its rows).
    #[test]
    fn the_source_weighted_median_gives_each_source_one_vote(
        errors in prop::collection::vec((0usize..5, -2.0f64..2.0), 1..30),
        k in 1usize..5,
    ) {
        use aim_sim::check::{source_weighted_median, Stats};
        let names = ["a", "b", "c", "d", "e"];
        let rows: Vec<(&str, f64)> = errors.iter().map(|(g, e)| (names[*g], *e)).collect();
        let m = source_weighted_median(rows.iter().copied()).unwrap();
        let lo = rows.iter().map(|r| r.1.abs()).fold(f64::INFINITY, f64::min);
        let hi = rows.iter().map(|r| r.1.abs()).fold(0.0, f64::max);
        prop_assert!(m >= lo - 1e-12 && m <= hi + 1e-12, "{m} outside {lo}..{hi}");
        let mut repeated = rows.clone();
        for r in rows.iter().filter(|r| r.0 == rows[0].0) {
            for _ in 1..k {
                repeated.push(*r);
            }
        }
        let again = source_weighted_median(repeated.iter().copied()).unwrap();
        prop_assert!((again - m).abs() < 1e-12, "{again} against {m}");
        let singles: Vec<(String, f64)> =
            rows.iter().enumerate().map(|(i, r)| (i.to_string(), r.1)).collect();
        let plain = Stats::of(singles.iter().map(|(g, e)| (g.as_str(), *e))).unwrap();
        let weighted = source_weighted_median(singles.iter().map(|(g, e)| (g.as_str(), *e))).unwrap();
        prop_assert!((weighted - plain.median_abs_error).abs() < 1e-12);
    }
}

proptest! {
    /// Student's t of an 80 % interval: never narrower than the normal z, narrower with more
    /// degrees of freedom, and the normal z in the limit (the prediction intervals' width).
    #[test]
    fn student_t_widens_as_the_degrees_of_freedom_fall(a in 1.0f64..2000.0, b in 1.0f64..2000.0) {
        let (few, many) = if a < b { (a, b) } else { (b, a) };
        let (t_few, t_many) = (aim_sim::stats::t80(Some(few)), aim_sim::stats::t80(Some(many)));
        prop_assert!(t_many >= aim_sim::stats::Z80 - 1e-9);
        prop_assert!(t_few >= t_many - 1e-9, "t({few}) = {t_few} < t({many}) = {t_many}");
        prop_assert!(t_few <= 3.078 + 1e-3);
    }
}
