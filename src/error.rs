//! Typed errors of the library. Every variant is an input problem the user can fix, so the
//! binary maps all of them to exit code 2; each message is one line naming the problem and the fix.

use std::path::PathBuf;

/// An input the simulator cannot use. Messages are single-line by construction.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A preset name that is not embedded in the binary and is not a file either.
    #[error(
        "unknown {kind} '{name}'{hint}: valid presets are {valid} (or give a path to your own file)"
    )]
    UnknownPreset {
        kind: &'static str,
        /// The name as typed, shortened if long.
        name: String,
        /// ` (did you mean 'x'?)` when a preset is one or two typos away, else empty.
        hint: String,
        valid: String,
    },
    /// A file that could not be read.
    #[error("cannot read {}: {source} (check the path)", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file that was read but does not parse, or parses to the wrong shape.
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    /// A value that parses but makes no sense (zero tokens, NaN bandwidth, l2 <= l1 ...).
    #[error("{0}")]
    Invalid(String),
    /// A GPU command found no usable GPU and `--require-gpu` was given.
    #[error("{0} (and --require-gpu was given)")]
    GpuUnavailable(String),
    /// A GPU run failed (kernel compile error, launch failure, results off the CPU reference).
    #[error("GPU run failed: {0}")]
    Gpu(String),
    /// The result could not be written (disk full, permission denied).
    #[error("cannot write {}: {source}", path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// Process exit code: 2 for anything the user can fix (the input, a missing GPU, an
    /// output path that cannot be written), 1 for a GPU run that failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Gpu(_) => 1,
            _ => 2,
        }
    }

    /// Shorthand for [`Error::Invalid`] with a formatted message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}

/// Library result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One-line description of a TOML parse error: `line L, column C: message`.
/// The toml crate's own Display spans several lines with a source excerpt.
pub fn toml_error_line(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().replace('\n', " ");
    match err.span() {
        Some(span) => {
            let start = floor_char_boundary(text, span.start.min(text.len()));
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[line_start..].chars().count() + 1;
            // Name the key when the error sits on a `key = value` line.
            let line_text = text[line_start..].lines().next().unwrap_or("");
            let key = line_text
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"'))
                .filter(|k| !k.is_empty() && !k.starts_with('[') && !k.starts_with('#'))
                .map(|k| format!(", key '{k}'"))
                .or_else(|| {
                    let t = line_text.trim();
                    t.starts_with('[')
                        .then(|| format!(", table '{}'", t.trim_matches(['[', ']', ' '])))
                })
                .unwrap_or_default();
            format!("line {line}, column {column}{key}: {}", message.trim())
        }
        None => message.trim().to_string(),
    }
}

/// The largest char boundary at or below `i` (a span may point inside a multi-byte character).
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A message made safe for one line (a terminal's, a Python exception's): control characters
/// (a newline in a file name, an escape sequence) are written as escapes.
pub fn one_line(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// `text` cut to at most `max_chars` characters (an ellipsis and the length marking the cut),
/// so that a message quoting user input stays one readable line.
pub fn shorten(text: &str, max_chars: usize) -> String {
    let count = text.chars().count();
    if count <= max_chars {
        return text.to_string();
    }
    let head: String = text.chars().take(max_chars).collect();
    format!("{head}… ({count} characters)")
}

/// A number a user typed, for a message: as typed when it is of everyday size, in scientific
/// notation (`1e308`, `1e-310`) otherwise, so that no message prints hundreds of digits.
pub fn bounded(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e6).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}
