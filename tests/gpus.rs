//! The GPU presets (issue 27): every preset cites its source, `list gpus` shows them, 4-bit
//! GEMMs take the FP4 tensor path where a GPU has one (and say so), a Jetson's shared memory
//! leaves the OS its share, and the table of docs/gpus.md and README's list are rebuilt here
//! from the presets. After an intended change: `AIM_SIM_BLESS=1 cargo test --test gpus`.

mod common;

use aim_sim::hardware::Gpu;
use aim_sim::presets::{self, GPUS};
use serde_json::Value;

/// The presets issue 27 added.
const NEW: &[&str] = &[
    "b200",
    "gb200",
    "rtx5090",
    "rtx-pro-6000",
    "l4",
    "a10g",
    "mi300x",
    "mi325x",
    "jetson-agx-orin",
    "jetson-orin-nano",
];

/// The embedded text of a GPU preset.
fn text(name: &str) -> &'static str {
    GPUS.iter().find(|(n, _)| *n == name).unwrap().1
}

/// The document a preset cites (`# Source: ...` comment) and the first address after it.
fn source(name: &str) -> (String, Option<String>) {
    let t = text(name);
    let at = t
        .find("# Source: ")
        .unwrap_or_else(|| panic!("{name}: no '# Source:' comment"));
    let rest = &t[at + "# Source: ".len()..];
    let doc = rest.lines().next().unwrap().trim().to_string();
    let url = rest
        .lines()
        .take_while(|l| l.starts_with('#') || !l.contains('='))
        .flat_map(|l| l.split_whitespace())
        .find(|w| w.starts_with("https://"))
        .map(|w| w.trim_end_matches([',', ')', '.']).to_string());
    (doc, url)
}

/// The figures of a GPU file that need a source.
const FIGURES: &[&str] = &[
    "bandwidth",
    "fp16_peak",
    "int8_peak",
    "fp4_peak",
    "memory",
    "interconnect_bandwidth",
    "os_memory_bytes",
];

/// The words of the parenthesised lists in a file's comments: "(memory, bandwidth)" gives
/// `memory` and `bandwidth`; "(fp16_peak; derived)" gives `fp16_peak` and `derived`.
fn tags(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((_, comment)) = line.split_once('#') else {
            continue;
        };
        for group in comment.split('(').skip(1) {
            let inside = group.split(')').next().unwrap();
            out.extend(inside.split([',', ';']).map(|t| t.trim().to_string()));
        }
    }
    out
}

#[test]
fn every_preset_cites_its_source() {
    for name in presets::names(GPUS) {
        let (doc, url) = source(name);
        assert!(
            doc.len() > 10 && doc.contains('"'),
            "{name}: the Source comment must name a document in quotes: {doc}"
        );
        if NEW.contains(&name) {
            assert!(url.is_some(), "{name}: no address after its Source comment");
            // A comment per figure: every figure the file sets is tagged, e.g. "(fp16_peak)"
            // or "(memory, bandwidth)", on the comment line that gives its source.
            let tags = tags(text(name));
            for key in FIGURES {
                let set = text(name)
                    .lines()
                    .any(|l| l.split('=').next().unwrap().trim() == *key);
                assert!(
                    !set || tags.iter().any(|t| t == key),
                    "{name}: no comment tagged ({key}) gives the source of {key}"
                );
            }
        }
    }
}

#[test]
fn list_gpus_shows_the_new_presets() {
    let out = common::ok(&["list", "gpus"]);
    for name in NEW {
        let gpu = Gpu::load(name).unwrap();
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(name) && l.contains(&gpu.name)),
            "{name} missing from:\n{out}"
        );
    }
}

/// Compute-bound GEMMs (`kind` linear) of a JSON run: (flops, time_s) each.
fn compute_bound_gemms(r: &Value) -> Vec<(f64, f64)> {
    r["layers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["operators"].as_array().unwrap())
        .filter(|o| o["kind"] == "linear" && o["bound"] == "compute")
        .map(|o| (o["flops"].as_f64().unwrap(), o["time_s"].as_f64().unwrap()))
        .collect()
}

fn notes(r: &Value) -> Vec<String> {
    r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// Every compute-bound GEMM of the run is timed at `peak` (the ideal roofline: no framework).
fn assert_gemms_at(r: &Value, peak: f64, what: &str) {
    let gemms = compute_bound_gemms(r);
    assert!(!gemms.is_empty(), "{what}: no compute-bound GEMM");
    for (flops, time_s) in gemms {
        let rel = (time_s * peak / flops - 1.0).abs();
        assert!(
            rel < 1e-12,
            "{what}: GEMM at {} op/s, want {peak}",
            flops / time_s
        );
    }
}

#[test]
fn four_bit_gemms_take_the_fp4_path_on_blackwell_and_say_so() {
    let b200 = Gpu::load("b200").unwrap();
    let fp4 = b200.fp4_peak.unwrap();
    for cost_model in ["refined", "llm-viewer"] {
        let r = common::json(&[
            "--gpu",
            "b200",
            "--w-bits",
            "4",
            "--a-bits",
            "4",
            "--frames",
            "32",
            "--cost-model",
            cost_model,
        ]);
        assert_gemms_at(&r, fp4, cost_model);
        assert!(
            notes(&r)
                .iter()
                .any(|n| n.contains("FP4 tensor path") && n.contains("9000 TFLOP/s")),
            "{cost_model}: {:?}",
            notes(&r)
        );
    }
    // An 8-bit KV cache keeps the GEMMs on the 8-bit path, and the note says why.
    let r = common::json(&[
        "--gpu",
        "b200",
        "--w-bits",
        "4",
        "--a-bits",
        "4",
        "--kv-bits",
        "8",
        "--frames",
        "32",
    ]);
    assert_gemms_at(&r, b200.int8_peak, "b200 kv 8");
    assert!(
        notes(&r)
            .iter()
            .any(|n| n.contains("--kv-bits 8 is above 4")),
        "{:?}",
        notes(&r)
    );
}

#[test]
fn without_a_4_bit_path_4_bit_gemms_stay_on_the_8_bit_path_and_say_so() {
    for gpu in ["h100", "mi300x", "jetson-agx-orin"] {
        let g = Gpu::load(gpu).unwrap();
        assert!(g.fp4_peak.is_none());
        let r = common::json(&[
            "--gpu", gpu, "--w-bits", "4", "--a-bits", "4", "--frames", "32",
        ]);
        assert_gemms_at(&r, g.int8_peak, gpu);
        assert!(
            notes(&r)
                .iter()
                .any(|n| n.contains("has no 4-bit tensor path") && n.contains("8-bit path")),
            "{gpu}: {:?}",
            notes(&r)
        );
    }
    // No note where no width is 4-bit: default outputs keep their notes.
    let r = common::json(&["--gpu", "b200", "--frames", "32"]);
    assert!(!notes(&r).iter().any(|n| n.starts_with("4-bit")));
}

fn has_memory_warning(r: &Value) -> bool {
    r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().starts_with("peak memory"))
}

#[test]
fn jetson_warns_when_weights_and_kv_do_not_fit_beside_the_os() {
    // A 72B model does not fit in 64 GB; the warning names the OS's assumed share.
    let r = common::json(&["--gpu", "jetson-agx-orin", "--model", "llava-ov-72b"]);
    let w = r["warnings"].as_array().unwrap();
    assert!(
        w.iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("shared memory") && w.contains("assumed for the OS") && !w.contains("--tp")
        }),
        "{w:?}"
    );
    assert!(
        notes(&r)
            .iter()
            .any(|n| n.starts_with("shared memory:") && n.contains("os_memory_bytes")),
        "{:?}",
        notes(&r)
    );
    // The OS's share decides: a peak between `memory - os_memory_bytes` and `memory` warns
    // with the share and fits without it.
    let run = |gpu: &str| common::json(&["--gpu", gpu, "--model", "llava-ov-0.5b"]);
    let orin = text("jetson-agx-orin");
    let dir = std::env::temp_dir().join(format!("aim-sim-gpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let peak_bytes = run("jetson-agx-orin")["peak_memory"]["peak_bytes"]
        .as_f64()
        .unwrap();
    let memory = (peak_bytes * 1.5).round();
    let os = (peak_bytes * 1.0).round();
    let with_os = dir.join("with-os.toml");
    let without_os = dir.join("without-os.toml");
    let base: String = orin
        .lines()
        .filter(|l| !l.starts_with("memory") && !l.starts_with("os_memory_bytes"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        &with_os,
        format!("{base}memory = {memory}\nos_memory_bytes = {os}\n"),
    )
    .unwrap();
    std::fs::write(&without_os, format!("{base}memory = {memory}\n")).unwrap();
    assert!(has_memory_warning(&run(with_os.to_str().unwrap())));
    assert!(!has_memory_warning(&run(without_os.to_str().unwrap())));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jetson_refuses_tensor_parallelism_in_one_line() {
    for gpu in ["jetson-agx-orin", "jetson-orin-nano"] {
        let err = common::fails(&["--gpu", gpu, "--tp", "2"]);
        assert!(
            err.contains("no GPU-to-GPU link") && err.contains("--tp 1"),
            "{err}"
        );
    }
    // The data-centre GPUs have their links.
    for gpu in ["b200", "gb200", "mi300x", "mi325x"] {
        common::ok(&["--gpu", gpu, "--tp", "2"]);
    }
}

#[test]
fn an_os_share_at_or_above_the_memory_is_refused() {
    let base: String = text("jetson-orin-nano")
        .lines()
        .filter(|l| !l.starts_with("os_memory_bytes"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = std::env::temp_dir().join(format!("aim-sim-gpus-os-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for bad in ["8589934592", "-1", "nan"] {
        let path = dir.join("bad.toml");
        std::fs::write(&path, format!("{base}os_memory_bytes = {bad}\n")).unwrap();
        let err = common::fails(&["--gpu", path.to_str().unwrap()]);
        assert!(err.contains("os_memory_bytes"), "{bad}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn framework_profiles_say_no_rows_were_fitted_for_a_new_gpu() {
    for gpu in ["b200", "mi300x", "jetson-agx-orin"] {
        let r = common::json(&["--gpu", gpu, "--framework", "hf"]);
        assert!(
            notes(&r).iter().any(|n| n.contains(&format!(
                "no parameters fitted for GPU '{gpu}' (no measured rows on it from two or more sources)"
            )) && n.contains(" rows from ")),
            "{gpu}: {:?}",
            notes(&r)
        );
    }
    let r = common::json(&[
        "--gpu",
        "b200",
        "--framework",
        "trtllm",
        "--w-bits",
        "4",
        "--a-bits",
        "4",
    ]);
    assert!(
        notes(&r)
            .iter()
            .any(|n| n.contains("no 4-bit GEMM efficiency fitted")),
        "{:?}",
        notes(&r)
    );
}

/// Every preset gives the L2 and SM count that price FlashAttention's K/V re-reads, under a
/// `# L2:` comment that states them and names where they come from.
#[test]
fn every_preset_gives_its_l2_and_sms_with_a_source() {
    for name in presets::names(GPUS) {
        let g = Gpu::load(name).unwrap();
        assert!(
            g.l2_bytes.is_some() && g.sms.is_some(),
            "{name}: set l2_bytes and sms"
        );
        let comment = text(name)
            .lines()
            .find(|l| l.starts_with("# L2:"))
            .unwrap_or_else(|| panic!("{name}: no '# L2:' comment"));
        // The comment states the figure it sources, and the file's comments the SM count.
        let mib = figure(g.l2_bytes, 1048576.0);
        assert!(
            comment.contains(&format!("{mib} MiB")),
            "{name}: the '# L2:' comment should state {mib} MiB: {comment}"
        );
        let sms = figure(g.sms, 1.0);
        assert!(
            text(name)
                .lines()
                .filter(|l| l.starts_with('#'))
                .any(|l| l.contains(&format!("{sms} SMs")) || l.contains(&format!("{sms} CUs"))),
            "{name}: no comment gives its {sms} SMs"
        );
    }
}

// ---- docs/gpus.md and README --------------------------------------------------------------

fn figure(x: Option<f64>, scale: f64) -> String {
    match x {
        Some(x) => {
            let v = x / scale;
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v}")
            }
        }
        None => "—".into(),
    }
}

fn gpus_table() -> String {
    let mut out = String::from(
        "| preset | GPU | FP16 dense TFLOP/s | INT8 / FP8 dense TOP/s | FP4 dense TFLOP/s | bandwidth GB/s | memory GB | link GB/s per direction | L2 MiB | SMs | source |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for name in presets::names(GPUS) {
        let g = Gpu::load(name).unwrap();
        let memory = match g.os_memory_bytes {
            Some(os) => format!(
                "{:.1} shared ({:.1} assumed for the OS)",
                g.memory / 1e9,
                os / 1e9
            ),
            None => format!("{:.1}", g.memory / 1e9),
        };
        let (doc, url) = source(name);
        let doc = doc.trim_end_matches(',');
        out += &format!(
            "| `{name}` | {} | {} | {} | {} | {} | {memory} | {} | {} | {} | {} |\n",
            g.name,
            figure(Some(g.fp16_peak), 1e12),
            figure(Some(g.int8_peak), 1e12),
            figure(g.fp4_peak, 1e12),
            figure(Some(g.bandwidth), 1e9),
            figure(g.interconnect_bandwidth, 1e9),
            figure(g.l2_bytes, 1048576.0),
            figure(g.sms, 1.0),
            match url {
                Some(u) => format!("[{doc}]({u})"),
                None => doc.to_string(),
            }
        );
    }
    out
}

fn readme_list() -> String {
    let names: Vec<String> = presets::names(GPUS)
        .iter()
        .map(|n| format!("`{n}`"))
        .collect();
    format!(
        "Presets: {} — datasheet figures, sources in each file and in docs/gpus.md.\n",
        names.join(", ")
    )
}

#[test]
fn docs_gpus_table_and_readme_list_come_from_the_presets() {
    let mut failures = Vec::new();
    common::doc_block(
        "docs/gpus.md",
        "gpus",
        &gpus_table(),
        "the presets",
        &mut failures,
    );
    common::doc_block(
        "README.md",
        "gpu-presets",
        &readme_list(),
        "the presets",
        &mut failures,
    );
    assert!(
        failures.is_empty(),
        "{}\n(after an intended change: AIM_SIM_BLESS=1 cargo test --test gpus)",
        failures.join("\n")
    );
}

#[test]
fn docs_gpus_ridge_points_are_the_presets() {
    // The ridge points docs/gpus.md quotes beside the sweep: peak over bandwidth, on the path
    // the sweep's W4A4 takes (FP4 on the B200, 8-bit on the others).
    let doc = std::fs::read_to_string("docs/gpus.md").unwrap();
    for (gpu, quoted) in [
        ("jetson-agx-orin", "= 415 op/byte"),
        ("mi300x", "MI300X 493,"),
        ("l4", "L4 808,"),
        ("b200", "= 1169)"),
    ] {
        let g = Gpu::load(gpu).unwrap();
        let peak = g.fp4_peak.unwrap_or(g.int8_peak);
        let ridge = format!("{:.0}", peak / g.bandwidth);
        assert!(
            quoted.contains(&ridge) && doc.contains(quoted),
            "{gpu}: ridge {ridge}, docs/gpus.md should quote '{quoted}'"
        );
    }
}

#[test]
fn the_tensor_path_is_the_old_rule_unless_a_gpu_has_fp4() {
    use aim_sim::cost::{Precision, TensorPath};
    // Every width combination on every preset: a GPU without `fp4_peak` (all that existed
    // before) keeps LLM-Viewer's rule exactly; one with it takes the FP4 path iff every width
    // is <= 4 bits, and the 8-bit rule otherwise.
    let bits = Precision::SUPPORTED_BITS;
    for name in presets::names(GPUS) {
        let g = Gpu::load(name).unwrap();
        for &w_bits in bits {
            for &a_bits in bits {
                for &kv_bits in bits {
                    let p = Precision {
                        w_bits,
                        a_bits,
                        kv_bits,
                    };
                    let old = if w_bits <= 8 && a_bits <= 8 && kv_bits <= 8 {
                        TensorPath::Int8
                    } else {
                        TensorPath::Fp16
                    };
                    let four = w_bits <= 4 && a_bits <= 4 && kv_bits <= 4;
                    let want = if four && g.fp4_peak.is_some() {
                        TensorPath::Fp4
                    } else {
                        old
                    };
                    assert_eq!(p.tensor_path(&g), want, "{name} {p:?}");
                    let peak = match want {
                        TensorPath::Fp16 => g.fp16_peak,
                        TensorPath::Int8 => g.int8_peak,
                        TensorPath::Fp4 => g.fp4_peak.unwrap(),
                    };
                    assert_eq!(want.peak(&g), peak, "{name} {p:?}");
                }
            }
        }
    }
}

#[test]
fn an_fp4_peak_out_of_range_is_refused() {
    let dir = std::env::temp_dir().join(format!("aim-sim-gpus-fp4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base: String = text("b200")
        .lines()
        .filter(|l| !l.starts_with("fp4_peak"))
        .map(|l| format!("{l}\n"))
        .collect();
    for bad in ["9e9", "0", "nan", "9e18"] {
        let path = dir.join("bad.toml");
        std::fs::write(&path, format!("{base}fp4_peak = {bad}\n")).unwrap();
        let err = common::fails(&["--gpu", path.to_str().unwrap()]);
        assert!(err.contains("fp4_peak"), "{bad}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `a100` preset's text without its `l2_bytes` and `sms` lines.
fn a100_without_l2() -> String {
    text("a100")
        .lines()
        .filter(|l| !l.starts_with("l2_bytes") && !l.starts_with("sms"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `l2_bytes` and `sms` out of range are refused in one line naming the key.
#[test]
fn an_l2_or_sm_count_out_of_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = a100_without_l2();
    for (key, bad) in [
        ("l2_bytes", "0"),
        ("l2_bytes", "nan"),
        ("l2_bytes", "40"),
        ("sms", "0"),
        ("sms", "10.5"),
        ("sms", "1e9"),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, format!("{base}{key} = {bad}\n")).unwrap();
        let err = common::fails(&["--gpu", path.to_str().unwrap()]);
        assert!(
            err.contains(key) && err.trim().lines().count() == 1,
            "{key} = {bad}: {err}"
        );
    }
}

/// The attention note says where K/V re-reads come from: the L2 of a profile that gives it,
/// memory for one that does not (the pricing before `l2_bytes` and `sms` existed), and the
/// run's bytes differ accordingly while its FLOPs do not.
#[test]
fn the_attention_note_says_where_kv_rereads_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let without = a100_without_l2();
    let path = dir.path().join("a100-no-l2.toml");
    std::fs::write(&path, without).unwrap();
    let args =
        |gpu: &str| common::json(&["--gpu", gpu, "--model", "llava-1.5-7b", "--tokens", "576"]);
    let (cached, uncached) = (args("a100"), args(path.to_str().unwrap()));
    let note = |r: &Value| {
        notes(r)
            .into_iter()
            .find(|n| n.starts_with("attention:"))
            .unwrap()
    };
    assert!(
        note(&cached)
            .ends_with("K/V re-reads from the 40 MiB L2 as far as the blocks in flight fit it"),
        "{}",
        note(&cached)
    );
    assert!(
        note(&uncached)
            .ends_with("K/V re-reads from memory (the GPU profile lacks l2_bytes or sms)"),
        "{}",
        note(&uncached)
    );
    let total = |r: &Value, key: &str| r["totals"][key].as_f64().unwrap();
    assert_eq!(total(&cached, "flops"), total(&uncached, "flops"));
    assert!(total(&cached, "bytes") < total(&uncached, "bytes"));
}
