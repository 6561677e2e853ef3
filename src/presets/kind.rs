//! Which of aim-sim's inputs a file's text looks like, so that a file given to the wrong flag
//! says where it belongs: `--model hardware/h100.toml` listed a model's keys and no more, a
//! GPU file given to `serve --trace` was "unknown column 'name = …'", a run's JSON given to
//! `--gpu` was "invalid key-value pair".

use crate::error::keys::{ANCHOR, FRAMEWORK, GPU, MODEL, SCHEDULE, SPEC, TRACE};

/// The kinds of file aim-sim reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Gpu,
    Model,
    Framework,
    Schedule,
    /// A measurement file (`check FILE`, `--anchor FILE`).
    Measurements,
    /// A run file: a spec, or aim-sim's JSON output of one run (`--spec`).
    Run,
    /// A request trace (`serve --trace`).
    Trace,
}

impl FileKind {
    /// "; it looks like … : give it to …", to append to a parse error.
    pub fn hint(self) -> String {
        let (what, whereto) = match self {
            FileKind::Gpu => ("a GPU file", format!("give it to {GPU}")),
            FileKind::Model => ("a model file", format!("give it to {MODEL}")),
            FileKind::Framework => (
                "a framework profile file",
                format!("give it to {FRAMEWORK}"),
            ),
            FileKind::Schedule => ("a schedule file", format!("give it to {SCHEDULE}")),
            FileKind::Measurements => (
                "a measurement file",
                format!("give it to check, or to {ANCHOR}"),
            ),
            FileKind::Run => (
                "a run file (a spec, or the JSON output of one run)",
                format!("replay it with {SPEC}"),
            ),
            FileKind::Trace => ("a request trace", format!("give it to serve's {TRACE}")),
        };
        format!("; it looks like {what}: {whereto}")
    }
}

/// The hint for a file read as `expected` whose text looks like another kind; empty where it
/// looks like `expected` or like nothing in particular.
pub fn kind_hint(text: &str, expected: FileKind) -> String {
    looks_like(text)
        .filter(|k| *k != expected)
        .map_or(String::new(), FileKind::hint)
}

/// Appends [`kind_hint`] to a parse error's message (once).
pub fn with_kind_hint(
    e: crate::error::Error,
    text: &str,
    expected: FileKind,
) -> crate::error::Error {
    match e {
        crate::error::Error::Parse { origin, message } if !message.contains("; it looks like ") => {
            let hint = kind_hint(text, expected);
            crate::error::Error::Parse {
                origin,
                message: format!("{message}{hint}"),
            }
        }
        e => e,
    }
}

/// What `text` looks like, by the keys each kind is made of; `None` where nothing tells.
pub fn looks_like(text: &str) -> Option<FileKind> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    // A trace: a CSV header, or JSON Lines, naming arrival times.
    let header: Vec<&str> = first
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    if header.contains(&"arrival_s") {
        return Some(FileKind::Trace);
    }
    if first.starts_with('{') {
        if let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(first) {
            if o.contains_key("arrival_s") {
                return Some(FileKind::Trace);
            }
        }
        let serde_json::Value::Object(o) = serde_json::from_str(text).ok()? else {
            return None;
        };
        let has = |k: &str| o.contains_key(k);
        return if has("spec") || (has("model") && has("gpu")) {
            Some(FileKind::Run)
        } else if ["hidden_size", "text_config", "llm_config", "architectures"]
            .iter()
            .any(|k| has(k))
        {
            Some(FileKind::Model)
        } else {
            None
        };
    }
    let table: toml::Table = toml::from_str(text).ok()?;
    let count = |keys: &[&str]| keys.iter().filter(|k| table.contains_key(**k)).count();
    if table.contains_key("measurement") {
        Some(FileKind::Measurements)
    } else if count(&["bandwidth", "fp16_peak", "memory"]) >= 2 {
        Some(FileKind::Gpu)
    } else if count(&["hidden_size", "num_layers", "num_heads"]) >= 2 {
        Some(FileKind::Model)
    } else if count(&["params", "spread", "provenance"]) >= 2 {
        Some(FileKind::Framework)
    } else if count(&["merge", "prune"]) >= 1 {
        Some(FileKind::Schedule)
    } else if count(&["model", "gpu", "frames", "tokens", "schedule"]) >= 2 {
        Some(FileKind::Run)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(path: &str) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    /// Each shipped file is told as its own kind, and traces and runs by their keys.
    #[test]
    fn each_kind_is_told_apart() {
        for (path, kind) in [
            ("hardware/h100.toml", FileKind::Gpu),
            ("models/llava-ov-7b.toml", FileKind::Model),
            ("frameworks/hf.toml", FileKind::Framework),
            ("schedules/linear.toml", FileKind::Schedule),
            ("reference/measurements.toml", FileKind::Measurements),
        ] {
            assert_eq!(looks_like(&shipped(path)), Some(kind), "{path}");
            assert_eq!(kind_hint(&shipped(path), kind), "", "{path}");
        }
        for (text, kind) in [
            (
                "arrival_s,frames,text_tokens,output_tokens\n0,1,2,3\n",
                FileKind::Trace,
            ),
            ("\u{feff}\"arrival_s\",\"frames\"\n", FileKind::Trace),
            (
                "{\"arrival_s\": 0, \"frames\": 1}\n{\"arrival_s\": 1, \"frames\": 1}\n",
                FileKind::Trace,
            ),
            (
                "{\"spec\": {\"model\": \"llava-ov-7b\"}, \"totals\": {}}",
                FileKind::Run,
            ),
            (
                "model = \"llava-ov-7b\"\ngpu = \"h100\"\nframes = 8\n",
                FileKind::Run,
            ),
            (
                "{\"model_type\": \"llama\", \"hidden_size\": 4096}",
                FileKind::Model,
            ),
        ] {
            assert_eq!(looks_like(text), Some(kind), "{text}");
        }
        assert_eq!(looks_like("name = \"x\"\n"), None);
        assert_eq!(looks_like(""), None);
        assert_eq!(looks_like("not toml at all ["), None);
        assert!(kind_hint(&shipped("hardware/h100.toml"), FileKind::Trace)
            .contains("it looks like a GPU file"));
    }
}
