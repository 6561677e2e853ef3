//! Every `aim-sim` command quoted in README.md, docs/*.md and python/README.md still runs, and
//! every output quoted beside a `$ aim-sim …` prompt is what the command prints.
//!
//! Commands come from `sh` code blocks and from inline code spans that start with `aim-sim `;
//! templates (with `FILE`, `NAME`, `[flags]`, `a|b` alternatives) and GPU runs are skipped,
//! and output paths (`-o`, `--output`, `--write`, `--profile`) go to a temporary folder, so
//! the repository's files are never rewritten here.

mod common;

use std::collections::BTreeSet;

const DOCS: &[&str] = &[
    "README.md",
    "docs/accuracy.md",
    "docs/architecture.md",
    "docs/cost-models.md",
    "docs/gpus.md",
    "docs/kernels.md",
    "docs/validation.md",
    "docs/serving.md",
    "python/README.md",
];

/// `aim-sim …` commands quoted in `text`: lines of `sh` blocks and inline code spans.
fn quoted_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut in_block = false;
    // Prose outside code blocks, joined, so a code span may wrap onto the next line.
    let mut prose = String::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(lang) = t.strip_prefix("```") {
            if in_block {
                in_block = false;
                in_sh = false;
            } else {
                in_block = true;
                in_sh = lang.trim() == "sh";
            }
            continue;
        }
        if in_block {
            if in_sh {
                let cmd = t.trim_start_matches("$ ");
                if cmd.starts_with("aim-sim ") || cmd == "aim-sim" {
                    // A trailing comment is not part of the command.
                    out.push(cmd.split(" #").next().unwrap_or(cmd).trim().to_string());
                }
            }
            continue;
        }
        prose.push_str(line);
        prose.push(' ');
    }
    // Inline code spans.
    for (i, span) in prose.split('`').enumerate() {
        let span = span.split_whitespace().collect::<Vec<_>>().join(" ");
        if i % 2 == 1 && (span.starts_with("aim-sim ") || span == "aim-sim") {
            out.push(span);
        }
    }
    out
}

/// Whether a quoted command is a template or needs what a test machine lacks.
fn skipped(cmd: &str) -> bool {
    let template = [
        "|", "[", "…", "...", "FILE", "NAME", "PATH", "SHELL", "DIR", "<", ">", "$", ";", "&&",
        " X", " N", "=", "(", "*",
    ];
    let gpu = ["validate", "measure", "calibrate"];
    // A one- or two-letter capital word is a placeholder (`--frames F`); a file argument that
    // does not exist names the reader's own file (`--spec out.json`).
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let placeholder = words
        .iter()
        .any(|w| w.len() <= 2 && w.chars().all(|c| c.is_ascii_uppercase()));
    let missing_file = words.windows(2).any(|p| {
        !["-o", "--output", "--write", "--profile"].contains(&p[0])
            && [".json", ".toml"].iter().any(|e| p[1].ends_with(e))
            && !std::path::Path::new(p[1]).exists()
    });
    placeholder
        || missing_file
        || template.iter().any(|t| cmd.contains(t))
        || gpu.iter().any(|g| {
            cmd.split_whitespace().nth(1) == Some(g) && !cmd.contains("--synthetic-device")
        })
        || cmd.contains("--require-gpu")
}

/// The command's arguments, with output paths moved into `dir`.
fn arguments(cmd: &str, dir: &std::path::Path) -> Vec<String> {
    let words: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        out.push(w.to_string());
        if ["-o", "--output", "--write", "--profile"].contains(&w) && i + 1 < words.len() {
            let name = std::path::Path::new(words[i + 1])
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "out".into());
            let target = if w == "--write" {
                let d = dir.join(format!("write-{i}"));
                std::fs::create_dir_all(&d).unwrap();
                d
            } else {
                dir.join(name)
            };
            out.push(target.to_string_lossy().into_owned());
            i += 2;
            continue;
        }
        i += 1;
    }
    out
}

#[test]
fn every_quoted_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut ran = 0;
    for doc in DOCS {
        let text = std::fs::read_to_string(doc).unwrap_or_default();
        for cmd in quoted_commands(&text) {
            if skipped(&cmd) || !seen.insert(cmd.clone()) {
                continue;
            }
            let args = arguments(&cmd, dir.path());
            let out = common::run(&args);
            ran += 1;
            if !out.status.success() {
                failures.push(format!(
                    "{doc}: `{cmd}` exited {}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    assert!(
        ran >= 20,
        "only {ran} commands found: is the extraction broken?"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A `$ aim-sim …` line in a `text` block followed by output lines: each of those lines (not
/// the `...` ellipses) must be a line of the command's output.
#[test]
fn quoted_outputs_are_what_the_commands_print() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for doc in DOCS {
        let text = std::fs::read_to_string(doc).unwrap_or_default();
        let mut block: Option<(String, Vec<String>)> = None;
        let mut in_block = false;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                if in_block {
                    if let Some((cmd, lines)) = block.take() {
                        let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
                        let printed = common::ok(&args);
                        let printed: BTreeSet<&str> =
                            printed.lines().map(|l| l.trim_end()).collect();
                        for l in lines {
                            if !printed.contains(l.trim_end()) {
                                failures.push(format!("{doc}: `{cmd}` does not print: {l}"));
                            }
                        }
                        checked += 1;
                    }
                }
                in_block = !in_block;
                continue;
            }
            if !in_block {
                continue;
            }
            match (&mut block, line.strip_prefix("$ aim-sim")) {
                (None, Some(rest)) => block = Some((format!("aim-sim{rest}"), Vec::new())),
                (Some((_, lines)), _) => {
                    let t = line.trim();
                    if !t.is_empty() && t != "..." && t != "…" {
                        lines.push(line.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    assert!(checked >= 1, "no quoted output found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_extraction_sees_blocks_and_spans() {
    let text = "run `aim-sim reproduce` now\n```sh\naim-sim --frames 8   # eight\ncargo test\n```\n`aim-sim plot curves -o FILE.png` and `aim-sim --gpu\nh100`\n";
    let cmds = quoted_commands(text);
    assert_eq!(
        cmds,
        [
            "aim-sim --frames 8",
            "aim-sim reproduce",
            "aim-sim plot curves -o FILE.png",
            "aim-sim --gpu h100"
        ]
    );
    assert!(skipped(&cmds[2]));
    assert!(!skipped(&cmds[0]) && !skipped(&cmds[3]));
    assert!(skipped("aim-sim --spec no-such-run.json"));
    assert!(skipped("aim-sim --frames F"));
}
