//! One simulation, completely described: the input of the simulation core.
//!
//! A [`Spec`] is plain data (serde): the command line parses its flags into one, a run file
//! (`aim-sim --spec run.toml`) is one, the Python binding builds one, and every JSON output
//! carries the *resolved* spec ([`crate::scenario::Scenario::resolved_spec`]) so a run can be
//! replayed exactly (`aim-sim --spec out.json`). Defaults live here, in [`Spec::default`];
//! validation happens once, when a spec becomes a [`crate::scenario::Scenario`].

use crate::choice::Choice;
use crate::cost::{CostModelKind, ImportanceKernel};
use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::hardware::Gpu;
use crate::model::{Model, Resolution};
use crate::schedule::{PruneTiming, Schedule};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub mod options;

/// A model, GPU or schedule: a preset name or file path, or the definition itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Definition<T> {
    /// A preset name (`llava-ov-7b`) or a path to a TOML / Hugging Face `config.json` file.
    Name(String),
    /// The definition inline, in the same keys as its TOML file.
    Inline(Box<T>),
}

/// A string is a name; a table is the definition, whose own errors (a missing key) come through.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Definition<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Definition<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a preset name, a file path, or an inline table")
            }
            fn visit_str<E: serde::de::Error>(
                self,
                v: &str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Definition::Name(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|t| Definition::Inline(Box::new(t)))
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

impl<T> Definition<T> {
    /// The name or path, or `what` for an inline definition (for messages and labels).
    pub(crate) fn label<'a>(&'a self, inline: &'a str) -> &'a str {
        match self {
            Definition::Name(n) => n,
            Definition::Inline(_) => inline,
        }
    }
}

impl<T> From<&str> for Definition<T> {
    fn from(name: &str) -> Self {
        Definition::Name(name.to_string())
    }
}

impl Definition<Model> {
    /// Loads a named model or validates an inline one.
    pub fn load(&self) -> Result<Model> {
        match self {
            Definition::Name(n) => Model::load(n),
            Definition::Inline(m) => {
                let mut m = (**m).clone();
                m.resolve()
                    .and_then(|()| m.validate())
                    .map_err(|message| Error::Parse {
                        origin: "the spec's inline model".into(),
                        message,
                    })?;
                Ok(m)
            }
        }
    }
}

impl Definition<Gpu> {
    /// Loads a named GPU or validates an inline one.
    pub fn load(&self) -> Result<Gpu> {
        match self {
            Definition::Name(n) => Gpu::load(n),
            Definition::Inline(g) => {
                g.validate().map_err(|message| Error::Parse {
                    origin: "the spec's inline GPU".into(),
                    message,
                })?;
                Ok((**g).clone())
            }
        }
    }
}

impl Definition<Framework> {
    /// Loads a named framework profile or validates an inline one.
    pub fn load(&self) -> Result<Framework> {
        match self {
            Definition::Name(n) => Framework::load(n),
            Definition::Inline(f) => {
                f.validate().map_err(|message| Error::Parse {
                    origin: "the spec's inline framework".into(),
                    message,
                })?;
                Ok((**f).clone())
            }
        }
    }
}

impl Definition<Schedule> {
    /// Loads a named schedule or validates an inline one.
    pub fn load(&self) -> Result<Schedule> {
        match self {
            Definition::Name(n) => Schedule::load(n),
            Definition::Inline(s) => {
                s.validate().map_err(|message| Error::Parse {
                    origin: "the spec's inline schedule".into(),
                    message,
                })?;
                Ok((**s).clone())
            }
        }
    }
}

pub use crate::attention::AttentionImpl;

/// Declares `Spec` once: each field with its attributes, type and default (`= DEFAULT`), and
/// from that list the struct, its `Default` and `Spec::set_field` (the option of a run of the
/// same name laid over the field: a field cannot be missing from it, and a type the option
/// values cannot fill is a compile error).
macro_rules! spec_fields {
    (
        $(#[$struct_attr:meta])*
        pub struct Spec {
            $($(#[$attr:meta])* $field:ident: $ty:ty = $default:expr,)*
        }
    ) => {
        $(#[$struct_attr])*
        pub struct Spec {
            $($(#[$attr])* pub $field: $ty,)*
        }

        impl Default for Spec {
            fn default() -> Self {
                Spec {
                    $($field: $default,)*
                }
            }
        }

        impl Spec {
            /// Sets the field named `option` from `value`; `None` when no field has that name,
            /// `Some(false)` when the value is of the wrong kind for it.
            fn set_field(&mut self, option: &str, value: &options::Value) -> Option<bool> {
                match option {
                    $(stringify!($field) => match FromValue::from_value(value.clone()) {
                        Some(v) => {
                            self.$field = v;
                            Some(true)
                        }
                        None => Some(false),
                    },)*
                    _ => None,
                }
            }
        }
    };
}

spec_fields! {
/// Everything that defines one simulated prefill. Field names are the long flags of the
/// command line with `_` for `-`; absent optional fields take the documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Spec {
    /// Model preset, model TOML or Hugging Face `config.json` path, or an inline model table.
    model: Definition<Model> = DEFAULT_MODEL.into(),
    /// GPU preset or GPU TOML path, or an inline GPU table.
    gpu: Definition<Gpu> = DEFAULT_GPU.into(),
    /// Framework profile (preset, TOML path or inline table): how the software stack runs the
    /// kernels [default: roofline, the ideal].
    framework: Definition<Framework> = crate::framework::ROOFLINE.into(),
    /// Visual tokens before merging: `tokens / tokens_per_frame` frames when it divides, else
    /// one frame of `tokens`. Excludes `frames`.
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<u64> = None,
    /// Frames (video) or images [default: the model's].
    #[serde(skip_serializing_if = "Option::is_none")]
    frames: Option<u64> = None,
    /// Visual tokens per frame before merging [default: the model's, or what its
    /// resolution-aware vision tower makes of `image_size` / `video_size`].
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens_per_frame: Option<u64> = None,
    /// Size of each image (`WxH` pixels) for a resolution-aware vision tower: the tokens per
    /// image follow from it [default: the model's, e.g. 448x448].
    #[serde(skip_serializing_if = "Option::is_none")]
    image_size: Option<Resolution> = None,
    /// The input is a video of frames of this size (`WxH`); `frames` counts sampled frames,
    /// grouped by the tower's temporal patch (2 in Qwen-VL: F frames → F/2 groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    video_size: Option<Resolution> = None,
    /// Video length in seconds, sampled at `fps` (instead of `frames`).
    #[serde(skip_serializing_if = "Option::is_none")]
    video_seconds: Option<f64> = None,
    /// Frames sampled per second of `video_seconds` [default: the model's processor, 2 for Qwen-VL].
    #[serde(skip_serializing_if = "Option::is_none")]
    fps: Option<f64> = None,
    /// Text tokens, always kept.
    text_tokens: u64 = DEFAULT_TEXT_TOKENS,
    /// Schedule preset or TOML path, or an inline schedule table.
    schedule: Definition<Schedule> = DEFAULT_SCHEDULE.into(),
    /// Override of the schedule's merge: visual tokens kept per frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    merge_tokens_per_frame: Option<u64> = None,
    /// Override of the schedule's merge: fraction of each frame kept, `floor(P·x)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    merge_keep_ratio: Option<f64> = None,
    /// Override of the schedule's pruning: linear start layer l1 (needs `prune_end`).
    #[serde(skip_serializing_if = "Option::is_none")]
    prune_start: Option<u64> = None,
    /// Override of the schedule's pruning: linear end layer l2 (needs `prune_start`).
    #[serde(skip_serializing_if = "Option::is_none")]
    prune_end: Option<u64> = None,
    /// Override of the linear pruning step [default: 1/(l2-l1)].
    #[serde(skip_serializing_if = "Option::is_none")]
    prune_step: Option<f64> = None,
    /// Exact sequence length of every layer; replaces the whole schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    layer_tokens: Option<Vec<u64>> = None,
    cost_model: CostModelKind = CostModelKind::Refined,
    /// When a pruning decision takes effect [default: code for refined, paper for llm-viewer].
    #[serde(skip_serializing_if = "Option::is_none")]
    prune_timing: Option<PruneTiming> = None,
    /// Attention implementation [default: flash for refined, eager for llm-viewer].
    #[serde(skip_serializing_if = "Option::is_none")]
    attention: Option<AttentionImpl> = None,
    /// Refined: the vision encoder's attention [default: the framework profile's, else `attention`].
    #[serde(skip_serializing_if = "Option::is_none")]
    vision_attention: Option<AttentionImpl> = None,
    /// Refined: how a mixture-of-experts layer runs its experts [default: fused; under an
    /// eager-dispatch framework, what the model's transformers code does].
    #[serde(skip_serializing_if = "Option::is_none")]
    experts: Option<crate::experts::ExpertsImpl> = None,
    /// Refined: price this method's own selection of the visual tokens it keeps (needs
    /// `layer_tokens`: the kept tokens, and where the counts drop).
    #[serde(skip_serializing_if = "Option::is_none")]
    selection: Option<crate::selection::Selection> = None,
    /// Refined: price the vision encoder, pooling and projector too (time to first token).
    include_vision: bool = false,
    /// Refined: decode this many tokens after the prefill (0: prefill only).
    gen_tokens: u64 = 0,
    /// Refined: tensor-parallel degree.
    tp: u64 = 1,
    /// Refined: logits for every position instead of the last one only.
    all_logits: bool = false,
    /// Refined: how PageRank importance obtains its attention probabilities.
    importance_kernel: ImportanceKernel = ImportanceKernel::Materialized,
    batch: u64 = 1,
    w_bits: u32 = 16,
    a_bits: u32 = 16,
    /// KV-cache bits [default: `a_bits`].
    #[serde(skip_serializing_if = "Option::is_none")]
    kv_bits: Option<u32> = None,
    /// llm-viewer: drop the second residual add from the totals (the paper's video runs did).
    skip_mlp_add: bool = false,
}
}

/// Default model preset.
pub const DEFAULT_MODEL: &str = "llava-ov-7b";
/// Default GPU preset: the paper's A100 profile.
pub const DEFAULT_GPU: &str = "a100";
/// Default schedule preset: AIM's video default.
pub const DEFAULT_SCHEDULE: &str = "linear";
/// Default text tokens (the paper's video runs).
pub const DEFAULT_TEXT_TOKENS: u64 = 100;

/// Options that are two ways of giving one thing: setting the first over a base (a run file,
/// `--spec`, Python's `spec=`) clears the base's others. One table for the command line and
/// Python, so `--spec f --tokens N` and `simulate(spec=f, tokens=N)` mean the same.
pub const REPLACES: &[(&str, &[&str])] = &[
    // `fps` only samples `video_seconds`: it goes with it.
    ("tokens", &["frames", "video_seconds", "fps"]),
    ("frames", &["tokens", "video_seconds", "fps"]),
    ("video_seconds", &["frames", "tokens", "fps"]),
    // A run's JSON holds the frames and tokens per frame these resolved to: a new size, rate
    // or model resolves them again (a replay once kept the old image's 391 tokens at
    // `--image-size 1280x960`, the old model's 196 per frame under `--model llava-1.5-7b`).
    ("fps", &["frames", "tokens"]),
    (
        "image_size",
        &["video_size", "video_seconds", "fps", "tokens_per_frame"],
    ),
    ("video_size", &["image_size", "tokens_per_frame"]),
    ("model", &["tokens_per_frame"]),
    ("merge_tokens_per_frame", &["merge_keep_ratio"]),
    ("merge_keep_ratio", &["merge_tokens_per_frame"]),
    // The pruning window comes whole: a base's end or step does not outlive a new start.
    ("prune_start", &["prune_end", "prune_step"]),
];

impl Spec {
    /// Clears what the options `given` (by field name) replace ([`REPLACES`]), before they are
    /// laid over this spec.
    pub fn clear_replaced(&mut self, given: impl Fn(&str) -> bool) {
        for (option, cleared) in REPLACES {
            if given(option) {
                for field in *cleared {
                    match *field {
                        "tokens" => self.tokens = None,
                        "frames" => self.frames = None,
                        "video_seconds" => self.video_seconds = None,
                        "fps" => self.fps = None,
                        "image_size" => self.image_size = None,
                        "tokens_per_frame" => self.tokens_per_frame = None,
                        "video_size" => self.video_size = None,
                        "merge_tokens_per_frame" => self.merge_tokens_per_frame = None,
                        "merge_keep_ratio" => self.merge_keep_ratio = None,
                        "prune_end" => self.prune_end = None,
                        "prune_step" => self.prune_step = None,
                        other => {
                            unreachable!("REPLACES names a field clear_replaced lacks: {other}")
                        }
                    }
                }
            }
        }
        self.clear_derived(given);
    }

    /// A run's JSON records the values its options derived (the cost model's attention and
    /// prune timing, `a_bits`'s KV bits, the framework's vision attention, the model's frames):
    /// a new value of the option derives them again, as the same flags would without a base
    /// (`--spec run.json --cost-model llm-viewer` kept the refined model's fused attention and
    /// code timing: 6.74× where the direct run says 7.98×). A base value other than what its
    /// own option derives was chosen, and stays.
    fn clear_derived(&mut self, given: impl Fn(&str) -> bool) {
        if given("cost_model") {
            if self.prune_timing == Some(self.cost_model.default_prune_timing()) {
                self.prune_timing = None;
            }
            let flash = self.cost_model.default_flash_attention();
            if self
                .attention
                .is_some_and(|a| (a == AttentionImpl::Flash) == flash)
            {
                self.attention = None;
            }
        }
        if given("a_bits") && self.kv_bits == Some(self.a_bits) {
            self.kv_bits = None;
        }
        if given("framework") && self.vision_attention.is_some() {
            let own = self.framework.load().ok().and_then(|f| f.vision_attention);
            if self.vision_attention == own {
                self.vision_attention = None;
            }
        }
        if given("model") && self.frames.is_some() && self.video_size.is_none() {
            if let Ok(m) = self.model.load() {
                if self.frames == Some(m.default_frames) {
                    self.frames = None;
                }
            }
        }
    }

    /// Lays one option of [`options::RUN`] over this spec, by the option's name, with the value
    /// the command line parsed for it: the field of the option's name (every field of
    /// `spec_fields!` is one), and `flash_attention` sets `attention`. `tests/options.rs` sets
    /// every option through it.
    pub fn apply(&mut self, option: &str, value: options::Value) -> Result<()> {
        let mismatch = || Error::invalid(format!("option '{option}' cannot take {value:?}"));
        match self.set_field(option, &value) {
            Some(true) => {}
            Some(false) => return Err(mismatch()),
            None if option == "flash_attention" && value == options::Value::On => {
                self.attention = Some(AttentionImpl::Flash)
            }
            None if option == "flash_attention" => return Err(mismatch()),
            None => return Err(Error::invalid(format!("a spec has no option '{option}'"))),
        }
        Ok(())
    }

    /// Reads a run file: a spec in TOML, a spec in JSON, or any aim-sim JSON output that carries
    /// one under `"spec"` (replays that run).
    pub fn load(path: &Path) -> Result<Spec> {
        let text = crate::presets::read_input(path)?;
        let mut spec = Spec::parse(&text, &path.display().to_string())?;
        // A file the run file names beside itself (`gpu = "mygpu.toml"` in `runs/a.toml`) is
        // found there too, as a measurement file's are; the current folder is asked first, as
        // it always was. Run from another folder, it was "cannot read mygpu.toml".
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            use crate::presets::{canonical, FRAMEWORKS, GPUS, MODELS, SCHEDULES};
            let beside = |name: &mut String, presets| {
                let p = Path::new(name.as_str());
                if canonical(name, presets).is_none()
                    && p.is_relative()
                    && !p.exists()
                    && dir.join(p).exists()
                {
                    *name = dir.join(p).display().to_string();
                }
            };
            if let Definition::Name(n) = &mut spec.model {
                beside(n, MODELS);
            }
            if let Definition::Name(n) = &mut spec.gpu {
                beside(n, GPUS);
            }
            if let Definition::Name(n) = &mut spec.framework {
                beside(n, FRAMEWORKS);
            }
            if let Definition::Name(n) = &mut spec.schedule {
                beside(n, SCHEDULES);
            }
        }
        Ok(spec)
    }

    /// The keys the run file at `path` sets (under `"spec"` in a run's JSON output), for
    /// messages to name them as the file does; empty where it does not read or parse (its
    /// error comes from [`Spec::load`]).
    pub fn keys_in(path: &Path) -> Vec<String> {
        let Ok(text) = crate::presets::read_input(path) else {
            return Vec::new();
        };
        if text.trim_start().starts_with('{') {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
                return Vec::new();
            };
            replayed_spec(&value)
                .unwrap_or(&value)
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        } else {
            toml::from_str::<toml::Table>(&text)
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default()
        }
    }

    /// Parses run-file text (TOML, or JSON when it starts with `{`); `origin` names it in errors.
    ///
    /// ```
    /// use aim_sim::{simulate, Spec};
    /// let spec = Spec::parse("gpu = \"h100\"\nframes = 64\nschedule = \"fastv\"\n", "run.toml")?;
    /// let report = simulate(&spec)?;
    /// assert_eq!(report.scenario.input.frames, 64);
    /// // The report carries the resolved spec: replaying it gives the same run.
    /// let again = simulate(&report.spec)?;
    /// assert_eq!(again.run.totals.time_s, report.run.totals.time_s);
    /// # Ok::<(), aim_sim::Error>(())
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<Spec> {
        // Another kind of file says which (a GPU file listed a spec's keys and no more).
        Spec::parse_run(text, origin)
            .map_err(|e| crate::presets::with_kind_hint(e, text, crate::presets::FileKind::Run))
    }

    fn parse_run(text: &str, origin: &str) -> Result<Spec> {
        let parse = |message: String| Error::Parse {
            origin: origin.to_string(),
            message,
        };
        if text.trim_start().starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                parse(format!(
                    "invalid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ))
            })?;
            // serde_json keeps the last of two equal keys: a typo'd copy would win silently.
            serde_json::from_str::<NoDuplicateKeys>(text)
                .map_err(|e| parse(format!("{e}: give each key once")))?;
            let spec = match replayed_spec(&value) {
                Some(inner) => inner.clone(),
                None => {
                    if let Some((command, what)) = output_without_spec(&value) {
                        // Each of compare's and pareto's rows carries its own run's spec:
                        // say where.
                        if command == "compare" || command == "pareto" {
                            return Err(parse(format!(
                                "this is {command}'s JSON output, a table of runs: each row \
                                 carries its run's spec (rows[i].spec); save one alone to \
                                 replay that row's run, or give {command}'s options again"
                            )));
                        }
                        return Err(parse(format!(
                            "this is {what}, which carries no spec to replay: \
                             give a run file (a TOML or JSON spec, or a single run's JSON \
                             output) and {command}'s options again"
                        )));
                    }
                    value
                }
            };
            serde_path_to_error::deserialize(spec).map_err(|e| {
                let message = crate::error::plain_types(&e.inner().to_string(), "an object");
                parse(format!("key '{}': {message}", e.path()))
            })
        } else {
            let spec: Spec = toml::from_str(text).map_err(|e| {
                // A JSON array reads as a TOML table header and fails on its first item.
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(serde_json::Value::Array(_)) => parse(
                        "is a JSON array (a sweep's output?), not a run file: a run file is one \
                         JSON object or a TOML table (a spec, or a single run's JSON output)"
                            .into(),
                    ),
                    _ => parse(crate::error::toml_error_line(text, &e)),
                }
            })?;
            // TOML spells nan and inf, which no option means: refused here, where the key is
            // known, rather than later (the command line did) or never (Python's options
            // travel as JSON, where NaN is null, and a spec's nan became the default).
            if let Some((key, v)) = toml::from_str::<toml::Table>(text)
                .ok()
                .and_then(|t| non_finite("", &toml::Value::Table(t)))
            {
                return Err(parse(format!("key '{key}' = {v}: give a finite number")));
            }
            Ok(spec)
        }
    }

    /// The spec as TOML, for writing a run file.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a spec serialises to TOML")
    }
}

/// The first non-finite float under `value`, with its dotted path (`merge_keep_ratio`,
/// `schedule.prune.keep[1]`).
fn non_finite(path: &str, value: &toml::Value) -> Option<(String, f64)> {
    let at = |key: String| {
        if path.is_empty() {
            key
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        toml::Value::Float(f) if !f.is_finite() => Some((path.to_string(), *f)),
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| non_finite(&at(k.clone()), v)),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| non_finite(&format!("{path}[{i}]"), v)),
        _ => None,
    }
}

/// The command whose JSON output `value` is, when that output carries no `"spec"` (serve,
/// compare and budget write their own shapes): replaying it would fail on its first
/// non-spec key, with an error that named that key rather than the file's kind (`key
/// 'at_max_frames': unknown field …` for budget's). Each command's by keys only its output has;
/// a sweep's row (an element of its array, copied out) too. Returns the command and what the
/// file is of its output.
fn output_without_spec(value: &serde_json::Value) -> Option<(&'static str, String)> {
    let has = |key: &str| value.get(key).is_some();
    let command = if ["timeline", "answers", "at_max", "tried"]
        .iter()
        .any(|k| has(k))
    {
        "serve"
    } else if has("rows") && has("baseline_time_s") {
        "compare"
    } else if (has("solution") && has("target_reduction"))
        || (has("at_max_frames") && has("search_limit_frames"))
    {
        "budget"
    } else if has("benchmark") && has("rows") {
        "pareto"
    } else if has("headline") && has("rows") {
        "reproduce"
    } else if has("speedups") && has("by_gpu") {
        "check"
    } else if has("baseline_bytes") && has("reduction_time") {
        return Some(("sweep", "a row of sweep's JSON output".into()));
    } else {
        return None;
    };
    Some((command, format!("{command}'s JSON output")))
}

impl Spec {
    /// A spec from `--key value` pairs and bare `--switch`es, the way the command line spells
    /// them (`["--tokens", "6272", "--schedule", "none"]`): keys with `-` become fields with
    /// `_`, numbers stay numbers. For tests and bindings that speak in flags.
    pub fn from_flags(flags: &[&str]) -> Result<Spec> {
        let mut map = serde_json::Map::new();
        let mut i = 0;
        while i < flags.len() {
            let key = flags[i]
                .strip_prefix("--")
                .ok_or_else(|| Error::invalid(format!("'{}' is not a --flag", flags[i])))?;
            let field = key.replace('-', "_");
            let value = match flags.get(i + 1).filter(|v| !v.starts_with("--")) {
                Some(v) => {
                    i += 2;
                    serde_json::from_str::<serde_json::Value>(v)
                        .ok()
                        .filter(|j| j.is_number())
                        .unwrap_or_else(|| serde_json::Value::String(v.to_string()))
                }
                None => {
                    i += 1;
                    serde_json::Value::Bool(true)
                }
            };
            map.insert(field, value);
        }
        serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| Error::invalid(format!("flags {flags:?}: {e}")))
    }
}

/// A spec field's value from an option's ([`Spec::apply`]); `None` when the kinds differ.
trait FromValue: Sized {
    fn from_value(value: options::Value) -> Option<Self>;
}

impl FromValue for u64 {
    fn from_value(value: options::Value) -> Option<Self> {
        match value {
            options::Value::Whole(v) => Some(v),
            _ => None,
        }
    }
}

impl FromValue for u32 {
    fn from_value(value: options::Value) -> Option<Self> {
        match value {
            options::Value::Bits(v) => Some(v),
            _ => None,
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: options::Value) -> Option<Self> {
        match value {
            options::Value::Real(v) => Some(v),
            _ => None,
        }
    }
}

impl FromValue for bool {
    fn from_value(value: options::Value) -> Option<Self> {
        (value == options::Value::On).then_some(true)
    }
}

impl FromValue for Resolution {
    fn from_value(value: options::Value) -> Option<Self> {
        match value {
            options::Value::Size(v) => Some(v),
            _ => None,
        }
    }
}

impl FromValue for Vec<u64> {
    fn from_value(value: options::Value) -> Option<Self> {
        match value {
            options::Value::Counts(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> FromValue for Definition<T> {
    fn from_value(value: options::Value) -> Option<Self> {
        match value {
            options::Value::Text(v) => Some(Definition::Name(v)),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: options::Value) -> Option<Self> {
        T::from_value(value).map(Some)
    }
}

macro_rules! choice_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: options::Value) -> Option<Self> {
                match value {
                    options::Value::Text(word) => <$t as Choice>::from_name(&word),
                    _ => None,
                }
            }
        }
    )*};
}
choice_from_value!(
    CostModelKind,
    PruneTiming,
    AttentionImpl,
    ImportanceKernel,
    crate::experts::ExpertsImpl,
    crate::selection::Selection
);

/// The spec a run's JSON output carries (`"spec"` beside its `totals` or `cost_model`), which
/// a run file that is such an output replays; `None` for a spec itself.
fn replayed_spec(value: &serde_json::Value) -> Option<&serde_json::Value> {
    value
        .get("spec")
        .filter(|_| value.get("totals").is_some() || value.get("cost_model").is_some())
}

/// A count that may be 0 (`--frames 0`: a text-only prompt).
pub fn parse_count_or_zero(s: &str) -> Result<u64, String> {
    parse_whole(s, 0)
}

/// A positive integer count, with a message that says what to type instead.
pub fn parse_count(s: &str) -> Result<u64, String> {
    parse_whole(s, 1)
}

/// A whole number at least `least` (0 or 1), whose errors say what the flag takes: a count that
/// may be 0 said "must be a positive integer" of `--gen-tokens -1`.
fn parse_whole(s: &str, least: u64) -> Result<u64, String> {
    let t = s.trim();
    let wanted = if least == 0 {
        "a whole number, 0 or more"
    } else {
        "a positive integer"
    };
    if let Ok(v) = t.parse::<u64>() {
        return if v < least {
            Err(format!("must be at least {least}"))
        } else {
            Ok(v)
        };
    }
    let too_large = || format!("is too large: the most is {}", u64::MAX);
    if let Ok(v) = t.parse::<i128>() {
        return Err(if v > 0 {
            too_large()
        } else {
            format!("must be {wanted}")
        });
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= least as f64 && f.fract() == 0.0 && f <= u64::MAX as f64 => {
            Ok(f as u64)
        }
        Ok(f) if f > u64::MAX as f64 => Err(too_large()),
        Ok(_) if least == 0 => Err(format!("must be {wanted}")),
        Ok(_) => Err("must be a positive whole number".into()),
        Err(_) => Err(format!("'{t}' is not a number; give {wanted}")),
    }
}

/// Any JSON value; deserializing it fails on an object that has the same key twice.
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = NoDuplicateKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_unit<E>(self) -> std::result::Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<NoDuplicateKeys, A::Error> {
                while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
                Ok(NoDuplicateKeys)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<NoDuplicateKeys, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate key '{}'",
                            crate::error::shorten(&key, 60)
                        )));
                    }
                    map.next_value::<NoDuplicateKeys>()?;
                }
                Ok(NoDuplicateKeys)
            }
        }
        d.deserialize_any(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml_and_json() {
        let spec = Spec::default();
        let toml_text = spec.to_toml();
        assert_eq!(Spec::parse(&toml_text, "t").unwrap(), spec);
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(Spec::parse(&json, "j").unwrap(), spec);
    }

    #[test]
    fn a_run_file_needs_only_what_differs() {
        let spec = Spec::parse(
            "gpu = \"h100\"\nframes = 64\ncost_model = \"llm-viewer\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(spec.gpu, Definition::Name("h100".into()));
        assert_eq!(spec.frames, Some(64));
        assert_eq!(spec.cost_model, CostModelKind::LlmViewer);
        assert_eq!(spec.text_tokens, DEFAULT_TEXT_TOKENS);
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let err = Spec::parse("frmes = 3\n", "run.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("run.toml") && err.contains("frmes"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn an_inline_gpu_is_a_table() {
        let text = "[gpu]\nname = \"x\"\nbandwidth = 1e12\nfp16_peak = 1e14\nint8_peak = 2e14\nonchip_buffer = 1e7\nmemory = 1e10\n";
        let spec = Spec::parse(text, "t").unwrap();
        let gpu = spec.gpu.load().unwrap();
        assert_eq!(gpu.bandwidth, 1e12);
    }

    #[test]
    fn counts_say_what_to_type() {
        assert_eq!(parse_count("32"), Ok(32));
        assert_eq!(parse_count("1e3"), Ok(1000));
        assert!(parse_count("0").unwrap_err().contains("at least 1"));
        assert!(parse_count("-3").unwrap_err().contains("positive"));
        assert!(parse_count("2.5").unwrap_err().contains("whole"));
        assert!(parse_count("x").unwrap_err().contains("not a number"));
    }
}
