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
