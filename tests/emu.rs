//! Every kernel of `kernels/*.cu`, executed on the CPU by the emulator (`aim_sim::kernels::emu`)
//! with the launch configurations the GPU launchers use, against the CPU references; planted
//! bugs (mutants) that these tests must catch; and checks of the emulator itself. Every test
//! here has `emu` in its name: `cargo test emu` runs them all. The same cases run on a GPU in
//! `tests/cuda.rs`.

mod kernel_cases;

use aim_sim::kernels::emu::{self, ops, Arg, Buffer, Emu, MUTANTS};
use aim_sim::kernels::launch::{self, Launch};
use aim_sim::kernels::rng::SplitMix64;
use aim_sim::kernels::{cpu, KernelError, KernelSource};
use kernel_cases::edge::{self, edge_suites};
use kernel_cases::*;
use std::collections::BTreeSet;

fn ok(result: CaseResult) {
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---- The kernels as written -----------------------------------------------------------------

#[test]
fn emu_holds_every_entry_point_of_every_source() {
    let compiled: BTreeSet<String> = emu::entry_points()
        .into_iter()
        .filter(|e| e.variant.is_empty() && e.source.ends_with(".cu"))
        .map(|e| format!("{}:{}", e.source, e.name))
        .collect();
    let registered: BTreeSet<String> = KernelSource::ALL
        .iter()
        .flat_map(|s| {
            s.entry_points()
                .iter()
                .map(move |n| format!("{}:{n}", s.file_name()))
        })
        .collect();
    assert_eq!(
        compiled, registered,
        "kernels/emu/<source>.cpp must list every entry point"
    );
}

#[test]
fn emu_merge_matches_cpu() {
    ok(merge_suite(&Emu::new()));
}

#[test]
fn emu_merge_ranking_and_copy_path_with_r_below_n_a() {
    // r < nA: the ranking decides which A tokens merge and the order of the copied ones.
    let emu = Emu::new();
    ok(merge_case::<f32>(&emu, 3, 196, 40, 37, 1));
    ok(merge_case::<f32>(&emu, 2, 101, 40, 0, 2));
    ok(merge_case::<f32>(&emu, 2, 101, 40, 49, 3));
}

#[test]
fn emu_merge_chain_196_to_24_by_value() {
    let emu = Emu::new();
    assert_eq!(
        aim_sim::kernels::merge_passes(196, 24).unwrap(),
        vec![98, 49, 24, 1]
    );
    ok(merge_chain_case::<f32>(&emu, 3, 196, 40, 24, 4));
    ok(merge_chain_case::<half::bf16>(&emu, 3, 196, 40, 24, 5));
}

#[test]
fn emu_attention_matches_cpu() {
    ok(attention_suite(&Emu::new()));
}

#[test]
fn emu_attention_causal_edges() {
    // The first query sees only the first key: its output is v_0 of its KV head, exactly.
    let emu = Emu::new();
    let s = shape(4, 2, 40, 64);
    let mut rng = SplitMix64::new(6);
    let (q, k, v) = (
        rng.normal_vec(s.q_len()),
        rng.normal_vec(s.kv_len()),
        rng.normal_vec(s.kv_len()),
    );
    let o = ops::flash_attention(&emu, &s, &q, &k, &v).unwrap();
    let per_head = s.tokens * s.head_dim;
    for h in 0..s.heads {
        let kv = s.kv_head(h);
        assert_eq!(
            o[h * per_head..h * per_head + s.head_dim],
            v[kv * per_head..kv * per_head + s.head_dim],
            "head {h}"
        );
    }
    // A key that every query would prefer, placed last: only the last query may see it.
    let mut k2 = k.clone();
    for kv in 0..s.kv_heads {
        let last = (kv * s.tokens + s.tokens - 1) * s.head_dim;
        for c in 0..s.head_dim {
            k2[last + c] = 50.0 * q[c].signum();
        }
    }
    let o2 = ops::flash_attention(&emu, &s, &q, &k2, &v).unwrap();
    let last_row = (s.tokens - 1) * s.head_dim;
    assert_eq!(
        o[..last_row],
        o2[..last_row],
        "rows before the last cannot see the last key"
    );
    ok(flash_case::<f32>(&emu, &shape(1, 1, 1, 128), 7));
}

#[test]
fn emu_pagerank_matches_cpu() {
    ok(pagerank_suite(&Emu::new()));
}

#[test]
fn emu_prune_matches_cpu() {
    ok(prune_suite(&Emu::new()));
}

#[test]
fn emu_nan_scores_rank_last_and_never_overflow_the_kept_rows() {
    // Every visual score NaN but four: the four are kept first, then NaNs by position.
    let emu = Emu::new();
    let mut score = vec![f32::NAN; 40];
    for (j, s) in [(7, 0.5), (30, -2.0), (12, 3.0), (2, 1.0)] {
        score[j] = s;
    }
    let hidden: Vec<f32> = (0..40).map(|j| j as f32).collect();
    let run = ops::prune(&emu, &hidden, 1, &score, 0..40, 6).unwrap();
    assert_eq!(
        run.index,
        vec![0, 1, 2, 7, 12, 30],
        "4 numbers, then NaN at 0 and 1"
    );
    assert_eq!(run.count, 6);
    let cpu_index = cpu::select_tokens(&score, 0..40, 6).unwrap();
    assert_eq!(cpu_index, vec![0, 1, 2, 7, 12, 30]);
    assert!(cpu::ranks_before(0.0, 5, f32::NAN, 1));
    assert!(cpu::ranks_before(-0.0, 1, 0.0, 2) && !cpu::ranks_before(0.0, 2, -0.0, 1));
    assert!(cpu::ranks_before(f32::NAN, 1, f32::NAN, 2));
}

#[test]
fn emu_select_compact_never_writes_past_its_buffer() {
    // 700 flags set, room for 100: the first 100 positions, and the true count for the launcher.
    let emu = Emu::new();
    let (index, count) = ops::select_compact(&emu, &vec![1; 700], 100).unwrap();
    assert_eq!(index, (0..100).collect::<Vec<i32>>());
    assert_eq!(count, 700);
    let flags: Vec<i32> = (0..2500).map(|j| (j % 7 == 0) as i32).collect();
    let (index, count) = ops::select_compact(&emu, &flags, 358).unwrap();
    assert_eq!(count, 358);
    assert_eq!(
        index,
        (0..2500).filter(|j| j % 7 == 0).collect::<Vec<i32>>()
    );
}

#[test]
fn emu_layer_passes_match_cpu() {
    ok(layers_suite(&Emu::new()));
}

// ---- Edge-case inputs (tests/kernel_cases/edge.rs) ------------------------------------------

#[test]
fn emu_merge_edge_cases_match_cpu() {
    ok(edge::merge_edge_suite(&Emu::new()));
}

#[test]
fn emu_attention_edge_cases_match_cpu() {
    ok(edge::attention_edge_suite(&Emu::new()));
}

#[test]
fn emu_importance_edge_cases_match_cpu() {
    ok(edge::pagerank_edge_suite(&Emu::new()));
}

#[test]
fn emu_prune_edge_cases_match_cpu() {
    ok(edge::prune_edge_suite(&Emu::new()));
}

#[test]
fn emu_layer_edge_cases_match_cpu() {
    ok(edge::layers_edge_suite(&Emu::new()));
}

#[test]
fn emu_compact_edge_sizes() {
    ok(edge::compact_edge_suite(&Emu::new()));
}

/// A small run of every operation in both element types and head dims: every entry point of
/// every source must have been launched (and compared) by the end.
#[test]
fn emu_every_entry_point_runs() {
    let emu = Emu::new();
    use half::bf16;
    let mut results = vec![
        merge_case::<f32>(&emu, 1, 20, 8, 5, 8),
        merge_case::<bf16>(&emu, 1, 20, 8, 5, 8),
        pagerank_materialised_case(&emu, 2, 20, 8),
        prune_case::<f32>(&emu, 30, 4, 3..27, 9, Scores::Normal, 8),
        prune_case::<bf16>(&emu, 30, 4, 3..27, 9, Scores::Normal, 8),
    ];
    for d in [64, 128] {
        let s = shape(2, 1, 20, d);
        results.push(flash_case::<f32>(&emu, &s, 8));
        results.push(flash_case::<bf16>(&emu, &s, 8));
        results.push(eager_case::<f32>(&emu, &s, 8));
        results.push(eager_case::<bf16>(&emu, &s, 8));
        results.push(pagerank_fused_case::<f32>(&emu, &s, 8));
        results.push(pagerank_fused_case::<bf16>(&emu, &s, 8));
    }
    results.push(rmsnorm_case::<f32>(&emu, 2, 16, 8));
    results.push(rmsnorm_case::<bf16>(&emu, 2, 16, 8));
    results.push(rope_case::<f32>(&emu, 2, 2, 16, 8));
    results.push(rope_case::<bf16>(&emu, 2, 2, 16, 8));
    results.push(swiglu_case::<f32>(&emu, 40, 8));
    results.push(swiglu_case::<bf16>(&emu, 40, 8));
    results.push(add_and_copy_case::<f32>(&emu, 40, 8));
    results.push(add_and_copy_case::<bf16>(&emu, 40, 8));
    ok(all(results));
    let launched: BTreeSet<&str> = emu::launched().into_iter().collect();
    let missing: Vec<&str> = KernelSource::ALL
        .iter()
        .flat_map(|s| s.entry_points().iter().copied())
        .filter(|name| !launched.contains(name))
        .collect();
    assert!(missing.is_empty(), "never launched: {missing:?}");
}

// ---- Planted bugs ---------------------------------------------------------------------------

/// A named check run on the kernels as written and on a mutant.
type Check = (&'static str, Box<dyn Fn(&Emu) -> CaseResult>);

/// A check that must fail with a message containing `needle` (the checker's own finding, not a
/// wrong number that happens to follow).
fn must_report(
    needle: &'static str,
    f: impl Fn(&Emu) -> CaseResult + 'static,
) -> Box<dyn Fn(&Emu) -> CaseResult> {
    Box::new(move |e: &Emu| match f(e) {
        Err(msg) if !msg.contains(needle) => Err(format!(
            "failed, but without `{needle}` in the message (the checker did not see it): {msg}"
        )),
        other => other,
    })
}

/// The checks that must fail for each planted mutant (and pass without it).
fn check_for(mutant: &str) -> Vec<Check> {
    use half::bf16;
    match mutant {
        "merge_rank_inverted" => vec![(
            "merge r < nA",
            Box::new(|e: &Emu| merge_case::<f32>(e, 2, 196, 40, 37, 1)),
        )],
        "merge_copy_wrong_row" => vec![(
            "merge r = 0",
            Box::new(|e: &Emu| merge_case::<f32>(e, 2, 61, 33, 0, 2)),
        )],
        "attn_causal_future_key" => vec![(
            "flash attention",
            Box::new(|e: &Emu| flash_case::<f32>(e, &shape(4, 2, 77, 64), 3)),
        )],
        "silu_sign" => vec![("swiglu", Box::new(|e: &Emu| swiglu_case::<f32>(e, 4096, 4)))],
        "rmsnorm_one_percent" => vec![
            (
                "rmsnorm f32",
                Box::new(|e: &Emu| rmsnorm_case::<f32>(e, 37, 200, 5)),
            ),
            (
                "rmsnorm bf16",
                Box::new(|e: &Emu| rmsnorm_case::<bf16>(e, 37, 200, 5)),
            ),
        ],
        "importance_one_percent" => vec![
            (
                "materialised importance",
                Box::new(|e: &Emu| pagerank_materialised_case(e, 4, 150, 6)),
            ),
            (
                "fused importance",
                Box::new(|e: &Emu| pagerank_fused_case::<f32>(e, &shape(4, 2, 150, 64), 6)),
            ),
        ],
        "compact_unbounded" => vec![(
            "compaction into a short buffer",
            Box::new(|e: &Emu| {
                ops::select_compact(e, &vec![1; 700], 100)
                    .map(|_| ())
                    .map_err(|err| err.to_string())
            }),
        )],
        // The missing barriers of the issue, each found by the race detector itself.
        "block_sum_no_first_barrier" => vec![(
            "race in block_sum (a softmax's block_max then block_sum)",
            must_report("race", |e: &Emu| {
                eager_case::<f32>(e, &shape(2, 1, 40, 64), 5)
            }),
        )],
        "flash_no_reload_barrier" => vec![(
            "race in flash attention",
            must_report("race", |e: &Emu| {
                flash_case::<f32>(e, &shape(2, 1, 40, 64), 3)
            }),
        )],
        "compact_no_totals_barrier" => vec![(
            "race in select_compact",
            must_report("race", |e: &Emu| {
                ops::select_compact(e, &vec![1; 100], 100)
                    .map(|_| ())
                    .map_err(|err| err.to_string())
            }),
        )],
        // The misaligned vector access that once killed the test binary with SIGSEGV.
        "rope_vector_misaligned" => vec![(
            "rope with head dim 12",
            must_report("layer_rope_f32", |e: &Emu| {
                rope_case::<f32>(e, 20, 5, 12, 3)
            }),
        )],
        _ => Vec::new(),
    }
}

#[test]
fn emu_mutants_are_caught() {
    // The three the issue names must be among them.
    for required in ["merge_rank_inverted", "attn_causal_future_key", "silu_sign"] {
        assert!(
            MUTANTS.iter().any(|m| m.name == required && m.planted),
            "mutant {required} is gone from kernels/emu/mutants.rs"
        );
    }
    let mut report = Vec::new();
    for m in MUTANTS.iter().filter(|m| m.planted) {
        if !m.applies {
            // A changed source, not a wrong result: the mutation score reports it as stale.
            report.push(format!(
                "{} skipped: stale (its text is gone from {})",
                m.name, m.file
            ));
            continue;
        }
        let emu = Emu::mutant(m.name).unwrap_or_else(|e| panic!("{e}"));
        let checks = check_for(m.name);
        assert!(
            !checks.is_empty(),
            "mutant {} has no check in tests/emu.rs",
            m.name
        );
        for (what, check) in checks {
            if let Err(e) = check(&Emu::new()) {
                panic!("{what} fails without mutant {}: {e}", m.name);
            }
            match check(&emu) {
                Ok(()) => panic!(
                    "mutant {} ({}: {}) passes the {what} check: `{}` -> `{}` in {}",
                    m.name, m.file, m.what, m.find, m.replace, m.file
                ),
                Err(e) => report.push(format!(
                    "{} caught by {what}: {}",
                    m.name,
                    e.lines().next().unwrap_or("")
                )),
            }
        }
    }
    println!("{}", report.join("\n"));
}

/// A suite's name and the suite on the emulator.
type NamedSuite = (&'static str, fn(&Emu) -> CaseResult);

/// The suites a mutant of `file` can change (kernels of other sources run as written).
fn suites_for(file: &str) -> Vec<NamedSuite> {
    // Edge cases first, then the random suites, merging last (the slowest to emulate).
    let mut suites = edge_suites();
    suites.extend::<Vec<edge::Suite>>(vec![
        ("attention.cu", "attention", |e| attention_suite(e)),
        ("pagerank.cu", "importance", |e| pagerank_suite(e)),
        ("pagerank.cu", "pruning", |e| prune_suite(e)),
        ("layers.cu", "layers", |e| layers_suite(e)),
        ("merge.cu", "merge", |e| merge_suite(e)),
    ]);
    suites
        .into_iter()
        .filter(|(source, _, _)| file.ends_with("common.cuh") || file.ends_with(source))
        .map(|(_, name, f)| (name, f))
        .collect()
}

/// The mutation score (issue 23): every mutant of kernels/emu/mutants.rs against the suites its
/// source can change. Needs the build with every mutant: `.ci/mutants.sh` (AIM_EMU_MUTANTS=all).
#[test]
#[ignore = "needs AIM_EMU_MUTANTS=all at build time; run .ci/mutants.sh"]
fn emu_mutation_score() {
    let stale: Vec<&str> = MUTANTS
        .iter()
        .filter(|m| !m.applies)
        .map(|m| m.name)
        .collect();
    assert!(
        stale.is_empty(),
        "stale mutants (their text is gone from the source; update kernels/emu/mutants.rs): {stale:?}"
    );
    let missing: Vec<&str> = MUTANTS
        .iter()
        .filter(|m| !m.compiled)
        .map(|m| m.name)
        .collect();
    assert!(
        missing.is_empty(),
        "mutants not in this build (build with AIM_EMU_MUTANTS=all, as .ci/mutants.sh does): {missing:?}"
    );
    // Two workers (launches run in forked children, so they overlap).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let verdicts = std::sync::Mutex::new(vec![None; MUTANTS.len()]);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(m) = MUTANTS.get(i) else { break };
                let emu = Emu::mutant(m.name).unwrap_or_else(|e| panic!("{e}"));
                let verdict = suites_for(m.file)
                    .into_iter()
                    .find_map(|(name, suite)| suite(&emu).err().map(|e| (name, e)));
                eprintln!("mutant {} done", m.name);
                verdicts.lock().unwrap()[i] = Some(verdict);
            });
        }
    });
    let verdicts = verdicts.into_inner().unwrap();
    let (mut caught, mut survived, mut equivalent) = (0usize, Vec::new(), 0usize);
    for (m, verdict) in MUTANTS.iter().zip(verdicts) {
        let verdict = verdict.expect("every mutant was run");
        match (verdict, m.equivalent) {
            (Some((suite, e)), None) => {
                caught += 1;
                let first = e.lines().nth(1).or(e.lines().next()).unwrap_or("").trim();
                println!(
                    "MUTANT {:<30} {:<9} caught    by {suite}: {first:.200}",
                    m.name, m.class
                );
            }
            (Some((suite, e)), Some(_)) => panic!(
                "mutant {} is listed as equivalent but the {suite} suite catches it: {e}",
                m.name
            ),
            (None, Some(why)) => {
                equivalent += 1;
                println!("MUTANT {:<30} {:<9} equivalent: {why}", m.name, m.class);
            }
            (None, None) => {
                survived.push(m.name);
                println!("MUTANT {:<30} {:<9} SURVIVED: {}", m.name, m.class, m.what);
            }
        }
    }
    let scored = MUTANTS.len() - equivalent;
    let score = caught as f64 / scored as f64;
    println!(
        "MUTATION SCORE {caught}/{scored} = {:.1} % ({} mutants, {equivalent} equivalent, survivors {survived:?})",
        100.0 * score,
        MUTANTS.len()
    );
    assert!(
        score >= 0.95,
        "mutation score {:.1} % is below 95 %: survivors {survived:?}",
        100.0 * score
    );
}

// ---- The emulator itself --------------------------------------------------------------------

fn selftest(
    kernel: &'static str,
    grid: u64,
    block: [u32; 3],
    args: &mut [Arg<'_>],
) -> Result<(), KernelError> {
    Emu::new().launch(kernel, Launch::new(kernel, [grid, 1, 1], block)?, args)
}

#[test]
fn emu_runtime_shuffles_and_votes_follow_cuda() {
    // Two blocks of 64 threads as (32, 2): two warps each, lanes by linear thread index.
    let mut out = Buffer::filled(128 * 8, -7i32);
    selftest(
        "emu_selftest_warp",
        2,
        [32, 2, 1],
        &mut [Arg::Buf(&mut out)],
    )
    .unwrap();
    let out = out.to_vec::<i32>();
    for g in 0..128 {
        let t = (g % 64) as i32;
        let lane = t & 31;
        let r = &out[g * 8..g * 8 + 8];
        assert_eq!(r[0], t ^ 5, "xor, thread {g}");
        assert_eq!(r[1], if lane >= 3 { t - 3 } else { t }, "up, thread {g}");
        assert_eq!(r[2], if lane < 29 { t + 3 } else { t }, "down, thread {g}");
        assert_eq!(r[3], (t & !31) + 7, "idx, thread {g}");
        assert_eq!(r[4], t ^ 1, "xor within width 8");
        assert_eq!(r[5] as u32, 0x4924_9249, "ballot of lane % 3 == 0");
        assert_eq!(r[6], 1, "any(lane == 17) and not all(lane < 31)");
        let want7 = if lane < 16 {
            if lane < 15 {
                t + 1
            } else {
                t
            }
        } else {
            -1
        };
        assert_eq!(r[7], want7, "partial-mask down, thread {g}");
    }
}

#[test]
fn emu_runtime_shares_memory_within_a_block_across_barriers() {
    let mut counts = Buffer::filled(3, -1i32);
    let mut neighbours = Buffer::filled(3 * 96, -1i32);
    selftest(
        "emu_selftest_barrier",
        3,
        [96, 1, 1],
        &mut [Arg::Buf(&mut counts), Arg::Buf(&mut neighbours)],
    )
    .unwrap();
    assert_eq!(counts.to_vec::<i32>(), vec![48, 48, 48]);
    let n = neighbours.to_vec::<i32>();
    for b in 0..3 {
        for t in 0..96 {
            assert_eq!(n[b * 96 + t], 1000 * b as i32 + ((t + 1) % 96) as i32);
        }
    }
}

#[test]
fn emu_runtime_reports_deadlocks_and_overruns() {
    let mut out = Buffer::filled(64, 0i32);
    let err = selftest(
        "emu_selftest_deadlock",
        1,
        [64, 1, 1],
        &mut [Arg::Buf(&mut out)],
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("deadlock") && text.contains("__shfl_xor_sync"),
        "{text}"
    );

    let mut out = Buffer::filled(100, 0.0f32);
    selftest(
        "emu_selftest_overrun",
        1,
        [128, 1, 1],
        &mut [Arg::Buf(&mut out), Arg::I32(100), Arg::I32(0)],
    )
    .unwrap();
    let err = selftest(
        "emu_selftest_overrun",
        1,
        [128, 1, 1],
        &mut [Arg::Buf(&mut out), Arg::I32(100), Arg::I32(3)],
    )
    .unwrap_err();
    // The checker sees the first access past the end, naming the line.
    assert!(
        err.to_string().contains("out-of-bounds global write")
            && err.to_string().contains("selftest.cpp:"),
        "{err}"
    );

    // Arguments that do not match the kernel's parameters are refused before it runs.
    let err = selftest(
        "emu_selftest_overrun",
        1,
        [128, 1, 1],
        &mut [Arg::Buf(&mut out), Arg::I32(1)],
    )
    .unwrap_err();
    assert!(err.to_string().contains("takes parameters 'Fii'"), "{err}");
    let mut ints = Buffer::filled(4, 0i32);
    assert!(selftest(
        "emu_selftest_overrun",
        1,
        [128, 1, 1],
        &mut [Arg::Buf(&mut ints), Arg::I32(1), Arg::I32(0)]
    )
    .is_err());
    assert!(Emu::new()
        .launch("no_such_kernel", launch::select_compact().unwrap(), &mut [])
        .is_err());
    assert!(Emu::mutant("no_such_mutant").is_err());
}

// ---- The checker: races, uninitialised shared memory, bounds, alignment, crashes -------------

fn race(kind: i32) -> Result<Vec<i32>, KernelError> {
    // Two blocks: block 0 resumes its threads in increasing order (which access comes first).
    let mut out = Buffer::filled(128, -1i32);
    selftest(
        "emu_selftest_race",
        2,
        [64, 1, 1],
        &mut [Arg::Buf(&mut out), Arg::I32(kind)],
    )?;
    Ok(out.to_vec())
}

fn race_message(kind: i32) -> String {
    race(kind)
        .expect_err("the checker must flag this kernel")
        .to_string()
}

#[test]
fn emu_checker_flags_read_after_write() {
    let m = race_message(0);
    assert!(m.contains("shared-memory race (read after write)"), "{m}");
    assert!(m.contains("emu_selftest_race"), "names the kernel: {m}");
    // Both source lines and the shared array.
    assert!(m.matches("selftest.cpp:").count() >= 2, "{m}");
    assert!(m.contains("::s + "), "names the array: {m}");
}

#[test]
fn emu_checker_flags_write_after_read() {
    let m = race_message(1);
    assert!(m.contains("shared-memory race (write after read)"), "{m}");
    assert!(m.matches("selftest.cpp:").count() >= 2, "{m}");
}

#[test]
fn emu_checker_flags_write_after_write() {
    let m = race_message(2);
    assert!(m.contains("shared-memory race (write after write)"), "{m}");
}

#[test]
fn emu_checker_orders_a_warp_by_syncwarp_but_not_by_a_shuffle() {
    // __syncwarp orders its lanes' memory accesses (PTX bar.warp.sync) ...
    let out = race(3).unwrap();
    for (t, &got) in out[..64].iter().enumerate() {
        assert_eq!(got, (t ^ 1) as i32);
    }
    // ... a shuffle only exchanges registers: the same exchange through shared memory races.
    let m = race_message(4);
    assert!(m.contains("shared-memory race (read after write)"), "{m}");
}

#[test]
fn emu_checker_flags_uninitialised_shared_reads() {
    let m = race_message(5);
    assert!(m.contains("uninitialised shared-memory read"), "{m}");
    assert!(m.contains("thread 63"), "{m}");
}

#[test]
fn emu_checker_passes_the_barriered_version() {
    let out = race(6).unwrap();
    for b in 0..2 {
        for t in 0..64 {
            assert_eq!(out[b * 64 + t], if t >= 32 { t as i32 - 32 } else { 0 });
        }
    }
}

#[test]
fn emu_checker_flags_out_of_bounds_global_reads() {
    let mut input = Buffer::filled(64, 1.0f32);
    let mut out = Buffer::filled(64, 0.0f32);
    selftest(
        "emu_selftest_read_past",
        1,
        [64, 1, 1],
        &mut [
            Arg::Buf(&mut input),
            Arg::Buf(&mut out),
            Arg::I32(64),
            Arg::I32(0),
        ],
    )
    .unwrap();
    let err = selftest(
        "emu_selftest_read_past",
        1,
        [64, 1, 1],
        &mut [
            Arg::Buf(&mut input),
            Arg::Buf(&mut out),
            Arg::I32(64),
            Arg::I32(1),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("out-of-bounds global read of 4 bytes at byte offset 256 of argument 0"),
        "{err}"
    );
    // The report gives the buffer's and the access's addresses (256 bytes apart), so that a
    // report about some other mapping near a buffer can be told from a real overrun.
    let hex_after = |key: &str| {
        let at = err
            .find(key)
            .unwrap_or_else(|| panic!("no `{key}` in: {err}"))
            + key.len();
        let digits: String = err[at..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        u64::from_str_radix(&digits, 16)
            .unwrap_or_else(|_| panic!("no address after `{key}`: {err}"))
    };
    assert_eq!(
        hex_after("the access at 0x") - hex_after(" bytes at 0x"),
        256,
        "{err}"
    );
}

#[test]
fn emu_checker_flags_misaligned_vectors_and_survives_crashes() {
    let mut input = Buffer::filled(64, 1.0f32);
    let mut out = Buffer::filled(32, 0.0f32);
    let mut run = |offset: i32, crash: i32| {
        selftest(
            "emu_selftest_vector",
            1,
            [32, 1, 1],
            &mut [
                Arg::Buf(&mut input),
                Arg::Buf(&mut out),
                Arg::I32(offset),
                Arg::I32(crash),
            ],
        )
    };
    run(4, 0).unwrap();
    let err = run(2, 0).unwrap_err().to_string();
    assert!(err.contains("misaligned 16-byte read"), "{err}");
    // A kernel that faults fails its own launch, by name; the test binary lives on.
    let err = run(0, 1).unwrap_err().to_string();
    assert!(
        err.contains("emu_selftest_vector") && err.contains("crashed the emulator with signal"),
        "{err}"
    );
    run(4, 0).unwrap();
}
