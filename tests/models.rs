//! The model presets (issue 17): every preset with every schedule preset, the resolution flags
//! of resolution-aware vision towers, Hugging Face configs with a `vision_config`, mixture-of-
//! experts outputs, and the tables of docs/models.md, which are rebuilt here from the presets.
//! After an intended change: `AIM_SIM_BLESS=1 cargo test --test models`, review the diff.

mod common;

use aim_sim::cost::CostModelKind;
use aim_sim::model::{Media, Model, Resize, VisionEncoder, VisionInput};
use aim_sim::presets::{self, MODELS, SCHEDULES};
use aim_sim::{simulate, Spec};

/// The presets this issue added or gave a vision tower.
const NEW: &[&str] = &[
    "qwen2.5-vl-7b",
    "qwen3-vl-8b",
    "qwen3-vl-30b-a3b",
    "internvl3-8b",
    "llava-ov-1.5-8b",
    "llava-next-7b",
];

#[test]
fn every_model_preset_runs_every_schedule_preset() {
    for model in presets::names(MODELS) {
        let layers = Model::load(model).unwrap().num_layers as usize;
        for schedule in presets::names(SCHEDULES) {
            for cost_model in [CostModelKind::Refined, CostModelKind::LlmViewer] {
                let spec = Spec {
                    model: model.into(),
                    schedule: schedule.into(),
                    cost_model,
                    ..Spec::default()
                };
                let r = simulate(&spec)
                    .unwrap_or_else(|e| panic!("{model} × {schedule} ({cost_model:?}): {e}"));
                assert_eq!(r.plan.layer_tokens.len(), layers, "{model} × {schedule}");
                let t = &r.run.totals;
                assert!(
                    t.flops > 0.0 && t.time_s > 0.0 && t.time_s.is_finite(),
                    "{model} × {schedule}"
                );
                // The schedule never adds LLM tokens.
                assert!(r
                    .plan
                    .layer_tokens
                    .iter()
                    .all(|&n| n <= r.scenario.input.visual_tokens() + 100));
            }
        }
    }
}

#[test]
fn the_cli_runs_the_new_presets_with_every_schedule() {
    for model in NEW {
        for schedule in presets::names(SCHEDULES) {
            let out = common::ok(&["--model", model, "--schedule", schedule]);
            assert!(out.contains("reduction"), "{model} × {schedule}");
        }
        // And end to end, with the vision tower and decode.
        let v = common::json(&["--model", model, "--include-vision", "--gen-tokens", "4"]);
        assert!(
            v["pipeline"]["vision_time_s"].as_f64().unwrap() > 0.0,
            "{model}"
        );
    }
}

fn input(args: &[&str]) -> (u64, u64, serde_json::Value) {
    let v = common::json(args);
    let i = &v["scenario"]["input"];
    (
        i["frames"].as_u64().unwrap(),
        i["tokens_per_frame"].as_u64().unwrap(),
        v,
    )
}

#[test]
fn tokens_per_frame_follow_the_resolution() {
    // Qwen2.5-VL: smart_resize to multiples of 28 (qwen-vl-utils); 1280x720 → 1288x728.
    let (f, t, _) = input(&["--model", "qwen2.5-vl-7b", "--image-size", "1280x720"]);
    assert_eq!((f, t), (1, 46 * 26));
    // Two images of that size.
    let (f, t, _) = input(&[
        "--model",
        "qwen2.5-vl-7b",
        "--image-size",
        "1280x720",
        "--frames",
        "2",
    ]);
    assert_eq!((f, t), (2, 1196));
    // Video: 32 frames in 16 temporal groups of 1008x560 / 28² = 720 tokens.
    let (f, t, v) = input(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-size",
        "1280x720",
        "--frames",
        "32",
    ]);
    assert_eq!((f, t), (16, 720));
    assert_eq!(
        v["spec"]["frames"], 32,
        "the resolved spec keeps sampled frames"
    );
    // 16 s at the processor's 2 fps: the same 32 frames.
    let (f2, t2, v2) = input(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-size",
        "1280x720",
        "--video-seconds",
        "16",
    ]);
    assert_eq!((f2, t2), (16, 720));
    assert_eq!(v2["totals"], v["totals"]);
    // Qwen3-VL (patch 16): 448² → 196; InternVL3: 1280x720 → 4x2 tiles + thumbnail = 9 × 256.
    assert_eq!(input(&["--model", "qwen3-vl-8b"]).1, 196);
    let (f, t, _) = input(&["--model", "internvl3-8b", "--image-size", "1280x720"]);
    assert_eq!((f, t), (1, 9 * 256));
    // LLaVA-OV-1.5: no temporal merge, every frame its own (H/28)(W/28) tokens.
    let (f, t, _) = input(&[
        "--model",
        "llava-ov-1.5-8b",
        "--video-size",
        "448x448",
        "--frames",
        "8",
    ]);
    assert_eq!((f, t), (8, 256));
    // An explicit --tokens-per-frame still wins over the resolution.
    let (_, t, _) = input(&[
        "--model",
        "qwen2.5-vl-7b",
        "--image-size",
        "1280x720",
        "--tokens-per-frame",
        "300",
    ]);
    assert_eq!(t, 300);
    // ... and the encoder, priced at the resolution's own patches, says they disagree.
    let v = common::json(&[
        "--model",
        "qwen2.5-vl-7b",
        "--image-size",
        "1280x720",
        "--tokens-per-frame",
        "300",
        "--include-vision",
    ]);
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("yields 1196 at 1280x720"), "{warnings}");
    // Without an image size the encoder sees the patches of the tokens asked for, not the
    // default 448x448 image's 256 (a bug found pricing PACE's 2048-token Qwen2.5-VL rows).
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--model",
            "qwen2.5-vl-7b",
            "--include-vision",
            "--schedule",
            "none",
        ];
        args.extend_from_slice(extra);
        common::json(&args)
    };
    let by_tokens = run(&["--tokens-per-frame", "2048"]);
    assert!(
        by_tokens["notes"]
            .to_string()
            .contains("1 image(s) of 2048 tokens given, shaped as 1792x896"),
        "{}",
        by_tokens["notes"]
    );
    let by_image = run(&["--image-size", "1792x896"]);
    assert_eq!(by_tokens["pipeline"], by_image["pipeline"]);
    let default = run(&[]);
    let vision_flops = |v: &serde_json::Value| v["pipeline"]["vision_flops"].as_f64().unwrap();
    assert!(vision_flops(&by_tokens) > 7.0 * vision_flops(&default));
}

#[test]
fn a_video_run_replays_from_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    let first = common::ok(&[
        "--model",
        "qwen3-vl-30b-a3b",
        "--video-size",
        "1920x1080",
        "--video-seconds",
        "10",
        "--include-vision",
        "--format",
        "json",
    ]);
    std::fs::write(&path, &first).unwrap();
    let again = common::json(&[std::ffi::OsStr::new("--spec"), path.as_os_str()]);
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(again["totals"], first["totals"]);
    assert_eq!(again["scenario"]["input"], first["scenario"]["input"]);
    assert_eq!(first["spec"]["frames"], 20);
}

#[test]
fn resolution_flags_refuse_what_they_cannot_mean() {
    let e = common::fails(&["--model", "llava-ov-7b", "--image-size", "640x480"]);
    assert!(e.contains("no resolution-aware vision tower"), "{e}");
    let e = common::fails(&["--model", "qwen2.5-vl-7b", "--image-size", "100000x10"]);
    assert!(e.contains("between 1 and"), "{e}");
    let e = common::fails(&["--model", "qwen2.5-vl-7b", "--image-size", "640"]);
    assert!(e.contains("WIDTHxHEIGHT"), "{e}");
    let e = common::fails(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-size",
        "640x480",
        "--tokens",
        "1000",
    ]);
    assert!(e.contains("--frames"), "{e}");
    common::fails(&["--model", "qwen2.5-vl-7b", "--fps", "1"]);
    common::fails(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-seconds",
        "5",
        "--frames",
        "8",
    ]);
    let e = common::fails(&[
        "--model",
        "llava-ov-1.5-8b",
        "--video-size",
        "640x480",
        "--video-seconds",
        "5",
    ]);
    assert!(e.contains("--fps"), "{e}");
}

/// The shape of a model, without the labels that depend on where it was read.
fn shape(mut m: Model) -> Model {
    m.name.clear();
    m.description.clear();
    m.source.clear();
    m.aliases.clear();
    m
}

#[test]
fn a_config_json_with_a_vision_config_is_the_preset() {
    for (file, preset) in [
        (
            "reference/models/qwen2.5-vl-7b-instruct.json",
            "qwen2.5-vl-7b",
        ),
        (
            "reference/models/qwen3-vl-30b-a3b-instruct.json",
            "qwen3-vl-30b-a3b",
        ),
    ] {
        let hf = Model::load(file).unwrap();
        assert!(hf.vision.is_some(), "{file}");
        assert_eq!(shape(hf), shape(Model::load(preset).unwrap()), "{file}");
        let args = |m: &str| {
            common::json(&[
                "--model",
                m,
                "--include-vision",
                "--video-size",
                "1280x720",
                "--frames",
                "16",
            ])
        };
        assert_eq!(args(file)["totals"], args(preset)["totals"], "{file}");
    }
}

#[test]
fn unsupported_configs_fail_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mla = dir.path().join("config.json");
    std::fs::write(
        &mla,
        r#"{"model_type":"deepseek_v2","hidden_size":2048,"num_attention_heads":16,"num_hidden_layers":27,
           "intermediate_size":10944,"vocab_size":102400,"kv_lora_rank":512,"q_lora_rank":null,
           "n_routed_experts":64,"num_experts_per_tok":6,"moe_intermediate_size":1408}"#,
    )
    .unwrap();
    let e = common::fails(&[std::ffi::OsStr::new("--model"), mla.as_os_str()]);
    assert!(e.contains("kv_lora_rank") && e.contains("latent"), "{e}");
    // Llama-3.2-Vision reads the image through cross-attention layers: it was priced as a
    // LLaVA-style model, 32 × 196 visual tokens in all 40 self-attention layers, exit 0.
    let mllama = dir.path().join("mllama.json");
    std::fs::write(
        &mllama,
        r#"{"model_type":"mllama","text_config":{"model_type":"mllama_text_model","hidden_size":4096,
           "num_attention_heads":32,"num_key_value_heads":8,"num_hidden_layers":40,
           "intermediate_size":14336,"vocab_size":128256,"cross_attention_layers":[3,8,13,18,23,28,33,38]},
           "vision_config":{"model_type":"mllama_vision_model","hidden_size":1280,"num_hidden_layers":32,
           "attention_heads":16,"intermediate_size":5120,"image_size":560,"patch_size":14}}"#,
    )
    .unwrap();
    let e = common::fails(&[std::ffi::OsStr::new("--model"), mllama.as_os_str()]);
    assert!(
        e.contains("text_config.cross_attention_layers") && e.contains("cross-attention"),
        "{e}"
    );
    // A vision_config of an unknown family: the LLM loads, --include-vision says why not.
    let odd = dir.path().join("odd").join("config.json");
    std::fs::create_dir_all(odd.parent().unwrap()).unwrap();
    std::fs::write(
        &odd,
        r#"{"model_type":"mystery_vl","hidden_size":1024,"num_attention_heads":8,"num_hidden_layers":4,
           "intermediate_size":4096,"vocab_size":1000,"vision_config":{"model_type":"mystery_vit"}}"#,
    )
    .unwrap();
    let path = odd.to_str().unwrap();
    common::ok(&["--model", path]);
    let e = common::fails(&["--model", path, "--include-vision"]);
    assert!(e.contains("no vision tower"), "{e}");
}

/// A text-only config.json was priced with LLaVA-OneVision's 32 × 196 video tokens and said
/// nothing of where 6272 visual tokens came from; the header now says they are a default.
#[test]
fn a_text_only_config_says_its_visual_tokens_are_a_default() {
    let dir = tempfile::tempdir().unwrap();
    let llama = dir.path().join("llama.json");
    std::fs::write(
        &llama,
        r#"{"model_type":"llama","hidden_size":4096,"num_attention_heads":32,"num_hidden_layers":32,
           "intermediate_size":11008,"vocab_size":32000}"#,
    )
    .unwrap();
    let path = llama.to_str().unwrap();
    let out = common::ok(&["--model", path, "--gpu", "a100"]);
    let header = out.lines().next().unwrap();
    assert!(
        header.contains("no vision_config") && header.contains("32 frames × 196"),
        "{header}"
    );
    assert!(
        out.contains("32 frame(s) × 196 = 6272 visual tokens"),
        "{out}"
    );
}

/// A vision tower's layer lists name each layer once and no more layers than they index:
/// `full_attention_layers = [7, 7, 7, 7, 7]` priced one layer's full attention five times, and
/// `deepstack_layers = [8, 8, 8]` one merger three times, both exit 0.
#[test]
fn vision_layer_lists_name_each_layer_once() {
    let dir = tempfile::tempdir().unwrap();
    let qwen25 = std::fs::read_to_string("models/qwen2.5-vl-7b.toml").unwrap();
    let qwen3 = std::fs::read_to_string("models/qwen3-vl-8b.toml").unwrap();
    let forty: Vec<String> = (0..40).map(|i| (i % 27).to_string()).collect();
    let forty = format!("deepstack_layers = [{}]", forty.join(", "));
    for (name, text, want) in [
        (
            "m1.toml",
            qwen25.replace(
                "full_attention_layers = [7, 15, 23, 31]",
                "full_attention_layers = [7, 7, 7, 7, 7]",
            ),
            "vision.full_attention_layers lists layer 7 more than once: list each layer once",
        ),
        (
            "m2.toml",
            qwen3.replace("deepstack_layers = [8, 16, 24]", "deepstack_layers = [8, 8, 8]"),
            "vision.deepstack_layers lists layer 8 more than once: list each layer once",
        ),
        (
            "m3.toml",
            qwen3.replace("deepstack_layers = [8, 16, 24]", &forty),
            "vision.deepstack_layers lists 40 layers, but the tower has 27: list each layer once",
        ),
        // More injections than the LLM has layers to take them.
        (
            "m4.toml",
            qwen3.replacen("num_layers = 36", "num_layers = 2", 1),
            "vision.deepstack_layers lists 3 layers, but their outputs go into one LLM layer each and the LLM has 2: list at most 2",
        ),
    ] {
        assert!(text != qwen25 && text != qwen3, "{name}: the preset changed");
        let path = dir.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let e = common::fails(&["--model", path.to_str().unwrap(), "--include-vision"]);
        assert!(e.contains(want), "{name}: {e}");
    }
    // The shipped lists stay valid.
    for preset in ["qwen2.5-vl-7b", "qwen3-vl-8b"] {
        common::ok(&["--model", preset, "--include-vision"]);
    }
}

/// A stated `tokens_per_frame = 0` is refused as 2e9 is ("must be between 1 and 1000000"),
/// in a model file and in a spec's inline model; it used to become 196 silently (0 stood for
/// "not given"). Without the key the model still takes 196, and a resolved model round-trips.
#[test]
fn a_stated_zero_tokens_per_frame_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let llm = "name = \"tiny\"\nhidden_size = 1024\nnum_heads = 8\nnum_layers = 4\nintermediate_size = 4096\nvocab_size = 1000\n";
    let path = dir.path().join("tiny.toml");
    for (value, expect) in [
        ("0", "0 must be between 1 and"),
        ("2000000000", "= 2000000000 must be between 1 and"),
    ] {
        std::fs::write(&path, format!("{llm}tokens_per_frame = {value}\n")).unwrap();
        let e = common::fails(&[std::ffi::OsStr::new("--model"), path.as_os_str()]);
        assert!(
            e.contains("tokens_per_frame") && e.contains(expect),
            "{value}: {e}"
        );
    }
    let run = dir.path().join("run.toml");
    std::fs::write(&run, format!("[model]\n{llm}tokens_per_frame = 0\n")).unwrap();
    let e = common::fails(&[std::ffi::OsStr::new("--spec"), run.as_os_str()]);
    assert!(
        e.contains("tokens_per_frame") && e.contains("0 must be between 1 and"),
        "{e}"
    );
    std::fs::write(&path, llm).unwrap();
    let out = common::json(&[std::ffi::OsStr::new("--model"), path.as_os_str()]);
    assert_eq!(
        out["scenario"]["input"]["tokens_per_frame"], 196,
        "{}",
        out["scenario"]["input"]
    );
    // An unresolved inline model (0: not given) writes no key, so its run file reads back.
    let spec = Spec::parse(&format!("[model]\n{llm}"), "run.toml").unwrap();
    Spec::parse(&spec.to_toml(), "again.toml").expect("round-trips");
}

/// A fixed-resolution tower pools its patches down to the LLM's tokens per frame: a model
/// file with more tokens per frame than patches (`patches_per_frame = 100`, `tokens_per_frame
/// = 196`) has keys that disagree, and `--include-vision` priced it without a word. It warns,
/// naming both keys; the presets (tokens at most their patches) do not.
#[test]
fn more_tokens_per_frame_than_patches_warns_with_the_encoder() {
    let dir = tempfile::tempdir().unwrap();
    let preset = std::fs::read_to_string("models/llava-ov-7b.toml").unwrap();
    let edited = preset.replacen("patches_per_frame = 729", "patches_per_frame = 100", 1);
    assert_ne!(edited, preset);
    let path = dir.path().join("m100.toml");
    std::fs::write(&path, edited).unwrap();
    let path = path.to_str().unwrap();
    let warned = |args: &[&str]| {
        let out = common::run(args);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = warned(&["--model", path, "--include-vision", "--frames", "2"]);
    assert!(
        stderr.contains("196 tokens per frame into the LLM")
            && stderr.contains("more than the 100 patches")
            && stderr.contains("vision.patches_per_frame"),
        "{stderr}"
    );
    // Without the encoder the patches are not priced: nothing to say.
    assert!(!warned(&["--model", path, "--frames", "2"]).contains("patches"));
    for model in presets::names(MODELS) {
        if Model::load(model).unwrap().vision.is_none() {
            continue;
        }
        let stderr = warned(&["--model", model, "--include-vision", "--frames", "2"]);
        assert!(
            !stderr.contains("tokens per frame into the LLM"),
            "{model}: {stderr}"
        );
    }
}

/// Issue 22: the measured stack is the model's kernel list, MoE layers included (it refused
/// them before): every routed layer launches its expert GEMMs.
#[test]
fn the_measured_stack_runs_the_experts() {
    let m = common::json(&[
        "measure",
        "--synthetic-device",
        "tests/golden/synthetic-h100.toml",
        "--gpu",
        "h100",
        "--model",
        "qwen3-vl-30b-a3b",
        "--frames",
        "2",
    ]);
    let layers = m["schedule_run"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 48);
    assert!(layers
        .iter()
        .all(|l| l["measured_time_s"].as_f64().unwrap() > 0.0));
}

#[test]
fn moe_runs_report_their_experts() {
    let v = common::json(&["--model", "qwen3-vl-30b-a3b", "--frames", "1"]);
    let e = &v["experts"];
    assert_eq!(e["num_experts"], 128);
    assert_eq!(e["touched_per_layer"].as_array().unwrap().len(), 48);
    assert!(v["baseline"]["experts"].is_object());
    // Dense models carry no expert report.
    assert!(common::json(&["--model", "qwen3-vl-8b"])["experts"].is_null());
    let table = common::ok(&["--model", "qwen3-vl-30b-a3b"]);
    assert!(table.contains("experts: 8 of 128 per token"), "{table}");
}

// ---- docs/models.md ---------------------------------------------------------------------

fn llm(m: &Model) -> String {
    let mut s = format!(
        "{} × {}, {}/{} heads × {}",
        m.num_layers,
        m.hidden_size,
        m.num_heads,
        m.kv_heads(),
        m.head_dim()
    );
    if m.qkv_bias {
        s += ", q/k/v bias";
    }
    if m.qk_norm {
        s += ", QK-norm";
    }
    s
}

fn mlp(m: &Model) -> String {
    match &m.moe {
        None => format!("SwiGLU {}", m.intermediate_size),
        Some(e) => {
            let mut s = format!(
                "MoE {} × {}, top-{}",
                e.num_experts, e.expert_intermediate_size, e.experts_per_token
            );
            if e.shared_intermediate_size > 0 {
                s += &format!(" + shared {}", e.shared_intermediate_size);
            }
            s
        }
    }
}

fn tower(v: &VisionEncoder) -> String {
    let mut s = format!("{}: {} × {}", v.name, v.num_layers, v.hidden_size);
    if v.resize.is_none() {
        return s + &format!(", fixed {} patches", v.patches_per_frame);
    }
    s += &format!(", patch {}", v.patch_size.unwrap_or(0));
    if v.temporal() > 1 {
        s += &format!("×{} frames", v.temporal());
    }
    if v.merge() > 1 {
        let how = if v.pixel_shuffle {
            "pixel shuffle"
        } else {
            "merge"
        };
        s += &format!(", {m}×{m} {how}", m = v.merge());
    }
    if let Some(Resize::Anyres(_)) = &v.resize {
        s += &format!(
            ", anyres: the base image and {}-px crops",
            v.image_size.unwrap_or(0)
        );
    }
    if let Some(w) = v.window_size {
        s += &format!(
            ", {w}-px windows ({} full-attention layers)",
            v.full_attention_layers.len()
        );
    }
    if !v.deepstack_layers.is_empty() {
        s += &format!(", DeepStack ×{}", v.deepstack_layers.len());
    }
    s
}

fn tokens_at_default(m: &Model) -> String {
    match &m.vision {
        Some(v) => match (v.default_input().unwrap(), &v.resize) {
            (Some(i), _) => format!(
                "{} per {}x{} image{}",
                i.tokens_per_frame,
                i.width,
                i.height,
                passes(&i)
            ),
            (None, _) => format!("{} per frame (fixed)", m.tokens_per_frame),
        },
        None => format!("{} per frame (given)", m.tokens_per_frame),
    }
}

/// The encoder passes of an image, when more than one: InternVL's tiles, anyres's crops.
fn passes(i: &VisionInput) -> String {
    match (i.passes_per_frame, i.unpadded) {
        (p, Some(_)) => format!(" (base + {} crops)", p - 1),
        (1, None) => String::new(),
        (p, None) => format!(" ({p} tiles)"),
    }
}

fn presets_table() -> String {
    let mut out = String::from(
        "| preset | LLM: layers × hidden, q/kv heads × head dim | MLP | vision tower | visual tokens, default input | source |\n|---|---|---|---|---|---|\n",
    );
    for name in presets::names(MODELS) {
        let m = Model::load(name).unwrap();
        out += &format!(
            "| `{name}` | {} | {} | {} | {} | {} |\n",
            llm(&m),
            mlp(&m),
            m.vision.as_ref().map_or("not modelled".into(), tower),
            tokens_at_default(&m),
            m.source
        );
    }
    out
}

fn resolution_table() -> String {
    let sizes = ["640x480", "1280x720", "1920x1080"];
    let mut out = format!(
        "| preset | {} | video: 32 frames of 1280x720 |\n|---|---|---|---|---|\n",
        sizes
            .iter()
            .map(|s| format!("image {s}"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    for name in presets::names(MODELS) {
        let m = Model::load(name).unwrap();
        let Some(v) = m.vision.as_ref().filter(|v| v.resize.is_some()) else {
            continue;
        };
        let at = |video: bool, size: &str, frames: u64| {
            v.input(Media {
                video,
                size: size.parse().unwrap(),
                frames,
            })
            .map(Option::unwrap)
        };
        let images: Vec<String> = sizes
            .iter()
            .map(|s| {
                let i = at(false, s, 1).unwrap();
                match passes(&i) {
                    p if p.is_empty() => format!(
                        "{} ({}x{})",
                        i.tokens_per_frame, i.resized_width, i.resized_height
                    ),
                    p => format!("{}{p}", i.tokens_per_frame),
                }
            })
            .collect();
        // Anyres takes images only (the error is the table's cell).
        let vid = match at(true, "1280x720", 32) {
            Ok(vid) => format!(
                "{} × {} = {} ({}x{})",
                vid.frames,
                vid.tokens_per_frame,
                vid.frames * vid.tokens_per_frame,
                vid.resized_width,
                vid.resized_height
            ),
            Err(_) => "images only".to_string(),
        };
        out += &format!("| `{name}` | {} | {vid} |\n", images.join(" | "));
    }
    out
}

/// The FLOPs of the stage `name` of a run's JSON, if it has one.
fn stage_flops(d: &serde_json::Value, name: &str) -> Option<f64> {
    d["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .map(|k| k["flops"].as_f64().unwrap())
}

/// LLaVA-NeXT's anyres as its code runs it: a 640x480 image is the base image and 2x2 crops
/// through CLIP (five passes of 577 tokens, no pooling), and the LLM gets the unpadded 2340
/// tokens, not the 2880 the papers name; a video is refused with the way out.
#[test]
fn llava_next_prices_its_crops_and_the_unpadded_tokens() {
    let v = common::json(&[
        "--model",
        "llava-next-7b",
        "--image-size",
        "640x480",
        "--schedule",
        "none",
        "--include-vision",
    ]);
    assert_eq!(v["plan"]["layer_tokens"][0], 2340 + 100);
    // Five passes of LLaVA-1.5's tower (one image of it, five times), no pooling.
    let classic = |frames: &str| {
        common::json(&[
            "--model",
            "llava-1.5-7b",
            "--frames",
            frames,
            "--schedule",
            "none",
            "--include-vision",
        ])
    };
    let (one, five) = (classic("1"), classic("5"));
    let qkv = stage_flops(&v, "vision_qkv_proj").unwrap();
    assert_eq!(qkv, stage_flops(&five, "vision_qkv_proj").unwrap());
    assert!((qkv - 5.0 * stage_flops(&one, "vision_qkv_proj").unwrap()).abs() < 1e-3 * qkv);
    assert!(stage_flops(&v, "pool_2x2_bilinear").is_none());
    let vision = |d: &serde_json::Value| d["pipeline"]["vision_time_s"].as_f64().unwrap();
    assert!((vision(&v) - vision(&five)).abs() < 1e-12);
    // More tokens per image than the largest grid holds: priced, and said.
    let tokens = |n: &str| {
        common::run(&[
            "--model",
            "llava-next-7b",
            "--tokens-per-frame",
            n,
            "--schedule",
            "none",
            "--include-vision",
        ])
    };
    let said = |n: &str| String::from_utf8_lossy(&tokens(n).stderr).contains("largest anyres grid");
    assert!(said("5000"));
    assert!(!said("2880"));
    let out = common::run(&[
        "--model",
        "llava-next-7b",
        "--video-size",
        "640x480",
        "--frames",
        "8",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("images only"));
}

/// Fewer tokens per frame than one CLIP pass yields (LLaVA-NeXT-Video's 144 a frame, DivPrune's
/// rows) are LLaVA-NeXT's video path: one pass a frame, pooled, not the base image and two
/// crops that an anyres image needs at least (regression: priced as three passes a frame).
#[test]
fn llava_next_frames_below_one_pass_are_one_pooled_pass_each() {
    let run = |model: &str, frames: &str, tokens: &str| {
        common::json(&[
            "--model",
            model,
            "--frames",
            frames,
            "--tokens-per-frame",
            tokens,
            "--schedule",
            "none",
            "--include-vision",
        ])
    };
    let video = run("llava-next-7b", "8", "144");
    let eight_passes = run("llava-1.5-7b", "8", "576");
    assert_eq!(
        stage_flops(&video, "vision_qkv_proj"),
        stage_flops(&eight_passes, "vision_qkv_proj")
    );
    assert!(stage_flops(&video, "pool_2x2_bilinear").is_some());
    assert_eq!(video["plan"]["layer_tokens"][0], 8 * 144 + 100);
    // One pass's worth of tokens or more is an anyres image again: three passes at least.
    let image = run("llava-next-7b", "1", "576");
    let three = run("llava-1.5-7b", "3", "576");
    assert_eq!(
        stage_flops(&image, "vision_qkv_proj"),
        stage_flops(&three, "vision_qkv_proj")
    );
}

/// The anyres figures the prose quotes (docs/models.md, README, docs/accuracy.md) are the preset's.
#[test]
fn anyres_figures_in_the_docs_are_the_presets() {
    let m = Model::load("llava-next-7b").unwrap();
    let tokens = |size: &str| {
        m.vision
            .as_ref()
            .unwrap()
            .input(Media {
                video: false,
                size: size.parse().unwrap(),
                frames: 1,
            })
            .unwrap()
            .unwrap()
            .tokens_per_frame
    };
    let flat = |path: &str| {
        std::fs::read_to_string(path)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (vga, coco, square) = (tokens("640x480"), tokens("640x427"), tokens("672x672"));
    let want = format!(
        "a 640x480 image gives 576 + 36 × (48 + 1) = {vga} tokens, 640x427 gives {coco}, a square image {square}"
    );
    assert!(
        flat("docs/models.md").contains(&want),
        "docs/models.md should say {want:?}"
    );
    assert!(flat("README.md").contains(&format!("{vga} tokens for a 640x480 image")));
    assert!(flat("docs/accuracy.md").contains(&format!(
        "five CLIP passes and {},{:03} LLM tokens",
        vga / 1000,
        vga % 1000
    )));
}

#[test]
fn docs_models_tables_come_from_the_presets() {
    let mut failures = Vec::new();
    common::doc_block(
        "docs/models.md",
        "presets",
        &presets_table(),
        "the presets",
        &mut failures,
    );
    common::doc_block(
        "docs/models.md",
        "resolutions",
        &resolution_table(),
        "the presets",
        &mut failures,
    );
    assert!(
        failures.is_empty(),
        "{}\n(after an intended change: AIM_SIM_BLESS=1 cargo test --test models)",
        failures.join("\n")
    );
}

/// Regression (2026-12-07, a new user's report): the MoE note credited a user's own
/// `--experts loop` to the model ("as transformers runs this model: model key
/// moe.eager_experts", on a model whose code runs all experts); it says what set it.
#[test]
fn the_experts_note_says_what_set_the_experts() {
    let note = |extra: &[&str]| {
        let mut a = vec![
            "--model",
            "qwen3-vl-30b-a3b",
            "--gpu",
            "h100",
            "--framework",
            "hf",
        ];
        a.extend(extra);
        let out = common::ok(&a);
        out.lines()
            .find(|l| l.starts_with("note: experts:"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string()
    };
    let chosen = note(&["--experts", "loop"]);
    assert!(
        chosen.contains("(experts = loop, set by --experts)")
            && !chosen.contains("as transformers runs"),
        "{chosen}"
    );
    // The profile's default for this model (its moe.eager_experts is `all`) names both.
    let default = note(&[]);
    assert!(
        default.contains("experts = all, set by --experts or, under an eager-dispatch profile, by the model's moe.eager_experts"),
        "{default}"
    );
}

/// A user's own config.json (2026-12-07, a new user's hunt): a layer count out of range was
/// named by the model TOML's key ('num_layers'), a MoE config of 0 experts beside a top-k was
/// priced as a dense model, and a Hugging Face id no preset answers to was read as a missing
/// file.
#[test]
fn a_users_config_json_is_named_in_its_own_words() {
    let dir = tempfile::tempdir().unwrap();
    let mixtral = r#"{"model_type":"mixtral","hidden_size":4096,"num_attention_heads":32,"num_key_value_heads":8,"num_hidden_layers":LAYERS,"intermediate_size":14336,"vocab_size":32000,"num_local_experts":EXPERTS,"num_experts_per_tok":2}"#;
    let write = |name: &str, layers: &str, experts: &str| {
        let path = dir.path().join(name);
        let text = mixtral
            .replace("LAYERS", layers)
            .replace("EXPERTS", experts);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let err = common::fails(&["--model", &write("big.json", "100000", "8")]);
    assert!(
        err.contains("key 'num_hidden_layers' = 100000 must be between 1 and"),
        "{err}"
    );
    let err = common::fails(&["--model", &write("zero.json", "32", "0")]);
    assert!(err.contains("names 0 experts"), "{err}");
    let err = common::fails(&["--model", "Qwen/Qwen2-VL-72B-Instruct"]);
    assert!(
        err.contains(
            "unknown model 'Qwen/Qwen2-VL-72B-Instruct' (a Hugging Face id no preset answers to"
        ),
        "{err}"
    );
    // A preset's own hub id still resolves.
    common::ok(&["--model", "lmms-lab/llava-onevision-qwen2-7b-ov"]);
}

/// `scale_to_layers` beside an explicit list was ignored without a word (README said it made a
/// schedule follow the depth); the length error now says an explicit list never scales.
#[test]
fn an_explicit_list_says_it_never_scales() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ex28.toml");
    let keep = [vec!["1.0"; 14], vec!["0.5"; 14]].concat().join(", ");
    std::fs::write(
        &path,
        format!("name = \"ex28\"\nscale_to_layers = 28\n[prune]\nkind = \"explicit\"\nkeep = [{keep}]\n"),
    )
    .unwrap();
    let err = common::fails(&[
        "--schedule",
        path.to_str().unwrap(),
        "--model",
        "llava-1.5-7b",
    ]);
    assert!(
        err.contains("lists 28 keep fractions but the model has 32 layers")
            && err.contains("an explicit list is one model's and never scales"),
        "{err}"
    );
}

/// A Qwen-VL video's LLM frames are temporal groups of 2 sampled frames: `--frames 4` printed
/// "2 frame(s) × 391" and `--video-seconds 10` (20 frames sampled) "10 frame(s)". The input
/// line counts both.
#[test]
fn a_videos_temporal_groups_are_not_called_frames() {
    let line = |args: &[&str]| common::ok(args).lines().nth(1).unwrap().to_string();
    let four = line(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-size",
        "640x480",
        "--frames",
        "4",
    ]);
    assert!(
        four.contains("4 frames in 2 temporal group(s) × 391"),
        "{four}"
    );
    let ten_s = line(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-size",
        "640x480",
        "--video-seconds",
        "10",
    ]);
    assert!(
        ten_s.contains("20 frames in 10 temporal group(s)"),
        "{ten_s}"
    );
    // A tower that does not group frames reads as before.
    assert!(line(&[]).contains("32 frame(s) × 196"));
}
