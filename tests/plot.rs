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
