//! Preset files (GPUs, models, schedules) embedded in the binary so the tool runs from any
//! directory. Each `--gpu`/`--model`/`--schedule` value is first looked up here, then read as a path.

mod kind;
use crate::error::{Error, Result};
pub use kind::{kind_hint, looks_like, with_kind_hint, FileKind};
use std::path::Path;

/// One embedded preset: its name (file stem) and the file's text.
pub type Preset = (&'static str, &'static str);

macro_rules! presets {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../", $dir, "/", $name, ".toml")))),*]
    };
}

/// GPU profiles in `hardware/`.
pub const GPUS: &[Preset] = presets!("hardware":
    "a100", "a100-80g", "a800", "h100", "h100-pcie", "h200", "l40s", "l40", "a6000", "rtx4090", "v100",
    // GPUs bought now and at the edge (issue 27); each file cites its datasheet.
    "b200", "gb200", "rtx5090", "rtx-pro-6000", "l4", "a10g", "mi300x", "mi325x",
    "jetson-agx-orin", "jetson-orin-nano",
    // The RTX 4090's export variant and the A40, for published sources measured on them
    // (issue 21).
    "rtx4090d", "a40",
    // GPUs of AccelMark's suite D (issue 21): the H20 and its 141 GB HBM3e variant, the RTX 6000
    // Ada, the V100S.
    "h20", "h20-3e", "rtx6000-ada", "v100s");

/// Model presets in `models/`.
pub const MODELS: &[Preset] = presets!("models":
    "llava-ov-0.5b", "llava-ov-7b", "llava-ov-72b", "llava-video-7b", "llava-1.5-7b", "llava-next-7b",
    "llava-1.5-13b", "qwen2-vl-7b", "qwen2.5-vl-7b", "internvl2.5-8b",
    // Current models (issue 17): each file cites its config source.
    "qwen3-vl-8b", "qwen3-vl-30b-a3b", "internvl3-8b", "llava-ov-1.5-8b");

/// Schedule presets in `schedules/`.
pub const SCHEDULES: &[Preset] = presets!("schedules":
    "none", "linear", "merge-only", "aim-image",
    // Other methods and AIM variants (issue 4); each file cites its source.
    "aim-aggressive", "aim-late", "aim-prune-only", "fastv", "pdrop", "vtw", "sparsevlm-192",
    "fastvid", "visionzip-64");

/// Framework profiles in `frameworks/` (how a software stack runs the kernels).
pub const FRAMEWORKS: &[Preset] = presets!("frameworks":
    "roofline", "trtllm", "hf", "hf-eager");

/// Where a definition came from: a preset name or a file path. Used in error messages.
#[derive(Debug, Clone)]
pub struct Source {
    pub origin: String,
    pub text: String,
    /// Path of the user's file, `None` for an embedded preset.
    pub path: Option<std::path::PathBuf>,
}

/// Resolves `name_or_path` against `presets`, falling back to reading a file.
pub fn resolve(kind: &'static str, name_or_path: &str, presets: &[Preset]) -> Result<Source> {
    let preset = |(name, text): Preset| Source {
        origin: format!("{kind} preset '{name}'"),
        text: text.to_string(),
        path: None,
    };
    if let Some(name) = canonical(name_or_path, presets) {
        let text = presets.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
        return Ok(preset((name, text.unwrap_or_default())));
    }
    let path = Path::new(name_or_path);
    let looks_like_path = name_or_path.contains(std::path::MAIN_SEPARATOR)
        || name_or_path.contains('/')
        || path.extension().is_some();
    match std::fs::metadata(path) {
        // It exists: read_input says what it is if it is not a regular file.
        Ok(_) => {}
        // A symlink loop, a permission problem: say so, not "no such file". (A name too long
        // for a path is a name.)
        Err(e)
            if !matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidFilename
            ) =>
        {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: e,
            })
        }
        Err(_) => {
            // `--model Qwen/Qwen2-VL-72B-Instruct`: a hub id no preset has was read as a path
            // ("cannot read …: no such file").
            let hub_id = kind == "model"
                && !name_or_path.starts_with(['.', '/', '~'])
                && !name_or_path.ends_with(".json")
                && !name_or_path.ends_with(".toml")
                && matches!(name_or_path.split_once('/'), Some((org, repo)) if !org.is_empty() && !repo.is_empty() && !repo.contains('/'));
            if hub_id {
                return Err(Error::UnknownPreset {
                    kind,
                    name: crate::error::shorten(name_or_path, 60),
                    hint: " (a Hugging Face id no preset answers to, and no such file: download the model's config.json and give its path)".into(),
                    valid: names(presets).join(", "),
                });
            }
            if looks_like_path {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                });
            }
            // `serve --schedule none,linear`: a list where one run takes one name.
            let list = name_or_path.contains(',')
                && name_or_path
                    .split(',')
                    .all(|n| presets.iter().any(|p| p.0 == n.trim()));
            let hint = if list && kind == "schedule" {
                format!(
                    " (one schedule per run: compare and sweep take a list in {}, serve in {})",
                    crate::error::keys::SCHEDULE,
                    crate::error::keys::SCHEDULES
                )
            } else if list && kind == "framework" {
                // No command takes several frameworks (it said "sweep takes a list").
                " (one framework per run, sweep and compare too: run once per framework)"
                    .to_string()
            } else if list {
                format!(" (one {kind} per run: sweep takes a list)")
            } else {
                nearest(name_or_path, presets)
                    .map(|n| format!(" (did you mean '{n}'?)"))
                    .unwrap_or_default()
            };
            return Err(Error::UnknownPreset {
                kind,
                name: crate::error::shorten(name_or_path, 60),
                hint,
                valid: names(presets).join(", "),
            });
        }
    }
    let text = read_input(path)?;
    // An empty file would be all defaults (a schedule that does nothing), silently.
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Error::invalid(format!(
            "{} is empty: a {kind} file needs its settings (`aim-sim list` names presets to start from)",
            path.display()
        )));
    }
    Ok(Source {
        origin: path.display().to_string(),
        text,
        path: Some(path.to_path_buf()),
    })
}

/// The embedded preset `typed` means, or `None` for a file path: its own name; another name of
/// it ([`aliases`]) unless a file of that name exists (a hub id is also the folder a checkpoint
/// downloads to, which is no preset file); its name in any case (`H100`) unless a file or
/// folder has that name. A run records this name, so a fitted profile's per-GPU values and a
/// replayed run find their preset however it was typed.
pub fn canonical(typed: &str, presets: &[Preset]) -> Option<&'static str> {
    canonical_at(typed, presets, Path::new(""))
}

/// [`canonical`] for a name whose file paths start at `base` (a measurement file's folder).
/// The file system is asked only about a name that matches a preset, so a file path (a sweep
/// prices one per row) costs string comparisons, no system call.
pub fn canonical_at(typed: &str, presets: &[Preset], base: &Path) -> Option<&'static str> {
    if let Some((name, _)) = presets.iter().find(|(n, _)| *n == typed) {
        return Some(name);
    }
    if let Some(name) = by_alias(typed, presets) {
        return (!base.join(typed).is_file()).then_some(name);
    }
    presets
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(typed.trim()))
        .filter(|_| !base.join(typed).exists())
        .map(|(n, _)| *n)
}

/// The other names a preset answers to, case ignored: its file's `name` (a GPU's "NVIDIA
/// GeForce RTX 4090") and `aliases` (a model's Hugging Face hub ids; a GPU's device name as
/// `nvidia-smi` and `torch.cuda.get_device_name()` print it, which is what a harness logs).
pub fn aliases(text: &str) -> Vec<String> {
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    let name = table
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let listed = table
        .get("aliases")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string));
    name.into_iter().chain(listed).collect()
}

/// The GPU preset a GPU file (or an inline GPU) describes: the preset whose file stem, `name`
/// or `aliases` is the definition's `name` or one of its `aliases`, case and surrounding
/// spaces ignored. A copy of a preset's file (its `host` changed, or written by `aim-sim
/// calibrate`) keeps the preset's `name`, so it is the same device and a framework profile's
/// values fitted for that preset apply to it. No file is looked up: these are device names.
pub fn gpu_preset_of<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    names
        .into_iter()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .find_map(|n| {
            GPUS.iter()
                .find(|(stem, _)| stem.eq_ignore_ascii_case(n))
                .map(|(stem, _)| *stem)
                .or_else(|| by_alias(n, GPUS))
        })
}

/// The preset of `presets` that `typed` names by one of its [`aliases`], case and surrounding
/// spaces ignored. The embedded presets' aliases are parsed once, not at every lookup.
fn by_alias(typed: &str, presets: &[Preset]) -> Option<&'static str> {
    static TABLE: std::sync::OnceLock<Vec<(String, &'static str)>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        [GPUS, MODELS, SCHEDULES, FRAMEWORKS]
            .into_iter()
            .flatten()
            .flat_map(|(name, text)| {
                aliases(text)
                    .into_iter()
                    .map(move |a| (a.to_ascii_lowercase(), *name))
            })
            .collect()
    });
    let typed = typed.trim().to_ascii_lowercase();
    table
        .iter()
        .find(|(alias, name)| *alias == typed && presets.iter().any(|(n, _)| n == name))
        .map(|(_, name)| *name)
}

/// The preset a mistyped name most likely meant: at most two edits away (one for names of up
/// to four letters), case ignored.
pub fn nearest(typed: &str, presets: &[Preset]) -> Option<&'static str> {
    if typed.len() > 64 {
        return None;
    }
    let typed = typed.to_ascii_lowercase();
    let limit = if typed.chars().count() <= 4 { 1 } else { 2 };
    presets
        .iter()
        .map(|(n, _)| (edit_distance(&typed, n), *n))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n)
}

/// Levenshtein distance, in [`crate::error`] (which messages need it, below this module).
pub(crate) use crate::error::edit_distance;

/// Longest `name` a model, GPU or schedule file may give: names go into titles, labels and
/// messages (a 5 MB name made `plot layers` lay out text for minutes).
pub(crate) const MAX_NAME_CHARS: usize = 200;

/// Checks a file's `name` against [`MAX_NAME_CHARS`].
pub(crate) fn check_name(name: &str) -> std::result::Result<(), String> {
    let count = name.chars().count();
    if count > MAX_NAME_CHARS {
        return Err(format!(
            "key 'name' has {count} characters, more than {MAX_NAME_CHARS}: give a short name"
        ));
    }
    Ok(())
}

/// The names of a preset list, in file order.
pub fn names(presets: &[Preset]) -> Vec<&'static str> {
    presets.iter().map(|(n, _)| *n).collect()
}

/// Parses TOML text into `T`, turning errors into one line that names the origin.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T> {
    toml::from_str(&source.text).map_err(|e| {
        let message = crate::error::toml_error_line(&source.text, &e);
        // A file that is no TOML at all (a run's JSON output, a config.json, a CSV trace)
        // fails on its first line: say what it looks like.
        let hint = other_kind(&source.text, &message).unwrap_or_else(|| {
            if toml::from_str::<toml::Table>(&source.text).is_err() {
                looks_like(&source.text).map_or(String::new(), FileKind::hint)
            } else {
                String::new()
            }
        });
        Error::Parse {
            origin: source.origin.clone(),
            message: format!("{message}{hint}"),
        }
    })
}

/// "; it looks like a GPU file: give it to --gpu" where the file holds the keys another kind
/// of file is made of and the kind it was read as takes none of them (`--model
/// hardware/h100.toml` listed a model's keys and no more).
fn other_kind(text: &str, message: &str) -> Option<String> {
    use crate::error::keys::{FRAMEWORK, GPU, MODEL, SCHEDULE};
    let expected: Vec<&str> = message
        .split("expected one of ")
        .nth(1)?
        .split('`')
        .skip(1)
        .step_by(2)
        .collect();
    let table: toml::Table = toml::from_str(text).ok()?;
    // An unknown key inside a table (a GPU file's `[efficiency]`) says nothing of the file's
    // kind: that table's keys were taken for the file's, which named a GPU file "a GPU file:
    // give it to --gpu" where it was given to --gpu.
    let unknown = message
        .split("unknown field `")
        .nth(1)
        .and_then(|r| r.split('`').next());
    if unknown.is_some_and(|k| !table.contains_key(k)) {
        return None;
    }
    let kinds: [(&str, crate::error::Key, &[&str]); 4] = [
        ("a GPU", GPU, &["bandwidth", "fp16_peak", "memory"]),
        (
            "a model",
            MODEL,
            &["hidden_size", "num_layers", "num_heads"],
        ),
        (
            "a framework profile",
            FRAMEWORK,
            &["params", "spread", "provenance"],
        ),
        (
            "a schedule",
            SCHEDULE,
            &["merge", "prune", "scale_to_layers"],
        ),
    ];
    kinds
        .iter()
        .find(|(_, _, keys)| {
            !keys.iter().any(|k| expected.contains(k))
                && keys.iter().filter(|k| table.contains_key(**k)).count() >= 2
        })
        .map(|(what, key, _)| format!("; it looks like {what} file: give it to {key}"))
}

/// The `description` (or `name`) value of a preset file, for listings.
pub fn describe(text: &str) -> String {
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    ["description", "name"]
        .iter()
        .find_map(|k| {
            table
                .get(*k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("")
        .to_string()
}

/// Largest input file read: presets, specs, measurements and reports are kilobytes; anything
/// near this is a mistake (a binary, a log), and reading it whole would cost gigabytes.
pub(crate) const MAX_INPUT_BYTES: u64 = 10 * 1024 * 1024;

/// Reads a user's input file: a regular file (not a FIFO, a device or a directory, which could
/// block or never end) of at most [`MAX_INPUT_BYTES`], as UTF-8 text.
pub(crate) fn read_input(path: &Path) -> Result<String> {
    let io = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(Error::invalid(format!(
            "{} is not a regular file (a directory, device or pipe): give the path of a file",
            path.display()
        )));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(Error::invalid(format!(
            "{} is {} MB, more than the {} MB an input file may have: is it the right file?",
            path.display(),
            meta.len() / 1_000_000,
            MAX_INPUT_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    utf8_text(path, bytes)
}

/// A file's bytes as text, or the error that says it is not text.
pub(crate) fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| {
        Error::invalid(format!(
            // Not "a TOML or JSON file": a measurement file is TOML only, a trace CSV too.
            "{} is not UTF-8 text (a binary file?): is it the right file?",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every other name (hub id, device name, a GPU's `name`) leads to one preset only, and none
    /// is another preset's file name: an alias must never change which preset a name means.
    #[test]
    fn aliases_name_one_preset_each_and_resolve_to_it() {
        for (kind, list) in [("GPU", GPUS), ("model", MODELS)] {
            let mut seen: Vec<(String, &str)> = Vec::new();
            for (name, text) in list {
                for alias in aliases(text) {
                    let lower = alias.to_ascii_lowercase();
                    assert!(
                        !list
                            .iter()
                            .any(|(n, _)| *n != *name && n.eq_ignore_ascii_case(&lower)),
                        "{kind} alias '{alias}' of {name} is another preset's name"
                    );
                    if let Some((_, other)) = seen.iter().find(|(a, n)| *a == lower && n != name) {
                        panic!("{kind} alias '{alias}' names both {name} and {other}");
                    }
                    seen.push((lower, name));
                    let source = resolve(kind, &alias, list).unwrap();
                    assert_eq!(source.origin, format!("{kind} preset '{name}'"), "{alias}");
                    // Case and surrounding spaces are forgiven, as for preset names.
                    let shouted = format!(" {} ", alias.to_ascii_uppercase());
                    assert_eq!(resolve(kind, &shouted, list).unwrap().text, *text);
                }
            }
        }
        // The names a user pastes: nvidia-smi's device name and a hub id.
        let a100 = resolve("GPU", "NVIDIA A100-SXM4-80GB", GPUS).unwrap();
        assert_eq!(a100.origin, "GPU preset 'a100-80g'");
        let ov = resolve("model", "lmms-lab/llava-onevision-qwen2-7b-ov", MODELS).unwrap();
        assert_eq!(ov.origin, "model preset 'llava-ov-7b'");
    }

    /// A GPU file is the preset whose stem, `name` or alias its `name` or an alias is, case
    /// and spaces forgiven; blank names and other devices are none.
    #[test]
    fn a_gpu_file_is_the_preset_it_names() {
        assert_eq!(gpu_preset_of(["NVIDIA GeForce RTX 4090"]), Some("rtx4090"));
        assert_eq!(gpu_preset_of([" RTX4090 "]), Some("rtx4090"));
        assert_eq!(
            gpu_preset_of(["lab box", "nvidia h100 80gb hbm3"]),
            Some("h100")
        );
        assert_eq!(gpu_preset_of(["", "  "]), None);
        assert_eq!(gpu_preset_of(["NVIDIA GeForce RTX 4080"]), None);
        // A model's hub id names no GPU.
        assert_eq!(gpu_preset_of(["llava-onevision-7b"]), None);
    }

    /// A file at a path that is also an alias is read as that file (a checkpoint folder's
    /// config is the user's, not the preset).
    #[test]
    fn a_file_named_like_an_alias_is_read_as_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("llava-onevision-7b");
        std::fs::write(&path, "name = \"mine\"\n").unwrap();
        let source = resolve("model", path.to_str().unwrap(), MODELS).unwrap();
        assert_eq!(source.path.as_deref(), Some(path.as_path()));
        assert!(source.text.contains("mine"));
    }
}
