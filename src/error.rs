//! Typed errors of the library. Every variant is an input problem the user can fix, so the
//! binary maps all of them to exit code 2; each message is one line naming the problem and the fix.

use std::path::PathBuf;

/// An input the simulator cannot use. Messages are single-line by construction.
///
/// A message names the options it is about by [`Key`]: `Display` writes each as the spec's key
/// (`prune_start`, what a run file and Python call it); the command line writes its flag
/// (`--prune-start`) through [`Error::render`].
#[derive(Debug)]
pub enum Error {
    /// A preset name that is not embedded in the binary and is not a file either.
    UnknownPreset {
        kind: &'static str,
        /// The name as typed, shortened if long.
        name: String,
        /// ` (did you mean 'x'?)` when a preset is one or two typos away, else empty.
        hint: String,
        valid: String,
    },
    /// A file that could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file that was read but does not parse, or parses to the wrong shape.
    Parse { origin: String, message: String },
    /// A value that parses but makes no sense (zero tokens, NaN bandwidth, l2 <= l1 ...).
    Invalid(String),
    /// A GPU command found no usable GPU and `--require-gpu` was given.
    GpuUnavailable(String),
    /// A GPU run failed (kernel compile error, launch failure, results off the CPU reference).
    Gpu(String),
    /// The result could not be written (disk full, permission denied).
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// The message with its keys still marked: what another error's message quotes when it
    /// wraps this one, so that each reader still sees its own names.
    pub fn marked(&self) -> String {
        match self {
            Error::UnknownPreset {
                kind,
                name,
                hint,
                valid,
            } => format!(
                "unknown {kind} '{name}'{hint}: valid presets are {valid} (or give a path to your own file)"
            ),
            Error::Io { path, source } => {
                format!("cannot read {}: {source} (check the path)", path.display())
            }
            Error::Parse { origin, message } => format!("{origin}: {message}"),
            Error::Invalid(m) => m.clone(),
            Error::GpuUnavailable(m) => format!("{m} (and --require-gpu was given)"),
            Error::Gpu(m) => format!("GPU run failed: {m}"),
            Error::Output { path, source } => format!("cannot write {}: {source}", path.display()),
        }
    }

    /// The message with each key written by `name` (the command line passes its flag).
    pub fn render(&self, name: impl Fn(Key) -> String) -> String {
        render_keys(&self.marked(), name)
    }
}

/// The message as a spec file and Python name things: each key as the spec's key.
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(|k| k.name().to_string()))
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Output { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Marks around a key inside a message (Unicode private-use characters, never typed).
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

macro_rules! keys {
    ($($variant:ident / $konst:ident = $name:literal),* $(,)?) => {
        /// An option a message names: a key of the [`Spec`](crate::spec::Spec) or of a question
        /// (serve, budget, sweep, check), spelled as a run file and Python spell it. Formatting
        /// one (`{}`) marks it in the message; [`Error`]'s `Display` writes [`Key::name`], the
        /// command line its flag.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Key {
            $(#[doc = $name] $variant),*
        }

        impl Key {
            /// Every key, for tests and for mapping them all.
            pub const ALL: &'static [Key] = &[$(Key::$variant),*];

            /// The key as a spec file and Python name it (`prune_start`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Key::$variant => $name),*
                }
            }
        }

        /// Each [`Key`] as a constant, to name in a message: `format!("{PRUNE_START} needs ...")`.
        pub mod keys {
            use super::Key;
            $(#[doc = $name] pub const $konst: Key = Key::$variant;)*
        }
    };
}

keys! {
    // The spec's own keys (`Spec`'s fields).
    Model / MODEL = "model",
    Gpu / GPU = "gpu",
    Framework / FRAMEWORK = "framework",
    Tokens / TOKENS = "tokens",
    Frames / FRAMES = "frames",
    TokensPerFrame / TOKENS_PER_FRAME = "tokens_per_frame",
    ImageSize / IMAGE_SIZE = "image_size",
    VideoSize / VIDEO_SIZE = "video_size",
    VideoSeconds / VIDEO_SECONDS = "video_seconds",
    Fps / FPS = "fps",
    TextTokens / TEXT_TOKENS = "text_tokens",
    Schedule / SCHEDULE = "schedule",
    MergeTokensPerFrame / MERGE_TOKENS_PER_FRAME = "merge_tokens_per_frame",
    MergeKeepRatio / MERGE_KEEP_RATIO = "merge_keep_ratio",
    PruneStart / PRUNE_START = "prune_start",
    PruneEnd / PRUNE_END = "prune_end",
    PruneStep / PRUNE_STEP = "prune_step",
    LayerTokens / LAYER_TOKENS = "layer_tokens",
    CostModel / COST_MODEL = "cost_model",
    PruneTiming / PRUNE_TIMING = "prune_timing",
    Attention / ATTENTION = "attention",
    VisionAttention / VISION_ATTENTION = "vision_attention",
    Experts / EXPERTS = "experts",
    Selection / SELECTION = "selection",
    IncludeVision / INCLUDE_VISION = "include_vision",
    GenTokens / GEN_TOKENS = "gen_tokens",
    Tp / TP = "tp",
    AllLogits / ALL_LOGITS = "all_logits",
    ImportanceKernel / IMPORTANCE_KERNEL = "importance_kernel",
    Batch / BATCH = "batch",
    WBits / W_BITS = "w_bits",
    ABits / A_BITS = "a_bits",
    KvBits / KV_BITS = "kv_bits",
    SkipMlpAdd / SKIP_MLP_ADD = "skip_mlp_add",
    // serve's options.
    Rate / RATE = "rate",
    Duration / DURATION = "duration",
    Requests / REQUESTS = "requests",
    Trace / TRACE = "trace",
    FramesDist / FRAMES_DIST = "frames_dist",
    TextDist / TEXT_DIST = "text_dist",
    OutputTokens / OUTPUT_TOKENS = "output_tokens",
    MaxNumSeqs / MAX_NUM_SEQS = "max_num_seqs",
    MaxNumBatchedTokens / MAX_NUM_BATCHED_TOKENS = "max_num_batched_tokens",
    NoChunkedPrefill / NO_CHUNKED_PREFILL = "chunked_prefill=False",
    BlockSize / BLOCK_SIZE = "block_size",
    GpuMemoryUtilization / GPU_MEMORY_UTILIZATION = "gpu_memory_utilization",
    KvCacheGb / KV_CACHE_GB = "kv_cache_gb",
    FindMaxRate / FIND_MAX_RATE = "find_max_rate",
    SloTtft / SLO_TTFT = "slo_ttft",
    SloTpot / SLO_TPOT = "slo_tpot",
    SloAttainment / SLO_ATTAINMENT = "slo_attainment",
    Schedules / SCHEDULES = "schedules",
    // budget's.
    TargetReduction / TARGET_REDUCTION = "target_reduction",
    Solve / SOLVE = "solve",
    MaxFrames / MAX_FRAMES = "max_frames",
    By / BY = "by",
    // check's.
    AnchorMs / ANCHOR_MS = "anchor_ms",
    Anchor / ANCHOR = "anchor",
    Loo / LOO = "loo",
    Cv / CV = "cv",
    RefitAlso / REFIT_ALSO = "refit_also",
    ReferenceFrames / REFERENCE_FRAMES = "reference_frames",
    // A run file to replay (the command line's --spec, Python's spec).
    Spec / SPEC = "spec",
}

/// Marks the key in a message (see [`Error::render`]).
impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{OPEN}{}{CLOSE}", self.name())
    }
}

/// `text` with each marked key written by `name`; anything else, unchanged.
pub(crate) fn render_keys(text: &str, name: impl Fn(Key) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + OPEN.len_utf8()..];
        let key = tail.find(CLOSE).and_then(|end| {
            let key = Key::ALL.iter().find(|k| k.name() == &tail[..end])?;
            Some((*key, end))
        });
        match key {
            Some((key, end)) => {
                out.push_str(&name(key));
                rest = &tail[end + CLOSE.len_utf8()..];
            }
            None => {
                out.push(OPEN);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` (an output line of the core: a warning, a note) with each marked key written by
/// `name`: the core's warnings and notes mark the options they name as its errors do, and
/// every place text leaves the program renders them (the command line as flags, Python and run
/// files as keys). Borrowed unchanged when `text` names no key, as almost every text does.
pub fn with_keys(text: &str, name: impl Fn(Key) -> String) -> std::borrow::Cow<'_, str> {
    if text.contains(OPEN) {
        std::borrow::Cow::Owned(render_keys(text, name))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `text` with each marked key as the spec's key (`layer_tokens`): what Python and a run file
/// say ([`with_keys`]).
pub fn with_key_names(text: &str) -> std::borrow::Cow<'_, str> {
    with_keys(text, |k| k.name().to_string())
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
pub(crate) fn toml_error_line(text: &str, err: &toml::de::Error) -> String {
    let message = plain_types(&err.message().replace('\n', " "), "a table");
    // A key the whole document lacks: the span is empty at its start, which named line 1 and
    // whatever key stood there ("line 1, column 1, key 'name': missing field `bandwidth`").
    if err.span().is_none_or(|s| s.is_empty() && s.start == 0) {
        if let Some(key) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            return format!("the required key '{key}' is missing: add it");
        }
    }
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
            // A key inside a table: which table (`[efficiency]` of a GPU file said only "key
            // 'matmull'", and listed keys the top level does not take).
            let table = if key.starts_with(", key") {
                before[..line_start]
                    .lines()
                    .rev()
                    .map(str::trim)
                    .find(|l| l.starts_with('[') && !l.starts_with("[["))
                    .map(|l| format!(" in [{}]", l.trim_matches(['[', ']', ' '])))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            format!(
                "line {line}, column {column}{key}{table}: {}{}",
                message.trim(),
                unknown_field_hint(&message)
            )
        }
        None => format!("{}{}", message.trim(), unknown_field_hint(&message)),
    }
}

/// " (did you mean 'matmul'?)" for serde's "unknown field `matmull`, expected one of
/// `matmul`, ..." where one expected key is a typo or two away.
fn unknown_field_hint(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return String::new();
    };
    let Some((typed, expected)) = rest.split_once('`') else {
        return String::new();
    };
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|k| (edit_distance(typed, k), k))
        .filter(|(d, _)| *d > 0 && *d <= 2)
        .min()
        .map(|(_, k)| format!(" (did you mean '{k}'?)"))
        .unwrap_or_default()
}

/// `message` with serde's Rust type names in a reader's words: `expected u64` said nothing a
/// user writes in a file or types as a flag ("expected a whole number, 0 or more" does).
/// `map` is said as `container` ("a table" in TOML, "an object" in JSON).
pub fn plain_types(message: &str, container: &str) -> String {
    const WHOLE_0: &str = "a whole number, 0 or more";
    let mut out = message.to_string();
    // Longest names first, so that `u16` is not read as `u1` followed by `6`.
    for (rust, plain) in [
        ("usize", WHOLE_0),
        ("isize", "a whole number"),
        ("u128", WHOLE_0),
        ("i128", "a whole number"),
        ("u64", WHOLE_0),
        ("u32", WHOLE_0),
        ("u16", WHOLE_0),
        ("u8", WHOLE_0),
        ("i64", "a whole number"),
        ("i32", "a whole number"),
        ("i16", "a whole number"),
        ("i8", "a whole number"),
        ("f64", "a number"),
        ("f32", "a number"),
    ] {
        out = replace_word(
            &out,
            &format!("expected {rust}"),
            &format!("expected {plain}"),
        );
    }
    out = replace_word(&out, "invalid type: sequence", "invalid type: a list");
    replace_word(
        &out,
        "invalid type: map",
        &format!("invalid type: {container}"),
    )
}

/// `text` with each `word` that does not run on into more letters or digits replaced.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let after = &rest[i + word.len()..];
        out.push_str(&rest[..i]);
        if after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A number from a user's file as a message quotes it: plain where that is short, else in
/// scientific notation (`1e300`, not 301 digits; `5e-324`, not 324 decimals).
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    if v.is_finite() && a != 0.0 && !(1e-4..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
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
pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
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
        // Twelve significant digits: a value a unit change made (1e20 GB → bytes → GB) read
        // 9.999999999999998e19.
        let s = format!("{x:.11e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{exponent}")
    } else {
        format!("{x}")
    }
}

/// Levenshtein distance (insertions, deletions, substitutions; a swap of neighbours counts
/// one, as in Damerau's variant, so `linaer` is one edit from `linear`).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large and tiny values read in short scientific notation, everyday ones as typed.
    #[test]
    fn bounded_numbers_read_short() {
        assert_eq!(bounded(1e20 * 1e9 / 1e9), "1e20");
        assert_eq!(bounded(9.999999999999998e19), "1e20");
        assert_eq!(bounded(1.5e300), "1.5e300");
        assert_eq!(bounded(-2.25e-7), "-2.25e-7");
        assert_eq!(bounded(123.5), "123.5");
        assert_eq!(bounded(f64::INFINITY), "inf");
    }

    /// serde's Rust type names never reach a reader (a spec's `tokens = -5` said "expected
    /// u64"); a word that only starts like one (`u64x`) is left alone.
    #[test]
    fn rust_type_names_are_said_in_words() {
        for (message, want) in [
            (
                "invalid value: integer `-5`, expected u64",
                "invalid value: integer `-5`, expected a whole number, 0 or more",
            ),
            (
                "invalid type: string \"x\", expected f64",
                "invalid type: string \"x\", expected a number",
            ),
            (
                "expected u16 at line 1",
                "expected a whole number, 0 or more at line 1",
            ),
            ("expected i32", "expected a whole number"),
            (
                "invalid type: sequence, expected usize",
                "invalid type: a list, expected a whole number, 0 or more",
            ),
            (
                "invalid type: map, expected f32",
                "invalid type: a table, expected a number",
            ),
            ("expected u64x", "expected u64x"),
            ("expected u8_t", "expected u8_t"),
        ] {
            assert_eq!(plain_types(message, "a table"), want, "{message}");
        }
    }

    /// A number is quoted as typed where that is short, in scientific notation where it is
    /// not (1e300 once printed as 301 digits).
    #[test]
    fn numbers_are_quoted_readably() {
        for (v, want) in [
            (1e300, "1e300"),
            (5e-324, "5e-324"),
            (-2.5e20, "-2.5e20"),
            (85899345920.0, "85899345920"),
            (3.35e12, "3350000000000"),
            (0.7, "0.7"),
            (1e-6, "1e-6"),
            (0.0, "0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(number(v), want);
        }
    }

    /// A key the whole TOML document lacks is named without a location (its span is the
    /// document's start, which named line 1 and its key); one a table lacks keeps the table's.
    #[test]
    fn a_missing_key_is_named_without_a_misleading_location() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            a: u64,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            name: String,
            bandwidth: f64,
            inner: Option<Inner>,
        }
        let line = |text: &str| toml_error_line(text, &toml::from_str::<Outer>(text).unwrap_err());
        assert_eq!(
            line("name = 'x'\n"),
            "the required key 'bandwidth' is missing: add it"
        );
        assert_eq!(
            line("[inner]\na = 1\n"),
            "the required key 'name' is missing: add it"
        );
        assert_eq!(
            line("name = 'x'\nbandwidth = 1\n[inner]\nb = 2\n"),
            "line 3, column 1, table 'inner': missing field `a`"
        );
    }
}
