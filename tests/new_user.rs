//! What a new user hits (issue 24): each test names the item of the issue it covers and failed
//! before its fix.

mod common;

use common::{fails, ok, run};

/// Item 2: an invalid configuration inside the grid (not at its extremes) is found before the
/// first row: no file with rows that look complete, no rows on standard output.
#[test]
fn item2_an_invalid_row_inside_the_grid_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.csv");
    let grid = [
        "sweep",
        "--merge-tokens-per-frame",
        "300",
        "--tokens",
        "300:400",
        "--format",
        "csv",
    ];
    let mut with_file: Vec<&str> = grid.to_vec();
    with_file.extend(["-o", path.to_str().unwrap()]);
    let err = fails(&with_file);
    assert!(err.contains("tokens=392"), "{err}");
    assert!(!path.exists(), "a partial s.csv was left");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let out = run(&grid);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{} bytes of rows reached stdout",
        out.stdout.len()
    );
}

/// Item 3: a grid larger than a page or a chart draws is refused before a row is priced (it
/// used to hold every row in memory first: 3.9 GB and 41 s for 10 M rows).
#[test]
fn item3_too_many_rows_to_draw_are_refused_before_pricing() {
    let start = std::time::Instant::now();
    let err = fails(&["sweep", "--frames", "1:2000000", "--format", "html"]);
    assert!(err.contains("at most 5000 rows"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("c.png");
    let err = fails(&[
        "plot",
        "curves",
        "--frames",
        "1:2000000",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(err.contains("at most 5000"), "{err}");
    assert!(!png.exists());
    // Refused, not priced: a debug build prices ~10^5 rows a second at best.
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

/// Item 12: every page `aim-sim man` lists as `aim-sim-NAME(1)` is one `aim-sim man NAME` prints.
#[test]
fn item12_every_listed_man_page_exists() {
    let main = ok(&["man"]);
    let listed: Vec<String> = main
        .lines()
        .filter_map(|l| l.strip_prefix("aim\\-sim\\-"))
        .filter_map(|l| l.strip_suffix("(1)"))
        .map(|n| n.replace("\\-", "-"))
        .collect();
    assert!(listed.len() >= 10, "{listed:?}");
    for name in &listed {
        let page = ok(&["man", name.as_str()]);
        assert!(page.contains(&format!(".TH aim-sim-{name} 1")), "{name}");
    }
    let err = fails(&["man", "sweeep"]);
    assert!(err.contains("sweep"), "{err}");
}

/// Item 14: a mistyped preset gets a "did you mean", names are case-insensitive, and shell
/// completions offer the presets of --gpu/--model/--schedule/--framework.
#[test]
fn item14_presets_forgive_case_and_typos_and_complete() {
    let err = fails(&["--schedule", "linaer"]);
    assert!(err.contains("did you mean 'linear'?"), "{err}");
    let err = fails(&["--model", "llava-ov-7"]);
    assert!(err.contains("did you mean 'llava-ov-7b'?"), "{err}");
    // Far from every name: no guess.
    assert!(!fails(&["--gpu", "zzz"]).contains("did you mean"));
    assert_eq!(
        ok(&["--gpu", "H100", "--format", "json"]),
        ok(&["--gpu", "h100", "--format", "json"])
    );
    let bash = ok(&["completions", "bash"]);
    for (flag, preset) in [
        ("--gpu", "a100-80g"),
        ("--model", "llava-video-7b"),
        ("--schedule", "merge-only"),
        ("--framework", "hf-eager"),
    ] {
        let case = bash
            .split(&format!("{flag})"))
            .nth(1)
            .and_then(|rest| rest.split(";;").next())
            .unwrap_or_default();
        assert!(case.contains(preset), "{flag}: {case}");
    }
}

/// A model by its Hugging Face hub id and a GPU by the device name `nvidia-smi` prints (what a
/// harness logs) price as the presets they name, on the command line and in a measurement row.
#[test]
fn hub_ids_and_device_names_name_presets() {
    let by_alias = ok(&[
        "--model",
        "llava-hf/llava-onevision-qwen2-7b-ov-hf",
        "--gpu",
        "NVIDIA H100 80GB HBM3",
        "--format",
        "json",
    ]);
    let by_name = ok(&[
        "--model",
        "llava-ov-7b",
        "--gpu",
        "h100",
        "--format",
        "json",
    ]);
    assert_eq!(by_alias, by_name);
    let dir = tempfile::tempdir().unwrap();
    let row = |model: &str, gpu: &str| {
        let path = dir.path().join("m.toml");
        std::fs::write(
            &path,
            format!(
                "[[measurement]]\nid = \"r\"\nsource = \"lab\"\nmodel = \"{model}\"\ngpu = \"{gpu}\"\nframework = \"hf\"\ntimed = \"prefill\"\nattention = \"flash\"\ntext_tokens = 40\nframes = 1\nschedule = \"none\"\nmeasured_ms = 60\n"
            ),
        )
        .unwrap();
        common::json(&["check", path.to_str().unwrap()])["rows"][0]["predicted_ms"].clone()
    };
    let by_name = row("llava-1.5-7b", "a100-80g");
    assert_eq!(
        row("liuhaotian/llava-v1.5-7b", "NVIDIA A100-SXM4-80GB"),
        by_name
    );
    // Another case, as on the command line (a row used to be refused with "did you mean"), is
    // the preset itself: `hf`'s own A100 80GB values, not its pooled ones.
    assert_eq!(row("llava-1.5-7b", "A100-80G"), by_name);
}

/// Item 17 (files): a device, a FIFO, a directory or a symlink loop given as a preset path is
/// named for what it is, not "no such file".
#[cfg(unix)]
#[test]
fn item17_non_regular_preset_paths_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for path in [
        std::path::PathBuf::from("/dev/zero"),
        fifo,
        dir.path().to_path_buf(),
    ] {
        let err = fails(&["--gpu", path.to_str().unwrap()]);
        assert!(err.contains("not a regular file"), "{err}");
    }
    let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
    std::os::unix::fs::symlink(&a, &b).unwrap();
    std::os::unix::fs::symlink(&b, &a).unwrap();
    let err = fails(&["--gpu", a.to_str().unwrap()]);
    assert!(
        !err.contains("no such file") && err.contains("symbolic links"),
        "{err}"
    );
}

/// Item 13: `-h` is one screen (at most 50 lines of at most 100 columns) for aim-sim and every
/// subcommand; the common flags come first and the niche ones wait for `--help`; in `sweep`'s
/// help the axes, the point of the command, come before the flags of a single run.
#[test]
fn item13_short_help_is_one_screen_with_the_common_flags_first() {
    let commands = [
        "",
        "simulate",
        "sweep",
        "budget",
        "plot",
        "pareto",
        "compare",
        "reproduce",
        "validate",
        "measure",
        "calibrate",
        "check",
        "fit",
        "completions",
        "man",
        "list",
    ];
    for cmd in commands {
        let args: Vec<&str> = [cmd, "-h"].into_iter().filter(|a| !a.is_empty()).collect();
        let help = ok(&args);
        assert!(
            help.lines().count() <= 50,
            "aim-sim {cmd} -h: {} lines",
            help.lines().count()
        );
        for line in help.lines() {
            assert!(line.chars().count() <= 100, "aim-sim {cmd} -h: {line}");
        }
    }
    let short = ok(&["-h"]);
    for common in [
        "--model",
        "--gpu",
        "--schedule",
        "--tokens",
        "--frames",
        "--format",
    ] {
        assert!(short.contains(common), "{common} missing from -h");
    }
    for niche in [
        "--image-size",
        "--video-seconds",
        "--fps",
        "--kv-bits",
        "--all-logits",
    ] {
        assert!(!short.contains(niche), "{niche} in -h");
        assert!(
            ok(&["--help"]).contains(niche),
            "{niche} missing from --help"
        );
    }
    // The first heading of options is not a list of niche flags.
    let options = short.split("\nOptions:\n").nth(1).unwrap();
    assert!(
        options.lines().next().unwrap().contains("--help"),
        "{options}"
    );
    for args in [["sweep", "-h"], ["sweep", "--help"]] {
        let help = ok(&args);
        let axes = help.find("Sweep axes").unwrap();
        for heading in [
            "Input:",
            "Model and GPU:",
            "Schedule:",
            "Cost model:",
            "Output:",
        ] {
            if let Some(at) = help.find(heading) {
                assert!(axes < at, "{args:?}: {heading} before the sweep axes");
            }
        }
    }
}

fn doc(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// Item 10: the quick start says what `cargo test` needs beside Rust (build.rs compiles the
/// emulator with a C++20 compiler), and the top README's Python line installs what the Python
/// example uses (pandas: `sweep` returns a list without it).
#[test]
fn item10_quick_start_names_the_cpp_compiler_and_installs_pandas() {
    let readme = doc("README.md");
    let quick = readme.split("## Quick start").nth(1).unwrap();
    let quick = &quick[..quick.find("```").unwrap()];
    assert!(quick.contains("C++20"), "{quick}");
    assert!(doc("build.rs").contains("-std=c++20"));
    let pip = readme
        .lines()
        .find(|l| l.contains("pip install"))
        .expect("a pip line");
    let extra = pip
        .split("./python[")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or_else(|| panic!("the pip line installs no extra: {pip}"));
    let pyproject = doc("python/pyproject.toml");
    let deps = pyproject
        .lines()
        .find(|l| l.starts_with(&format!("{extra} = [")))
        .unwrap_or_else(|| panic!("no extra '{extra}' in python/pyproject.toml"));
    assert!(deps.contains("pandas"), "{deps}");
    // What the Python example needs: it calls .itertuples() on sweep's DataFrame.
    assert!(doc("python/README.md").contains("itertuples"));
}

/// Item 11: python/README.md, the GPU list, the decode figure, the links and the "no GPU" dates
/// say what is true today.
#[test]
fn item11_docs_are_current() {
    let py = doc("python/README.md");
    assert!(!py.contains("NotImplementedError"), "check() works");
    let refused = py
        .split("refuses in its parser")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    assert!(
        !refused.contains("frames=0"),
        "frames=0 is a text-only prompt: {refused}"
    );
    assert!(!py.contains("88 s and 92 s"), "stale speed figures");

    // Every GPU preset is in the README's list.
    let readme = doc("README.md");
    let list = readme
        .split("\nPresets: `a100`")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    for name in aim_sim::presets::names(aim_sim::presets::GPUS) {
        assert!(
            name == "a100" || list.contains(&format!("`{name}`")),
            "{name} missing from the GPU list: {list}"
        );
    }

    // The decode sentence's command gives the figures it quotes.
    let cost = doc("docs/cost-models.md");
    let sentence = cost.split("With 128 decode steps (`").nth(1).unwrap();
    let flags: Vec<&str> = sentence.split('`').next().unwrap().split(' ').collect();
    let quoted = sentence.split("is ").nth(1).unwrap();
    let ratio: f64 = quoted.split('×').next().unwrap().parse().unwrap();
    let ms: Vec<f64> = quoted
        .split('(')
        .nth(1)
        .unwrap()
        .split(" ms")
        .next()
        .unwrap()
        .split(" vs ")
        .map(|v| v.parse().unwrap())
        .collect();
    let mut args = flags.clone();
    args.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    let run_ms = v["pipeline"]["end_to_end_time_s"].as_f64().unwrap() * 1e3;
    let base_ms = v["baseline"]["pipeline"]["end_to_end_time_s"]
        .as_f64()
        .unwrap()
        * 1e3;
    assert_eq!(
        (run_ms.round(), base_ms.round()),
        (ms[0], ms[1]),
        "{flags:?}"
    );
    assert_eq!(format!("{:.2}", base_ms / run_ms), format!("{ratio:.2}"));

    // Links and file references stay inside the repository.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for path in [
        "README.md",
        "docs/accuracy.md",
        "docs/architecture.md",
        "docs/cost-models.md",
        "docs/kernels.md",
        "docs/validation.md",
        "python/README.md",
    ] {
        let text = doc(path);
        assert!(
            !text.contains("shared/specs"),
            "{path} points outside the repository"
        );
        for target in text.split("](").skip(1) {
            let target = target.split(')').next().unwrap().split('#').next().unwrap();
            if target.starts_with("http") || target.is_empty() {
                continue;
            }
            let file = root.join(path).parent().unwrap().join(target);
            assert!(file.exists(), "{path}: link to {target} goes nowhere");
        }
        for span in text.split('`').skip(1).step_by(2) {
            assert!(
                !span.ends_with(".md") || span.contains('/'),
                "{path}: `{span}` names a file that is not in the repository"
            );
        }
    }

    // One date for "no GPU yet".
    let dates = |text: &str, marker: &str| -> String {
        let at = text.find(marker).unwrap();
        let rest = &text[at..at + 300];
        let i = rest.find("2026-").unwrap();
        rest[i..i + 10].to_string()
    };
    assert_eq!(
        dates(&readme, "no GPU measurement yet"),
        dates(&doc("docs/accuracy.md"), "no measurement yet")
    );
}

/// Item 6: `fit --write DIR` with rows whose framework is a path writes DIR/STEM.toml, not
/// `/that/path.toml.toml` beside the profile (outside DIR, two extensions).
#[test]
fn item6_fit_writes_profiles_named_by_path_inside_the_directory() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let profile = profiles.join("trtllm.toml");
    std::fs::copy(root.join("frameworks/trtllm.toml"), &profile).unwrap();
    // The trtllm rows of the published file, naming their profile by its path.
    let text = doc("reference/measurements.toml")
        .replace(
            "model = \"models/",
            &format!("model = \"{}/reference/models/", root.display()),
        )
        .replace(
            "framework = \"trtllm\"",
            &format!("framework = \"{}\"", profile.display()),
        );
    // A few of them (fitting is quadratic in rows).
    let mut blocks = text.split("\n[[measurement]]\n");
    let head = blocks.next().unwrap().to_string();
    let rows: Vec<&str> = blocks
        .filter(|b| b.contains(&*profile.to_string_lossy()))
        .take(6)
        .collect();
    assert_eq!(rows.len(), 6);
    let file = dir.path().join("meas.toml");
    let sep = "\n[[measurement]]\n";
    std::fs::write(&file, head + sep + &rows.join(sep)).unwrap();
    ok(&[
        "fit",
        file.to_str().unwrap(),
        "--framework",
        profile.to_str().unwrap(),
        "--write",
        out.to_str().unwrap(),
    ]);
    assert!(out.join("trtllm.toml").is_file());
    assert!(!profiles.join("trtllm.toml.toml").exists());
    assert_eq!(std::fs::read_dir(&profiles).unwrap().count(), 1);
}

fn stderr(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stderr).unwrap()
}

/// Item 1: `--tokens` that is not a whole number of the model's frames is priced as one frame
/// of that many tokens; it says so (it did only when --tokens-per-frame was given).
#[test]
fn item1_tokens_that_are_not_whole_frames_warn() {
    let warn = stderr(&["--tokens", "6272", "--model", "llava-video-7b"]);
    assert!(
        warn.contains("--tokens 6272 is not a multiple of --tokens-per-frame 182")
            && warn.contains("one frame"),
        "{warn}"
    );
    let warn = stderr(&[
        "--tokens",
        "256",
        "--model",
        "llava-1.5-7b",
        "--schedule",
        "aim-image",
    ]);
    assert!(
        warn.contains("--tokens 256 is not a multiple of --tokens-per-frame 576"),
        "{warn}"
    );
    // A whole number of frames: no warning.
    assert!(stderr(&["--tokens", "6272"]).is_empty());
}

/// Item 8: decode's growing KV cache that outgrows the GPU warns; when the weights alone do not
/// fit, the advice is --tp / --w-bits, not a smaller importance map.
#[test]
fn item8_memory_warnings_see_decode_and_weights() {
    let warn = stderr(&["--gen-tokens", "1000000"]);
    assert!(
        warn.contains("after 1000000 decode steps the KV cache is 57.4 GB"),
        "{warn}"
    );
    assert!(stderr(&["--gen-tokens", "128"]).is_empty());
    let warn = stderr(&["--model", "llava-ov-72b", "--gpu", "h100"]);
    assert!(
        warn.contains("weights alone do not fit")
            && warn.contains("--tp")
            && warn.contains("--w-bits"),
        "{warn}"
    );
    assert!(!warn.contains("--importance-kernel fused"), "{warn}");
}

/// Item 17 (the small ones): numbers in messages are bounded, `sweep --frames 0:2` is a
/// text-only row as `--frames 0` is in a run, an empty schedule file and a duplicate JSON key
/// are errors, the layer limit is one message, "1 layer", no `-0.0`, and a huge name is refused
/// before it is laid out in a chart.
#[test]
fn item17_small_things() {
    let err = fails(&[
        "budget",
        "--schedule",
        "linear",
        "--target-reduction",
        "1e308",
    ]);
    assert!(err.len() < 200 && err.contains("1e308"), "{err}");
    let err = fails(&[
        "--prune-start",
        "10",
        "--prune-end",
        "20",
        "--prune-step",
        "1e-310",
    ]);
    assert!(err.len() < 200 && err.contains("1e-310"), "{err}");

    let rows = ok(&["sweep", "--frames", "0:2", "--format", "csv"]);
    assert_eq!(rows.lines().count(), 4, "{rows}");

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "# nothing yet\n\n").unwrap();
    assert!(fails(&["--schedule", empty.to_str().unwrap()]).contains("is empty"));
    let dup = dir.path().join("dup.json");
    std::fs::write(&dup, r#"{"frames": 8, "frames": 16}"#).unwrap();
    assert!(fails(&["--spec", dup.to_str().unwrap()]).contains("duplicate key 'frames'"));

    let model = |layers: u64| {
        let path = dir.path().join(format!("m{layers}.toml"));
        std::fs::write(
            &path,
            format!("name = \"m\"\nhidden_size = 64\nnum_heads = 4\nnum_layers = {layers}\nintermediate_size = 128\nvocab_size = 100\n"),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let (a, b) = (
        fails(&["--model", &model(1025)]),
        fails(&["--model", &model(16_777_216)]),
    );
    assert!(
        a.contains("between 1 and 1024") && b.contains("between 1 and 1024"),
        "{a}{b}"
    );
    let one = fails(&["--model", &model(1)]);
    assert!(one.contains("has 1 layer (layer 0)"), "{one}");

    let measure = ok(&[
        "measure",
        "--synthetic-device",
        "tests/golden/synthetic-h100.toml",
        "--gpu",
        "h100",
        "--frames",
        "4",
        "--format",
        "json",
    ]);
    assert!(!measure.contains("-0.0"), "negative zero in measure JSON");

    let sched = dir.path().join("long.toml");
    let linear = doc("schedules/linear.toml");
    let long_name = format!("name = \"{}\"", "y".repeat(1_000_000));
    let text: Vec<String> = linear
        .lines()
        .map(|l| {
            if l.starts_with("name =") {
                long_name.clone()
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&sched, text.join("\n")).unwrap();
    let png = dir.path().join("l.png");
    let start = std::time::Instant::now();
    let err = fails(&[
        "plot",
        "layers",
        "--schedule",
        sched.to_str().unwrap(),
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(
        err.contains("key 'name'") && err.len() < 300,
        "{}",
        &err[..300.min(err.len())]
    );
    assert!(start.elapsed().as_secs() < 10);
}

/// The JSON data block of an HTML page.
fn page_data(html: &str) -> serde_json::Value {
    let start = html
        .find("<script type=\"application/json\"")
        .expect("a data block");
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    serde_json::from_str(body).expect("page data is JSON")
}

/// Item 15 (what can be checked without a browser; tests/html.rs checks the rendered pages in
/// Chromium): the Pareto page opens on a log cost axis as its PNG does, the sweep table's
/// headers may wrap so its many columns fit 1280 px, and the budget label moves left of the
/// line where it would be clipped.
#[test]
fn item15_pages_open_as_their_pngs_and_fit() {
    let pareto = ok(&["pareto", "--benchmark", "videomme", "--format", "html"]);
    assert_eq!(page_data(&pareto)["x_log"], true);
    assert!(
        pareto.contains("var log = D.x_log;"),
        "the page script starts from x_log"
    );
    let sweep = ok(&["sweep", "--frames", "8,16", "--format", "html"]);
    assert!(sweep.contains("class=\"data sortable wrap-head\""));
    assert!(sweep.contains("table.data.wrap-head th { white-space: normal;"));
    let budget = ok(&["budget", "--schedule", "linear", "--format", "html"]);
    // (Structural: the script places the label left of the line when it would pass the edge.)
    assert!(
        budget.contains("right ? lx - 4 : lx + 4"),
        "the label can move left"
    );
}

/// A text-only prompt under the default schedule has nothing to merge: no merge kernel is
/// priced (under a framework each launch costs time, so 0.09 ms of "token merging" used to
/// appear) and no warning says the schedule costs more than no reduction.
#[test]
fn a_text_only_prompt_prices_no_merging_and_warns_of_nothing() {
    let args = [
        "--frames",
        "0",
        "--text-tokens",
        "128",
        "--framework",
        "trtllm",
        "--gpu",
        "h100",
    ];
    let v = common::json(&args);
    let time_s = v["totals"]["time_s"].as_f64().unwrap();
    let base_s = v["baseline"]["totals"]["time_s"].as_f64().unwrap();
    assert!(
        time_s > 0.0 && time_s == base_s,
        "{time_s} against {base_s}"
    );
    let warnings = v["warnings"].as_array().unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let stderr = String::from_utf8_lossy(&run(&args).stderr).into_owned();
    assert!(!stderr.contains("warning"), "{stderr}");
}

/// Bash completions complete after a subcommand: `aim-sim serve --gpu h`, `aim-sim serve --sch`
/// and `aim-sim list ` offer words. They used to give an empty COMPREPLY, as clap_complete 4.6
/// (clap-rs/clap#6421) named the loop's `cmd=` and the case arms differently for a hyphenated
/// binary name. Every name the loop sets has an arm; where bash runs, the script is sourced.
#[test]
fn bash_completions_complete_after_a_subcommand() {
    let bash = ok(&["completions", "bash"]);
    let set: Vec<&str> = bash
        .lines()
        .filter_map(|l| l.trim().strip_prefix("cmd=\""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|name| !name.is_empty())
        .collect();
    assert!(set.len() > 10, "{set:?}");
    for name in &set {
        assert!(
            bash.lines().any(|l| l.trim() == format!("{name})")),
            "cmd=\"{name}\" has no case arm"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("aim-sim.bash");
    std::fs::write(&script, &bash).unwrap();
    for (line, want) in [
        ("aim-sim serve --gpu h", "h100"),
        ("aim-sim serve --sch", "--schedule"),
        ("aim-sim list ", "frameworks"),
    ] {
        let mut words: Vec<String> = line.split(' ').map(String::from).collect();
        if line.ends_with(' ') {
            words.pop();
            words.push(String::new());
        }
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let probe = format!(
            "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; \
             COMP_POINT=${{#COMP_LINE}}; _aim__sim aim-sim '{}' '{}'; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            quoted.join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let out = match std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &probe])
            .output()
        {
            Ok(out) => out,
            Err(e) => {
                println!("skipped sourcing the script: bash does not run here ({e})");
                break;
            }
        };
        let reply = String::from_utf8_lossy(&out.stdout);
        assert!(
            reply.lines().any(|w| w == want),
            "{line}: COMPREPLY {reply:?}, stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A subcommand's man page carries the program's version in its header, as the main page
/// does: `aim-sim man serve` used to print `.TH aim-sim-serve 1 "aim-sim-serve "`.
#[test]
fn subcommand_man_pages_carry_the_version() {
    let version = env!("CARGO_PKG_VERSION");
    for name in ["serve", "sweep", "budget", "plot", "list", "simulate"] {
        let page = ok(&["man", name]);
        let header = page
            .lines()
            .find(|l| l.starts_with(".TH"))
            .unwrap_or_default();
        assert!(
            header.contains(&format!("\"aim-sim-{name} {version}\"")),
            "{name}: {header}"
        );
    }
}

/// The READMEs name what exists: README.md's `aim-sim list [...]` row every kind `list`
/// takes (it lacked `frameworks`), python/README.md's API table every function in
/// `aim_sim.__all__` (it never mentioned `aim_sim.serve`).
#[test]
fn readmes_name_every_list_kind_and_python_function() {
    let help = ok(&["list", "--help"]);
    let kinds: Vec<&str> = help
        .split("[possible values: ")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("list's possible values")
        .split(", ")
        .collect();
    assert!(kinds.contains(&"frameworks"), "{kinds:?}");
    let readme = std::fs::read_to_string("README.md").unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `aim-sim list ["))
        .expect("README's list row");
    assert!(
        row.contains(&format!("`aim-sim list [{}]`", kinds.join("\\|"))),
        "{row}"
    );
    let init = std::fs::read_to_string("python/aim_sim/__init__.py").unwrap();
    let all = init
        .split("__all__ = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("__all__");
    let python_readme = std::fs::read_to_string("python/README.md").unwrap();
    for name in all.split(',').map(|n| n.trim().trim_matches('"')) {
        if name.is_empty() || name.starts_with('_') || name.starts_with(char::is_uppercase) {
            continue;
        }
        assert!(
            python_readme.contains(&format!("| `aim_sim.{name}(")),
            "python/README.md's API table lacks aim_sim.{name}"
        );
    }
}
