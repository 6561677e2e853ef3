//! `serve`'s limiting cases against the rest of the model: one request alone is `simulate`'s
//! prefill plus its decode, a full batch decodes as the refined model's batched decode, a
//! reduction never serves fewer requests than none at the same memory; and the CLI's errors.

mod common;

use aim_sim::serve::{find_max_rate, Arrivals, Dist, Limits, Request, Server, Slo};
use aim_sim::spec::Definition;
use aim_sim::{Scenario, Spec};
use proptest::prelude::*;

fn spec(schedule: &str, frames: u64, text: u64) -> Spec {
    Spec {
        gpu: Definition::Name("h100".into()),
        framework: Definition::Name("hf".into()),
        schedule: Definition::Name(schedule.into()),
        frames: Some(frames),
        text_tokens: text,
        ..Spec::default()
    }
}

fn scenario(s: &Spec) -> Scenario {
    Scenario::from_spec(s).expect("valid spec")
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// One request at a very low rate: its TTFT is `simulate`'s, its end-to-end time `simulate`'s
/// TTFT plus the decode of `--gen-tokens (output − 1)`, for a pruned and an unpruned schedule.
#[test]
fn one_request_alone_is_simulate_prefill_plus_decode() {
    for (schedule, vision) in [
        ("none", false),
        ("linear", false),
        ("linear", true),
        ("fastv", true),
    ] {
        let output = 64;
        let base = Spec {
            include_vision: vision,
            ..spec(schedule, 32, 100)
        };
        let mut server = Server::new(&scenario(&base), Limits::default()).unwrap();
        let req = [Request {
            arrival_s: 1.0,
            frames: 32,
            text_tokens: 100,
            output_tokens: output,
        }];
        let r = server.run(&req, Slo::default(), None).unwrap();
        let q = &r.requests[0];
        let sim = aim_sim::simulate(&Spec {
            gen_tokens: output - 1,
            ..base.clone()
        })
        .unwrap();
        let p = sim.run.pipeline.as_ref().unwrap();
        let decode = sim.run.decode.as_ref().unwrap();
        let what = format!("{schedule} vision={vision}");
        assert!(
            rel(q.ttft_s, p.ttft_s) < 1e-9,
            "{what}: {} vs {}",
            q.ttft_s,
            p.ttft_s
        );
        assert!(
            rel(q.e2e_s, p.ttft_s + decode.time_s) < 1e-9,
            "{what}: {} vs {}",
            q.e2e_s,
            p.ttft_s + decode.time_s
        );
        assert_eq!(r.summary.preemptions, 0);
    }
}

/// A prompt longer than the step's token budget is prefilled in chunks; the chunks' attention
/// is the causal share of the whole, so alone it stays within 3 % of the unchunked prefill
/// on the ideal roofline (the linear layers re-read the weights once per chunk; under `hf` each
/// chunk also pays the eager launches of a whole forward, ~29 ms on an H100).
#[test]
fn a_chunked_prefill_alone_stays_near_the_whole_one() {
    let base = scenario(&Spec {
        framework: Definition::Name("roofline".into()),
        ..spec("none", 32, 100)
    });
    let req = [Request {
        arrival_s: 0.0,
        frames: 32,
        text_tokens: 100,
        output_tokens: 1,
    }];
    let whole = Server::new(&base, Limits::default())
        .unwrap()
        .run(&req, Slo::default(), None)
        .unwrap();
    let chunked = Server::new(
        &base,
        Limits {
            max_num_batched_tokens: 2048,
            ..Limits::default()
        },
    )
    .unwrap()
    .run(&req, Slo::default(), None)
    .unwrap();
    assert_eq!(chunked.summary.steps, 4, "6372 tokens in chunks of 2048");
    let (a, b) = (chunked.requests[0].ttft_s, whole.requests[0].ttft_s);
    assert!(a > b, "chunks re-read the weights: {a} vs {b}");
    assert!(rel(a, b) < 0.03, "{a} vs {b}");
}

/// B requests arrive together and all fit: one prefill step, then `O − 1` decode steps of the
/// full batch, whose time is the refined model's decode at `--batch B` (the closed form of
/// cost/refined/decode.rs: a batch of B sequences, each step over the growing cache).
#[test]
fn a_full_batch_decodes_as_the_batched_closed_form() {
    let (b, output) = (32u64, 200u64);
    let base = spec("none", 1, 50);
    let mut server = Server::new(
        &scenario(&base),
        Limits {
            max_num_seqs: b,
            ..Limits::default()
        },
    )
    .unwrap();
    let reqs: Vec<Request> = (0..b)
        .map(|_| Request {
            arrival_s: 0.0,
            frames: 1,
            text_tokens: 50,
            output_tokens: output,
        })
        .collect();
    let r = server.run(&reqs, Slo::default(), None).unwrap();
    assert_eq!(r.summary.max_batch, b as u32);
    assert_eq!(
        r.summary.steps, output,
        "one prefill step, then output − 1 decodes"
    );
    let first = r.requests[0].first_token_s;
    assert!(r.requests.iter().all(|q| q.first_token_s == first));
    let decode_s = r.summary.makespan_s - first;
    let closed = aim_sim::simulate(&Spec {
        batch: b,
        gen_tokens: output - 1,
        ..base
    })
    .unwrap();
    let want = closed.run.decode.as_ref().unwrap().time_s;
    assert!(rel(decode_s, want) < 1e-9, "{decode_s} vs {want}");
    // Saturation throughput: B tokens per step.
    let tokens_per_s = (b * (output - 1)) as f64 / decode_s;
    assert!(rel(tokens_per_s, (b * (output - 1)) as f64 / want) < 1e-9);
}

/// Under memory pressure the engine preempts (and recomputes) rather than overcommit.
#[test]
fn a_small_cache_preempts_and_still_finishes_everything() {
    let base = scenario(&spec("none", 8, 100));
    let mut server = Server::new(
        &base,
        Limits {
            kv_cache_bytes: Some(1.5e9),
            ..Limits::default()
        },
    )
    .unwrap();
    let reqs = Arrivals {
        rate_per_s: 50.0,
        requests: Some(60),
        duration_s: None,
        frames: Dist::Fixed { value: 8 },
        text_tokens: Dist::Fixed { value: 100 },
        output_tokens: Dist::Fixed { value: 400 },
        seed: 3,
    }
    .generate()
    .unwrap();
    let r = server.run(&reqs, Slo::default(), None).unwrap();
    assert!(r.summary.preemptions > 0);
    assert!(r.summary.peak_kv_utilization <= 1.0);
    assert!(r.requests.iter().all(|q| q.finish_s.is_finite()));
}

fn arrivals(rate: f64, n: u64, frames: u64, output: u64, seed: u64) -> Arrivals {
    Arrivals {
        rate_per_s: rate,
        requests: Some(n),
        duration_s: None,
        frames: Dist::Uniform {
            min: frames / 2,
            max: frames,
        },
        text_tokens: Dist::Fixed { value: 100 },
        output_tokens: Dist::Uniform {
            min: 1,
            max: output,
        },
        seed,
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let base = scenario(&spec("linear", 16, 100));
    let a = arrivals(5.0, 200, 32, 64, 11).generate().unwrap();
    let run = || {
        let mut s = Server::new(&base, Limits::default()).unwrap();
        serde_json::to_string(&s.run(&a, Slo::default(), Some(5.0)).unwrap()).unwrap()
    };
    assert_eq!(run(), run());
}

/// The case: LLaVA-OV-7B, 32 frames, 100 text and 64 output tokens on an H100 with the
/// hf profile; AIM's linear schedule sustains a higher rate at TTFT ≤ 2 s than no reduction,
/// and its KV cache holds more such requests.
#[test]
fn linear_sustains_a_higher_rate_than_none_at_a_2s_ttft() {
    let slo = Slo {
        ttft_s: Some(2.0),
        tpot_s: None,
        attainment: 0.9,
    };
    let a = Arrivals {
        rate_per_s: 1.0,
        requests: Some(300),
        duration_s: None,
        frames: Dist::Fixed { value: 32 },
        text_tokens: Dist::Fixed { value: 100 },
        output_tokens: Dist::Fixed { value: 64 },
        seed: 0,
    };
    let max = |schedule: &str| {
        let mut s = Server::new(&scenario(&spec(schedule, 32, 100)), Limits::default()).unwrap();
        find_max_rate(&mut s, &a, slo).unwrap()
    };
    let (none, linear) = (max("none"), max("linear"));
    assert!(
        linear.rate_per_s > 2.0 * none.rate_per_s,
        "{} vs {}",
        linear.rate_per_s,
        none.rate_per_s
    );
    assert!(linear.at_max.kv.requests_that_fit > 4 * none.at_max.kv.requests_that_fit);
    assert!(linear.at_max.summary.slo_attainment >= 0.9);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// At the same KV memory and on the same requests, AIM's schedule serves every request no
    /// later than no reduction does: its makespan is not longer, and as many of its requests
    /// fit in the cache. Only where the schedule pays for itself: requests draw frames/2 to
    /// frames, and under `hf` a prompt of 1–3 frames prefills *slower* with AIM than without
    /// (merge and importance launches cost more than the tokens save; `simulate` warns) — a
    /// case found by this property (rate 11.45, frames 5: by half the run `linear` had served 59
    /// requests, `none` 60), kept as `tiny_prompts_prefill_slower_with_aim_under_hf` below.
    #[test]
    fn a_reduction_never_serves_fewer_requests_than_none(
        rate in 0.5f64..40.0,
        frames in 8u64..48,
        output in 1u64..200,
        kv_gb in 2.0f64..30.0,
        seed in any::<u64>(),
    ) {
        let reqs = arrivals(rate, 60, frames, output, seed).generate().unwrap();
        let limits = Limits { kv_cache_bytes: Some(kv_gb * 1e9), ..Limits::default() };
        let run = |schedule: &str| {
            let mut s = Server::new(&scenario(&spec(schedule, frames, 100)), limits.clone()).unwrap();
            s.run(&reqs, Slo::default(), Some(rate)).unwrap()
        };
        let (none, linear) = (run("none"), run("linear"));
        prop_assert!(linear.kv.requests_that_fit >= none.kv.requests_that_fit);
        let served_by = |r: &aim_sim::serve::ServeReport, t: f64| {
            r.requests.iter().filter(|q| q.finish_s <= t).count()
        };
        for t in [none.summary.makespan_s * 0.5, none.summary.makespan_s] {
            prop_assert!(served_by(&linear, t) >= served_by(&none, t),
                "by {t} s: linear {} none {}", served_by(&linear, t), served_by(&none, t));
        }
    }
}

#[test]
fn bad_serve_input_is_one_line_and_exit_2() {
    let base = ["serve", "--gpu", "h100", "--frames", "8"];
    for (extra, needle) in [
        (&["--find-max-rate"][..], "--slo-ttft"),
        (&["--rate", "0"], "--rate"),
        (&["--output-tokens", "uniform:9:2"], "uniform:2:9"),
        (
            &["--gpu-memory-utilization", "1.5"],
            "gpu-memory-utilization",
        ),
        (&["--gen-tokens", "4"], "--output-tokens"),
        (&["--cost-model", "llm-viewer"], "refined"),
        (&["--kv-cache-gb", "0.0001"], "--kv-cache-gb"),
        // A stated cache sets the memory share aside: "raise --gpu-memory-utilization" was no fix.
        (
            &["--kv-cache-gb", "0.02", "--requests", "3"],
            "the cache has 610: raise --kv-cache-gb, a smaller model",
        ),
        // Once run as one token without a word (a trace row of 0 was refused).
        (
            &["--output-tokens", "0"],
            "--output-tokens 0: every request",
        ),
        (
            &["--output-tokens", "uniform:0:3"],
            "--output-tokens can draw 0",
        ),
        (&["--text-dist", "uniform:0:5"], "--text-dist can draw 0"),
        // A drawn length replaces the fixed one: --frames beside --frames-dist was ignored.
        (
            &["--frames-dist", "uniform:1:10"],
            "--frames-dist draws each request's length: drop --frames",
        ),
        (
            &["--text-dist", "uniform:1:10", "--text-tokens", "5"],
            "--text-dist draws each request's length: drop --text-tokens",
        ),
        // Priced only the "prefill alone" line, which then disagreed with a lone request's TTFT.
        (&["--all-logits"], "drop --all-logits"),
        // At 1e-16 requests/s the arrivals sat near 1e16 s and every latency printed 0.0.
        (
            &["--rate", "1e-16"],
            "give between 1e-3 and 1e6 requests per second",
        ),
        (
            &["--rate", "1e300"],
            "give between 1e-3 and 1e6 requests per second",
        ),
        // A trace's requests carry their own arrivals and lengths: the Poisson flags were ignored.
        (&["--trace", "trace.csv", "--seed", "3"], "--seed"),
        (
            &["--trace", "trace.csv", "--output-tokens", "7"],
            "--output-tokens",
        ),
        (
            &["--reference", "reference/serving.toml", "--format", "html"][..],
            "serve --reference has no html output: its formats are table, json, csv, markdown",
        ),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let e = common::fails(&args);
        assert!(e.contains(needle), "{extra:?}: {e}");
    }
    let out = common::ok(&[
        "serve",
        "--gpu",
        "h100",
        "--frames",
        "8",
        "--requests",
        "20",
        "--format",
        "csv",
    ]);
    assert_eq!(out.lines().count(), 21);
    assert!(out.starts_with("id,arrival_s,"));
}

/// The rate search finds the same rate from any start (within its 0.5 % bisection and the
/// steps of attainment over 200 requests): from 10⁶ requests/s it once halved down past a rate
/// it never tried and reported that the SLOs fail there (they held).
#[test]
fn the_max_rate_does_not_depend_on_where_the_search_starts() {
    let max_rate = |start: &str| {
        let d = common::json(&[
            "serve",
            "--find-max-rate",
            "--slo-ttft",
            "2",
            "--requests",
            "200",
            "--rate",
            start,
        ]);
        d["rate_per_s"].as_f64().expect("a rate")
    };
    let from_one = max_rate("1");
    for start in ["1000", "1000000"] {
        let r = max_rate(start);
        assert!(
            (r / from_one - 1.0).abs() < 0.01,
            "from {start}: {r} against {from_one}"
        );
    }
    let e = common::fails(&[
        "serve",
        "--find-max-rate",
        "--slo-ttft",
        "0.01",
        "--requests",
        "20",
    ]);
    assert!(
        e.contains("the SLOs fail even at 1.953e-3 requests/s, the lowest rate tried"),
        "{e}"
    );
}

/// docs/serving.md's comparison table is `serve --reference reference/serving.toml`'s output.
/// After an intended change: `AIM_SIM_BLESS=1 cargo test --test serve`, review the diff.
#[test]
fn serving_doc_table_is_the_reference_check() {
    let report = common::json(&["serve", "--reference", "reference/serving.toml"]);
    let frameworks = ["roofline", "trtllm", "hf"];
    let signed = |e: f64| {
        let p = format!("{:.1}", 100.0 * e.abs());
        if e < 0.0 {
            format!("−{p} %")
        } else {
            format!("+{p} %")
        }
    };
    let rows = report["rows"].as_array().expect("rows");
    let mut want = String::from(
        "| row | metric | measured | roofline | trtllm | hf |\n|---|---|---|---|---|---|\n",
    );
    let ids: Vec<&str> = rows
        .iter()
        .filter(|r| r["framework"] == "roofline")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // (metric, measured key, predicted key, error key, scale, decimals)
    let metrics = [
        (
            "output tok/s",
            "measured_output_tokens_per_s",
            "predicted_output_tokens_per_s",
            "error",
            1.0,
            0,
        ),
        (
            "requests/s",
            "measured_requests_per_s",
            "predicted_requests_per_s",
            "error",
            1.0,
            2,
        ),
        (
            "mean TTFT ms",
            "measured_mean_ttft_s",
            "predicted_mean_ttft_s",
            "ttft_error",
            1e3,
            1,
        ),
        (
            "mean TPOT ms",
            "measured_mean_tpot_s",
            "predicted_mean_tpot_s",
            "tpot_error",
            1e3,
            2,
        ),
    ];
    for id in ids {
        let of = |fw: &str| {
            rows.iter()
                .find(|r| r["id"] == id && r["framework"] == fw)
                .expect("every row under every framework")
        };
        let first = of("roofline");
        let mut throughput_shown = false;
        for (name, m, p, e, scale, dp) in metrics {
            let (Some(measured), Some(_)) = (first[m].as_f64(), first[e].as_f64()) else {
                continue;
            };
            // The throughput error is on output tokens when measured, else on requests.
            if e == "error" {
                if throughput_shown {
                    continue;
                }
                throughput_shown = true;
            }
            want += &format!("| {id} | {name} | {:.dp$} |", measured * scale);
            for fw in frameworks {
                let r = of(fw);
                want += &format!(
                    " {:.dp$} ({}) |",
                    r[p].as_f64().unwrap() * scale,
                    signed(r[e].as_f64().unwrap())
                );
            }
            want += "\n";
        }
    }
    let pct = |v: &serde_json::Value| {
        v.as_f64()
            .map_or("–".to_string(), |v| format!("{:.1} %", 100.0 * v))
    };
    for (what, key, worst) in [
        ("throughput", "median_abs_error", Some("worst_abs_error")),
        ("mean TPOT", "tpot_median_abs_error", None),
        ("mean TTFT", "ttft_median_abs_error", None),
    ] {
        want += &format!("| median \\|error\\| | {what} | |");
        for fw in frameworks {
            let s = report["summary"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["framework"] == fw)
                .unwrap();
            match worst {
                Some(w) => want += &format!(" {} (worst {}) |", pct(&s[key]), pct(&s[w])),
                None => want += &format!(" {} |", pct(&s[key])),
            }
        }
        want += "\n";
    }
    let mut failures = Vec::new();
    common::doc_block(
        "docs/serving.md",
        "serving-check",
        &want,
        "aim-sim serve --reference reference/serving.toml",
        &mut failures,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `--schedules a,b` is each schedule's own run, side by side.
#[test]
fn schedules_side_by_side_are_the_single_runs() {
    let base = [
        "serve",
        "--gpu",
        "h100",
        "--frames",
        "8",
        "--requests",
        "40",
        "--rate",
        "5",
    ];
    let args: Vec<&str> = base
        .iter()
        .copied()
        .chain(["--schedules", "none,linear", "--format", "json"])
        .collect();
    let both: serde_json::Value = serde_json::from_str(&common::ok(&args)).unwrap();
    for (i, s) in ["none", "linear"].iter().enumerate() {
        let args: Vec<&str> = base
            .iter()
            .copied()
            .chain(["--schedule", s, "--format", "json"])
            .collect();
        let one: serde_json::Value = serde_json::from_str(&common::ok(&args)).unwrap();
        assert_eq!(both["answers"][i], one, "{s}");
        assert_eq!(both["schedules"][i], *s);
    }
    let table = common::ok(&[
        "serve",
        "--gpu",
        "h100",
        "--frames",
        "8",
        "--requests",
        "40",
        "--schedules",
        "none,linear,fastv",
    ]);
    assert_eq!(table.lines().filter(|l| l.starts_with("fastv ")).count(), 1);
}

/// The regime the property above leaves out, found by it: under `hf` a 1-frame prompt prefills
/// slower with AIM than without, and a 4-frame one faster; docs/serving.md quotes the 1- and
/// 2-frame ratios on the H100.
#[test]
fn tiny_prompts_prefill_slower_with_aim_under_hf() {
    let ttft = |schedule: &str, frames: u64| {
        let s = scenario(&spec(schedule, frames, 100));
        aim_sim::sim::simulate(&s).unwrap().run.totals.time_s
    };
    assert!(ttft("linear", 1) > ttft("none", 1));
    assert!(ttft("linear", 4) < ttft("none", 4));
    let ratio = |frames: &str| -> f64 {
        let v: serde_json::Value = serde_json::from_str(&common::ok(&[
            "--frames",
            frames,
            "--schedule",
            "linear",
            "--gpu",
            "h100",
            "--framework",
            "hf",
            "--format",
            "json",
        ]))
        .unwrap();
        v["totals"]["time_s"].as_f64().unwrap()
            / v["baseline"]["totals"]["time_s"].as_f64().unwrap()
    };
    let doc = std::fs::read_to_string("docs/serving.md").unwrap();
    let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        format!("warns: {:.2}× the time of no reduction", ratio("1")),
        format!(
            "with two frames AIM already gains, {:.2}×",
            1.0 / ratio("2")
        ),
    ] {
        assert!(doc.contains(&want), "docs/serving.md should say {want:?}");
    }
}

/// One prompt too large for the device (a trace row of 100000 frames, `--frames-dist
/// exp:1000000`) names the prompt and what to lower; it used to say "no room for a KV cache:
/// 42.9 GB × 0.9 leaves -4033891.47 GB … raise --gpu-memory-utilization or use --tp", neither
/// of which helps. Weights past the device say so, with --tp.
#[test]
fn a_prompt_too_large_for_the_device_says_what_to_lower() {
    for args in [
        &["serve", "--frames", "100000", "--requests", "3"][..],
        &["serve", "--frames-dist", "exp:1000000", "--requests", "3"][..],
    ] {
        let err = common::fails(args);
        assert!(
            err.contains("frame(s) and 100 text tokens does not fit")
                && err.contains("lower its --frames or --text-tokens")
                && !err.contains("--gpu-memory-utilization"),
            "{args:?}: {err}"
        );
    }
    let err = common::fails(&[
        "serve",
        "--gpu",
        "rtx4090",
        "--model",
        "llava-ov-72b",
        "--requests",
        "3",
    ]);
    assert!(
        err.contains("the weights alone take") && err.contains("--tp"),
        "{err}"
    );
}

/// `serve --anchor-ms` prices every request under the profile the anchor refits, as
/// `simulate --anchor-ms` does: one request's prefill alone is the anchored run's time (the
/// anchor itself without reduction), the framework is named as anchored and the refit's note is
/// in the table, JSON and each schedule of a comparison. An anchor has nothing to refit under
/// the roofline, and the published check takes none: one line, exit 2. (`serve` took no anchor
/// until 2026-12-07.)
#[test]
fn an_anchor_prices_every_request_under_the_refitted_profile() {
    let run = [
        "--gpu",
        "a100-80g",
        "--framework",
        "hf",
        "--frames",
        "32",
        "--anchor-ms",
        "400",
    ];
    let serve = |schedule: &str| {
        let mut a = vec!["serve", "--requests", "5", "--schedule", schedule];
        a.extend(run);
        common::json(&a)
    };
    let alone = |r: &serde_json::Value| r["summary"]["prefill_alone_s"].as_f64().unwrap();
    let none = serve("none");
    assert!(rel(alone(&none), 0.4) < 1e-9, "{}", alone(&none));
    assert_eq!(none["framework"], "hf (anchored)");
    assert!(none["notes"][0]
        .as_str()
        .unwrap()
        .contains("anchored on the measured baseline 400 ms"));
    let linear = serve("linear");
    let mut sim = vec!["--schedule", "linear"];
    sim.extend(run);
    let simulated = common::json(&sim)["pipeline"]["ttft_s"].as_f64().unwrap();
    assert!(
        rel(alone(&linear), simulated) < 1e-9,
        "{} vs {simulated}",
        alone(&linear)
    );
    // Unanchored, the same request is priced by the profile as shipped: another time, no note.
    let mut plain = vec!["serve", "--requests", "5", "--schedule", "linear"];
    plain.extend(&run[..6]);
    let plain = common::json(&plain);
    assert!(rel(alone(&plain), simulated) > 0.01);
    assert!(plain.get("notes").is_none(), "{plain}");
    assert_eq!(plain["framework"], "hf");
    let mut table = vec!["serve", "--requests", "5", "--schedules", "none,linear"];
    table.extend(run);
    let t = common::ok(&table);
    assert_eq!(
        t.matches("note: anchored on the measured baseline 400 ms")
            .count(),
        1,
        "{t}"
    );
    for a in common::json(&table)["answers"].as_array().unwrap() {
        assert!(a["notes"].to_string().contains("400 ms"), "{a}");
    }
    let e = common::fails(&["serve", "--requests", "5", "--anchor-ms", "400"]);
    assert!(e.contains("--framework"), "{e}");
    let e = common::fails(&[
        "serve",
        "--reference",
        "reference/serving.toml",
        "--anchor-ms",
        "400",
    ]);
    assert!(
        e.contains("--anchor-ms") && e.contains("--reference"),
        "{e}"
    );
}

/// A trace's arrival past 10¹⁰ s is refused as `--rate` below 10⁻³ is: at 10¹⁵ s the clock
/// lost the milliseconds and the late request printed a TTFT, TPOT and end-to-end time of 0.
#[test]
fn a_trace_arrival_past_the_clocks_resolution_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(
        &path,
        "arrival_s,frames,text_tokens,output_tokens\n0,32,100,64\n1e15,8,100,64\n",
    )
    .unwrap();
    let e = common::fails(&["serve", "--trace", path.to_str().unwrap()]);
    assert!(
        e.contains("line 3: arrival_s 1e15 is past 1e10 s")
            && e.contains("relative to the trace's start"),
        "{e}"
    );
    // At the bound the late request still has its milliseconds.
    std::fs::write(
        &path,
        "arrival_s,frames,text_tokens,output_tokens\n0,32,100,64\n1e10,8,100,64\n",
    )
    .unwrap();
    let csv = common::ok(&[
        "serve",
        "--trace",
        path.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let late = csv.lines().nth(2).expect("two requests");
    let ttft_s: f64 = late.split(',').nth(8).unwrap().parse().unwrap();
    assert!(ttft_s > 1e-3, "{late}");
}

/// A KV cache larger than the GPU has left after weights and activations is refused: `serve
/// --kv-cache-gb 1e9` once reported a 10⁹ GB cache and the requests that "fit at once" in it.
/// The size the message offers is accepted.
#[test]
fn a_kv_cache_larger_than_the_gpu_is_refused() {
    // 1e20 printed as 9.999999999999998e19 (GB → bytes → GB).
    for gb in ["1e9", "100", "1e20"] {
        let e = common::fails(&["serve", "--gpu", "a100", "--kv-cache-gb", gb]);
        assert!(
            e.contains(&format!("--kv-cache-gb {gb}: the 42.9 GB GPU has "))
                && e.contains("GB left after")
                && e.contains("give at most"),
            "{e}"
        );
    }
    let e = common::fails(&["serve", "--gpu", "a100", "--kv-cache-gb", "100"]);
    let most = e
        .split("give at most ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .expect("a size");
    let out = common::ok(&[
        "serve",
        "--gpu",
        "a100",
        "--kv-cache-gb",
        most,
        "--requests",
        "3",
    ]);
    assert!(out.contains(&format!("KV cache: {most} GB")), "{out}");
}

/// A cache size past f64 in bytes is named as typed ("--kv-cache-gb inf" before), and a batch
/// limit whose profile run takes the memory is named as the cause: `--max-num-batched-tokens
/// 99999999999999` advised raising --gpu-memory-utilization.
#[test]
fn huge_engine_sizes_name_themselves() {
    let e = common::fails(&["serve", "--gpu", "h100", "--kv-cache-gb", "1e300"]);
    assert!(
        e.contains("--kv-cache-gb 1e300: larger than any GPU's memory"),
        "{e}"
    );
    let e = common::fails(&[
        "serve",
        "--gpu",
        "h100",
        "--max-num-batched-tokens",
        "99999999999999",
    ]);
    assert!(
        e.contains("--max-num-batched-tokens 99999999999999: a batch that large takes")
            && e.contains("give fewer (vLLM's default is 8192)")
            && !e.contains("--gpu-memory-utilization"),
        "{e}"
    );
}

/// A block so large that one request's blocks (one per layer at least) do not fit says so and
/// offers a smaller block: `--block-size 1000000` blamed the memory ("no room for a KV cache
/// … raise --gpu-memory-utilization or use --tp"), which no such setting fixes.
#[test]
fn a_block_too_large_for_the_cache_names_the_block_size() {
    for extra in [&[][..], &["--kv-cache-gb", "10"]] {
        let mut args = vec!["serve", "--block-size", "1000000"];
        args.extend_from_slice(extra);
        let e = common::fails(&args);
        assert!(
            e.contains("--block-size 1000000: one request's blocks do not fit")
                && e.contains("give a smaller block size")
                && !e.contains("--gpu-memory-utilization"),
            "{extra:?}: {e}"
        );
    }
}

/// `--slo-attainment` is a share in (0, 1] on every run, not only with `--find-max-rate`
/// (1.5 and 0 once ran), and a rate search that fails at the lowest rate names the target
/// that fails: `--slo-tpot 1e-9` blamed the time to the first token.
#[test]
fn slo_targets_are_checked_and_the_failing_one_is_named() {
    for share in ["1.5", "0"] {
        let e = common::fails(&["serve", "--slo-ttft", "2", "--slo-attainment", share]);
        assert!(
            e.contains(&format!("--slo-attainment {share}: give a share in (0, 1]")),
            "{e}"
        );
    }
    let e = common::fails(&[
        "serve",
        "--find-max-rate",
        "--slo-tpot",
        "1e-9",
        "--requests",
        "20",
    ]);
    assert!(
        e.contains("per output token") && e.contains("over --slo-tpot 1e-9; loosen it"),
        "{e}"
    );
    assert!(!e.contains("first token"), "{e}");
    // With a TTFT target that holds, still only the TPOT is named.
    let e = common::fails(&[
        "serve",
        "--find-max-rate",
        "--slo-tpot",
        "1e-9",
        "--slo-ttft",
        "10",
        "--requests",
        "20",
    ]);
    assert!(e.contains("--slo-tpot") && !e.contains("--slo-ttft"), "{e}");
}

/// Under a fitted profile a serving run states 80 % intervals (issue 21 item 3): the same
/// requests with every step × the ends of the profile's interval of a run's time. A request
/// alone then has exactly `simulate`'s interval of its prefill; every figure's interval holds
/// the run's own value; steps slower by ×1.5 move the tail latencies by more than ×1.5 once
/// requests queue; the roofline states none; a measured baseline (`--anchor-ms`) narrows it.
#[test]
fn a_serving_run_under_a_fitted_profile_states_intervals() {
    let run = ["--gpu", "h100", "--framework", "hf", "--frames", "8"];
    let serve = |extra: &[&str]| {
        let mut a = vec!["serve"];
        a.extend(run);
        a.extend(extra);
        common::json(&a)
    };
    let pair = |v: &serde_json::Value| [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()];
    let sim = common::json(&run);
    let want = pair(&sim["totals"]["time_interval_s"]);
    let alone = serve(&["--rate", "0.01", "--requests", "3"]);
    let got = pair(&alone["interval"]["prefill_alone_s"]);
    assert!(
        rel(got[0], want[0]) < 1e-12 && rel(got[1], want[1]) < 1e-12,
        "{got:?} vs simulate's {want:?}"
    );
    let ttft = pair(&alone["interval"]["ttft_p50_s"]);
    assert!(
        rel(ttft[0], want[0]) < 1e-9 && rel(ttft[1], want[1]) < 1e-9,
        "{ttft:?}"
    );

    // Near saturation a slower stack queues: the p99 TTFT grows by more than the factor.
    let busy = serve(&["--rate", "20", "--requests", "300"]);
    let i = &busy["interval"];
    let [f_lo, f_hi] = pair(&i["time_factors"]);
    assert!(f_lo < 1.0 && f_hi > 1.0, "{i}");
    let s = &busy["summary"];
    for (key, value) in [
        ("ttft_p50_s", &s["ttft"]["p50_s"]),
        ("ttft_p99_s", &s["ttft"]["p99_s"]),
        ("tpot_p50_s", &s["tpot"]["p50_s"]),
        ("throughput_requests_per_s", &s["throughput_requests_per_s"]),
    ] {
        let [lo, hi] = pair(&i[key]);
        let v = value.as_f64().unwrap();
        assert!(
            lo <= v && v <= hi && lo < hi,
            "{key}: {v} outside {lo}–{hi}"
        );
    }
    let p99 = s["ttft"]["p99_s"].as_f64().unwrap();
    assert!(pair(&i["ttft_p99_s"])[1] > f_hi * p99, "{i}");

    // The roofline is a bound: no interval, the JSON as before.
    let roofline = common::json(&[
        "serve",
        "--gpu",
        "h100",
        "--frames",
        "8",
        "--requests",
        "20",
    ]);
    assert!(roofline.get("interval").is_none(), "{roofline}");
    // One's own measured baseline narrows the factors.
    let anchored = serve(&["--requests", "20", "--anchor-ms", "60"]);
    let [a_lo, a_hi] = pair(&anchored["interval"]["time_factors"]);
    assert!(a_hi / a_lo < f_hi / f_lo, "{a_lo}–{a_hi} vs {f_lo}–{f_hi}");
    // The table says it, and so does a search for the highest rate.
    let mut table = vec!["serve"];
    table.extend(run);
    table.extend(["--requests", "50"]);
    let t = common::ok(&table);
    assert!(
        t.contains("80 %, every step ×") && t.contains("TTFT p50 "),
        "{t}"
    );
    let max = serve(&["--requests", "100", "--find-max-rate", "--slo-ttft", "0.2"]);
    let rate = max["rate_per_s"].as_f64().unwrap();
    let [r_lo, r_hi] = pair(&max["rate_interval_per_s"]);
    assert!(r_lo < rate && rate < r_hi, "{r_lo}–{r_hi} around {rate}");
    assert!(max["at_max"]["interval"].is_object(), "{max}");
    // A target the slow end cannot meet at any rate (a request alone, 53 ms as predicted, ×1.5
    // is past 60 ms): that end's highest rate is 0, not an error.
    let edge = common::json(&[
        "serve",
        "--gpu",
        "h100",
        "--framework",
        "hf",
        "--frames",
        "32",
        "--requests",
        "100",
        "--find-max-rate",
        "--slo-ttft",
        "0.06",
    ]);
    let [e_lo, e_hi] = pair(&edge["rate_interval_per_s"]);
    assert!(
        e_lo == 0.0 && e_hi > edge["rate_per_s"].as_f64().unwrap(),
        "{edge}"
    );

    // No stack serves the requests faster than the roofline does: a wide profile (trtllm's MoE
    // runs, ×0.13 at the fast end) once put TTFT and TPOT lows 4.7× below the roofline's run.
    let moe = [
        "--model",
        "qwen3-vl-30b-a3b",
        "--gpu",
        "h100",
        "--rate",
        "4",
        "--requests",
        "100",
    ];
    let mut fitted = vec!["serve", "--framework", "trtllm"];
    fitted.extend(moe);
    let mut roofline = vec!["serve"];
    roofline.extend(moe);
    let (fitted, roofline) = (common::json(&fitted), common::json(&roofline));
    let i = &fitted["interval"];
    assert!(pair(&i["time_factors"])[0] < 0.5, "{i}");
    for (key, ideal) in [
        ("ttft_p50_s", &roofline["summary"]["ttft"]["p50_s"]),
        ("tpot_p50_s", &roofline["summary"]["tpot"]["p50_s"]),
        ("prefill_alone_s", &roofline["summary"]["prefill_alone_s"]),
    ] {
        let ideal = ideal.as_f64().unwrap();
        let low = pair(&i[key])[0];
        assert!(
            low >= ideal * (1.0 - 1e-12),
            "{key}: {low} below the roofline's {ideal}"
        );
    }
    let ideal = roofline["summary"]["throughput_requests_per_s"]
        .as_f64()
        .unwrap();
    assert!(
        pair(&i["throughput_requests_per_s"])[1] <= ideal * (1.0 + 1e-12),
        "{i}"
    );
}

/// `serve --anchor-ms` with requests drawn from a distribution took the anchor in silence
/// (which input did it time?), and `--schedules` beside `--schedule` ignored the latter: both
/// are refused, as sweep refuses an anchor over varying frames.
#[test]
fn serve_refuses_an_anchor_on_drawn_inputs_and_two_schedule_flags() {
    let err = common::fails(&[
        "serve",
        "--framework",
        "hf",
        "--gpu",
        "h100",
        "--anchor-ms",
        "335",
        "--frames-dist",
        "uniform:8:64",
        "--requests",
        "20",
    ]);
    assert!(
        err.contains("but --frames-dist draws each request's") && err.contains("--anchor"),
        "{err}"
    );
    let err = common::fails(&[
        "serve",
        "--schedules",
        "none,linear",
        "--schedule",
        "fastv",
        "--requests",
        "20",
    ]);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// Weights larger than the GPU advised raising --gpu-memory-utilization (already at 1) and
/// printed a negative room: they are said to be too large, with the fixes that can work.
#[test]
fn weights_past_the_gpu_are_said_so() {
    let e = common::fails(&[
        "serve",
        "--rate",
        "2",
        "--model",
        "llava-ov-72b",
        "--gpu",
        "h100",
        "--gpu-memory-utilization",
        "1.0",
    ]);
    assert!(
        e.contains("the weights alone take") && e.contains("--tp"),
        "{e}"
    );
    assert!(
        !e.contains("raise --gpu-memory-utilization") && !e.contains("leaves -"),
        "{e}"
    );
}

/// serve's TTFT leaves the vision encoder out unless --include-vision is given, and no output
/// said which: the table says it and JSON carries include_vision.
#[test]
fn serve_says_whether_the_encoder_is_in_its_prefills() {
    let base = ["serve", "--rate", "1", "--requests", "3"];
    let without = common::ok(&base);
    assert!(
        without.contains("the LLM's alone: no vision encoder"),
        "{without}"
    );
    let with = common::ok(&[&base[..], &["--include-vision"]].concat());
    assert!(with.contains("vision encoder included"), "{with}");
    let json = common::json(&base);
    assert_eq!(json["include_vision"], false);
}

/// A trace without a frames or visual_tokens column made every request text-only in silence;
/// --frames beside a trace was accepted and ignored; a trace of absolute timestamps counted
/// the idle time before its first request, so throughput read 60× low.
#[test]
fn a_trace_says_what_it_lacks_and_starts_at_its_first_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let no_frames = write(
        "nof.csv",
        "arrival_s,text_tokens,output_tokens\n0,100,64\n".into(),
    );
    let e = common::fails(&["serve", "--trace", &no_frames]);
    assert!(e.contains("no 'frames' or 'visual_tokens' column"), "{e}");
    let jsonl = write(
        "nof.jsonl",
        "{\"arrival_s\":0,\"text_tokens\":100,\"output_tokens\":64}\n".into(),
    );
    let e = common::fails(&["serve", "--trace", &jsonl]);
    assert!(e.contains("no frames or visual_tokens"), "{e}");
    let rows = |start: f64| {
        (0..20)
            .map(|i| format!("{:.3},8,100,16\n", start + i as f64 * 0.25))
            .collect::<String>()
    };
    let header = "arrival_s,frames,text_tokens,output_tokens\n";
    let zero = write("zero.csv", format!("{header}{}", rows(0.0)));
    let e = common::fails(&["serve", "--trace", &zero, "--frames", "32"]);
    assert!(e.contains("drop --frames"), "{e}");
    let late = write("late.csv", format!("{header}{}", rows(3600.0)));
    let (a, b) = (
        common::json(&["serve", "--trace", &zero]),
        common::json(&["serve", "--trace", &late]),
    );
    assert_eq!(a["summary"], b["summary"]);
}

/// With no SLO target, a schedule comparison said "SLO met 100.0%" for every schedule, a
/// result of nothing: it says "—".
#[test]
fn no_target_no_slo_met_figure() {
    let base = [
        "serve",
        "--schedules",
        "none,linear",
        "--rate",
        "1",
        "--requests",
        "5",
    ];
    let table = common::ok(&base);
    let row = table.lines().find(|l| l.starts_with("linear")).unwrap();
    assert!(row.contains(" — ") && !row.contains("100.0%"), "{row}");
    let with = common::ok(&[&base[..], &["--slo-ttft", "10"]].concat());
    let row = with.lines().find(|l| l.starts_with("linear")).unwrap();
    assert!(row.contains("100.0%"), "{row}");
}

/// `--requests 10000001` was told to "lower --rate or --duration", neither given, and only
/// after drawing ten million requests; it is told the count is too large, at once.
#[test]
fn too_many_requests_names_the_requests() {
    let e = common::fails(&["serve", "--requests", "10000001"]);
    assert!(
        e.contains("--requests 10000001 is more than 10 million"),
        "{e}"
    );
}

/// `--trace` beside `--schedules` was refused by clap with no reason: each schedule now runs
/// the trace's requests, as `--schedule NAME --trace` does alone.
#[test]
fn schedules_run_side_by_side_on_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    let rows: String = (0..12)
        .map(|i| format!("{:.2},{},100,16\n", i as f64 * 0.3, 4 + 4 * (i % 3)))
        .collect();
    std::fs::write(
        &trace,
        format!("arrival_s,frames,text_tokens,output_tokens\n{rows}"),
    )
    .unwrap();
    let t = trace.to_str().unwrap();
    let both = common::json(&["serve", "--trace", t, "--schedules", "none,linear"]);
    for (i, name) in ["none", "linear"].into_iter().enumerate() {
        let alone = common::json(&["serve", "--trace", t, "--schedule", name]);
        assert_eq!(both["answers"][i]["summary"], alone["summary"], "{name}");
        assert_eq!(both["answers"][i]["requests"], alone["requests"], "{name}");
    }
    assert_ne!(both["answers"][0]["summary"], both["answers"][1]["summary"]);
    // A trace has no Poisson rate: the table said NaN, the CSV too; with no target, the CSV's
    // SLO cell is empty as the table's is "—" (it said 1).
    let table = common::ok(&["serve", "--trace", t, "--schedules", "none,linear"]);
    let row = table.lines().find(|l| l.starts_with("linear")).unwrap();
    assert!(row.contains(" trace ") && row.contains(" — "), "{row}");
    assert!(!table.contains("NaN"), "{table}");
    let csv = common::ok(&[
        "serve",
        "--trace",
        t,
        "--schedules",
        "none,linear",
        "--format",
        "csv",
    ]);
    let head: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let cells: Vec<&str> = csv.lines().nth(2).unwrap().split(',').collect();
    let cell = |name: &str| cells[head.iter().position(|h| *h == name).unwrap()];
    assert_eq!(
        (cell("rate_per_s"), cell("slo_attainment")),
        ("", ""),
        "{csv}"
    );
    let with_target = common::ok(&[
        "serve",
        "--trace",
        t,
        "--schedules",
        "none,linear",
        "--format",
        "csv",
        "--slo-ttft",
        "5",
    ]);
    let cells: Vec<&str> = with_target.lines().nth(2).unwrap().split(',').collect();
    assert_eq!(cell("slo_attainment"), "", "the cell read before: {csv}");
    assert_eq!(
        cells[head.iter().position(|h| *h == "slo_attainment").unwrap()],
        "1"
    );
}

/// `simulate --tokens 6300` warns that 6300 is not whole frames; `serve` priced the same input
/// and said nothing. It warns on standard error, in the table and in JSON (`warnings`).
#[test]
fn serve_warns_of_its_input_as_simulate_does() {
    let args = ["serve", "--tokens", "6300", "--requests", "5"];
    let out = common::run(&args);
    assert!(out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    for text in [&stdout, &stderr] {
        assert!(
            text.contains("warning: --tokens 6300 is not a multiple of --tokens-per-frame 196"),
            "{text}"
        );
    }
    let json = common::json(&args);
    assert!(json["warnings"][0]
        .as_str()
        .unwrap()
        .contains("not a multiple"));
    let compared = common::json(&[&args[..], &["--schedules", "none,linear"]].concat());
    assert!(compared["answers"][1]["warnings"][0].is_string());
    let clean = common::json(&["serve", "--frames", "8", "--requests", "5"]);
    assert!(clean.get("warnings").is_none());
}

/// `--slo-attainment` without a target was accepted and changed nothing: it is the share of
/// requests meeting `--slo-ttft`/`--slo-tpot`, so alone it is refused.
#[test]
fn an_attainment_without_a_target_is_refused() {
    let e = common::fails(&["serve", "--requests", "5", "--slo-attainment", "0.9"]);
    assert!(
        e.contains("--slo-attainment is the share of requests that must meet --slo-ttft or --slo-tpot, and neither is given"),
        "{e}"
    );
    common::ok(&[
        "serve",
        "--requests",
        "5",
        "--slo-ttft",
        "1",
        "--slo-attainment",
        "0.9",
    ]);
}
