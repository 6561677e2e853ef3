//! One output shape (issue 22, part 3): `-o FILE` alone takes the format from the extension, a
//! contradiction or a format a command lacks is a one-line error, every command's formats
//! come from its result's views, Markdown is made from the CSV, and `-o FILE.png|svg` draws
//! the chart `aim-sim plot` draws.

mod common;

use common::{fails, ok, run};
use std::path::Path;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("the output file exists")
}

fn with(args: &[&str], more: &[&str]) -> Vec<String> {
    args.iter().chain(more).map(|s| s.to_string()).collect()
}

/// Regression (issue 22): `sweep -o rows.csv` wrote the aligned table; it writes CSV now, the
/// same text as `--format csv` on standard output. Likewise every known extension.
#[test]
fn the_extension_names_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = ["sweep", "--frames", "8,16", "--schedule", "none,linear"];
    for (ext, format) in [
        ("csv", "csv"),
        ("json", "json"),
        ("jsonl", "jsonl"),
        ("md", "markdown"),
        ("html", "html"),
    ] {
        let path = dir.path().join(format!("rows.{ext}"));
        let p = path.to_str().unwrap();
        assert_eq!(ok(&with(&sweep, &["-o", p])), "");
        assert_eq!(
            read(&path),
            ok(&with(&sweep, &["--format", format])),
            "-o rows.{ext}"
        );
        // The same format given explicitly as well is no contradiction.
        std::fs::remove_file(&path).unwrap();
        ok(&with(&sweep, &["-o", p, "--format", format]));
        assert_eq!(read(&path), ok(&with(&sweep, &["--format", format])));
    }
    let csv = read(&dir.path().join("rows.csv"));
    assert!(csv.starts_with("model,gpu,schedule,"), "{csv}");
    // Upper case is the same extension.
    let upper = dir.path().join("RUN.JSON");
    ok(&["--frames", "4", "-o", upper.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&read(&upper)).unwrap();
    assert!(v["totals"]["flops"].as_f64().unwrap() > 0.0);
}

#[test]
fn an_unknown_extension_keeps_the_table() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["run.txt", "run", "run.out"] {
        let path = dir.path().join(name);
        ok(&["--frames", "4", "-o", path.to_str().unwrap()]);
        assert_eq!(read(&path), ok(&["--frames", "4"]), "{name}");
    }
}

#[test]
fn a_contradiction_is_one_line_naming_both_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.json");
    let p = path.to_str().unwrap();
    let e = fails(&["sweep", "--frames", "8", "--format", "csv", "-o", p]);
    assert!(
        e.contains("--format csv") && e.contains("rows.json") && e.contains(".csv"),
        "{e}"
    );
    assert!(!path.exists(), "nothing is written on an error");
    let e = fails(&[
        "--format",
        "table",
        "-o",
        dir.path().join("r.md").to_str().unwrap(),
    ]);
    assert!(e.contains("--format table") && e.contains("r.md"), "{e}");
}

/// A command lists its own formats, and any other is refused in one line that lists them.
#[test]
fn each_command_has_its_formats_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["reproduce"], "table, json, csv, markdown"),
        (&["budget"], "table, json, html"),
        (
            &["fit", "reference/measurements.toml"],
            "table, json, csv, markdown",
        ),
        (
            &["serve", "--reference", "reference/serving.toml"],
            "table, json, csv, markdown",
        ),
        (
            &["compare", "--schedule", "none,linear"],
            "table, json, csv, markdown, html",
        ),
    ];
    for (args, formats) in cases {
        for image in ["png", "svg"] {
            let path = dir.path().join(format!("x.{image}"));
            let e = fails(&with(args, &["-o", path.to_str().unwrap()]));
            assert!(e.contains(formats) && e.contains(image), "{args:?}: {e}");
            assert!(!path.exists());
        }
    }
    // An explicit format a command lacks: clap's one line with the possible values.
    let e = fails(&["reproduce", "--format", "png"]);
    assert!(e.contains("table, json, csv, markdown"), "{e}");
    let e = fails(&["validate", "--format", "csv"]);
    assert!(e.contains("[possible values: table, json]"), "{e}");
    // Each command's short help names exactly its formats.
    for (cmd, line) in [
        ("reproduce", "table (default), json, csv, markdown\n"),
        ("budget", "table (default), json, html\n"),
        (
            "sweep",
            "table (default), json, csv, jsonl, markdown, html, png, svg\n",
        ),
        ("measure", "table (default), json, png, svg\n"),
    ] {
        let help = ok(&[cmd, "-h"]);
        assert!(help.contains(line), "{cmd} -h: {help}");
    }
}

#[test]
fn an_image_needs_its_file() {
    let e = fails(&["--frames", "4", "--format", "png"]);
    assert!(e.contains("-o FILE.png"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let e = fails(&[
        "--frames",
        "4",
        "--format",
        "svg",
        "-o",
        dir.path().join("x.dat").to_str().unwrap(),
    ]);
    assert!(e.contains(".svg"), "{e}");
}

/// `-o FILE.svg` of a command draws what `aim-sim plot KIND` draws for the same flags.
#[test]
fn a_commands_chart_is_the_plot_of_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["sweep", "--frames", "8:32:8", "--schedule", "none,linear"],
            &[
                "plot",
                "curves",
                "--frames",
                "8:32:8",
                "--schedule",
                "none,linear",
            ],
        ),
        (
            &["--frames", "8", "--schedule", "fastv"],
            &["plot", "layers", "--frames", "8", "--schedule", "fastv"],
        ),
        (
            &["pareto", "--benchmark", "mme"],
            &["plot", "pareto", "--benchmark", "mme"],
        ),
        (
            &["check", "reference/measurements.toml"],
            &["plot", "check", "--input", "reference/measurements.toml"],
        ),
    ];
    for (i, (command, plot)) in cases.iter().enumerate() {
        let a = dir.path().join(format!("a{i}.svg"));
        let b = dir.path().join(format!("b{i}.svg"));
        assert_eq!(ok(&with(command, &["-o", a.to_str().unwrap()])), "");
        ok(&with(plot, &["-o", b.to_str().unwrap()]));
        let svg = read(&a);
        assert!(svg.starts_with("<svg"), "{command:?}");
        assert_eq!(svg, read(&b), "{command:?} against {plot:?}");
    }
    let png = dir.path().join("run.png");
    ok(&["--frames", "8", "-o", png.to_str().unwrap()]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
}

/// Markdown is the CSV as a pipe table: a header, its rule, one row per CSV record, the same
/// cells.
#[test]
fn markdown_is_the_csv_as_a_pipe_table() {
    for args in [
        &["--frames", "4"][..],
        &["sweep", "--frames", "8,16", "--schedule", "none,linear"],
        &["reproduce"],
        &["compare", "--schedule", "none,linear"],
        &["pareto", "--benchmark", "mme"],
        &["check", "reference/measurements.toml"],
    ] {
        let csv = ok(&with(args, &["--format", "csv"]));
        let md = ok(&with(args, &["--format", "markdown"]));
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), csv.lines().count() + 1, "{args:?}");
        let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
        assert_eq!(lines[0], format!("| {} |", header.join(" | ")), "{args:?}");
        assert_eq!(lines[1], format!("|{}", " --- |".repeat(header.len())));
        // Cells without quotes or pipes come through as they are.
        for (row, line) in csv.lines().skip(1).zip(&lines[2..]) {
            if !row.contains('"') && !row.contains('|') {
                let cells: Vec<String> = row
                    .split(',')
                    .map(|c| {
                        if c.is_empty() {
                            "  ".into()
                        } else {
                            format!(" {c} ")
                        }
                    })
                    .collect();
                assert_eq!(*line, format!("|{}|", cells.join("|")), "{args:?}");
            }
        }
    }
}

/// Standard output closed early (`| head`) is not an error, in any format.
#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::process::{Command, Stdio};
    for format in ["csv", "markdown", "table"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aim-sim"))
            .args(["sweep", "--frames", "1:3000", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{format}: {out:?}");
    }
    // And the binary still writes to a pipe that stays open.
    assert!(run(&["reproduce", "--format", "markdown"]).status.success());
}

/// Standard error closed early (`aim-sim … 2>&1 | head -1`) is not an error either: a run that
/// warns, or fails, wrote its line with `eprintln!`, which panicked (exit 101, "failed printing
/// to stderr: Broken pipe").
#[test]
fn a_closed_standard_error_is_not_a_panic() {
    use std::process::{Command, Stdio};
    for (args, code) in [
        // A warning (1000 tokens is no whole number of frames), then the table.
        (&["--tokens", "1000"][..], 0),
        (&["sweep", "--tokens", "1000,2000"][..], 0),
        // An error's one line.
        (&["--tokens", "0"][..], 2),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_aim-sim"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(writer)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {out:?}");
    }
}

/// `-o x.pdf` (a format no command writes) wrote the text table into x.pdf with exit 0; it is
/// refused with the command's formats. A name without an extension, or `.txt`, takes the table.
#[test]
fn an_output_name_of_a_foreign_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (args, name) in [
        (&[][..], "x.pdf"),
        (&["compare", "--schedule", "none,linear"][..], "x.xlsx"),
        (&["sweep", "--frames", "8,16"][..], "x.parquet"),
    ] {
        let path = dir.path().join(name);
        let mut all = args.to_vec();
        all.extend(["-o", path.to_str().unwrap()]);
        let err = common::fails(&all);
        assert!(err.contains("writes no .") && err.contains("json"), "{err}");
        assert!(!path.exists(), "{name} was written");
    }
    for name in ["table.txt", "table"] {
        let path = dir.path().join(name);
        common::ok(&["-o", path.to_str().unwrap()]);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("reduction"));
    }
}

/// `-o rows.cvs` (a typo of .csv) wrote the text table with exit 0; an extension one edit from a
/// format's is refused with the one it likely meant. Others (`.out`, `.xyz`) keep the table.
#[test]
fn a_misspelt_format_extension_is_refused_with_the_one_meant() {
    let dir = tempfile::tempdir().unwrap();
    for (name, meant) in [
        ("rows.cvs", ".csv"),
        ("run.jsn", ".json"),
        ("p.hmtl", ".html"),
    ] {
        let path = dir.path().join(name);
        let e = fails(&["sweep", "--frames", "8,16", "-o", path.to_str().unwrap()]);
        assert!(e.contains(&format!("did you mean {meant}?")), "{e}");
        assert!(!path.exists(), "{name} was written");
    }
    let path = dir.path().join("rows.cvs");
    ok(&[
        "--frames",
        "4",
        "--format",
        "csv",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(read(&path).starts_with("run,layer,"), "{}", read(&path));
    let path = dir.path().join("run.xyz");
    ok(&["--frames", "4", "-o", path.to_str().unwrap()]);
    assert_eq!(read(&path), ok(&["--frames", "4"]));
}
