//! Stand-alone `validate` until the CLI subcommand is wired: the same library call.
//!
//! cargo run --release --example validate -- [MODEL] [SCHEDULE] [GPU] [--json] [--f32] [--require-gpu]
//! (defaults: llava-ov-7b linear h100; 32 frames × 196 tokens, 100 text tokens)

use aim_sim::hardware::Gpu;
use aim_sim::kernels::Dtype;
use aim_sim::model::Model;
use aim_sim::schedule::{PruneTiming, Schedule, VisualInput};
use aim_sim::validate::{gpu_status, render_table, run_validate, ValidateOptions, ValidateSizes};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let positional: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let pick = |i: usize, default: &'static str| positional.get(i).copied().unwrap_or(default);
    if let Err(reason) = gpu_status() {
        println!("validate: {reason}; nothing to validate");
        return if flag("--require-gpu") {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let run = || -> Result<String, Box<dyn std::error::Error>> {
        let model = Model::load(pick(0, "llava-ov-7b"))?;
        let schedule = Schedule::load(pick(1, "linear"))?;
        let gpu = Gpu::load(pick(2, "h100"))?;
        let input = VisualInput {
            frames: model.default_frames,
            tokens_per_frame: model.tokens_per_frame,
            text_tokens: 100,
        };
        let plan = schedule.plan(model.num_layers, &input, PruneTiming::Code)?;
        let sizes = ValidateSizes::from_plan(&model, &input, &plan)?;
        let mut opts = ValidateOptions::new(model, gpu, sizes);
        if flag("--f32") {
            opts.dtype = Dtype::F32;
        }
        let report = run_validate(&opts)?;
        Ok(if flag("--json") {
            serde_json::to_string_pretty(&report)?
        } else {
            render_table(&report)
        })
    };
    match run() {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("validate: {e}");
            ExitCode::FAILURE
        }
    }
}
