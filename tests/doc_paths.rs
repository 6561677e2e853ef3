//! Comments and docs point to files that exist: every repository path named in a `//` comment
//! (Rust), a `#` comment (the TOML data files) or a Markdown link resolves in the repository.
//! Notes kept outside it (`../shared/...`) do not: what they say is in `docs/specs/`.

use std::path::{Path, PathBuf};

const EXTENSIONS: &[&str] = &[
    "md", "rs", "toml", "cu", "cuh", "json", "py", "pyi", "csv", "sh", "png", "svg", "html",
];
/// Path-like words that name no file here on purpose: (file, path, why).
const NOT_OURS: &[(&str, &str, &str)] = &[
    (
        "src/model/hf.rs",
        "models/llama-2-7b.json",
        "an example of a user's file name",
    ),
    (
        "models/qwen3-vl-30b-a3b.toml",
        "models/qwen3_vl_moe/configuration_qwen3_vl_moe.py",
        "a file of the transformers repository",
    ),
    (
        "models/qwen3-vl-8b.toml",
        "models/qwen3_vl/modeling_qwen3_vl.py",
        "a file of the transformers repository",
    ),
    (
        "models/qwen2.5-vl-7b.toml",
        "models/qwen2_5_vl/modeling_qwen2_5_vl.py",
        "a file of the transformers repository",
    ),
    // This test's own examples of bad paths.
    ("tests/doc_paths.rs", "../", "the scanner's own test cases"),
];
/// Folders not read: build outputs and version control.
const SKIP: &[&str] = &["target", ".git", ".venv-ci", "node_modules", "__pycache__"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !SKIP.contains(&name.as_str()) {
                files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

/// First components that make a path-like word a reference to this repository (or to a place
/// beside it, which is the error this test exists for): the repository's top-level entries,
/// the folders of `src/` (`cost/refined/layer.rs`), and `..`, `shared`.
fn anchors() -> Vec<String> {
    let mut out: Vec<String> = ["..", "shared"].map(String::from).to_vec();
    for dir in [".", "src"] {
        for e in std::fs::read_dir(dir).expect("readable").flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !SKIP.contains(&name.as_str()) {
                out.push(name);
            }
        }
    }
    out
}

/// Path-like words of `text`: `a/b.ext` (an extension of [`EXTENSIONS`]) or `../x`.
fn paths(text: &str) -> Vec<String> {
    let word = |c: char| c.is_ascii_alphanumeric() || "_./-".contains(c);
    let mut out = Vec::new();
    for raw in text.split(|c: char| !word(c)) {
        let w = raw.trim_end_matches(['.', '-']);
        if !w.contains('/') || w.contains("//") {
            continue;
        }
        let ext = w.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if EXTENSIONS.contains(&ext) || w.starts_with("../") {
            out.push(w.to_string());
        }
    }
    out
}

/// Whether `target`, named in `file`, exists: beside the file, at the root, or under `src/`.
fn resolves(file: &Path, target: &str) -> bool {
    let beside = file.parent().unwrap_or(Path::new(".")).join(target);
    [beside, PathBuf::from(target), Path::new("src").join(target)]
        .iter()
        .any(|p| p.exists())
}

/// The comment part of each line of `file`, by its kind.
fn comments(file: &Path, text: &str) -> Vec<String> {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    let marker = match ext {
        "rs" | "cu" | "cuh" => "//",
        "toml" | "py" | "sh" => "#",
        _ => return Vec::new(),
    };
    text.lines()
        .filter_map(|l| l.find(marker).map(|i| l[i..].to_string()))
        .collect()
}

#[test]
fn every_path_in_a_comment_or_a_link_resolves() {
    let anchors = anchors();
    let mut all = Vec::new();
    files(Path::new("."), &mut all);
    let mut bad = Vec::new();
    for file in &all {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let shown = file.strip_prefix(".").unwrap_or(file).display().to_string();
        for comment in comments(file, &text) {
            for p in paths(&comment) {
                let first = p.split('/').next().unwrap_or("");
                let excused = NOT_OURS
                    .iter()
                    .any(|(f, q, _)| *f == shown && p.starts_with(q));
                if anchors.iter().any(|a| a == first) && !resolves(file, &p) && !excused {
                    bad.push(format!("{shown}: {p}"));
                }
            }
        }
        if file.extension().is_some_and(|e| e == "md") {
            for link in text.split("](").skip(1) {
                let target = link.split([')', ' ']).next().unwrap_or("");
                let target = target.split('#').next().unwrap_or("");
                if target.is_empty() || target.contains(':') {
                    continue;
                }
                let at = file.parent().unwrap_or(Path::new(".")).join(target);
                if !at.exists() {
                    bad.push(format!("{shown}: link {target}"));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "paths that name no file of the repository (fix the path, or bring what the note says \
         into docs/ and point there): {bad:#?}"
    );
}

#[test]
fn the_scanner_finds_paths() {
    assert_eq!(
        paths("// see ../shared/specs/x.md and src/cost/mod.rs, not e.g. 1/2."),
        ["../shared/specs/x.md", "src/cost/mod.rs"]
    );
    assert!(!resolves(Path::new("src/lib.rs"), "../shared/specs/x.md"));
    assert!(resolves(Path::new("src/lib.rs"), "cost/refined/layer.rs"));
}
