//! Helpers shared by the integration tests: run the real binary and read its output.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs `aim-sim` with `args`.
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aim-sim"))
        .args(args)
        .output()
        .expect("aim-sim runs")
}

/// Runs `aim-sim`, asserts success, returns stdout.
pub fn ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "aim-sim {:?} failed ({}): {}",
        args.iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Runs `aim-sim --format json` and parses the output.
pub fn json<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> serde_json::Value {
    let mut all: Vec<std::ffi::OsString> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    all.push("--format".into());
    all.push("json".into());
    serde_json::from_str(&ok(&all)).expect("valid JSON")
}

/// Runs `aim-sim`, asserts exit code 2 and a one-line stderr; returns stderr.
pub fn fails<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2 for {:?}, got {} with stderr {stderr}",
        args.iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        out.status
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one-line error, got: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Replaces (under `AIM_SIM_BLESS`) or checks the marked block `name` of the doc at `path`
/// (`<!-- name:begin -->` … `<!-- name:end -->`) against `want`, computed from `source`;
/// a difference or missing markers is pushed to `failures`.
pub fn doc_block(path: &str, name: &str, want: &str, source: &str, failures: &mut Vec<String>) {
    let text = std::fs::read_to_string(path).expect("readable doc");
    let (begin, end) = (
        format!("<!-- {name}:begin -->\n"),
        format!("<!-- {name}:end -->"),
    );
    let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) else {
        failures.push(format!("{path}: markers of block '{name}' missing"));
        return;
    };
    let got = &text[a + begin.len()..b];
    if got == want {
        return;
    }
    if std::env::var_os("AIM_SIM_BLESS").is_some() {
        let new = format!("{}{want}{}", &text[..a + begin.len()], &text[b..]);
        std::fs::write(path, new).expect("doc written");
    } else {
        failures.push(format!(
            "{path}: block '{name}' differs from {source}:\n--- in the file\n{got}--- from {source}\n{want}"
        ));
    }
}

/// FastVID's own 32-frame LLaVA-OneVision run under `hf` on an A100 80GB (120 text tokens) with
/// `frames` frames and per-layer counts `layers`, its selection priced: what FastVID's Table 5
/// times apart (tests/selection.rs, tests/docs_figures.rs).
pub fn fastvid_args(frames: &str, layers: &str) -> Vec<String> {
    [
        "--model",
        "llava-ov-7b",
        "--frames",
        frames,
        "--text-tokens",
        "120",
        "--gpu",
        "a100-80g",
        "--framework",
        "hf",
        "--selection",
        "fastvid",
        "--layer-tokens",
        layers,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `hf`'s per-op cost on `gpu` as shipped (frameworks/hf.toml): its own value, else the pooled one.
pub fn hf_per_op_s(gpu: &str) -> f64 {
    let hf: toml::Table =
        toml::from_str(&std::fs::read_to_string("frameworks/hf.toml").unwrap()).unwrap();
    hf.get("gpu")
        .and_then(|g| g.get(gpu))
        .and_then(|g| g.get("launch_overhead_s"))
        .unwrap_or(&hf["params"]["launch_overhead_s"])
        .as_float()
        .unwrap()
}

/// A measurement file at `path` of [`anchor_row`]s, one per `(id, frames, measured_ms)`, all
/// under framework `hf`.
pub fn write_anchor_rows(path: &std::path::Path, rows: &[(&str, u64, f64)]) {
    let text: Vec<String> = rows
        .iter()
        .map(|(id, frames, ms)| anchor_row(id, "hf", *frames, *ms))
        .collect();
    std::fs::write(path, text.join("\n")).expect("a temporary file is writable");
}

/// One measured row of a user's own stack in reference/measurements.toml's schema (LLaVA-OV-7B
/// on the A100 80GB, prefill, no reduction): what `--anchor FILE` takes.
pub fn anchor_row(id: &str, framework: &str, frames: u64, measured_ms: f64) -> String {
    format!(
        r#"[[measurement]]
id = "{id}"
source = "my own stack"
model = "llava-ov-7b"
gpu = "a100-80g"
framework = "{framework}"
timed = "prefill"
attention = "flash"
w_bits = 16
text_tokens = 100
frames = {frames}
tokens_per_frame = 196
schedule = "none"
measured_ms = {measured_ms}
"#
    )
}
