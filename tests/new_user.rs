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
