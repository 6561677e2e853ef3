//! `aim-sim pareto`: every published accuracy row of a benchmark beside the cost aim-sim
//! computes for its setting, Pareto-optimal rows marked (the logic is `crate::pareto`).

use super::sweep::GridArgs;
use crate::budget::By;
use crate::choice::Choice;
use crate::cli::format::{self, Output, Sink, View};
use crate::cli::{choice, html, OutputArgs, SimArgs};
use crate::cost::CostModelKind;
use crate::error::{Error, Result};
use crate::pareto::{self, Query};
use crate::spec::options::Value;
use crate::spec::{parse_count, Spec};

/// Flags of `aim-sim pareto` besides those of a single run.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ParetoArgs {
    /// The accuracy column (videomme, mvbench, mme, ...).
    ///
    /// The accuracy column: videomme, videomme-subs, mvbench, mlvu, egoschema, nextqa,
    /// perceptiontest, vqav2, gqa, mme, textvqa, sqa-img, mmb, pope.
    #[arg(long, value_name = "NAME")]
    pub benchmark: String,
    /// Cost judged by.
    #[arg(long, value_name = "QUANTITY", default_value = "time", value_parser = choice::<By>())]
    pub by: By,
}

/// The flags a row sets itself, as `(flag, given)`: giving one is an error, not silently ignored.
fn row_flags(sim: &SimArgs, spec: &Spec) -> Vec<(&'static str, bool)> {
    // `spec` is the flags laid over `--spec`: a flag given is set there too, except the
    // text tokens and the schedule, which always have a value.
    vec![
        ("tokens", spec.tokens.is_some()),
        ("frames", spec.frames.is_some()),
        ("tokens-per-frame", spec.tokens_per_frame.is_some()),
        ("text-tokens", sim.is_given("text_tokens")),
        ("schedule", sim.is_given("schedule")),
        (
            "merge-tokens-per-frame",
            spec.merge_tokens_per_frame.is_some(),
        ),
        ("merge-keep-ratio", spec.merge_keep_ratio.is_some()),
        ("prune-start", spec.prune_start.is_some()),
        ("layer-tokens", spec.layer_tokens.is_some()),
        // The input's size, which sets the tokens per frame the row owns.
        ("image-size", spec.image_size.is_some()),
        ("video-size", spec.video_size.is_some()),
        ("video-seconds", spec.video_seconds.is_some()),
        ("fps", spec.fps.is_some()),
    ]
}

/// The query these flags describe: the base spec is every flag given (over `--spec`, over the
/// defaults); each row lays its own token setting over it, so any option of a single run
/// (present or future) applies to every row.
pub fn query(sim: &SimArgs, benchmark: &str, by: By, command: &str) -> Result<Query> {
    let base = sim.to_spec()?;
    if let Some((flag, _)) = row_flags(sim, &base).into_iter().find(|(_, given)| *given) {
        return Err(Error::invalid(format!(
            "{command} prices each published row at its own token setting: --{flag} does not apply (give the cost settings only: --gpu, --cost-model, --model, ...)"
        )));
    }
    // The rows' cost is their prefill (to the first token with --include-vision): decode
    // steps would change no figure.
    if base.gen_tokens > 0 {
        return Err(Error::invalid(format!(
            "{command} compares each published row's prefill cost: --gen-tokens (decode steps) changes none of its figures; drop it (aim-sim --gen-tokens N prices one run's decode)"
        )));
    }
    // A model given (by flag, or by a --spec file) replaces every row's own.
    let model =
        (sim.is_given("model") || base.model != Spec::default().model).then(|| base.model.clone());
    Ok(Query {
        benchmark: benchmark.to_string(),
        by,
        base,
        model,
    })
}

/// `aim-sim pareto`.
pub fn command(sim: &SimArgs, args: &ParetoArgs, output: &OutputArgs) -> Result<()> {
    let format = output.resolve("pareto", VIEWS)?;
    let q = query(sim, &args.benchmark, args.by, "pareto")?;
    let p = pareto::pareto(&q)?;
    warn(&p);
    format::write(format, output.output.as_deref(), &p)
}

/// The priced runs' warnings on standard error, whatever the format (as a single run's).
pub(crate) fn warn(p: &pareto::Pareto) {
    let warnings: Vec<String> = p.warnings.iter().map(|w| flags(w)).collect();
    super::run::warn(&warnings);
}

/// `text` with the core's marked keys written as this command line's flags.
fn flags(text: &str) -> String {
    crate::error::render_keys(text, crate::cli::keys::flag)
}

/// What a Pareto table can be written as; its chart is `plot pareto`.
pub const VIEWS: &[View] = &[View::Table, View::Json, View::Csv, View::Html, View::Chart];

impl Output for pareto::Pareto {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&flags(&match view {
            View::Html => html::pareto(self)?,
            view => pareto::render(self, format::text("pareto", view)?)?,
        }))
    }

    fn draw(&self, path: &std::path::Path) -> Result<()> {
        #[cfg(feature = "plot")]
        return crate::plot::pareto(path, crate::plot::DEFAULT_SIZE, self, false);
        #[cfg(not(feature = "plot"))]
        Err(super::plot::unavailable(path))
    }
}

/// The single-run flags of `plot pareto`, whose flags are the sweep's (lists allowed there):
/// each must be one value here.
pub fn sim_from_grid(grid: &GridArgs) -> Result<SimArgs> {
    let mut sim = grid.sim.clone();
    let one = |flag: &str, v: &str| -> Result<String> {
        if v.contains(',') || v.contains(':') {
            Err(Error::invalid(format!(
                "plot pareto prices each row once: --{flag} takes one value, not '{v}'"
            )))
        } else {
            Ok(v.trim().to_string())
        }
    };
    let a = &grid.axes;
    if let Some(v) = &a.model {
        sim.set("model", Value::Text(one("model", v)?));
    }
    if let Some(v) = &a.gpu {
        sim.set("gpu", Value::Text(one("gpu", v)?));
    }
    if let Some(v) = &a.cost_model {
        let v = one("cost-model", v)?;
        let kind = CostModelKind::from_name(&v).ok_or_else(|| {
            Error::invalid(format!(
                "unknown cost model '{v}': give one of {}",
                CostModelKind::names()
            ))
        })?;
        sim.set("cost_model", Value::Text(kind.name().to_string()));
    }
    if let Some(v) = &a.batch {
        let v = one("batch", v)?;
        let batch = parse_count(&v).map_err(|e| Error::invalid(format!("--batch {v}: {e}")))?;
        sim.set("batch", Value::Whole(batch));
    }
    for (flag, v) in [
        ("schedule", &a.schedule),
        ("frames", &a.frames),
        ("tokens", &a.tokens),
        ("tokens-per-frame", &a.tokens_per_frame),
        ("text-tokens", &a.text_tokens),
    ] {
        if v.is_some() {
            return Err(Error::invalid(format!(
                "plot pareto prices each published row at its own token setting: --{flag} does not apply (give the cost settings only: --gpu, --cost-model, --model, ...)"
            )));
        }
    }
    Ok(sim)
}
