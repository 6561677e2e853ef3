//! `aim-sim plot`: every kind writes a valid PNG and SVG; bad requests are one-line errors.

mod common;

use std::path::Path;

fn is_png(path: &Path) -> bool {
    let bytes = std::fs::read(path).expect("image written");
    bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

fn is_svg(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).expect("image written");
    text.trim_start().starts_with("<svg") && text.trim_end().ends_with("</svg>")
}

/// The SVG's text elements, joined (titles, axis labels, legend).
fn svg_text(path: &Path) -> String {
    std::fs::read_to_string(path).expect("image written")
}

#[test]
fn every_kind_renders_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, extra) in [
        (
            "curves",
            &["--frames", "8:64:8", "--schedule", "none,linear,fastv"][..],
        ),
        ("layers", &["--schedule", "pdrop"][..]),
        ("roofline", &["--schedule", "linear"][..]),
    ] {
        let png = dir.path().join(format!("{kind}.png"));
        let svg = dir.path().join(format!("{kind}.svg"));
        for out in [&png, &svg] {
            let mut args = vec![
                "plot",
                kind,
                "--cost-model",
                "llm-viewer",
                "--output",
                out.to_str().unwrap(),
            ];
            args.extend(extra);
            common::ok(&args);
        }
        assert!(is_png(&png), "{kind}: not a PNG");
        assert!(is_svg(&svg), "{kind}: not an SVG");
        let text = svg_text(&svg);
        // Title names model, GPU and cost model; axes carry units.
        for needle in ["LLaVA-OneVision-7B", "NVIDIA A100", "cost model llm-viewer"] {
            assert!(text.contains(needle), "{kind}: no '{needle}' in the SVG");
        }
        let units: &[&str] = match kind {
            "curves" => &["TFLOPs", "time (ms)", "frames", "fastv"],
            "layers" => &[
                "tokens",
                "time per layer (ms)",
                "attention",
                "decoder layer",
            ],
            _ => &["FLOP/byte", "TFLOP/s", "linear (GEMM)"],
        };
        for needle in units {
            assert!(text.contains(needle), "{kind}: no '{needle}' in the SVG");
        }
    }
}

#[test]
fn bad_plot_requests_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    let png = png.to_str().unwrap();
    let jpg = dir.path().join("x.jpg");
    for (args, needle) in [
        (vec!["plot", "curves", "--output", jpg.to_str().unwrap()], ".png or .svg"),
        (
            vec!["plot", "layers", "--output", png, "--frames", "8,16"],
            "draws one run",
        ),
        (
            vec!["plot", "curves", "--output", png, "--schedule", "none,linear,fastv,pdrop,vtw,fastvid,merge-only,aim-late,aim-aggressive,aim-prune-only,sparsevlm-192"],
            "at most 10 lines",
        ),
        (vec!["plot", "roofline", "--output", png, "--size", "9x9"], "WIDTHxHEIGHT"),
        (vec!["plot", "sideways", "--output", png], "invalid value"),
    ] {
        let err = common::fails(&args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(!Path::new(png).exists());
}

/// A measurement on a synthetic device (no GPU needed), calibrated, saved as JSON.
fn synthetic_measurement(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let h100 = aim_sim::presets::GPUS
        .iter()
        .find(|(n, _)| *n == "h100")
        .unwrap()
        .1;
    let device = dir.path().join("synthetic.toml");
    std::fs::write(
        &device,
        format!(
            "{h100}\n[efficiency]\nmatmul = 0.7\nattention = 0.45\nelementwise = 0.8\nlaunch_overhead_s = 5e-6\n"
        ),
    )
    .unwrap();
    let device = device.to_str().unwrap();
    let profile = dir.path().join("h100-calibrated.toml");
    let profile = profile.to_str().unwrap();
    common::ok(&[
        "calibrate",
        "--gpu",
        "h100",
        "--synthetic-device",
        device,
        "--profile",
        profile,
    ]);
    let json = common::ok(&[
        "measure",
        "--gpu",
        "h100",
        "--synthetic-device",
        device,
        "--calibrated-gpu",
        profile,
        "--format",
        "json",
    ]);
    let path = dir.path().join("measure.json");
    std::fs::write(&path, json).unwrap();
    path
}

#[test]
fn accuracy_renders_a_saved_measurement() {
    let dir = tempfile::tempdir().unwrap();
    let input = synthetic_measurement(&dir);
    let png = dir.path().join("accuracy.png");
    let svg = dir.path().join("accuracy.svg");
    for out in [&png, &svg] {
        common::ok(&[
            "plot",
            "accuracy",
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ]);
    }
    assert!(is_png(&png), "accuracy: not a PNG");
    assert!(is_svg(&svg), "accuracy: not an SVG");
    let text = svg_text(&svg);
    for needle in [
        "llava-ov-7b",
        "synthetic device modelled on NVIDIA H100",
        "cost model refined",
        "schedule linear",
        "time per layer (ms)",
        "decoder layer",
        "error (%)",
        "predicted, calibrated",
        "measured",
        "Baseline (no reduction)",
        "speed-up",
    ] {
        assert!(text.contains(needle), "accuracy: no '{needle}' in the SVG");
    }
}

#[test]
fn accuracy_without_calibration_draws_two_bars() {
    let dir = tempfile::tempdir().unwrap();
    let input = synthetic_measurement(&dir);
    // Drop every calibrated field, as `aim-sim measure` without --calibrated-gpu writes it.
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| !k.contains("calibrated"));
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut m);
    std::fs::write(&input, m.to_string()).unwrap();
    let svg = dir.path().join("accuracy.svg");
    common::ok(&[
        "plot",
        "accuracy",
        "--input",
        input.to_str().unwrap(),
        "--output",
        svg.to_str().unwrap(),
    ]);
    let text = svg_text(&svg);
    assert!(text.contains("predicted (uncalibrated)"));
    for absent in [
        "predicted, calibrated",
        "· calibrated",
        "error of schedule, calibrated",
    ] {
        assert!(!text.contains(absent), "'{absent}' without calibration");
    }
}

#[test]
fn bad_accuracy_requests_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    let png = png.to_str().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"model\": \"llava-ov-7b\"}").unwrap();
    let bad = bad.to_str().unwrap();
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    let garbage = garbage.to_str().unwrap();
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    for (args, needles) in [
        (
            vec!["plot", "accuracy", "--output", png],
            &["needs --input"][..],
        ),
        (
            vec!["plot", "layers", "--output", png, "--input", bad],
            &["--input is only for `plot accuracy`"][..],
        ),
        (
            vec!["plot", "accuracy", "--output", png, "--input", bad],
            &["bad.json", "missing field `device`"][..],
        ),
        (
            vec!["plot", "accuracy", "--output", png, "--input", garbage],
            &["garbage.json", "aim-sim measure --format json"][..],
        ),
        (
            vec!["plot", "accuracy", "--output", png, "--input", missing],
            &["cannot read", "missing.json"][..],
        ),
        (
            vec![
                "plot", "accuracy", "--output", png, "--input", bad, "--frames", "16",
            ],
            &["--frames does not apply"][..],
        ),
    ] {
        let err = common::fails(&args);
        for needle in needles {
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }
    assert!(!Path::new(png).exists());
}

/// One colour per schedule/method in every chart: `linear` (AIM) is the palette's vermillion in
/// curves (alone or among others), in the layers chart and in the Pareto chart.
#[test]
fn a_schedule_keeps_its_colour_in_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let hex = aim_sim::palette::style("linear").color.hex().to_uppercase();
    assert_eq!(
        aim_sim::palette::style("AIM"),
        aim_sim::palette::style("linear")
    );
    let fastv = aim_sim::palette::style("fastv").color.hex().to_uppercase();
    let draw = |name: &str, args: &[&str]| -> String {
        let out = dir.path().join(name);
        let mut all = args.to_vec();
        all.extend(["-o", out.to_str().unwrap()]);
        common::ok(&all);
        std::fs::read_to_string(&out).unwrap().to_uppercase()
    };
    for (name, args) in [
        (
            "alone.svg",
            &[
                "plot",
                "curves",
                "--schedule",
                "linear",
                "--frames",
                "8:32:8",
            ][..],
        ),
        (
            "last.svg",
            &[
                "plot",
                "curves",
                "--schedule",
                "fastv,none,linear",
                "--frames",
                "8:32:8",
            ][..],
        ),
        (
            "layers.svg",
            &["plot", "layers", "--schedule", "linear"][..],
        ),
        (
            "pareto.svg",
            &["plot", "pareto", "--benchmark", "videomme"][..],
        ),
    ] {
        let svg = draw(name, args);
        assert!(svg.contains(&hex), "{name}: linear/AIM is not {hex}");
    }
    // The first line of a chart is no longer simply the first colour of a cycle.
    let alone = draw(
        "alone2.svg",
        &[
            "plot",
            "curves",
            "--schedule",
            "linear",
            "--frames",
            "8:32:8",
        ],
    );
    assert!(
        !alone.contains(&fastv),
        "a chart without fastv uses fastv's colour"
    );
}

#[test]
fn accuracy_refuses_run_times_outside_a_microsecond_to_a_day() {
    // Issue 24: a measured total of 1e308 s printed "measured inf ms".
    let dir = tempfile::tempdir().unwrap();
    let input = synthetic_measurement(&dir);
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    let png = dir.path().join("x.png");
    for (t, shown) in [(1e308, "1e308"), (5e-324, "5e-324")] {
        report["schedule_run"]["measured_time_s"] = serde_json::json!(t);
        let edited = dir.path().join("edited.json");
        std::fs::write(&edited, report.to_string()).unwrap();
        let err = common::fails(&[
            "plot",
            "accuracy",
            "--input",
            edited.to_str().unwrap(),
            "--output",
            png.to_str().unwrap(),
        ]);
        assert!(
            err.contains(&format!("schedule_run.measured_time_s = {shown} s"))
                && err.contains("1 day"),
            "{err}"
        );
    }
    assert!(!png.exists());
}

/// A measurement whose figures disagree (an edited file) is refused in one line naming the
/// problem: a baseline of 5 layers against the schedule's 28, or a layer measured at 0 s, was
/// drawn as empty bars under header totals that disagreed with them.
#[test]
fn accuracy_refuses_a_measurement_that_disagrees_with_itself() {
    let dir = tempfile::tempdir().unwrap();
    let input = synthetic_measurement(&dir);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    let png = dir.path().join("x.png");
    let mut short = report.clone();
    short["baseline_run"]["layers"]
        .as_array_mut()
        .unwrap()
        .truncate(5);
    let mut zero = report.clone();
    zero["schedule_run"]["layers"][3]["measured_time_s"] = serde_json::json!(0.0);
    for (edited, want) in [
        (short, "schedule_run has 28 layers and baseline_run 5"),
        (zero, "schedule_run layer 3 has measured_time_s = 0.0 s"),
    ] {
        let path = dir.path().join("edited.json");
        std::fs::write(&path, edited.to_string()).unwrap();
        let err = common::fails(&[
            "plot",
            "accuracy",
            "--input",
            path.to_str().unwrap(),
            "--output",
            png.to_str().unwrap(),
        ]);
        assert!(err.contains("edited.json") && err.contains(want), "{err}");
    }
    assert!(!png.exists());
}

/// A chart priced under a fitted framework profile names it (it did not: a `--framework hf`
/// chart read like the roofline's), and the curves shade each line's 80 % time interval; the
/// roofline's charts, the default, name none and shade nothing.
#[test]
fn a_chart_under_a_framework_names_it_and_shades_the_time_interval() {
    let dir = tempfile::tempdir().unwrap();
    let draw = |kind: &str, framework: &str| {
        let svg = dir.path().join(format!("{kind}-{framework}.svg"));
        let mut args = vec!["plot", kind, "--framework", framework, "-o"];
        args.push(svg.to_str().unwrap());
        if kind == "curves" {
            args.extend(["--frames", "8:32:8", "--schedule", "none,linear"]);
        }
        common::ok(&args);
        svg_text(&svg)
    };
    for kind in ["curves", "layers", "roofline"] {
        let hf = draw(kind, "hf");
        assert!(hf.contains("framework hf"), "{kind}: no 'framework hf'");
        let roofline = draw(kind, "roofline");
        assert!(!roofline.contains("framework"), "{kind}: names a framework");
        if kind == "curves" {
            assert!(hf.contains("shaded: 80 % interval"), "no band legend");
            // One translucent polygon per line (none and linear); markers are opaque ones.
            assert_eq!(hf.matches("<polygon opacity=\"0.12\"").count(), 2, "bands");
            assert_eq!(
                roofline.matches("<polygon opacity=\"0.12\"").count(),
                0,
                "bands"
            );
        }
    }
}

/// The charts of your stack's times take an anchor as `aim-sim` and `sweep` do (they took none
/// until 2026-12-06): `plot curves --anchor FILE` over frames and `plot layers --anchor-ms` on
/// one input draw the refitted profile's times and say "hf, anchored"; `--anchor-ms` over
/// several inputs, and an anchor on a chart of published or measured rows, are one-line errors.
#[test]
fn charts_of_a_run_take_an_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("mine.toml");
    std::fs::write(&rows, common::anchor_row("mine", "hf", 32, 480.0)).unwrap();
    let svg = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = ["--framework", "hf", "--gpu", "a100-80g"];
    let (curves, layers) = (svg("curves.svg"), svg("layers.svg"));
    let mut args = vec![
        "plot",
        "curves",
        "--frames",
        "8:32:8",
        "--schedule",
        "none,linear",
    ];
    args.extend(run);
    args.extend(["--anchor", rows.to_str().unwrap(), "-o", &curves]);
    let out = common::run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("note: anchored on 1 measured row(s)"));
    assert!(svg_text(Path::new(&curves)).contains("framework hf, anchored"));
    let mut args = vec!["plot", "layers", "--frames", "32", "--schedule", "linear"];
    args.extend(run);
    let mut anchored = args.clone();
    anchored.extend(["--anchor-ms", "480", "-o", &layers]);
    common::ok(&anchored);
    let plain = svg("plain.svg");
    args.extend(["-o", &plain]);
    common::ok(&args);
    assert_ne!(svg_text(Path::new(&layers)), svg_text(Path::new(&plain)));
    let mut several = vec![
        "plot",
        "curves",
        "--frames",
        "8,32",
        "--anchor-ms",
        "480",
        "-o",
        &curves,
    ];
    several.extend(run);
    let e = common::fails(&several);
    assert!(e.contains("--anchor-ms") && e.contains("--frames"), "{e}");
    let e = common::fails(&[
        "plot",
        "check",
        "--input",
        "reference/measurements.toml",
        "--anchor-ms",
        "480",
        "-o",
        &curves,
    ]);
    assert!(e.contains("only for `plot curves`"), "{e}");
    // The default frames axis was blamed as the user's "--frames (32 values)".
    let e = common::fails(&[
        "plot",
        "curves",
        "--framework",
        "hf",
        "--anchor-ms",
        "500",
        "-o",
        &curves,
    ]);
    assert!(
        e.contains("plot curves draws over frames (8:256:8 unless given)")
            && !e.contains("32 values"),
        "{e}"
    );
}

/// A log-scale curves panel is labelled at 1, 2 and 5 × 10^k only (as the check and Pareto
/// charts are): over less than two decades the bare log scale labelled 60, 70, 80, 90 and
/// packed its light lines into a grey band (until 2026-12-06).
#[test]
fn a_log_curves_panel_is_labelled_at_one_two_and_five() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("curves.svg");
    common::ok(&[
        "plot",
        "curves",
        "--frames",
        "8:64:8",
        "--schedule",
        "none,linear",
        "-o",
        svg.to_str().unwrap(),
    ]);
    let text = svg_text(&svg);
    let labels: Vec<&str> = text
        .split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>').map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("</text>").map(|(l, _)| l.trim()))
        .collect();
    assert!(labels.contains(&"TFLOPs, log scale"), "{labels:?}");
    // The FLOPs panel's y labels follow its axis titles, rising; its x labels (frames) start
    // again below the last of them.
    let start = labels.iter().position(|l| *l == "frames").unwrap() + 1;
    let numbers: Vec<f64> = labels[start..]
        .iter()
        .map_while(|l| l.parse::<f64>().ok())
        .collect();
    let rising = numbers
        .windows(2)
        .position(|w| w[1] < w[0])
        .map_or(numbers.len(), |i| i + 1);
    let y = &numbers[..rising];
    assert!(y.len() >= 4, "{labels:?}");
    for v in y {
        let mantissa = v / 10f64.powf(v.log10().floor());
        assert!(
            [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-9),
            "label {v} in {labels:?}"
        );
    }
}

/// Each kind's default size is the one `plot --help` states (it said 1400x800 for every kind
/// but accuracy, where `plot check` draws at 1100x1000).
#[test]
fn default_sizes_are_the_ones_the_help_states() {
    let help = common::ok(&["plot", "--help"]);
    assert!(
        help.contains("Pixels [default: 1400x800; accuracy 1400x1000, check 1100x1000]"),
        "{help}"
    );
    let dir = tempfile::tempdir().unwrap();
    // A PNG's width and height are the big-endian words at bytes 16..24 (its IHDR chunk).
    let size = |args: &[&str], name: &str| {
        let path = dir.path().join(name);
        let path = path.to_str().unwrap();
        common::ok(&[args, &["-o", path][..]].concat());
        let b = std::fs::read(path).unwrap();
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        (word(16), word(20))
    };
    assert_eq!(
        size(
            &["plot", "check", "--input", "reference/measurements.toml"],
            "check.png"
        ),
        (1100, 1000)
    );
    assert_eq!(size(&["plot", "layers"], "layers.png"), (1400, 800));
}

/// At the smallest `--size`, 200x200, every kind is its chart laid out at three quarters of its
/// default size (as tall or wide as the image's aspect asks) and scaled down, not squeezed into
/// 200 px with the default size's fonts and margins, which overlapped every title, tick label
/// and legend. The SVG's body is the one `--size` at that canvas draws, shown at 200x200 (its
/// viewBox); the PNG is 200x200. At the default size nothing changes (the image is drawn
/// directly: `docs/img`'s figures and `default_sizes_are_the_ones_the_help_states`).
#[test]
fn the_smallest_size_is_the_chart_scaled_down_not_squeezed() {
    let dir = tempfile::tempdir().unwrap();
    let measurement = synthetic_measurement(&dir);
    let measurement = measurement.to_str().unwrap();
    // Each kind, its flags, and the canvas a 200x200 image of it is laid out on: three
    // quarters of its default (1400x800 → 1050x600; accuracy 1400x1000 → 1050x750; check
    // 1100x1000 → 825x750), the width binding, the height as large (a square).
    let kinds: [(&str, Vec<&str>, &str); 6] = [
        ("curves", vec!["--frames", "8:64:8"], "1050x1050"),
        ("layers", vec![], "1050x1050"),
        ("roofline", vec![], "1050x1050"),
        (
            "pareto",
            vec!["--benchmark", "videomme", "--compare-paper"],
            "1050x1050",
        ),
        ("accuracy", vec!["--input", measurement], "1050x1050"),
        (
            "check",
            vec!["--input", "reference/measurements.toml"],
            "825x825",
        ),
    ];
    let draw = |kind: &str, extra: &[&str], size: &str, name: &str| {
        let path = dir.path().join(name);
        let mut args = vec!["plot", kind, "--size", size, "-o", path.to_str().unwrap()];
        args.extend(extra);
        common::ok(&args);
        std::fs::read(&path).unwrap()
    };
    for (kind, extra, canvas) in kinds {
        let small = String::from_utf8(draw(kind, &extra, "200x200", "small.svg")).unwrap();
        let large = String::from_utf8(draw(kind, &extra, canvas, "large.svg")).unwrap();
        let (w, h) = canvas.split_once('x').unwrap();
        let (small_head, small_body) = small.split_once('\n').unwrap();
        let (large_head, large_body) = large.split_once('\n').unwrap();
        assert_eq!(
            small_head,
            large_head.replacen(
                &format!("width=\"{w}\" height=\"{h}\""),
                "width=\"200\" height=\"200\"",
                1
            ),
            "{kind}"
        );
        assert!(
            small_head.contains(&format!("viewBox=\"0 0 {w} {h}\"")),
            "{kind}: {small_head}"
        );
        assert!(small_body == large_body, "{kind}: not the {canvas} layout");
        let png = draw(kind, &extra, "200x200", "small.png");
        let word = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{kind}");
        assert_eq!((word(16), word(20)), (200, 200), "{kind}");
        // Drawn, not blank: a white 200x200 PNG compresses to well under 1 KB.
        assert!(png.len() > 10_000, "{kind}: {} bytes", png.len());
    }
}

/// `--y-scale` sets the curves' scale and only theirs: the other charts drew the same file
/// whatever it said; now they refuse it in one line, and `curves` still honours it.
#[test]
fn y_scale_is_for_curves_only() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    let png = png.to_str().unwrap();
    let measurement = synthetic_measurement(&dir);
    let m = measurement.to_str().unwrap();
    for kind in [
        &["layers"][..],
        &["roofline"],
        &["pareto", "--benchmark", "videomme"],
        &["accuracy", "--input", m],
        &["check", "--input", "reference/measurements.toml"],
    ] {
        let args = [&["plot"][..], kind, &["--y-scale", "log", "-o", png]].concat();
        let err = common::fails(&args);
        assert!(
            err.contains(&format!(
                "--y-scale is only for `plot curves`, not `plot {}`",
                kind[0]
            )),
            "{err}"
        );
    }
    assert!(!Path::new(png).exists());
    let svg = |scale: &str| {
        let path = dir.path().join(format!("{scale}.svg"));
        common::ok(&[
            "plot",
            "curves",
            "--frames",
            "8:64:8",
            "--y-scale",
            scale,
            "-o",
            path.to_str().unwrap(),
        ]);
        svg_text(&path)
    };
    assert!(svg("log").contains("TFLOPs, log scale"));
    assert!(!svg("linear").contains("log scale"));
    let help = common::ok(&["plot", "--help"]);
    assert!(help.contains("`curves` only: the y scale"), "{help}");
}

/// A chart of a run that does not fit its GPU was drawn in silence, where simulate, sweep and
/// compare warn on standard error: plot warns as they do.
#[test]
fn a_chart_warns_as_its_run_does() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["layers", "roofline", "curves"] {
        let path = dir.path().join(format!("{kind}.svg"));
        let out = common::run(&[
            "plot",
            kind,
            "--batch",
            "100",
            "--gpu",
            "h100",
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{kind}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("warning:") && err.contains("85.9 GB"),
            "{kind}: {err}"
        );
    }
}

/// A GPU file's own [efficiency] table put the roofline's points under the roof while the
/// chart named only the roof: the subtitle names the table's figures.
#[test]
fn a_roofline_names_the_gpu_files_efficiency_table() {
    let dir = tempfile::tempdir().unwrap();
    let gpu = dir.path().join("slow.toml");
    let a100 = std::fs::read_to_string("hardware/a100.toml").unwrap();
    std::fs::write(
        &gpu,
        format!("{a100}\n[efficiency]\nmatmul = 0.7\nattention = 0.5\nelementwise = 0.8\nlaunch_overhead_s = 4e-6\n"),
    )
    .unwrap();
    let svg = dir.path().join("r.svg");
    common::ok(&[
        "plot",
        "roofline",
        "--gpu",
        gpu.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    let text = svg_text(&svg);
    assert!(
        text.contains("GPU [efficiency] table: matmul 70 %, attention 50 %, element-wise 80 %"),
        "{text}"
    );
    // The ideal roofline has no table to name.
    common::ok(&["plot", "roofline", "-o", svg.to_str().unwrap()]);
    assert!(!svg_text(&svg).contains("[efficiency]"));
}

/// `plot layers --gen-tokens 10` was refused as "sweep prices each configuration's prefill", a
/// command never run; and every command that refuses --gen-tokens offered it in its help.
#[test]
fn a_decode_length_is_refused_in_the_plots_words_and_not_offered() {
    for kind in ["layers", "roofline", "curves"] {
        let e = common::fails(&["plot", kind, "-o", "x.png", "--gen-tokens", "10"]);
        assert!(e.contains(&format!("plot {kind} draws the prefill")), "{e}");
        assert!(!e.contains("sweep"), "{e}");
    }
    for command in ["sweep", "compare", "budget", "pareto", "serve", "plot"] {
        let help = common::ok(&[command, "--help"]);
        assert!(!help.contains("--gen-tokens"), "{command}: {help}");
    }
    assert!(common::ok(&["simulate", "--help"]).contains("--gen-tokens"));
}

/// Charts drew configurations beyond the GPU's memory like any other, named no tensor
/// parallelism (a 72B model on 4 GPUs read as the whole model's figures), and the roofline
/// dropped the all-reduces without a word.
#[test]
fn charts_say_what_does_not_fit_per_gpu_figures_and_what_is_not_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let svg = |args: &[&str], name: &str| {
        let path = dir.path().join(name);
        let mut all = args.to_vec();
        all.extend(["-o", path.to_str().unwrap()]);
        common::ok(&all);
        std::fs::read_to_string(&path).unwrap()
    };
    let jetson = svg(
        &[
            "plot",
            "curves",
            "--gpu",
            "jetson-orin-nano",
            "--frames",
            "8,16",
        ],
        "jet.svg",
    );
    assert!(
        jetson.contains("hollow: 10 of 10 configurations exceed the GPU"),
        "no note of the unfit configurations"
    );
    let a100 = svg(&["plot", "curves", "--frames", "8,16"], "a100.svg");
    assert!(!a100.contains("hollow"));
    for kind in ["layers", "roofline", "curves"] {
        let big = svg(
            &[
                "plot",
                kind,
                "--model",
                "llava-ov-72b",
                "--tp",
                "4",
                "--frames",
                "8",
            ],
            &format!("{kind}.svg"),
        );
        assert!(
            big.contains("× 4 (tensor parallel: figures per GPU)"),
            "{kind}: no tensor parallelism in the title"
        );
        if kind == "roofline" {
            assert!(big.contains("not drawn (no FLOPs)"), "roofline: no note");
        }
    }
    let one = svg(&["plot", "roofline"], "one.svg");
    assert!(!one.contains("tensor parallel") && !one.contains("not drawn"));
}

/// `plot check --cv source,row` drew leave-one-source-out alone, in silence; and rows whose
/// left-out fit fell back (the table's `*`, here onto the roofline: one source) were drawn as
/// the profile's, their hollow roofline points hidden under them, unexplained.
#[test]
fn a_check_chart_draws_one_cross_validation_and_says_what_fell_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    common::write_anchor_rows(&file, &[("a", 8, 150.0), ("b", 32, 600.0)]);
    let (input, out) = (
        file.to_str().unwrap(),
        dir.path().join("c.svg").to_str().unwrap().to_string(),
    );
    for cv in [&["--cv", "source,row"][..], &["--cv", "source", "--loo"]] {
        let mut args = vec!["plot", "check", "--input", input, "-o", &out];
        args.extend(cv);
        let e = common::fails(&args);
        assert!(e.contains("plot check draws one cross-validation"), "{e}");
    }
    common::ok(&[
        "plot", "check", "--input", input, "--cv", "source", "-o", &out,
    ]);
    let text = svg_text(Path::new(&out));
    assert!(text.contains("2 fell back, check&apos;s *"), "{text}");
    common::ok(&["plot", "check", "--input", input, "--cv", "row", "-o", &out]);
    assert!(!svg_text(Path::new(&out)).contains("fell back"));
}

/// `check` tells a user with one source of their own to refit on the published rows too
/// (`--refit-also`); `plot check` had no such flag, so its left-out points for that file were
/// the ideal roofline ("2 fell back"). With it the chart draws the refits `check` prints.
#[test]
fn a_check_chart_refits_on_the_published_rows_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    common::write_anchor_rows(&file, &[("a", 8, 150.0), ("b", 32, 600.0)]);
    let input = file.to_str().unwrap();
    let out = dir.path().join("c.svg");
    let out = out.to_str().unwrap();
    common::ok(&[
        "plot",
        "check",
        "--input",
        input,
        "--cv",
        "--refit-also",
        "reference/measurements.toml",
        "-o",
        out,
    ]);
    let text = svg_text(Path::new(out));
    assert!(!text.contains("fell back"), "{text}");
    // The chart's median is check's, refitted the same way.
    let check = common::json(&[
        "check",
        input,
        "--cv",
        "--refit-also",
        "reference/measurements.toml",
    ]);
    let loso: Vec<f64> = check["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["loso_error"].as_f64().unwrap().abs())
        .collect();
    let worst = loso.iter().cloned().fold(0.0, f64::max) * 100.0;
    assert!(
        text.contains(&format!("worst {worst:.1} %")),
        "{worst}: {text}"
    );
    let e = common::fails(&[
        "plot",
        "curves",
        "--refit-also",
        "reference/measurements.toml",
        "-o",
        out,
    ]);
    assert!(e.contains("--refit-also is only for `plot check`"), "{e}");
}
