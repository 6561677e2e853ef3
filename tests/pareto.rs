//! `aim-sim pareto` and `plot pareto`: published accuracy beside computed cost, through the real
//! binary; the README's figures are the command's.

mod common;

use serde_json::Value;

fn rows(v: &Value) -> &Vec<Value> {
    v["rows"].as_array().expect("rows")
}

fn row<'a>(v: &'a Value, id: &str) -> &'a Value {
    rows(v)
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no row {id}"))
}

fn f(r: &Value, key: &str) -> f64 {
    r[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{}: no {key}", r["id"]))
}

const PAPER: &[&str] = &["--cost-model", "llm-viewer", "--skip-mlp-add"];

fn pareto(benchmark: &str, extra: &[&str]) -> Value {
    let mut args = vec!["pareto", "--benchmark", benchmark];
    args.extend(extra);
    common::json(&args)
}

#[test]
fn the_papers_accounting_reproduces_the_printed_flops() {
    let benchmarks: Vec<String> = aim_sim::pareto::published()
        .benchmark
        .iter()
        .map(|b| b.key.clone())
        .collect();
    let mut checked = std::collections::BTreeSet::new();
    for b in &benchmarks {
        let v = pareto(b, PAPER);
        for r in rows(&v) {
            let id = r["id"].as_str().unwrap();
            for key in [
                "method", "model", "setting", "accuracy", "pareto", "source", "status",
            ] {
                assert!(!r[key].is_null(), "{b} {id}: no {key}");
            }
            // Every row is priced: computed from its setting, or at its printed cost.
            let (flops, printed) = (f(r, "flops"), f(r, "printed_flops"));
            let hundredths = |x: f64| (x / 1e10).round() as i64;
            let off = (hundredths(flops) - hundredths(printed)).abs();
            match r["status"].as_str().unwrap() {
                "exact" => assert_eq!(off, 0, "{id}: {flops} vs printed {printed}"),
                "inferred" => assert!(off <= 1, "{id}: {flops} vs printed {printed}"),
                _ => assert_eq!(r["cost_source"], "printed", "{id}"),
            }
            checked.insert(id.to_string());
        }
    }
    assert_eq!(checked.len(), 45, "every published row");
}

#[test]
fn json_and_csv_carry_every_row() {
    let v = pareto("mvbench", &[]);
    assert_eq!(v["benchmark"]["key"], "mvbench");
    assert_eq!(v["by"], "time");
    let n = rows(&v).len();
    assert!(n >= 6, "{n}");
    let csv = common::ok(&["pareto", "--benchmark", "mvbench", "--format", "csv"]);
    assert_eq!(csv.lines().count(), n + 1);
    assert!(csv.starts_with("benchmark,id,group,method,"));
    // Pareto rows are those no other row beats: check against the JSON itself.
    let pts: Vec<(f64, Option<f64>, bool)> = rows(&v)
        .iter()
        .map(|r| (f(r, "accuracy"), r["time_s"].as_f64(), r["pareto"] == true))
        .collect();
    for &(a, c, opt) in &pts {
        let beaten = c.is_some_and(|c| {
            pts.iter()
                .any(|&(a2, c2, _)| c2.is_some_and(|c2| a2 >= a && c2 <= c && (a2 > a || c2 < c)))
        });
        assert_eq!(opt, c.is_some() && !beaten, "{a} {c:?}");
    }
}

#[test]
fn by_flops_and_by_time_can_disagree() {
    // Images in the refined model: fixed costs (merging, importance, small n) make time and
    // FLOPs rank some rows differently.
    let time = pareto("mme", &[]);
    let flops = pareto("mme", &["--by", "flops"]);
    assert_eq!(flops["by"], "flops");
    let marks = |v: &Value| -> Vec<bool> { rows(v).iter().map(|r| r["pareto"] == true).collect() };
    assert_ne!(marks(&time), marks(&flops));
}

#[test]
fn the_table_marks_the_frontier_and_the_printed_costs() {
    let t = common::ok(&[
        "pareto",
        "--benchmark",
        "videomme",
        "--cost-model",
        "llm-viewer",
        "--skip-mlp-add",
    ]);
    assert!(t.contains("★"), "{t}");
    assert!(t.contains("Pareto frontier by prefill time"), "{t}");
    assert!(t.contains("* printed cost"), "{t}");
    let refined = common::ok(&["pareto", "--benchmark", "videomme"]);
    assert!(refined.contains("not priced here"), "{refined}");
}

#[test]
fn bad_requests_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("p.png");
    let png = png.to_str().unwrap();
    for (args, needle) in [
        (vec!["pareto", "--benchmark", "video-mme"], "videomme"),
        (
            vec!["pareto", "--benchmark", "mme", "--frames", "64"],
            "--frames does not apply",
        ),
        (
            vec!["pareto", "--benchmark", "mme", "--schedule", "fastv"],
            "--schedule does not apply",
        ),
        (
            vec!["pareto", "--benchmark", "mme", "--gpu", "b300"],
            "unknown GPU",
        ),
        (vec!["pareto", "--benchmark", "mme", "--by", "cost"], "cost"),
        // Decode steps change no prefill figure (they were accepted, and the JSON's specs
        // said gen_tokens 100 beside the same numbers).
        (
            vec!["pareto", "--benchmark", "mme", "--gen-tokens", "100"],
            "--gen-tokens (decode steps) changes none of its figures",
        ),
        (
            vec![
                "plot",
                "pareto",
                "--benchmark",
                "mme",
                "--gen-tokens",
                "8",
                "-o",
                png,
            ],
            "--gen-tokens (decode steps) changes none of its figures",
        ),
        // The input's size sets the tokens per frame a row owns (the error said "give
        // --tokens-per-frame", which pareto refuses).
        (
            vec!["pareto", "--benchmark", "mme", "--video-seconds", "10"],
            "--video-seconds does not apply",
        ),
        (
            vec!["pareto", "--benchmark", "mme", "--image-size", "336x336"],
            "--image-size does not apply",
        ),
        (vec!["plot", "pareto", "-o", png], "needs --benchmark"),
        (
            vec![
                "plot",
                "pareto",
                "--benchmark",
                "mme",
                "--gpu",
                "a100,h100",
                "-o",
                png,
            ],
            "one value",
        ),
        (
            vec![
                "plot",
                "pareto",
                "--benchmark",
                "mme",
                "--frames",
                "8",
                "-o",
                png,
            ],
            "does not apply",
        ),
        (
            vec!["plot", "curves", "--benchmark", "mme", "-o", png],
            "only for `plot pareto`",
        ),
        (
            vec!["plot", "layers", "--compare-paper", "-o", png],
            "only for `plot pareto`",
        ),
    ] {
        let e = common::fails(&args);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}

/// The README's VideoMME table, rebuilt from the two commands it names.
#[test]
fn readme_figures_are_the_commands() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let paper = pareto("videomme", PAPER);
    let refined = pareto("videomme", &[]);
    let tf = |r: &Value| f(r, "flops") / 1e12;
    let ms = |r: &Value| f(r, "time_s") * 1e3;
    let base = |v: &Value| {
        let r = row(v, "video-llava-ov-7b");
        format!("{:.2} TFLOPs, {:.2} ms", tf(r), ms(r))
    };
    let red = |v: &Value, id: &str| {
        let r = row(v, id);
        format!(
            "{:.2}× FLOPs, {:.2}× time",
            f(r, "flops_reduction"),
            f(r, "time_reduction")
        )
    };
    let long = |v: &Value| {
        let r = row(v, "long-aim-192f");
        format!(
            "{:.2} ms, {:.2}× the baseline's",
            ms(r),
            1.0 / f(r, "time_reduction")
        )
    };
    let (p4, r4) = (row(&paper, "prune-exp4"), row(&refined, "prune-exp4"));
    let aim = row(&refined, "video-aim");
    assert!(p4["pareto"] == true && r4["pareto"] == false);
    assert!(f(aim, "accuracy") >= f(r4, "accuracy") && ms(aim) <= ms(r4));
    let (acc, aim_acc) = (f(p4, "accuracy"), f(aim, "accuracy"));
    for line in [
        format!(
            "| LLaVA-OV-7B, 32 frames ({:.1}): prefill | {} | {} |",
            f(row(&paper, "video-llava-ov-7b"), "accuracy"),
            base(&paper),
            base(&refined)
        ),
        format!(
            "| AIM default ({aim_acc:.1}): reduction against it | {} | {} |",
            red(&paper, "video-aim"),
            red(&refined, "video-aim")
        ),
        format!(
            "| AIM at 192 frames ({:.1}): prefill | {} | {} |",
            f(row(&paper, "long-aim-192f"), "accuracy"),
            long(&paper),
            long(&refined)
        ),
        format!(
            "| FastV ({:.1}): reduction | {} | {} |",
            f(row(&paper, "video-fastv"), "accuracy"),
            red(&paper, "video-fastv"),
            red(&refined, "video-fastv")
        ),
        format!(
            "| pruning l1=7, l2=29 ({acc:.1}): prefill | {:.2} ms, Pareto-optimal | {:.2} ms, dominated by AIM default |",
            ms(p4),
            ms(r4)
        ),
        // The prose rounds the same figures.
        format!(
            "{:.1}×\nagainst a FlashAttention baseline, not {:.0}×",
            f(row(&refined, "video-aim"), "time_reduction"),
            f(row(&paper, "video-aim"), "time_reduction")
        ),
    ] {
        assert!(readme.contains(&line), "README.md lacks:\n{line}");
    }
    // The counts in the prose.
    let data = aim_sim::pareto::published();
    let count = |s: aim_sim::pareto::Status| data.row.iter().filter(|r| r.status == s).count();
    let counts = format!("({} rows: 7 video and 7 image benchmarks", data.row.len());
    assert!(readme.contains(&counts), "{counts}");
    let statuses = format!(
        "({} exact, {} inferred; {} have no known setting)",
        count(aim_sim::pareto::Status::Exact),
        count(aim_sim::pareto::Status::Inferred),
        count(aim_sim::pareto::Status::Unknown)
    );
    assert!(readme.contains(&statuses), "{statuses}");
}

#[test]
fn plot_pareto_draws_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("a.png", &["--compare-paper"][..]),
        (
            "b.svg",
            &[
                "--by",
                "flops",
                "--cost-model",
                "llm-viewer",
                "--skip-mlp-add",
            ][..],
        ),
    ] {
        let out = dir.path().join(name);
        let mut args = vec![
            "plot",
            "pareto",
            "--benchmark",
            "videomme",
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        common::ok(&args);
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.len() > 10_000, "{name}: {} bytes", bytes.len());
        if name.ends_with(".svg") {
            let text = String::from_utf8(bytes).unwrap();
            for needle in [
                "VideoMME",
                "prefill TFLOPs, log scale",
                "Pareto frontier (by FLOPs)",
                "AIM, 192 f",
                "LLaVA-OV-7B (no reduction)",
            ] {
                assert!(text.contains(needle), "no '{needle}' in the SVG");
            }
        }
    }
}

/// With the vision encoder priced the costs run to the first token: the table and chart say
/// so (they once said "prefill cost" and "Pareto-optimal by prefill time").
#[test]
fn a_pareto_with_the_vision_encoder_names_its_cost() {
    let out = common::ok(&["pareto", "--benchmark", "videomme", "--include-vision"]);
    assert!(
        out.contains("beside aim-sim's time-to-first-token (vision encoder included) cost"),
        "{out}"
    );
    assert!(
        out.contains("Pareto-optimal by time to first token"),
        "{out}"
    );
    assert!(!out.contains("prefill"), "{out}");
    let json = common::json(&["pareto", "--benchmark", "videomme", "--include-vision"]);
    assert_eq!(json["to_first_token"], true);
    let json = common::json(&["pareto", "--benchmark", "videomme"]);
    assert!(json.get("to_first_token").is_none());
}

/// The runs a pareto prices warn as a single run of each would (the Jetson holds no row's
/// weights): each kind once, in the table, JSON, HTML and on standard error; they were dropped.
#[test]
fn the_rows_warnings_are_surfaced_once() {
    let args = [
        "pareto",
        "--benchmark",
        "videomme",
        "--gpu",
        "jetson-orin-nano",
    ];
    let single = common::run(&["--gpu", "jetson-orin-nano"]);
    assert!(String::from_utf8_lossy(&single.stderr).contains("the weights alone do not fit"));
    let out = common::run(&args);
    assert!(out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{stdout}");
    let w = warnings[0];
    for needle in [
        "every priced row: peak memory ",
        "the weights alone do not fit: use fewer --w-bits",
        " or layer ",
    ] {
        assert!(w.contains(needle), "{needle}: {w}");
    }
    assert_eq!(stderr.trim_end(), format!("aim-sim: {w}"));
    let json = common::json(&args);
    let listed = json["warnings"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(format!("warning: {}", listed[0].as_str().unwrap()), w);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("p.html");
    common::ok(&[&args[..], &["-o", page.to_str().unwrap()]].concat());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<h2>Warnings</h2>") && html.contains("the weights alone do not fit"));
    // Where every row fits, nothing is said.
    let a100 = common::run(&["pareto", "--benchmark", "videomme", "--gpu", "h100"]);
    assert!(
        a100.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&a100.stderr)
    );
    let json = common::json(&["pareto", "--benchmark", "mme"]);
    assert_eq!(json["warnings"], serde_json::json!([]));
}

/// A warning that names an option says its flag, not the core's marked key.
#[test]
fn the_rows_warnings_name_flags() {
    let out = common::run(&["pareto", "--benchmark", "mme", "--experts", "fused"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--experts: model"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains('\u{E000}') && stdout.contains("warning: "),
        "{stdout}"
    );
}

/// The header, the JSON, the page and the chart say the settings that change the figures
/// where they are not the defaults (they once said "cost model refined · NVIDIA A100 40GB SXM"
/// whether the rows ran under HF transformers or split over two GPUs).
#[test]
fn the_header_names_the_settings_that_change_the_figures() {
    let run = |extra: &[&str]| {
        let args = [&["pareto", "--benchmark", "videomme"][..], extra].concat();
        common::ok(&args)
    };
    let header = |extra: &[&str]| run(extra).lines().nth(1).unwrap().to_string();
    assert!(
        header(&[]).starts_with("cost model refined · NVIDIA A100 40GB SXM · ★ Pareto-optimal"),
        "{}",
        header(&[])
    );
    for (extra, said) in [
        (&["--framework", "hf"][..], "framework hf"),
        (&["--tp", "2"], "tensor parallel 2 (figures per GPU)"),
        (&["--batch", "2"], "batch 2"),
        (&["--w-bits", "8"], "W8A16KV16"),
        (&["--attention", "eager"], "attention eager (n² logits)"),
        (&["--importance-kernel", "fused"], "importance kernel fused"),
        (&["--prune-timing", "paper"], "prune timing paper"),
        (&["--all-logits"], "logits for every position"),
    ] {
        let h = header(extra);
        assert!(
            h.starts_with(&format!(
                "cost model refined · NVIDIA A100 40GB SXM · {said} · ★"
            )),
            "{extra:?}: {h}"
        );
    }
    let paper = header(&["--cost-model", "llm-viewer", "--skip-mlp-add"]);
    assert!(
        paper.starts_with("cost model llm-viewer · NVIDIA A100 40GB SXM · each row counted"),
        "{paper}"
    );
    let v = pareto(
        "videomme",
        &["--framework", "hf", "--tp", "2", "--w-bits", "8"],
    );
    for (key, want) in [
        ("framework", serde_json::json!("hf")),
        ("tp", 2.into()),
        ("batch", 1.into()),
        ("w_bits", 8.into()),
        ("a_bits", 16.into()),
        ("kv_bits", 16.into()),
        ("attention", "flash".into()),
    ] {
        assert_eq!(v[key], want, "{key}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (page, chart) = (dir.path().join("p.html"), dir.path().join("p.svg"));
    for out in [&page, &chart] {
        run(&[
            "--framework",
            "hf",
            "--tp",
            "2",
            "-o",
            out.to_str().unwrap(),
        ]);
        let text = std::fs::read_to_string(out).unwrap();
        assert!(
            text.contains("framework hf · tensor parallel 2 (figures per GPU)"),
            "{}",
            out.display()
        );
    }
}

/// The note on rows without a known setting names what keeps them unpriced: it said "use
/// --cost-model llm-viewer --skip-mlp-add to see them" to a command that gave both, whose
/// --gpu h100 was the obstacle.
#[test]
fn the_unpriced_rows_note_names_what_blocks_them() {
    let note = |extra: &[&str]| {
        let args = [&["pareto", "--benchmark", "videomme"][..], extra].concat();
        let out = common::ok(&args);
        out.lines()
            .find(|l| l.starts_with("note: ") && l.contains("no known token setting"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string()
    };
    for (extra, fix) in [
        (
            &[][..],
            "use --cost-model llm-viewer --skip-mlp-add to see them)",
        ),
        (
            &[
                "--cost-model",
                "llm-viewer",
                "--skip-mlp-add",
                "--gpu",
                "h100",
            ],
            "drop --gpu h100 to see them)",
        ),
        (
            &[
                "--cost-model",
                "llm-viewer",
                "--skip-mlp-add",
                "--model",
                "llava-ov-0.5b",
            ],
            "drop --model llava-ov-0.5b to see them)",
        ),
        (
            &["--gpu", "h100"],
            "use --cost-model llm-viewer --skip-mlp-add and drop --gpu h100 to see them)",
        ),
        (
            &["--cost-model", "llm-viewer"],
            "use --skip-mlp-add to see them)",
        ),
    ] {
        let n = note(extra);
        assert!(n.ends_with(fix), "{extra:?}: {n}");
    }
    let paper = note(&["--cost-model", "llm-viewer", "--skip-mlp-add"]);
    assert!(
        paper.contains("shown at the paper's printed cost"),
        "{paper}"
    );
    // The JSON's note says the flag too, not a marked key.
    let v = pareto(
        "videomme",
        &[
            "--cost-model",
            "llm-viewer",
            "--skip-mlp-add",
            "--gpu",
            "h100",
        ],
    );
    let notes = v["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("drop --gpu h100 to see them")),
        "{notes:?}"
    );
}

/// The frontier line counts the rows that can be on it: distinct settings with a cost. It said
/// "8 of 26 rows" for VideoMME, where 5 of the 26 have no cost ("—") outside the paper's
/// accounting, and "3 of 8" for VideoMME with subtitles, 7 of them priced.
#[test]
fn the_frontier_counts_the_priced_rows() {
    for (benchmark, extra, priced) in [
        ("videomme", &[][..], 21),
        ("videomme-subs", &[], 7),
        ("videomme", PAPER, 26),
    ] {
        let v = pareto(benchmark, extra);
        let distinct: Vec<&Value> = rows(&v).iter().filter(|r| r["same_as"].is_null()).collect();
        let with_cost = distinct.iter().filter(|r| r["time_s"].is_number()).count();
        let on = distinct.iter().filter(|r| r["pareto"] == true).count();
        assert_eq!(with_cost, priced, "{benchmark} {extra:?}");
        let args = [&["pareto", "--benchmark", benchmark][..], extra].concat();
        let table = common::ok(&args);
        let want = format!("Pareto frontier by prefill time ({on} of {priced} priced rows): ");
        assert!(table.contains(&want), "{want}\n{table}");
    }
}

/// Under the refined model the note advised `--skip-mlp-add`, which the refined model refuses:
/// it names the accounting the flag belongs to, and that advice runs.
#[test]
fn the_notes_advice_on_the_papers_accounting_runs() {
    let table = common::ok(&["pareto", "--benchmark", "videomme"]);
    let note = table
        .lines()
        .find(|l| l.contains("counted as aim-sim counts every run"))
        .unwrap();
    assert!(
        note.contains("--cost-model llm-viewer --skip-mlp-add counts each row"),
        "{note}"
    );
    common::ok(&[
        "pareto",
        "--benchmark",
        "videomme",
        "--cost-model",
        "llm-viewer",
        "--skip-mlp-add",
    ]);
    let e = common::fails(&["pareto", "--benchmark", "videomme", "--skip-mlp-add"]);
    assert!(e.contains("llm-viewer"), "{e}");
}
